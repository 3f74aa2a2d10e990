"""Blocked working sets (solve(..., working_set=q)): the plain SMO's answer from a different path."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import pairwise_kernels

from glopt.dual import dual_form
from glopt.kernels import Kernel
from glopt.problem import SVMProblem
from glopt.smo import certificate, solve, solve_svc
from glopt.smo._blocked import blocked_pays, blocked_phase, working_set_size
from glopt.smo._blocks import gather_block, kernel_rows, local_smo, rbf_rows_float, update_gradient


def _data(n=1200, d=6, seed=0):
    X, y = make_classification(n_samples=n, n_features=d, n_informative=4, flip_y=0.05, random_state=seed)
    X = (X - X.mean(0)) / X.std(0)
    return X, 2.0 * y - 1.0


def _problem(task, n=1200, kernel=None, **kw):
    X, y = _data(n)
    if task in ("svr", "nu_svr"):
        y = X[:, 0] + np.sin(X[:, 1]) + 0.1 * np.random.default_rng(1).normal(size=n)
    if task == "one_class":
        y = None
    return SVMProblem(X, y, kernel=kernel or Kernel("rbf", gamma=0.3), task=task, **kw)


TASKS = [("svc", {"C": 2.0}), ("svr", {"C": 2.0, "epsilon": 0.1}), ("one_class", {"nu": 0.2}),
         ("nu_svc", {"nu": 0.3}), ("nu_svr", {"C": 2.0, "nu": 0.4})]


@pytest.mark.parametrize("task,kw", TASKS)
def test_blocked_reaches_the_plain_objective_and_certifies(task, kw):
    problem = _problem(task, **kw)
    plain = solve(problem, tol=1e-5)
    # a small store: rows are evicted and computed again
    blocked = solve(problem, tol=1e-5, working_set=64, cache_size=0.5)
    assert blocked.status == "optimal"
    info = blocked.extra["blocked"]
    assert info["q"] == 64 and info["outer"] > 1 and info["rows"] > info["slots"]
    assert blocked.dual_objective == pytest.approx(plain.dual_objective, rel=1e-6)
    cert = certificate(blocked, problem)
    assert cert.kkt_violation <= 1e-5 * 1.01 and cert.infeasibility <= 1e-8
    # the blocked phase did the work: the exact finish started near the answer
    assert blocked.n_iter - info["n_iter"] < plain.n_iter / 4


@pytest.mark.parametrize("kernel", [Kernel("linear"), Kernel("poly", gamma=0.2, degree=3, coef0=1.0),
                                    Kernel("sigmoid", gamma=0.05, coef0=-0.5)])
def test_blocked_other_kernels(kernel):
    problem = _problem("svc", n=800, kernel=kernel, C=0.5)
    plain = solve(problem, tol=1e-5)
    blocked = solve(problem, tol=1e-5, working_set=32)
    assert blocked.status == "optimal"
    assert blocked.dual_objective == pytest.approx(plain.dual_objective, rel=1e-6)
    assert certificate(blocked, problem).kkt_violation <= 1e-5 * 1.01


def test_blocked_answer_is_independent_of_threads_and_of_the_store_size():
    problem = _problem("svc", C=1.0)
    one = solve(problem, working_set=48, n_jobs=1)
    two = solve(problem, working_set=48, n_jobs=2)
    small = solve(problem, working_set=48, n_jobs=2, cache_size=0.3)
    assert small.extra["blocked"]["rows"] > one.extra["blocked"]["rows"]
    for other in (two, small):
        np.testing.assert_array_equal(other.a, one.a)
        assert other.b == one.b and other.n_iter == one.n_iter


def test_kernel_rows_are_the_kernel_rounded_to_float():
    X, _ = _data(700, d=9)
    XT = np.ascontiguousarray(X.T)
    sq = np.einsum("ij,ij->i", X, X)
    K = pairwise_kernels(X, metric="rbf", gamma=0.2)
    store = np.zeros((5, 700), dtype=np.float32)
    # one row on two threads is split into segments; five rows are taken whole
    for rows in ([3], [0, 699, 12, 5, 40]):
        r = np.array(rows, dtype=np.int32)
        slots = np.arange(r.size, dtype=np.int32)[::-1].copy()
        kernel_rows(X, sq, XT, 1, 0.2, 0.0, 3, r, slots, store, 2)
        np.testing.assert_allclose(store[slots], K[r], rtol=0, atol=1e-7)


def test_float_rbf_rows_are_the_kernel_to_float_accuracy_whatever_the_threads():
    X, _ = _data(1500, d=9)      # three tiles, the last one partial
    Xf = X.astype(np.float32)
    XTf = np.ascontiguousarray(Xf.T)
    K = pairwise_kernels(X, metric="rbf", gamma=0.2)
    r = np.array([0, 1499, 700, 3], dtype=np.int32)
    slots = np.array([2, 0, 3, 1], dtype=np.int32)
    one = np.zeros((4, 1500), dtype=np.float32)
    two = np.zeros((4, 1500), dtype=np.float32)
    rbf_rows_float(Xf, XTf, 0.2, r, slots, one, 1)
    rbf_rows_float(Xf, XTf, 0.2, r, slots, two, 2)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_allclose(one[slots], K[r], rtol=0, atol=1e-6)
    # a point's distance to itself is exactly 0
    assert np.all(one[slots, r] == 1.0)


def test_gradient_update_and_block_against_numpy():
    rng = np.random.default_rng(0)
    n = 2500                      # more than one chunk of the gradient pass
    store = rng.normal(size=(6, n)).astype(np.float32)
    idx = np.concatenate([np.arange(n), np.arange(n)]).astype(np.int32)     # SVR's 2n variables
    s = np.concatenate([np.ones(n), -np.ones(n)])
    slots = np.array([4, 1, 2], dtype=np.int32)
    c = rng.normal(size=3)
    G = rng.normal(size=2 * n)
    expected = G + s * (store[slots].astype(np.float64).T @ c)[idx]
    update_gradient(store, slots, c, idx, s, G, False, 2)
    np.testing.assert_allclose(G, expected, rtol=1e-12, atol=1e-12)
    cols = np.array([7, 2, 2400], dtype=np.int32)
    Q = np.empty((3, 3))
    gather_block(store, slots, cols, s[:3], Q)
    np.testing.assert_array_equal(Q, (s[:3, None] * s[None, :3]) * store[np.ix_(slots, cols)])


@pytest.mark.parametrize("nu", [False, True])
def test_local_smo_solves_its_block(nu):
    """On a block that is the whole problem, the local SMO is LIBSVM's SMO: the same optimum."""
    task = "nu_svc" if nu else "svc"
    problem = _problem(task, n=300, **({"nu": 0.3} if nu else {"C": 1.0}))
    form = dual_form(problem)
    K = pairwise_kernels(problem.X, metric="rbf", gamma=0.3)
    Q = (form.sign[:, None] * form.sign[None, :]) * K
    a = form.start.copy()
    G = Q @ a + form.linear
    it, first = local_smo(Q, form.sign, form.upper, a, G, 1e-8, 10 ** 6, nu)
    assert 0 < it < 10 ** 6 and first > 1e-8
    np.testing.assert_allclose(G, Q @ a + form.linear, atol=1e-9)
    assert np.all(a >= 0) and np.all(a <= form.upper)
    if nu:
        for c in (form.sign > 0, form.sign < 0):
            assert a[c].sum() == pytest.approx(form.start[c].sum(), abs=1e-10)
    else:
        assert form.sign @ a == pytest.approx(0.0, abs=1e-10)
    exact = solve(problem, tol=1e-8)
    objective = 0.5 * a @ (G + form.linear)
    assert -objective == pytest.approx(exact.dual_objective, rel=1e-9)


def test_working_set_size():
    mb = 2.0 ** 20
    assert working_set_size("auto", 100_000, 100_000, 200 * mb) == 524
    assert working_set_size("auto", 10_000, 10_000, 200 * mb) == 1024
    assert working_set_size("auto", 10 ** 7, 10 ** 7, 200 * mb) == 16
    assert working_set_size(4096, 1000, 2000, 200 * mb) == 2000
    assert working_set_size(8, 1000, 1000, 200 * mb) == 8


def test_where_the_estimators_take_blocked_sets():
    mb = 2.0 ** 20
    assert not blocked_pays(99_999, 200 * mb)
    assert blocked_pays(100_000, 200 * mb) and blocked_pays(204_800, 200 * mb)
    assert not blocked_pays(204_801, 200 * mb) and not blocked_pays(500_000, 200 * mb)
    assert blocked_pays(500_000, 500 * mb)


def test_warm_start_and_auto():
    problem = _problem("svc", C=1.0)
    first = solve(problem, tol=1e-2)
    warm = solve(problem, a0=first.a, working_set="auto")
    plain = solve(problem)
    assert warm.status == "optimal"
    assert warm.dual_objective == pytest.approx(plain.dual_objective, rel=1e-6)
    assert warm.extra["blocked"]["q"] == 1024


def test_callback_and_verbose_follow_the_blocked_phase(capsys):
    problem = _problem("svc", C=1.0)
    seen = []
    res = solve(problem, working_set=32, callback=lambda info: seen.append(info) or len(seen) == 3,
                callback_every=1, verbose=True)
    assert res.status == "callback" and len(seen) == 3
    assert {"iteration", "violation", "objective", "active_size", "time", "outer"} <= set(seen[0])
    assert seen[0]["iteration"] < seen[2]["iteration"]
    # the point it stopped at is feasible, and its reported objective is the answer's
    assert problem.y @ res.a == pytest.approx(0.0, abs=1e-9)
    assert np.all(res.a >= 0) and np.all(res.a <= 1.0)
    assert res.dual_objective == pytest.approx(seen[2]["objective"], rel=1e-6)
    assert "smo blocked step" in capsys.readouterr().out


def test_max_iter_in_the_blocked_phase_warns():
    problem = _problem("svc", C=1.0)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        res = solve(problem, working_set=32, max_iter=50)
    assert res.status == "max_iter" and res.n_iter <= 50 + 32 * 50


def test_blocked_phase_stops_at_tol_for_the_float_q():
    problem = _problem("svc", C=1.0)
    form = dual_form(problem)
    out = blocked_phase(form, problem.X, problem.kernel, form.start, q=40, tol=1e-3,
                        cache_bytes=2.0 ** 20, n_threads=2, max_iter=10 ** 7, nu=False)
    assert out["status"] == "optimal" and out["violation"] <= 1e-3
    assert out["kernel_evals"] == out["rows"] * problem.n


@pytest.mark.parametrize("bad", [0, 1, -4, 2.5, True, "big", [64]])
def test_bad_working_set_is_refused(bad):
    problem = _problem("svc", n=100, C=1.0)
    with pytest.raises(ValueError, match="working_set"):
        solve(problem, working_set=bad)


def test_working_set_needs_dense_data_and_a_computed_kernel():
    X, y = _data(200)
    sparse = sp.random(200, 50, density=0.05, format="csr", random_state=0)
    with pytest.raises(ValueError, match="working_set.*sparse"):
        solve_svc(sparse, y, working_set=32)
    # CSR data dense enough to be made dense are solved as the dense array
    dense_enough = solve_svc(sp.csr_matrix(X), y, working_set=32)
    np.testing.assert_array_equal(dense_enough.a, solve_svc(X, y, working_set=32).a)
    K = pairwise_kernels(X, metric="rbf", gamma=0.3)
    with pytest.raises(ValueError, match="working_set.*precomputed"):
        solve_svc(K, y, kernel=Kernel("precomputed"), working_set=32)


def test_divide_and_conquer_takes_blocked_sets_for_the_whole_solve_only():
    from glopt.smo import solve_dc

    problem = _problem("svc", C=1.0)
    res = solve_dc(problem, n_clusters=3, working_set=64)
    assert res.status == "optimal" and res.extra["blocked"]["q"] == 64
    assert res.dual_objective == pytest.approx(solve(problem).dual_objective, rel=1e-6)
    assert res.extra["dc"]["cluster_iterations"] == solve_dc(problem, n_clusters=3).extra["dc"]["cluster_iterations"]
