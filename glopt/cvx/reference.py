"""cvxpy statements of every convex glopt problem, primal and dual, solved by Clarabel.

Notation (docs/mathematics.md §1): K = L L^T is a factor of the kernel matrix, so <w, phi(x_i)> = (L w)_i
for w in the span of the data; S_w = R R^T a factor of the p = 2 loss matrix. Quadratic forms
are written as sum_squares of a factor, never as quad_form with a parameter matrix: that keeps
every problem DPP, so a re-solve with new weights ``c`` (p = 1) or ``C`` (p = 2) reuses the
compiled problem.

Primal  (P)   min_{w, b, slack}  0.5 ||w||^2 + loss(slack)
              svc: y_i f_i >= 1 - xi_i,  xi >= 0                          (dual a_i)
              svr: y_i - f_i <= eps + xi_i, f_i - y_i <= eps + xi*_i      (dual alpha_i, alpha*_i)
              p = 1: loss = c^T (xi [+ xi*]);  p = 2: loss = C ||R^T zeta||^2, zeta = xi (+ xi*),
              and for p = 2 svr one slack zeta bounds both sides (docs/mathematics.md §1).

Dual    (D)   max  lin(a) - 0.5 ||L^T coef||^2 [- C ||u||^2]   s.t.  1^T coef = 0,
              p = 1: 0 <= a <= c;   p = 2: a >= 0,  2 C R u >= a_sum.
              coef = y * a (svc) or alpha - alpha* (svr); lin = 1^T a (svc) or
              y^T coef - eps 1^T (alpha + alpha*) (svr); a_sum = a (svc) or alpha + alpha* (svr).

The p = 2 dual is the Wolfe dual: the multiplier mu >= 0 of zeta >= 0 is eliminated by
a_sum + mu = 2 C S_w zeta = 2 C R u, u = R^T zeta. It needs no S^{-1} (RBF S is badly
conditioned) and is exact when R has full column rank, which psd_factor guarantees.
"""
from __future__ import annotations

import time
import warnings

import clarabel
import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from ..dual import dual_form
from ..kernels import psd_factor
from ..problem import SVMProblem
from ..result import SVMResult

#: Clarabel settings of the reference: tight enough for 1e-7 relative duality gaps and 1e-6 KKT residuals.
CLARABEL_DEFAULTS = dict(tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11, tol_ktratio=1e-9,
                         max_iter=500)


#: Clarabel's settings, the solver options the reference accepts.
CLARABEL_OPTIONS = tuple(sorted(a for a in dir(clarabel.DefaultSettings()) if not a.startswith("_") and a != "default"))


class ReferenceSolveError(RuntimeError):
    """Clarabel ended with a status other than optimal."""


def _solve(prob: cp.Problem, what: str, options: dict) -> float:
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():  # an inaccurate solution raises below; no warning first
            warnings.filterwarnings("ignore", message="Solution may be inaccurate")
            prob.solve(solver=cp.CLARABEL, **options)
    except cp.error.SolverError as exc:
        raise ReferenceSolveError(f"Clarabel failed on the {what}: {exc}") from exc
    if prob.status != cp.OPTIMAL:
        raise ReferenceSolveError(
            f"Clarabel ended the {what} with status {prob.status!r}; the reference returns only "
            "optimal solutions (scale the data, or loosen the tolerances passed as solver options)")
    return time.perf_counter() - t0


class Reference:
    """Exact primal and dual of one :class:`~glopt.problem.SVMProblem`, compiled once.

    ``solve(C=..., weights=...)`` changes only cvxpy Parameters, so repeated solves (an MM loop,
    a C grid) skip the compilation.

    Parameters
    ----------
    problem : SVMProblem
        The convex problem (p = 1, or p = 2 with its S).
    **solver_options
        Clarabel settings (names of ``clarabel.DefaultSettings``), over ``CLARABEL_DEFAULTS``.

    Attributes
    ----------
    problem : SVMProblem
        The problem last solved (rebuilt with the ``C`` and ``weights`` of a solve).
    primal : cvxpy.Problem
        The primal (P).
    dual : cvxpy.Problem
        The dual (D).

    Raises
    ------
    TypeError
        When ``problem`` is not an SVMProblem.
    ValueError
        When a solver option is not a Clarabel setting.

    Examples
    --------
    >>> import numpy as np
    >>> from glopt.cvx import Reference
    >>> from glopt.kernels import Kernel
    >>> from glopt.problem import SVMProblem
    >>> X = np.random.default_rng(0).normal(size=(20, 2))
    >>> y = np.where(X[:, 0] > 0, 1.0, -1.0)
    >>> ref = Reference(SVMProblem(X, y, Kernel("linear"), task="svc", C=1.0))
    >>> results = [ref.solve(C=C) for C in (0.1, 1.0, 10.0)]
    >>> [r.status for r in results]
    ['optimal', 'optimal', 'optimal']
    """

    def __init__(self, problem: SVMProblem, **solver_options):
        if not isinstance(problem, SVMProblem):
            raise TypeError(f"problem must be a glopt.problem.SVMProblem, got {type(problem).__name__}")
        unknown = sorted(set(solver_options) - set(CLARABEL_OPTIONS))
        if unknown:
            raise ValueError(f"unknown Clarabel option(s) {unknown}; known: {sorted(CLARABEL_OPTIONS)}")
        self.problem = problem
        self._form = dual_form(problem)
        self.options = {**CLARABEL_DEFAULTS, **solver_options}
        n, pr = problem.n, problem
        self._L = psd_factor(pr.gram())
        self._R = psd_factor(pr.s_weighted()) if pr.p == 2 else None
        if pr.p == 1:
            self.c = cp.Parameter(n, nonneg=True, value=pr.upper)
        else:
            self.C = cp.Parameter(nonneg=True, value=pr.C)
        # right-hand sides of the dual's equalities (they move with the weights: nu formulations)
        self.d = cp.Parameter(self._form.rhs.size, value=self._form.rhs)
        self._build_primal()
        self._build_dual()

    # ---------------------------------------------------------------- problems
    def _build_primal(self):
        pr, L, form = self.problem, self._L, self._form
        # mu: the multipliers of the dual's equalities, (b,) for the balance (f = L w + b), or the
        # two class offsets of the nu formulations (glopt.dual's module docstring)
        w, mu = cp.Variable(L.shape[1]), cp.Variable(form.rhs.size)
        if pr.p == 1:
            # one slack per dual variable: xi (svc), or xi and xi* of the two tube sides (svr)
            xi = cp.Variable(form.size, nonneg=True)
            slack, loss = xi, self.c[form.index] @ xi
        else:
            # one slack per sample bounds both tube sides (docs/mathematics.md §1)
            zeta = cp.Variable(pr.n, nonneg=True)
            slack, loss = zeta[form.index], self.C * cp.sum_squares(self._R.T @ zeta)
        # the margin constraint of dual variable t: s_t <w, phi_{i_t}> + q_t + (A^T mu)_t + slack_t >= 0
        margins = [cp.multiply(form.sign, (L @ w)[form.index]) + form.linear + form.rows.T @ mu + slack >= 0]
        self._w, self._mu, self._margins = w, mu, margins
        self.primal = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(w) + loss + self.d @ mu), margins)

    def _build_dual(self):
        pr, L, form = self.problem, self._L, self._form
        a = cp.Variable(form.size, nonneg=True)
        variables = np.arange(form.size)
        # coef = B a and a_sum = |B| a with B the (n, l) incidence matrix of the dual form
        B = sp.csr_matrix((form.sign, (form.index, variables)), shape=(pr.n, form.size))
        coef, a_sum = B @ a, abs(B) @ a
        lin = -form.linear @ a
        self._balance = form.rows @ a == self.d
        cons = [self._balance]
        obj = lin - 0.5 * cp.sum_squares(L.T @ coef)
        if pr.p == 1:
            cons.append(a <= self.c[form.index])
        else:
            u = cp.Variable(self._R.shape[1])
            cons.append(2 * self.C * (self._R @ u) >= a_sum)
            obj = obj - self.C * cp.sum_squares(u)
        self._a = a
        self.dual = cp.Problem(cp.Maximize(obj), cons)

    # ---------------------------------------------------------------- solving
    def _set(self, C, weights):
        pr = self.problem
        if pr.p == 2 and weights is not None:
            raise ValueError("with p=2 the weights enter the factor of S: build a new Reference")
        if C is not None or weights is not None:
            y = None if pr.task == "one_class" else pr.y
            self.problem = pr = SVMProblem(pr.X, y, pr.kernel, pr.task, pr.C if C is None else C,
                                           pr.weights if weights is None else weights, pr.epsilon,
                                           pr.p, pr.S, pr.nu)
            self._form = dual_form(pr)
            self.d.value = self._form.rhs
        if pr.p == 1:
            self.c.value = pr.upper
        else:
            self.C.value = pr.C

    def _model(self, a, mu):
        """(coef, b, extra) of the model with dual variables ``a`` and multipliers ``mu``."""
        form = self._form
        coef = form.coef(a)
        if not form.nu:
            return coef, float(mu[0]), {}
        # mu = (-(r + rho), -(r - rho)) (glopt.dual); nu-SVC's model is scaled by 1 / r
        r, rho = -0.5 * float(mu[0] + mu[1]), 0.5 * float(mu[1] - mu[0])
        scale = r if form.rescale else 1.0
        return coef / scale, -rho / scale, {"r": r}

    def solve_primal(self, C=None, weights=None) -> SVMResult:
        """Solve the primal (P); ``a`` holds the dual values of the margin constraints.

        Parameters
        ----------
        C : float > 0, optional
            New regularization constant; default the problem's.
        weights : array_like of shape (n,), optional
            New per-sample weights (p = 1 only); default the problem's.

        Returns
        -------
        SVMResult
            Solver ``"cvx-primal"``, with ``coef``, ``b``, ``a`` and ``objective``.

        Raises
        ------
        ReferenceSolveError
            When Clarabel does not end optimal.
        ValueError
            When ``weights`` are given for p = 2 (they enter the factor of S: build a new
            Reference).
        """
        self._set(C, weights)
        t = _solve(self.primal, "primal", self.options)
        a = np.concatenate([np.asarray(m.dual_value, float).ravel() for m in self._margins])
        stats = self.primal.solver_stats
        coef, b, extra = self._model(a, np.asarray(self._mu.value, float))
        return SVMResult(coef=coef, b=b, a=a, objective=float(self.primal.value), extra=extra,
                         n_iter=int(stats.num_iters or 0), solve_time=t, solver="cvx-primal")

    def solve_dual(self, C=None, weights=None) -> SVMResult:
        """Solve the dual (D); ``b`` is the multiplier of the balance constraint ``1^T coef = 0``.

        Parameters
        ----------
        C : float > 0, optional
            New regularization constant; default the problem's.
        weights : array_like of shape (n,), optional
            New per-sample weights (p = 1 only); default the problem's.

        Returns
        -------
        SVMResult
            Solver ``"cvx-dual"``, with ``coef``, ``b``, ``a`` and ``dual_objective``.

        Raises
        ------
        ReferenceSolveError
            When Clarabel does not end optimal.
        ValueError
            When ``weights`` are given for p = 2 (they enter the factor of S: build a new
            Reference).
        """
        self._set(C, weights)
        t = _solve(self.dual, "dual", self.options)
        a = np.asarray(self._a.value, float)
        # the multiplier of 1^T coef = 0 is the bias (cvxpy's sign convention for Maximize)
        coef, b, extra = self._model(a, np.atleast_1d(np.asarray(self._balance.dual_value, float)))
        stats = self.dual.solver_stats
        return SVMResult(coef=coef, b=b, a=a, dual_objective=float(self.dual.value), extra=extra,
                         n_iter=int(stats.num_iters or 0), solve_time=t, solver="cvx-dual")

    def solve(self, C=None, weights=None) -> SVMResult:
        """Solve both problems: ``a`` from (D), ``b`` and the objective from (P).

        Parameters
        ----------
        C : float > 0, optional
            New regularization constant; default the problem's.
        weights : array_like of shape (n,), optional
            New per-sample weights (p = 1 only); default the problem's.

        Returns
        -------
        SVMResult
            Solver ``"cvx"``, with both objectives; ``extra`` holds the margin duals of (P)
            (``margin_duals``), its coefficients (``primal_coef``) and the bias of (D)
            (``dual_b``).

        Raises
        ------
        ReferenceSolveError
            When Clarabel does not end optimal.
        ValueError
            When ``weights`` are given for p = 2 (they enter the factor of S: build a new
            Reference).
        """
        primal = self.solve_primal(C, weights)
        dual = self.solve_dual()
        return SVMResult(coef=dual.coef, b=primal.b, a=dual.a, objective=primal.objective,
                         dual_objective=dual.dual_objective, n_iter=primal.n_iter + dual.n_iter,
                         solve_time=primal.solve_time + dual.solve_time, solver="cvx",
                         extra={"margin_duals": primal.a, "primal_coef": primal.coef,
                                "dual_b": dual.b, **primal.extra})


def solve_reference(problem: SVMProblem, **solver_options) -> SVMResult:
    """Solve ``problem`` exactly, primal and dual, by cvxpy and Clarabel.

    Parameters
    ----------
    problem : SVMProblem
        The convex problem (p = 1, or p = 2).
    **solver_options
        Clarabel settings, over ``CLARABEL_DEFAULTS``.

    Returns
    -------
    SVMResult
        The result of :meth:`Reference.solve`.

    Raises
    ------
    ReferenceSolveError
        When Clarabel does not end optimal.

    Examples
    --------
    >>> import numpy as np
    >>> from glopt.certify import certify
    >>> from glopt.cvx import solve_reference
    >>> from glopt.kernels import Kernel
    >>> from glopt.problem import SVMProblem
    >>> X = np.random.default_rng(0).normal(size=(30, 2))
    >>> y = np.where(X[:, 0] + X[:, 1] > 0, 1.0, -1.0)
    >>> problem = SVMProblem(X, y, Kernel("rbf", gamma=0.5), task="svc", C=1.0)
    >>> bool(certify(solve_reference(problem), problem).ok(1e-6))
    True
    """
    return Reference(problem, **solver_options).solve()
