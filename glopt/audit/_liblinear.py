"""Certificates of liblinear's problems: scikit-learn's LinearSVC and LinearSVR.

The problems (liblinear's, as scikit-learn calls it). With ``fit_intercept`` the inputs get one
more feature of constant value ``s = intercept_scaling`` and w = [coef_, intercept_ / s]: the
bias weight is *regularized* like every other weight (liblinear's intercept). The decision
function is f_i = w^T x~_i with x~_i = [x_i, s].

Primal, per subproblem (one per class for one-vs-rest, one for two classes or regression)::

    min_w  R(w) + sum_i C_i loss(u_i),     R(w) = 0.5 ||w||^2 (penalty 'l2') or ||w||_1 ('l1'),

with the slack ``u_i = 1 - y_i f_i`` (LinearSVC, y_i = +-1) or ``u_i = |y_i - f_i| - epsilon``
(LinearSVR), and loss(u) = max(0, u) ('hinge', 'epsilon_insensitive') or max(0, u)^2
('squared_hinge', 'squared_epsilon_insensitive'). The per-sample C_i are liblinear's:
C * sample_weight_i times, for LinearSVC with two classes, the class weight of sample i's class;
with one-vs-rest, the class weight of the positive class for its samples and none for the rest
(liblinear weighs the "rest" by C alone); for LinearSVR no class weight. Samples of weight 0
are left out, as liblinear does.

Dual (penalty 'l2'), in the variables beta (beta_i = y_i a_i for LinearSVC, alpha_i - alpha*_i
for LinearSVR), with w(beta) = sum_i beta_i x~_i::

    D(beta) = y^T beta - epsilon ||beta||_1 - 0.5 ||w(beta)||^2 - sum_i beta_i^2 / (4 C_i) [squared losses]

(epsilon = 0 for LinearSVC, where y^T beta = sum_i a_i), feasible for y_i beta_i in [0, C_i]
(hinge), y_i beta_i >= 0 (squared hinge), |beta_i| <= C_i (epsilon-insensitive), any beta
(squared epsilon-insensitive). Every feasible beta gives D(beta) <= min P (weak duality), so
P(w) - D(beta) bounds the suboptimality of the model's w from above.

The dual point starts from the model's w:

- squared losses: the optimal-dual map beta_i = 2 C_i max(0, u_i) (times y_i, or the sign of the
  residual y_i - f_i), the unique dual optimum when w is the primal optimum;
- hinge and epsilon-insensitive: the dual is not determined by w. beta_i is at its bound where
  u_i > tau, 0 where u_i < -tau, and the variables in the band |u_i| <= tau (the free support
  vectors) maximize D with the others fixed (a box-constrained QP, solved by L-BFGS-B from the
  clipped least-squares solution of w(beta) = w). Each band width tau of ``BANDS`` (times the
  margin scale: 1 for LinearSVC, max(1, max |y|) for LinearSVR) gives a feasible point; the one
  with the largest D is kept (the largest of several lower bounds is a lower bound);
- unless that point is already tight to rounding, at most ``POLISH_STEPS`` L-BFGS-B steps on the
  whole dual, started there, improve it (kept only where D rose): at an inexact w the map above
  is a poor dual point, and the gap would measure the map instead of the model;
- every candidate is scaled by the rho in [0, rho_max] maximizing D(rho beta) (a one-dimensional
  concave quadratic; rho_max keeps the box), which is 1 at the optimum.

Every step keeps the point feasible, so the reported dual is a lower bound on the optimal value
whatever the model's answer; the gap is tight (0) exactly when w is optimal.

Penalty 'l1' (LinearSVC with squared hinge, dual=False; the bias weight is in ||w||_1 as well):
the dual is max sum_i a_i - sum_i a_i^2 / (4 C_i) s.t. a >= 0, ||X~^T (y a)||_inf <= 1; the map
a_i = 2 C_i max(0, u_i), scaled into that set (rho <= 1 / ||X~^T (y a)||_inf, then the best rho),
is the dual point.

Reported quantities (:class:`glopt.certify.Certificate`):

- ``primal``: P(w) at the model's coef_ and intercept_;
- ``dual``: D at the dual point above, a valid lower bound on the optimal value;
- ``gap`` = primal - dual (>= 0 up to rounding) and ``rel_gap = |gap| / max(|primal|, |dual|)``;
- ``kkt_violation`` (penalty 'l2'): the larger of

  * the complementarity residual, the natural residual ``max_t |a_t - clip(a_t - g_t, 0, U_t)|``
    of the dual QP at the dual point (a and U divided by ``A = max(1, max |beta|)``, as
    :func:`glopt.certify.certify` does; LinearSVR in its 2n-variable form alpha, alpha*) with g
    the margin residual of each variable at the *model's* decision values (LinearSVC:
    g_i = y_i f_i - 1 + a_i / (2 C_i) [squared hinge]): the quantity liblinear's dual coordinate
    descent drives below its tol, in margin units (LinearSVR: units of y);
  * the stationarity residual ``||w - w(beta)|| / ||w(beta_0)||``, beta_0 the dual map at w = 0:
    for the squared losses the norm of the primal gradient relative to its norm at w = 0, the
    quantity liblinear's primal Newton solver drives below its tol;

  Penalty 'l1': the largest entry of the minimal-norm subgradient of P, ``|g_j + sign(w_j)|`` for
  w_j != 0 and ``max(0, |g_j| - 1)`` for w_j = 0 with g the gradient of the loss term, divided by
  ``max(1, ||g(0)||_inf)`` (liblinear's coordinate descent sums these violations into its
  stopping test, relative to their value at w = 0);
- ``infeasibility``: the largest violation of the dual point's constraints (box, relative to A;
  'l1': ``max(0, ||X~^T beta||_inf - 1)``), 0 up to rounding by construction.

scikit-learn's ``multi_class='crammer_singer'`` solves another problem (one joint multi-class
objective) and is refused with a TypeError.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from ..certify import Certificate, natural_residual
from ._libsvm import _check_labels
from ._report import SubproblemReport

#: Band widths tau (times the margin scale) within which a hinge / epsilon-insensitive sample's dual
#: variable is left free and optimized (module docstring); 0 is the plain map.
BANDS = (0.0, 1e-10, 1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1)

#: L-BFGS-B steps on the whole dual that improve the dual point built from w (module docstring).
POLISH_STEPS = 300

#: L-BFGS-B steps of each band's restricted dual problem.
BAND_STEPS = 2000

#: A dual point within this relative gap of the primal is not improved further (it is tight to rounding).
TIGHT = 1e-12

_SVC_LOSSES = {"hinge": 1, "squared_hinge": 2}
_SVR_LOSSES = {"epsilon_insensitive": 1, "squared_epsilon_insensitive": 2}


class _Subproblem:
    """One liblinear problem: the inputs, targets, per-sample C and the loss (module docstring)."""

    def __init__(self, X, target, C, *, task, order, penalty, epsilon, bias):
        self.X = X                      # (n, d) ndarray or CSR, samples of positive C only
        self.y = target                 # +-1 (svc) or real targets (svr)
        self.C = C                      # per-sample C_i > 0
        self.task = task                # "svc" or "svr"
        self.order = order              # 1: hinge / epsilon-insensitive, 2: squared
        self.penalty = penalty          # "l2" or "l1"
        self.epsilon = epsilon          # 0 for svc
        self.bias = bias                # intercept_scaling, or None without an intercept

    @property
    def n(self) -> int:
        return self.X.shape[0]

    def join(self, coef, intercept) -> np.ndarray:
        """w = [coef, intercept / intercept_scaling] (or coef without an intercept)."""
        coef = np.asarray(coef, dtype=np.float64).ravel()
        if self.bias is None:
            return coef
        return np.append(coef, float(intercept) / self.bias)

    def decision(self, w) -> np.ndarray:
        """f = X~ w on the training inputs."""
        d = self.X.shape[1]
        f = np.asarray(self.X @ w[:d]).ravel()
        return f if self.bias is None else f + self.bias * w[d]

    def adjoint(self, beta) -> np.ndarray:
        """w(beta) = X~^T beta."""
        v = np.asarray(self.X.T @ beta).ravel()
        return v if self.bias is None else np.append(v, self.bias * float(np.sum(beta)))

    def rows(self, idx, sign):
        """The rows sign_t x~_{idx_t} as a (m, d~) array or CSR matrix."""
        Xi = self.X[idx]
        if sp.issparse(Xi):
            Xi = sp.diags(sign) @ Xi
            if self.bias is not None:
                Xi = sp.hstack([Xi, sp.csr_matrix((sign * self.bias)[:, None])], format="csr")
            return Xi.tocsr()
        Xi = Xi * sign[:, None]
        return Xi if self.bias is None else np.hstack([Xi, (sign * self.bias)[:, None]])

    def slack(self, f) -> np.ndarray:
        if self.task == "svc":
            return 1.0 - self.y * f
        return np.abs(self.y - f) - self.epsilon

    def primal(self, w) -> float:
        reg = float(np.sum(np.abs(w))) if self.penalty == "l1" else 0.5 * float(w @ w)
        xi = np.maximum(0.0, self.slack(self.decision(w)))
        return reg + float(self.C @ (xi if self.order == 1 else xi * xi))

    def margin_scale(self) -> float:
        return 1.0 if self.task == "svc" else max(1.0, float(np.max(np.abs(self.y))))


# ------------------------------------------------------------------------------------------
# the dual point and its value
# ------------------------------------------------------------------------------------------
def _dual_terms(sub: _Subproblem, beta):
    """(linear, quadratic) parts of D(beta) = linear - quadratic, and w(beta)."""
    wb = sub.adjoint(beta)
    lin = float(sub.y @ beta) - sub.epsilon * float(np.sum(np.abs(beta)))
    quad = 0.5 * float(wb @ wb)
    if sub.order == 2:
        quad += float(np.sum(beta * beta / (4.0 * sub.C)))
    return lin, quad, wb


def _best_scaling(lin, quad, rho_max) -> float:
    """The rho in [0, rho_max] maximizing rho lin - rho^2 quad (quad = 0 only at beta = 0)."""
    if quad <= 0.0:
        return (rho_max if math.isfinite(rho_max) else 1.0) if lin > 0 else 0.0
    return float(min(rho_max, max(0.0, lin / (2.0 * quad))))


def _box_limit(sub: _Subproblem, beta) -> float:
    """The largest rho with rho beta inside the box |beta_i| <= C_i (inf for the squared losses)."""
    if sub.order == 2:
        return math.inf
    nz = np.abs(beta) > 0
    if not nz.any():
        return math.inf
    return float(np.min(sub.C[nz] / np.abs(beta[nz])))


def _scaled(sub: _Subproblem, beta, rho_max=None):
    """beta scaled by the best rho (module docstring): (beta, D(beta), w(beta))."""
    lin, quad, wb = _dual_terms(sub, beta)
    cap = _box_limit(sub, beta) if rho_max is None else rho_max
    rho = _best_scaling(lin, quad, cap)
    return rho * beta, rho * lin - rho * rho * quad, rho * wb


def _squared_map(sub: _Subproblem, f) -> np.ndarray:
    """beta of the squared losses: 2 C_i max(0, u_i) with the sign of the margin side."""
    u = np.maximum(0.0, sub.slack(f))
    side = sub.y if sub.task == "svc" else np.where(sub.y - f >= 0.0, 1.0, -1.0)
    return side * 2.0 * sub.C * u


def _variables(sub: _Subproblem, f):
    """The dual variables of the 2n-variable form (svr) or the n of svc: index, sign, slack u_t, q_t."""
    n = sub.n
    if sub.task == "svc":
        idx = np.arange(n)
        return idx, sub.y.copy(), 1.0 - sub.y * f, np.ones(n)
    idx = np.concatenate([np.arange(n), np.arange(n)])
    sign = np.concatenate([np.ones(n), -np.ones(n)])
    r = sub.y - f
    u = np.concatenate([r, -r]) - sub.epsilon
    q = np.concatenate([sub.y, -sub.y]) - sub.epsilon
    return idx, sign, u, q


def _band_point(sub: _Subproblem, w, f, tau) -> np.ndarray:
    """beta with the variables in the band |u_t| <= tau optimized, the others at their bound or 0."""
    idx, sign, u, q = _variables(sub, f)
    upper = sub.C[idx]
    band = np.flatnonzero(np.abs(u) <= tau)
    a = np.where(u > tau, upper, 0.0)
    beta_fixed = np.bincount(idx, weights=sign * a, minlength=sub.n)
    if band.size == 0:
        return beta_fixed
    B = sub.rows(idx[band], sign[band])            # (m, d~): row t is sign_t x~_{i_t}
    c = sub.adjoint(beta_fixed)
    v0 = upper[band] * _least_squares_start(B, w - c, upper[band])
    v = _dual_qp(sub, B, idx[band], sign[band], q[band], upper[band], beta_fixed, v0, maxiter=BAND_STEPS)
    return beta_fixed + np.bincount(idx[band], weights=sign[band] * v, minlength=sub.n)


def _least_squares_start(B, rhs, U) -> np.ndarray:
    """The least-squares solution of B^T a = rhs, as a fraction of U and clipped to [0, 1]."""
    try:
        if sp.issparse(B):
            from scipy.sparse.linalg import lsqr

            a = lsqr(B.T.tocsr(), rhs, atol=1e-14, btol=1e-14, iter_lim=10 * B.shape[0] + 100)[0]
        else:
            a = np.linalg.lstsq(B.T, rhs, rcond=None)[0]
    except (np.linalg.LinAlgError, ValueError):
        a = 0.5 * U
    return np.clip(a / U, 0.0, 1.0)


def _dual_qp(sub: _Subproblem, B, idx, sign, q, upper, beta_fixed, v0, maxiter) -> np.ndarray:
    """Improve the dual variables v (of samples idx, signs sign) with beta_fixed held: minimize

    phi(v) = 0.5 ||w(beta)||^2 [+ sum_i beta_i^2 / (4 C_i)] - q^T v,  beta = beta_fixed + sum_t sign_t v_t e_{i_t},

    over 0 <= v <= upper (upper inf for the squared losses) by L-BFGS-B in the variables v / s
    (s the bound, or C_i); returns v0 unless phi fell."""
    from scipy.optimize import minimize

    s = np.where(np.isfinite(upper), upper, sub.C[idx])
    c = sub.adjoint(beta_fixed)
    squared = sub.order == 2

    def fun(t):
        v = s * t
        wv = c + np.asarray(B.T @ v).ravel()
        val = 0.5 * float(wv @ wv) - float(q @ v)
        g = np.asarray(B @ wv).ravel() - q
        if squared:
            beta = beta_fixed + np.bincount(idx, weights=sign * v, minlength=sub.n)
            val += float(np.sum(beta * beta / (4.0 * sub.C)))
            g = g + sign * beta[idx] / (2.0 * sub.C[idx])
        return val, s * g

    t0 = v0 / s
    hi = None if squared else 1.0
    f0, g0 = fun(t0)
    res = minimize(fun, t0, jac=True, method="L-BFGS-B", bounds=[(0.0, hi)] * t0.size,
                   options=dict(maxiter=maxiter, maxcor=10, ftol=1e-15,
                                gtol=1e-15 * max(1.0, float(np.max(np.abs(g0))))))
    t = np.clip(res.x, 0.0, hi)
    return s * t if fun(t)[0] < f0 else v0


def _polish(sub: _Subproblem, beta, maxiter) -> np.ndarray:
    """beta improved by at most ``maxiter`` L-BFGS-B steps on the whole dual (from beta)."""
    n = sub.n
    if sub.task == "svc":
        idx, sign, q = np.arange(n), sub.y.copy(), np.ones(n)
        v0 = sub.y * beta
    else:
        idx = np.concatenate([np.arange(n), np.arange(n)])
        sign = np.concatenate([np.ones(n), -np.ones(n)])
        q = np.concatenate([sub.y, -sub.y]) - sub.epsilon
        v0 = np.concatenate([np.maximum(beta, 0.0), np.maximum(-beta, 0.0)])
    upper = sub.C[idx] if sub.order == 1 else np.full(idx.size, np.inf)
    v0 = np.clip(v0, 0.0, upper)
    v = _dual_qp(sub, sub.rows(idx, sign), idx, sign, q, upper, np.zeros(n), v0, maxiter=maxiter)
    return np.bincount(idx, weights=sign * v, minlength=n)


def _dual_point(sub: _Subproblem, w, f):
    """The feasible dual point of the model's w (module docstring): (beta, D(beta), w(beta))."""
    primal = sub.primal(w)

    def tight(cand):
        return primal - cand[1] <= TIGHT * max(abs(primal), abs(cand[1]))

    if sub.order == 2:
        best = _scaled(sub, _squared_map(sub, f))
    else:
        best, scale = None, sub.margin_scale()
        for tau in BANDS:  # the largest of these lower bounds; the narrowest band among equals
            cand = _scaled(sub, _band_point(sub, w, f, tau * scale))
            if best is None or cand[1] > best[1]:
                best = cand
            if tight(best):
                break
    if POLISH_STEPS and not tight(best):
        polished = _scaled(sub, _polish(sub, best[0], POLISH_STEPS))
        if polished[1] > best[1]:
            best = polished
    return best


# ------------------------------------------------------------------------------------------
# the certificate
# ------------------------------------------------------------------------------------------
def _kkt_l2(sub: _Subproblem, beta, wb, w, f):
    """(complementarity residual, relative stationarity residual, infeasibility) of (w, beta)."""
    A = max(1.0, float(np.max(np.abs(beta), initial=0.0)))
    if sub.task == "svc":
        a = sub.y * beta
        g = sub.y * f - 1.0
        C2 = sub.C
    else:
        a = np.concatenate([np.maximum(beta, 0.0), np.maximum(-beta, 0.0)])
        r = sub.y - f
        g = np.concatenate([-r, r]) + sub.epsilon
        C2 = np.concatenate([sub.C, sub.C])
    if sub.order == 2:
        g = g + a / (2.0 * C2)
    upper = C2 if sub.order == 1 else np.full(a.size, np.inf)
    comp = natural_residual(a / A, upper / A, g)
    stat = float(np.linalg.norm(w - wb)) / _gradient_scale(sub)
    infeas = max(float(np.max(-a, initial=0.0)), float(np.max(a - upper, initial=0.0))) / A
    return comp, stat, infeas


def _gradient_scale(sub: _Subproblem) -> float:
    """||w(beta_0)||, beta_0 the dual map at w = 0: the norm of the primal (sub)gradient at w = 0."""
    if sub.task == "svc":
        beta0 = sub.y * sub.C * (2.0 if sub.order == 2 else 1.0)
    else:
        excess = np.maximum(0.0, np.abs(sub.y) - sub.epsilon)
        beta0 = np.sign(sub.y) * sub.C * (2.0 * excess if sub.order == 2 else (excess > 0))
    norm = float(np.linalg.norm(sub.adjoint(beta0)))
    if not norm > 0:  # every target inside the tube: the optimum is w = 0
        norm = float(np.linalg.norm(sub.adjoint(sub.C)))
    return norm if norm > 0 else 1.0


def _certificate_l2(sub: _Subproblem, w) -> Certificate:
    f = sub.decision(w)
    beta, dual, wb = _dual_point(sub, w, f)
    primal = sub.primal(w)
    comp, stat, infeas = _kkt_l2(sub, beta, wb, w, f)
    return _make(primal, dual, max(comp, stat), infeas)


def _certificate_l1(sub: _Subproblem, w) -> Certificate:
    f = sub.decision(w)
    beta = _squared_map(sub, f)
    grad = -sub.adjoint(beta)             # gradient of sum_i C_i max(0, u_i)^2
    nz = w != 0
    resid = np.where(nz, np.abs(grad + np.sign(w)), np.maximum(0.0, np.abs(grad) - 1.0))
    grad0 = -sub.adjoint(_squared_map(sub, np.zeros(sub.n)))
    kkt = float(np.max(resid, initial=0.0)) / max(1.0, float(np.max(np.abs(grad0), initial=0.0)))
    top = float(np.max(np.abs(grad), initial=0.0))
    rho_max = 1.0 / top if top > 1.0 else 1.0
    a = sub.y * beta
    lin = float(np.sum(a))
    quad = float(np.sum(a * a / (4.0 * sub.C)))
    rho = _best_scaling(lin, quad, rho_max)
    dual = rho * lin - rho * rho * quad
    infeas = max(0.0, rho * top - 1.0)
    return _make(sub.primal(w), dual, kkt, infeas)


def _make(primal, dual, kkt, infeas) -> Certificate:
    gap = primal - dual
    scale = max(abs(primal), abs(dual), np.finfo(float).tiny)
    return Certificate(primal=float(primal), dual=float(dual), gap=float(gap), rel_gap=abs(gap) / scale,
                       kkt_violation=float(kkt), infeasibility=float(infeas))


def _certificate(sub: _Subproblem, w) -> Certificate:
    if not np.all(np.isfinite(w)):
        raise ValueError("the model's coef_ or intercept_ holds NaN or infinite values")
    return _certificate_l1(sub, w) if sub.penalty == "l1" else _certificate_l2(sub, w)


# ------------------------------------------------------------------------------------------
# the reference: the same primal solved by Clarabel, certified by the same certifier
# ------------------------------------------------------------------------------------------
def _reference_solution(sub: _Subproblem) -> np.ndarray:
    import cvxpy as cp

    from ..cvx.reference import CLARABEL_DEFAULTS, _solve

    d = sub.X.shape[1]
    w = cp.Variable(d + (0 if sub.bias is None else 1))
    Xd = sub.X if sp.issparse(sub.X) else np.asarray(sub.X)
    f = Xd @ w[:d] if sub.bias is None else Xd @ w[:d] + sub.bias * w[d]
    u = 1.0 - cp.multiply(sub.y, f) if sub.task == "svc" else cp.abs(sub.y - f) - sub.epsilon
    xi = cp.pos(u)
    loss = sub.C @ xi if sub.order == 1 else sub.C @ cp.square(xi)
    reg = cp.norm1(w) if sub.penalty == "l1" else 0.5 * cp.sum_squares(w)
    prob = cp.Problem(cp.Minimize(reg + loss))
    _solve(prob, "liblinear primal", dict(CLARABEL_DEFAULTS))
    return np.asarray(w.value, dtype=np.float64).ravel()


def _reference(sub: _Subproblem, w, cert: Certificate) -> dict:
    w_ref = _reference_solution(sub)
    ref_cert = _certificate(sub, w_ref)
    f, f_ref = sub.decision(w), sub.decision(w_ref)
    p_ref = ref_cert.primal
    return {"solver": "cvxpy (Clarabel), primal",
            "objective": float(p_ref),
            "objective_diff": float(cert.primal - p_ref),
            "rel_objective_diff": float((cert.primal - p_ref) / max(1.0, abs(p_ref))),
            "max_decision_diff": float(np.max(np.abs(f - f_ref))),
            "prediction_mismatch": float(np.mean((f > 0) != (f_ref > 0))) if sub.task == "svc" else None,
            "reference_rel_gap": float(ref_cert.rel_gap),
            "reference_kkt_violation": float(ref_cert.kkt_violation)}


# ------------------------------------------------------------------------------------------
# the model
# ------------------------------------------------------------------------------------------
def _check_model(model):
    from sklearn.svm import LinearSVC, LinearSVR
    from sklearn.utils.validation import check_is_fitted

    if not isinstance(model, (LinearSVC, LinearSVR)):
        raise TypeError(f"model must be a fitted scikit-learn LinearSVC or LinearSVR, got {type(model).__name__}")
    check_is_fitted(model, "coef_")
    is_svc = isinstance(model, LinearSVC)
    losses = _SVC_LOSSES if is_svc else _SVR_LOSSES
    if model.loss not in losses:
        raise ValueError(f"model.loss is {model.loss!r}; a {type(model).__name__} has loss in {sorted(losses)}")
    if is_svc and model.multi_class == "crammer_singer":
        raise TypeError("LinearSVC(multi_class='crammer_singer') solves one joint multi-class problem "
                        "(Crammer and Singer), not liblinear's binary problems; its certificate is not "
                        "implemented, and certifying it as one-vs-rest would certify a different problem")
    penalty = getattr(model, "penalty", "l2") if is_svc else "l2"
    if penalty not in ("l1", "l2"):
        raise ValueError(f"model.penalty is {penalty!r}; LinearSVC has penalty 'l1' or 'l2'")
    if penalty == "l1" and model.loss != "squared_hinge":
        raise ValueError("penalty='l1' exists with loss='squared_hinge' only (liblinear's L1R_L2LOSS_SVC)")
    return is_svc, losses[model.loss], penalty


def _check_data(model, X, y, sample_weight):
    from sklearn.utils import check_array
    from sklearn.utils.validation import _check_sample_weight

    if X is None:
        raise TypeError("X must be the training inputs the model was fitted on, got None")
    X = check_array(X, accept_sparse="csr", dtype=np.float64, order="C", input_name="X")
    d = np.asarray(model.coef_).shape[-1]
    if X.shape[1] != d:
        raise ValueError(f"X has {X.shape[1]} features but the model was fitted on {d}")
    if y is None:
        raise ValueError("y is required: the training labels (targets) the model was fitted on")
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
    sw_raw = sample_weight
    sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight contains NaN or infinity")
    if np.any(sw < 0):
        raise ValueError("sample_weight must be nonnegative")
    return X, y, sw, sw_raw


def _problem_dict(model, sub: _Subproblem, loss, penalty, n_total, **extra) -> dict:
    C = sub.C
    out = {"task": sub.task, "loss": loss, "penalty": penalty, "C": float(model.C),
           "epsilon": float(sub.epsilon) if sub.task == "svr" else None,
           "fit_intercept": bool(model.fit_intercept),
           "intercept_scaling": float(model.intercept_scaling) if model.fit_intercept else None,
           "dual": model.dual, "n_samples": int(sub.n), "n_features": int(sub.X.shape[1]),
           "C_i_min": float(C.min()), "C_i_max": float(C.max()), "C_i_mean": float(C.mean())}
    out.update(extra)
    if n_total > sub.n:
        out["dropped_samples"] = int(n_total - sub.n)
        out["note"] = (f"{n_total - sub.n} sample(s) of weight 0 left out, as liblinear does: they add "
                       "nothing to the objective")
    if penalty == "l1":
        out["note_l1"] = ("penalty 'l1': kkt_violation is the minimal-norm subgradient residual, and the dual "
                          "is the scaled squared-hinge map (module glopt.audit._liblinear)")
    return out


def certify_liblinear(model, X, y, sample_weight=None, reference=False) -> list:
    """Certificates of a fitted scikit-learn LinearSVC or LinearSVR, one per liblinear subproblem.

    Every number is recomputed from the model's ``coef_`` and ``intercept_``, its hyperparameters
    and the training data; nothing liblinear reports is trusted. The module docstring states the
    primal and dual problems, how the dual point is built from the model's w, and what each
    quantity of the certificate is.

    Parameters
    ----------
    model : sklearn.svm.LinearSVC or sklearn.svm.LinearSVR
        The fitted model: LinearSVC with loss 'hinge' or 'squared_hinge', penalty 'l2' (or 'l1'
        with 'squared_hinge'), multi_class 'ovr'; LinearSVR with either loss. Any ``dual``.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The training inputs the model was fitted on.
    y : array-like of shape (n_samples,)
        The training labels (LinearSVC, any values of ``classes_``) or targets (LinearSVR).
    sample_weight : array-like of shape (n_samples,), optional
        The sample weights passed to ``fit`` (None: ones); samples of weight 0 are left out, as
        liblinear does, and counted in ``problem["dropped_samples"]``.
    reference : bool, default=False
        Also solve each subproblem's primal by Clarabel (cvxpy), certify that solution with the
        same certifier and report the model's distance to it: ``objective`` (the reference's
        primal), ``objective_diff`` (P(model) - P(reference)), ``rel_objective_diff`` (divided by
        max(1, |P(reference)|)), ``max_decision_diff`` (largest difference of the decision values
        on the training inputs), ``prediction_mismatch`` (share of training samples predicted
        differently; None for LinearSVR), ``reference_rel_gap`` and ``reference_kkt_violation``.
        For small and medium problems (an interior-point solve with one slack per sample).

    Returns
    -------
    list of SubproblemReport
        One report per subproblem: ``"binary"`` for two classes, ``"class <label> vs rest"`` for
        each class of a one-vs-rest model, ``"regression"`` for LinearSVR; form
        ``"liblinear:<loss>"`` (``"liblinear:squared_hinge+l1"`` for penalty 'l1').

    Raises
    ------
    TypeError
        When ``model`` is not a fitted LinearSVC or LinearSVR, is a Crammer-Singer LinearSVC, or
        X is None.
    ValueError
        When y is None, or X, y or ``sample_weight`` does not match the model (feature count,
        length, labels not in ``classes_``, negative or non-finite weights), or a subproblem has
        no sample of positive weight.
    """
    is_svc, order, penalty = _check_model(model)
    X, y, sw, sw_raw = _check_data(model, X, y, sample_weight)
    bias = float(model.intercept_scaling) if model.fit_intercept else None
    if bias is not None and not bias > 0:
        raise ValueError(f"model.intercept_scaling must be > 0 with fit_intercept=True, got {model.intercept_scaling!r}")
    n_total = X.shape[0]
    reports = []
    if not is_svc:
        try:
            target = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError("y must hold real targets for a LinearSVR") from None
        if not np.all(np.isfinite(target)):
            raise ValueError("y contains NaN or infinity")
        keep = sw > 0
        if not keep.any():
            raise ValueError("sample_weight is zero everywhere: the problem has no sample")
        sub = _Subproblem(X[keep], target[keep], float(model.C) * sw[keep], task="svr", order=order,
                          penalty="l2", epsilon=float(model.epsilon), bias=bias)
        coef = np.asarray(model.coef_, dtype=np.float64).ravel()
        intercept = float(np.ravel(model.intercept_)[0]) if model.fit_intercept else 0.0
        reports.append(_report(sub, sub.join(coef, intercept), "regression", model.loss, penalty, model,
                               n_total, reference))
        return reports

    from sklearn.utils.class_weight import compute_class_weight

    classes = model.classes_
    _check_labels(y, classes)
    cw = compute_class_weight(model.class_weight, classes=classes, y=y, sample_weight=sw_raw)
    y_idx = np.searchsorted(classes, y)
    coef = np.asarray(model.coef_, dtype=np.float64)
    intercept = np.broadcast_to(np.asarray(model.intercept_, dtype=np.float64).ravel(), (coef.shape[0],)) \
        if model.fit_intercept else np.zeros(coef.shape[0])
    k = classes.size
    if k == 2:
        jobs = [("binary", y_idx == 1, np.where(y_idx == 1, cw[1], cw[0]), 0, classes[1])]
    else:
        jobs = [(f"class {_plain(classes[j])!r} vs rest", y_idx == j, np.where(y_idx == j, cw[j], 1.0), j, classes[j])
                for j in range(k)]
    for label, pos, factor, row, pos_label in jobs:
        Ci = float(model.C) * sw * factor
        keep = Ci > 0
        labels = np.where(pos, 1.0, -1.0)
        if not keep.any():
            raise ValueError(f"the {label} subproblem has no sample of positive weight")
        sub = _Subproblem(X[keep], labels[keep], Ci[keep], task="svc", order=order, penalty=penalty,
                          epsilon=0.0, bias=bias)
        w = sub.join(coef[row], intercept[row])
        reports.append(_report(sub, w, label, model.loss, penalty, model, n_total, reference,
                               positive_class=_plain(pos_label)))
    return reports


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def _report(sub, w, label, loss, penalty, model, n_total, reference, **extra) -> SubproblemReport:
    cert = _certificate(sub, w)
    form = f"liblinear:{loss}" + ("+l1" if penalty == "l1" else "")
    ref = _reference(sub, w, cert) if reference else None
    return SubproblemReport(label=label, form=form, problem=_problem_dict(model, sub, loss, penalty, n_total, **extra),
                            certificate=cert, reference=ref)
