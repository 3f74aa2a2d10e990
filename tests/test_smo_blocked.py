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
from glopt.smo._blocks import fused_gradient, kernel_block, local_smo, padded, select_working_set


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


def _float_data(X):
    """The float arrays of the blocked phase's Gaussian rows: centred data, padded transpose, norms."""
    n, d = X.shape
    Xf = np.ascontiguousarray(X - X.mean(0), dtype=np.float32)
    XTf = np.zeros((d, padded(n)), dtype=np.float32)
    XTf[:, :n] = Xf.T
    sqf = np.zeros(padded(n), dtype=np.float32)
    sqf[:n] = np.einsum("ij,ij->i", Xf, Xf, dtype=np.float64)
    return Xf, XTf, sqf


_F1 = np.zeros((1, 1), dtype=np.float32)
_D1 = np.zeros((1, 1))


def _fused(kind, X, rows, c, read, write, store, s, G, n_threads, gamma=0.2, coef0=0.0, degree=3):
    if kind == 1:
        Xf, XTf, sqf = _float_data(X)
        fused_gradient(True, Xf, sqf, XTf, _D1, np.zeros(1), _D1, 1, gamma, 0.0, 3, rows, c, read,
                       write, store, s, G, n_threads)
    else:
        sq = np.einsum("ij,ij->i", X, X)
        fused_gradient(False, _F1, np.zeros(1, dtype=np.float32), _F1, X, sq, np.ascontiguousarray(X.T),
                       kind, gamma, coef0, degree, rows, c, read, write, store, s, G, n_threads)


@pytest.mark.parametrize("kind,metric,kw", [(1, "rbf", {"gamma": 0.2}),
                                            (2, "poly", {"gamma": 0.2, "degree": 3, "coef0": 1.0})])
def test_gradient_pass_against_numpy_whatever_the_threads_and_the_store(kind, metric, kw):
    X, _ = _data(1500, d=9)      # three tiles of the pass, the last one partial
    n = X.shape[0]
    K = pairwise_kernels(X, metric=metric, **kw)
    rows = np.array([0, 3, 700, 1499], dtype=np.int32)
    c = np.array([0.5, -1.25, 2.0, 0.75])
    s = np.where(np.arange(n) % 3 == 0, -1.0, 1.0)
    G0 = np.random.default_rng(0).normal(size=n)
    none = np.full(4, -1, dtype=np.int32)
    args = dict(gamma=kw["gamma"], coef0=kw.get("coef0", 0.0), degree=kw.get("degree", 3))
    results = []
    store = np.zeros((5, padded(n)), dtype=np.float32)
    # computed on one thread, on two; then written to the store; then read back from it
    for read, write, threads in ((none, none, 1), (none, none, 2),
                                 (none, np.array([4, -1, 0, 2], dtype=np.int32), 2),
                                 (np.array([4, -1, 0, 2], dtype=np.int32), none, 2)):
        G = G0.copy()
        _fused(kind, X, rows, c, read, write, store, s, G, threads, **args)
        results.append(G)
    for G in results[1:]:
        np.testing.assert_array_equal(G, results[0])
    # float rows: within 1e-6 of the gradient, relative to the size of its terms (at least 1)
    scale = np.abs(c) @ np.abs(K[rows])
    assert np.max(np.abs(results[0] - (G0 + s * (c @ K[rows]))) / (1.0 + scale)) <= 1e-6
    # the stored rows are the kernel's rows to float accuracy
    np.testing.assert_allclose(store[[4, 0, 2], :n], K[rows[[0, 2, 3]]], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", [1, 2])
def test_kernel_block_holds_the_rows_entries(kind):
    """The local solve's block Q_BB is the gradient pass's Q: the same float values."""
    X, _ = _data(600, d=7)
    n = X.shape[0]
    W = np.array([5, 5, 17, 599, 0, 300, 301], dtype=np.int32)     # a repeat (SVR's two variables)
    store = np.zeros((W.size, padded(n)), dtype=np.float32)
    kw = dict(gamma=0.3, coef0=1.0, degree=2)
    _fused(kind, X, W[[0, 2, 3, 4, 5, 6]], np.ones(6), np.full(6, -1, dtype=np.int32),
           np.arange(6, dtype=np.int32), store, np.ones(n), np.zeros(n), 2, **kw)
    block = np.empty((W.size, padded(W.size)), dtype=np.float32)
    if kind == 1:
        Xf, _, sqf = _float_data(X)
        kernel_block(True, Xf, sqf, _D1, np.zeros(1), 1, 0.3, 1.0, 2, W, block, 2)
    else:
        kernel_block(False, _F1, np.zeros(1, dtype=np.float32), X, np.einsum("ij,ij->i", X, X), 2,
                     0.3, 1.0, 2, W, block, 2)
    slot = {5: 0, 17: 1, 599: 2, 0: 3, 300: 4, 301: 5}
    expected = np.array([[store[slot[i], j] for j in W] for i in W])
    np.testing.assert_array_equal(block[:, :W.size], expected)


def _select_reference(G, s, a, u, nu, keep, q, tol):
    """select_working_set in numpy: the violation, then keep and the violators in turn."""
    f = -s * G
    up = np.where(s > 0, a < u, a > 0)
    low = np.where(s > 0, a > 0, a < u)
    classes = [s > 0, s < 0] if nu else [np.ones(s.size, dtype=bool)]
    violation, lists = -np.inf, []
    free = np.ones(s.size, dtype=bool)
    free[keep] = False
    for c in classes:
        if not ((up & c).any() and (low & c).any()):
            continue
        fu, fl = f[up & c].max(), f[low & c].min()
        violation = max(violation, fu - fl)
        for mask, key in ((up & c & free & (f > fl), -f), (low & c & free & (f < fu), f)):
            cand = np.flatnonzero(mask)
            lists.append(cand[np.lexsort((cand, key[cand]))])
    if not violation > tol:
        return violation, []
    picked, taken, pos = list(keep), set(keep), [0] * len(lists)
    while len(picked) < q:
        moved = False
        for k, lst in enumerate(lists):
            while pos[k] < lst.size and lst[pos[k]] in taken:
                pos[k] += 1
            if pos[k] < lst.size and len(picked) < q:
                taken.add(lst[pos[k]])
                picked.append(lst[pos[k]])
                moved = True
        if not moved:
            break
    return violation, picked


@pytest.mark.parametrize("nu", [False, True])
@pytest.mark.parametrize("q", [8, 64, 400])
def test_working_set_selection_against_numpy(nu, q):
    rng = np.random.default_rng(q + nu)
    l = 300
    s = np.where(rng.random(l) < 0.4, -1.0, 1.0)
    u = np.full(l, 2.0)
    a = np.choose(rng.integers(0, 3, l), [np.zeros(l), u, rng.random(l)])
    G = np.round(rng.normal(size=l), 1)          # ties in f, broken by the index
    keep = rng.choice(l, q // 2, replace=False).astype(np.int64)
    out = np.empty(q, dtype=np.int64)
    scratch = np.empty(33 * l, dtype=np.uint8)
    violation, size = select_working_set(G, s, a, u, nu, keep, out, scratch, 1e-3)
    ref_violation, ref = _select_reference(G, s, a, u, nu, keep, q, 1e-3)
    assert violation == ref_violation and size == len(ref) > keep.size
    np.testing.assert_array_equal(out[:size], ref)
    # at the optimum (no violation above tol) no set is chosen
    assert select_working_set(G, s, a, u, nu, keep, out, scratch, 10.0)[1] == 0


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
    assert working_set_size("auto", 100_000, 100_000) == 1024
    assert working_set_size("auto", 99_999, 2 * 99_999) == 512
    assert working_set_size("auto", 300, 300) == 300
    assert working_set_size(4096, 1000, 2000) == 2000
    assert working_set_size(8, 1000, 1000) == 8


def test_where_the_estimators_take_blocked_sets():
    assert not blocked_pays(39_999) and blocked_pays(40_000) and blocked_pays(10 ** 7)
    assert blocked_pays(1000, min_variables=1000)


def test_warm_start_and_auto():
    problem = _problem("svc", C=1.0)
    first = solve(problem, tol=1e-2)
    warm = solve(problem, a0=first.a, working_set="auto")
    plain = solve(problem)
    assert warm.status == "optimal"
    assert warm.dual_objective == pytest.approx(plain.dual_objective, rel=1e-6)
    assert warm.extra["blocked"]["q"] == 512


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
    assert out["kernel_evals"] > out["rows"] * problem.n


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
