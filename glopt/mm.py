"""Majorization-minimization for the generalized loss of order p = 1.

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

import numbers
import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._checks import positive_scalar
from ._newton import newton_rounds
from .certify import certify
from .dual import dual_form
from .losses import mm_weights
from .problem import SVMProblem
from .result import SVMResult


#: MM on at most this many samples runs on one thread (BLAS and OpenMP, :func:`_thread_limits`).
SERIAL_SAMPLES = 2048


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
    """J_eps(coef, b) = 0.5 coef^T K coef + C e^T Sw e, e = sqrt(xi + eps); eps = 0: the true J.

    Parameters
    ----------
    problem : SVMProblem
        Data, kernel, C, epsilon (svr) and sample weights (the D of Sw = D S D).
    S : ndarray or operator with ``@``, shape (n, n)
        The correlation matrix.
    coef : ndarray of shape (n,)
        Expansion coefficients of the decision function f = K coef + b.
    b : float
        Bias of the decision function.
    eps : float >= 0, default 0.0
        Smoothing of the square roots; 0 gives the true objective J.
    Kcoef : ndarray of shape (n,), optional
        K @ coef on the training inputs, when the caller has it already (else computed).

    Returns
    -------
    float
        The objective J_eps(coef, b).
    """
    if problem.n <= SERIAL_SAMPLES:
        # on the thread count solve_mm computes its reported J with: a fused product's rounding
        # depends on its threads, and sqrt(xi) magnifies a rounding of a zero slack
        with _thread_limits(problem.n):
            return _gl_objective(problem, S, coef, b, eps, Kcoef)
    return _gl_objective(problem, S, coef, b, eps, Kcoef)


def _gl_objective(problem, S, coef, b, eps, Kcoef) -> float:
    xi, reg, _ = _slack_and_reg(problem, coef, b, Kcoef)
    e = np.sqrt(xi + eps)
    return reg + problem.C * float(e @ _sw_matvec(S, np.sqrt(problem.sample_weight), e))


def _tangent_slope(Swe, e):
    """d/dxi of e^T Sw e at e = sqrt(xi + eps): (Sw e) / e."""
    return Swe / e


def gl_weights(problem: SVMProblem, S, xi, eps: float) -> np.ndarray:
    """Relative MM weights w = Sw e / e at slacks xi, e = sqrt(xi + eps).

    This is :func:`glopt.losses.mm_weights` with the problem's sample weights; the dual bounds
    of the next step are C w.

    Parameters
    ----------
    problem : SVMProblem
        The problem whose sample weights give the D of Sw = D S D.
    S : ndarray or operator with ``@``, shape (n, n)
        The correlation matrix.
    xi : ndarray of shape (n,)
        Nonnegative slacks.
    eps : float > 0
        Smoothing of the square roots.

    Returns
    -------
    ndarray of shape (n,)
        The relative weights w.
    """
    return mm_weights(xi, S, eps, problem.sample_weight)


def stationarity(result: SVMResult, problem: SVMProblem, S, eps: float) -> float:
    """Stationarity residual of ``result`` for the smoothed p = 1 problem (docs/mathematics.md §3).

    The conditions w = sum a_i y_i phi_i, sum a_i y_i = 0, 0 <= a_i <= c_i(xi), a_i = c_i(xi) where
    xi_i > 0, a_i = 0 where y_i f_i > 1, with c(xi) = C * gl_weights(xi): the KKT residual of the
    weighted problem whose bounds are recomputed at the result's own slacks.

    Parameters
    ----------
    result : SVMResult
        The answer to check (its coef, b and dual variables a).
    problem : SVMProblem
        The p = 1 problem, with its sample weights.
    S : ndarray or operator with ``@``, shape (n, n)
        The correlation matrix.
    eps : float > 0
        Smoothing of the square roots.

    Returns
    -------
    float
        The stationarity residual (the ``kkt_violation`` of :func:`glopt.certify.certify` for the
        weighted problem).
    """
    xi, _, Kc = _slack_and_reg(problem, result.coef, result.b)
    weighted = replace(problem, weights=gl_weights(problem, S, xi, eps))
    return certify(result, weighted, Kcoef=Kc).kkt_violation


# --------------------------------------------------------------------------------------------
# inner solvers
# --------------------------------------------------------------------------------------------
#: A dual matrix Q of at most this many bytes is computed once per MM run and kept: each step's
#: SMO answer is then finished by Newton steps on its free variables (:func:`_newton_free`).
DENSE_KERNEL_BYTES = 64 << 20

#: The SMO of one step runs in chunks of max(NEWTON_CHUNK, l) iterations between Newton steps.
NEWTON_CHUNK = 1000

#: At most this many Newton finishes (each followed by an SMO run) per step.
NEWTON_STARTS = 50

#: An SMO run that meets its tolerance within this many iterations after a Newton finish ends
#: the step (its gap is then that of the finish).
NEWTON_SETTLED = 10

#: A Newton step on more free variables than this is not tried (its factorization would cost
#: more than the SMO iterations it saves).
NEWTON_MAX_FREE = 1500

#: At most this many rounds (solves with the kept factor, one bound change each) per finish, and
#: at most NEWTON_WORK flops over its rounds (m^3 / 3 per factorization, O(m^2) per round on m
#: free variables, l^2 per gradient): the SMO takes over from there. A round costs O(m^2), so a
#: finish can afford the hundred or more bound changes that an MM step's first finish often needs.
NEWTON_ROUNDS = 200
NEWTON_WORK = 2e8


class _DualMatrix:
    """The dual's Q = diag(s) K[index][:, index] diag(s) of one problem, computed once per MM run
    (small problems only; the signs and the sample of each variable do not change between steps)."""

    def __init__(self, problem: SVMProblem, form):
        self.X, self.kernel = problem.X, problem.kernel
        self.index, self.sign = form.index, form.sign
        self.Q = form.dense_q(np.asarray(problem.kernel(problem.X), dtype=np.float64))

    def fits(self, problem: SVMProblem, form) -> bool:
        return (problem.X is self.X and problem.kernel is self.kernel
                and np.array_equal(form.index, self.index) and np.array_equal(form.sign, self.sign))

    @staticmethod
    def affordable(form) -> bool:
        return 8.0 * form.size * form.size <= DENSE_KERNEL_BYTES


def _newton_free(form, Q, a, grad, tol):
    """Active-set Newton steps of the dual from ``a`` (feasible, ``grad`` = Q a + q there).

    The SMO changes two variables at a time: on problems with large bounds and an ill-conditioned
    kernel (near-hard margins, duplicated inputs) it needs 100-1000 x l iterations to settle the
    free variables, whose optimum for a fixed active set is one linear solve. Each round solves
    min g^T d + 0.5 d^T Q d over the free set F with s^T d = 0 (with Q_FF + delta I, delta
    regularizing duplicated inputs) and takes the exact line-search step, cut where a variable
    reaches its bound (it leaves F). At the optimum over F the multiplier of s^T d = 0 gives every
    bound variable's KKT violation, and those violating by more than ``tol`` join F; once a
    variable released with others moves straight out of the box, the rounds release the most
    violating one at a time (the primal active-set method, whose released variable moves inside).
    Every step decreases the dual objective and keeps the point feasible; the point is the answer
    only if it meets the SMO's stopping rule at its tolerance (:func:`_kkt_violation`), else the
    SMO goes on from it. Returns the new (a, grad), or None when no step was taken.

    The rounds run compiled (:func:`glopt._newton.newton_rounds`) on a Cholesky factor of
    Q_FF + delta I that each bound change updates in O(m^2): a finish takes up to NEWTON_ROUNDS
    rounds, which numpy's per-call overhead and a new factorization per round would make cost
    more than the SMO iterations they save.
    """
    a = np.array(a, dtype=np.float64)
    grad = np.array(grad, dtype=np.float64)
    if not newton_rounds(Q, a, grad, form.upper, form.sign, form.linear, float(tol), NEWTON_ROUNDS,
                         NEWTON_MAX_FREE, NEWTON_WORK):
        return None
    np.clip(a, 0.0, form.upper, out=a)
    # the gradient from Q again rather than from the updates: the bounds are large, and the SMO
    # and the certificate read K coef from it
    return a, Q @ a + form.linear


class SMOInner:
    """Each MM step by glopt's SMO, warm-started from the previous step's answer.

    It hands K @ coef (from the SMO's gradient) to the loop in ``extra["Kcoef"]``. The loop then
    replaces the SMO's bias by the exactly optimal one for its w (:meth:`SVMProblem.best_bias`):
    LIBSVM's b is accurate only to the stopping tolerance, the step's large bounds multiply that
    error in the objective MM must decrease, and every inner solver so takes the same canonical b.

    On small problems (the dual's Q in at most ``DENSE_KERNEL_BYTES``) Q is computed once per MM
    run, and each step alternates active-set Newton steps (:func:`_newton_free`) with SMO chunks
    of max(NEWTON_CHUNK, l) iterations, starting with a Newton step from the warm start: an MM
    step's bounds are large where slacks are zero (about 1 / sqrt(eps) times the row sums of S),
    and the SMO alone then needs up to 1000 x l iterations per step. The answer meets the SMO's own stopping rule at ``tol`` (the maximal violating
    pair m(a) - M(a), from the exact gradient Q a + q), whether an SMO run or a Newton step got
    there, with a duality gap near rounding, so MM's steps are rarely redone tighter.

    Parameters
    ----------
    tol : float > 0, default=1e-5
        Stopping tolerance of the SMO (maximal KKT violation); :func:`solve_mm` needs it
        <= 0.1 eps.
    newton : bool, default=True
        Newton steps between SMO chunks on small problems (above); False: the SMO alone.
    **smo_options : dict
        Further options of :func:`glopt.smo.solve` (``precision`` is 'double' unless given).
    """

    name = "smo"

    def __init__(self, tol: float = 1e-5, newton: bool = True, **smo_options):
        self.tol = positive_scalar(tol, "tol")
        self.newton = bool(newton)
        # double-precision columns: MM warm-starts ~10-30 solves from nearby optima, and the single-
        # precision path's exact finishing pass (n_SV x l kernel entries per solve) made MM 1.3-2x
        # slower (german, banana); MM's memory is not the plain SMO's LIBSVM-parity goal
        self.options = {"precision": "double", **smo_options}
        self._kernel = [None]  # shared with the copies of with_tol: one kernel matrix per MM run

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
        upper = dual_form(problem).upper
        if np.array_equal(upper, upper_old):  # the same problem again (a step redone tighter)
            return {"a0": warm.a, "grad0": warm.extra.get("grad")}
        a0 = warm.a.copy()
        at_bound = (warm.a >= upper_old) & (upper_old > 0)
        a0[at_bound] = upper[at_bound]
        return {"a0": a0}

    def with_tol(self, tol: float) -> "SMOInner":
        """The same inner solver at another stopping tolerance (for the inexact-MM schedule).

        Parameters
        ----------
        tol : float > 0
            The new stopping tolerance.

        Returns
        -------
        SMOInner
            A new inner solver with the same options and tolerance ``tol``.
        """
        other = SMOInner(tol=tol, newton=self.newton, **self.options)
        other._kernel = self._kernel
        return other

    def _dual_matrix(self, problem: SVMProblem, form):
        """The cached dual matrix Q when the Newton finish applies to ``problem``, else None."""
        if (not self.newton or form.nu or "callback" in self.options
                or not _DualMatrix.affordable(form)):
            return None
        cached = self._kernel[0]
        if cached is None or not cached.fits(problem, form):
            cached = self._kernel[0] = _DualMatrix(problem, form)
        return cached.Q

    def __call__(self, problem: SVMProblem, warm: SVMResult | None) -> SVMResult:
        from . import smo

        form = dual_form(problem)
        options = dict(self.options)
        Q = self._dual_matrix(problem, form)
        start = self._warm_start(problem, warm)
        if Q is None:
            res = smo.solve(problem, tol=self.tol, **start, **options)
        else:
            res = self._solve_with_newton(problem, form, Q, start, options)
        grad = res.extra["grad"]
        Kc = problem.y * (grad + 1.0) if problem.task == "svc" else grad[:problem.n] - problem.epsilon + problem.y
        return replace(res, extra={**res.extra, "Kcoef": Kc})

    def _solve_with_newton(self, problem, form, Q, start, options) -> SVMResult:
        """SMO chunks alternating with Newton finishes, until an SMO run or a Newton point meets
        the stopping rule at ``tol``."""
        from . import smo

        t0 = time.perf_counter()
        max_iter = options.pop("max_iter", None)
        chunk = max(NEWTON_CHUNK, form.size)
        total = 0

        def run(limited, **point):
            nonlocal total
            opts = dict(options)
            if max_iter is not None:
                opts["max_iter"] = max(1, int(max_iter) - total)
            if limited:  # stop after one chunk (status "callback") for the next Newton finish
                opts.update(callback=lambda info: True, callback_every=chunk)
            out = smo.solve(problem, tol=self.tol, **point, **opts)
            total += out.n_iter
            return out

        def done(a, grad):
            """The Newton point as the answer when it meets the SMO's own stopping rule at tol."""
            violation, b = _kkt_violation(form, a, grad)
            if not violation <= self.tol:
                return None
            extra = {"grad": grad, "violation": violation, "rho": -b, "n_sv": int(np.count_nonzero(form.coef(a))),
                     "n_bounded": int(np.count_nonzero(a >= form.upper)), "tol": float(self.tol),
                     "upper": form.upper, "newton": True}
            return SVMResult(coef=form.coef(a), b=b, a=a, objective=float("nan"),
                             dual_objective=-0.5 * float(a @ (grad + form.linear)), status="optimal", n_iter=total,
                             solve_time=time.perf_counter() - t0, solver="smo-wss3+newton", extra=extra)

        if "a0" in start:
            # the previous step's free set is mostly this one's: a Newton finish before any SMO
            # iteration (the gradient at the start from Q, which spares the engine its pass)
            a0 = form.feasible_start(start["a0"])
            grad0 = Q @ a0 + form.linear
            polished = _newton_free(form, Q, a0, grad0, self.tol)
            if polished is not None and (answer := done(*polished)) is not None:
                return answer
            start = {"a0": a0, "grad0": grad0} if polished is None else {"a0": polished[0], "grad0": polished[1]}
            finished = polished is not None
        else:
            finished = False
        res = run(True, **start)
        for k in range(NEWTON_STARTS):
            # done when the SMO met its tolerance right after a Newton finish (hardly moving);
            # after SMO iterations of its own, one more finish shrinks the duality gap
            if res.status == "max_iter" or (res.status == "optimal" and finished and res.n_iter <= NEWTON_SETTLED):
                break
            polished = _newton_free(form, Q, res.a, res.extra["grad"], self.tol)
            if polished is None:
                break
            if (answer := done(*polished)) is not None:
                return answer
            settled = res.status == "optimal"
            res = run(k + 1 < NEWTON_STARTS, a0=polished[0], grad0=polished[1])
            finished = True
            if settled:
                break
        if res.status == "callback":
            res = run(False, a0=res.a, grad0=res.extra["grad"])
        return replace(res, n_iter=total, solve_time=time.perf_counter() - t0,
                       extra={**res.extra, "newton": True})


def _kkt_violation(form, a, grad):
    """The SMO's stopping quantity m(a) - M(a) (LIBSVM's maximal violating pair) at ``a`` with
    gradient ``grad``, and the bias -(m + M) / 2 of that point."""
    u, s = form.upper, form.sign
    v = -s * grad
    up = ((s > 0) & (a < u)) | ((s < 0) & (a > 0))
    low = ((s > 0) & (a > 0)) | ((s < 0) & (a < u))
    if not (up.any() and low.any()):
        return 0.0, 0.0
    m, M = float(np.max(v[up])), float(np.min(v[low]))
    return m - M, 0.5 * (m + M)


class CvxInner:
    """Each MM step by the cvxpy reference: compiled once, re-solved with new weights.

    Parameters
    ----------
    **solver_options : dict
        Clarabel settings passed to :class:`glopt.cvx.Reference`.
    """

    name = "cvx"

    def __init__(self, **solver_options):
        self.options = solver_options
        self._ref = None

    def __call__(self, problem: SVMProblem, warm: SVMResult | None) -> SVMResult:
        from .cvx import Reference

        if self._ref is None or self._ref.problem.X is not problem.X:
            self._ref = Reference(problem, **self.options)
        res = self._ref.solve(C=problem.C, weights=problem.sample_weight)
        return replace(res, extra={**res.extra, "Kcoef": problem.kernel.matvec(problem.X, res.coef)})


# --------------------------------------------------------------------------------------------
# the loop
# --------------------------------------------------------------------------------------------
@dataclass
class MMStep:
    """One MM step, taken or not, as :class:`MMHistory` records it.

    Parameters
    ----------
    objective : float
        J_eps after the step (the monotone quantity).
    true_objective : float
        J (eps = 0) after the step.
    inner_gap : float
        Duality gap of the inner answer, with the optimal bias: the allowed rise.
    weight_change : float
        ``max |w_new - w_old| / max |w_old|``.
    inner_iterations : int
        Iterations of the inner solver in this step.
    taken : bool, default=True
        False: J_eps rose (within inner_gap) by more than rounding, and the step was discarded.
    inner_tol : float, default=nan
        The inner solver's tolerance at this step (if it has one).
    """

    objective: float        # J_eps after the step (the monotone quantity)
    true_objective: float   # J (eps = 0)
    inner_gap: float        # duality gap of the inner answer, with the optimal bias: the allowed rise
    weight_change: float    # max |w_new - w_old| / max |w_old|
    inner_iterations: int
    taken: bool = True      # False: J_eps rose (within inner_gap) by more than rounding: discarded
    inner_tol: float = float("nan")  # the inner solver's tolerance at this step (if it has one)


@dataclass
class MMHistory:
    """Every MM step, taken or not; the taken ones form the path of the returned model.

    Parameters
    ----------
    steps : list of MMStep, default=[]
        The steps, in order.
    """

    steps: list = field(default_factory=list)

    @property
    def objectives(self) -> np.ndarray:
        """J_eps after every step (taken or not)."""
        return np.array([s.objective for s in self.steps])

    def record(self) -> np.ndarray:
        """The history as a structured array, one record per step.

        Returns
        -------
        ndarray
            A structured array with fields ``objective`` (J_eps), ``true_objective`` (J),
            ``inner_gap`` and ``taken``; ``rec["objective"][rec["taken"]]`` is the monotone path
            that ends at the returned model.
        """
        rec = np.zeros(len(self.steps), dtype=[("objective", "f8"), ("true_objective", "f8"),
                                               ("inner_gap", "f8"), ("taken", "?")])
        for t, s in enumerate(self.steps):
            rec[t] = (s.objective, s.true_objective, s.inner_gap, s.taken)
        return rec


#: An S operator with ``dense()`` is made a dense matrix for the run when it takes at most this
#: many bytes: every step then reads its entries instead of computing them again.
DENSE_S_BYTES = 32 << 20

#: Samples within this distance of the margin (in margin units) get exact MM weights at every
#: step even with a = 0: their kinks decide the optimal bias.
MARGIN_BAND = 1e-3

#: Each inner solver that can be tightened (``with_tol``) is tightened at most this far below its
#: own tolerance when a step's J_eps rises (the inner error then outweighs the progress).
TIGHTEN_LIMIT = 1e-3


def solve_mm(problem: SVMProblem, S, inner, *, eps: float = 1e-4, tol: float = 1e-6,
             weight_tol: float = 1e-3, max_iter: int = 100, callback=None, inexact: bool = False,
             loose_tol: float = 1e-3, gap_fraction: float = 0.1, cert_tol: float | None = None,
             accelerate: bool = False) -> SVMResult:
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
        optimum on the paper's data sets. The inner tolerance must be <= 0.1 eps.
    tol, weight_tol : float
        Stop when the relative decrease of J_eps is <= tol and the weights change by at most
        weight_tol (``max |w_new - w_old| / max |w_old|``).
    max_iter : int
        Maximal number of MM steps, taken or not (a ConvergenceWarning when reached).
    callback : callable(MMStep), optional
        Called after every step.
    inexact : bool
        Inexact MM (needs an inner solver with ``tol`` and ``with_tol``, e.g. :class:`SMOInner`):
        the start and the first steps are solved at the looser tolerance max(loose_tol, inner.tol),
        divided by 10 after any step whose duality gap exceeds gap_fraction x its decrease of J_eps
        (the inner error is no longer small against the progress), that is not taken, or that
        passes the stopping test. MM stops only at a tolerance <= inner.tol. Off by default, so
        that MM paths compare step by step across inner solvers, and not used by the estimators:
        it saves inner iterations on most problems, but its path can have a longer tail at the
        final tolerance.
    loose_tol, gap_fraction : float
        Starting inner tolerance and the gap/progress ratio that triggers tightening (inexact).
    cert_tol : float > 0, optional
        Stop only once the stationarity certificate at the new slacks also meets cert_tol
        (:meth:`glopt.certify.Certificate.ok`); the estimators pass theirs.
    accelerate : bool
        Extrapolated MM: the majorizer touches J_eps at x_hat = x + beta (x - x_prev), Nesterov's
        beta sequence, whenever J_eps(x_hat) <= J_eps(x) (otherwise at x, and the sequence
        restarts). The bound below holds from x_hat, so every taken step still decreases J_eps.

    Returns
    -------
    SVMResult
        The last taken iterate, with ``objective`` = J (eps = 0),
        ``extra["smoothed_objective"]``, ``extra["history"]`` (:class:`MMHistory`),
        ``extra["stationarity"]``, ``extra["weights"]`` (at the final slacks) and
        ``extra["certificate"]`` (that of the weighted SVM with those weights: its ``kkt_violation``
        is the stationarity residual) and ``extra["step_weights"]`` (the weights of the weighted SVM
        the returned model solves, whose primal its bias minimizes for its w). ``n_iter`` counts MM
        steps (taken or not); ``extra["inner_iterations"]`` the inner solver's iterations.

    Notes
    -----
    Every inner answer gets the bias that is optimal for its w (:meth:`SVMProblem.best_bias`),
    whatever the inner solver returned, and its duality gap is computed with that bias. The
    majorizer then bounds the step: J_eps(x+) <= J_eps(x) + gap (module docstring). A step is
    taken only if J_eps did not rise by more than rounding, so the taken steps decrease J_eps
    and the returned model is the best taken iterate. A rise
    within the gap is the inner solver's inaccuracy: the step is discarded and, if the inner
    solver can be tightened (``with_tol``), redone from its own answer at a tolerance 10 times
    tighter, down to ``TIGHTEN_LIMIT`` x inner.tol; past that MM stops with the current iterate
    (status "converged-within-inner-accuracy"). A rise beyond the gap raises RuntimeError: no
    correct inner solver can produce it.
    """
    # BLAS on one thread: MM's decisions (decrease, rise, stop) compare objectives that differ in
    # the last digits near the end, and a threaded BLAS sums long dot products in an order set by
    # its thread count, so the MM path would depend on it too. MM's vectors gain nothing from BLAS
    # threads, whose busy-waiting between calls took a core from the OpenMP kernels.
    # Small problems (n <= SERIAL_SAMPLES) run on one OpenMP thread as well (_thread_limits).
    with _thread_limits(getattr(problem, "n", None)):
        return _solve_mm(problem, S, inner, eps=eps, tol=tol, weight_tol=weight_tol, max_iter=max_iter,
                         callback=callback, inexact=inexact, loose_tol=loose_tol,
                         gap_fraction=gap_fraction, cert_tol=cert_tol, accelerate=accelerate)


_CONTROLLER = []


def _thread_limits(n):
    """BLAS on one thread; for n <= SERIAL_SAMPLES samples OpenMP too (a context manager).

    A small problem's kernel columns and products are too short for a parallel region to pay,
    and on a loaded machine every region waits for its slowest thread. One controller serves
    every call: threadpool_limits would look up the loaded libraries each time, which costs as
    much as a small fit.
    """
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        from . import _correlation  # noqa: F401  (OpenMP loaded, so that the limit reaches it)
        from .smo import _solver  # noqa: F401

        _CONTROLLER.append(ThreadpoolController())
    serial = n is not None and n <= SERIAL_SAMPLES
    return _CONTROLLER[0].limit(limits=1, user_api=None if serial else "blas")


def _with_best_bias(res: SVMResult, problem: SVMProblem) -> SVMResult:
    """``res`` with the bias that minimizes the primal of ``problem`` for its w, and K @ coef."""
    Kc = res.extra.get("Kcoef")
    if Kc is None:
        Kc = problem.kernel.matvec(problem.X, res.coef)
    return replace(res, b=problem.best_bias(Kc), extra={**res.extra, "Kcoef": Kc})


def _check_answer(res, problem: SVMProblem, who: str) -> None:
    n_var = dual_form(problem).size
    a = np.asarray(res.a)
    if a.shape != (n_var,) or not np.all(np.isfinite(a)) or not np.all(np.isfinite(res.coef)):
        raise RuntimeError(f"the inner solver {who} returned dual variables that are not finite or "
                           f"have the wrong shape {a.shape} (expected ({n_var},))")


def _check_arguments(problem, S, inner, eps, tol, weight_tol, max_iter, callback, cert_tol):
    """The arguments of :func:`solve_mm`, checked; returns eps, tol, weight_tol, cert_tol as floats."""
    if not isinstance(problem, SVMProblem):
        raise TypeError(f"problem must be a glopt.problem.SVMProblem, got {type(problem).__name__}")
    if problem.p != 1:
        raise ValueError("p must be 1 for the MM solver (p = 2 is convex: see glopt.quadratic)")
    if not callable(inner):
        raise TypeError(f"inner must be a callable inner(problem, warm) -> SVMResult, got {inner!r}")
    if not hasattr(S, "shape") or not hasattr(S, "__matmul__"):
        raise TypeError(f"S must be an array or an operator with .shape and @, got {type(S).__name__}")
    eps = positive_scalar(eps, "eps")
    tol = positive_scalar(tol, "tol")
    if getattr(inner, "tol", 0.0) > 0.1 * eps:
        raise ValueError(f"the inner solver's tol ({inner.tol:g}) must be <= 0.1 * eps ({0.1 * eps:g}); "
                         "a looser inner solve makes MM non-monotone")
    if tuple(S.shape) != (problem.n, problem.n):
        raise ValueError(f"S has shape {S.shape} but there are {problem.n} samples")
    weight_tol = positive_scalar(weight_tol, "weight_tol")
    cert_tol = None if cert_tol is None else positive_scalar(cert_tol, "cert_tol")
    if isinstance(max_iter, (bool, np.bool_)) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable, got {callback!r}")
    return eps, tol, weight_tol, cert_tol


def _solve_mm(problem: SVMProblem, S, inner, *, eps: float = 1e-4, tol: float = 1e-6,
              weight_tol: float = 1e-3, max_iter: int = 100, callback=None, inexact: bool = False,
              loose_tol: float = 1e-3, gap_fraction: float = 0.1, cert_tol: float | None = None,
              accelerate: bool = False) -> SVMResult:
    """The loop of :func:`solve_mm` (BLAS limits set by the caller)."""
    eps, tol, weight_tol, cert_tol = _check_arguments(problem, S, inner, eps, tol, weight_tol, max_iter,
                                                      callback, cert_tol)
    t0 = time.perf_counter()
    loop = _MMLoop(problem, S, inner, eps, inexact, loose_tol, gap_fraction)
    loop.start()
    status = "max_iter"
    for _ in range(max_iter):
        status = loop.step(tol, weight_tol, cert_tol, accelerate, callback)
        if status is not None:
            break
    else:
        status = "max_iter"
        warnings.warn(f"MM stopped after max_iter={max_iter} steps before its relative objective change "
                      f"reached tol={tol:g} (last weight change {loop.history.steps[-1].weight_change:.2e}); "
                      "raise max_iter, loosen tol, or increase eps", ConvergenceWarning, stacklevel=3)
    return loop.result(status, time.perf_counter() - t0)


class _MMLoop:
    """One MM run: the problem, S and the products with S that every step reuses, the inner
    tolerance schedule, and the state of the iterate (current answer, weights, momentum).

    e = sqrt(xi + eps) = sqrt(eps) + delta, delta nonzero only where xi > 0 (the set P). With
    S_base = S d (one full product),
      e^T Sw e = eps d^T S_base + 2 sqrt(eps) (d S_base)^T delta + (d delta)^T S (d delta),
      (Sw e)_i = d_i (sqrt(eps) S_base_i + (S (d delta))_i),
    so J_eps needs S (d delta) on the rows of P only, and the weights (Sw e)_i / e_i are needed
    only where a bound can matter: on the support vectors and on the samples with a slack or
    within MARGIN_BAND of the margin (their kinks set the optimal bias). Elsewhere (a_i = 0 well
    inside the margin) neither a weighted SVM's optimum, nor its bias, primal objective or
    certificate depends on the bound; those weights are kept from an earlier step ("stale").
    Every answer is checked: a sample that has come to matter gets its exact bound, and if a
    support vector's bound was stale and binds, the step is solved again.
    """

    def __init__(self, problem, S, inner, eps, inexact, loose_tol, gap_fraction):
        self.problem, self.S, self.inner, self.eps = problem, S, inner, eps
        self.n = problem.n
        self.d = np.sqrt(problem.sample_weight)          # Sw = D S D, D = diag(d)
        self.root_eps = np.sqrt(eps)
        self.history = MMHistory()
        self.who = getattr(inner, "name", type(inner).__name__)
        if not isinstance(S, np.ndarray) and callable(getattr(S, "dense", None)) and 8.0 * self.n ** 2 <= DENSE_S_BYTES:
            S = self.S = np.asarray(S.dense(), dtype=np.float64)
        self.S_base = S @ self.d
        self.J_base = eps * float(self.d @ self.S_base)
        self._schedule(inexact, loose_tol, gap_fraction)

    # ---------------------------------------------------------------- the inner tolerance
    def _schedule(self, inexact, loose_tol, gap_fraction):
        """The inner tolerance of the current step: the user's (final_tol), looser at first in
        inexact MM, tighter after a step whose rise showed the inner error outweighing the progress."""
        self.final_tol = getattr(self.inner, "tol", float("nan"))
        self.can_tighten = hasattr(self.inner, "with_tol") and np.isfinite(self.final_tol)
        self.floor_tol = self.final_tol * TIGHTEN_LIMIT if self.can_tighten else self.final_tol
        inexact = bool(inexact) and self.can_tighten
        if inexact:
            loose_tol = positive_scalar(loose_tol, "loose_tol")
            gap_fraction = positive_scalar(gap_fraction, "gap_fraction")
        self.gap_fraction = gap_fraction
        self.step_tol = max(loose_tol, self.final_tol) if inexact else self.final_tol

    def solver_at(self, t):
        return self.inner if not self.can_tighten or t == self.final_tol else self.inner.with_tol(t)

    def tighten(self) -> bool:
        """Divide the inner tolerance by 10 (down to the floor); False when it is at the floor."""
        if not self.can_tighten or self.step_tol <= self.floor_tol * (1.0 + 1e-9):  # /10 steps round
            return False
        new = self.step_tol / 10.0
        if self.step_tol > self.final_tol * (1.0 + 1e-9) >= new:
            new = self.final_tol  # a loose schedule lands on the user's tolerance, not a rounding off it
        self.step_tol = max(self.floor_tol, new)
        return True

    # ---------------------------------------------------------------- samples and slacks
    def sample_a(self, res):
        return res.a if self.problem.task == "svc" else res.a[:self.n] + res.a[self.n:]

    def matter(self, res, slack_raw):
        """Samples whose bound can affect the step: support vectors, and samples with a slack or
        within MARGIN_BAND of the margin (``slack_raw``: the slack before clipping at 0)."""
        return (self.sample_a(res) > 0) | (slack_raw >= -MARGIN_BAND)

    @staticmethod
    def raw_slack(prob, f):
        return 1.0 - prob.y * f if prob.task == "svc" else np.abs(prob.y - f) - prob.epsilon

    # ---------------------------------------------------------------- objective and weights
    def evaluate(self, res, prob, weights_prev=None, extrapolate=None):
        """The answer with its optimal bias, K coef, J_eps, J, the weights at its slacks (fresh
        on the rows of ``fresh``, else those of ``weights_prev``; all rows when it is None), the
        fresh mask, and with ``extrapolate = (x_prev, beta)`` (J_eps, weights, d delta) at
        x + beta (x - x_prev): all from one product with S."""
        n, d, eps, root_eps = self.n, self.d, self.eps, self.root_eps
        _check_answer(res, prob, self.who)
        res = _with_best_bias(res, prob)
        Kc = res.extra["Kcoef"]
        points = [(res.coef, res.b, Kc)]
        if extrapolate is not None:
            (pc, pb, pK), beta = extrapolate
            points.append((res.coef + beta * (res.coef - pc), res.b + beta * (res.b - pb), Kc + beta * (Kc - pK)))
        raws = [self.raw_slack(prob, K + b) for _, b, K in points]
        slacks = [np.maximum(r, 0.0) for r in raws]
        deltas = [d * (np.sqrt(xi + eps) - root_eps) for xi in slacks]      # d delta, 0 off P
        d_e0 = d * np.sqrt(slacks[0])
        if weights_prev is None:
            fresh = np.ones(n, dtype=bool)
        else:
            fresh = self.matter(res, np.max(np.column_stack(raws), axis=1))
        rows = np.flatnonzero(fresh)
        V = np.column_stack([deltas[0], d_e0] + deltas[1:])
        SV = np.zeros((n, V.shape[1]))
        SV[rows] = _rows_product(self.S, rows, V)
        out = []
        for t, (xi, dd) in enumerate(zip(slacks, deltas)):
            col = SV[:, 0 if t == 0 else t + 1]
            J_eps_t = _reg(points[t]) + prob.C * (self.J_base + 2.0 * root_eps * float(self.S_base @ dd)
                                                 + float(dd @ col))
            w = np.array(weights_prev if weights_prev is not None else np.zeros(n), dtype=float)
            e_rows = np.sqrt(xi[rows] + eps)
            w[rows] = _tangent_slope(d[rows] * (root_eps * self.S_base[rows] + col[rows]), e_rows)
            out.append((J_eps_t, w, dd))
        J = _reg(points[0]) + prob.C * float(d_e0 @ SV[:, 1])
        (J_eps, w, dd0), hat = out[0], (out[1] if len(out) > 1 else None)
        if not (np.isfinite(J_eps) and np.isfinite(J)):
            raise FloatingPointError("the MM objective is not finite: the kernel or the correlation "
                                     "values overflow (scale X, or use a smaller C or gamma)")
        if not np.all(w[rows] > 0):
            raise ValueError(
                "S @ e has nonpositive entries, so the MM weights (S e)_i / e_i are not all positive: "
                "S must be entrywise nonnegative (a random-feature S is only approximately so: raise "
                "n_components, lower gamma_s, or use the exact S)")
        if hat is not None and not np.all(hat[1][rows] > 0):
            hat = None
        return res, Kc, J_eps, J, (w, fresh, dd0), hat

    def exact_bounds(self, cand, base, prob_base):
        """``base`` (weights, fresh, d delta of the point the step's majorizer touches) made exact
        on every sample that matters for the answer ``cand`` (:meth:`matter`, at its optimal bias
        for those weights); returns (base, active), active True when a support vector's bound
        was stale and binds (the step must be solved again)."""
        d, root_eps = self.d, self.root_eps
        w, fresh, dd = base
        Kc = cand.extra.get("Kcoef")
        if Kc is None:
            Kc = prob_base.kernel.matvec(prob_base.X, cand.coef)
            cand.extra["Kcoef"] = Kc
        active, prob = False, prob_base
        for _ in range(self.n):  # each round makes more samples exact; it ends when none is left
            b = prob.best_bias(Kc)
            new = np.flatnonzero(self.matter(cand, self.raw_slack(prob_base, Kc + b)) & ~fresh)
            if new.size == 0:
                break
            Sd = _rows_product(self.S, new, dd[:, None])[:, 0]
            e_new = dd[new] / d[new] + root_eps
            exact = _tangent_slope(d[new] * (root_eps * self.S_base[new] + Sd), e_new)
            a_new = self.sample_a(cand)[new]
            limit = self.problem.C * np.minimum(w[new], exact) * (1.0 - 1e-12)
            active |= bool(np.any((a_new > 0) & (a_new >= limit)))
            w, fresh = w.copy(), fresh.copy()
            w[new], fresh[new] = exact, True
            prob = replace(prob_base, weights=w)
        return (w, fresh, dd), active

    # ---------------------------------------------------------------- the steps
    def start(self):
        """The standard SVM (S = I) with the sample weights. Its accuracy only sets where MM
        starts: the bound J_eps(x+) <= J_eps(x) + gap holds from any x."""
        problem = self.problem
        current = self.solver_at(self.step_tol)(problem, None)
        self.inner_iters = current.n_iter
        self.current, self.Kc, self.J_eps, J, self.state, _ = self.evaluate(current, problem)
        self.history.steps.append(MMStep(self.J_eps, J, 0.0, np.inf, self.current.n_iter, True, self.step_tol))
        self.warm, self.step_weights = self.current, problem.sample_weight
        # accelerate: the majorizer touches J_eps at x_hat = x + beta (x - x_prev) instead of at x
        # when J_eps(x_hat) <= J_eps(x) (Nesterov's beta sequence, restarted when that fails); the
        # bound J_eps(x+) <= J_eps(x_hat) + gap <= J_eps(x) + gap still holds. x_hat is evaluated
        # with the candidate that would become x, in the same product with S.
        self.t_momentum, self.hat, self.redo = 1.0, None, False

    def _touch_point(self):
        """The weights of this step's majorizer and J_eps where it touches: at x_hat when that is
        not above J_eps(x), else at x (and the momentum restarts)."""
        self.base, self.J_touch = self.state, self.J_eps
        if self.hat is not None and self.hat[0] <= self.J_eps:
            self.J_touch, self.base = self.hat[0], (self.hat[1], self.state[1], self.hat[2])
        elif self.hat is not None:
            self.t_momentum = 1.0

    def _solve_step(self):
        """The inner answer of this step's weighted SVM with exact bounds wherever they matter,
        and that problem; None when a stale bound bound the answer (the step is solved again)."""
        step_problem = replace(self.problem, weights=self.base[0])
        candidate = self.solver_at(self.step_tol)(step_problem, self.warm)
        self.inner_iters += candidate.n_iter
        used, (self.base, active) = self.base[0], self.exact_bounds(candidate, self.base, step_problem)
        if active:  # a support vector's bound was stale and binds: solve the exact step again
            self.warm, self.redo = candidate, True
            return None
        if self.base[0] is not used:  # some weights were made exact: the step's problem is the exact one
            step_problem = replace(self.problem, weights=self.base[0])
        return candidate, step_problem

    def _check_bound(self, J_eps_c, cert):
        """The step's duality gap (0 for an infeasible dual point); RuntimeError when J_eps rose
        above the touch point by more than the gap allows."""
        # the gap bounds the step only for a feasible dual point (an SMO answer is, to rounding)
        gap = max(0.0, cert.gap) if cert.infeasibility <= 1e-9 else 0.0
        rounding = 4.0 * self.n * np.finfo(float).eps * max(abs(self.J_eps), abs(J_eps_c))
        gap_rounding = 4.0 * self.n * np.finfo(float).eps * (abs(cert.primal) + abs(cert.dual))
        if J_eps_c - self.J_touch > gap + rounding + gap_rounding:
            raise RuntimeError(
                f"MM objective rose by {J_eps_c - self.J_touch:.3e} above the point the majorizer touches, "
                f"more than the inner answer's duality gap {gap:.3e} (with the optimal bias) allows: "
                f"the inner solver {self.who} did not return the minimizer of the majorizer")
        return gap, rounding

    def step(self, tol, weight_tol, cert_tol, accelerate, callback):
        """One MM step (or one redo of it); returns the final status when MM stops, else None."""
        loose = self.step_tol > self.final_tol
        if not self.redo:
            self._touch_point()
        self.redo = False
        solved = self._solve_step()
        if solved is None:
            return None
        candidate, step_problem = solved
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * self.t_momentum ** 2))
        beta = (self.t_momentum - 1.0) / t_next
        extrapolate = ((self.current.coef, self.current.b, self.Kc), beta) if accelerate and beta > 0 else None
        candidate, Kc_c, J_eps_c, J_c, state_c, hat_c = self.evaluate(candidate, step_problem, self.state[0],
                                                                      extrapolate)
        cert = certify(candidate, step_problem, Kcoef=Kc_c)
        gap, rounding = self._check_bound(J_eps_c, cert)
        w_old, w_new = self.state[0], state_c[0]
        change = float(np.max(np.abs(w_new - w_old)[state_c[1]], initial=0.0) / np.max(np.abs(w_old)))
        rise = J_eps_c - self.J_eps
        # J_eps is a sum of n terms: rounding can move it by about n eps relative
        taken = rise <= rounding
        self.history.steps.append(MMStep(J_eps_c, J_c, gap, change, candidate.n_iter, taken, self.step_tol))
        if callback is not None:
            callback(self.history.steps[-1])
        if not taken:
            # J_eps rose within the gap: the inner error outweighs the progress. Redo the step
            # from the candidate (the same weighted problem) at a tighter tolerance.
            if self.tighten():
                self.warm, self.redo = candidate, True
                return None
            return "converged-within-inner-accuracy"
        decrease = -rise / max(abs(self.J_eps), np.finfo(float).tiny)
        if accelerate:
            self.t_momentum, self.hat = t_next, hat_c
        self.current, self.Kc, self.J_eps, self.state = candidate, Kc_c, J_eps_c, state_c
        self.step_weights = step_problem.sample_weight
        self.warm = self.current
        converged = decrease <= tol and change <= weight_tol
        if converged and cert_tol is not None:
            converged, stop = self._certified(cert_tol, loose, change)
            if stop:
                return "converged-within-inner-accuracy"
        if loose:
            # MM never stops at a loose tolerance: where plain MM would stop, or where the inner
            # error is a large part of the progress, the tolerance is tightened instead
            if converged or gap > self.gap_fraction * (-rise):
                self.tighten()
            return None
        return "optimal" if converged else None

    def _certified(self, cert_tol, loose, change):
        """(converged, stop): whether the stationarity certificate at the new slacks meets
        cert_tol, and whether MM must stop because only a tighter inner solve could close it."""
        # cheap: K coef is at hand; the stale weights belong to samples at a = 0 inside the
        # margin, which no bound affects
        stat = certify(self.current, replace(self.problem, weights=self.state[0]), Kcoef=self.Kc)
        if stat.ok(cert_tol):
            return True, False
        if not loose and not stat.rel_gap <= cert_tol:
            # settled, stationary or not, but the duality gap is the inner solver's accuracy
            # (large bounds multiply its tolerance): only a tighter solve can close it
            if not self.tighten() and change == 0.0:
                return False, True
        return False, False

    def result(self, status, elapsed) -> SVMResult:
        """The last taken iterate with J, every weight exact at its slacks and its certificate."""
        problem, S, current, Kc = self.problem, self.S, self.current, self.Kc
        d, eps, root_eps = self.d, self.eps, self.root_eps
        # The step objectives (history) used K coef as the inner solver handed it over (the SMO's
        # gradient, accurate to rounding); sqrt(xi) turns a 1e-16 slack into 1e-8, so the reported J
        # is recomputed from (coef, b) directly, reproducible by gl_objective.
        J = gl_objective(problem, S, current.coef, current.b)
        # every weight exact at the final slacks (one full product), and the stationarity
        # certificate (stationarity(current, problem, S, eps)) from them
        xi = problem.slack(Kc + current.b)
        weights = _tangent_slope(d * (root_eps * self.S_base + S @ (d * (np.sqrt(xi + eps) - root_eps))),
                                 np.sqrt(xi + eps))
        final = certify(current, replace(problem, weights=weights), Kcoef=Kc)
        return replace(current, objective=J, dual_objective=float("nan"), status=status,
                       n_iter=len(self.history.steps) - 1, solve_time=elapsed,
                       solver=f"mm-{getattr(self.inner, 'name', 'custom')}",
                       extra={**current.extra, "smoothed_objective": self.J_eps, "history": self.history,
                              "stationarity": final.kkt_violation, "certificate": final, "weights": weights,
                              "step_weights": self.step_weights, "inner_iterations": self.inner_iters,
                              "inner_tol": self.step_tol})


def _reg(point) -> float:
    coef, _, Kc = point
    return 0.5 * float(coef @ Kc)


def _rows_product(S, rows, V) -> np.ndarray:
    """(S @ V)[rows], computing S only where needed when S can (``rows_product``)."""
    if hasattr(S, "rows_product"):
        return S.rows_product(rows, V)
    if isinstance(S, np.ndarray):
        return S[rows] @ V
    return (S @ V)[rows]
