"""The data of one support-vector problem, shared by every solver and by the certifier.

Two tasks and two losses:

- ``task="svc"``: labels y in {-1, +1}, slack xi_i = max(0, 1 - y_i f(x_i));
- ``task="svr"``: real targets, slack zeta_i = max(0, |y_i - f(x_i)| - epsilon);
- ``p=1``: per-sample weighted hinge / epsilon-insensitive loss  sum_i C w_i xi_i
  (the standard C-SVC / epsilon-SVR for w = 1; every MM step of the generalized loss);
- ``p=2``: generalized quadratic loss  C xi^T S_w xi  with S_w = D S D, D = diag(sqrt(w))
  (S = I gives the squared hinge / squared error).

The primal is  min_{w, b} 0.5 ||w||^2 + loss(slack)  with f(x) = <w, phi(x)> + b.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._checks import as_float_array, binary_labels, choice, consistent_length, positive_scalar
from .kernels import Kernel, check_correlation_matrix, check_kernel_data


@dataclass
class SVMProblem:
    """One C-SVC / epsilon-SVR problem with per-sample weights and an optional S (p = 2).

    Parameters
    ----------
    X : array (n, d), or the (n, n) Gram matrix when ``kernel.name == "precomputed"``
    y : array (n,)
        Labels in {-1, +1} (svc) or real targets (svr).
    kernel : Kernel
    task : {"svc", "svr"}
    C : float > 0
    weights : array (n,) of positive numbers, optional
        Per-sample weights; the p = 1 upper bounds of the dual are ``C * weights``.
    epsilon : float >= 0
        Width of the insensitive tube (svr only).
    p : {1, 2}
    S : array (n, n), optional
        Correlation matrix of the p = 2 loss (symmetric PSD); None means the identity.
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

    def __post_init__(self):
        choice(self.task, "task", ("svc", "svr"))
        choice(self.p, "p", (1, 2))
        if not isinstance(self.kernel, Kernel):
            raise ValueError(f"kernel must be a glopt.kernels.Kernel, got {self.kernel!r}")
        self.X = check_kernel_data(self.X, self.kernel)
        n = self.X.shape[0]
        if self.task == "svc":
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
        if self.S is not None:
            if self.p != 2:
                raise ValueError("S enters the reference problems only with p=2 (p=1 with S != I is "
                                 "non-convex: it is solved by majorization-minimization)")
            self.S = check_correlation_matrix(self.S, n)

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def w(self) -> np.ndarray:
        """Per-sample weights (ones when none were given)."""
        return np.ones(self.n) if self.weights is None else self.weights

    @property
    def upper(self) -> np.ndarray:
        """Upper bounds ``C * weights`` of the p = 1 dual, one per sample."""
        return self.C * self.w

    def gram(self) -> np.ndarray:
        """The dense kernel matrix (small problems only)."""
        return self.kernel(self.X)

    def s_weighted(self) -> np.ndarray:
        """S_w = D S D with D = diag(sqrt(weights)), the matrix of the p = 2 loss."""
        d = np.sqrt(self.w)
        S = np.eye(self.n) if self.S is None else self.S
        return S * d[:, None] * d[None, :]

    def decision(self, coef, b) -> np.ndarray:
        """f(x_i) = sum_j coef_j K(x_j, x_i) + b on the training inputs."""
        return self.kernel.matvec(self.X, coef) + b

    def best_bias(self, Kcoef) -> float:
        """The bias minimizing the p = 1 primal for fixed w (K @ coef = ``Kcoef``).

        g(b) = sum_i c_i slack_i(Kcoef + b) is convex and piecewise linear; its minimizers form an
        interval [b_lo, b_hi], found from the sorted kinks; the midpoint is returned (a canonical
        choice: the interval is a point when free support vectors exist, and every solver's w
        then yields the same b). A dual solver's own b is only as good as its stopping tolerance,
        and large per-sample bounds multiply that error in the primal objective.
        """
        if self.p != 1:
            raise ValueError("best_bias is the p=1 bias (the p=2 primal is quadratic in b)")
        c = self.upper
        if self.task == "svc":
            kink = self.y - Kcoef  # y=+1: slope -c below the kink; y=-1: slope +c above it
            dec_at, dec_c = kink[self.y > 0], c[self.y > 0]
            inc_at, inc_c = kink[self.y < 0], c[self.y < 0]
        else:
            r = self.y - Kcoef
            dec_at, dec_c, inc_at, inc_c = r - self.epsilon, c, r + self.epsilon, c
        od, oi = np.argsort(dec_at), np.argsort(inc_at)
        dec_at, inc_at = dec_at[od], inc_at[oi]
        dec_cum = np.concatenate([[0.0], np.cumsum(dec_c[od])])
        inc_cum = np.concatenate([[0.0], np.cumsum(inc_c[oi])])
        pts = np.concatenate([dec_at, inc_at])

        def slope(p, side):  # right (side="right") or left derivative of g at points p
            other = "left" if side == "right" else "right"
            above = dec_cum[-1] - dec_cum[np.searchsorted(dec_at, p, side=side)]
            below = inc_cum[np.searchsorted(inc_at, p, side=other)]
            return below - above

        right, left = slope(pts, "right"), slope(pts, "left")
        b_lo = pts[right >= 0].min() if np.any(right >= 0) else pts.max()
        b_hi = pts[left <= 0].max() if np.any(left <= 0) else pts.min()
        if b_lo > b_hi:  # rounding in the cumulative sums; any point in between is optimal
            b_lo, b_hi = b_hi, b_lo
        return 0.5 * (b_lo + b_hi)

    def slack(self, f) -> np.ndarray:
        """Loss slack of decision values f: hinge (svc) or epsilon-insensitive (svr)."""
        if self.task == "svc":
            return np.maximum(0.0, 1.0 - self.y * f)
        return np.maximum(0.0, np.abs(self.y - f) - self.epsilon)
