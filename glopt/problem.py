"""The data of one support-vector problem, shared by every solver and by the certifier.

Two tasks and two losses:

- ``task="svc"``: labels y in {-1, +1}, slack xi_i = max(0, 1 - y_i f(x_i));
- ``task="svr"``: real targets, slack ``zeta_i = max(0, |y_i - f(x_i)| - epsilon)``;
- ``p=1``: per-sample weighted hinge / epsilon-insensitive loss  sum_i C w_i xi_i
  (the standard C-SVC / epsilon-SVR for w = 1; every MM step of the generalized loss);
- ``p=2``: generalized quadratic loss  C xi^T S_w xi  with S_w = D S D, D = diag(sqrt(w))
  (S = I gives the squared hinge / squared error).

The primal is  min_{w, b} 0.5 ||w||^2 + loss(slack)  with f(x) = <w, phi(x)> + b.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._checks import as_float_array, binary_labels, choice, consistent_length, positive_scalar, real_scalar
from .kernels import Kernel, check_correlation_matrix, check_kernel_data


#: LIBSVM's five formulations.
TASKS = ("svc", "svr", "nu_svc", "nu_svr", "one_class")
#: The formulations with nu (their slacks need the margin variable of the solution).
NU_TASKS = ("nu_svc", "nu_svr", "one_class")


@dataclass
class SVMProblem:
    """One support-vector problem of LIBSVM's family, with per-sample weights and an optional S (p = 2).

    The five tasks are LIBSVM's five formulations: C-SVC ("svc"), epsilon-SVR ("svr"), nu-SVC
    ("nu_svc"), nu-SVR ("nu_svr") and the one-class SVM ("one_class"); their duals are in
    :mod:`glopt.dual`. The generalized loss (p = 2, or S != I through MM) is defined for "svc"
    and "svr".

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n, d), or ndarray of shape (n, n)
        Training inputs (sparse ones are kept as CSR); the dense (n, n) Gram matrix when
        ``kernel.name == "precomputed"``.
    y : ndarray of shape (n,), or None
        Labels in {-1, +1} (svc, nu_svc) or real targets (svr, nu_svr); None for one_class.
    kernel : Kernel, default=Kernel()
        SVM kernel K of the decision function.
    task : {"svc", "svr", "nu_svc", "nu_svr", "one_class"}, default="svc"
        The formulation: C-SVC (hinge slacks), epsilon-SVR (epsilon-insensitive slacks), nu-SVC,
        nu-SVR or the one-class SVM.
    C : float > 0, default=1.0
        Weight of the loss (not used by nu_svc and one_class, whose bounds are the weights).
    weights : ndarray of shape (n,), optional
        Positive per-sample weights; the p = 1 upper bounds of the dual are ``C * weights``
        (``weights`` for nu_svc and one_class).
    epsilon : float >= 0, default=0.1
        Width of the insensitive tube (svr only).
    p : {1, 2}, default=1
        Order of the loss: 1 the weighted hinge / epsilon-insensitive loss, 2 the generalized
        quadratic loss.
    S : ndarray of shape (n, n), optional
        Correlation matrix of the p = 2 loss (symmetric PSD); None means the identity.
    nu : float in (0, 1], default=0.5
        The nu of nu_svc, nu_svr and one_class: a lower bound on the fraction of support
        vectors and an upper bound on the fraction of margin errors.
    """

    X: np.ndarray
    y: np.ndarray
    kernel: Kernel = field(default_factory=Kernel)
    task: str = "svc"
    C: float = 1.0
    weights: np.ndarray | None = None
    epsilon: float = 0.1
    p: int = 1
    S: np.ndarray | None = None
    nu: float = 0.5

    def __post_init__(self):
        choice(self.task, "task", TASKS)
        choice(self.p, "p", (1, 2))
        if not isinstance(self.kernel, Kernel):
            raise TypeError(f"kernel must be a glopt.kernels.Kernel, got {self.kernel!r}")
        self.X = check_kernel_data(self.X, self.kernel)
        n = self.X.shape[0]
        if self.task == "one_class":
            if self.y is not None:
                raise ValueError("a one_class problem has no labels: pass y=None")
            self.y = np.ones(n)
        elif self.y is None:
            raise ValueError(f"y is required for task={self.task!r}")
        elif self.task in ("svc", "nu_svc"):
            self.y = binary_labels(self.y)
        else:
            self.y = as_float_array(self.y, "y", ndim=1)
        consistent_length(n, y=self.y)
        self.C = positive_scalar(self.C, "C")
        self.epsilon = positive_scalar(self.epsilon, "epsilon", allow_zero=True)
        if self.weights is not None:
            self.weights = as_float_array(self.weights, "weights", ndim=1)
            consistent_length(n, weights=self.weights)
            if np.any(self.weights <= 0):
                raise ValueError("weights must be > 0 (drop samples instead of giving them weight 0)")
        self.nu = real_scalar(self.nu, "nu")
        if not 0.0 < self.nu <= 1.0:
            raise ValueError(f"nu must be in (0, 1], got {self.nu!r}")
        if self.task in NU_TASKS:
            self._check_nu_form()
        if self.S is not None:
            if self.p != 2:
                raise ValueError("S enters the reference problems only with p=2 (p=1 with S != I is "
                                 "non-convex: it is solved by majorization-minimization)")
            self.S = check_correlation_matrix(self.S, n)

    def _check_nu_form(self) -> None:
        """The nu formulations are p = 1 problems, and nu-SVC must be feasible for the classes."""
        if self.p != 1 or self.S is not None:
            raise ValueError(f"task={self.task!r} is a p=1 problem without S (the generalized loss is "
                             "defined for 'svc' and 'svr')")
        if self.task == "nu_svc":
            w = self.sample_weight
            n_pos, n_neg = float(w[self.y > 0].sum()), float(w[self.y < 0].sum())
            if self.nu * (n_pos + n_neg) / 2.0 > min(n_pos, n_neg):
                raise ValueError(
                    f"nu={self.nu:g} is infeasible for these classes (weights {n_pos:g} and {n_neg:g}): "
                    f"nu-SVC needs nu <= 2 min(n+, n-) / (n+ + n-) = {2 * min(n_pos, n_neg) / (n_pos + n_neg):g}")

    @property
    def n(self) -> int:
        """Number of samples n (rows of X)."""
        return self.X.shape[0]

    @property
    def sample_weight(self) -> np.ndarray:
        """Per-sample weights as an array of shape (n,): ``weights``, or ones when it is None."""
        return np.ones(self.n) if self.weights is None else self.weights

    @property
    def upper(self) -> np.ndarray:
        """Upper bounds of the p = 1 dual, one per sample.

        ``C * weights``, or ``weights`` for nu_svc and one_class.
        """
        if self.task in ("nu_svc", "one_class"):
            return self.sample_weight.copy()
        return self.C * self.sample_weight

    def gram(self) -> np.ndarray:
        """The dense kernel matrix (small problems only).

        Returns
        -------
        ndarray of shape (n, n)
            The kernel matrix K of the training inputs.
        """
        return self.kernel(self.X)

    def s_weighted(self) -> np.ndarray:
        """S_w = D S D with D = diag(sqrt(weights)), the matrix of the p = 2 loss.

        Returns
        -------
        ndarray of shape (n, n)
            The dense matrix S_w (S = I when the problem has no S).
        """
        d = np.sqrt(self.sample_weight)
        S = np.eye(self.n) if self.S is None else self.S
        return S * d[:, None] * d[None, :]

    def decision(self, coef, b) -> np.ndarray:
        """Decision values f(x_i) = sum_j coef_j K(x_j, x_i) + b on the training inputs.

        Parameters
        ----------
        coef : ndarray of shape (n,)
            Expansion coefficients of the decision function.
        b : float
            Bias of the decision function.

        Returns
        -------
        ndarray of shape (n,)
            The decision values f(x_i).
        """
        return self.kernel.matvec(self.X, coef) + b

    def best_bias(self, Kcoef) -> float:
        """The bias minimizing the p = 1 primal for fixed w (K @ coef = ``Kcoef``).

        g(b) = sum_i c_i slack_i(Kcoef + b) is convex and piecewise linear; its minimizers form an
        interval, and the midpoint is returned (a canonical choice: the interval is one point when
        free support vectors exist, and every solver's w then yields the same b). A dual solver's
        own b is only as good as its stopping tolerance, and large per-sample bounds multiply that
        error in the primal objective. :func:`hinge_sum_argmin` finds the interval exactly, ties
        and weights of any magnitude included.

        Parameters
        ----------
        Kcoef : ndarray of shape (n,)
            K @ coef on the training inputs (the w the bias is chosen for).

        Returns
        -------
        float
            The midpoint of the interval of minimizing biases.

        Raises
        ------
        ValueError
            When the problem is not p = 1, or ``Kcoef`` does not have shape (n,).
        """
        if self.p != 1:
            raise ValueError("best_bias is the p=1 bias (the p=2 primal is quadratic in b)")
        self._require_margin_free("best_bias")
        Kcoef = np.asarray(Kcoef, dtype=np.float64)
        if Kcoef.shape != (self.n,):
            raise ValueError(f"Kcoef must have shape ({self.n},), got {Kcoef.shape}")
        c = self.upper
        if self.task == "svc":
            kink = self.y - Kcoef  # y=+1: slope -c below the kink; y=-1: slope +c above it
            pos = self.y > 0
            return hinge_sum_argmin(kink[pos], c[pos], kink[~pos], c[~pos])
        r = self.y - Kcoef
        return hinge_sum_argmin(r - self.epsilon, c, r + self.epsilon, c)

    def slack(self, f) -> np.ndarray:
        """Loss slack of decision values f: hinge (svc) or epsilon-insensitive (svr).

        Parameters
        ----------
        f : ndarray of shape (n,)
            Decision values on the training inputs.

        Returns
        -------
        ndarray of shape (n,)
            The slacks max(0, 1 - y_i f_i) (svc) or ``max(0, |y_i - f_i| - epsilon)`` (svr).
        """
        self._require_margin_free("slack")
        if self.task == "svc":
            return np.maximum(0.0, 1.0 - self.y * f)
        return np.maximum(0.0, np.abs(self.y - f) - self.epsilon)

    def _require_margin_free(self, what: str) -> None:
        # the nu formulations' slacks depend on the solution's margin variable (rho, or the tube
        # width of nu-SVR) as well as on f: their certificate reads it from the dual form
        if self.task in NU_TASKS:
            raise ValueError(f"{what} is defined for the 'svc' and 'svr' tasks, not {self.task!r}")


def hinge_sum_argmin(dec_at, dec_c, inc_at, inc_c) -> float:
    """Midpoint of the minimizers of g(b) = sum dec_c max(0, dec_at - b) + sum inc_c max(0, b - inc_at).

    The kinks are merged exactly (equal kinks are one point, their weights summed), and the slope
    bookkeeping compares the two one-sided sums directly instead of subtracting cumulative sums:
    the right derivative at kink u_k is I_k - D_k with I_k = sum of the increasing weights at
    kinks <= u_k and D_k = sum of the decreasing weights at kinks > u_k. Sums of nonnegative
    numbers are monotone in floating point too, so "I_k >= D_k" switches from false to true
    exactly once, whatever the rounding; g is flat on [u_k, u_k+1] when I_k = D_k to within
    the rounding of the sums (the midpoint of that interval is returned), else its minimizer is
    the kink u_k itself. Needs both kinds of kinks with positive weights (g is then coercive).

    Parameters
    ----------
    dec_at : ndarray of shape (m_dec,)
        Kinks of the decreasing terms dec_c max(0, dec_at - b).
    dec_c : ndarray of shape (m_dec,)
        Nonnegative weights of the decreasing terms.
    inc_at : ndarray of shape (m_inc,)
        Kinks of the increasing terms inc_c max(0, b - inc_at).
    inc_c : ndarray of shape (m_inc,)
        Nonnegative weights of the increasing terms.

    Returns
    -------
    float
        The midpoint of the interval of minimizers of g (a kink when the minimizer is unique).

    Raises
    ------
    ValueError
        When a kink is not finite, or one of the two kinds of kinks is missing.
    """
    at = np.concatenate([dec_at, inc_at])
    if not np.all(np.isfinite(at)):
        raise ValueError("the decision values are not finite: the bias is undefined")
    if len(dec_at) == 0 or len(inc_at) == 0:
        raise ValueError("the bias needs samples on both sides (both classes, or targets with a tube)")
    u, inverse = np.unique(at, return_inverse=True)
    m = u.size
    dec_w = np.bincount(inverse[:len(dec_at)], weights=dec_c, minlength=m)
    inc_w = np.bincount(inverse[len(dec_at):], weights=inc_c, minlength=m)
    inc_le = np.cumsum(inc_w)                                  # I_k: increasing weights at u <= u_k
    dec_gt = np.concatenate([np.cumsum(dec_w[::-1])[::-1][1:], [0.0]])  # D_k: decreasing at u > u_k
    k = int(np.argmax(inc_le >= dec_gt))                       # first k with right slope >= 0
    # "equal" up to the rounding of two sums of at most m nonnegative terms each
    flat = inc_le[k] - dec_gt[k] <= 2.0 * m * np.finfo(float).eps * (inc_le[k] + dec_gt[k])
    if flat and k + 1 < m:
        return float(0.5 * (u[k] + u[k + 1]))
    return float(u[k])
