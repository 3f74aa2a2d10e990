"""The dual of a support-vector problem in LIBSVM's form: one adapter per problem form.

Every p = 1 problem glopt solves is, in its dual, one quadratic program over l variables

    min_a  0.5 a^T Q a + q^T a   s.t.  s^T a = 0,  0 <= a_t <= u_t,
    Q_tr = s_t s_r K(x_{i_t}, x_{i_r}),

described by four vectors: the sample ``index`` i_t of each variable, its ``sign`` s_t, the
``linear`` term q_t and the ``upper`` bound u_t. (LIBSVM calls the signs y and the linear term
p; glopt keeps p for the order of the loss.) A problem form is one short adapter that builds
these vectors from an :class:`~glopt.problem.SVMProblem`, as LIBSVM's ``solve_c_svc`` and
``solve_epsilon_svr`` do for its one ``Solver``; the SMO engine, the certifier, the cvxpy
reference layer, the p = 2 solver and the paper's scheme all read the dual through it.

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
    """

    index: np.ndarray
    sign: np.ndarray
    linear: np.ndarray
    upper: np.ndarray
    n_samples: int

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

    def feasible_start(self, a0, balance: float = 0.0) -> np.ndarray:
        """A feasible point near ``a0``: ``a0`` clipped to [0, u], then the balance restored.

        The balance s^T a = ``balance`` is restored by moving the variables with the most room.
        Only as many variables as needed are moved (largest room first, ties by index), so a warm
        start after a change of bounds stays close to a0 and its gradient update stays cheap.

        Parameters
        ----------
        a0 : array_like, shape (l,)
            The point to start from.
        balance : float, default 0.0
            Right-hand side of the balance constraint.

        Returns
        -------
        ndarray, shape (l,)
            A point with 0 <= a <= u and s^T a = ``balance``.

        Raises
        ------
        ValueError
            When the bounds leave too little room to restore the balance.
        """
        y, u = self.sign, self.upper
        a = np.clip(a0, 0.0, u)
        r = balance - float(y @ a)
        if r == 0.0:
            return a
        # direction of change of a_t that raises s^T a by sign(r): up for s_t = sign(r), else down
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


#: The adapter of each problem form, by ``SVMProblem.task``.
FORMS = {"svc": c_svc, "svr": epsilon_svr}


def dual_form(problem: SVMProblem) -> DualForm:
    """The dual of ``problem`` in LIBSVM's form, built by the adapter of its task.

    Parameters
    ----------
    problem : SVMProblem
        Any glopt problem (p = 1 or p = 2).

    Returns
    -------
    DualForm
        The dual form of ``problem`` (:func:`c_svc` or :func:`epsilon_svr`).

    Raises
    ------
    TypeError
        When ``problem`` is not an :class:`~glopt.problem.SVMProblem`.
    """
    if not isinstance(problem, SVMProblem):
        raise TypeError(f"problem must be a glopt.problem.SVMProblem, got {type(problem).__name__}")
    return FORMS[problem.task](problem)
