import tracemalloc

import numpy as np
import pytest
from sklearn.metrics.pairwise import polynomial_kernel, rbf_kernel

from glopt.kernels import (Correlation, Kernel, RandomFeatureCorrelation, check_correlation_matrix,
                           correlation_matrix, median_sq_distance)

S_CASES = [("G", {}), ("Q", {"alpha": 1.0}), ("Q", {"alpha": 3.0}), ("M", {"nu": 0.5}),
           ("M", {"nu": 1.5}), ("M", {"nu": 2.5})]


@pytest.mark.parametrize("s_kernel,kw", S_CASES)
@pytest.mark.parametrize("gamma_s", [0.01, 0.3, 5.0])
def test_s_is_symmetric_psd_unit_diagonal(rng, s_kernel, kw, gamma_s):
    X = rng.normal(size=(60, 4))
    S = correlation_matrix(X, s_kernel, gamma_s, **kw)
    assert np.array_equal(S, S.T)
    np.testing.assert_array_equal(np.diag(S), 1.0)
    assert S.min() >= 0 and S.max() <= 1
    assert np.linalg.eigvalsh(S)[0] > -1e-10
    check_correlation_matrix(S)  # accepted by the user-S check


@pytest.mark.parametrize("s_kernel,kw", S_CASES)
def test_large_gamma_tends_to_identity_and_small_to_ones(rng, s_kernel, kw):
    X = rng.normal(size=(30, 3))
    off = ~np.eye(30, dtype=bool)
    big = correlation_matrix(X, s_kernel, 1e4, **kw)
    small = correlation_matrix(X, s_kernel, 1e-8, **kw)
    assert np.abs(big[off]).max() < 1e-3 if s_kernel != "Q" else np.abs(big[off]).max() < 5e-2
    assert small[off].min() > 0.999


def test_formulas(rng):
    X = rng.normal(size=(5, 2))
    d2 = ((X[:, None] - X[None]) ** 2).sum(-1)
    r = np.sqrt(2 * 0.7 * d2)
    np.testing.assert_allclose(correlation_matrix(X, "G", 0.7), np.exp(-0.7 * d2), atol=1e-14)
    np.testing.assert_allclose(correlation_matrix(X, "Q", 0.7, alpha=2.0), (1 + 0.7 * d2 / 2) ** -2, atol=1e-14)
    np.testing.assert_allclose(correlation_matrix(X, "M", 0.7, nu=0.5), np.exp(-r), atol=1e-12)
    np.testing.assert_allclose(correlation_matrix(X, "M", 0.7, nu=1.5),
                               (1 + np.sqrt(3) * r) * np.exp(-np.sqrt(3) * r), atol=1e-12)
    np.testing.assert_allclose(correlation_matrix(X, "M", 0.7, nu=2.5),
                               (1 + np.sqrt(5) * r + 5 * r ** 2 / 3) * np.exp(-np.sqrt(5) * r), atol=1e-12)
    np.testing.assert_array_equal(correlation_matrix(X, "I"), np.eye(5))


def test_class_mask_zeroes_cross_class_entries(rng):
    X = rng.normal(size=(20, 3))
    y = np.where(rng.normal(size=20) > 0, 1, -1)
    S = correlation_matrix(X, "G", 0.2, y=y)
    cross = y[:, None] != y[None, :]
    assert np.all(S[cross] == 0)
    np.testing.assert_array_equal(S[~cross], correlation_matrix(X, "G", 0.2)[~cross])
    np.testing.assert_array_equal(Correlation(X, "I", y=y) @ np.arange(20.0), np.arange(20.0))


@pytest.mark.parametrize("s_kernel", ["G", "Q", "M", "I"])
def test_block_product_equals_dense(rng, s_kernel):
    X = rng.normal(size=(103, 3))
    y = rng.integers(0, 3, size=103)
    op = Correlation(X, s_kernel, 0.4, y=y, max_bytes=8 * 103 * 7)  # 7 rows per block
    dense = op.dense()
    v = rng.normal(size=103)
    V = rng.normal(size=(103, 4))
    np.testing.assert_allclose(op @ v, dense @ v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(op @ V, dense @ V, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(op.row_sums(), dense.sum(1), rtol=1e-12)


def test_block_product_stays_within_its_memory_budget(rng):
    n = 20_000
    X = rng.normal(size=(n, 2))
    op = Correlation(X, "G", 1.0, max_bytes=8 << 20)
    v = rng.normal(size=n)
    tracemalloc.start()
    out = op @ v
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 << 20, f"peak {peak / 2**20:.0f} MiB; a dense S would need {8 * n * n / 2**20:.0f} MiB"
    rows = slice(0, 50)
    np.testing.assert_allclose(out[rows], op.block(rows) @ v, rtol=1e-12)


@pytest.mark.parametrize("name", ["linear", "rbf", "poly"])
def test_svm_kernels_match_sklearn(rng, name):
    X, Z = rng.normal(size=(30, 4)), rng.normal(size=(7, 4))
    k = Kernel(name, gamma=0.3, degree=2, coef0=0.5)
    ref = {"linear": lambda A, B: A @ B.T, "rbf": lambda A, B: rbf_kernel(A, B, gamma=0.3),
           "poly": lambda A, B: polynomial_kernel(A, B, degree=2, gamma=0.3, coef0=0.5)}[name]
    np.testing.assert_allclose(k(X), ref(X, X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(k(X, Z), ref(Z, X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(k.diag(X), np.diag(ref(X, X)), rtol=1e-12)
    v = rng.normal(size=30)
    v[::3] = 0
    np.testing.assert_allclose(k.matvec(X, v, max_bytes=8 * 30 * 4), ref(X, X) @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(k.matvec(X, v, Z), ref(Z, X) @ v, rtol=1e-10, atol=1e-12)


def test_rbf_matvec_by_the_fused_product_matches_sklearn(rng):
    # Kernel.matvec for rbf (Z = X) goes through the fused Gaussian product: the rows that are not
    # support vectors 32 at a time, the support vectors' own rows by symmetry (n = 157: both, and
    # a remainder of rows)
    X = rng.normal(size=(157, 4))
    K = rbf_kernel(X, X, gamma=0.3)
    k = Kernel("rbf", gamma=0.3)
    V = rng.normal(size=(157, 3)) * (rng.random((157, 1)) < 0.3)
    for W in (V[:, 0], V[:, :2], V):
        np.testing.assert_allclose(k.matvec(X, W), K @ W, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(k.matvec(X, np.zeros(157)), 0.0)


def test_precomputed_kernel(rng):
    X = rng.normal(size=(12, 3))
    K = Kernel("rbf", gamma=0.5)(X)
    k = Kernel("precomputed")
    v = rng.normal(size=12)
    np.testing.assert_allclose(k.matvec(K, v), K @ v, rtol=1e-12)
    np.testing.assert_allclose(k.matvec(K, v, np.array([3, 5])), K[[3, 5]] @ v, rtol=1e-12)
    np.testing.assert_array_equal(k.diag(K), np.ones(12))


def test_median_sq_distance(rng):
    X = rng.normal(size=(50, 3))
    d2 = ((X[:, None] - X[None]) ** 2).sum(-1)[np.triu_indices(50, 1)]
    assert median_sq_distance(X) == pytest.approx(np.median(d2))
    with pytest.raises(ValueError, match="distinct"):
        median_sq_distance(np.ones((4, 2)))


@pytest.mark.parametrize("S,match", [
    (np.ones((3, 4)), "square"),
    (np.array([[1.0, 0.5], [0.4, 1.0]]), "not symmetric"),
    (np.array([[1.0, np.nan], [np.nan, 1.0]]), "NaN"),
    (np.array([[1.0, 2.0], [2.0, 1.0]]), "positive semi-definite"),
    (np.eye(3), "3 x 3 but there are 4 samples"),
])
def test_user_s_check_names_the_failing_property(S, match):
    with pytest.raises(ValueError, match=match):
        check_correlation_matrix(S, n=4 if S.shape == (3, 3) else None)


@pytest.mark.parametrize("kwargs,match", [
    ({"s_kernel": "X"}, "s_kernel"), ({"gamma_s": 0.0}, "gamma_s"), ({"gamma_s": -1.0}, "gamma_s"),
    ({"gamma_s": np.nan}, "gamma_s"), ({"s_kernel": "M", "nu": 2.0}, "nu"),
    ({"s_kernel": "Q", "alpha": 0.0}, "alpha"),
])
def test_correlation_bad_parameters(rng, kwargs, match):
    with pytest.raises(ValueError, match=match):
        Correlation(rng.normal(size=(5, 2)), **kwargs)


@pytest.mark.parametrize("kwargs,match", [
    ({"name": "sigmoidal"}, "kernel"), ({"gamma": 0.0}, "gamma"), ({"gamma": -2.0}, "gamma"),
    ({"degree": 0}, "degree"), ({"degree": 2.5}, "degree"), ({"coef0": np.inf}, "coef0"),
])
def test_kernel_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Kernel(**kwargs)


@pytest.mark.parametrize("s_kernel,kw", S_CASES)
def test_random_features_converge_to_s(rng, s_kernel, kw):
    """Monte Carlo error of Z Z^T falls like 1/sqrt(R): bounded by 4 / sqrt(R) entrywise here."""
    X = rng.normal(size=(80, 3))
    S = correlation_matrix(X, s_kernel, 0.3, **kw)
    errors = []
    for R in (100, 10_000):
        approx = RandomFeatureCorrelation(X, s_kernel, 0.3, n_components=R, random_state=1, **kw)
        err = np.abs(approx.dense() - S).max()
        assert err < 4.0 / np.sqrt(R)
        errors.append(err)
    assert errors[1] < errors[0] / 3
    v = rng.normal(size=80)
    np.testing.assert_allclose(approx @ v, approx.dense() @ v, rtol=1e-10, atol=1e-10)


def test_random_features_class_mask_is_exact(rng):
    X = rng.normal(size=(40, 2))
    y = rng.integers(0, 3, size=40)
    Z = RandomFeatureCorrelation(X, "G", 0.5, y=y, n_components=50, random_state=0).dense()
    assert np.all(Z[y[:, None] != y[None, :]] == 0)


def test_random_features_are_seeded(rng):
    X = rng.normal(size=(10, 2))
    a = RandomFeatureCorrelation(X, "M", 0.5, n_components=20, random_state=3).dense()
    b = RandomFeatureCorrelation(X, "M", 0.5, n_components=20, random_state=3).dense()
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="n_components"):
        RandomFeatureCorrelation(X, "G", 0.5, n_components=0)
    with pytest.raises(ValueError, match="random-feature"):
        RandomFeatureCorrelation(X, "I", 0.5)


def test_fast_exp_of_the_correlation_kernel_is_accurate():
    """The fused S products use a polynomial exp (vectorizable); it must be as good as libm's:
    relative error a few ulp wherever exp(x) is a normal double, 0 below the underflow point."""
    from glopt._correlation import exp_neg

    rng = np.random.default_rng(0)
    x = -np.concatenate([rng.uniform(0.0, 1.0, 200_000), rng.uniform(0.0, 708.0, 200_000),
                         np.logspace(-300, np.log10(708.0), 20_000), [0.0, 708.39]])
    out = np.empty_like(x)
    exp_neg(x, out)
    ref = np.exp(x)
    assert np.max(np.abs(out - ref) / ref) <= 1e-15
    under = np.array([-708.4, -745.2, -1e4, -np.inf])
    out = np.empty_like(under)
    exp_neg(under, out)
    np.testing.assert_array_equal(out, 0.0)  # true values < 2.3e-308 (subnormal or 0)


@pytest.mark.parametrize("s_kernel,kw", S_CASES)
@pytest.mark.parametrize("masked", [False, True])
def test_product_over_some_columns_uses_symmetry_correctly(rng, s_kernel, kw, masked):
    """S @ V with V nonzero on a subset of rows (the MM case: positive slacks only): the kernel
    computes each entry among those columns once and uses it twice (symmetry), rows of the other
    points once; any thread count gives the dense product (to rounding)."""
    n = 157
    X = rng.normal(size=(n, 3))
    y = rng.integers(0, 2, size=n) if masked else None
    op = Correlation(X, s_kernel, 0.4, y=y, **kw)
    dense = op.dense()
    V = rng.normal(size=(n, 2)) * (rng.random((n, 1)) < 0.35)
    ref = dense @ V
    outs = []
    for n_threads in (1, 2, 3):
        op.n_threads = n_threads
        outs.append(op @ V)
        np.testing.assert_allclose(outs[-1], ref, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(op @ V[:, 0], ref[:, 0], rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(outs[0], Correlation(X, s_kernel, 0.4, y=y, n_jobs=1, **kw) @ V)
    np.testing.assert_array_equal(op @ np.zeros(n), 0.0)
