"""The production M3SVM solver: L-BFGS-B, then damped Newton steps with the exact Hessian.

scipy's L-BFGS-B minimizes the smooth objective of :mod:`glopt.multiclass.objective` (plus the
centring penalty) with the analytic gradient; when the Hessian is small
(m = n_classes * (n_features + 1) <= 500; one Hessian costs about m / 2 gradient evaluations),
damped Newton steps with the exact Hessian follow. L-BFGS-B's line search compares function
values and so cannot resolve the optimum much below abs(J) * machine epsilon, which on weakly
regularized problems leaves the *solution* wrong in the 6th digit; the Newton polish takes it to
the rounding floor (scikit-learn's sample-weight equivalence check needs decision values equal
to 1e-7).
"""
from __future__ import annotations

import time

import numpy as np
from scipy.optimize import minimize

from .objective import (TRANSLATION_PENALTY, _loss_and_grad, _loss_hessian_blocks, _regularizer,
                        _regularizer_hessian, pair_incidence)

#: L-BFGS-B's gradient tolerance before the Newton polish takes over (see solve_lbfgs). Measured on
#: vehicle folds (alpha 1e-6..1e-2, p 2..4, both losses): handing over at 1e-3 instead of running
#: L-BFGS-B to 1e-8 takes 20-60% of the L-BFGS iterations plus 3-6 Newton steps, same optimum.
LBFGS_HANDOVER = 1e-3

#: Below this many entries in X times classes, BLAS runs single-threaded during a fit: the matrices
#: are small and thread start-up / contention costs more than it saves (vehicle, 2 loaded cores:
#: about 8x slower with two BLAS threads).
SINGLE_THREAD_BELOW = 4_000_000


class _Problem:
    """The minimized function J + centring penalty, on theta = vec(Theta), Theta = [W | b] (k, d+1)."""

    def __init__(self, X, y, v, n_classes, alpha, p, loss, delta, tau=TRANSLATION_PENALTY):
        self.Xt = np.hstack([X, np.ones((X.shape[0], 1))])   # x~_i = (x_i, 1): F = Xt Theta^T
        self.y, self.v = y, v
        self.k, self.d = n_classes, X.shape[1]
        self.alpha, self.p, self.loss, self.delta, self.tau = alpha, p, loss, delta, tau
        self.E = pair_incidence(n_classes)
        self.n_eval = 0

    def unpack(self, theta):
        """(W (k, d), b (k,)) as views of theta."""
        T = theta.reshape(self.k, self.d + 1)
        return T[:, :-1], T[:, -1]

    def objective(self, theta):
        """J(W, b) alone (the reported objective)."""
        T = theta.reshape(self.k, self.d + 1)
        L, _ = _loss_and_grad(self.Xt @ T.T, self.y, self.v, self.loss, self.delta, grad=False)
        return L + self.alpha * _regularizer(T[:, :-1], self.p, self.E, grad=False)[0]

    def __call__(self, theta):
        """The minimized function and its gradient (m,), m = k (d+1), counted in ``n_eval``."""
        self.n_eval += 1
        T = theta.reshape(self.k, self.d + 1)
        L, G = _loss_and_grad(self.Xt @ T.T, self.y, self.v, self.loss, self.delta)
        R, gR = _regularizer(T[:, :-1], self.p, self.E)
        s = T.sum(axis=0)                           # the translation: sum_k (w_k, b_k)
        value = L + self.alpha * R + 0.5 * self.tau * (s @ s)
        g = G.T @ self.Xt + self.tau * s[None, :]
        g[:, :-1] += self.alpha * gR
        return value, g.ravel()

    def _loss_hessian(self, T, max_entries):
        """Hessian of the data term in Theta, shape (k, d+1, k, d+1), built in row blocks."""
        k, D = self.k, self.d + 1
        Hf = _loss_hessian_blocks(self.Xt @ T.T, self.y, self.v, self.loss, self.delta).reshape(-1, k * k)
        G = np.zeros((D, k * k * D))
        step = max(1, max_entries // (k * k * D))      # rows per block: bounded memory
        for lo in range(0, self.Xt.shape[0], step):
            Xb = self.Xt[lo:lo + step]
            # G[j, (k, l, m)] = sum_i x~_ij Hf_i[k, l] x~_im: one matrix product per block (BLAS;
            # np.einsum did this 30x slower)
            G += Xb.T @ (Hf[lo:lo + step, :, None] * Xb[:, None, :]).reshape(Xb.shape[0], -1)
        return np.ascontiguousarray(G.reshape(D, k, k, D).transpose(1, 0, 2, 3))   # (k, j, l, m)

    def hessian(self, theta, max_entries=4_000_000):
        """Exact Hessian (m, m), m = k (d+1); None where it does not exist (p < 2 at w_k = w_l)."""
        k, D = self.k, self.d + 1
        T = theta.reshape(k, D)
        HW = _regularizer_hessian(T[:, :-1], self.p, self.E)
        if HW is None:
            return None
        H = self._loss_hessian(T, max_entries)
        H[:, :-1, :, :-1] += self.alpha * HW
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
                tol=1e-8, max_iter=15000, polish=True, max_hessian_size=500):
    """Minimize the smooth M3SVM objective with L-BFGS-B; deterministic (starts at W = 0, b = 0).

    The minimized function is J plus the centring penalty (:mod:`glopt.multiclass.objective`).
    With ``polish`` and m = n_classes (n_features + 1) <= ``max_hessian_size`` (the exact Hessian
    is then cheap): L-BFGS-B to gradient max(tol, LBFGS_HANDOVER), then damped Newton steps with
    the exact Hessian (quadratic convergence to the rounding floor); should the gradient still
    exceed ``tol``, L-BFGS-B resumes from there to ``tol`` and the polish runs again. Without the
    polish: L-BFGS-B to ``tol``. BLAS runs single-threaded when X.size * n_classes is below
    SINGLE_THREAD_BELOW.

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

    Returns
    -------
    result : dict
        ``coef`` (n_classes, n_features) and ``intercept`` (n_classes,), centred; ``objective``
        (J, without the centring penalty); ``n_iter`` (L-BFGS iterations); ``n_newton`` (Newton
        steps); ``n_eval`` (function evaluations); ``grad_norm`` (largest absolute gradient
        entry of the minimized function at the end); ``status`` (L-BFGS-B's last, 1 where
        ``max_iter`` was reached above ``tol``); ``message`` (L-BFGS-B's last); ``time``
        (seconds).

    Raises
    ------
    ValueError
        If ``loss`` is not one of the smooth losses.
    """
    if loss not in ("smooth_hinge", "logistic"):
        raise ValueError(f"solver='lbfgs' needs a smooth loss ('smooth_hinge' or 'logistic'), got {loss!r}; "
                         "the hinge is solved by solver='cvx'")
    from threadpoolctl import threadpool_limits

    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.intp)
    sw = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    keep = sw > 0                        # zero weights contribute nothing: drop the rows
    prob = _Problem(X[keep], y[keep], sw[keep] / sw.sum(), n_classes, alpha, p, loss, delta)
    theta = np.zeros(n_classes * (X.shape[1] + 1))
    use_newton = polish and theta.size <= max_hessian_size
    limits = 1 if X.size * n_classes < SINGLE_THREAD_BELOW else None
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
