"""The dual of a support-vector problem in LIBSVM's form: one adapter per problem form.

Every p = 1 problem glopt solves is, in its dual, one quadratic program over l variables

    min_a  0.5 a^T Q a + q^T a   s.t.  A a = d,  0 <= a_t <= u_t,
    Q_tr = s_t s_r K(x_{i_t}, x_{i_r}),

described by four vectors, the sample ``index`` i_t of each variable, its ``sign`` s_t, the
``linear`` term q_t and the ``upper`` bound u_t, and by its equality constraints: the balance
s^T a = d (C-SVC, epsilon-SVR, one-class) or, for the nu formulations, one sum per sign class,
``sum_{s_t = +1} a_t = d+`` and ``sum_{s_t = -1} a_t = d-`` (LIBSVM's ``Solver_NU``, which keeps both
by pairing variables of one class only). (LIBSVM calls the signs y and the linear term p; glopt
keeps p for the order of the loss.) A problem form is one short adapter that builds these from
an :class:`~glopt.problem.SVMProblem`, as LIBSVM's ``solve_c_svc``, ``solve_nu_svc``,
``solve_one_class``, ``solve_epsilon_svr`` and ``solve_nu_svr`` do for its solvers, with
LIBSVM's starting point; the SMO engine, the certifier, the cvxpy reference layer, the p = 2
solver and the paper's scheme all read the dual through it.

The multipliers mu of A a = d are the rest of a solution: the primal of the dual above is

    min_{w, mu, xi >= 0}  0.5 ||w||^2 + u^T xi + d^T mu
    s.t.  s_t <w, phi(x_{i_t})> + q_t + (A^T mu)_t + xi_t >= 0,

so that mu = b for the balance (the bias, f = <w, phi> + b), and mu = (-(r + rho), -(r - rho))
for the two class sums, with LIBSVM's rho and r (:meth:`DualForm.multipliers`).

The decision function of a dual point a is f(x) = sum_i coef_i K(x_i, x) + b with
coef_i = sum over the variables t of sample i of s_t a_t (:meth:`DualForm.coef`), and the
gradient Q a + q is s_t (K coef)_{i_t} + q_t (:meth:`DualForm.gradient`): both need K coef only,
never Q itself.

The p = 2 problems share the variables, signs and linear term (their dual has no upper bound but
the coupling a_sum <= 2 C S_w zeta, see docs/mathematics.md §6); their ``upper`` is that of the
p = 1 problem with the same data.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .problem import SVMProblem

__all__ = ["DualForm", "dual_form", "FORMS"]


@dataclass(frozen=True)
class DualForm:
    """The dual QP of one problem in LIBSVM's form (see the module docstring).

    Parameters
    ----------
    index : ndarray of int32, shape (l,)
        Sample of each dual variable (LIBSVM's ``index`` of the 2n-variable SVR form).
    sign : ndarray of float64, shape (l,)
        s_t in {-1, +1}: the sign of variable t in coef and in the balance s^T a = 0.
    linear : ndarray of float64, shape (l,)
        The linear term q of the dual objective.
    upper : ndarray of float64, shape (l,)
        The upper bounds u of the box 0 <= a <= u.
    n_samples : int
        Number of samples n (coef has this length).
    rhs : ndarray of float64, shape (k,)
        Right-hand sides d of the equality constraints: (d,) for the balance s^T a = d,
        (d+, d-) for the class sums of the nu formulations.
    start : ndarray of float64, shape (l,)
        LIBSVM's feasible starting point (zeros where 0 is feasible).
    nu : bool, default=False
        The equalities are the two class sums (LIBSVM's ``Solver_NU``), else the balance.
    rescale : bool, default=False
        nu-SVC: the model is (s a / r, -rho / r), LIBSVM's scaling of the nu-SVC solution.
    """

    index: np.ndarray
    sign: np.ndarray
    linear: np.ndarray
    upper: np.ndarray
    n_samples: int
    rhs: np.ndarray = None
    start: np.ndarray = None
    nu: bool = False
    rescale: bool = False

    def __post_init__(self):
        # the balance s^T a = 0 from the zero start, unless an adapter says otherwise
        if self.rhs is None:
            object.__setattr__(self, "rhs", np.zeros(2 if self.nu else 1))
        if self.start is None:
            object.__setattr__(self, "start", np.zeros(self.index.size))

    @property
    def rows(self) -> np.ndarray:
        """The equality constraint matrix A, shape (k, l): s^T, or the two class indicators."""
        if self.nu:
            return np.vstack([(self.sign > 0).astype(float), (self.sign < 0).astype(float)])
        return self.sign[None, :].copy()

    def multipliers(self, b: float, r: float | None = None) -> np.ndarray:
        """The multipliers mu of A a = d of a solution with bias ``b`` (and LIBSVM's ``r``).

        Parameters
        ----------
        b : float
            The bias of the model, f = sum_j coef_j K(x_j, x) + b.
        r : float, optional
            LIBSVM's r of the nu formulations (needed when ``nu``).

        Returns
        -------
        ndarray, shape (k,)
            mu = (b,) for the balance; (-(r + rho), -(r - rho)) for the class sums, with rho the
            solved problem's offset (-b, or -b r for the rescaled nu-SVC).
        """
        if not self.nu:
            return np.array([float(b)])
        if r is None or not np.isfinite(r):
            raise ValueError("the multipliers of a nu formulation need LIBSVM's r (result.extra['r'])")
        rho = -float(b) * (r if self.rescale else 1.0)
        return np.array([-(r + rho), -(r - rho)])

    @property
    def size(self) -> int:
        """Number of dual variables l."""
        return int(self.index.size)

    def coef(self, a) -> np.ndarray:
        """Expansion coefficients coef_i = sum_{t: i_t = i} s_t a_t of the decision function.

        Parameters
        ----------
        a : array_like, shape (l,)
            A dual point.

        Returns
        -------
        ndarray, shape (n_samples,)
            The coefficients coef_i, one per sample.
        """
        return np.bincount(self.index, weights=self.sign * a, minlength=self.n_samples)

    def sample_sums(self, a) -> np.ndarray:
        """Per-sample sums a_sum_i = sum_{t: i_t = i} a_t (the p = 2 coupling's left-hand side).

        Parameters
        ----------
        a : array_like, shape (l,)
            A dual point.

        Returns
        -------
        ndarray, shape (n_samples,)
            The sums a_sum_i, one per sample.
        """
        return np.bincount(self.index, weights=a, minlength=self.n_samples)

    def gradient(self, Kcoef) -> np.ndarray:
        """The gradient Q a + q from K @ coef on the training inputs.

        Parameters
        ----------
        Kcoef : array_like, shape (n_samples,)
            K @ coef(a).

        Returns
        -------
        ndarray, shape (l,)
            The gradient s_t (K coef)_{i_t} + q_t of each dual variable.
        """
        return self.sign * Kcoef[self.index] + self.linear

    def kernel_product(self, grad) -> np.ndarray:
        """K @ coef on the training inputs from the gradient Q a + q: the inverse of :meth:`gradient`.

        A solver that keeps the gradient (the SMO) has the kernel product of its answer already;
        the certifier takes it instead of recomputing it. Where two variables share a sample
        (the SVR forms), the first one's value is taken.

        Parameters
        ----------
        grad : array_like, shape (l,)
            The gradient Q a + q at a dual point a.

        Returns
        -------
        ndarray, shape (n_samples,)
            K @ coef(a).

        Raises
        ------
        ValueError
            When ``grad`` does not have one entry per dual variable.
        """
        grad = np.asarray(grad, dtype=np.float64)
        if grad.shape != (self.size,):
            raise ValueError(f"grad must have shape ({self.size},), got {grad.shape}")
        first = np.unique(self.index, return_index=True)[1]
        Kc = np.zeros(self.n_samples)
        Kc[self.index[first]] = self.sign[first] * (grad[first] - self.linear[first])
        return Kc

    def linear_value(self, a) -> float:
        """-q^T a, the part of the dual objective -(0.5 a^T Q a + q^T a) that is linear in a.

        Parameters
        ----------
        a : array_like, shape (l,)
            A dual point.

        Returns
        -------
        float
            The value -q^T a.
        """
        return -float(self.linear @ a)

    def margin_slack(self, f, zeta) -> np.ndarray:
        """Slack s_t f_{i_t} + q_t + zeta_{i_t} >= 0 of the margin constraint of each variable.

        Variable t is the multiplier of the primal constraint s_t f(x_{i_t}) + q_t + zeta_{i_t}
        >= 0 (svc: y_i f_i >= 1 - xi_i; svr: the two sides of the tube).

        Parameters
        ----------
        f : array_like, shape (n_samples,)
            Decision values on the training inputs.
        zeta : array_like, shape (n_samples,)
            Slacks of the loss.

        Returns
        -------
        ndarray, shape (l,)
            The slack of the margin constraint of each dual variable.
        """
        return self.sign * f[self.index] + self.linear + zeta[self.index]

    def dense_q(self, K) -> np.ndarray:
        """Q = diag(s) K[index][:, index] diag(s) as a dense matrix (small problems only).

        Parameters
        ----------
        K : ndarray, shape (n_samples, n_samples)
            The kernel matrix.

        Returns
        -------
        ndarray, shape (l, l)
            The matrix Q.
        """
        Kx = K[np.ix_(self.index, self.index)]
        return self.sign[:, None] * Kx * self.sign[None, :]

    def feasible_start(self, a0, balance: float | None = None) -> np.ndarray:
        """A feasible point near ``a0``: ``a0`` clipped to [0, u], then A a = d restored.

        Each equality is restored by moving the variables with the most room. Only as many
        variables as needed are moved (largest room first, ties by index), so a warm start after
        a change of bounds stays close to a0 and its gradient update stays cheap.

        Parameters
        ----------
        a0 : array_like, shape (l,)
            The point to start from.
        balance : float, optional
            Right-hand side of the balance constraint (forms with one equality); default ``rhs``.

        Returns
        -------
        ndarray, shape (l,)
            A point with 0 <= a <= u and A a = d.

        Raises
        ------
        ValueError
            When the bounds leave too little room to restore an equality.
        """
        a = np.clip(a0, 0.0, self.upper)
        rhs = self.rhs if balance is None else np.array([float(balance)])
        if self.nu:
            for cls, target in zip((self.sign > 0, self.sign < 0), rhs):
                a[cls] = _restore(a[cls], np.ones(int(cls.sum())), self.upper[cls], float(target))
            return a
        return _restore(a, self.sign, self.upper, float(rhs[0]))


def _restore(a, y, u, target) -> np.ndarray:
    """``a`` (in [0, u]) with y^T a = target, moving the variables with the most room first."""
    r = target - float(y @ a)
    if r == 0.0:
        return a
    # direction of change of a_t that raises y^T a by sign(r): up for y_t = sign(r), else down
    up = y == np.sign(r)
    room = np.where(up, u - a, a)
    order = np.argsort(-room, kind="stable")
    need = abs(r)
    total = float(room.sum())
    if total < need * (1.0 - 1e-12):
        raise ValueError(
            f"a0 cannot be made feasible: y^T a must change by {r:.6g} but the bounds leave room "
            f"for {total:.6g} only")
    for t in order:
        if need <= 0.0:
            break
        step = min(room[t], need)
        if step <= 0.0:
            break
        a[t] = min(u[t], a[t] + step) if up[t] else max(0.0, a[t] - step)
        need -= step
    return a


def c_svc(problem: SVMProblem) -> DualForm:
    """C-SVC: one variable per sample, s = y, q = -1, u = C w.

    Parameters
    ----------
    problem : SVMProblem
        A problem with ``task="svc"``.

    Returns
    -------
    DualForm
        The C-SVC dual form of ``problem``.
    """
    n = problem.n
    return DualForm(index=np.arange(n, dtype=np.int32), sign=problem.y.astype(np.float64),
                    linear=-np.ones(n), upper=problem.upper.copy(), n_samples=n)


def epsilon_svr(problem: SVMProblem) -> DualForm:
    """epsilon-SVR in LIBSVM's 2n-variable form a = [alpha, alpha*].

    s = [1, -1], q = [eps - y, eps + y], u = [C w, C w]: coef = alpha - alpha*.

    Parameters
    ----------
    problem : SVMProblem
        A problem with ``task="svr"``.

    Returns
    -------
    DualForm
        The 2n-variable epsilon-SVR dual form of ``problem``.
    """
    n = problem.n
    u = problem.upper
    return DualForm(index=np.concatenate([np.arange(n), np.arange(n)]).astype(np.int32),
                    sign=np.concatenate([np.ones(n), -np.ones(n)]),
                    linear=np.concatenate([problem.epsilon - problem.y, problem.epsilon + problem.y]),
                    upper=np.concatenate([u, u]), n_samples=n)


def _fill(caps, total) -> np.ndarray:
    """LIBSVM's start: a_i = min(cap_i, what is left of ``total``), in sample order."""
    a = np.zeros(caps.size)
    left = total
    for i in range(caps.size):
        if left <= 0.0:
            break
        a[i] = min(caps[i], left)
        left -= a[i]
    return a


def nu_svc(problem: SVMProblem) -> DualForm:
    """nu-SVC in LIBSVM's scaled form: s = y, q = 0, u = w, each class summing to nu sum(w) / 2.

    LIBSVM solves min 0.5 a^T Q a with 0 <= a <= w and the two class sums, then reports the
    model (y a / r, -rho / r): a C-SVC solution with C = 1 / r.

    Parameters
    ----------
    problem : SVMProblem
        A problem with ``task="nu_svc"``.

    Returns
    -------
    DualForm
        The nu-SVC dual form of ``problem``, with LIBSVM's start.
    """
    n, u = problem.n, problem.upper.copy()
    # the sums accumulate in sample order, as LIBSVM's loops do
    half = float(np.cumsum(problem.nu * u)[-1]) / 2.0
    pos = problem.y > 0
    start = np.zeros(n)
    start[pos], start[~pos] = _fill(u[pos], half), _fill(u[~pos], half)
    return DualForm(index=np.arange(n, dtype=np.int32), sign=problem.y.astype(np.float64),
                    linear=np.zeros(n), upper=u, n_samples=n, rhs=np.array([half, half]),
                    start=start, nu=True, rescale=True)


def one_class(problem: SVMProblem) -> DualForm:
    """The one-class SVM: s = 1, q = 0, u = w, sum(a) = nu sum(w) (LIBSVM's solve_one_class).

    Parameters
    ----------
    problem : SVMProblem
        A problem with ``task="one_class"``.

    Returns
    -------
    DualForm
        The one-class dual form of ``problem``, with LIBSVM's start.
    """
    n, u = problem.n, problem.upper.copy()
    total = float(np.cumsum(u * problem.nu)[-1])
    return DualForm(index=np.arange(n, dtype=np.int32), sign=np.ones(n), linear=np.zeros(n), upper=u,
                    n_samples=n, rhs=np.array([total]), start=_fill(u, total))


def nu_svr(problem: SVMProblem) -> DualForm:
    """nu-SVR in LIBSVM's 2n-variable form: s = [1, -1], q = [-y, y], u = [C w, C w].

    Each half sums to C nu sum(w) / 2; LIBSVM's r is minus the tube width epsilon it finds.

    Parameters
    ----------
    problem : SVMProblem
        A problem with ``task="nu_svr"``.

    Returns
    -------
    DualForm
        The 2n-variable nu-SVR dual form of ``problem``, with LIBSVM's start.
    """
    n, u = problem.n, problem.upper
    half = float(np.cumsum(u * problem.nu)[-1]) / 2.0
    # LIBSVM gives alpha_i and alpha*_i the same start value, drawn from one running sum
    start = _fill(u, half)
    return DualForm(index=np.concatenate([np.arange(n), np.arange(n)]).astype(np.int32),
                    sign=np.concatenate([np.ones(n), -np.ones(n)]),
                    linear=np.concatenate([-problem.y, problem.y]), upper=np.concatenate([u, u]),
                    n_samples=n, rhs=np.array([half, half]), start=np.concatenate([start, start]), nu=True)


#: The adapter of each problem form, by ``SVMProblem.task``.
FORMS = {"svc": c_svc, "svr": epsilon_svr, "nu_svc": nu_svc, "nu_svr": nu_svr, "one_class": one_class}


def dual_form(problem: SVMProblem) -> DualForm:
    """The dual of ``problem`` in LIBSVM's form, built by the adapter of its task.

    Parameters
    ----------
    problem : SVMProblem
        Any glopt problem (p = 1 or p = 2).

    Returns
    -------
    DualForm
        The dual form of ``problem`` (:func:`c_svc`, :func:`epsilon_svr`, :func:`nu_svc`,
        :func:`nu_svr` or :func:`one_class`).

    Raises
    ------
    TypeError
        When ``problem`` is not an :class:`~glopt.problem.SVMProblem`.
    """
    if not isinstance(problem, SVMProblem):
        raise TypeError(f"problem must be a glopt.problem.SVMProblem, got {type(problem).__name__}")
    return FORMS[problem.task](problem)
