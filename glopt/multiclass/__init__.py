"""M3SVM: the linear multi-class SVM that maximizes the minimum margin (Nie, Hao, Wang, AAAI 2024).

One concern per module:

- :mod:`glopt.multiclass.objective`: the problem, J(W, b) = weighted mean loss + alpha times
  the margin regularizer sum_{k<l} ||w_k - w_l||_2^p, its gradient and Hessian, the centring
  that removes its flat translation, and the C form (:func:`alpha_from_C`);
- :mod:`glopt.multiclass.solver`: the production solver, L-BFGS-B then damped Newton steps with
  the exact Hessian (:func:`solve_lbfgs`);
- :mod:`glopt.multiclass.estimator`: the scikit-learn classifier :class:`M3SVM`, a linear model
  in LinearSVC's layout (C, class_weight, fit_intercept, warm_start, sparse X).

The exact reference in cvxpy is :mod:`glopt.cvx.m3svm`. Every name below is importable from
``glopt.multiclass`` itself.
"""
from .estimator import DEFAULT_C, SOLVERS, M3SVM
from .objective import LOSSES, TRANSLATION_PENALTY, alpha_from_C, m3svm_objective, pair_incidence, smooth_hinge
from .solver import LBFGS_HANDOVER, SINGLE_THREAD_BELOW, solve_lbfgs

__all__ = ["M3SVM", "DEFAULT_C", "LOSSES", "SOLVERS", "TRANSLATION_PENALTY", "LBFGS_HANDOVER",
           "SINGLE_THREAD_BELOW", "alpha_from_C", "m3svm_objective", "pair_incidence", "smooth_hinge",
           "solve_lbfgs"]
