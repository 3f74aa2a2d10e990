"""The one result type every glopt solver returns (cvxpy reference, SMO, MM, scikit-learn adapters)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SVMResult:
    """Solution of one support-vector problem, whatever solved it.

    The decision function is ``f(x) = sum_j coef[j] * K(x_j, x) + b``. Every parameter is kept
    as an attribute of the same name.

    Parameters
    ----------
    coef : ndarray of shape (n,)
        Expansion coefficients: ``y * a`` for classification, ``alpha - alpha*`` for regression.
    b : float
        Bias.
    a : ndarray of shape (n,) or (2n,)
        Dual variables in the solver's own form: ``a`` for C-SVC, ``[alpha, alpha*]`` for
        epsilon-SVR (the LIBSVM 2n-variable form).
    objective : float, default nan
        Primal objective the solver reports (NaN when it has none).
    dual_objective : float, default nan
        Dual objective the solver reports (NaN when it has none).
    status : str, default "optimal"
        ``"optimal"`` or ``"max_iter"``, etc. The cvxpy layer raises instead of returning
        a non-optimal status.
    n_iter : int, default 0
        Iterations of the solver (interior-point iterations for Clarabel, pair updates for SMO).
    solve_time : float, default 0.0
        Wall-clock seconds spent in the solver.
    solver : str, default ""
        Who produced the result, e.g. ``"cvx-dual"``, ``"smo-wss3"``, ``"libsvm"``.
    extra : dict, optional
        Solver-specific extras (``margin_duals`` of a cvxpy primal solve, gradients, histories);
        default an empty dict.

    Examples
    --------
    >>> import numpy as np
    >>> from glopt.result import SVMResult
    >>> result = SVMResult(coef=np.array([0.5, 0.0, -0.5]), b=0.1, a=np.array([0.5, 0.0, 0.5]))
    >>> result.support
    array([0, 2])
    """

    coef: np.ndarray
    b: float
    a: np.ndarray
    objective: float = float("nan")
    dual_objective: float = float("nan")
    status: str = "optimal"
    n_iter: int = 0
    solve_time: float = 0.0
    solver: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def support(self) -> np.ndarray:
        """Indices of the support vectors (nonzero coefficients)."""
        return np.flatnonzero(self.coef)
