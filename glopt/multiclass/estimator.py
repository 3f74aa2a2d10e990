"""M3SVM as a scikit-learn classifier: parameters, data checks, the solve, prediction.

The objective is :mod:`glopt.multiclass.objective`, the production solver
:mod:`glopt.multiclass.solver`, the exact reference :mod:`glopt.cvx.m3svm`.
"""
from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .._checks import choice, positive_scalar, squared_norms
from .objective import LOSSES
from .solver import solve_lbfgs

#: 'lbfgs': L-BFGS-B plus the Newton polish (:func:`glopt.multiclass.solver.solve_lbfgs`); 'cvx': the
#: exact cvxpy reference (:func:`glopt.cvx.m3svm.solve_m3svm_reference`).
SOLVERS = ("lbfgs", "cvx")


class M3SVM(ClassifierMixin, BaseEstimator):
    """Linear multi-class SVM maximizing the minimum margin (M3SVM, Nie et al., AAAI 2024), and ISM3.

    Minimizes (:mod:`glopt.multiclass.objective`)::

        J(W, b) = sum_i s_i ell_i / sum_i s_i  +  alpha * sum_{k<l} ||w_k - w_l||_2^p,
        ell_i = sum_{k != y_i} h(1 - (w_{y_i} - w_k)^T x_i - (b_{y_i} - b_k)),

    over one weight vector w_k and intercept b_k per class; prediction argmax_k w_k^T x + b_k.
    The regularizer enlarges the pairwise margins 2 / ||w_k - w_l||; as p grows it tends to the
    largest ||w_k - w_l||, i.e. it maximizes the minimum margin.

    Parameters
    ----------
    alpha : float, default=1e-3
        Weight of the margin regularizer (the paper's lambda), finite and >= 0. The loss is a
        *mean* over samples, so alpha does not scale with n: the paper's lambda (with a summed
        loss) is n * alpha; the reference code's ``lam`` (loss (1/(m c)) sum CE, regularizer
        (1/n) sum over ordered pairs, n = size of the whole data set) corresponds to
        alpha = 2 c lam / n for the logistic loss (c classes); its vehicle setting lam = 1e-4 is
        alpha ~ 1e-6.
    p : float, default=2.0
        Power of the pairwise norms, finite and >= 1. p = 2 is, after centring, the ridge penalty
        n_classes * ||W||_F^2 (with the hinge: the Weston-Watkins multi-class SVM); larger p (the
        paper uses 3-6) weights the largest difference more. p = 1 is not differentiable where
        two classes share a weight vector (a fusion penalty); solver='lbfgs' then returns the
        guard's subgradient 0 there and may stop with a ConvergenceWarning, solver='cvx' is exact.
    loss : {'smooth_hinge', 'hinge', 'logistic'}, default='smooth_hinge'
        'smooth_hinge': h_delta(u) = (u + sqrt(u^2 + delta^2)) / 2, the paper's smoothing of the
        hinge max(0, u) (0 <= h_delta - max(0, u) <= delta / 2, so the optimal values differ by at
        most (n_classes - 1) delta / 2). 'hinge': the exact hinge, solver='cvx' only.
        'logistic': ISM3, softmax cross-entropy instead of the pairwise hinges (what the public
        reference code trains); enables predict_proba.
    delta : float, default=0.1
        Smoothing of 'smooth_hinge' (margin units), finite and > 0. Smaller is closer to the
        hinge and slower.
    solver : {'lbfgs', 'cvx'}, default='lbfgs'
        'lbfgs': scipy's L-BFGS-B with the analytic gradient (smooth losses). 'cvx': the exact
        reference in cvxpy, solved by Clarabel (:func:`glopt.cvx.m3svm.solve_m3svm_reference`);
        for small problems and for checking.
    tol : float, default=1e-8
        Target for the largest absolute entry of the gradient, finite and > 0 (the loss is a
        mean, so the gradient has the scale of the features). L-BFGS-B runs to max(tol, 1e-3),
        then Newton steps polish to 1e-3 * tol or to the rounding floor; where the Hessian is not
        used (large problems, p < 2 with coinciding classes) L-BFGS-B runs to tol itself. On
        standardized data the objective is then right to ~1e-12 relative.
    max_iter : int, default=15000
        Maximal L-BFGS iterations, >= 1; reaching it raises a ConvergenceWarning.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels (any values), sorted.
    coef_ : ndarray of shape (n_classes, n_features)
        The class weight vectors w_k (one row per class, also for two classes); centred: the rows
        sum to 0.
    intercept_ : ndarray of shape (n_classes,)
        The class intercepts b_k; centred: they sum to 0.
    n_iter_ : int
        L-BFGS iterations (Clarabel iterations for solver='cvx').
    n_newton_ : int
        Newton polish steps (0 for solver='cvx').
    objective_ : float
        J at the solution (without the centring penalty, which is 0 there).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during fit; defined only when X has string column names.

    See Also
    --------
    glopt.multiclass.solver.solve_lbfgs : The L-BFGS-B solver with the Newton polish.
    glopt.cvx.m3svm.solve_m3svm_reference : The exact cvxpy reference.

    Notes
    -----
    glopt's choices against the paper text and the public reference code:

    - Hinge surrogate: the paper states the pairwise hinge and smooths it with h_delta; the
      reference code (github zz-haooo/M3SVM) has that line commented out and trains softmax
      cross-entropy (ISM3). glopt offers all three, default the paper's smoothed hinge, with
      the exact hinge available in cvxpy as the ground truth.
    - The pair sum: the regularizer is over unordered pairs k < l, as in the paper; the reference
      code sums over all ordered pairs (each pair twice, k = l contributing 0), which is the same
      up to a factor 2 absorbed into alpha.
    - Objective scaling: glopt averages the loss over samples (weighted mean), so alpha is
      independent of n and sample_weight means repetition; the paper sums the loss; the reference
      code averages cross-entropy over samples *and* classes and divides the regularizer by the
      size of the whole data set (train and test). See alpha for the conversions.
    - Uniqueness: the paper adds a small term for a unique solution; glopt removes the flat
      direction instead by centring (sum_k w_k = 0, sum_k b_k = 0): an L-BFGS penalty that is 0
      at the solution, equality constraints in cvxpy. It changes neither the optimal value nor
      the predictions, whereas a small ridge term would move the solution.
    - Solver: the reference code runs 500 full-batch Adam steps in float32 (unseeded, with the
      scaler fitted before the train/test split); Adam does not settle on the optimum. glopt
      uses deterministic L-BFGS-B in float64 plus a Newton polish, checked against Clarabel.

    References
    ----------
    .. [1] F. Nie, Z. Hao, R. Wang, "Multi-class support vector machine with maximizing minimum
       margin", Proceedings of the AAAI Conference on Artificial Intelligence, 2024.
    """

    # scikit-learn checks the types (on entry to fit); _check_params checks the values and the rule
    # between loss and solver, so that each value error states its rule ("p must be >= 1.0, got 0.5").
    _parameter_constraints: dict = {
        "alpha": [Real],
        "p": [Real],
        "loss": [str],
        "delta": [Real],
        "solver": [str],
        "tol": [Real],
        "max_iter": [Integral],
    }

    def __init__(self, alpha=1e-3, p=2.0, loss="smooth_hinge", delta=0.1, solver="lbfgs", tol=1e-8,
                 max_iter=15000):
        self.alpha = alpha
        self.p = p
        self.loss = loss
        self.delta = delta
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter

    def _check_params(self):
        """The rules scikit-learn's type constraints do not state (run after them, in fit)."""
        for name, low in (("alpha", 0.0), ("p", 1.0)):
            value = getattr(self, name)
            # a bool is a Real to scikit-learn and NaN and infinity pass a type check; the type is
            # checked again for fits run under scikit-learn's skip_parameter_validation
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real) or not np.isfinite(value):
                raise ValueError(f"{name} must be a finite real number, got {value!r}")
            if value < low:
                raise ValueError(f"{name} must be >= {low}, got {value!r}")
        choice(self.loss, "loss", LOSSES)
        positive_scalar(self.delta, "delta")
        choice(self.solver, "solver", SOLVERS)
        if self.loss == "hinge" and self.solver != "cvx":
            raise ValueError("loss='hinge' is not differentiable: use solver='cvx' (exact), or "
                             "loss='smooth_hinge' with a small delta for solver='lbfgs'")
        positive_scalar(self.tol, "tol")
        if (isinstance(self.max_iter, (bool, np.bool_)) or not isinstance(self.max_iter, Integral)
                or self.max_iter < 1):
            raise ValueError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")

    def _check_data(self, X, y, sample_weight):
        """Validated X, class indices (n,) into ``classes_`` (set here), and sample weights (n,)."""
        X, y = validate_data(self, X, y, dtype=np.float64, order="C")
        squared_norms(X, "X")  # overflowing norms make every score, loss and gradient infinite
        check_classification_targets(y)
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if np.any(sw < 0):
            raise ValueError("sample_weight must be nonnegative")
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError(f"y contains only one class ({self.classes_[0]!r}); two are needed")
        weighted = np.unique(y_idx[sw > 0])
        if weighted.size < 2:
            raise ValueError("fewer than two classes have a positive sample_weight; two are needed")
        return X, y_idx, sw

    def _fit_cvx(self, X, y_idx, sw):
        """The exact reference solve (solver='cvx')."""
        # cvxpy is imported on first use: it takes seconds, and solver='lbfgs' does not need it
        from ..cvx.m3svm import solve_m3svm_reference

        res = solve_m3svm_reference(X, y_idx, self.classes_.size, alpha=self.alpha, p=self.p, loss=self.loss,
                                    delta=self.delta, sample_weight=sw)
        self.coef_, self.intercept_ = res.coef, res.intercept
        self.n_iter_, self.objective_ = res.n_iter, res.objective
        self.n_newton_ = 0

    def _fit_lbfgs(self, X, y_idx, sw):
        """The L-BFGS-B solve (solver='lbfgs'); a ConvergenceWarning where it falls short of tol."""
        res = solve_lbfgs(X, y_idx, self.classes_.size, alpha=self.alpha, p=self.p, loss=self.loss,
                          delta=self.delta, sample_weight=sw, tol=self.tol, max_iter=self.max_iter)
        # stacklevel 4: _fit_lbfgs <- fit <- scikit-learn's _fit_context wrapper <- the caller
        if res["status"] == 1:
            warnings.warn(
                f"M3SVM: L-BFGS reached max_iter={self.max_iter} with gradient {res['grad_norm']:.2e} "
                f"> tol={self.tol:g}. Standardize the features (StandardScaler), increase max_iter, "
                "raise alpha, or raise delta (smooth_hinge).", ConvergenceWarning, stacklevel=4)
        elif res["status"] != 0 and not res["grad_norm"] <= np.sqrt(self.tol):
            # L-BFGS-B ends "abnormally" when no line-search step lowers f in floating point; at a
            # gradient within sqrt(tol) that is the rounding floor of f, not a failure.
            warnings.warn(f"M3SVM: L-BFGS stopped early ({res['message']}) with gradient "
                          f"{res['grad_norm']:.2e} > tol={self.tol:g}; standardize the features or "
                          "raise alpha / delta.", ConvergenceWarning, stacklevel=4)
        self.coef_, self.intercept_ = res["coef"], res["intercept"]
        self.n_iter_, self.objective_ = res["n_iter"], res["objective"]
        self.n_newton_ = res["n_newton"]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the class weight vectors and intercepts.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Training inputs: finite, dense, with squared row norms that do not overflow.
        y : array_like of shape (n_samples,)
            Class labels (any values), at least two classes.
        sample_weight : array_like of shape (n_samples,), default=None
            Nonnegative sample weights (None: all 1); the loss is their weighted mean, so an
            integer weight is a repetition of the sample. At least two classes need a positive
            weight.

        Returns
        -------
        self : M3SVM
            The fitted estimator.

        Raises
        ------
        ValueError
            On a bad parameter, non-finite or too large X, a single class (also after dropping
            zero weights), or negative sample weights; the message names the argument.

        Warns
        -----
        ConvergenceWarning
            If L-BFGS-B reaches ``max_iter`` or stops early above ``tol``.
        """
        self._check_params()
        X, y_idx, sw = self._check_data(X, y, sample_weight)
        if self.solver == "cvx":
            self._fit_cvx(X, y_idx, sw)
        else:
            self._fit_lbfgs(X, y_idx, sw)
        return self

    def _scores(self, X):
        """Class scores X W^T + b, shape (n_samples, n_classes), of validated inputs."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.coef_.T + self.intercept_

    def decision_function(self, X):
        """Class scores w_k^T x + b_k.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes) or (n_samples,)
            The scores of every class; for two classes the difference score_1 - score_0
            (positive predicts ``classes_[1]``), as in scikit-learn's linear classifiers.
        """
        F = self._scores(X)
        return F[:, 1] - F[:, 0] if self.classes_.size == 2 else F

    def predict(self, X):
        """Predicted class labels: argmax_k w_k^T x + b_k.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            The class of the largest score, from ``classes_`` (ties to the first).
        """
        F = self._scores(X)           # first: it raises NotFittedError before classes_ is read
        return self.classes_[np.argmax(F, axis=1)]

    def _is_logistic(self):
        if self.loss != "logistic":
            raise AttributeError(f"predict_proba needs loss='logistic' (the softmax model, ISM3); this "
                                 f"M3SVM has loss={self.loss!r}, whose scores are margins, not probabilities")
        return True

    @available_if(_is_logistic)
    def predict_proba(self, X):
        """Class probabilities: the softmax of the class scores (loss='logistic' only).

        The hinge losses give margins, not probabilities, so with them this method is absent.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities of the classes in the order of ``classes_``; each row sums to 1.
        """
        return softmax(self._scores(X), axis=1)

    @available_if(_is_logistic)
    def predict_log_proba(self, X):
        """Log of the class probabilities (loss='logistic' only).

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            log of :meth:`predict_proba`, computed as a log-softmax (no underflow to -inf).
        """
        return log_softmax(self._scores(X), axis=1)
