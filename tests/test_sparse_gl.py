"""scipy.sparse inputs of the correlation matrix S and of GLSVC / GLSVR: the same answers as the
dense inputs, to rounding."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from glopt.estimators import GLSVC, GLSVR
from glopt.kernels import (Correlation, RandomFeatureCorrelation, correlation_matrix, median_sq_distance,
                           scale_gamma_s)


def _data(n=80, d=12, density=0.3, seed=1):
    """A CSR matrix with an empty row and a duplicated row, binary and 3-class labels from a
    linear rule, and real targets."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, random_state=seed, data_rvs=rng.standard_normal, format="lil")
    X[3, :] = 0.0
    X[5, :] = X[9, :]
    X = sp.csr_matrix(X)
    X.eliminate_zeros()
    f = X @ rng.standard_normal(d)
    y2 = (f > np.median(f)).astype(int)
    y3 = np.digitize(f, np.quantile(f, [1 / 3, 2 / 3]))
    return X, y2, y3, f + 0.1 * rng.standard_normal(n)


# --------------------------------------------------------------------------------------
# S on sparse rows
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("s_kernel", ["G", "Q", "M", "I"])
@pytest.mark.parametrize("masked", [False, True])
def test_correlation_matches_dense(s_kernel, masked):
    X, _, y3, _ = _data()
    Xd = X.toarray()
    y = y3 if masked else None
    dense, sparse = Correlation(Xd, s_kernel, 0.3, y=y), Correlation(X, s_kernel, 0.3, y=y)
    assert sparse.X.format == "csr"
    S = sparse.dense()
    np.testing.assert_allclose(S, dense.dense(), rtol=0, atol=1e-14)
    np.testing.assert_array_equal(np.diag(S), 1.0)
    if s_kernel != "I":
        assert S[5, 9] == 1.0                                # exact duplicates: S_ij = 1 exactly
    v = np.random.default_rng(0).standard_normal((X.shape[0], 2))
    v[::3] = 0.0
    np.testing.assert_allclose(sparse @ v, dense @ v, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sparse @ v, S @ v, rtol=0, atol=1e-12)
    rows = np.arange(0, X.shape[0], 4)
    np.testing.assert_allclose(sparse.rows_product(rows, v), dense.rows_product(rows, v), rtol=0, atol=1e-12)
    np.testing.assert_allclose(sparse.row_sums(), dense.row_sums(), rtol=1e-13)


def test_sparse_products_in_small_blocks():
    X, _, _, _ = _data()
    S = Correlation(X, "G", 0.3, max_bytes=64)
    v = np.linspace(-1.0, 1.0, X.shape[0])
    np.testing.assert_allclose(S @ v, correlation_matrix(X.toarray(), "G", 0.3) @ v, rtol=0, atol=1e-12)


@pytest.mark.parametrize("fmt", ["coo", "csc", "lil"])
def test_every_sparse_format_is_held_as_csr(fmt):
    X, _, _, _ = _data()
    S = correlation_matrix(X.asformat(fmt), "M", 0.5)
    np.testing.assert_allclose(S, correlation_matrix(X.toarray(), "M", 0.5), rtol=0, atol=1e-14)


def test_scale_rule_and_median_on_sparse_rows():
    X, _, _, _ = _data(n=300)
    Xd = X.toarray()
    for s_kernel in "GQM":
        for max_samples in (50, 1000):                      # a seeded sample, and all rows
            g_sparse = scale_gamma_s(X, s_kernel, max_samples=max_samples)
            assert g_sparse == pytest.approx(scale_gamma_s(Xd, s_kernel, max_samples=max_samples), rel=1e-12)
    assert median_sq_distance(X, max_samples=40) == pytest.approx(median_sq_distance(Xd, max_samples=40), rel=1e-12)
    # duplicates only: no gamma_s changes S, as for dense rows
    same = sp.csr_matrix(np.tile([[0.0, 2.0, 0.0]], (6, 1)))
    assert scale_gamma_s(same) == 1.0


def test_random_features_on_sparse_rows():
    X, _, y3, _ = _data()
    for y in (None, y3):
        dense = RandomFeatureCorrelation(X.toarray(), "G", 0.3, y=y, n_components=64, random_state=0)
        sparse = RandomFeatureCorrelation(X, "G", 0.3, y=y, n_components=64, random_state=0)
        np.testing.assert_allclose(sparse.Z, dense.Z, rtol=0, atol=1e-14)


def test_sparse_overflow_is_refused_by_name():
    X = sp.csr_matrix(np.array([[1e300, 0.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"X .*overflow"):
        Correlation(X, "G", 1.0)
    with pytest.raises(ValueError, match=r"X .*overflow"):
        RandomFeatureCorrelation(X, "G", 1.0)


# --------------------------------------------------------------------------------------
# estimators
# --------------------------------------------------------------------------------------
def _fit_both(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # both fits must certify
        dense = est.fit(X.toarray(), y)
        d = (dense.dual_coef_.copy(), dense.intercept_.copy(), dense.predict(X.toarray()),
             dense.certified_.copy(), dense.support_.copy(),
             [h["objective"][-1] for h in dense.objective_history_])
        sparse = est.fit(X, y)
    return d, sparse


def _assert_same(d, sparse, X, atol):
    dual, intercept, pred, certified, support, objective = d
    np.testing.assert_allclose([h["objective"][-1] for h in sparse.objective_history_], objective, rtol=1e-7)
    scale = max(1.0, float(np.abs(dual).max()))
    unique = atol <= 1e-8  # p = 2 (convex): one answer; p = 1: stationary points a rounding apart
    if unique:
        np.testing.assert_array_equal(sparse.support_, support)
        np.testing.assert_allclose(sparse.dual_coef_, dual, rtol=0, atol=atol * scale)
    np.testing.assert_allclose(sparse.intercept_, intercept, rtol=0, atol=atol * scale)
    if isinstance(sparse, GLSVC) and unique:
        np.testing.assert_array_equal(sparse.predict(X), pred)
        np.testing.assert_array_equal(sparse.predict(X.tocoo()), pred)
    elif isinstance(sparse, GLSVC):
        assert np.mean(sparse.predict(X) == pred) >= 0.97
        np.testing.assert_array_equal(sparse.predict(X.tocoo()), sparse.predict(X))
    else:
        np.testing.assert_allclose(sparse.predict(X.tocoo()), pred, rtol=0, atol=10 * atol * scale)
    np.testing.assert_array_equal(sparse.certified_, certified)
    assert sparse.support_vectors_.format == "csr"


# p = 2 is convex: both inputs reach its unique answer to rounding and the solver's tolerance.
# The p = 1 MM path parts at rounding level from any change of summation order (reordering the
# dense features does the same) and its coefficients agree to the tolerances it is solved to;
# the objectives, predictions and certificates agree.
TOL = {2: (dict(eps=1e-8), 1e-8), 1: (dict(eps=1e-10, mm_tol=1e-12), 1e-2)}


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("s_kernel", ["G", "Q", "M", "I"])
@pytest.mark.parametrize("classes", [2, 3])
def test_glsvc_sparse_equals_dense(s_kernel, p, classes):
    X, y2, y3, _ = _data()
    opts, atol = TOL[p]
    if s_kernel == "I":
        atol = 1e-9                                          # no S: the SMO's sparse path retraces the dense one
    d, sparse = _fit_both(GLSVC(s_kernel=s_kernel, p=p, **opts), X, y2 if classes == 2 else y3)
    _assert_same(d, sparse, X, atol)


@pytest.mark.parametrize("p", [1, 2])
def test_glsvc_class_mask_and_decision_function(p):
    X, _, y3, _ = _data()
    opts, atol = TOL[p]
    est = GLSVC(class_mask=True, p=p, decision_function_shape="ovo", **opts)
    d, sparse = _fit_both(est, X, y3)
    _assert_same(d, sparse, X, atol)
    dense_dec = GLSVC(class_mask=True, p=p, decision_function_shape="ovo", **opts).fit(X.toarray(), y3)
    if atol <= 1e-8:
        np.testing.assert_allclose(sparse.decision_function(X), dense_dec.decision_function(X.toarray()),
                                   rtol=0, atol=100 * atol)
    else:  # p = 1: the two stationary points agree in sign almost everywhere
        same_sign = np.sign(sparse.decision_function(X)) == np.sign(dense_dec.decision_function(X.toarray()))
        assert np.mean(same_sign) >= 0.97


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("s_kernel", ["G", "M"])
def test_glsvr_sparse_equals_dense(s_kernel, p):
    X, _, _, t = _data()
    opts, atol = TOL[p]
    d, sparse = _fit_both(GLSVR(s_kernel=s_kernel, p=p, **opts), X, t)
    _assert_same(d, sparse, X, atol)


@pytest.mark.parametrize("kernel", ["linear", "poly"])
def test_other_kernels_on_sparse_input(kernel):
    X, y2, _, _ = _data()
    d, sparse = _fit_both(GLSVC(kernel=kernel, p=2, gamma=0.1, coef0=0.5 if kernel == "poly" else 0.0), X, y2)
    _assert_same(d, sparse, X, 1e-9)
    if kernel == "linear":
        assert isinstance(sparse.coef_, np.ndarray)
        np.testing.assert_allclose(sparse.coef_, sparse.dual_coef_ @ sparse.support_vectors_.toarray(),
                                   rtol=0, atol=1e-12)


def test_random_features_fit_on_sparse_input():
    X, y2, _, t = _data()
    for est, y in ((GLSVC(s_approx="rff", p=2, n_components=400, gamma_s=0.05, random_state=0), y2),
                   (GLSVR(s_approx="rff", p=2, n_components=400, gamma_s=0.05, random_state=0), t)):
        d, sparse = _fit_both(est, X, y)
        _assert_same(d, sparse, X, 1e-9)


def test_dense_model_predicts_sparse_input_and_back():
    X, y2, _, _ = _data()
    dense = GLSVC(p=2).fit(X.toarray(), y2)
    np.testing.assert_allclose(dense.decision_function(X), dense.decision_function(X.toarray()), rtol=0, atol=1e-12)
    sparse = GLSVC(p=2).fit(X, y2)
    np.testing.assert_allclose(sparse.decision_function(X.toarray()), sparse.decision_function(X), rtol=0,
                               atol=1e-12)


def test_precomputed_refuses_sparse_by_name():
    X, y2, _, _ = _data()
    K = X @ X.T
    with pytest.raises(TypeError, match=r"Sparse data was passed for X"):
        GLSVC(kernel="precomputed", s_kernel="I").fit(K, y2)
    est = GLSVC(kernel="precomputed", s_kernel="I").fit(K.toarray(), y2)
    with pytest.raises(TypeError, match=r"Sparse data was passed for X"):
        est.predict(K)


def test_sparse_input_refusals_name_x():
    X, y2, _, t = _data()
    huge = X * 1e300
    with pytest.raises(ValueError, match=r"X .*overflow"):
        GLSVC().fit(huge, y2)
    with pytest.raises(ValueError, match=r"X has 5 features"):
        GLSVR(p=2).fit(X, t).predict(X[:, :5])
