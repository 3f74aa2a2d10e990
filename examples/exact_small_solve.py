"""A small problem solved exactly three ways, each answer certified by the same function.

    python examples/exact_small_solve.py

The problem: a weighted C-SVC on 60 points and the same data with the generalized quadratic loss
(p = 2, S = Gaussian correlation). cvxpy + Clarabel is the reference; the SMO (p = 1) and the
Newton active-set method (p = 2) are the production solvers. `certify` recomputes the primal and
dual objectives, the duality gap and the KKT residual from the answer and the data alone.
"""
import numpy as np

from glopt import SVMProblem, smo, solve_quadratic, solve_reference
from glopt.certify import certify
from glopt.kernels import Kernel, correlation_matrix, median_sq_distance

rng = np.random.default_rng(0)
X = rng.normal(size=(60, 2))
y = np.where(X[:, 0] * X[:, 1] + 0.3 * rng.normal(size=60) > 0, 1.0, -1.0)
kernel = Kernel("rbf", gamma=0.5)

# p = 1: the standard loss with per-sample weights (each sample's bound is C * weight)
weighted = SVMProblem(X, y, kernel, "svc", C=2.0, weights=rng.uniform(0.5, 2.0, 60))
# p = 2: the generalized quadratic loss xi^T S xi, S from the inputs
S = correlation_matrix(X, "G", gamma_s=1.0 / median_sq_distance(X))
quadratic = SVMProblem(X, y, kernel, "svc", C=2.0, p=2, S=S)

for name, problem, fast in [("weighted C-SVC", weighted, lambda p: smo.solve(p, tol=1e-9)),
                            ("GL p=2, S=G", quadratic, solve_quadratic)]:
    exact = solve_reference(problem)
    answer = fast(problem)
    print(f"\n{name}: reference (cvxpy/Clarabel) vs {answer.solver}")
    for result in (exact, answer):
        cert = certify(result, problem)
        print(f"  {result.solver:8s} primal {cert.primal:.10f}  rel. gap {cert.rel_gap:.1e}  "
              f"KKT {cert.kkt_violation:.1e}  certified at 1e-6: {cert.ok(1e-6)}")
    print(f"  objectives differ by {abs(exact.objective - certify(answer, problem).primal):.1e}")
    print(f"  largest difference of the dual variables: {np.max(np.abs(exact.a - answer.a)):.1e}")
