"""The paper's own solver for the p = 1 generalized loss, kept **for comparison only**.

.. warning::
   This is *not* a convergent method and not the way glopt solves the problem. Use
   :func:`glopt.mm.solve_mm` (majorization-minimization, docs/mathematics.md §3). This module exists so the
   validation report can show, with numbers, what the scheme of the paper does.

The paper ("An introductory Generalization of the standard SVMs loss", arXiv 2601.21331) attacks

    min_{w, b}  0.5 ||w||^2 + C sum_ij S_ij sqrt(xi_i) sqrt(xi_j)

with a single SMO loop over the standard SVM dual whose box bounds *move*: after every pair
update the per-sample bounds

    c_i = C (S_ii + sum_{j != i} S_ij sqrt(xi_j / xi_i))

are recomputed from the slacks xi of the current decision values f = K coef + b, and the dual
variables are clipped to them. That box depends on the primal slacks: it is not the Lagrangian
dual of the problem but the stationarity system of its linearization (docs/mathematics.md §3), and
re-clipping a inside the loop breaks the balance y^T a = 0 that every SMO step preserves.

What is implemented here, as literally as the paper allows:

- dual variables: C-SVC a (n of them) or LIBSVM's 2n-variable epsilon-SVR form [alpha, alpha*],
  start a = 0 (LIBSVM's start), so f = b = 0 and xi = 1 (svc) at the start;
- working set: WSS1 (maximal violating pair) for classification, WSS3 (second order, Fan, Chen
  and Lin 2005) for regression, both over the current bounds; pair update: LIBSVM's analytic
  two-variable step clipped to the current box (it keeps y^T a unchanged);
- after each pair update: b by LIBSVM's rule from the current gradient (mean of y_t G_t over the
  free variables, else the midpoint of the bound interval; computed with the bounds in force
  before this update), f = K coef + b, slacks xi (hinge or epsilon-insensitive), new bounds
  c = C * (w_i S_ii + sum_{j != i} sqrt(w_i w_j) S_ij sqrt((xi_j + eps) / (xi_i + eps))), which is
  C * :func:`glopt.mm.gl_weights` (xi, eps) with the diagonal kept apart, then the clipping
  below. Sample weights enter as Sw = D S D, D = diag(sqrt(weights)), exactly as in
  :mod:`glopt.mm`, so with S = I the bounds are C * weights, exactly constant: the loop is then an
  ordinary SMO and reaches the standard SVM optimum (tested);
- **eps-smoothing** (a deviation the paper does not state): where xi_i = 0 the paper's bound is
  infinite (0 in the denominator). The ratio sqrt(xi_j / xi_i) is replaced by
  sqrt((xi_j + eps) / (xi_i + eps)), with the same eps as glopt's MM (default 1e-4);
- **clipping** (the paper does not say which variables are re-clipped), option ``clip``:

  * ``"all"`` (default, the literal reading): after each pair update every a_t is clipped to
    [0, c_t]. This lowers a wherever a bound fell, so y^T a drifts away from 0 and the SMO steps,
    which preserve y^T a, never restore it;
  * ``"pair"``: only the two updated variables are clipped to their new bounds; the others keep
    their values (possibly above their new bound: they count as "at the upper bound" in the
    working-set selection until they are next selected).

- stopping: the maximal KKT violation m(a) - M(a) of the current box (LIBSVM's criterion) <= tol,
  status ``"converged"``; else ``"max_iter"``. "converged" means only that the loop stopped: the
  answer is in general neither balanced (y^T a != 0) nor stationary for the generalized loss; its
  ``extra["stationarity"]`` says how far from stationary it is.

What the two variants do on the paper's seven KEEL sets is measured by
``validation/paper_scheme.py`` against MM: whether they stop, the balance ``|y^T a|``, how often J
rises between checkpoints, the final stationarity residual and J against MM's.

The implementation uses dense K and S (numpy, O(n^2) work per pair update): it is a comparison
tool for the paper's data sets (n <= a few thousand), not a production solver.
"""
from __future__ import annotations

import numbers
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from ._checks import positive_scalar, tolerance
from .dual import dual_form
from .losses import mm_weights
from .mm import gl_objective, stationarity
from .problem import SVMProblem
from .result import SVMResult

__all__ = ["NotConvergentWarning", "solve_paper", "CLIP_MODES"]

CLIP_MODES = ("all", "pair")
_TAU = 1e-12  # LIBSVM's TAU: the smallest curvature of a pair step


class NotConvergentWarning(UserWarning):
    """Emitted by every call of :func:`solve_paper`: the paper's scheme is not a convergent method."""


_WARNING = ("glopt.paper.solve_paper runs the paper's own moving-bound SMO scheme, kept for comparison "
            "only: it is not a convergent method (its answer is in general neither balanced nor a "
            "stationary point of the generalized loss). Use glopt.mm.solve_mm to solve the problem.")


def _positive_int(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _check_s(S, n: int) -> np.ndarray:
    """S as a dense float matrix (a :class:`glopt.kernels.Correlation` is densified)."""
    if hasattr(S, "dense") and callable(S.dense):
        S = S.dense()
    try:
        S = np.asarray(S, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"S must be a numeric matrix or a glopt.kernels.Correlation: {exc}") from None
    if S.ndim != 2 or S.shape != (n, n):
        raise ValueError(f"S has shape {S.shape} but there are {n} samples (expected ({n}, {n}))")
    if not np.all(np.isfinite(S)):
        raise ValueError("S contains NaN or infinity")
    if np.any(S < 0):
        raise ValueError("S must be entrywise nonnegative (the bounds C * Sw e / e must stay positive)")
    if np.any(np.diag(S) <= 0):
        raise ValueError("S must have a positive diagonal")
    if not np.allclose(S, S.T, rtol=0.0, atol=1e-12 * max(1.0, float(S.max()))):
        raise ValueError("S is not symmetric")
    return S


class _Dual:
    """The dual QP  min 0.5 a^T Q a + q^T a, s^T a = const, 0 <= a <= u  (:mod:`glopt.dual`).

    Q is formed densely: n x n for svc, 2n x 2n for svr (a comparison tool for small data).
    """

    def __init__(self, problem: SVMProblem):
        self.pr = problem
        self.n = problem.n
        self.form = dual_form(problem)
        self.ys, self.linear = self.form.sign, self.form.linear
        self.Q = self.form.dense_q(np.asarray(problem.gram(), dtype=np.float64))
        self.QD = np.diag(self.Q).copy()

    def coef(self, a) -> np.ndarray:
        return self.form.coef(a)

    def kcoef(self, G) -> np.ndarray:
        """K @ coef recovered from the gradient G = Q a + q."""
        if self.pr.task == "svc":
            return self.ys * (G - self.linear)
        return G[:self.n] - self.linear[:self.n]

    def add_to_gradient(self, G, changed, delta) -> None:
        """G += Q[:, changed] @ delta (Q is symmetric: rows are contiguous)."""
        if len(changed) <= 4:
            for t, d in zip(changed, delta):
                if d != 0.0:
                    G += d * self.Q[t]
        else:
            G += self.Q[changed].T @ delta


def _masks(a, u, ys):
    """LIBSVM's I_up / I_low: t may move so that y_t a_t increases / decreases."""
    below_upper = a < u
    above_lower = a > 0
    pos = ys > 0
    up = (pos & below_upper) | (~pos & above_lower)
    low = (pos & above_lower) | (~pos & below_upper)
    return up, low


def _bias(a, u, G, ys) -> float:
    """LIBSVM's b = -rho: mean of y_t G_t over free variables, else the middle of [lb, ub]."""
    yG = ys * G
    at_upper = a >= u
    at_lower = (a <= 0) & ~at_upper
    free = ~at_upper & ~at_lower
    if free.any():
        return -float(yG[free].mean())
    pos = ys > 0
    ub_mask = (at_upper & ~pos) | (at_lower & pos)
    lb_mask = (at_upper & pos) | (at_lower & ~pos)
    ub = float(yG[ub_mask].min()) if ub_mask.any() else np.inf
    lb = float(yG[lb_mask].max()) if lb_mask.any() else -np.inf
    if not np.isfinite(ub):
        ub = lb
    if not np.isfinite(lb):
        lb = ub
    return -0.5 * (ub + lb)


def _select_wss1(a, u, G, ys, dual):
    up, low = _masks(a, u, ys)
    if not up.any() or not low.any():
        return -1, -1, 0.0
    score = -ys * G
    i = int(np.argmax(np.where(up, score, -np.inf)))
    j = int(np.argmin(np.where(low, score, np.inf)))
    return i, j, float(score[i] - score[j])


def _select_wss3(a, u, G, ys, dual):
    """LIBSVM's second-order working set selection (Fan, Chen and Lin, JMLR 2005)."""
    up, low = _masks(a, u, ys)
    if not up.any() or not low.any():
        return -1, -1, 0.0
    score = -ys * G
    i = int(np.argmax(np.where(up, score, -np.inf)))
    gmax = score[i]
    gmin = float(np.min(np.where(low, score, np.inf)))
    Qi = dual.Q[i]
    b_it = gmax - score                      # > 0 where t violates with i
    cand = low & (b_it > 0)
    if not cand.any():
        return i, -1, float(gmax - gmin)
    # a_it = K_ii + K_tt - 2 K_it = QD_i + QD_t - 2 y_i y_t Q_it
    a_it = dual.QD[i] + dual.QD - 2.0 * ys[i] * ys * Qi
    a_it = np.where(a_it > 0, a_it, _TAU)
    obj = np.where(cand, -(b_it * b_it) / a_it, np.inf)
    j = int(np.argmin(obj))
    return i, j, float(gmax - gmin)


def _pair_step(i, j, a, u, G, ys, Qij, QD):
    """LIBSVM's analytic update of (a_i, a_j) in the box [0, u_i] x [0, u_j]; keeps y^T a."""
    Ci, Cj = u[i], u[j]
    ai, aj = a[i], a[j]
    if ys[i] != ys[j]:
        quad = QD[i] + QD[j] + 2.0 * Qij
        quad = quad if quad > 0 else _TAU
        delta = (-G[i] - G[j]) / quad
        diff = ai - aj
        ai += delta
        aj += delta
        if diff > 0:
            if aj < 0:
                aj, ai = 0.0, diff
        else:
            if ai < 0:
                ai, aj = 0.0, -diff
        if diff > Ci - Cj:
            if ai > Ci:
                ai, aj = Ci, Ci - diff
        else:
            if aj > Cj:
                aj, ai = Cj, Cj + diff
    else:
        quad = QD[i] + QD[j] - 2.0 * Qij
        quad = quad if quad > 0 else _TAU
        delta = (G[i] - G[j]) / quad
        total = ai + aj
        ai -= delta
        aj += delta
        if total > Ci:
            if ai > Ci:
                ai, aj = Ci, total - Ci
        else:
            if aj < 0:
                aj, ai = 0.0, total
        if total > Cj:
            if aj > Cj:
                aj, ai = Cj, total - Cj
        else:
            if ai < 0:
                ai, aj = 0.0, total
    return ai, aj


def solve_paper(problem: SVMProblem, S, *, eps: float = 1e-4, tol: float = 1e-3,
                max_iter: int = 100_000, clip: str = "all", checkpoint_every: int = 100) -> SVMResult:
    """Run the paper's moving-bound SMO scheme on a p = 1 problem (for comparison only).

    **Not a convergent method**: every call emits :class:`NotConvergentWarning`. Use
    :func:`glopt.mm.solve_mm` to solve the generalized loss. See the module docstring for the
    scheme, the eps-smoothing and the two clipping variants.

    Parameters
    ----------
    problem : SVMProblem with p = 1 (svc or svr)
        Data, kernel, C, epsilon (svr) and sample weights (Sw = D S D, D = diag(sqrt(weights))).
    S : array (n, n) or :class:`glopt.kernels.Correlation`
        The correlation matrix: symmetric, entrywise nonnegative, positive diagonal (densified).
    eps : float > 0
        Smoothing of the bound ratios sqrt((xi_j + eps) / (xi_i + eps)) (the paper's ratio is
        infinite where xi_i = 0); the same eps glopt's MM uses.
    tol : float > 0
        Stop when the maximal KKT violation m(a) - M(a) over the current box is <= tol.
    max_iter : int >= 1
        Maximal number of pair updates.
    clip : {"all", "pair"}
        ``"all"``: after each pair update clip every a_t to its new bound (the literal reading);
        ``"pair"``: clip only the updated pair.
    checkpoint_every : int >= 1
        Record (iteration, J, ``|y^T a|``) every this many pair updates (and at the start and end).

    Returns
    -------
    SVMResult
        The final iterate, with solver ``"paper-" + clip``; status ``"converged"`` (violation <= tol)
        or ``"max_iter"``; n_iter = pair updates; objective = the true J (eps = 0) of (coef, b)
        (:func:`glopt.mm.gl_objective`); dual_objective = -(0.5 a^T Q a + q^T a) at the final a (the
        SVM dual value; with S = I the standard SVM dual); extra:

        - ``balance``: ``|y^T a|`` (svc) or ``|sum(alpha - alpha*)|`` (svr) at the end (0 for a
          feasible dual);
        - ``stationarity``: :func:`glopt.mm.stationarity` (result, problem, S, eps);
        - ``checkpoints``: list of (iteration, J, ``|y^T a|``);
        - ``objective_rises``: fraction of checkpoints where J rose against the previous checkpoint;
        - ``violation``: the last m(a) - M(a); ``upper``: the final bounds (per dual variable);
        - ``grad``: the final gradient Q a + q (glopt.dual).
    """
    warnings.warn(_WARNING, NotConvergentWarning, stacklevel=2)
    if not isinstance(problem, SVMProblem):
        raise TypeError(f"problem must be a glopt.problem.SVMProblem, got {type(problem).__name__}")
    if problem.p != 1:
        raise ValueError(f"p must be 1 for the paper's scheme (the p = 1 generalized loss), got p={problem.p}")
    eps = positive_scalar(eps, "eps")
    tol = tolerance(tol, "tol")
    max_iter = _positive_int(max_iter, "max_iter")
    if not isinstance(clip, str) or clip not in CLIP_MODES:
        raise ValueError(f"clip must be one of {list(CLIP_MODES)}, got {clip!r}")
    checkpoint_every = _positive_int(checkpoint_every, "checkpoint_every")
    S = _check_s(S, problem.n)

    t0 = time.perf_counter()
    pr = problem
    dual = _Dual(pr)
    with threadpool_limits(limits=1, user_api="blas"):
        # one matrix-vector product per pair update: BLAS threads cost more than they bring
        return _run(pr, S, dual, eps, tol, max_iter, clip, checkpoint_every, t0)


def _run(pr, S, dual, eps, tol, max_iter, clip, checkpoint_every, t0) -> SVMResult:
    ys, QD = dual.ys, dual.QD
    n_var = ys.size
    select = _select_wss1 if pr.task == "svc" else _select_wss3
    s_diag = np.diag(S).copy()
    S_off = S - np.diag(s_diag)  # the paper's sum over j != i, its diagonal added apart

    def bounds_at(a, G):
        """b, the slacks at f = K coef + b, and the moving bounds c = C Sw e / e (per variable)."""
        b = _bias(a, u, G, ys)
        Kc = dual.kcoef(G)
        xi = pr.slack(Kc + b)
        c = pr.C * mm_weights(xi, S_off, eps, pr.sample_weight, diagonal=s_diag)
        return b, Kc, (c if pr.task == "svc" else np.concatenate([c, c]))

    def true_objective(a, G, b):
        return gl_objective(pr, S, dual.coef(a), b, Kcoef=dual.kcoef(G))

    a = np.zeros(n_var)
    G = dual.linear.copy()
    u = np.full(n_var, np.inf)  # placeholder: at a = 0 no variable is at an upper bound
    _, _, u = bounds_at(a, G)   # the bounds at the start slacks (f = b, b by LIBSVM's rule)
    checkpoints = [(0, true_objective(a, G, _bias(a, u, G, ys)), abs(float(ys @ a)))]
    status = "max_iter"
    violation = np.inf
    it = 0
    while True:
        i, j, violation = select(a, u, G, ys, dual)
        if violation <= tol or i < 0 or j < 0:
            status = "converged"
            break
        if it >= max_iter:
            break
        ai, aj = _pair_step(i, j, a, u, G, ys, dual.Q[i, j], QD)
        di, dj = ai - a[i], aj - a[j]
        a[i], a[j] = ai, aj
        dual.add_to_gradient(G, (i, j), (di, dj))
        it += 1
        # the paper's moving bounds, from the slacks at the current decision values
        _, _, u = bounds_at(a, G)
        if clip == "all":
            changed = np.flatnonzero(a > u)
        else:
            changed = np.array([t for t in ((i, j) if i != j else (i,)) if a[t] > u[t]], dtype=int)
        if changed.size:
            delta = u[changed] - a[changed]
            a[changed] = u[changed]
            dual.add_to_gradient(G, changed, delta)
        if it % checkpoint_every == 0:
            checkpoints.append((it, true_objective(a, G, _bias(a, u, G, ys)), abs(float(ys @ a))))

    # final answer: recompute K coef exactly (no accumulated gradient drift)
    coef = dual.coef(a)
    Kc = pr.kernel.matvec(pr.X, coef)
    G = dual.form.gradient(Kc)
    b = _bias(a, u, G, ys)
    J = gl_objective(pr, S, coef, b, Kcoef=Kc)
    balance = abs(float(ys @ a))
    if checkpoints[-1][0] != it:
        checkpoints.append((it, J, balance))
    Js = np.array([c[1] for c in checkpoints])
    rises = float(np.mean(np.diff(Js) > 0)) if Js.size > 1 else 0.0
    dual_obj = -float(0.5 * a @ (G - dual.linear) + dual.linear @ a)
    result = SVMResult(coef=coef, b=b, a=a.copy(), objective=J, dual_objective=dual_obj, status=status,
                       n_iter=it, solve_time=0.0, solver=f"paper-{clip}",
                       extra={"balance": balance, "checkpoints": checkpoints, "objective_rises": rises,
                              "violation": float(violation), "upper": u.copy(), "grad": G,
                              "eps": eps, "clip": clip})
    result.extra["stationarity"] = stationarity(result, pr, S, eps)
    result.solve_time = time.perf_counter() - t0
    return result
