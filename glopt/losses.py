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

    Parameters
    ----------
    xi : array_like, shape (n,)
        Nonnegative slacks.
    S : ndarray or operator with ``@``, shape (n, n)
        The correlation matrix.
    p : {1, 2}, default 1
        Order of the loss.
    eps : float >= 0, default 0.0
        Smoothing added to the slacks; 0 gives the exact loss.

    Returns
    -------
    float
        The loss value e^T S e.
    """
    choice(p, "p", (1, 2))
    xi = _slack(xi, S)
    e = (xi + positive_scalar(eps, "eps", allow_zero=True)) ** (p / 2)
    return float(e @ (S @ e))


def generalized_loss_grad(xi, S, p: int = 1, eps: float = 0.0) -> np.ndarray:
    """Gradient of :func:`generalized_loss` in xi.

    p = 2: 2 S xi.  p = 1: (S e)_i / e_i with e = sqrt(xi + eps); infinite where xi_i + eps = 0,
    which is why the MM scheme smooths with eps > 0.

    Parameters
    ----------
    xi : array_like, shape (n,)
        Nonnegative slacks.
    S : ndarray or operator with ``@``, shape (n, n)
        The correlation matrix.
    p : {1, 2}, default 1
        Order of the loss.
    eps : float >= 0, default 0.0
        Smoothing added to the slacks; 0 gives the gradient of the exact loss.

    Returns
    -------
    ndarray, shape (n,)
        The gradient in xi (p = 2: 2 S (xi + eps); p = 1: (S e)_i / e_i, inf where e_i = 0).
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


def mm_weights(xi, S, eps: float = 1e-4, sample_weight=None, diagonal=None) -> np.ndarray:
    """Relative MM weights: the slope (Sw e)_i / e_i of the smoothed p = 1 loss, e = sqrt(xi + eps).

    With Sw = D S D, D = diag(sqrt(sample_weight)), that is

        w_i = sw_i S_ii + sum_{j != i} sqrt(sw_i sw_j) S_ij sqrt((xi_j + eps) / (xi_i + eps)),

    and the per-sample dual upper bounds of the next weighted-SVM step are ``C * w``
    (docs/mathematics.md §3): the tangent of the concave p = 1 loss at the current slacks, so the
    weighted hinge majorizes it.

    Parameters
    ----------
    xi : array_like, shape (n,)
        Nonnegative slacks.
    S : ndarray or operator with ``@``, shape (n, n)
        The correlation matrix; with ``diagonal`` given, its off-diagonal part (zero diagonal).
    eps : float > 0, default 1e-4
        Smoothing of the square roots.
    sample_weight : array_like, shape (n,), optional
        Per-sample weights (the D of Sw); None means ones.
    diagonal : array_like, shape (n,), optional
        S's diagonal when ``S`` is given without it. The diagonal term sw_i S_ii is then added
        apart, so S = I gives exactly the constant weights ``sample_weight`` (the ratio
        sw_i e_i / e_i may differ from sw_i by an ulp, and an ulp of bound movement is enough to
        stall an SMO whose variables sit at their bounds).

    Returns
    -------
    ndarray, shape (n,)
        The weights w_i; the next weighted-SVM step has the upper bounds ``C * w``.
    """
    eps = positive_scalar(eps, "eps")
    xi = _slack(xi, S)
    e = np.sqrt(xi + eps)
    sw = np.ones(xi.size) if sample_weight is None else as_float_array(sample_weight, "sample_weight", ndim=1)
    sqrt_sw = np.sqrt(sw)
    off = sqrt_sw * (S @ (sqrt_sw * e)) / e
    if diagonal is None:
        return off
    return sw * as_float_array(diagonal, "diagonal", ndim=1) + off
