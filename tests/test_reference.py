"""The cvxpy reference layer: primal = dual, and agreement with scikit-learn's LIBSVM."""
import cvxpy as cp
import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.svm import SVC, SVR

from conftest import random_problem
from glopt.certify import certify, result_from_sklearn
from glopt.cvx import Reference, ReferenceSolveError, solve_reference
from glopt.datasets import load_keel
from glopt.kernels import Kernel
from glopt.problem import SVMProblem

CASES = [(task, kernel, p) for task in ("svc", "svr") for kernel in ("rbf", "linear", "poly") for p in (1, 2)]


@pytest.mark.parametrize("task,kernel,p", CASES)
@pytest.mark.parametrize("seed,n", [(0, 12), (1, 60), (2, 200)])
def test_primal_and_dual_agree(task, kernel, p, seed, n):
    # d >= n for the linear kernel at small n keeps Q nonsingular, so the dual optimum is unique
    # and the margin duals of (P) must equal the a of (D); for d < n only gap and KKT are unique.
    d = 5 if kernel != "linear" or n > 20 else n + 2
    problem = random_problem(seed, n=n, d=d, task=task, kernel=kernel, p=p)
    result = solve_reference(problem)
    cert = certify(result, problem)
    assert cert.rel_gap <= 1e-7, cert
    assert cert.kkt_violation <= 1e-6, cert
    assert cert.infeasibility <= 1e-8, cert
    unique = kernel != "linear" or d > n
    if unique:
        assert cert.margin_dual_error <= 1e-6, cert
    # the solver's own objectives are the certifier's, recomputed from (a, b)
    assert result.objective == pytest.approx(cert.primal, rel=1e-7)
    assert result.dual_objective == pytest.approx(cert.dual, rel=1e-7)
    # the bias of (D) (the multiplier of the balance constraint) is the b of (P)
    assert abs(result.b - result.extra["dual_b"]) <= 1e-5 * max(1.0, abs(result.b))


def test_resolving_with_new_weights_reuses_the_compiled_problem():
    problem = random_problem(3, n=30, task="svc", p=1)
    ref = Reference(problem)
    assert ref.primal.is_dpp() and ref.dual.is_dpp()
    ref.solve()
    programs = (ref.primal._cache.param_prog, ref.dual._cache.param_prog)
    assert all(prog is not None for prog in programs)
    new_w = np.linspace(0.5, 2.0, 30)
    r2 = ref.solve(C=2.5, weights=new_w)
    assert (ref.primal._cache.param_prog, ref.dual._cache.param_prog) == programs
    fresh = SVMProblem(problem.X, problem.y, problem.kernel, C=2.5, weights=new_w)
    assert r2.objective == pytest.approx(solve_reference(fresh).objective, rel=1e-8)
    assert certify(r2, fresh).ok(1e-6)

    p2 = random_problem(4, n=30, task="svr", p=2)
    ref2 = Reference(p2)
    assert ref2.primal.is_dpp() and ref2.dual.is_dpp()
    ref2.solve()
    prog = ref2.dual._cache.param_prog
    ref2.solve(C=0.1)
    assert ref2.dual._cache.param_prog is prog
    with pytest.raises(ValueError, match="weights"):
        ref2.solve(weights=np.ones(30))


def test_non_optimal_status_is_an_error():
    problem = random_problem(5, n=40)
    with pytest.raises(ReferenceSolveError, match="status"):
        solve_reference(problem, max_iter=2)


def _standardized(name):
    X, y = load_keel(name, return_X_y=True)
    return (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0), y


@pytest.mark.parametrize("name", ["sonar", "ionosphere"])
@pytest.mark.parametrize("C", [0.5, 10.0])
def test_reference_svc_matches_libsvm_on_keel(name, C):
    X, y = _standardized(name)
    gamma = 1.0 / (X.shape[1] * X.var())
    problem = SVMProblem(X, y, Kernel("rbf", gamma=gamma), "svc", C=C)
    ref = solve_reference(problem)
    sk = SVC(C=C, kernel="rbf", gamma=gamma, tol=1e-10, cache_size=500).fit(X, y)
    lib = result_from_sklearn(sk, problem)
    c_ref, c_lib = certify(ref, problem), certify(lib, problem)
    # LIBSVM caches Q in single precision (Qfloat), so its own answer certifies to ~1e-6 only
    assert c_ref.ok(1e-6, gap_tol=1e-7) and c_lib.ok(1e-5, gap_tol=1e-6)
    assert abs(c_ref.dual - c_lib.dual) <= 1e-6 * abs(c_lib.dual)
    f_ref, f_lib = problem.decision(ref.coef, ref.b), sk.decision_function(X)
    np.testing.assert_allclose(f_ref, f_lib, atol=1e-5, rtol=0)


@pytest.mark.parametrize("weighted", [False, True])
def test_reference_svr_matches_libsvm_on_diabetes(weighted):
    X, y = load_diabetes(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    y = (y - y.mean()) / y.std()
    w = np.random.default_rng(0).uniform(0.5, 2.0, size=y.size) if weighted else None
    problem = SVMProblem(X, y, Kernel("rbf", gamma=0.1), "svr", C=2.0, epsilon=0.1, weights=w)
    ref = solve_reference(problem)
    sk = SVR(C=2.0, gamma=0.1, epsilon=0.1, tol=1e-10).fit(X, y, sample_weight=w)
    lib = result_from_sklearn(sk, problem)
    c_ref, c_lib = certify(ref, problem), certify(lib, problem)
    assert c_ref.ok(1e-6, gap_tol=1e-7) and c_lib.ok(1e-5, gap_tol=1e-6)  # LIBSVM: float Q cache
    assert abs(c_ref.dual - c_lib.dual) <= 1e-6 * abs(c_lib.dual)
    np.testing.assert_allclose(problem.decision(ref.coef, ref.b), sk.predict(X), atol=1e-5, rtol=0)


def test_weighted_svc_matches_libsvm_sample_weight():
    X, y = _standardized("sonar")
    w = np.random.default_rng(1).uniform(0.2, 3.0, size=y.size)
    problem = SVMProblem(X, y, Kernel("rbf", gamma=0.02), "svc", C=1.5, weights=w)
    ref = solve_reference(problem)
    sk = SVC(C=1.5, gamma=0.02, tol=1e-10).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(problem.decision(ref.coef, ref.b), sk.decision_function(X), atol=1e-5, rtol=0)


def test_p2_with_identity_is_the_squared_hinge():
    problem = random_problem(6, n=50, p=2)
    plain = SVMProblem(problem.X, problem.y, problem.kernel, "svc", C=problem.C, p=2)
    res = solve_reference(plain)
    # squared hinge stated directly on (w, b) with the explicit kernel factor
    K = plain.gram()
    a_coef, b = cp.Variable(50), cp.Variable()
    f = K @ a_coef + b
    obj = 0.5 * cp.quad_form(a_coef, cp.psd_wrap(K)) + plain.C * cp.sum_squares(cp.pos(1 - cp.multiply(plain.y, f)))
    direct = cp.Problem(cp.Minimize(obj))
    direct.solve(solver=cp.CLARABEL)
    assert res.objective == pytest.approx(direct.value, rel=1e-6)


def test_certifier_rejects_a_wrong_answer():
    problem = random_problem(7, n=30)
    res = solve_reference(problem)
    res.a = res.a.copy()
    res.a[np.argmax(res.a)] *= 0.5
    cert = certify(res, problem)
    assert not cert.ok(1e-6) and cert.kkt_violation > 1e-3 and cert.infeasibility > 1e-6
    with pytest.raises(ValueError, match="dual variables"):
        certify(res.__class__(coef=res.coef, b=0.0, a=res.a[:5]), problem)
