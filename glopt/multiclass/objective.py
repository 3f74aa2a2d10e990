"""The M3SVM objective: losses, margin regularizer, their derivatives (Nie, Hao, Wang, AAAI 2024).

The problem (glopt's statement; the choices are explained in :class:`glopt.multiclass.M3SVM`)::

    J(W, b) = (1 / sum_i s_i) sum_i s_i ell_i(W, b)  +  alpha * sum_{k<l} ||w_k - w_l||_2^p

    ell_i = sum_{k != y_i} h(1 - (w_{y_i} - w_k)^T x_i - (b_{y_i} - b_k))     (hinge losses)
    ell_i = log sum_k exp(w_k^T x_i + b_k) - (w_{y_i}^T x_i + b_{y_i})          (ISM3, logistic)

with h the hinge max(0, u) or its smoothing h_delta(u) = (u + sqrt(u^2 + delta^2)) / 2, s_i the
sample weights, and W (n_classes, n_features) the class weight vectors (rows w_k). Without an
intercept, b = 0.

The same problem in scikit-learn's C form (LinearSVC, LogisticRegression): multiplying J by
k C sum_i s_i (k = n_classes) gives::

    C sum_i s_i ell_i(W, b)  +  (1 / k) sum_{k<l} ||w_k - w_l||_2^p,    alpha = 1 / (k C sum_i s_i)

(:func:`alpha_from_C`), the same minimizers. For centred W and p = 2 the regularizer is
||W||_F^2; for two classes it is ||w||^p / 2 with w = w_1 - w_0, so the binary problem at p = 2
is LinearSVC's C sum_i s_i h(1 - y_i (w^T x_i + b)) + ||w||^2 / 2 (the intercept unpenalized)
and, with the logistic loss, LogisticRegression's.

J is unchanged by a common translation (w_k -> w_k + v, b_k -> b_k + t for every k), a flat
direction of the problem. glopt fixes it by centring: the minimized function is
J + (tau / 2) (||sum_k w_k||^2 + (sum_k b_k)^2); since J is translation invariant, every minimizer
of J can be translated to a centred one at no cost, so the penalty vanishes at the solution and
changes neither the optimal value nor the predictions: it only selects the centred minimizer
(sum_k w_k = 0, sum_k b_k = 0). The exact reference (:mod:`glopt.cvx.m3svm`) imposes the same
centring as equality constraints.

Everything is vectorized over classes and class pairs: the pair differences are one matrix
product with the pair incidence matrix E (rows e_k - e_l), never a Python loop over pairs. This
module holds the mathematics only; :mod:`glopt.multiclass.solver` minimizes it and
:mod:`glopt.cvx.m3svm` states it in cvxpy.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp, softmax

from .._checks import positive_int, positive_scalar

#: The per-sample losses ell_i: the smoothed hinge h_delta, the exact hinge, softmax cross-entropy.
LOSSES = ("smooth_hinge", "hinge", "logistic")

#: weight tau of the centring penalty (tau/2)(||sum_k w_k||^2 + (sum_k b_k)^2). It vanishes at every
#: solution (J is translation invariant), so its size changes no answer; 1 keeps the curvature of
#: the flat directions on the scale of the averaged loss.
TRANSLATION_PENALTY = 1.0


def alpha_from_C(C, n_classes, total_weight):
    """The regularizer weight alpha of J that the C form of the problem corresponds to.

    C sum_i s_i ell_i + (1 / k) sum_{k<l} ||w_k - w_l||^p is k C sum_i s_i times J with
    alpha = 1 / (k C sum_i s_i) (module docstring), so both have the same minimizers.

    Parameters
    ----------
    C : float
        Weight of the summed loss, finite and > 0 (scikit-learn's C).
    n_classes : int
        Number of classes k (>= 2).
    total_weight : float
        sum_i s_i, the sum of the sample weights (times the class weights), > 0; n for unit
        weights.

    Returns
    -------
    alpha : float
        1 / (n_classes * C * total_weight).

    Raises
    ------
    ValueError
        If C or total_weight is not finite and > 0, or n_classes < 2.
    """
    C = positive_scalar(C, "C")
    total_weight = positive_scalar(total_weight, "total_weight")
    n_classes = positive_int(n_classes, "n_classes", low=2)
    return 1.0 / (n_classes * C * total_weight)


def as_design_matrix(X):
    """X as the solvers use it: a C-contiguous float64 array, or CSR float64 if it is sparse.

    Parameters
    ----------
    X : array_like or scipy.sparse matrix of shape (n_samples, n_features)
        Inputs; sparse input of any format stays sparse (converted to CSR, whose row products
        X @ W are what the objective needs), never densified.

    Returns
    -------
    X : ndarray or scipy.sparse.csr_matrix of shape (n_samples, n_features)
        The same numbers in float64.
    """
    if sp.issparse(X):
        return sp.csr_matrix(X, dtype=np.float64)
    return np.ascontiguousarray(X, dtype=np.float64)


def _xt_dot(X, G):
    """X^T G, shape (n_features, G.shape[1]), for dense or CSR X (never densifies X)."""
    if sp.issparse(X):
        return np.asarray(X.T @ G)
    return X.T @ G


def pair_incidence(n_classes: int) -> np.ndarray:
    """Pair incidence matrix E of the classes: one row e_k - e_l per pair k < l.

    Parameters
    ----------
    n_classes : int
        Number of classes k (>= 1).

    Returns
    -------
    E : ndarray of shape (n_classes * (n_classes - 1) // 2, n_classes)
        Row q is e_k - e_l for the q-th pair (k, l), k < l, in the row-major order of the upper
        triangle (``np.triu_indices(n_classes, 1)``); ``E @ W`` holds the differences w_k - w_l.
    """
    rows, cols = np.triu_indices(n_classes, 1)
    E = np.zeros((rows.size, n_classes))
    E[np.arange(rows.size), rows] = 1.0
    E[np.arange(rows.size), cols] = -1.0
    return E


def smooth_hinge(u, delta, derivative=False):
    """Smoothed hinge h_delta(u) = (u + sqrt(u^2 + delta^2)) / 2, evaluated without cancellation.

    Written as h = max(u, 0) + delta^2 / (2 (r + abs(u))), r = sqrt(u^2 + delta^2) (the same
    number: (u + r) / 2 - max(u, 0) = (r - abs(u)) / 2 = delta^2 / (2 (r + abs(u)))), which
    never subtracts nearly equal numbers, so h has full relative accuracy at every u and every
    delta (the direct formula loses all digits for u << -delta).

    Parameters
    ----------
    u : array_like
        Margins, any shape (converted to float64).
    delta : float
        Smoothing width, > 0 (margin units).
    derivative : bool, default=False
        Also return the derivative h'_delta(u).

    Returns
    -------
    h : ndarray of the shape of ``u``
        h_delta(u), > max(u, 0) and <= max(u, 0) + delta / 2.
    dh : ndarray of the shape of ``u``
        h'_delta(u) in (0, 1), computed as 1 - q (u >= 0) or q (u < 0) with
        q = delta^2 / (2 r (r + abs(u))); returned only when ``derivative`` is True.
    """
    u = np.asarray(u, dtype=np.float64)
    a = np.abs(u)
    r = np.sqrt(u * u + delta * delta)      # 6x faster than np.hypot on small arrays
    if not np.all(np.isfinite(r)):          # |u| > 1e154: u * u overflowed
        r = np.hypot(u, delta)
    q = delta * delta / (2.0 * (r + a))
    h = np.maximum(u, 0.0) + q
    if not derivative:
        return h
    q /= r
    return h, np.where(u >= 0, 1.0 - q, q)


def _loss_and_grad(F, y, v, loss, delta, grad=True):
    """Weighted loss sum_i v_i ell_i and its gradient G = d/dF (n, k) for decision values F (n, k).

    ``grad=False`` returns (value, None); the hinge has no gradient and refuses ``grad=True``.
    """
    n, k = F.shape
    rows = np.arange(n)
    fy = F[rows, y]
    if loss == "logistic":
        lse = logsumexp(F, axis=1)
        value = float(v @ (lse - fy))
        if not grad:
            return value, None
        G = softmax(F, axis=1)
        G[rows, y] -= 1.0
        return value, G * v[:, None]
    U = 1.0 + F - fy[:, None]          # U_ik = 1 - (f_{y_i} - f_k); the entry k = y_i is dropped
    if loss == "hinge":
        if grad:
            raise ValueError("the hinge loss is not differentiable: use solver='cvx'")
        H = np.maximum(U, 0.0)
        H[rows, y] = 0.0
        return float(v @ H.sum(axis=1)), None
    if not grad:
        H = smooth_hinge(U, delta)
        H[rows, y] = 0.0
        return float(v @ H.sum(axis=1)), None
    H, G = smooth_hinge(U, delta, derivative=True)
    H[rows, y] = 0.0
    G[rows, y] = 0.0
    value = float(v @ H.sum(axis=1))
    G *= v[:, None]                     # d ell / d f_k = h'(U_ik) for k != y_i
    G[rows, y] = -G.sum(axis=1)         # d ell / d f_{y_i} = -sum_{k != y_i} h'(U_ik)
    return value, G


def _regularizer(W, p, E, grad=True):
    """sum_{k<l} ||w_k - w_l||^p and its gradient (or None), over all pairs at once (D = E W)."""
    D = E @ W
    N = np.sqrt(np.einsum("ij,ij->i", D, D))
    value = float(np.sum(N ** p))
    if not grad:
        return value, None
    # d ||d||^p / d d = p ||d||^(p-1) d / ||d||. At d = 0 (w_k = w_l) the norm has no gradient for
    # p < 2 (p = 1: a kink, p in (1, 2): the formula divides by zero); the limit, and for p = 1 the
    # minimal-norm subgradient, is 0, which the guard returns.
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = np.where(N > 0, p * N ** (p - 1) / N, 0.0)
    return value, E.T @ (coef[:, None] * D)


def m3svm_objective(coef, intercept, X, y, *, alpha, p, loss="smooth_hinge", delta=0.1,
                    sample_weight=None, return_grad=False):
    """The M3SVM objective J(W, b) (module docstring), without the centring penalty.

    Parameters
    ----------
    coef : array_like of shape (n_classes, n_features)
        Class weight vectors W (rows w_k).
    intercept : array_like of shape (n_classes,)
        Class intercepts b.
    X : array_like or scipy.sparse matrix of shape (n_samples, n_features)
        Inputs (sparse stays sparse).
    y : array_like of shape (n_samples,)
        Class indices 0 .. n_classes - 1.
    alpha : float
        Weight of the margin regularizer, >= 0 (:func:`alpha_from_C` converts a C).
    p : float
        Power of the pairwise norms, >= 1.
    loss : {'smooth_hinge', 'hinge', 'logistic'}, default='smooth_hinge'
        The per-sample loss ell_i (as in :class:`glopt.multiclass.M3SVM`).
    delta : float, default=0.1
        Smoothing of 'smooth_hinge', > 0 (unused by the other losses).
    sample_weight : array_like of shape (n_samples,), default=None
        Nonnegative weights s_i with a positive sum; the loss term is their weighted mean
        (None: all 1).
    return_grad : bool, default=False
        Also return the gradient (not available for loss='hinge').

    Returns
    -------
    value : float
        J(W, b).
    grad_coef : ndarray of shape (n_classes, n_features)
        dJ / dW; returned only when ``return_grad`` is True.
    grad_intercept : ndarray of shape (n_classes,)
        dJ / db; returned only when ``return_grad`` is True.

    Raises
    ------
    ValueError
        If ``return_grad`` is True with loss='hinge' (not differentiable).
    """
    W = np.asarray(coef, dtype=np.float64)
    b = np.asarray(intercept, dtype=np.float64)
    X = as_design_matrix(X)
    y = np.asarray(y, dtype=np.intp)
    sw = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    v = sw / sw.sum()
    F = np.asarray(X @ W.T) + b
    L, G = _loss_and_grad(F, y, v, loss, delta, grad=return_grad)
    R, gR = _regularizer(W, p, pair_incidence(W.shape[0]), grad=return_grad)
    value = L + alpha * R
    if not return_grad:
        return value
    return value, _xt_dot(X, G).T + alpha * gR, G.sum(axis=0)


def _loss_hessian_blocks(F, y, v, loss, delta):
    """Per-sample Hessians v_i d^2 ell_i / dF_i^2 of the smooth losses, shape (n, k, k)."""
    n, k = F.shape
    rows = np.arange(n)
    if loss == "logistic":
        S = softmax(F, axis=1)
        H = -S[:, :, None] * S[:, None, :]
        H[:, np.arange(k), np.arange(k)] += S
        return H * v[:, None, None]
    # ell_i = sum_{k != y} h(U_k), dU_k/dF = e_k - e_y: H_i = sum_k h''(U_k) (e_k - e_y)(e_k - e_y)^T
    U = 1.0 + F - F[rows, y][:, None]
    r = np.hypot(U, delta)
    a = delta * delta / (2.0 * r ** 3) * v[:, None]      # h''(u) = delta^2 / (2 (u^2 + delta^2)^1.5)
    a[rows, y] = 0.0
    H = np.zeros((n, k, k))
    H[:, np.arange(k), np.arange(k)] = a
    H[rows, y, :] -= a
    H[rows, :, y] -= a
    H[rows, y, y] += a.sum(axis=1)
    return H


def _regularizer_hessian(W, p, E):
    """Hessian of sum_{k<l} ||w_k - w_l||^p in W, shape (k, d, k, d); None where it does not exist.

    For p < 2, ||d||^p has no Hessian at d = 0, so two coinciding class vectors (to 1e-8 of the
    largest difference) give None.
    """
    k, d = W.shape
    Dw = E @ W
    N = np.sqrt(np.einsum("ij,ij->i", Dw, Dw))
    if p < 2 and np.any(N <= 1e-8 * max(1.0, N.max(initial=0.0))):
        return None
    # d^2 ||d||^p = p N^(p-2) I + p (p-2) N^(p-4) d d^T, d = (E W)_q
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(N > 0, p * N ** (p - 2), 2.0 if p == 2 else 0.0)
        c = np.where(N > 0, p * (p - 2) * N ** (p - 4), 0.0)
    HW = np.kron(E.T @ (a[:, None] * E), np.eye(d)).reshape(k, d, k, d)
    Z = (E[:, :, None] * Dw[:, None, :]).reshape(len(N), k * d)
    HW += (Z.T @ (c[:, None] * Z)).reshape(k, d, k, d)
    return HW
