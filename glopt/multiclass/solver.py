"""The production M3SVM solver: L-BFGS-B, then damped Newton steps with the exact Hessian.

scipy's L-BFGS-B minimizes the smooth objective of :mod:`glopt.multiclass.objective` (plus the
centring penalty) with the analytic gradient; when the Hessian is small
(m = n_classes * (n_features + 1) <= 500; one Hessian costs about m / 2 gradient evaluations),
damped Newton steps with the exact Hessian follow. L-BFGS-B's line search compares function
values and so cannot resolve the optimum much below abs(J) * machine epsilon, which on weakly
regularized problems leaves the *solution* wrong in the 6th digit; the Newton polish takes it to
the rounding floor (scikit-learn's sample-weight equivalence check needs decision values equal
to 1e-7).

Sparse X (scipy.sparse, kept in CSR) is never densified: the scores are the sparse product
X~ Theta^T and the gradient X~^T G, with X~ = [X | 1] (a sparse column of ones added for the
intercept). Only the Newton polish, which runs on small m alone, reads X~ as dense blocks of
rows, of bounded size.
"""
from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize

from .objective import (TRANSLATION_PENALTY, _loss_and_grad, _loss_hessian_blocks, _regularizer,
                        _regularizer_hessian, _xt_dot, as_design_matrix, pair_incidence)

#: L-BFGS-B's gradient tolerance before the Newton polish takes over (see solve_lbfgs): the
#: quadratically convergent Newton steps reach the same optimum in a few steps from there, where
#: L-BFGS-B alone would spend most of its iterations on the last digits.
LBFGS_HANDOVER = 1e-3

#: Below this many entries in X times classes, BLAS runs single-threaded during a fit: the matrices
#: are small and thread start-up / contention costs more than it saves.
SINGLE_THREAD_BELOW = 4_000_000


class _Problem:
    """The minimized function J + centring penalty, on theta = vec(Theta).

    Theta = [W | b] (k, d+1) with an intercept, Theta = W (k, d) without (b = 0). X is a dense
    array or CSR; with an intercept it is augmented to X~ = [X | 1] once, so that the scores are
    one product X~ Theta^T.
    """

    def __init__(self, X, y, v, n_classes, alpha, p, loss, delta, tau=TRANSLATION_PENALTY,
                 fit_intercept=True):
        self.fit_intercept = bool(fit_intercept)
        if not self.fit_intercept:
            self.Xt = X
        elif sp.issparse(X):
            self.Xt = sp.hstack([X, np.ones((X.shape[0], 1))], format="csr")
        else:
            self.Xt = np.hstack([X, np.ones((X.shape[0], 1))])   # x~_i = (x_i, 1): F = Xt Theta^T
        self.y, self.v = y, v
        self.k, self.d = n_classes, X.shape[1]
        self.D = self.d + self.fit_intercept                       # columns of Theta
        self.alpha, self.p, self.loss, self.delta, self.tau = alpha, p, loss, delta, tau
        self.E = pair_incidence(n_classes)
        self.n_eval = 0

    def pack(self, W, b):
        """theta from W (k, d) and b (k,) (b is dropped without an intercept)."""
        T = np.hstack([W, np.reshape(b, (-1, 1))]) if self.fit_intercept else np.array(W, dtype=float)
        return np.ascontiguousarray(T, dtype=np.float64).ravel()

    def unpack(self, theta):
        """(W (k, d), b (k,)): views of theta; b is zeros without an intercept."""
        T = theta.reshape(self.k, self.D)
        return T[:, :self.d], (T[:, -1] if self.fit_intercept else np.zeros(self.k))

    def scores(self, T):
        """F = X~ Theta^T, shape (n, k), dense."""
        return np.asarray(self.Xt @ T.T)

    def objective(self, theta):
        """J(W, b) alone (the reported objective)."""
        T = theta.reshape(self.k, self.D)
        L, _ = _loss_and_grad(self.scores(T), self.y, self.v, self.loss, self.delta, grad=False)
        return L + self.alpha * _regularizer(T[:, :self.d], self.p, self.E, grad=False)[0]

    def __call__(self, theta):
        """The minimized function and its gradient (m,), m = k D, counted in ``n_eval``."""
        self.n_eval += 1
        T = theta.reshape(self.k, self.D)
        L, G = _loss_and_grad(self.scores(T), self.y, self.v, self.loss, self.delta)
        R, gR = _regularizer(T[:, :self.d], self.p, self.E)
        s = T.sum(axis=0)                           # the translation: sum_k (w_k, b_k)
        value = L + self.alpha * R + 0.5 * self.tau * (s @ s)
        g = _xt_dot(self.Xt, G).T + self.tau * s[None, :]
        g[:, :self.d] += self.alpha * gR
        return value, g.ravel()

    def _loss_hessian(self, T, max_entries):
        """Hessian of the data term in Theta, shape (k, D, k, D), built in row blocks."""
        k, D = self.k, self.D
        Hf = _loss_hessian_blocks(self.scores(T), self.y, self.v, self.loss, self.delta).reshape(-1, k * k)
        G = np.zeros((D, k * k * D))
        step = max(1, max_entries // (k * k * D))      # rows per block: bounded memory
        sparse = sp.issparse(self.Xt)
        for lo in range(0, self.Xt.shape[0], step):
            Xb = self.Xt[lo:lo + step]
            if sparse:                                 # one block of rows at a time, never all of X
                Xb = Xb.toarray()
            # G[j, (k, l, m)] = sum_i x~_ij Hf_i[k, l] x~_im: one matrix product per block (BLAS;
            # np.einsum did this 30x slower)
            G += Xb.T @ (Hf[lo:lo + step, :, None] * Xb[:, None, :]).reshape(Xb.shape[0], -1)
        return np.ascontiguousarray(G.reshape(D, k, k, D).transpose(1, 0, 2, 3))   # (k, j, l, m)

    def hessian(self, theta, max_entries=4_000_000):
        """Exact Hessian (m, m), m = k D; None where it does not exist (p < 2 at w_k = w_l)."""
        k, D, d = self.k, self.D, self.d
        T = theta.reshape(k, D)
        HW = _regularizer_hessian(T[:, :d], self.p, self.E)
        if HW is None:
            return None
        H = self._loss_hessian(T, max_entries)
        H[:, :d, :, :d] += self.alpha * HW
        H = H.reshape(k * D, k * D)
        H += self.tau * np.kron(np.ones((k, k)), np.eye(D))
        return H


def _damped_step(prob, theta, value, gnorm, step, slope):
    """The first of theta + t step, t = 1, 1/2, 1/4, 1/8, that is accepted, or None.

    Accepted: f decreases by the Armijo rule (f convex, the Newton direction descends) or, once f
    is at its rounding floor, max |gradient| shrinks and f does not rise beyond rounding.
    Returns (theta, value, gradient, max |gradient|) at the accepted point.
    """
    for t in (1.0, 0.5, 0.25, 0.125):
        cand = theta + t * step
        v2, g2 = prob(cand)
        g2norm = np.max(np.abs(g2))
        armijo = v2 <= value + 1e-4 * t * slope
        floor = g2norm < gnorm and v2 <= value + 1e-12 * abs(value)
        if armijo or floor:
            return cand, v2, g2, g2norm
    return None


def _newton_polish(prob, theta, value, grad, max_steps=20, target=0.0):
    """Damped Newton steps from an L-BFGS answer while they make progress (at most ``max_steps``).

    L-BFGS-B's line search compares function values, so it cannot resolve the optimum better than
    |f| * machine epsilon in f, i.e. gradient ~ sqrt(eps * |f| * curvature); where the curvature
    is small (weak regularization, far-out margins) the solution is then only good to ~1e-5.
    Newton steps with the exact Hessian converge quadratically to the rounding floor. Each step is
    damped by :func:`_damped_step`. Stops when no step is accepted, the Hessian does not exist
    (p < 2 at w_k = w_l) or is singular, or max |gradient| <= ``target``. Returns
    (theta, value, gradient, number of steps taken).
    """
    steps = 0
    gnorm = np.max(np.abs(grad))
    while steps < max_steps and gnorm > target:
        H = prob.hessian(theta)
        if H is None:
            break
        try:
            step = np.linalg.solve(H, -grad)
        except np.linalg.LinAlgError:
            break
        slope = float(grad @ step)
        if not (np.all(np.isfinite(step)) and slope < 0):
            break
        accepted = _damped_step(prob, theta, value, gnorm, step, slope)
        if accepted is None:
            break
        theta, value, grad, gnorm = accepted
        steps += 1
    return theta, value, grad, steps


def _lbfgs(prob, theta0, gtol, max_iter):
    """scipy's L-BFGS-B from theta0 to max |gradient| <= gtol or ``max_iter`` iterations."""
    # Stop on the gradient only: ftol at machine precision, so that L-BFGS-B's relative decrease
    # test, which fires early on slow stretches, does not end the run first.
    return minimize(prob, theta0, jac=True, method="L-BFGS-B",
                    options=dict(maxiter=max_iter, maxfun=2 * max_iter + 20, gtol=gtol,
                                 ftol=np.finfo(float).eps, maxcor=30))


def _minimize(prob, theta, tol, max_iter, use_newton):
    """L-BFGS-B, polished by Newton steps where ``use_newton``, resumed once if still above ``tol``.

    Returns (theta, gradient, last scipy result, L-BFGS iterations, Newton steps).
    """
    n_iter = n_newton = 0
    gtols = [max(tol, LBFGS_HANDOVER), tol] if use_newton and tol < LBFGS_HANDOVER else [tol]
    for gtol in gtols:
        res = _lbfgs(prob, theta, gtol, max_iter - n_iter)
        n_iter += int(res.nit)
        theta, value, grad = res.x, res.fun, res.jac
        if use_newton and res.status != 1:
            theta, value, grad, steps = _newton_polish(prob, theta, value, grad, target=1e-3 * tol)
            n_newton += steps
        if np.max(np.abs(grad)) <= tol or res.status == 1 or n_iter >= max_iter:
            break
    return theta, grad, res, n_iter, n_newton


def solve_lbfgs(X, y, n_classes, *, alpha, p, loss="smooth_hinge", delta=0.1, sample_weight=None,
                tol=1e-8, max_iter=15000, polish=True, max_hessian_size=500, fit_intercept=True,
                coef_init=None, intercept_init=None):
    """Minimize the smooth M3SVM objective with L-BFGS-B; deterministic (from W = 0, b = 0 or a given start).

    The minimized function is J plus the centring penalty (:mod:`glopt.multiclass.objective`).
    With ``polish`` and m = n_classes (n_features + 1) <= ``max_hessian_size`` (the exact Hessian
    is then cheap): L-BFGS-B to gradient max(tol, LBFGS_HANDOVER), then damped Newton steps with
    the exact Hessian (quadratic convergence to the rounding floor); should the gradient still
    exceed ``tol``, L-BFGS-B resumes from there to ``tol`` and the polish runs again. Without the
    polish: L-BFGS-B to ``tol``. BLAS runs single-threaded when X.size * n_classes (X.nnz for
    sparse X) is below SINGLE_THREAD_BELOW.

    Parameters
    ----------
    X : array_like or scipy.sparse matrix of shape (n_samples, n_features)
        Inputs; sparse input is kept in CSR and never densified (module docstring).
    y : array_like of shape (n_samples,)
        Class indices 0 .. n_classes - 1.
    n_classes : int
        Number of classes k (>= 2).
    alpha : float
        Weight of the margin regularizer, >= 0.
    p : float
        Power of the pairwise norms, >= 1.
    loss : {'smooth_hinge', 'logistic'}, default='smooth_hinge'
        The smooth per-sample loss.
    delta : float, default=0.1
        Smoothing of 'smooth_hinge', > 0.
    sample_weight : array_like of shape (n_samples,), default=None
        Nonnegative weights with a positive sum (None: all 1); rows of weight 0 are dropped.
    tol : float, default=1e-8
        Target for the largest absolute gradient entry of the minimized function.
    max_iter : int, default=15000
        Maximal number of L-BFGS iterations over all runs.
    polish : bool, default=True
        Polish with Newton steps where the Hessian is small enough.
    max_hessian_size : int, default=500
        Largest m = n_classes (n_features + 1) for which the Newton polish runs.
    fit_intercept : bool, default=True
        Fit the class intercepts b; False fixes b = 0 (and m = n_classes n_features).
    coef_init : array_like of shape (n_classes, n_features), default=None
        Starting W (a warm start; centred before use, which leaves J unchanged). None: W = 0.
    intercept_init : array_like of shape (n_classes,), default=None
        Starting b (centred; ignored without an intercept). None: b = 0.

    Returns
    -------
    result : dict
        ``coef`` (n_classes, n_features) and ``intercept`` (n_classes,), centred (zeros without
        an intercept); ``objective`` (J, without the centring penalty); ``n_iter`` (L-BFGS
        iterations); ``n_newton`` (Newton steps); ``n_eval`` (function evaluations);
        ``grad_norm`` (largest absolute gradient entry of the minimized function at the end);
        ``status`` (L-BFGS-B's last, 1 where ``max_iter`` was reached above ``tol``);
        ``message`` (L-BFGS-B's last); ``time`` (seconds).

    Raises
    ------
    ValueError
        If ``loss`` is not one of the smooth losses, or a start has the wrong shape or is not
        finite.
    """
    if loss not in ("smooth_hinge", "logistic"):
        raise ValueError(f"solver='lbfgs' needs a smooth loss ('smooth_hinge' or 'logistic'), got {loss!r}; "
                         "the hinge is solved by solver='cvx'")
    from threadpoolctl import threadpool_limits

    X = as_design_matrix(X)
    y = np.asarray(y, dtype=np.intp)
    sw = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    keep = sw > 0                        # zero weights contribute nothing: drop the rows
    Xk = X if keep.all() else X[keep]
    prob = _Problem(Xk, y[keep], sw[keep] / sw.sum(), n_classes, alpha, p, loss, delta,
                    fit_intercept=fit_intercept)
    theta = prob.pack(*_start(coef_init, intercept_init, n_classes, X.shape[1]))
    use_newton = polish and theta.size <= max_hessian_size
    entries = X.nnz if sp.issparse(X) else X.size
    limits = 1 if entries * n_classes < SINGLE_THREAD_BELOW else None
    t0 = time.perf_counter()
    with threadpool_limits(limits=limits, user_api="blas"):
        theta, grad, res, n_iter, n_newton = _minimize(prob, theta, tol, max_iter, use_newton)
    elapsed = time.perf_counter() - t0
    W, b = prob.unpack(theta)
    status = 1 if n_iter >= max_iter and np.max(np.abs(grad)) > tol else int(res.status)
    return dict(coef=W.copy(), intercept=b.copy(), objective=float(prob.objective(theta)),
                n_iter=n_iter, n_newton=n_newton, n_eval=prob.n_eval,
                grad_norm=float(np.max(np.abs(grad))), status=status,
                message=str(res.message), time=elapsed)


def _start(coef_init, intercept_init, n_classes, n_features):
    """The starting (W, b), centred: zeros, or the given warm start (checked)."""
    W = np.zeros((n_classes, n_features))
    b = np.zeros(n_classes)
    for name, value, out in (("coef_init", coef_init, W), ("intercept_init", intercept_init, b)):
        if value is None:
            continue
        value = np.asarray(value, dtype=np.float64)
        if value.shape != out.shape:
            raise ValueError(f"{name} must have shape {out.shape}, got {value.shape}")
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name} contains NaN or infinity")
        # J is invariant under a common translation of the classes: centring the start costs
        # nothing and starts the centring penalty at 0
        out[...] = value - value.mean(axis=0)
    return W, b
