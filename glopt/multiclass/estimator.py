"""M3SVM as a scikit-learn classifier: parameters, data checks, the solve, prediction.

The objective is :mod:`glopt.multiclass.objective`, the production solver
:mod:`glopt.multiclass.solver`, the exact reference :mod:`glopt.cvx.m3svm`.
"""
from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .._checks import boolean, choice, positive_scalar, squared_norms
from .objective import LOSSES, alpha_from_C, as_design_matrix
from .solver import solve_lbfgs

#: 'lbfgs': L-BFGS-B plus the Newton polish (:func:`glopt.multiclass.solver.solve_lbfgs`); 'cvx': the
#: exact cvxpy reference (:func:`glopt.cvx.m3svm.solve_m3svm_reference`).
SOLVERS = ("lbfgs", "cvx")

#: The C used when neither C nor alpha is given: LinearSVC's default, so that ``M3SVM()`` and
#: ``LinearSVC()`` weigh the summed loss against the same norm (exactly so for two classes).
DEFAULT_C = 1.0


def _check_row_norms(X):
    """Refuse inputs whose squared row norms overflow (every score and gradient would be infinite)."""
    if not sp.issparse(X):
        squared_norms(X, "X")
        return
    with np.errstate(over="ignore"):
        sq = np.asarray(X.multiply(X).sum(axis=1)).ravel()
    if not np.all(np.isfinite(4.0 * sq)):
        raise ValueError(f"X is too large for floating point: its squared row norms overflow (largest "
                         f"|entry| {np.abs(X.data).max():.3g}); scale X (e.g. MaxAbsScaler)")


class M3SVM(LinearClassifierMixin, BaseEstimator):
    """Linear multi-class SVM maximizing the minimum margin (M3SVM, Nie et al., AAAI 2024), and ISM3.

    Minimizes (:mod:`glopt.multiclass.objective`)::

        J(W, b) = sum_i s_i ell_i / sum_i s_i  +  alpha * sum_{k<l} ||w_k - w_l||_2^p,
        ell_i = sum_{k != y_i} h(1 - (w_{y_i} - w_k)^T x_i - (b_{y_i} - b_k)),

    over one weight vector w_k and intercept b_k per class; prediction argmax_k w_k^T x + b_k.
    The regularizer enlarges the pairwise margins 2 / ||w_k - w_l||; as p grows it tends to the
    largest ||w_k - w_l||, i.e. it maximizes the minimum margin. In scikit-learn's C form the
    same problem is (same minimizers, alpha = 1 / (k C sum_i s_i), k classes)::

        C sum_i s_i ell_i  +  (1 / k) sum_{k<l} ||w_k - w_l||_2^p,

    whose regularizer is ||W||_F^2 at p = 2 (W centred) and ||w||^p / 2 for two classes
    (w = w_1 - w_0): the binary problem at p = 2 is LinearSVC's with the hinge smoothed and the
    intercept unpenalized.

    Parameters
    ----------
    alpha : float, default=None
        Weight of the margin regularizer in J (the paper's lambda), finite and >= 0; give it or
        ``C``, not both. The loss is a *mean* over samples, so alpha does not scale with n: the
        paper's lambda (with a summed loss) is n * alpha; the reference code's ``lam`` (loss
        (1/(m c)) sum CE, regularizer (1/n) sum over ordered pairs, n = size of the whole data
        set) corresponds to alpha = 2 c lam / n for the logistic loss (c classes); its vehicle
        setting lam = 1e-4 is alpha ~ 1e-6. None: set from ``C``.
    C : float, default=None
        Weight of the summed loss in the C form (above), finite and > 0, as in LinearSVC and
        LogisticRegression: larger C, less regularization. It is converted to
        alpha = 1 / (n_classes * C * sum_i s_i) at fit time (s_i: the sample weights times the
        class weights; sum_i s_i = n for unit weights; :func:`glopt.multiclass.alpha_from_C`),
        recorded in ``alpha_``. For two classes at p = 2, M3SVM(C=c) solves LinearSVC(C=c,
        loss='hinge')'s problem with the smoothed hinge and an unpenalized intercept, and with
        loss='logistic' LogisticRegression(C=c)'s; for k > 2 classes with loss='logistic' and
        p = 2, multinomial LogisticRegression(C=c / 2)'s. None: 1.0 (``DEFAULT_C``, LinearSVC's
        default) unless ``alpha`` is given. Setting both C and alpha raises a ValueError.
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
    fit_intercept : bool, default=True
        Fit the class intercepts b_k. False: b = 0, the scores pass through the origin and
        ``intercept_`` is 0.
    class_weight : dict, 'balanced' or None, default=None
        Per-class factors of the sample weights, as in LinearSVC: sample i gets the weight
        s_i * class_weight[y_i]. A dict maps class labels to factors >= 0 (missing classes: 1);
        'balanced' uses n_samples / (n_classes * weighted count of the class), the sample
        weights included (scikit-learn's ``compute_class_weight``). With ``C`` this multiplies
        C per class, exactly as in LinearSVC; with ``alpha`` the loss is a weighted mean, so a
        factor common to all classes changes nothing.
    solver : {'lbfgs', 'cvx'}, default='lbfgs'
        'lbfgs': scipy's L-BFGS-B with the analytic gradient (smooth losses). 'cvx': the exact
        reference in cvxpy, solved by Clarabel (:func:`glopt.cvx.m3svm.solve_m3svm_reference`);
        for small problems and for checking. It converts a sparse X to a dense array.
    tol : float, default=1e-8
        Target for the largest absolute entry of the gradient, finite and > 0 (the loss is a
        mean, so the gradient has the scale of the features). L-BFGS-B runs to max(tol, 1e-3),
        then Newton steps polish to 1e-3 * tol or to the rounding floor; where the Hessian is not
        used (large problems, p < 2 with coinciding classes) L-BFGS-B runs to tol itself. On
        standardized data the objective is then right to ~1e-12 relative.
    max_iter : int, default=15000
        Maximal L-BFGS iterations, >= 1; reaching it raises a ConvergenceWarning.
    warm_start : bool, default=False
        Start L-BFGS-B from the ``coef_`` and ``intercept_`` of the previous fit when their
        shapes fit the new problem (same number of classes and features); otherwise, and for
        solver='cvx', from zero. The optimum is the same; a refit after a small change of C,
        alpha or the data needs fewer iterations.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels (any values), sorted.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights, as in LinearSVC. Two classes: one row w_1 - w_0, and
        ``decision_function(X) = X @ coef_[0] + intercept_[0] > 0`` predicts ``classes_[1]``.
        More classes: the class weight vectors w_k, centred (the rows sum to 0).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts: b_1 - b_0 for two classes, else the class intercepts b_k (centred: they sum
        to 0); zeros with ``fit_intercept=False``.
    alpha_ : float
        The regularizer weight of J that was used: ``alpha``, or the one ``C`` maps to.
    class_weight_ : ndarray of shape (n_classes,)
        The factor of each class's sample weights (all 1 when ``class_weight`` is None).
    n_iter_ : int
        L-BFGS iterations (Clarabel iterations for solver='cvx').
    n_newton_ : int
        Newton polish steps (0 for solver='cvx').
    objective_ : float
        J at the solution, with alpha = ``alpha_`` (without the centring penalty, which is 0
        there).
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
      size of the whole data set (train and test). See alpha for the conversions; ``C`` is the
      summed form.
    - Uniqueness: the paper adds a small term for a unique solution; glopt removes the flat
      direction instead by centring (sum_k w_k = 0, sum_k b_k = 0): an L-BFGS penalty that is 0
      at the solution, equality constraints in cvxpy. It changes neither the optimal value nor
      the predictions, whereas a small ridge term would move the solution.
    - Solver: the reference code runs 500 full-batch Adam steps in float32 (unseeded, with the
      scaler fitted before the train/test split); Adam does not settle on the optimum. glopt
      uses deterministic L-BFGS-B in float64 plus a Newton polish, checked against Clarabel.

    Sparse X (scipy.sparse, any format) is accepted by fit, predict and decision_function and
    never densified by solver='lbfgs': the scores and gradients are sparse products with X in
    CSR (only the Newton polish, which runs where n_classes (n_features + 1) <= 500, reads X in
    dense blocks of rows of bounded size). Dense and sparse X give the same model to rounding.

    References
    ----------
    .. [1] F. Nie, Z. Hao, R. Wang, "Multi-class support vector machine with maximizing minimum
       margin", Proceedings of the AAAI Conference on Artificial Intelligence, 2024.
    """

    # scikit-learn checks the types (on entry to fit); _check_params checks the values and the rules
    # between parameters, so that each value error states its rule ("p must be >= 1.0, got 0.5").
    _parameter_constraints: dict = {
        "alpha": [Real, None],
        "C": [Real, None],
        "p": [Real],
        "loss": [str],
        "delta": [Real],
        "fit_intercept": ["boolean"],
        "class_weight": [dict, str, None],
        "solver": [str],
        "tol": [Real],
        "max_iter": [Integral],
        "warm_start": ["boolean"],
    }

    def __init__(self, alpha=None, C=None, p=2.0, loss="smooth_hinge", delta=0.1, fit_intercept=True,
                 class_weight=None, solver="lbfgs", tol=1e-8, max_iter=15000, warm_start=False):
        self.alpha = alpha
        self.C = C
        self.p = p
        self.loss = loss
        self.delta = delta
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    @staticmethod
    def _finite_real(value, name):
        # a bool is a Real to scikit-learn and NaN and infinity pass a type check; the type is
        # checked again for fits run under scikit-learn's skip_parameter_validation
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real) or not np.isfinite(value):
            raise ValueError(f"{name} must be a finite real number, got {value!r}")

    def _check_params(self):
        """The rules scikit-learn's type constraints do not state (run after them, in fit)."""
        if self.alpha is not None and self.C is not None:
            raise ValueError(f"set C or alpha, not both: they are two scales of the same regularization "
                             f"(alpha = 1 / (n_classes * C * sum of sample weights)); got C={self.C!r}, "
                             f"alpha={self.alpha!r}")
        for name, low in (("alpha", 0.0), ("p", 1.0)):
            value = getattr(self, name)
            if name == "alpha" and value is None:
                continue
            self._finite_real(value, name)
            if value < low:
                raise ValueError(f"{name} must be >= {low}, got {value!r}")
        if self.C is not None:
            self._finite_real(self.C, "C")
            if self.C <= 0:
                raise ValueError(f"C must be > 0, got {self.C!r}")
        choice(self.loss, "loss", LOSSES)
        positive_scalar(self.delta, "delta")
        boolean(self.fit_intercept, "fit_intercept")
        if not (self.class_weight is None or isinstance(self.class_weight, dict)
                or (isinstance(self.class_weight, str) and self.class_weight == "balanced")):
            raise ValueError(f"class_weight must be a dict, 'balanced' or None, got {self.class_weight!r}")
        choice(self.solver, "solver", SOLVERS)
        if self.loss == "hinge" and self.solver != "cvx":
            raise ValueError("loss='hinge' is not differentiable: use solver='cvx' (exact), or "
                             "loss='smooth_hinge' with a small delta for solver='lbfgs'")
        positive_scalar(self.tol, "tol")
        if (isinstance(self.max_iter, (bool, np.bool_)) or not isinstance(self.max_iter, Integral)
                or self.max_iter < 1):
            raise ValueError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")
        boolean(self.warm_start, "warm_start")

    def _class_weights(self, y, sw):
        """The per-class factors (n_classes,) of ``class_weight``, checked."""
        if self.class_weight is None:
            return np.ones(self.classes_.size)
        if isinstance(self.class_weight, dict):
            for label, value in self.class_weight.items():
                if (isinstance(value, (bool, np.bool_)) or not isinstance(value, Real) or not np.isfinite(value)
                        or value < 0):
                    raise ValueError(f"class_weight[{label!r}] must be a finite number >= 0, got {value!r}")
            cw = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        else:
            present = np.isin(self.classes_, y[sw > 0])
            with np.errstate(divide="ignore"):
                cw = compute_class_weight("balanced", classes=self.classes_, y=y, sample_weight=sw)
            # a class whose samples all have weight 0 has an infinite 'balanced' factor; it
            # multiplies only zeros, so 0 states the same problem without inf * 0
            cw = np.where(present, cw, 0.0)
        return np.asarray(cw, dtype=np.float64)

    def _check_data(self, X, y, sample_weight):
        """Validated X (dense or CSR), class indices (n,) into ``classes_`` (set here), and the
        sample weights times the class weights (n,)."""
        X, y = validate_data(self, X, y, accept_sparse=("csr", "csc"), dtype=np.float64, order="C")
        X = as_design_matrix(X)
        _check_row_norms(X)  # overflowing norms make every score, loss and gradient infinite
        check_classification_targets(y)
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if np.any(sw < 0):
            raise ValueError("sample_weight must be nonnegative")
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError(f"y contains only one class ({self.classes_[0]!r}); two are needed")
        self.class_weight_ = self._class_weights(y, sw)
        sw = sw * self.class_weight_[y_idx]
        weighted = np.unique(y_idx[sw > 0])
        if weighted.size < 2:
            raise ValueError("fewer than two classes have a positive sample_weight (times class_weight); "
                             "two are needed")
        return X, y_idx, sw

    def _alpha(self, sw):
        """The alpha of J: ``alpha`` as given, or the one ``C`` (default DEFAULT_C) maps to."""
        if self.alpha is not None:
            return float(self.alpha)
        C = DEFAULT_C if self.C is None else self.C
        return alpha_from_C(C, self.classes_.size, float(sw.sum()))

    def _start(self, n_features):
        """(W, b) of the previous fit in the solver's layout, where warm_start applies; else (None, None)."""
        if not self.warm_start or not hasattr(self, "coef_"):
            return None, None
        k = self.classes_.size
        rows = 1 if k == 2 else k
        coef, intercept = np.asarray(self.coef_), np.asarray(self.intercept_)
        if coef.shape != (rows, n_features) or intercept.shape != (rows,):
            return None, None
        if k == 2:   # the binary row is w_1 - w_0; the centred pair is (-w / 2, w / 2)
            return np.vstack([-coef[0] / 2, coef[0] / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
        return coef, intercept

    def _set_solution(self, W, b):
        """coef_ and intercept_ in scikit-learn's layout from the class vectors W (k, d) and b (k,)."""
        b = np.asarray(b, dtype=np.float64) if self.fit_intercept else np.zeros(W.shape[0])
        if W.shape[0] == 2:
            self.coef_ = (W[1] - W[0])[None, :]
            self.intercept_ = np.array([b[1] - b[0]])
        else:
            self.coef_ = np.array(W, dtype=np.float64)
            self.intercept_ = np.array(b, dtype=np.float64)

    def _fit_cvx(self, X, y_idx, sw):
        """The exact reference solve (solver='cvx'); it densifies a sparse X."""
        # cvxpy is imported on first use: it takes seconds, and solver='lbfgs' does not need it
        from ..cvx.m3svm import solve_m3svm_reference

        res = solve_m3svm_reference(X, y_idx, self.classes_.size, alpha=self.alpha_, p=self.p, loss=self.loss,
                                    delta=self.delta, sample_weight=sw, fit_intercept=bool(self.fit_intercept))
        self._set_solution(res.coef, res.intercept)
        self.n_iter_, self.objective_ = res.n_iter, res.objective
        self.n_newton_ = 0

    def _fit_lbfgs(self, X, y_idx, sw):
        """The L-BFGS-B solve (solver='lbfgs'); a ConvergenceWarning where it falls short of tol."""
        coef_init, intercept_init = self._start(X.shape[1])
        res = solve_lbfgs(X, y_idx, self.classes_.size, alpha=self.alpha_, p=self.p, loss=self.loss,
                          delta=self.delta, sample_weight=sw, tol=self.tol, max_iter=self.max_iter,
                          fit_intercept=bool(self.fit_intercept), coef_init=coef_init,
                          intercept_init=intercept_init)
        # stacklevel 4: _fit_lbfgs <- fit <- scikit-learn's _fit_context wrapper <- the caller
        if res["status"] == 1:
            warnings.warn(
                f"M3SVM: L-BFGS reached max_iter={self.max_iter} with gradient {res['grad_norm']:.2e} "
                f"> tol={self.tol:g}. Standardize the features (StandardScaler), increase max_iter, "
                "lower C / raise alpha, or raise delta (smooth_hinge).", ConvergenceWarning, stacklevel=4)
        elif res["status"] != 0 and not res["grad_norm"] <= np.sqrt(self.tol):
            # L-BFGS-B ends "abnormally" when no line-search step lowers f in floating point; at a
            # gradient within sqrt(tol) that is the rounding floor of f, not a failure.
            warnings.warn(f"M3SVM: L-BFGS stopped early ({res['message']}) with gradient "
                          f"{res['grad_norm']:.2e} > tol={self.tol:g}; standardize the features or "
                          "lower C / raise alpha / delta.", ConvergenceWarning, stacklevel=4)
        self._set_solution(res["coef"], res["intercept"])
        self.n_iter_, self.objective_ = res["n_iter"], res["objective"]
        self.n_newton_ = res["n_newton"]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the class weight vectors and intercepts.

        Parameters
        ----------
        X : {array_like, sparse matrix} of shape (n_samples, n_features)
            Training inputs: finite, with squared row norms that do not overflow; scipy.sparse
            input of any format is used in CSR without densifying (solver='lbfgs').
        y : array_like of shape (n_samples,)
            Class labels (any values), at least two classes.
        sample_weight : array_like of shape (n_samples,), default=None
            Nonnegative sample weights (None: all 1), multiplied by ``class_weight``; the loss is
            their weighted mean, so an integer weight is a repetition of the sample. At least two
            classes need a positive weight.

        Returns
        -------
        self : M3SVM
            The fitted estimator.

        Raises
        ------
        ValueError
            On a bad parameter (also C and alpha both set), non-finite or too large X, a single
            class (also after dropping zero weights), negative sample or class weights; the
            message names the argument.

        Warns
        -----
        ConvergenceWarning
            If L-BFGS-B reaches ``max_iter`` or stops early above ``tol``.
        """
        self._check_params()
        X, y_idx, sw = self._check_data(X, y, sample_weight)
        self.alpha_ = self._alpha(sw)
        if self.solver == "cvx":
            self._fit_cvx(X, y_idx, sw)
        else:
            self._fit_lbfgs(X, y_idx, sw)
        return self

    def decision_function(self, X):
        """Scores, as LinearSVC's: ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array_like, sparse matrix} of shape (n_samples, n_features)
            Inputs (sparse stays sparse).

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Two classes: score_1 - score_0, positive predicts ``classes_[1]``. More classes: the
            score w_k^T x + b_k of every class.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse="csr", dtype=np.float64)
        scores = safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predicted class labels: argmax_k w_k^T x + b_k.

        Parameters
        ----------
        X : {array_like, sparse matrix} of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            The class of the largest score, from ``classes_`` (ties to the first; for two
            classes ``classes_[1]`` where ``decision_function`` > 0).
        """
        scores = self.decision_function(X)   # first: it raises NotFittedError before classes_ is read
        index = (scores > 0).astype(np.intp) if scores.ndim == 1 else np.argmax(scores, axis=1)
        return self.classes_[index]

    def _class_scores(self, X):
        """Scores of every class, (n_samples, n_classes); for two classes the centred pair (-s/2, s/2)."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([-scores / 2, scores / 2])
        return scores

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
        X : {array_like, sparse matrix} of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities of the classes in the order of ``classes_``; each row sums to 1 (for two
            classes the logistic sigmoid of ``decision_function``).
        """
        return softmax(self._class_scores(X), axis=1)

    @available_if(_is_logistic)
    def predict_log_proba(self, X):
        """Log of the class probabilities (loss='logistic' only).

        Parameters
        ----------
        X : {array_like, sparse matrix} of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            log of :meth:`predict_proba`, computed as a log-softmax (no underflow to -inf).
        """
        return log_softmax(self._class_scores(X), axis=1)
