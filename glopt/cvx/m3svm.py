"""Exact M3SVM reference: the multi-class problem of :mod:`glopt.multiclass.objective` in cvxpy.

    min_{W, b}  sum_i v_i ell_i(W, b) + alpha * sum_{k<l} ||w_k - w_l||_2^p
    s.t.        sum_k w_k = 0,  sum_k b_k = 0          (centring: fixes the flat translation)

v = sample_weight / sum(sample_weight). ell_i is the sum over k != y_i of the true hinge
pos(U_ik) (``cp.pos``), of the smoothed hinge (U_ik + ||(U_ik, delta)||_2) / 2 (convex: a norm
plus an affine term), or the softmax cross-entropy log_sum_exp(F_i) - F_{i y_i} (exponential
cone); U_ik = 1 - (F_{i y_i} - F_ik), F = X W^T + 1 b^T (F = X W^T and no b without an
intercept). X is dense: the cone program is for small problems and checking, so a sparse X is
converted to a dense array here. The p-th powers are
``cp.power(cp.norm(...), p)``: power with p >= 1 is convex and increasing on the nonnegative
norms, so the composition is DCP (p = 1: the norms themselves). Clarabel solves it.
Certificate: Clarabel's status (anything but optimal raises
:class:`~glopt.cvx.reference.ReferenceSolveError`) and the optimal value, recomputed in numpy at
the returned solution.

At the tight gap / feasibility tolerances of CLARABEL_DEFAULTS these cone programs often end
"optimal_inaccurate" with values already right to ~1e-12, so :func:`solve_m3svm_reference`
tries the gap / feasibility tolerances of TOLERANCE_LADDER in turn and returns the first
*optimal* answer, with the tolerance met.
"""
from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from ..multiclass.objective import m3svm_objective, pair_incidence
from .reference import CLARABEL_DEFAULTS, ReferenceSolveError, _solve

#: Clarabel gap / feasibility tolerances tried in turn, tightest first (module docstring).
TOLERANCE_LADDER = (1e-9, 1e-8, 1e-7)


@dataclass
class M3SVMReferenceResult:
    """The exact solution of an M3SVM problem and its certificate.

    Parameters
    ----------
    coef : ndarray of shape (n_classes, n_features)
        Class weight vectors W, centred (the rows sum to 0).
    intercept : ndarray of shape (n_classes,)
        Class intercepts b, centred (they sum to 0); zeros without an intercept.
    objective : float
        J at (coef, intercept), recomputed in numpy (:func:`glopt.multiclass.m3svm_objective`).
    solver_objective : float
        Clarabel's optimal value of the same problem.
    status : str
        Clarabel's status as cvxpy reports it ("optimal").
    n_iter : int
        Clarabel's iterations in the accepted solve.
    solve_time : float
        Seconds over all attempts of the tolerance ladder.
    tol : float
        The Clarabel gap / feasibility tolerance met.
    """

    coef: np.ndarray
    intercept: np.ndarray
    objective: float
    solver_objective: float
    status: str
    n_iter: int
    solve_time: float
    tol: float


def _data_term(F, Y, v, loss, delta):
    """sum_i v_i ell_i as a cvxpy expression of the scores F (n, k); Y (n, k) one-hot labels."""
    n, n_classes = Y.shape
    fy = cp.sum(cp.multiply(F, Y), axis=1)
    if loss == "logistic":
        return v @ (cp.log_sum_exp(F, axis=1) - fy)
    U = 1 + F - cp.reshape(fy, (n, 1), order="F") @ np.ones((1, n_classes))
    M = (1.0 - Y) * v[:, None]        # weight v_i on the pairs k != y_i, 0 on k = y_i
    if loss == "hinge":
        return cp.sum(cp.multiply(M, cp.pos(U)))
    if loss == "smooth_hinge":
        u = cp.vec(U, order="F")
        r = cp.norm(cp.vstack([cp.reshape(u, (1, n * n_classes), order="F"),
                               np.full((1, n * n_classes), float(delta))]), 2, axis=0)
        return 0.5 * (M.ravel(order="F") @ (u + r))
    raise ValueError(f"loss must be 'hinge', 'smooth_hinge' or 'logistic', got {loss!r}")


def _dense(X):
    """X as a float64 array; scipy.sparse input is densified (module docstring)."""
    if sp.issparse(X):
        return X.toarray().astype(np.float64, copy=False)
    return np.asarray(X, dtype=np.float64)


def m3svm_problem(X, y, n_classes, *, alpha, p, loss="hinge", delta=0.1, sample_weight=None,
                  fit_intercept=True):
    """The M3SVM problem in cvxpy (module docstring), with the centring constraints.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
        Inputs.
    y : array_like of shape (n_samples,)
        Class indices 0 .. n_classes - 1.
    n_classes : int
        Number of classes k (>= 2).
    alpha : float
        Weight of the margin regularizer, >= 0.
    p : float
        Power of the pairwise norms, >= 1.
    loss : {'hinge', 'smooth_hinge', 'logistic'}, default='hinge'
        The per-sample loss: the exact hinge, its smoothing h_delta, or softmax cross-entropy.
    delta : float, default=0.1
        Smoothing of 'smooth_hinge', > 0 (unused by the other losses).
    sample_weight : array_like of shape (n_samples,), default=None
        Nonnegative weights with a positive sum (None: all 1); the loss term is their weighted
        mean. Rows of weight 0 are left out of the problem.
    fit_intercept : bool, default=True
        With class intercepts b; False fixes b = 0.

    Returns
    -------
    problem : cvxpy.Problem
        The convex (DCP) problem.
    W : cvxpy.Variable of shape (n_classes, n_features)
        The class weight vectors.
    b : cvxpy.Variable of shape (n_classes,) or None
        The class intercepts; None without an intercept.

    Raises
    ------
    ValueError
        If ``loss`` is not one of the three losses.
    """
    X = _dense(X)
    y = np.asarray(y, dtype=np.intp)
    n, d = X.shape
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    v = sw / sw.sum()
    keep = v > 0                     # zero-weight rows add nothing; leaving them out shrinks the cone
    X, y, v = X[keep], y[keep], v[keep]
    n = X.shape[0]
    Y = np.zeros((n, n_classes))
    Y[np.arange(n), y] = 1.0
    W = cp.Variable((n_classes, d))
    b = cp.Variable(n_classes) if fit_intercept else None
    F = X @ W.T
    if fit_intercept:
        F = F + np.ones((n, 1)) @ cp.reshape(b, (1, n_classes), order="F")
    data_term = _data_term(F, Y, v, loss, delta)
    norms = cp.norm(pair_incidence(n_classes) @ W, 2, axis=1)
    reg = cp.sum(norms) if p == 1 else cp.sum(cp.power(norms, p))
    cons = [cp.sum(W, axis=0) == 0] + ([cp.sum(b) == 0] if fit_intercept else [])
    return cp.Problem(cp.Minimize(data_term + alpha * reg), cons), W, b


def solve_m3svm_reference(X, y, n_classes, *, alpha, p, loss="hinge", delta=0.1, sample_weight=None,
                          fit_intercept=True, **solver_options) -> M3SVMReferenceResult:
    """Solve the M3SVM problem exactly by Clarabel (tolerance ladder, module docstring).

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
        Inputs.
    y : array_like of shape (n_samples,)
        Class indices 0 .. n_classes - 1.
    n_classes : int
        Number of classes k (>= 2).
    alpha : float
        Weight of the margin regularizer, >= 0.
    p : float
        Power of the pairwise norms, >= 1.
    loss : {'hinge', 'smooth_hinge', 'logistic'}, default='hinge'
        The per-sample loss: the exact hinge, its smoothing h_delta, or softmax cross-entropy.
    delta : float, default=0.1
        Smoothing of 'smooth_hinge', > 0 (unused by the other losses).
    sample_weight : array_like of shape (n_samples,), default=None
        Nonnegative weights with a positive sum (None: all 1); the loss term is their weighted
        mean.
    fit_intercept : bool, default=True
        With class intercepts b; False fixes b = 0 (the result's intercept is then zeros).
    **solver_options
        Clarabel settings over ``CLARABEL_DEFAULTS``; a given tol_gap_abs, tol_gap_rel or
        tol_feas replaces the tolerance ladder by that single solve.

    Returns
    -------
    result : M3SVMReferenceResult
        The centred solution, J recomputed in numpy, Clarabel's value, status and iterations,
        the time and the tolerance met.

    Raises
    ------
    ReferenceSolveError
        If no attempt ends with the status optimal.
    """
    X = _dense(X)
    prob, W, b = m3svm_problem(X, y, n_classes, alpha=alpha, p=p, loss=loss, delta=delta,
                               sample_weight=sample_weight, fit_intercept=fit_intercept)
    keys = ("tol_gap_abs", "tol_gap_rel", "tol_feas")
    ladder = [None] if any(k in solver_options for k in keys) else TOLERANCE_LADDER
    t, tol = 0.0, None
    for i, tol in enumerate(ladder):
        opts = {**CLARABEL_DEFAULTS, **({} if tol is None else dict.fromkeys(keys, tol)), **solver_options}
        try:
            t += _solve(prob, "M3SVM problem", opts)
            break
        except ReferenceSolveError:
            if i == len(ladder) - 1:
                raise
    tol = tol if tol is not None else max(opts[k] for k in keys)
    coef = np.asarray(W.value, float)
    intercept = np.asarray(b.value, float) if fit_intercept else np.zeros(n_classes)
    objective = m3svm_objective(coef, intercept, X, y, alpha=alpha, p=p, loss=loss, delta=delta,
                                sample_weight=sample_weight)
    return M3SVMReferenceResult(coef=coef, intercept=intercept, objective=float(objective),
                                solver_objective=float(prob.value), status=prob.status,
                                n_iter=int(prob.solver_stats.num_iters or 0), solve_time=t, tol=float(tol))
