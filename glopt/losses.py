"""The generalized loss L_{S,p}(xi) = sum_ij S_ij xi_i^(p/2) xi_j^(p/2), its gradient and MM weights.

S may be a dense array or any operator with ``S @ v`` (e.g. :class:`glopt.kernels.Correlation`),
so none of these functions needs S in memory.

p = 2 is convex for PSD, entrywise nonnegative S. p = 1 is *not* convex when S has a positive
off-diagonal entry (sqrt(xi_i xi_j) is concave on the nonnegative orthant; docs/mathematics.md §2); it is
solved by majorization-minimization with the weights of :func:`mm_weights`.
"""
from __future__ import annotations

import numpy as np

from ._checks import as_float_array, choice, positive_scalar


def _slack(xi, S) -> np.ndarray:
    xi = as_float_array(xi, "xi", ndim=1)
    if not hasattr(S, "shape") or not hasattr(S, "__matmul__"):
        raise TypeError(f"S must be an array or an operator with .shape and @, got {type(S).__name__}")
    if np.any(xi < 0):
        raise ValueError("xi must be nonnegative (slacks)")
    if S.shape != (xi.size, xi.size):
        raise ValueError(f"S has shape {S.shape} but xi has {xi.size} entries")
    return xi


def generalized_loss(xi, S, p: int = 1, eps: float = 0.0) -> float:
    """L_{S,p}(xi) = e^T S e with e = (xi + eps)^(p/2).

    ``eps`` > 0 gives the smoothed loss of the MM scheme (docs/mathematics.md §3); eps = 0 the exact one.
    """
    choice(p, "p", (1, 2))
    xi = _slack(xi, S)
    e = (xi + positive_scalar(eps, "eps", allow_zero=True)) ** (p / 2)
    return float(e @ (S @ e))


def generalized_loss_grad(xi, S, p: int = 1, eps: float = 0.0) -> np.ndarray:
    """Gradient of :func:`generalized_loss` in xi.

    p = 2: 2 S xi.  p = 1: (S e)_i / e_i with e = sqrt(xi + eps); infinite where xi_i + eps = 0,
    which is why the MM scheme smooths with eps > 0.
    """
    choice(p, "p", (1, 2))
    xi = _slack(xi, S)
    eps = positive_scalar(eps, "eps", allow_zero=True)
    if p == 2:
        z = xi + eps
        return 2.0 * (S @ z)
    e = np.sqrt(xi + eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = (S @ e) / e
    return np.where(e > 0, g, np.inf)


def mm_weights(xi, S, eps: float = 1e-4) -> np.ndarray:
    """Relative MM weights w_i = S_ii + sum_{j != i} S_ij sqrt((xi_j + eps) / (xi_i + eps)).

    The per-sample dual upper bounds of the next weighted-SVM step are ``C * w`` (docs/mathematics.md §3):
    the slope of the concave p = 1 loss at the current slacks, so the weighted hinge majorizes it.
    """
    eps = positive_scalar(eps, "eps")
    xi = _slack(xi, S)
    e = np.sqrt(xi + eps)
    return (S @ e) / e
