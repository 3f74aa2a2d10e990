"""The p = 2 active-set solver: agreement with the cvxpy reference, certificates, degenerate cases."""
import subprocess
import sys

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import glopt.quadratic as quadratic
from conftest import random_problem
from glopt.certify import certify
from glopt.cvx import solve_reference
from glopt.kernels import Kernel, correlation_matrix
from glopt.problem import SVMProblem
from glopt.quadratic import solve_quadratic

GAP, KKT, OBJ = 1e-8, 1e-6, 1e-8


def variant(problem, *, s_kernel=None, weights=None, identity=False, **changes):
    """``problem`` with another S (G/Q/M on its inputs, or the identity) and/or weights."""
    S = problem.S
    if identity:
        S = None
    elif s_kernel is not None:
        S = correlation_matrix(problem.X, s_kernel, 0.5)
    args = dict(X=problem.X, y=problem.y, kernel=problem.kernel, task=problem.task, C=problem.C,
                weights=weights, epsilon=problem.epsilon, p=2, S=S)
    args.update(changes)
    return SVMProblem(**args)


def check_against_reference(problem, result=None):
    result = solve_quadratic(problem) if result is None else result
    cert = certify(result, problem)
    ref = solve_reference(problem)
    assert result.status == "optimal"
    assert cert.rel_gap <= GAP, cert
    assert cert.kkt_violation <= KKT, cert
    assert cert.infeasibility <= KKT, cert
    assert result.objective == pytest.approx(ref.objective, rel=OBJ, abs=1e-12)
    # the solver's own objectives are the certifier's
    assert result.objective == pytest.approx(cert.primal, rel=1e-12, abs=1e-12)
    assert result.dual_objective == pytest.approx(cert.dual, rel=1e-9, abs=1e-12)
    return result, cert


# task x kernel x S, the sizes and the weighting rotated so every combination meets each of them
CASES = [(task, kernel, s, (12, 60, 120)[i % 3], i % 2 == 1)
         for i, (task, kernel, s) in enumerate(
             (t, k, s) for t in ("svc", "svr") for k in ("rbf", "linear", "poly") for s in ("G", "Q", "M"))]


@pytest.mark.parametrize("task,kernel,s_kernel,n,weighted", CASES + [("svc", "rbf", "G", 200, True)])
def test_matches_reference(task, kernel, s_kernel, n, weighted):
    base = random_problem(n + len(s_kernel), n=n, d=4, task=task, kernel=kernel, p=2)
    w = np.random.default_rng(n).uniform(0.2, 4.0, size=n) if weighted else None
    problem = variant(base, s_kernel=s_kernel, weights=w)
    result, _ = check_against_reference(problem)
    assert result.solver == "newton-p2"
    assert result.extra["active_set_size"] >= 0 and result.n_iter >= 1
    # the answer's structure: coef = s * a, multipliers nonnegative
    if task == "svc":
        np.testing.assert_allclose(result.coef, problem.y * result.a, rtol=0, atol=1e-12)
    else:
        np.testing.assert_allclose(result.coef, result.a[:n] - result.a[n:], rtol=0, atol=1e-12)
        assert np.all(np.minimum(result.a[:n], result.a[n:]) == 0)   # one side per sample
    assert result.a.min() >= -1e-9 * max(1.0, result.a.max())


@pytest.mark.parametrize("task", ["svc", "svr"])
@pytest.mark.parametrize("kernel", ["rbf", "linear"])
@pytest.mark.parametrize("weighted", [False, True])
def test_identity_s_is_squared_hinge_or_squared_insensitive_loss(task, kernel, weighted):
    n = 80
    base = random_problem(11, n=n, d=3, task=task, kernel=kernel, p=2)
    w = np.random.default_rng(1).uniform(0.2, 4.0, size=n) if weighted else None
    problem = variant(base, identity=True, weights=w)
    result, _ = check_against_reference(problem)
    # C^1 loss: no point sits on the margin with a nonzero multiplier, coef = 2 C w s zeta exactly
    assert result.extra["margin_set_size"] == 0
    f = problem.decision(result.coef, result.b)
    zeta = problem.slack(f)
    s = problem.y if task == "svc" else np.sign(problem.y - f)
    np.testing.assert_allclose(result.coef, 2 * problem.C * problem.sample_weight * zeta * s, rtol=1e-9, atol=1e-10)
    # independent objective: the squared hinge / squared epsilon-insensitive loss
    obj = 0.5 * result.coef @ problem.gram() @ result.coef + problem.C * np.sum(problem.sample_weight * zeta ** 2)
    assert result.objective == pytest.approx(obj, rel=1e-12)


def test_generalized_loss_puts_points_on_the_margin():
    """With off-diagonal S the loss has a kink at zero slack: optimal points sit on the margin."""
    problem = random_problem(3, n=60, d=3, task="svc", kernel="rbf", p=2)
    result, _ = check_against_reference(problem)
    assert result.extra["margin_set_size"] > 0
    f = problem.decision(result.coef, result.b)
    on_margin = np.abs(1 - problem.y * f) <= 1e-8
    assert np.any(on_margin & (result.a > 1e-6))


@pytest.mark.parametrize("task", ["svc", "svr"])
def test_class_masked_s(task):
    base = random_problem(21, n=70, d=3, task=task, kernel="rbf", p=2)
    labels = base.y if task == "svc" else np.sign(base.y - np.median(base.y))
    problem = variant(base, S=correlation_matrix(base.X, "M", 0.3, y=labels))
    check_against_reference(problem)


def test_fallback_interior_point_and_crossover(monkeypatch):
    """Forcing the fallback (no active-set budget) gives the same certified optimum."""
    problem = random_problem(5, n=90, d=3, task="svr", kernel="linear", p=2)
    fast = solve_quadratic(problem)
    monkeypatch.setattr(quadratic, "ACTIVE_SET_BUDGET", 1)
    slow, _ = check_against_reference(problem)
    assert slow.extra["method"].startswith("interior-point")
    assert slow.extra["interior_point_iterations"] > 0
    assert slow.objective == pytest.approx(fast.objective, rel=1e-9)


def test_interior_point_alone_certifies(monkeypatch):
    problem = random_problem(6, n=50, d=2, task="svc", kernel="poly", p=2)
    ipm = quadratic._interior_point(problem, quadratic._Data(problem), max_iter=100)
    assert ipm["converged"]
    from glopt.result import SVMResult
    coef = np.bincount(ipm["idx"], ipm["sgn"] * ipm["a"], minlength=problem.n)
    cert = certify(SVMResult(coef=coef, b=ipm["b"], a=ipm["a"]), problem)
    assert cert.rel_gap <= 1e-8 and cert.kkt_violation <= 1e-6, cert


@pytest.mark.parametrize("seed", range(6))
def test_hard_problems_certify(seed):
    """Rank-deficient kernels (1-D linear, degree-1 poly), extreme C, duplicated inputs."""
    rng = np.random.default_rng(100 + seed)
    n = 70
    X = rng.normal(size=(n, 1 + seed % 2))
    X[n // 2:] = X[: n - n // 2]                         # every input twice
    task = ("svc", "svr")[seed % 2]
    score = X @ rng.normal(size=X.shape[1]) + rng.normal(size=n)
    y = np.where(score > np.median(score), 1.0, -1.0) if task == "svc" else score
    kernel = (Kernel("linear"), Kernel("poly", gamma=0.5, degree=1, coef0=1.0), Kernel("rbf", gamma=2.0))[seed % 3]
    C = (1e-3, 1e3, 0.05, 300.0, 1.0, 30.0)[seed]
    S = correlation_matrix(X, "GQM"[seed % 3], 0.2)
    problem = SVMProblem(X, y, kernel, task, C=C, epsilon=0.1, p=2, S=S)
    result = solve_quadratic(problem)
    cert = certify(result, problem)
    assert result.status == "optimal"
    assert cert.rel_gap <= GAP and cert.kkt_violation <= KKT, cert


def test_all_points_inside_the_tube():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = 0.05 * rng.uniform(-1, 1, size=30)
    problem = SVMProblem(X, y, Kernel("rbf"), "svr", C=1.0, epsilon=0.2, p=2,
                         S=correlation_matrix(X, "G", 0.5))
    result = solve_quadratic(problem)
    assert result.status == "optimal" and result.objective == 0.0
    assert np.all(result.coef == 0) and np.all(result.a == 0)
    assert np.all(np.abs(y - result.b) <= 0.2)
    cert = certify(result, problem)
    assert cert.ok(1e-12)


def test_epsilon_zero_svr():
    base = random_problem(8, n=60, d=3, task="svr", kernel="rbf", p=2)
    check_against_reference(variant(base, epsilon=0.0))


def test_duplicates_with_opposite_labels():
    base = random_problem(9, n=40, d=3, task="svc", kernel="rbf", p=2)
    X = np.vstack([base.X, base.X[:10]])
    y = np.concatenate([base.y, -base.y[:10]])
    problem = SVMProblem(X, y, base.kernel, "svc", C=base.C, p=2, S=correlation_matrix(X, "G", 0.5))
    check_against_reference(problem)


def test_two_samples():
    problem = SVMProblem(np.array([[0.0], [1.0]]), np.array([-1.0, 1.0]), Kernel("linear"), "svc",
                         C=1.0, p=2, S=np.array([[1.0, 0.5], [0.5, 1.0]]))
    check_against_reference(problem)


def test_precomputed_kernel_gives_the_same_answer():
    problem = random_problem(10, n=50, d=3, task="svr", kernel="rbf", p=2)
    pre = SVMProblem(problem.gram(), problem.y, Kernel("precomputed"), "svr", C=problem.C,
                     epsilon=problem.epsilon, p=2, S=problem.S)
    r1, r2 = solve_quadratic(problem), solve_quadratic(pre)
    assert r1.objective == pytest.approx(r2.objective, rel=1e-12)
    np.testing.assert_allclose(r1.coef, r2.coef, atol=1e-9)
    assert certify(r2, pre).ok(1e-8)


def test_bad_input():
    p1 = random_problem(0, n=20, p=1)
    with pytest.raises(ValueError, match=r"problem\.p"):
        solve_quadratic(p1)
    p2 = random_problem(0, n=20, p=2)
    for tol in (0, -1.0, 1.5, float("nan"), "1e-8", True):
        with pytest.raises(ValueError, match="tol"):
            solve_quadratic(p2, tol=tol)
    for max_iter in (0, -3, 2.5, True, "10"):
        with pytest.raises(ValueError, match="max_iter"):
            solve_quadratic(p2, max_iter=max_iter)
    with pytest.raises(TypeError, match="SVMProblem"):
        solve_quadratic((p2.X, p2.y))


def test_max_iter_warns_and_says_what_to_change():
    problem = random_problem(12, n=80, d=3, task="svc", kernel="rbf", p=2)
    with pytest.warns(ConvergenceWarning, match="increase max_iter"):
        result = solve_quadratic(problem, max_iter=1)
    assert result.status == "max_iter"
    assert np.all(np.isfinite(result.a)) and np.isfinite(result.b)


def test_quadratic_does_not_import_cvxpy():
    code = "import sys, glopt.quadratic; sys.exit('cvxpy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_scale_n2000(task="svc"):
    """n = 2000 with a dense G correlation S: solves and certifies (no timing asserted)."""
    rng = np.random.default_rng(2000)
    n, d = 2000, 5
    X = rng.normal(size=(n, d))
    score = X @ rng.normal(size=d) + 0.5 * rng.normal(size=n)
    y = np.where(score > 0, 1.0, -1.0) if task == "svc" else score
    S = correlation_matrix(X, "G", 1.0)
    problem = SVMProblem(X, y, Kernel("rbf", gamma=0.2), task, C=1.0, epsilon=0.2, p=2, S=S)
    result = solve_quadratic(problem)
    cert = certify(result, problem)
    assert result.status == "optimal"
    assert cert.rel_gap <= GAP and cert.kkt_violation <= KKT, cert
