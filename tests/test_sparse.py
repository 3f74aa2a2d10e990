"""scipy.sparse data: the kernels, the problem checks, the SMO's sparse kernel columns, the
certifier, and the answers against the dense ones and against scikit-learn on sparse input."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from glopt.certify import certify
from glopt.dual import dual_form
from glopt.kernels import Kernel, as_csr, check_kernel_data
from glopt.problem import SVMProblem
from glopt.smo import SMOEngine, solve, solve_svc, solve_svr
from glopt.smo import _api as smo_api

KERNELS = [Kernel("linear"), Kernel("rbf", gamma=0.5), Kernel("poly", gamma=0.7, degree=3, coef0=1.0),
           Kernel("sigmoid", gamma=0.2, coef0=-0.3)]
TASKS = ["svc", "svr", "nu_svc", "nu_svr", "one_class"]


def _sparse_data(n, d, density, seed=0, empty=True):
    """A random CSR matrix with normal values, one empty row and one empty column (empty=True),
    labels from a sparse linear rule and real targets."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="lil", random_state=seed,
                  data_rvs=rng.standard_normal)
    if empty:
        X[3, :] = 0.0
        X[:, 1] = 0.0
    X = sp.csr_matrix(X)
    X.eliminate_zeros()
    w = rng.standard_normal(d)
    f = X @ w + 0.3 * rng.standard_normal(n)
    y = np.where(f > np.median(f), 1.0, -1.0)
    return X, y, f


def _labels(task, y, t):
    return None if task == "one_class" else (y if task in ("svc", "nu_svc") else t)


def _assert_same_answer(dense, sparse, coef_tol=1e-9):
    """Equal to rounding: dual objective to 1e-12 relative, coefficients and bias to coef_tol
    (relative to the largest), the same support vectors. Where the blocked gradient pass's
    last bits differ (rbf), the two paths may part and end at points that agree to about the
    stopping tolerance: the callers solve to tol 1e-10."""
    assert abs(dense.dual_objective - sparse.dual_objective) <= 1e-12 * max(1.0, abs(dense.dual_objective))
    scale = max(1.0, float(np.abs(dense.coef).max()))
    np.testing.assert_allclose(sparse.coef, dense.coef, rtol=0, atol=coef_tol * scale)
    assert abs(sparse.b - dense.b) <= coef_tol * max(scale, abs(dense.b))
    np.testing.assert_array_equal(sparse.coef != 0, dense.coef != 0)


# --------------------------------------------------------------------------------------
# conversion and checks
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "lil", "dok", "bsr", "dia"])
@pytest.mark.parametrize("array", [False, True])
def test_as_csr_converts_every_format(fmt, array):
    X, _, _ = _sparse_data(30, 12, 0.3)
    Y = (sp.csr_array(X) if array else X).asformat(fmt)
    A = as_csr(Y)
    assert A.format == "csr" and A.dtype == np.float64 and A.has_canonical_format
    assert isinstance(A, sp.sparray) == array
    np.testing.assert_array_equal(A.toarray(), X.toarray())


def test_as_csr_sums_duplicates_sorts_and_leaves_the_input_alone():
    data, rows, cols = np.array([1, 2, 3, 4]), np.array([0, 0, 1, 0]), np.array([2, 0, 1, 2])
    coo = sp.coo_matrix((data, (rows, cols)), shape=(2, 3))
    A = as_csr(coo)
    np.testing.assert_array_equal(A.toarray(), [[2.0, 0.0, 5.0], [0.0, 3.0, 0.0]])
    assert coo.nnz == 4 and coo.dtype.kind == "i"
    unsorted = sp.csr_matrix((np.array([1.0, 2.0]), np.array([2, 0]), np.array([0, 2, 2])), shape=(2, 3))
    B = as_csr(unsorted)
    assert B.has_sorted_indices and B is not unsorted
    np.testing.assert_array_equal(unsorted.indices, [2, 0])
    canonical = as_csr(B)
    assert canonical is B


def test_sparse_refusals_name_the_argument():
    X, _, _ = _sparse_data(20, 5, 0.5)
    bad = X.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="Z contains NaN"):
        Kernel("rbf").check_data(bad, "Z")
    with pytest.raises(ValueError, match="complex"):
        as_csr(X.astype(np.complex128))
    with pytest.raises(ValueError, match="empty"):
        as_csr(sp.csr_matrix((0, 3)))
    with pytest.raises(ValueError, match="2-dimensional"):
        as_csr(sp.coo_array(np.array([1.0, 0.0, 2.0])))
    with pytest.raises(TypeError, match="scipy.sparse"):
        as_csr(np.eye(2))
    with pytest.raises(TypeError, match="precomputed"):
        check_kernel_data(sp.csr_matrix(np.eye(3)), Kernel("precomputed"))
    huge = X.copy()
    huge.data[:] = 1e160
    with pytest.raises(ValueError, match="X is too large"):
        Kernel("linear").check_data(huge)
    with pytest.raises(ValueError, match="poly kernel of degree 30 overflows on X"):
        Kernel("poly", gamma=1e6, degree=30).check_data(X * 100)
    # a sparse Gram matrix, and the engine's own checks
    with pytest.raises(TypeError, match="precomputed"):
        SVMProblem(sp.csr_matrix(np.eye(3)), np.array([1.0, -1.0, 1.0]), Kernel("precomputed"))
    n = X.shape[0]
    args = (np.arange(n, dtype=np.int32), np.ones(n), -np.ones(n), np.ones(n), np.zeros(n),
            1e-3, 3, True, 1e6, 1, 1000)
    with pytest.raises(TypeError, match="precomputed"):
        SMOEngine(sp.csr_matrix(np.eye(n)), "precomputed", 1.0, 3, 0.0, *args)
    with pytest.raises(ValueError, match="sparse_dot"):
        SMOEngine(X, "rbf", 1.0, 3, 0.0, *args, sparse_dot="dense")


def test_problem_holds_csr():
    X, y, _ = _sparse_data(40, 10, 0.2)
    problem = SVMProblem(X.tocoo(), y, Kernel("rbf", gamma=0.3))
    assert sp.issparse(problem.X) and problem.X.format == "csr" and problem.X.has_canonical_format
    np.testing.assert_allclose(problem.gram(), Kernel("rbf", gamma=0.3)(X.toarray()), rtol=0, atol=1e-14)


# --------------------------------------------------------------------------------------
# the kernels on sparse data
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.name)
def test_kernel_methods_match_dense(kernel):
    X, _, _ = _sparse_data(60, 25, 0.15, seed=1)
    Z, _, _ = _sparse_data(17, 25, 0.3, seed=2)
    Xd, Zd = X.toarray(), Z.toarray()
    for x, z in [(X, Z), (X, Zd), (Xd, Z), (sp.csr_array(X), Z.tocsc())]:
        G = kernel(x, z)
        assert isinstance(G, np.ndarray) and G.shape == (17, 60)
        np.testing.assert_allclose(G, kernel(Xd, Zd), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(kernel(X), kernel(Xd), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(kernel.diag(X), kernel.diag(Xd), rtol=1e-13, atol=0)
    rng = np.random.default_rng(3)
    v = np.where(rng.random(60) < 0.5, rng.standard_normal(60), 0.0)
    V = rng.standard_normal((60, 3))
    for vv in (v, V):
        ref = kernel(Xd) @ vv
        out = kernel.matvec(X, vv)
        assert isinstance(out, np.ndarray) and out.shape == ref.shape
        np.testing.assert_allclose(out, ref, rtol=1e-11, atol=1e-11)
        np.testing.assert_allclose(kernel.matvec(X, vv, Z), kernel(Xd, Zd) @ vv, rtol=1e-11, atol=1e-11)
        # small row blocks
        np.testing.assert_allclose(kernel.matvec(X, vv, max_bytes=64), ref, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(kernel._matvec(X, v), kernel(Xd) @ v, rtol=1e-11, atol=1e-11)


def test_rbf_diagonal_is_exactly_one_on_sparse_data():
    X, _, _ = _sparse_data(50, 40, 0.3, seed=4)
    X = X * 1e3
    K = Kernel("rbf", gamma=1e-7)(X)
    np.testing.assert_array_equal(np.diag(K), 1.0)
    np.testing.assert_array_equal(Kernel("rbf").diag(X), 1.0)


# --------------------------------------------------------------------------------------
# the SMO engine's sparse columns
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.name)
def test_sparse_columns_equal_dense_bit_for_bit(kernel):
    """The sparse inner products add the dense sums' nonzero terms in the same order and the
    kernel values go through the same code: a double-precision solve from a = 0 retraces the
    dense one exactly, in both cache modes and on threads."""
    X, y, t = _sparse_data(300, 40, 0.1, seed=5)
    Xd = X.toarray()
    threads = dict(n_jobs=2, _adaptive_threads=False, _par_min=16)
    for opts in ({}, threads, {"cache_size": 1e-6}):
        for task, target in (("svc", y), ("svr", t)):
            dense = solve(SVMProblem(Xd, target, kernel, task), precision="double", **opts)
            sparse = solve(SVMProblem(X, target, kernel, task), precision="double", **opts)
            np.testing.assert_array_equal(sparse.a, dense.a)
            assert sparse.b == dense.b and sparse.n_iter == dense.n_iter
            assert sparse.extra["kernel_evals"] == dense.extra["kernel_evals"]
            if opts is threads:
                assert sparse.extra["parallel_columns"] > 0


def _engine(problem, form, **kw):
    k = problem.kernel
    return SMOEngine(problem.X, k.name, k.gamma, k.degree, k.coef0, form.index, form.sign, form.linear,
                     form.upper, form.start.copy(), 1e-6, 3, True, 1e6, 2, 10**7,
                     nu=form.nu, **kw)


def _run(engine):
    while engine.run(1000) == "running":
        pass
    engine.to_double()
    while engine.run(1000) == "running":
        pass
    return engine.finish()


def test_all_zero_sparse_matrix():
    X = sp.csr_matrix((40, 7))
    y = np.r_[np.ones(20), -np.ones(20)]
    for k in KERNELS:
        dense = solve_svc(X.toarray(), y, 1.0, kernel=k, precision="double")
        sparse = solve_svc(X, y, 1.0, kernel=k, precision="double")
        np.testing.assert_array_equal(sparse.a, dense.a)
        assert sparse.b == dense.b


def _with_dense_columns(X, seed):
    """X with three columns nonzero in most rows (the compressed columns keep such columns
    whole as well) and one explicit zero."""
    rng = np.random.default_rng(seed)
    X = sp.lil_matrix(X)
    for c in (0, 7, 11):
        rows = np.nonzero(rng.random(X.shape[0]) < 0.8)[0]
        X[rows, c] = rng.standard_normal(rows.size)
    X = sp.csr_matrix(X)
    X.data[5] = 0.0               # an explicit zero: it adds nothing either way
    return X


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("task", ["svc", "svr", "nu_svr"])
def test_sparse_inner_products_agree(task, n_threads):
    # the rows scattered, merged, or through the compressed columns (with whole dense columns),
    # and auto (which mixes them column by column and in the exact gradient passes): the same
    # values, so the same iterations and the same exact gradient, bit for bit
    X, y, t = _sparse_data(250, 3000, 0.01, seed=6)
    X = _with_dense_columns(X, 6)
    problem = SVMProblem(X, _labels(task, y, t), Kernel("rbf", gamma=0.3), task, nu=0.4)
    form = dual_form(problem)
    k = problem.kernel
    fins = []
    for mode in ("auto", "scatter", "merge", "columns"):
        engine = SMOEngine(problem.X, k.name, k.gamma, k.degree, k.coef0, form.index, form.sign,
                           form.linear, form.upper, form.start.copy(), 1e-6, 3, True, 1e6,
                           n_threads, 10**7, nu=form.nu, single=True, sparse_dot=mode)
        fins.append(_run(engine))
    for fin in fins[1:]:
        np.testing.assert_array_equal(fin["a"], fins[0]["a"])
        np.testing.assert_array_equal(fin["grad"], fins[0]["grad"])
        assert fin["rho"] == fins[0]["rho"] and fin["n_iter"] == fins[0]["n_iter"]


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.name)
def test_columns_warm_start_gradient_is_exact(kernel):
    # a warm start's gradient from the exact pass through the compressed columns, on 2
    # threads, against the numpy gradient of the same point
    X, y, _ = _sparse_data(300, 400, 0.03, seed=8)
    X = _with_dense_columns(X, 8)
    problem = SVMProblem(X, y, kernel, "svc")
    form = dual_form(problem)
    rng = np.random.default_rng(3)
    a = form.feasible_start(rng.uniform(0.0, 1.0, form.size) * (rng.random(form.size) < 0.5))
    engine = SMOEngine(problem.X, kernel.name, kernel.gamma, kernel.degree, kernel.coef0,
                       form.index, form.sign, form.linear, form.upper, a, 1e-3, 3, True, 1e6, 2,
                       10**7, sparse_dot="columns")
    Q = np.outer(y, y) * kernel(X.toarray())
    np.testing.assert_allclose(engine.finish()["grad"], Q @ a - 1.0, rtol=0, atol=1e-11)


@pytest.mark.parametrize("density", [0.02, 0.2, 0.7])
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: k.name)
def test_sparse_answers_equal_dense(kernel, task, density, monkeypatch):
    # the engine's own sparse columns at every density (solve makes dense data dense)
    monkeypatch.setattr(smo_api, "DENSIFY_DENSITY", 2.0)
    X, y, t = _sparse_data(160, 30, density, seed=7)
    labels = _labels(task, y, t)
    # (the linear kernel's rank-30 problems converge slowly at a tight tol, dense or sparse; its
    # sparse path is the dense one bit for bit)
    tol = 1e-4 if kernel.name == "linear" else 1e-10
    dense = solve(SVMProblem(X.toarray(), labels, kernel, task, nu=0.3), tol=tol)
    sparse = solve(SVMProblem(X, labels, kernel, task, nu=0.3), tol=tol)
    assert dense.status == sparse.status == "optimal"
    _assert_same_answer(dense, sparse)


def test_dense_data_stored_sparse_are_solved_dense():
    X, y, t = _sparse_data(200, 12, 0.5, seed=3, empty=False)
    thin, _, _ = _sparse_data(200, 12, 0.1, seed=3)
    k = Kernel("rbf", gamma=0.2)
    dense = solve(SVMProblem(X.toarray(), y, k, "svc"), tol=1e-8)
    stored = solve(SVMProblem(X, y, k, "svc"), tol=1e-8)
    assert stored.extra["layout"] == dense.extra["layout"] == "dense"
    np.testing.assert_array_equal(stored.a, dense.a)
    assert stored.b == dense.b
    assert solve(SVMProblem(thin, y, k, "svc"), tol=1e-8).extra["layout"] == "csr"


def test_wide_sparse_matrix():
    """20,000 features at 0.1% density (about 20 nonzeros a row), empty rows and columns."""
    X, y, t = _sparse_data(300, 20_000, 0.001, seed=8)
    assert X.getnnz(axis=1).min() == 0 and X.getnnz(axis=0).min() == 0
    Xd = X.toarray()
    k = Kernel("rbf", gamma=0.1)
    _assert_same_answer(solve_svc(Xd, y, 2.0, kernel=k, tol=1e-10), solve_svc(X, y, 2.0, kernel=k, tol=1e-10))
    lin = Kernel("linear")
    _assert_same_answer(solve_svr(Xd, t, 1.0, kernel=lin, tol=1e-6), solve_svr(X, t, 1.0, kernel=lin, tol=1e-6))
    problem = SVMProblem(X, None, k, "one_class", nu=0.2)
    dense = solve(SVMProblem(Xd, None, k, "one_class", nu=0.2), tol=1e-10)
    _assert_same_answer(dense, solve(problem, tol=1e-10))


@pytest.mark.parametrize("kernel", [KERNELS[1], KERNELS[2]], ids=lambda k: k.name)
def test_engine_features_on_sparse_data(kernel):
    """Warm starts (the blocked start gradient and grad0), no shrinking, WSS1, a tiny cache, the
    gather cache for C-SVC, both precisions and callbacks work on sparse data as on dense."""
    X, y, t = _sparse_data(200, 50, 0.08, seed=9)
    Xd = X.toarray()
    for fn, target in ((solve_svc, y), (solve_svr, t)):
        first_d = fn(Xd, target, 1.0, kernel=kernel, tol=1e-10)
        first_s = fn(X, target, 1.0, kernel=kernel, tol=1e-10)
        _assert_same_answer(first_d, first_s)
        for opts in ({"a0": first_s.a}, {"a0": first_s.a, "grad0": first_s.extra["grad"]},
                     {"shrinking": False}, {"wss": 1}, {"cache_size": 1e-6}, {"precision": "double"}):
            dense = fn(Xd, target, 3.0, kernel=kernel, tol=1e-10, **opts)
            sparse = fn(X, target, 3.0, kernel=kernel, tol=1e-10, **opts)
            _assert_same_answer(dense, sparse)
    problem = SVMProblem(X, y, kernel, "svc")
    gather = solve(problem, tol=1e-10, _cache_mode="gather")
    assert gather.extra["cache_mode"] == "gather"
    _assert_same_answer(solve(SVMProblem(Xd, y, kernel, "svc"), tol=1e-10), gather)
    seen = []
    stopped = solve(problem, tol=1e-6, callback=lambda info: seen.append(info) or len(seen) == 2,
                    callback_every=5)
    assert stopped.status == "callback" and len(seen) == 2 and seen[1]["iteration"] == 10


@pytest.mark.parametrize("task", ["svc", "svr", "nu_svc", "one_class"])
def test_certificates_on_sparse_data(task):
    X, y, t = _sparse_data(150, 40, 0.1, seed=10)
    labels = _labels(task, y, t)
    k = Kernel("rbf", gamma=0.4)
    pd, ps = SVMProblem(X.toarray(), labels, k, task, nu=0.3), SVMProblem(X, labels, k, task, nu=0.3)
    res = solve(ps, tol=1e-8)
    cs, cd = certify(res, ps), certify(res, pd)
    assert cs.kkt_violation <= 1e-7
    assert abs(cs.gap - cd.gap) <= 1e-10 * max(1.0, abs(cd.primal))
    assert abs(cs.dual - cd.dual) <= 1e-12 * max(1.0, abs(cd.dual))


# --------------------------------------------------------------------------------------
# against scikit-learn (LIBSVM) on sparse input
# --------------------------------------------------------------------------------------
def _sklearn_coef(sk, n):
    """The expansion coefficients of a model fitted on sparse input (its dual_coef_ is sparse)."""
    coef = np.zeros(n)
    dual = sk.dual_coef_
    coef[sk.support_] = (dual.toarray() if sp.issparse(dual) else np.asarray(dual)).ravel()
    return coef


@pytest.mark.parametrize("kernel", KERNELS[:3], ids=lambda k: k.name)
def test_svc_matches_sklearn_on_sparse_input(kernel):
    from sklearn.svm import SVC
    X, y, _ = _sparse_data(300, 200, 0.03, seed=11)
    sk = SVC(C=1.0, kernel=kernel.name, gamma=kernel.gamma, degree=kernel.degree, coef0=kernel.coef0,
             tol=1e-8).fit(X, y)
    res = solve_svc(X, y, 1.0, kernel=kernel, tol=1e-8)
    coef_sk = _sklearn_coef(sk, len(y))
    K = kernel(X.toarray())
    dual_sk = np.abs(coef_sk).sum() - 0.5 * coef_sk @ K @ coef_sk
    assert abs(res.dual_objective - dual_sk) <= 1e-7 * abs(dual_sk)
    np.testing.assert_allclose(K @ res.coef + res.b, sk.decision_function(X), atol=1e-5)


def test_svr_matches_sklearn_on_sparse_input():
    from sklearn.svm import SVR
    X, _, t = _sparse_data(300, 200, 0.03, seed=12)
    t = t / t.std()
    k = Kernel("rbf", gamma=0.5)
    sk = SVR(C=2.0, epsilon=0.1, gamma=0.5, tol=1e-8).fit(X, t)
    res = solve_svr(X, t, 2.0, epsilon=0.1, kernel=k, tol=1e-8)
    coef_sk = _sklearn_coef(sk, len(t))
    K = k(X.toarray())
    dual_sk = t @ coef_sk - 0.1 * np.abs(coef_sk).sum() - 0.5 * coef_sk @ K @ coef_sk
    assert abs(res.dual_objective - dual_sk) <= 1e-7 * abs(dual_sk)
    np.testing.assert_allclose(k.matvec(X, res.coef) + res.b, sk.predict(X), atol=1e-5)
