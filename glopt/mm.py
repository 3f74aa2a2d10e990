"""Majorization-minimization for the generalized loss of order p = 1 (DESIGN.md 1.2).

The problem
    min_{w, b}  J(w, b) = 0.5 ||w||^2 + C * sum_ij Sw_ij sqrt(xi_i) sqrt(xi_j),   Sw = D S D,
with xi the hinge (svc) or epsilon-insensitive (svr) slack and D = diag(sqrt(sample weights)),
is not convex: the loss is concave in xi. Its eps-smoothed version J_eps (xi -> xi + eps) has a
tangent majorizer at the current slacks whose minimization is a *weighted* C-SVC / epsilon-SVR
with per-sample bounds C * w_i, w = Sw e / e, e = sqrt(xi + eps) (:func:`gl_weights`). Each MM
step solves that convex problem with any inner solver; J_eps cannot rise by more than the inner
answer's duality gap (J_eps(x+) <= Maj(x+) <= min Maj + gap <= Maj(x) + gap = J_eps(x) + gap),
which is the derived bound the loop checks at every step.

The loop knows no estimator and no solver: an inner solver is any callable
``inner(problem, warm_start_result_or_None) -> SVMResult`` (it may put K @ coef in
``extra["Kcoef"]``, sparing the loop a kernel product); :class:`SMOInner` and :class:`CvxInner`
are the two glopt provides.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._checks import positive_scalar
from .certify import certify
from .problem import SVMProblem
from .result import SVMResult


# --------------------------------------------------------------------------------------------
# the p = 1 objective, its MM weights and its stationarity certificate
# --------------------------------------------------------------------------------------------
def _sw_matvec(S, sqrt_sw, v):
    """Sw @ v = D S D v without forming Sw (S may be a block operator)."""
    return sqrt_sw * (S @ (sqrt_sw * v))


def _slack_and_reg(problem: SVMProblem, coef, b, Kcoef=None):
    Kc = problem.kernel.matvec(problem.X, coef) if Kcoef is None else Kcoef
    return problem.slack(Kc + b), 0.5 * float(coef @ Kc), Kc


def gl_objective(problem: SVMProblem, S, coef, b, eps: float = 0.0, Kcoef=None) -> float:
    """J_eps(coef, b) = 0.5 coef^T K coef + C e^T Sw e, e = sqrt(xi + eps); eps = 0: the true J."""
    xi, reg, _ = _slack_and_reg(problem, coef, b, Kcoef)
    e = np.sqrt(xi + eps)
    return reg + problem.C * float(e @ _sw_matvec(S, np.sqrt(problem.w), e))


def _tangent_slope(Swe, e):
    """d/dxi of e^T Sw e at e = sqrt(xi + eps): (Sw e) / e."""
    return Swe / e


def gl_weights(problem: SVMProblem, S, xi, eps: float) -> np.ndarray:
    """Relative MM weights w = Sw e / e at slacks xi (the dual bounds of the next step are C w)."""
    e = np.sqrt(xi + eps)
    return _tangent_slope(_sw_matvec(S, np.sqrt(problem.w), e), e)


def stationarity(result: SVMResult, problem: SVMProblem, S, eps: float) -> float:
    """Stationarity residual of ``result`` for the smoothed p = 1 problem (DESIGN.md 1.2).

    The conditions w = sum a_i y_i phi_i, sum a_i y_i = 0, 0 <= a_i <= c_i(xi), a_i = c_i(xi) where
    xi_i > 0, a_i = 0 where y_i f_i > 1, with c(xi) = C * gl_weights(xi): the KKT residual of the
    weighted problem whose bounds are recomputed at the result's own slacks.
    """
    xi, _, Kc = _slack_and_reg(problem, result.coef, result.b)
    weighted = replace(problem, weights=gl_weights(problem, S, xi, eps))
    return certify(result, weighted, Kcoef=Kc).kkt_violation


# --------------------------------------------------------------------------------------------
# inner solvers
# --------------------------------------------------------------------------------------------
class SMOInner:
    """Each MM step by glopt's SMO, warm-started from the previous step's a and gradient.

    The bias is then made exactly optimal for the SMO's w (:meth:`SVMProblem.best_bias`): LIBSVM's
    b is accurate only to the stopping tolerance, and the step's large bounds multiply that error
    in the objective MM must decrease. Every inner solver takes the same canonical b, so MM paths
    do not depend on how a solver picks b from a non-unique optimal interval.
    """

    name = "smo"

    def __init__(self, tol: float = 1e-5, **smo_options):
        self.tol = positive_scalar(tol, "tol")
        # double-precision columns: MM warm-starts ~10-30 solves from nearby optima, and the single-
        # precision path's exact finishing pass (n_SV x l kernel entries per solve) made MM 1.3-2x
        # slower (german, banana); MM's memory is not the plain SMO's LIBSVM-parity goal
        self.options = {"precision": "double", **smo_options}

    @staticmethod
    def _warm_start(problem: SVMProblem, warm: SVMResult | None) -> dict:
        """The previous answer with its upper-bounded variables moved to their new bounds.

        Between MM steps every bound changes. A variable at its old bound (positive slack) stays
        at its bound; clipping alone would leave each one whose bound grew free below it, and the
        SMO would spend an iteration pair of full kernel columns on each (magic: ~2,000 of them
        per step). Moving them all changes most support vectors, so the SMO recomputes the
        gradient in one blocked pass over the support vectors instead of from grad0.
        """
        if warm is None:
            return {}
        upper_old = warm.extra.get("upper")
        if upper_old is None or len(upper_old) != len(warm.a):
            return {"a0": warm.a, "grad0": warm.extra.get("grad")}
        upper = problem.upper if problem.task == "svc" else np.concatenate([problem.upper, problem.upper])
        a0 = warm.a.copy()
        at_bound = (warm.a >= upper_old) & (upper_old > 0)
        a0[at_bound] = upper[at_bound]
        return {"a0": a0}

    def with_tol(self, tol: float) -> "SMOInner":
        """The same inner solver at another stopping tolerance (for the inexact-MM schedule)."""
        return SMOInner(tol=tol, **self.options)

    def __call__(self, problem: SVMProblem, warm: SVMResult | None) -> SVMResult:
        from . import smo

        res = smo.solve(problem, tol=self.tol, **self._warm_start(problem, warm), **self.options)
        grad = res.extra["grad"]
        Kc = problem.y * (grad + 1.0) if problem.task == "svc" else grad[:problem.n] - problem.epsilon + problem.y
        return replace(res, b=problem.best_bias(Kc), extra={**res.extra, "Kcoef": Kc})


class CvxInner:
    """Each MM step by the cvxpy reference: compiled once, re-solved with new weights."""

    name = "cvx"

    def __init__(self, **solver_options):
        self.options = solver_options
        self._ref = None

    def __call__(self, problem: SVMProblem, warm: SVMResult | None) -> SVMResult:
        from .cvx import Reference

        if self._ref is None or self._ref.problem.X is not problem.X:
            self._ref = Reference(problem, **self.options)
        res = self._ref.solve(C=problem.C, weights=problem.w)
        Kc = problem.kernel.matvec(problem.X, res.coef)
        return replace(res, b=problem.best_bias(Kc), extra={**res.extra, "Kcoef": Kc})


# --------------------------------------------------------------------------------------------
# the loop
# --------------------------------------------------------------------------------------------
@dataclass
class MMStep:
    objective: float        # J_eps after the step (the monotone quantity)
    true_objective: float   # J (eps = 0)
    inner_gap: float        # duality gap of the inner answer: the allowed rise
    weight_change: float    # max |w_new - w_old| / max |w_old|
    inner_iterations: int
    decreased: bool         # False: J_eps rose, by less than inner_gap (a "flat" step)
    inner_tol: float = float("nan")  # the inner solver's tolerance at this step (if it has one)
    taken: bool = True      # False: a loose-tolerance step that did not decrease J_eps, discarded


@dataclass
class MMHistory:
    steps: list = field(default_factory=list)

    @property
    def objectives(self) -> np.ndarray:
        return np.array([s.objective for s in self.steps])


def solve_mm(problem: SVMProblem, S, inner, *, eps: float = 1e-4, tol: float = 1e-6,
             weight_tol: float = 1e-3, max_iter: int = 100, callback=None, inexact: bool = False,
             loose_tol: float = 1e-3, gap_fraction: float = 0.1) -> SVMResult:
    """Minimize the p = 1 generalized loss objective by majorization-minimization.

    Parameters
    ----------
    problem : SVMProblem with p = 1
        Data, kernel, C, epsilon (svr) and sample weights (the D of Sw = D S D).
    S : array (n, n) or operator with ``@`` (e.g. :class:`glopt.kernels.Correlation`)
        The correlation matrix (entrywise nonnegative).
    inner : callable
        ``inner(problem, warm) -> SVMResult``, e.g. :class:`SMOInner` or :class:`CvxInner`.
    eps : float > 0
        Smoothing of the square roots (margin units); 1e-4 is within 0.02% of the unsmoothed
        optimum on the paper's data sets (DESIGN.md 1.2). The inner tolerance must be <= 0.1 eps.
    tol, weight_tol : float
        Stop when the relative decrease of J_eps is <= tol and the weights change by at most
        weight_tol (max |w_new - w_old| / max |w_old|).

    Each step's rise of J_eps is checked against the inner answer's duality gap: a rise beyond
    it raises RuntimeError (the inner solver did not minimize the majorizer: a bug). A rise
    within it is a "flat" step: it is taken while the weights still converge (it is as good as
    the previous iterate to the inner solver's accuracy, and closer to stationarity), and ends the
    run once the weights have settled (status "optimal"); once a flat step no longer shrinks the
    weight change, MM has resolved all the inner accuracy allows and stops with the previous
    iterate (status "converged-within-inner-accuracy").
    max_iter : int
        Maximal number of MM steps (a ConvergenceWarning when reached).
    inexact : bool
        Inexact MM (needs an inner solver with ``tol`` and ``with_tol``, e.g. :class:`SMOInner`):
        the start and the first steps are solved at the looser tolerance max(loose_tol, inner.tol),
        divided by 10 after any step whose duality gap exceeds gap_fraction x its decrease of J_eps
        (the inner error is no longer small against the progress), that does not decrease J_eps
        (such a step is discarded, ``taken=False`` in the history, and redone tighter) or that
        passes the stopping test. MM stops only at inner.tol, by the rules above, so the stopping
        rule and the final certificate are those of plain MM; every step's rise is still checked
        against its own duality gap, which bounds it at any tolerance. (The refusal of an inner
        tol > 0.1 eps concerns inner.tol: a loose step that rises is discarded, not taken, so the
        non-monotone loose regime of DESIGN.md 1.2 never reaches the result.) Off by default, so
        that MM paths compare step by step across inner solvers, and not used by the estimators:
        measured, it cut the inner iterations by 26% over 24 KEEL problems, but on magic its
        path had a longer tail at the final tolerance (41 steps against 29; 191 s against 131 s).
    loose_tol, gap_fraction : float
        Starting inner tolerance and the gap/progress ratio that triggers tightening (inexact).

    Returns
    -------
    SVMResult of the last iterate taken, with ``objective`` = J (eps = 0), ``extra["smoothed_objective"]``,
    ``extra["history"]`` (:class:`MMHistory`), ``extra["stationarity"]``, ``extra["weights"]`` (at
    the final slacks) and ``extra["certificate"]`` (that of the weighted SVM with those weights:
    its ``kkt_violation`` is the stationarity residual).
    ``n_iter`` counts MM steps; ``extra["inner_iterations"]`` the inner solver's iterations.
    """
    # BLAS on one thread: MM's decisions (decrease, flat step, stop) compare objectives that
    # differ in the last digits near the end, and a threaded BLAS sums long dot products in an
    # order set by its thread count, so the MM path would depend on it too (magic: 31 steps or
    # 47). MM's vectors gain nothing from BLAS threads, whose busy-waiting between calls took a
    # core from the OpenMP kernels (11% of the CPU time).
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _solve_mm(problem, S, inner, eps=eps, tol=tol, weight_tol=weight_tol, max_iter=max_iter,
                         callback=callback, inexact=inexact, loose_tol=loose_tol,
                         gap_fraction=gap_fraction)


def _solve_mm(problem: SVMProblem, S, inner, *, eps: float = 1e-4, tol: float = 1e-6,
              weight_tol: float = 1e-3, max_iter: int = 100, callback=None, inexact: bool = False,
              loose_tol: float = 1e-3, gap_fraction: float = 0.1) -> SVMResult:
    """The loop of :func:`solve_mm` (BLAS limits set by the caller)."""
    if problem.p != 1:
        raise ValueError("p must be 1 for the MM solver (p = 2 is convex: see glopt.quadratic)")
    eps = positive_scalar(eps, "eps")
    tol = positive_scalar(tol, "tol")
    if getattr(inner, "tol", 0.0) > 0.1 * eps:
        raise ValueError(f"the inner solver's tol ({inner.tol:g}) must be <= 0.1 * eps ({0.1 * eps:g}); "
                         "a looser inner solve makes MM non-monotone (DESIGN.md 1.2)")
    if S.shape != (problem.n, problem.n):
        raise ValueError(f"S has shape {S.shape} but there are {problem.n} samples")
    weight_tol = positive_scalar(weight_tol, "weight_tol")
    t0 = time.perf_counter()
    sqrt_sw = np.sqrt(problem.w)
    history = MMHistory()
    rounding = 64 * np.finfo(float).eps

    # Sw e with e = sqrt(xi + eps) = sqrt(eps) + (e - sqrt(eps)): the second term and sqrt(xi)
    # vanish wherever xi = 0, so after one full product S @ sqrt(sw) each step needs S only at
    # the columns of the samples with positive slack (both vectors in one pass).
    S_base = S @ sqrt_sw

    def evaluate(res, prob):
        # inner solvers may hand over K @ coef (the SMO has it from its gradient)
        xi, reg, Kc = _slack_and_reg(prob, res.coef, res.b, res.extra.get("Kcoef"))
        e, e0 = np.sqrt(xi + eps), np.sqrt(xi)
        prod = S @ (sqrt_sw[:, None] * np.column_stack([e - np.sqrt(eps), e0]))
        Se = sqrt_sw * (np.sqrt(eps) * S_base + prod[:, 0])
        J_eps = reg + prob.C * float(e @ Se)
        J = reg + prob.C * float(e0 @ (sqrt_sw * prod[:, 1]))
        return Kc, J_eps, J, _tangent_slope(Se, e)

    # inexact MM: the inner tolerance of the current step (see the docstring); final_tol is the
    # user's, the only one at which MM may stop
    final_tol = getattr(inner, "tol", float("nan"))
    inexact = bool(inexact) and hasattr(inner, "with_tol")
    if inexact:
        loose_tol = positive_scalar(loose_tol, "loose_tol")
        gap_fraction = positive_scalar(gap_fraction, "gap_fraction")
    step_tol = max(loose_tol, final_tol) if inexact else final_tol
    step_inner = inner.with_tol(step_tol) if inexact and step_tol > final_tol else inner

    def tighten():
        nonlocal step_tol, step_inner
        step_tol = max(final_tol, step_tol / 10.0)
        step_inner = inner if step_tol <= final_tol else inner.with_tol(step_tol)

    # start: the standard SVM (S = I) with the sample weights. Its accuracy only sets where MM
    # starts: the bound J_eps(x+) <= J_eps(x) + gap holds from any x.
    current = step_inner(problem, None)
    inner_iters = current.n_iter
    Kc, J_eps, J, weights = evaluate(current, problem)
    history.steps.append(MMStep(J_eps, J, 0.0, np.inf, current.n_iter, True, step_tol))
    status = "max_iter"
    # weight change of the previous step, if it was solved at the final tolerance (the flat-step
    # rule below compares two such steps only)
    prev_final_change = np.inf
    current_final = not inexact or step_tol <= final_tol  # current came from a final-tol solve
    for _ in range(max_iter):
        loose = inexact and step_tol > final_tol
        step_problem = replace(problem, weights=weights)
        candidate = step_inner(step_problem, current)
        inner_iters += candidate.n_iter
        Kc_c, J_eps_c, J_c, weights_c = evaluate(candidate, step_problem)
        gap = max(0.0, certify(candidate, step_problem, Kcoef=Kc_c).gap)
        change = float(np.max(np.abs(weights_c - weights)) / np.max(np.abs(weights)))
        rise = J_eps_c - J_eps
        if rise > gap + rounding * abs(J_eps):
            raise RuntimeError(
                f"MM objective rose by {rise:.3e}, more than the inner answer's duality gap {gap:.3e} "
                "allows: the inner solver did not return the minimizer of the majorizer (a bug)")
        # a rise (within the gap, checked above): J_eps is flat at the inner solver's resolution.
        # A decrease always counts as progress: the gap bounds the inner error, it does not
        # measure it, so a decrease smaller than the gap can still be real.
        flat = rise > 0
        prev_change, prev_final_change = prev_final_change, (np.inf if loose else change)
        history.steps.append(MMStep(J_eps_c, J_c, gap, change, candidate.n_iter, rise <= 0, step_tol,
                                    taken=not (loose and flat)))
        if callback is not None:
            callback(history.steps[-1])
        if loose:
            # a loose step is taken only if it decreased J_eps; MM never stops at a loose
            # tolerance: where plain MM would stop (or the inner error is a large part of the
            # progress), the tolerance is tightened instead
            if flat:
                tighten()
                continue
            decrease = -rise / max(abs(J_eps), np.finfo(float).tiny)
            current, Kc, J_eps, weights = candidate, Kc_c, J_eps_c, weights_c
            if gap > gap_fraction * (-rise) or (decrease <= tol and change <= weight_tol):
                tighten()
            continue
        if flat and change <= weight_tol:
            # J_eps flat and the weights settled: converged. The candidate is as good as the
            # previous iterate to the inner accuracy and the more stationary of the two.
            current, Kc, J_eps, weights = candidate, Kc_c, J_eps_c, weights_c
            status = "optimal"
            break
        if flat and change >= prev_change and current_final:
            # flat, and the weights no longer converge: MM has resolved all the inner accuracy
            # allows. Keep the previous (lower) iterate, itself a final-tolerance solve.
            status = "converged-within-inner-accuracy"
            break
        # a flat step whose weights still converge is taken even if J_eps rose (within the gap):
        # it is as good as the previous iterate to the inner accuracy and closer to stationarity
        decrease = max(0.0, -rise) / max(abs(J_eps), np.finfo(float).tiny)
        current, Kc, J_eps, weights = candidate, Kc_c, J_eps_c, weights_c
        current_final = True
        if decrease <= tol and change <= weight_tol:
            status = "optimal"
            break
    if status == "max_iter":
        warnings.warn(f"MM stopped after max_iter={max_iter} steps before its relative objective change "
                      f"reached tol={tol:g} (last weight change {history.steps[-1].weight_change:.2e}); "
                      "raise max_iter, loosen tol, or increase eps", ConvergenceWarning, stacklevel=3)
    # The step objectives (history) used K coef as the inner solver handed it over (the SMO's
    # gradient, accurate to rounding); sqrt(xi) turns a 1e-16 slack into 1e-8, so the reported J
    # is recomputed from (coef, b) directly, reproducible by gl_objective.
    J = gl_objective(problem, S, current.coef, current.b)
    # stationarity(current, problem, S, eps), from the weights already at hand
    final = certify(current, replace(problem, weights=weights), Kcoef=Kc)
    return replace(current, objective=J, dual_objective=float("nan"), status=status,
                   n_iter=len(history.steps) - 1, solve_time=time.perf_counter() - t0,
                   solver=f"mm-{getattr(inner, 'name', 'custom')}",
                   extra={**current.extra, "smoothed_objective": J_eps, "history": history,
                          "stationarity": final.kkt_violation, "certificate": final, "weights": weights,
                          "inner_iterations": inner_iters})
