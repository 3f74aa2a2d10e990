"""M3SVM: the linear multi-class SVM that maximizes the minimum margin (Nie, Hao, Wang, AAAI 2024).

The problem solved (glopt's statement; the choices are explained in :class:`M3SVM`)::

    J(W, b) = (1 / sum_i s_i) sum_i s_i ell_i(W, b)  +  alpha * sum_{k<l} ||w_k - w_l||_2^p

    ell_i = sum_{k != y_i} h(1 - (w_{y_i} - w_k)^T x_i - (b_{y_i} - b_k))     (hinge losses)
    ell_i = log sum_k exp(w_k^T x_i + b_k) - (w_{y_i}^T x_i + b_{y_i})          (ISM3, logistic)

with h the hinge max(0, u) or its smoothing h_delta(u) = (u + sqrt(u^2 + delta^2)) / 2, s_i the
sample weights, and W (n_classes, n_features) the class weight vectors (rows w_k).

J is unchanged by a common translation (w_k -> w_k + v, b_k -> b_k + t for every k), a flat
direction of the problem. glopt fixes it by centring: the minimized function is
J + (tau / 2) (||sum_k w_k||^2 + (sum_k b_k)^2); since J is translation invariant, every minimizer
of J can be translated to a centred one at no cost, so the penalty vanishes at the solution and
changes neither the optimal value nor the predictions: it only selects the centred minimizer
(sum_k w_k = 0, sum_k b_k = 0). The exact reference (:mod:`glopt.cvx.m3svm`) imposes the same
centring as equality constraints.

Production solver: scipy's L-BFGS-B on the smooth losses, with the analytic gradient, vectorized
over classes and class pairs (the pair differences are one matrix product with the pair incidence
matrix E, rows e_k - e_l), then damped Newton steps with the exact Hessian when it is small
(m = n_classes * (n_features + 1) <= 500; one Hessian costs about m / 2 gradient evaluations).
L-BFGS-B's line search compares function values and so cannot resolve the optimum much below
|J| * machine epsilon, which on weakly regularized problems leaves the *solution* wrong in the
6th digit; the Newton polish takes it to the rounding floor (scikit-learn's sample-weight
equivalence check needs decision values equal to 1e-7).
"""
from __future__ import annotations

import numbers
import time
import warnings

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax, logsumexp, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._checks import choice, positive_scalar, squared_norms

LOSSES = ("smooth_hinge", "hinge", "logistic")
SOLVERS = ("lbfgs", "cvx")

#: weight tau of the centring penalty (tau/2)(||sum_k w_k||^2 + (sum_k b_k)^2). It vanishes at every
#: solution (J is translation invariant), so its size changes no answer; 1 keeps the curvature of
#: the flat directions on the scale of the averaged loss.
TRANSLATION_PENALTY = 1.0


def pair_incidence(n_classes: int) -> np.ndarray:
    """E (n_pairs, n_classes) with row e_k - e_l for every pair k < l (row-major order of triu)."""
    rows, cols = np.triu_indices(n_classes, 1)
    E = np.zeros((rows.size, n_classes))
    E[np.arange(rows.size), rows] = 1.0
    E[np.arange(rows.size), cols] = -1.0
    return E


def smooth_hinge(u, delta, derivative=False):
    """h_delta(u) = (u + sqrt(u^2 + delta^2)) / 2 and optionally h'_delta(u), without cancellation.

    Written as h = max(u, 0) + delta^2 / (2 (r + |u|)), r = sqrt(u^2 + delta^2) (the same number:
    (u + r) / 2 - max(u, 0) = (r - |u|) / 2 = delta^2 / (2 (r + |u|))), which never subtracts
    nearly equal numbers, so h has full relative accuracy at every u and every delta (the direct
    formula loses all digits for u << -delta). h' = 1 - q or q with q = delta^2 / (2 r (r + |u|)).
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
    """Weighted loss sum_i v_i ell_i and its gradient G = d/dF (n, k) for decision values F."""
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
    """sum_{k<l} ||w_k - w_l||^p and its gradient, over all pairs at once (D = E W)."""
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
    coef : (n_classes, n_features); intercept : (n_classes,)
    X : (n_samples, n_features); y : (n_samples,) class indices 0..n_classes-1
    alpha, p, loss, delta : as in :class:`M3SVM` (delta is used by 'smooth_hinge' only)
    sample_weight : (n_samples,) nonnegative, optional (the loss is the weighted mean)
    return_grad : also return (grad_coef, grad_intercept) (not for loss='hinge')
    """
    W = np.asarray(coef, dtype=np.float64)
    b = np.asarray(intercept, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.intp)
    sw = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    v = sw / sw.sum()
    F = X @ W.T + b
    L, G = _loss_and_grad(F, y, v, loss, delta, grad=return_grad)
    R, gR = _regularizer(W, p, pair_incidence(W.shape[0]), grad=return_grad)
    value = L + alpha * R
    if not return_grad:
        return value
    return value, G.T @ X + alpha * gR, G.sum(axis=0)


def _loss_hessian_blocks(F, y, v, loss, delta):
    """Per-sample Hessians v_i d^2 ell_i / dF_i^2, shape (n, k, k)."""
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
        T = theta.reshape(self.k, self.d + 1)
        return T[:, :-1], T[:, -1]

    def objective(self, theta):
        """J(W, b) alone (the reported objective)."""
        T = theta.reshape(self.k, self.d + 1)
        L, _ = _loss_and_grad(self.Xt @ T.T, self.y, self.v, self.loss, self.delta, grad=False)
        return L + self.alpha * _regularizer(T[:, :-1], self.p, self.E, grad=False)[0]

    def __call__(self, theta):
        self.n_eval += 1
        T = theta.reshape(self.k, self.d + 1)
        L, G = _loss_and_grad(self.Xt @ T.T, self.y, self.v, self.loss, self.delta)
        R, gR = _regularizer(T[:, :-1], self.p, self.E)
        s = T.sum(axis=0)                           # the translation: sum_k (w_k, b_k)
        value = L + self.alpha * R + 0.5 * self.tau * (s @ s)
        g = G.T @ self.Xt + self.tau * s[None, :]
        g[:, :-1] += self.alpha * gR
        return value, g.ravel()

    def hessian(self, theta, max_entries=4_000_000):
        """Exact Hessian (m, m), m = k (d+1); None where it does not exist (p < 2 at w_k = w_l)."""
        k, D = self.k, self.d + 1
        T = theta.reshape(k, D)
        Dw = self.E @ T[:, :-1]
        N = np.sqrt(np.einsum("ij,ij->i", Dw, Dw))
        p = self.p
        if p < 2 and np.any(N <= 1e-8 * max(1.0, N.max(initial=0.0))):
            return None                                # ||d||^p has no Hessian at d = 0 for p < 2
        Hf = _loss_hessian_blocks(self.Xt @ T.T, self.y, self.v, self.loss, self.delta).reshape(-1, k * k)
        G = np.zeros((D, k * k * D))
        step = max(1, max_entries // (k * k * D))      # rows per block: bounded memory
        for lo in range(0, self.Xt.shape[0], step):
            Xb = self.Xt[lo:lo + step]
            # G[j, (k, l, m)] = sum_i x~_ij Hf_i[k, l] x~_im: one matrix product per block (BLAS;
            # np.einsum did this 30x slower)
            G += Xb.T @ (Hf[lo:lo + step, :, None] * Xb[:, None, :]).reshape(Xb.shape[0], -1)
        H = np.ascontiguousarray(G.reshape(D, k, k, D).transpose(1, 0, 2, 3))   # (k, j, l, m)
        # regularizer: d^2 ||d||^p = p N^(p-2) I + p (p-2) N^(p-4) d d^T, d = (E W)_q
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(N > 0, p * N ** (p - 2), 2.0 if p == 2 else 0.0)
            c = np.where(N > 0, p * (p - 2) * N ** (p - 4), 0.0)
        d = self.d
        HW = np.kron(self.E.T @ (a[:, None] * self.E), np.eye(d)).reshape(k, d, k, d)
        Z = (self.E[:, :, None] * Dw[:, None, :]).reshape(len(N), k * d)
        HW += (Z.T @ (c[:, None] * Z)).reshape(k, d, k, d)
        H[:, :-1, :, :-1] += self.alpha * HW
        H = H.reshape(k * D, k * D)
        H += self.tau * np.kron(np.ones((k, k)), np.eye(D))
        return H


def _newton_polish(prob, theta, value, grad, max_steps=20, target=0.0):
    """Damped Newton steps from an L-BFGS answer while they make progress (at most ``max_steps``).

    L-BFGS-B's line search compares function values, so it cannot resolve the optimum better than
    |f| * machine epsilon in f, i.e. gradient ~ sqrt(eps * |f| * curvature); where the curvature
    is small (weak regularization, far-out margins) the solution is then only good to ~1e-5.
    Newton steps with the exact Hessian converge quadratically to the rounding floor. Step length
    t = 1, 1/2, ..., 1/8: accepted if f decreases by the Armijo rule (f convex, the Newton direction
    descends) or, once f is at its rounding floor, if max |gradient| shrinks and f does not rise
    beyond rounding. Stops when no step is accepted, the Hessian does not exist (p < 2 at
    w_k = w_l) or is singular, or max |gradient| <= ``target``.
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
        for t in (1.0, 0.5, 0.25, 0.125):
            cand = theta + t * step
            v2, g2 = prob(cand)
            g2norm = np.max(np.abs(g2))
            armijo = v2 <= value + 1e-4 * t * slope
            floor = g2norm < gnorm and v2 <= value + 1e-12 * abs(value)
            if armijo or floor:
                break
        else:
            break
        theta, value, grad, gnorm = cand, v2, g2, g2norm
        steps += 1
    return theta, value, grad, steps


#: L-BFGS-B's gradient tolerance before the Newton polish takes over (see solve_lbfgs). Measured on
#: vehicle folds (alpha 1e-6..1e-2, p 2..4, both losses): handing over at 1e-3 instead of running
#: L-BFGS-B to 1e-8 takes 20-60% of the L-BFGS iterations plus 3-6 Newton steps, same optimum.
LBFGS_HANDOVER = 1e-3

#: Below this many entries in X times classes, BLAS runs single-threaded during a fit: the matrices
#: are small and thread start-up / contention costs more than it saves (vehicle, 2 loaded cores:
#: about 8x slower with two BLAS threads).
SINGLE_THREAD_BELOW = 4_000_000


def _lbfgs(prob, theta0, gtol, max_iter):
    # Stop on the gradient only: ftol at machine precision, so that L-BFGS-B's relative decrease
    # test, which fires early on slow stretches, does not end the run first.
    return minimize(prob, theta0, jac=True, method="L-BFGS-B",
                    options=dict(maxiter=max_iter, maxfun=2 * max_iter + 20, gtol=gtol,
                                 ftol=np.finfo(float).eps, maxcor=30))


def solve_lbfgs(X, y, n_classes, *, alpha, p, loss="smooth_hinge", delta=0.1, sample_weight=None,
                tol=1e-8, max_iter=15000, polish=True, max_hessian_size=500):
    """Minimize the smooth M3SVM objective with L-BFGS-B; deterministic (starts at W = 0, b = 0).

    With ``polish`` and m = n_classes (n_features + 1) <= ``max_hessian_size`` (the exact Hessian
    is then cheap): L-BFGS-B to gradient max(tol, LBFGS_HANDOVER), then damped Newton steps with
    the exact Hessian (:func:`_newton_polish`, quadratic convergence to the rounding floor); should the gradient still exceed ``tol``, L-BFGS-B resumes from there
    to ``tol`` and the polish runs again. Without the polish: L-BFGS-B to ``tol``.

    Returns a dict: coef, intercept, objective (J, no centring penalty), n_iter (L-BFGS
    iterations), n_newton (Newton steps), n_eval, grad_norm (max |gradient entry| of the minimized
    function at the end), status (L-BFGS-B's last), message, time.
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
    n_iter = n_newton = 0
    with threadpool_limits(limits=limits, user_api="blas"):
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
    elapsed = time.perf_counter() - t0
    W, b = prob.unpack(theta)
    status = 1 if n_iter >= max_iter and np.max(np.abs(grad)) > tol else int(res.status)
    return dict(coef=W.copy(), intercept=b.copy(), objective=float(prob.objective(theta)),
                n_iter=n_iter, n_newton=n_newton, n_eval=prob.n_eval,
                grad_norm=float(np.max(np.abs(grad))), status=status,
                message=str(res.message), time=elapsed)


def _check_real(value, name, low, allow_equal=True):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    if value < low or (value == low and not allow_equal):
        raise ValueError(f"{name} must be {'>=' if allow_equal else '>'} {low}, got {value!r}")


class M3SVM(ClassifierMixin, BaseEstimator):
    """Linear multi-class SVM maximizing the minimum margin (M3SVM, Nie et al., AAAI 2024), and ISM3.

    Minimizes (module :mod:`glopt.multiclass`)::

        J(W, b) = sum_i s_i ell_i / sum_i s_i  +  alpha * sum_{k<l} ||w_k - w_l||_2^p,
        ell_i = sum_{k != y_i} h(1 - (w_{y_i} - w_k)^T x_i - (b_{y_i} - b_k)),

    over one weight vector w_k and intercept b_k per class; prediction argmax_k w_k^T x + b_k.
    The regularizer enlarges the pairwise margins 2 / ||w_k - w_l||; as p grows it tends to the
    largest ||w_k - w_l||, i.e. it maximizes the minimum margin.

    Parameters
    ----------
    alpha : float >= 0, default=1e-3
        Weight of the margin regularizer (the paper's lambda). The loss is a *mean* over samples,
        so alpha does not scale with n: the paper's lambda (with a summed loss) is n * alpha; the
        reference code's ``lam`` (loss (1/(m c)) sum CE, regularizer (1/n) sum over ordered
        pairs, n = size of the whole data set) corresponds to alpha = 2 c lam / n for the
        logistic loss (c classes); its vehicle setting lam = 1e-4 is alpha ~ 1e-6.
    p : float >= 1, default=2.0
        Power of the pairwise norms. p = 2 is, after centring, the ridge penalty
        n_classes * ||W||_F^2 (with the hinge: the Weston-Watkins multi-class SVM); larger p (the paper uses 3-6) weights the largest difference
        more. p = 1 is not differentiable where two classes share a weight vector (a fusion
        penalty); solver='lbfgs' then returns the guard's subgradient 0 there and may stop with
        a ConvergenceWarning, solver='cvx' is exact.
    loss : {'smooth_hinge', 'hinge', 'logistic'}, default='smooth_hinge'
        'smooth_hinge': h_delta(u) = (u + sqrt(u^2 + delta^2)) / 2, the paper's smoothing of the
        hinge max(0, u) (0 <= h_delta - max(0, u) <= delta / 2, so the optimal values differ by at
        most (n_classes - 1) delta / 2). 'hinge': the exact hinge, solver='cvx' only.
        'logistic': ISM3, softmax cross-entropy instead of the pairwise hinges (what the public
        reference code trains); enables predict_proba.
    delta : float > 0, default=0.1
        Smoothing of 'smooth_hinge' (margin units). Smaller is closer to the hinge and slower.
    solver : {'lbfgs', 'cvx'}, default='lbfgs'
        'lbfgs': scipy's L-BFGS-B with the analytic gradient (smooth losses). 'cvx': the exact
        reference in cvxpy, solved by Clarabel (:func:`glopt.cvx.m3svm.solve_m3svm_reference`);
        for small problems and for checking.
    tol : float > 0, default=1e-8
        Target for the largest absolute entry of the gradient (the loss is a mean, so the
        gradient has the scale of the features). L-BFGS-B runs to max(tol, 1e-3), then Newton
        steps polish to 1e-3 * tol or to the rounding floor; where the Hessian is not used
        (large problems, p < 2 with coinciding classes) L-BFGS-B runs to tol itself. On
        standardized data the objective is then right to ~1e-12 relative (the tests ask 1e-5).
    max_iter : int >= 1, default=15000
        Maximal L-BFGS iterations; reaching it raises a ConvergenceWarning.

    Attributes
    ----------
    classes_ : (n_classes,) the labels (any values).
    coef_ : (n_classes, n_features) the class weight vectors w_k (also for two classes).
    intercept_ : (n_classes,) the b_k. Both are centred: they sum to 0 over the classes.
    n_iter_ : int, L-BFGS iterations (or Clarabel iterations for solver='cvx').
    n_newton_ : int, Newton polish steps (0 for solver='cvx').
    objective_ : float, J at the solution (without the centring penalty, which is 0 there).
    n_features_in_, feature_names_in_ : as in scikit-learn.

    Notes: glopt's choices against the paper text and the public reference code
    ---------------------------------------------------------------------------------
    - Hinge surrogate: the paper states the pairwise hinge and smooths it with h_delta; the
      reference code (github zz-haooo/M3SVM) has that line commented out and trains softmax
      cross-entropy (ISM3). glopt offers all three, default the paper's smoothed hinge, with
      the exact hinge available in cvxpy as the ground truth.
    - The pair sum: the regularizer is over unordered pairs k < l, as in the paper; the reference
      code sums over all ordered pairs (each pair twice, k = l contributing 0), which is the same
      up to a factor 2 absorbed into alpha.
    - Objective scaling: glopt averages the loss over samples (weighted mean), so alpha is
      independent of n and sample_weight means repetition; the paper sums the loss; the reference
      code averages cross-entropy over samples *and* classes and divides the regularizer by the
      size of the whole data set (train and test). See alpha for the conversions.
    - Uniqueness: the paper adds a small term for a unique solution; glopt removes the flat
      direction instead by centring (sum_k w_k = 0, sum_k b_k = 0): an L-BFGS penalty that is 0
      at the solution, equality constraints in cvxpy. It changes neither the optimal value nor
      the predictions, whereas a small ridge term would move the solution.
    - Solver: the reference code runs 500 full-batch Adam steps in float32 (unseeded, with the
      scaler fitted before the train/test split); Adam does not settle on the optimum. glopt
      uses deterministic L-BFGS-B in float64 plus a Newton polish, checked against Clarabel.
    """

    def __init__(self, alpha=1e-3, p=2.0, loss="smooth_hinge", delta=0.1, solver="lbfgs", tol=1e-8,
                 max_iter=15000):
        self.alpha = alpha
        self.p = p
        self.loss = loss
        self.delta = delta
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter

    def _validate_params(self):
        _check_real(self.alpha, "alpha", 0.0)
        _check_real(self.p, "p", 1.0)
        choice(self.loss, "loss", LOSSES)
        positive_scalar(self.delta, "delta")
        choice(self.solver, "solver", SOLVERS)
        if self.loss == "hinge" and self.solver != "cvx":
            raise ValueError("loss='hinge' is not differentiable: use solver='cvx' (exact), or "
                             "loss='smooth_hinge' with a small delta for solver='lbfgs'")
        positive_scalar(self.tol, "tol")
        if (isinstance(self.max_iter, (bool, np.bool_)) or not isinstance(self.max_iter, numbers.Integral)
                or self.max_iter < 1):
            raise ValueError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")

    def fit(self, X, y, sample_weight=None):
        """Fit on X (n_samples, n_features) and labels y (any values, >= 2 classes)."""
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float64, order="C")
        squared_norms(X, "X")  # overflowing norms make every score, loss and gradient infinite
        check_classification_targets(y)
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if np.any(sw < 0):
            raise ValueError("sample_weight must be nonnegative")
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError(f"y contains only one class ({self.classes_[0]!r}); two are needed")
        weighted = np.unique(y_idx[sw > 0])
        if weighted.size < 2:
            raise ValueError("fewer than two classes have a positive sample_weight; two are needed")
        k = self.classes_.size
        if self.solver == "cvx":
            from .cvx.m3svm import solve_m3svm_reference

            res = solve_m3svm_reference(X, y_idx, k, alpha=self.alpha, p=self.p, loss=self.loss,
                                        delta=self.delta, sample_weight=sw)
            self.coef_, self.intercept_ = res.coef, res.intercept
            self.n_iter_, self.objective_ = res.n_iter, res.objective
            self.n_newton_ = 0
            return self
        res = solve_lbfgs(X, y_idx, k, alpha=self.alpha, p=self.p, loss=self.loss, delta=self.delta,
                          sample_weight=sw, tol=self.tol, max_iter=self.max_iter)
        if res["status"] == 1:
            warnings.warn(
                f"M3SVM: L-BFGS reached max_iter={self.max_iter} with gradient {res['grad_norm']:.2e} "
                f"> tol={self.tol:g}. Standardize the features (StandardScaler), increase max_iter, "
                "raise alpha, or raise delta (smooth_hinge).", ConvergenceWarning, stacklevel=2)
        elif res["status"] != 0 and not res["grad_norm"] <= np.sqrt(self.tol):
            # L-BFGS-B ends "abnormally" when no line-search step lowers f in floating point; at a
            # gradient within sqrt(tol) that is the rounding floor of f, not a failure.
            warnings.warn(f"M3SVM: L-BFGS stopped early ({res['message']}) with gradient "
                          f"{res['grad_norm']:.2e} > tol={self.tol:g}; standardize the features or "
                          "raise alpha / delta.", ConvergenceWarning, stacklevel=2)
        self.coef_, self.intercept_ = res["coef"], res["intercept"]
        self.n_iter_, self.objective_ = res["n_iter"], res["objective"]
        self.n_newton_ = res["n_newton"]
        return self

    def decision_function(self, X):
        """(n, n_classes) scores w_k^T x + b_k; for two classes (n,) = score_1 - score_0."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        F = X @ self.coef_.T + self.intercept_
        return F[:, 1] - F[:, 0] if self.classes_.size == 2 else F

    def predict(self, X):
        """Predicted class labels, shape (n_samples,): argmax_k w_k^T x + b_k."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.classes_[np.argmax(X @ self.coef_.T + self.intercept_, axis=1)]

    def _is_logistic(self):
        if self.loss != "logistic":
            raise AttributeError(f"predict_proba needs loss='logistic' (the softmax model, ISM3); this "
                                 f"M3SVM has loss={self.loss!r}, whose scores are margins, not probabilities")
        return True

    @available_if(_is_logistic)
    def predict_proba(self, X):
        """Softmax of the class scores (loss='logistic' only: the hinge losses give no probabilities)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return softmax(X @ self.coef_.T + self.intercept_, axis=1)

    @available_if(_is_logistic)
    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, shape (n_samples, n_classes) (loss='logistic' only)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return log_softmax(X @ self.coef_.T + self.intercept_, axis=1)
