import cvxpy as cp
import numpy as np
import pytest

from glopt.kernels import Correlation, correlation_matrix, psd_factor
from glopt.losses import generalized_loss, generalized_loss_grad, mm_weights


def test_identity_gives_the_standard_losses(rng):
    xi = rng.uniform(0, 2, size=10)
    I = np.eye(10)
    assert generalized_loss(xi, I, p=1) == pytest.approx(xi.sum(), rel=1e-14)
    assert generalized_loss(xi, I, p=2) == pytest.approx((xi ** 2).sum(), rel=1e-14)


@pytest.mark.parametrize("p", [1, 2])
def test_loss_is_the_double_sum(rng, p):
    X = rng.normal(size=(8, 2))
    S = correlation_matrix(X, "M", 0.5)
    xi = rng.uniform(0, 1, size=8)
    explicit = sum(S[i, j] * xi[i] ** (p / 2) * xi[j] ** (p / 2) for i in range(8) for j in range(8))
    assert generalized_loss(xi, S, p) == pytest.approx(explicit, rel=1e-12)
    assert generalized_loss(xi, Correlation(X, "M", 0.5), p) == pytest.approx(explicit, rel=1e-12)


@pytest.mark.parametrize("p", [1, 2])
def test_gradient_matches_finite_differences(rng, p):
    X = rng.normal(size=(7, 3))
    S = correlation_matrix(X, "G", 0.3)
    xi = rng.uniform(0.2, 1.5, size=7)
    g = generalized_loss_grad(xi, S, p)
    h = 1e-6
    fd = [(generalized_loss(xi + h * e, S, p) - generalized_loss(xi - h * e, S, p)) / (2 * h) for e in np.eye(7)]
    np.testing.assert_allclose(g, fd, rtol=1e-7)


def test_p1_gradient_is_infinite_at_zero_slack_without_smoothing():
    S = np.array([[1.0, 0.5], [0.5, 1.0]])
    g = generalized_loss_grad(np.array([0.0, 1.0]), S, p=1)
    assert np.isinf(g[0]) and np.isfinite(g[1])
    assert np.all(np.isfinite(generalized_loss_grad(np.array([0.0, 1.0]), S, p=1, eps=1e-4)))


def test_mm_weights_formula_and_majorization(rng):
    X = rng.normal(size=(9, 2))
    S = correlation_matrix(X, "G", 0.4)
    xi = rng.uniform(0, 1, size=9)
    xi[:3] = 0
    eps = 1e-4
    w = mm_weights(xi, S, eps)
    explicit = [S[i, i] + sum(S[i, j] * np.sqrt((xi[j] + eps) / (xi[i] + eps)) for j in range(9) if j != i)
                for i in range(9)]
    np.testing.assert_allclose(w, explicit, rtol=1e-12)
    # the weights are the slope of the smoothed loss: its tangent at xi lies above it everywhere
    base = generalized_loss(xi, S, 1, eps)
    for _ in range(200):
        z = rng.uniform(0, 2, size=9)
        assert generalized_loss(z, S, 1, eps) <= base + w @ (z - xi) + 1e-12
    # at zero slacks the weights are the row sums of S (the scale trap of docs/mathematics.md §5)
    np.testing.assert_allclose(mm_weights(np.zeros(9), S, eps), S.sum(1), rtol=1e-12)


def test_p1_loss_is_not_convex_midpoint_violation(rng):
    """docs/mathematics.md §2: sqrt(xi_i xi_j) is concave, so L_{S,1} fails midpoint convexity."""
    X = rng.normal(size=(2, 2))
    S = correlation_matrix(X, "G", 0.1)
    assert S[0, 1] > 0
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    mid = generalized_loss((a + b) / 2, S, p=1)
    ends = (generalized_loss(a, S, p=1) + generalized_loss(b, S, p=1)) / 2
    assert mid == pytest.approx(1 + S[0, 1])
    assert mid > ends + 0.1 * S[0, 1]
    # ... and on random slacks of a larger valid G matrix
    X = rng.normal(size=(12, 3))
    S = correlation_matrix(X, "G", 0.2)
    found = False
    for _ in range(100):
        u, v = rng.uniform(0, 1, 12) * (rng.random(12) < 0.5), rng.uniform(0, 1, 12) * (rng.random(12) < 0.5)
        if generalized_loss((u + v) / 2, S, 1) > 0.5 * (generalized_loss(u, S, 1) + generalized_loss(v, S, 1)) + 1e-9:
            found = True
            break
    assert found


def test_dcp_rejects_p1_and_accepts_p2(rng):
    X = rng.normal(size=(6, 2))
    S = correlation_matrix(X, "G", 0.5)
    xi = cp.Variable(6, nonneg=True)
    p1 = sum(S[i, j] * cp.geo_mean(cp.hstack([xi[i], xi[j]])) for i in range(6) for j in range(6))
    assert not cp.Problem(cp.Minimize(p1)).is_dcp()
    assert p1.is_concave()  # the direct form is concave in xi: the paper's convexity claim fails
    R = psd_factor(S)
    p2 = cp.sum_squares(R.T @ xi)
    assert p2.is_convex() and cp.Problem(cp.Minimize(p2), [xi >= 1 - X[:, 0]]).is_dcp()
    assert cp.Problem(cp.Minimize(cp.quad_form(xi, S, assume_PSD=True))).is_dcp()


def test_bad_input():
    S = np.eye(3)
    with pytest.raises(ValueError, match="xi"):
        generalized_loss(np.array([1.0, np.nan, 0.0]), S)
    with pytest.raises(ValueError, match="nonnegative"):
        generalized_loss(np.array([1.0, -1.0, 0.0]), S)
    with pytest.raises(ValueError, match="shape"):
        generalized_loss(np.ones(4), S)
    with pytest.raises(ValueError, match="p"):
        generalized_loss(np.ones(3), S, p=3)
    with pytest.raises(ValueError, match="eps"):
        mm_weights(np.ones(3), S, eps=0.0)
