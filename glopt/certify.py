"""One certifier for every solver's answer: objectives, duality gap, KKT violation, feasibility.

It recomputes everything from the result's dual variables ``a`` and bias ``b`` and the problem
data; it trusts nothing the solver reports and knows no solver (neither :mod:`glopt.cvx` nor
:mod:`glopt.smo`). Kernel products are taken in row blocks, so it certifies large problems too.

Quantities (notation of :mod:`glopt.problem`, f = K coef + b on the training inputs):

- ``primal``: 0.5 coef^T K coef + loss(slack(f)), the primal objective of the solution
  w = sum_j coef_j phi(x_j) with the result's b and the optimal slacks for that (w, b);
- ``dual``: the dual objective at a (p = 2: the Wolfe dual at u = R^T zeta, see
  :mod:`glopt.cvx.reference`);
- ``gap`` = primal - dual and ``rel_gap`` = |gap| / max(|primal|, |dual|);
- ``kkt_violation``: p = 1, the natural residual max_t |a_t - clip(a_t - g_t, 0, u_t)| (a and u
  divided by A, see below) of the dual QP  min 0.5 a^T Q a + p^T a, s.t. y^T a = 0, 0 <= a <= u, with g = Q a + p + b y the
  Lagrangian gradient (b is the balance multiplier); it is at most the SMO stopping quantity
  m(a) - M(a) when b lies in [M(a), m(a)] (as LIBSVM's b does), and needs no rule for "at a
  bound". p = 2, the largest complementarity residual |min(a_t / A, s_t)| (s_t the slack of the
  constraint a_t belongs to, A = max(1, max |a|)) and |min(mu_i / A, zeta_i)|;
- ``infeasibility``: the largest violation of a's constraints (balance, bounds; p = 2 also
  mu = 2 C S_w zeta - a_sum >= 0), relative to A;
- ``margin_dual_error``: max |margin duals - a| / max(1, max |a|) when the result carries the
  dual values of the primal margin constraints (a cvxpy primal solve), else NaN.

Dual-variable quantities are relative to A = max(1, max |a|) because a scales with C.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .problem import SVMProblem
from .result import SVMResult


@dataclass(frozen=True)
class Certificate:
    primal: float
    dual: float
    gap: float
    rel_gap: float
    kkt_violation: float
    infeasibility: float
    margin_dual_error: float = float("nan")

    def ok(self, tol: float = 1e-6, gap_tol: float | None = None) -> bool:
        """True when KKT violation, infeasibility and margin-dual error are <= tol and the
        relative gap is <= gap_tol (default tol)."""
        gap_tol = tol if gap_tol is None else gap_tol
        margin_ok = np.isnan(self.margin_dual_error) or self.margin_dual_error <= tol
        return bool(self.rel_gap <= gap_tol and self.kkt_violation <= tol
                    and self.infeasibility <= tol and margin_ok)

    def __str__(self):
        rows = [("primal objective", self.primal), ("dual objective", self.dual),
                ("duality gap", self.gap), ("relative gap", self.rel_gap),
                ("KKT violation", self.kkt_violation), ("infeasibility", self.infeasibility),
                ("margin duals - a", self.margin_dual_error)]
        return "\n".join(f"{name:>18s}  {value: .3e}" for name, value in rows)


def qp_form(problem: SVMProblem, Kcoef: np.ndarray):
    """Signs y_t, gradient G = Q a + p and bounds u of the p = 1 dual QP in LIBSVM form."""
    pr = problem
    if pr.task == "svc":
        return pr.y, pr.y * Kcoef - 1.0, pr.upper
    ysign = np.concatenate([np.ones(pr.n), -np.ones(pr.n)])
    grad = np.concatenate([Kcoef + pr.epsilon - pr.y, -Kcoef + pr.epsilon + pr.y])
    return ysign, grad, np.tile(pr.upper, 2)


def max_violation(a, ysign, grad, upper) -> float:
    """m(a) - M(a), clipped at 0: the maximal violating pair of the box-and-balance QP.

    This is the SMO stopping quantity; it needs exact bounds (a_t == 0 or a_t == u_t), as an SMO
    answer has and an interior-point answer has not.
    """
    pos = ysign > 0
    up = (pos & (a < upper)) | (~pos & (a > 0))
    low = (pos & (a > 0)) | (~pos & (a < upper))
    score = -ysign * grad
    if not up.any() or not low.any():
        return 0.0
    return max(0.0, float(score[up].max() - score[low].min()))


def natural_residual(a, upper, lagrangian_grad) -> float:
    """max_t |a_t - clip(a_t - g_t, 0, u_t)| with g the gradient of the Lagrangian.

    Zero exactly at a KKT point; continuous in a, so an interior-point answer a hair inside its
    box is judged by how far it is from optimal, not by how it is classified.
    """
    return float(np.max(np.abs(a - np.clip(a - lagrangian_grad, 0.0, upper))))


def certify(result: SVMResult, problem: SVMProblem, Kcoef=None) -> Certificate:
    """Certificate of ``result`` as a solution of ``problem`` (see the module docstring).

    ``Kcoef`` (K @ coef on the training inputs) may be passed when the caller has it already.
    """
    pr = problem
    n_var = pr.n if pr.task == "svc" else 2 * pr.n
    a = np.asarray(result.a, dtype=np.float64)
    if a.shape != (n_var,):
        raise ValueError(f"result.a has shape {a.shape}; a {pr.task} problem with {pr.n} samples "
                         f"has {n_var} dual variables")
    if not np.all(np.isfinite(a)) or not np.isfinite(result.b):
        raise ValueError("result holds NaN or infinite dual variables or bias")
    coef = pr.y * a if pr.task == "svc" else a[:pr.n] - a[pr.n:]
    Kc = pr.kernel.matvec(pr.X, coef) if Kcoef is None else np.asarray(Kcoef, dtype=np.float64)
    reg = 0.5 * float(coef @ Kc)
    f = Kc + result.b
    zeta = pr.slack(f)
    lin = float(a.sum()) if pr.task == "svc" else float(pr.y @ coef - pr.epsilon * a.sum())
    a_sum = a if pr.task == "svc" else a[:pr.n] + a[pr.n:]
    balance = abs(float(coef.sum()))
    a_scale = max(1.0, float(np.abs(a).max()))

    if pr.p == 1:
        loss = float(pr.upper @ zeta)
        primal, dual = reg + loss, lin - reg
        ysign, grad, upper = qp_form(pr, Kc)
        infeas = max(balance, float(np.max(-a, initial=0.0)), float(np.max(a - upper, initial=0.0))) / a_scale
        # the result's b is the multiplier of y^T a = 0: G + b y is the Lagrangian gradient
        kkt = natural_residual(a / a_scale, upper / a_scale, grad + result.b * ysign)
    else:
        Sz = pr.s_weighted() @ zeta
        loss = pr.C * float(zeta @ Sz)
        primal, dual = reg + loss, lin - reg - loss
        mu = 2.0 * pr.C * Sz - a_sum
        infeas = max(balance, float(np.max(-a, initial=0.0)), float(np.max(-mu, initial=0.0))) / a_scale
        if pr.task == "svc":
            slack = np.maximum(0.0, pr.y * f - 1.0)  # y f - 1 + xi with xi the optimal slack
        else:
            r = pr.y - f
            slack = np.concatenate([pr.epsilon + zeta - r, pr.epsilon + zeta + r])
        kkt = max(float(np.max(np.abs(np.minimum(a / a_scale, slack)))),
                  float(np.max(np.abs(np.minimum(mu / a_scale, zeta)))), infeas)

    gap = primal - dual
    scale = max(abs(primal), abs(dual), np.finfo(float).tiny)
    md = result.extra.get("margin_duals")
    md_err = float(np.max(np.abs(np.asarray(md) - a))) / a_scale if md is not None else float("nan")
    return Certificate(primal=primal, dual=dual, gap=gap, rel_gap=abs(gap) / scale,
                       kkt_violation=kkt, infeasibility=infeas, margin_dual_error=md_err)


def result_from_sklearn(estimator, problem: SVMProblem) -> SVMResult:
    """An :class:`SVMResult` from a fitted scikit-learn ``SVC``/``SVR`` (LIBSVM) on ``problem``.

    For SVC the labels must be -1/+1 so that ``dual_coef_ = y_i a_i`` in problem order.
    """
    coef = np.zeros(problem.n)
    coef[estimator.support_] = np.asarray(estimator.dual_coef_).ravel()
    if problem.task == "svc":
        if list(estimator.classes_) != [-1, 1]:
            raise ValueError(f"the estimator must be fit on labels -1/+1, got {estimator.classes_}")
        a = problem.y * coef
    else:
        a = np.concatenate([np.maximum(coef, 0.0), np.maximum(-coef, 0.0)])
    return SVMResult(coef=coef, b=float(np.ravel(estimator.intercept_)[0]), a=a,
                     n_iter=int(np.sum(estimator.n_iter_)), solver="libsvm")
