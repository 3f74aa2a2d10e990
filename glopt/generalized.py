"""One generalized-loss problem, solved and certified: the choice of solver for (p, S).

- p = 1, S = I: the standard weighted C-SVC / epsilon-SVR, by the SMO (:mod:`glopt.smo`);
- p = 1, S != I: the non-convex loss, by majorization-minimization with SMO steps
  (:mod:`glopt.mm`), or by the paper's scheme, kept for comparison (:mod:`glopt.paper`);
- p = 2: the convex generalized quadratic loss, solved exactly (:mod:`glopt.quadratic`).

Every answer carries its certificate in ``extra["certificate"]`` (:func:`glopt.certify.certify`):
the optimality certificate of the convex problems, and for p = 1 with S != I that of the weighted
SVM whose weights are recomputed at the answer's own slacks, whose KKT residual is the
stationarity residual of the generalized loss (docs/mathematics.md §4).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .certify import certify
from .problem import SVMProblem
from .result import SVMResult

__all__ = ["solve_generalized", "SOLVERS"]

#: The solvers of the p = 1 loss with S != I.
SOLVERS = ("mm", "paper")


def solve_generalized(problem: SVMProblem, S=None, *, solver: str = "mm", eps: float = 1e-4,
                      tol: float = 1e-5, mm_tol: float = 1e-6, mm_max_iter: int = 100,
                      accelerate: bool = True, cert_tol: float | None = None, smo_options=None,
                      callback=None) -> SVMResult:
    """Solve ``problem`` with the loss of order ``problem.p`` and correlation ``S``, certified.

    Parameters
    ----------
    problem : SVMProblem
        The data, kernel, C, epsilon (svr) and sample weights; ``problem.p`` (1 or 2) is the
        order of the loss. Its own ``S`` must be None: the correlation is passed as ``S``.
    S : ndarray or operator, shape (n, n), optional
        The correlation matrix (entrywise nonnegative, PSD for p = 2): an array, or an operator
        with ``@`` (:class:`glopt.kernels.Correlation`); p = 2 needs an array or an operator with
        ``dense()``. None is the identity, the standard loss.
    solver : {'mm', 'paper'}, default='mm'
        Solver of the p = 1 loss with S != I; 'paper' runs the paper's moving-bound scheme, which
        is not a convergent method (for comparison only).
    eps : float > 0, default=1e-4
        Smoothing of the square roots of the p = 1 loss (margin units).
    tol : float > 0, default=1e-5
        Tolerance of the SVM solver: the SMO's maximal KKT violation (MM's inner SMO runs at
        min(tol, 0.1 eps)); for p = 2, min(tol, 1e-8) for the exact solver.
    mm_tol : float > 0, default=1e-6
        MM's relative objective decrease at which it stops.
    mm_max_iter : int >= 1, default=100
        Maximal number of MM steps (the SMO's own cap is ``smo_options["max_iter"]``).
    accelerate : bool, default=True
        Extrapolated MM (:func:`glopt.mm.solve_mm`).
    cert_tol : float > 0, optional
        MM stops only once the stationarity certificate meets it.
    smo_options : dict, optional
        Options of the SMO (:func:`glopt.smo.solve`): cache_size, shrinking, n_jobs, ...
    callback : callable(MMStep), optional
        Called after every MM step.

    Returns
    -------
    SVMResult
        The answer, with its certificate in ``extra["certificate"]``.

    Raises
    ------
    ValueError
        When ``solver`` is unknown, or 'paper' is asked for with p = 2.
    """
    if not isinstance(problem, SVMProblem):
        raise TypeError(f"problem must be a glopt.problem.SVMProblem, got {type(problem).__name__}")
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    if solver == "paper" and problem.p != 1:
        raise ValueError("solver='paper' exists for p=1 only (p=2 is convex and solved exactly)")
    smo_options = dict(smo_options or {})
    if problem.p == 2:
        return _quadratic(problem, S, tol)
    if S is None:
        return _standard(problem, tol, smo_options)
    if solver == "paper":
        return _paper(problem, S, eps, tol)
    return _mm(problem, S, eps=eps, tol=tol, mm_tol=mm_tol, mm_max_iter=mm_max_iter, accelerate=accelerate,
               cert_tol=cert_tol, smo_options=smo_options, callback=callback)


def _certified(result: SVMResult, problem: SVMProblem) -> SVMResult:
    return replace(result, extra={**result.extra, "certificate": certify(result, problem)})


def _quadratic(problem, S, tol) -> SVMResult:
    from .quadratic import solve_quadratic

    if S is None:
        S = np.eye(problem.n)
    elif hasattr(S, "dense") and callable(S.dense):
        S = S.dense()
    problem = replace(problem, S=S)
    return _certified(solve_quadratic(problem, tol=min(tol, 1e-8)), problem)


def _standard(problem, tol, smo_options) -> SVMResult:
    from . import smo

    result = smo.solve(problem, tol=tol, **smo_options)
    return replace(result, extra={**result.extra, "certificate": smo.certificate(result, problem)})


def _paper(problem, S, eps, tol) -> SVMResult:
    from .mm import gl_weights
    from .paper import solve_paper

    result = solve_paper(problem, S, eps=eps, tol=tol)
    xi = problem.slack(problem.decision(result.coef, result.b))
    return _certified(result, replace(problem, weights=gl_weights(problem, S, xi, eps)))


def _mm(problem, S, *, eps, tol, mm_tol, mm_max_iter, accelerate, cert_tol, smo_options, callback) -> SVMResult:
    from .mm import SMOInner, solve_mm

    inner = SMOInner(tol=min(tol, 0.1 * eps), **smo_options)
    # solve_mm puts the stationarity certificate at the final slacks in extra["certificate"]
    return solve_mm(problem, S, inner, eps=eps, tol=mm_tol, max_iter=mm_max_iter, callback=callback,
                    cert_tol=cert_tol, accelerate=accelerate)
