"""scikit-learn's SVC, NuSVC, SVR, NuSVR and OneClassSVM as drop-ins, solved by glopt's SMO and certified.

``from glopt.svm import SVC, NuSVC, SVR, NuSVR, OneClassSVM`` replaces the same import from
``sklearn.svm``: the same constructor signatures and defaults (plus ``n_jobs``, ``divide`` and
``working_set``), the same
validation, the same fitted attributes in LIBSVM's layout (``support_``, ``support_vectors_``,
``n_support_``, ``dual_coef_``, ``intercept_``, ``n_iter_``, ``fit_status_``, ``shape_fit_``,
``coef_``, ``_gamma``; ``offset_`` of the one-class SVM), the same one-vs-one scheme, decision
values and predictions. Each problem is solved by :func:`glopt.smo.solve` (LIBSVM's solvers
with second-order working-set selection and shrinking, kernel columns computed by ``n_jobs``
OpenMP threads; from ``glopt.smo.BLOCKED_MIN_VARIABLES`` dual variables on dense data, blocked
working sets first, ``working_set``) and judged by :func:`glopt.certify.certify` from the answer and the data, with
the kernel product of the answer taken from the SMO's final gradient (:func:`glopt.smo.certificate`:
recomputed from the kernel in double precision at the end of the solve, so the certificate
costs no kernel pass of its own): ``certificate_`` holds one certificate per problem and ``certified_`` says whether each confirms
LIBSVM's stopping rule (KKT residual and infeasibility at most ``tol``).

The estimators share one base per kind of model; the problem form is the only difference
between those of a kind (the class attribute ``_task``, the :class:`~glopt.problem.SVMProblem`
task, and ``_problem_params``, its parameters): a classifier (C-SVC, nu-SVC) solves one problem
per pair of classes and keeps LIBSVM's one-vs-one layout, a regressor (epsilon-SVR, nu-SVR) and
the one-class SVM solve one problem.

Sparse X (any scipy.sparse format) is taken as a CSR matrix, as by scikit-learn, and solved by
the SMO in that form: a model fitted on it has sparse ``support_vectors_``, ``dual_coef_`` and
``coef_`` (CSR, in scikit-learn's configured sparse interface) and takes X as CSR in prediction;
a model fitted on dense X refuses sparse X in prediction, a sparse precomputed Gram matrix is
refused with a TypeError, and a callable kernel receives X as given.

Differences from scikit-learn, each on purpose:

- ``max_iter=-1`` means LIBSVM's own cap, max(10,000,000, 100 l) iterations for l dual
  variables (:func:`glopt.smo.default_max_iter`), not an endless loop; ``max_iter=0`` is refused.
- ``tol`` below 1e-15 is refused: below it the stopping test is decided by rounding.
- ``support_`` indexes the training set as given also when some sample weights are <= 0
  (scikit-learn's then index the samples of positive weight), so that
  ``X[support_] == support_vectors_`` always holds.
- A multi-class fit in which every sample of a class has weight <= 0 is refused (LIBSVM would
  silently fit a model without that class, whose predictions index the wrong labels).
- A Gram matrix (``kernel='precomputed'``, a callable kernel, or a kernel glopt evaluates as
  one) must be symmetric positive semi-definite: an indefinite kernel makes the problem
  non-convex, and no answer of it can be certified (a precomputed float32 or float16 Gram
  matrix is checked in its own precision: it is PSD up to its rounding). A callable kernel whose
  Gram matrix does not
  have one row and one column per training sample is refused in ``fit``.
- ``probability=True`` calibrates by Platt scaling through scikit-learn's
  :class:`~sklearn.calibration.CalibratedClassifierCV` (the replacement scikit-learn's
  deprecation message recommends), not by LIBSVM's internal cross-validation; its stratified
  folds need two samples of every class, and a fit with fewer is refused. The deprecation
  message names the estimator it is raised for (scikit-learn's names SVC for NuSVC too).
- A nu-SVC whose nu is feasible when every sample weight is counted (LIBSVM's test) but not
  once the samples of weight <= 0 are dropped is refused, naming nu (LIBSVM would start its
  solver from an infeasible point).
"""
from __future__ import annotations

import inspect
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, OutlierMixin, RegressorMixin, _fit_context, clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils import _safe_indexing, check_random_state, column_or_1d, compute_class_weight, deprecated
from sklearn.utils._param_validation import Hidden, Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _ovr_decision_function, check_classification_targets
from sklearn.utils.validation import (_check_sample_weight, _num_samples, check_consistent_length,
                                      check_is_fitted, validate_data)

try:
    # scikit-learn's sparse fitted attributes follow its configured sparse interface (spmatrix or sparray)
    from sklearn.utils._sparse import _align_api_if_sparse
except ImportError:
    _align_api_if_sparse = None

from ._checks import TOL_MIN, _is_sparse
from .kernels import SVM_KERNELS, Kernel, _mark_psd_checked, as_csr, check_kernel_data, resolve_gamma
from .problem import SVMProblem
from .smo import certificate as smo_certificate
from .smo import solve as smo_solve
from .smo import solve_dc
from .smo._api import engine_takes_dense
from .smo._blocked import BLOCKED_KERNELS, BLOCKED_MIN_VARIABLES, blocked_pays

__all__ = ["SVC", "NuSVC", "SVR", "NuSVR", "OneClassSVM"]

#: Kernel values per block when decision values are computed (8 bytes each: 32 MB), so that
#: predicting on many samples never holds their whole kernel matrix against the support vectors.
BLOCK_ENTRIES = 1 << 22

#: The bound C=inf is solved with: large enough that no dual variable of a separable problem
#: reaches it (a hard margin), small enough that C times kernel values and slacks stay finite.
C_INF = 1e100

#: scikit-learn's messages, kept word for word: code that matches them keeps working.
_NOT_FINITE = ("The dual coefficients or intercepts are not finite. The input data may contain "
               "large values and need to be preprocessed.")
_ALL_ZERO_WEIGHTS = "Invalid input - all samples have zero or negative weights."
_ONE_CLASS_LEFT = "Invalid input - all samples with positive weights belong to the same class."

#: recent scikit-learn refuses all-zero sample weights in _check_sample_weight unless told not to;
#: the estimators refuse them themselves, with LIBSVM's message
_ZERO_WEIGHTS_OK = ({"allow_all_zero_weights": True}
                    if "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters else {})


def _max_iter_warning(max_iter) -> str:
    return (f"Solver terminated early (max_iter={max_iter}).  Consider pre-processing your data with "
            "StandardScaler or MinMaxScaler.")


# --------------------------------------------------------------------------------------
# The shared base: parameters, validation, kernels, the solve of one problem, prediction
# --------------------------------------------------------------------------------------
class _BaseLibSVM(BaseEstimator):
    """Parameters, validation, kernel evaluation and the certified solve of LIBSVM's models."""

    #: The SVMProblem task of the estimator's problems ("svc", "svr"; the nu forms and the
    #: one-class SVM plug in with theirs).
    _task: str = None

    _parameter_constraints: dict = {
        "kernel": [StrOptions({"linear", "poly", "rbf", "sigmoid", "precomputed"}), callable],
        "degree": [Interval(Integral, 0, None, closed="left")],
        "gamma": [StrOptions({"scale", "auto"}), Interval(Real, 0.0, None, closed="left")],
        "coef0": [Interval(Real, None, None, closed="neither")],
        # glopt's SMO stops on m(a) - M(a) <= tol; below TOL_MIN that test compares rounding
        "tol": [Interval(Real, TOL_MIN, None, closed="left")],
        "C": [Interval(Real, 0.0, None, closed="right")],
        "shrinking": ["boolean"],
        "cache_size": [Interval(Real, 0, None, closed="neither")],
        "verbose": ["verbose"],
        # -1: LIBSVM's cap (glopt.smo.default_max_iter); 0 iterations is not a solve
        "max_iter": [Interval(Integral, 1, None, closed="left"), Options(Integral, {-1})],
        "n_jobs": [Integral, None],
        "divide": [None, StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "working_set": [None, StrOptions({"auto"}), Interval(Integral, 2, None, closed="left")],
    }

    def _problem_params(self) -> dict:
        """The SVMProblem parameters of this estimator's form, besides data, labels and weights."""
        raise NotImplementedError

    # -- parameters ---------------------------------------------------------------------------
    def _check_params(self):
        """The rules scikit-learn's constraints cannot state (run after them, in fit)."""
        for name in ("degree", "max_iter", "n_jobs", "divide", "working_set"):
            if isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"The '{name}' parameter of {type(self).__name__} must be an integer, "
                                 f"got {getattr(self, name)!r}")
        if self.n_jobs == 0:
            raise ValueError(f"The 'n_jobs' parameter of {type(self).__name__} must be None or a nonzero "
                             "integer, got 0")
        if self.divide is not None and (self.kernel == "precomputed" or callable(self.kernel)):
            raise ValueError(f"The 'divide' parameter of {type(self).__name__} clusters the inputs X: it "
                             f"needs a named kernel, not kernel={self.kernel!r}")
        if isinstance(self.working_set, Integral) and (self.kernel == "precomputed"
                                                               or callable(self.kernel)):
            raise ValueError(f"The 'working_set' parameter of {type(self).__name__} computes kernel rows "
                             f"from the inputs X: it needs a named kernel, not kernel={self.kernel!r}")

    def _working_set(self, problem):
        """The engine's working_set for this problem: 'auto' picks blocked sets for large dense ones."""
        if self.working_set != "auto":
            return self.working_set
        # the dual variables: SVR's alpha and alpha* per sample
        n_variables = problem.n * (2 if problem.task in ("svr", "nu_svr") else 1)
        if problem.kernel.name not in BLOCKED_KERNELS or not blocked_pays(n_variables, BLOCKED_MIN_VARIABLES):
            return None
        # sparse data: blocked only when the engine makes them dense anyway
        return "auto" if engine_takes_dense(problem.X) else None

    def _bound_C(self) -> float:
        """C as the solver takes it: C=inf (a hard margin) becomes the finite C_INF."""
        return float(self.C) if np.isfinite(self.C) else C_INF

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.kernel == "precomputed"
        # the SMO takes sparse data for every kernel it evaluates, a callable kernel receives X as
        # given; a precomputed Gram matrix must be dense
        tags.input_tags.sparse = self.kernel != "precomputed"
        return tags

    # -- training data --------------------------------------------------------------------------
    def _validate_fit_data(self, X, y):
        """(X, y) as scikit-learn's LIBSVM estimators validate them; sparse X as a canonical CSR matrix.

        Sets ``_sparse``: the model is fitted on sparse data (its support vectors, dual
        coefficients and coef_ are sparse, and prediction takes X as CSR).
        """
        self._sparse = _is_sparse(X) and not callable(self.kernel)
        given_dtype = getattr(X, "dtype", None)
        if callable(self.kernel):
            # the callable receives X as given (strings, lists, sparse matrices): no validation
            check_consistent_length(X, y)
        else:
            if self._sparse and self.kernel == "precomputed":
                raise TypeError("Sparse precomputed kernels are not supported: pass X as a dense array "
                                "(X.toarray())")
            X, y = validate_data(self, X, y, dtype=np.float64, order="C", accept_sparse="csr",
                                 accept_large_sparse=False)
            if self._sparse:
                # sorted column indices without duplicates (a copy: the caller's X is not changed)
                X = as_csr(X)
            if self.kernel != "precomputed":
                _check_norms(X)
        y = self._validate_targets(y)
        n_samples = _num_samples(X)
        if n_samples != y.shape[0]:
            raise ValueError("X and y have incompatible shapes.\n"
                             f"X has {n_samples} samples, but y has {y.shape[0]}.")
        if self.kernel == "precomputed" and n_samples != X.shape[1]:
            raise ValueError("Precomputed matrix must be a square matrix."
                             f" Input is a {X.shape[0]}x{X.shape[1]} matrix.")
        if (self.kernel == "precomputed" and given_dtype is not None and np.issubdtype(given_dtype, np.floating)
                and np.finfo(given_dtype).eps > np.finfo(np.float64).eps):
            # a float32 Gram matrix is PSD only up to its rounding: checked in its own precision
            # (which tolerates that), its float64 copy and the pairs' blocks are not checked again
            check_kernel_data(X.astype(given_dtype), Kernel("precomputed"), "X")
            _mark_psd_checked(X)
        return X, y

    def _validate_targets(self, y):
        """Real targets (the regressors); the classifiers encode their labels instead."""
        return column_or_1d(y, warn=True).astype(np.float64, copy=False)

    def _sample_weight(self, sample_weight, X, y):
        """Per-sample weights (ones when None); LIBSVM drops the samples of weight <= 0."""
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64, **_ZERO_WEIGHTS_OK)
        # LIBSVM checks its parameters against the weights (nu-SVC's feasibility) before it drops
        # the samples of weight <= 0: the errors come in its order
        self._check_feasible(y, sw)
        if not np.any(sw > 0):
            raise ValueError(_ALL_ZERO_WEIGHTS)
        return sw

    def _check_feasible(self, y, sw):
        """Refuse parameters that admit no solution for these targets and weights (nu-SVC's nu)."""

    def _resolve_gamma(self, X):
        """``_gamma`` as scikit-learn resolves it ('scale': 1 / (n_features X.var()), 'auto')."""
        if self.kernel == "precomputed" or callable(self.kernel):
            self._gamma = 0.0
        else:
            self._gamma = resolve_gamma(self.gamma, X)

    def _native_kernel(self):
        """The glopt Kernel the SMO evaluates itself, or None where the estimator computes a Gram matrix.

        glopt's kernels take gamma > 0 and degree >= 1; scikit-learn also allows gamma = 0 and
        degree = 0 (constant kernels), and any kernel name glopt.kernels does not list.
        """
        name = self.kernel
        if name == "linear":
            return Kernel("linear")
        if not isinstance(name, str) or name not in SVM_KERNELS or name == "precomputed":
            return None
        if self._gamma <= 0 or (name == "poly" and self.degree < 1):
            return None
        return Kernel(name, gamma=self._gamma, degree=int(self.degree) if name == "poly" else 3,
                      coef0=float(self.coef0))

    def _training_data(self, X):
        """(data, Kernel) the subproblems are cut from: X itself, or its Gram matrix ('precomputed')."""
        if callable(self.kernel):
            # kept for prediction: the callable is evaluated against the training inputs as given
            self._X_fit = X
            K = _as_gram(self.kernel(X, X), "X")
            n = _num_samples(X)
            if K.shape != (n, n):
                raise ValueError(f"the callable kernel returned an array of shape {K.shape} on X with {n} "
                                 f"samples; it must return the ({n}, {n}) Gram matrix kernel(X, X)")
            return K, Kernel("precomputed")
        if self.kernel == "precomputed":
            return X, Kernel("precomputed")
        native = self._native_kernel()
        if native is not None:
            return native.check_data(X), native
        return self._string_kernel(X, X), Kernel("precomputed")

    def _string_kernel(self, A, B) -> np.ndarray:
        """K(A, B) of a named kernel with the fitted ``_gamma`` (LIBSVM's formulas), as an array."""
        native = self._native_kernel()
        if native is not None:
            return native(B, A)
        return _libsvm_gram(self.kernel, self._gamma, int(self.degree), float(self.coef0), A, B)

    # -- one certified solve --------------------------------------------------------------------
    def _solve(self, data, kernel, y, weights, label, stacklevel):
        """Solve one problem by glopt's SMO; returns (result, certificate, certified).

        ``stacklevel`` points a warning at the caller of fit (frames from here to there).
        """
        # the one-class SVM has no labels: its problem takes none
        labels = None if self._task == "one_class" else y
        try:
            problem = SVMProblem(data, labels, kernel, self._task, weights=weights, **self._problem_params())
        except ValueError as exc:
            if kernel.name == "precomputed" and self.kernel != "precomputed":
                raise ValueError(f"the Gram matrix of kernel={self.kernel!r} on X is refused: {exc}") from None
            if self._task == "nu_svc" and "infeasible" in str(exc):
                # feasible with every weight counted (LIBSVM's check), not once the samples of
                # weight <= 0 are dropped
                raise ValueError(f"specified nu is infeasible for the samples of positive weight of the "
                                 f"{label}: {exc}") from None
            raise
        # nu-SVC's model is its solution divided by LIBSVM's r, which is 0 when the problem has no
        # margin: the division is checked below, by the value it gives
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            # the estimator reports max_iter once per fit, in scikit-learn's words (fit_status_)
            warnings.filterwarnings("ignore", message="SMO stopped at max_iter", category=ConvergenceWarning)
            try:
                # single-precision columns: LIBSVM's own iterations (Qfloat), hence its answers,
                # then the exact finish
                # (blocked working sets: their own float rows, then the exact finish in double)
                working_set = self._working_set(problem)
                options = dict(tol=float(self.tol), shrinking=bool(self.shrinking),
                               precision="single" if working_set is None else "auto",
                               cache_size=float(self.cache_size),
                               max_iter=None if self.max_iter == -1 else int(self.max_iter),
                               n_jobs=self.n_jobs, verbose=bool(self.verbose),
                               working_set=working_set)
                if self.divide is None:
                    result = smo_solve(problem, **options)
                else:
                    k = None if self.divide == "auto" else min(int(self.divide), problem.n)
                    result = solve_dc(problem, n_clusters=k, **options)
            except FloatingPointError as exc:
                if "no margin" not in str(exc):
                    raise ValueError(_NOT_FINITE) from exc
                result = None  # nu-SVC without a margin: said below, in scikit-learn's words
        if result is None or not (np.all(np.isfinite(result.coef)) and np.isfinite(result.b)):
            detail = (f" (nu-SVC: the {label} has no margin, LIBSVM's r is 0: the reduced convex hulls of its "
                      f"two classes overlap at nu={self.nu!r})" if self._task == "nu_svc" else "")
            raise ValueError(_NOT_FINITE + detail)
        # K @ coef from the SMO's final gradient: the certificate costs no kernel pass
        cert = smo_certificate(result, problem)
        certified = bool(cert.kkt_violation <= self.tol and cert.infeasibility <= self.tol)
        if result.status == "optimal" and not certified:
            # the SMO stopped by its rule, the certifier disagrees: say which number and where
            warnings.warn(f"{type(self).__name__}: the {label} stopped as optimal but its certificate does "
                          f"not confirm it (KKT residual {cert.kkt_violation:.3g}, infeasibility "
                          f"{cert.infeasibility:.3g}, tol={self.tol:g}); lower tol, or scale X",
                          ConvergenceWarning, stacklevel=stacklevel)
        return result, cert, certified

    def _store_solves(self, results, certificates, certified, stacklevel):
        """fit_status_, certificate_, certified_ and the max_iter warning of scikit-learn.

        ``stacklevel`` points the warning at the caller of fit (frames from here to there).
        """
        self.certificate_ = list(certificates)
        self.certified_ = np.array(certified, dtype=bool)
        self.fit_status_ = int(any(r.status == "max_iter" for r in results))
        if self.fit_status_:
            warnings.warn(_max_iter_warning(self.max_iter), ConvergenceWarning, stacklevel=stacklevel)

    # -- prediction -----------------------------------------------------------------------------
    def _validate_for_predict(self, X):
        check_is_fitted(self)
        if not callable(self.kernel):
            if _is_sparse(X) and not self._sparse:
                raise ValueError(f"cannot use sparse input in {type(self).__name__!r} trained on dense data: "
                                 "pass X as a dense array (X.toarray())")
            X = validate_data(self, X, dtype=np.float64, order="C", accept_sparse="csr",
                              accept_large_sparse=False, reset=False)
            if self._sparse:
                # a model fitted on sparse data takes X as CSR, as scikit-learn's does
                X = as_csr(X if _is_sparse(X) else sp.csr_matrix(X))
        if self.kernel == "precomputed" and X.shape[1] != self.shape_fit_[0]:
            raise ValueError(f"X.shape[1] = {X.shape[1]} should be equal to {self.shape_fit_[0]}, "
                             "the number of samples at training time")
        sv = self.support_vectors_
        if sv.shape[0] * sv.shape[1] > 0 and self.n_support_.sum() != sv.shape[0]:
            raise ValueError(f"The internal representation of {type(self).__name__} was altered")
        return X

    def _kernel_blocks(self, X):
        """Yield (rows, K(X[rows], support vectors)) in blocks of at most BLOCK_ENTRIES values."""
        if self.kernel == "precomputed":
            yield slice(0, X.shape[0]), X[:, self.support_]
            return
        n = _num_samples(X)
        if callable(self.kernel):
            n_train = self.shape_fit_[0]
            step = max(1, BLOCK_ENTRIES // max(n_train, 1))
            for s in range(0, n, step):
                rows = slice(s, min(n, s + step))
                Xb = X if (s == 0 and rows.stop == n) else _safe_indexing(X, np.arange(rows.start, rows.stop))
                K = _as_gram(self.kernel(Xb, self._X_fit), "X")
                m = rows.stop - rows.start
                if K.shape != (m, n_train):
                    raise ValueError(f"the callable kernel returned an array of shape {K.shape} for {m} samples "
                                     f"of X against the {n_train} training samples; it must have shape "
                                     f"({m}, {n_train})")
                yield rows, K[:, self.support_]
            return
        _check_norms(X)
        sv = self.support_vectors_
        step = max(1, BLOCK_ENTRIES // max(sv.shape[0], 1))
        for s in range(0, n, step):
            rows = slice(s, min(n, s + step))
            Xb = X[rows]
            yield rows, (self._string_kernel(Xb, sv) if sv.shape[0] else np.zeros((Xb.shape[0], 0)))

    # -- attributes -----------------------------------------------------------------------------
    def _coef(self):
        """coef_ of a linear model, read-only; AttributeError for the other kernels."""
        if self.kernel != "linear":
            raise AttributeError("coef_ is only available when using a linear kernel")
        coef = self._get_coef()
        # a read-only property: writing into it would change nothing the model uses
        if _is_sparse(coef):
            coef.data.flags.writeable = False
        else:
            coef.flags.writeable = False
        return coef

    def _get_coef(self):
        return _sparse_output(self._dual_coef_ @ self.support_vectors_) if self._sparse else (
            self._dual_coef_ @ self.support_vectors_)

    def _dense_dual_coef(self):
        """The internal dual coefficients (LIBSVM's signs) as a dense array, sparse fit or not."""
        D = self._dual_coef_
        return D.toarray() if _is_sparse(D) else np.asarray(D)

    def _store_model(self, X, support, dual, intercept):
        """support_, support_vectors_, _dual_coef_, _intercept_ in scikit-learn's types.

        On sparse data the support vectors and the dual coefficients are CSR matrices, as
        scikit-learn's; with a precomputed or callable kernel there are no support vectors to keep.
        """
        self.support_ = np.asarray(support).astype(np.int32)
        if self.kernel == "precomputed" or callable(self.kernel):
            self.support_vectors_ = np.empty((0, 0))
        elif self._sparse:
            self.support_vectors_ = _sparse_output(X[support])
        else:
            self.support_vectors_ = X[support]
        self._dual_coef_ = _sparse_output(dual) if self._sparse else dual
        # + 0.0: LIBSVM's intercepts are never -0.0
        self._intercept_ = np.asarray(intercept, dtype=np.float64) + 0.0

    def _n_support_value(self):
        try:
            check_is_fitted(self)
        except NotFittedError:
            raise AttributeError("n_support_ is set by fit") from None
        return self._n_support


def _libsvm_gram(name: str, gamma: float, degree: int, coef0: float, A, B) -> np.ndarray:
    """K(A, B) by LIBSVM's formulas, for the kernels glopt's Kernel does not evaluate (gamma = 0,
    degree = 0: constant kernels), dense or sparse A and B."""
    if name == "rbf":
        # gamma = 0, the one rbf kernel glopt's kernels do not evaluate: the constant 1
        return np.ones((A.shape[0], B.shape[0]))
    dot = A @ B.T
    dot = np.asarray(dot.toarray() if _is_sparse(dot) else dot)
    if name == "poly":
        return (gamma * dot + coef0) ** degree
    if name == "sigmoid":
        return np.tanh(gamma * dot + coef0)
    return dot


def _sparse_output(M):
    """A sparse fitted attribute as scikit-learn makes it: CSR, in its configured sparse interface."""
    M = sp.csr_matrix(M)
    return _align_api_if_sparse(M) if _align_api_if_sparse is not None else M


def _check_norms(X):
    """Inputs whose squared norms overflow make every kernel value infinite or NaN: refuse them."""
    values = X.data if _is_sparse(X) else X
    with np.errstate(over="ignore", invalid="ignore"):
        if _is_sparse(X):
            sq = np.bincount(np.repeat(np.arange(X.shape[0]), np.diff(X.indptr)), weights=values * values,
                             minlength=X.shape[0])
        else:
            sq = np.einsum("ij,ij->i", X, X)
    if not np.all(np.isfinite(4.0 * sq)):
        raise ValueError("The dual coefficients or intercepts are not finite: X is too large for floating "
                         f"point (its squared row norms overflow; largest |entry| {np.abs(values).max():.3g}). "
                         "Scale X, e.g. with StandardScaler or MinMaxScaler.")


def _label(value) -> str:
    """A class label as messages show it (numpy scalars as the Python values they hold)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _as_gram(K, name):
    """A callable kernel's value as a finite dense float array."""
    if _is_sparse(K):
        K = K.toarray()
    K = np.asarray(K, dtype=np.float64, order="C")
    if K.ndim != 2:
        raise ValueError(f"the callable kernel must return a 2-D array on {name}, got shape {K.shape}")
    if not np.all(np.isfinite(K)):
        raise ValueError(f"the callable kernel returned NaN or infinite values on {name}")
    return K


# --------------------------------------------------------------------------------------
# Classifiers: one problem per pair of classes, LIBSVM's one-vs-one layout
# --------------------------------------------------------------------------------------
class _BaseSVC(ClassifierMixin, _BaseLibSVM):
    """One-vs-one classification in LIBSVM's layout, Platt-scaled probabilities, class weights."""

    _parameter_constraints: dict = {
        **_BaseLibSVM._parameter_constraints,
        "probability": ["boolean", Hidden(StrOptions({"deprecated"}))],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "decision_function_shape": [StrOptions({"ovr", "ovo"})],
        "break_ties": ["boolean"],
        "random_state": ["random_state"],
    }

    def _validate_targets(self, y):
        y_ = column_or_1d(y, warn=True)
        check_classification_targets(y)
        cls, y = np.unique(y_, return_inverse=True)
        self.class_weight_ = compute_class_weight(self.class_weight, classes=cls, y=y_)
        if len(cls) < 2:
            raise ValueError(f"The number of classes has to be greater than one; got {len(cls)} class")
        self.classes_ = cls
        return np.asarray(y, dtype=np.float64, order="C")

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the classifier: one certified SMO problem per pair of classes (LIBSVM's one-vs-one).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or (n_samples, n_samples)
            Training inputs (sparse: taken as CSR); the Gram matrix for kernel='precomputed'; any
            inputs the kernel accepts for a callable kernel.
        y : array-like of shape (n_samples,)
            Class labels (any values, at least two classes).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights: sample i's dual bound is C * class_weight_[class of i] *
            sample_weight[i]. Samples of weight <= 0 are left out, as LIBSVM does.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._check_params()
        rnd = check_random_state(self.random_state)
        if self.probability != "deprecated":
            warnings.warn(f"The `probability` parameter was deprecated in 1.9 and will be removed in version "
                          f"1.11. Use `CalibratedClassifierCV({type(self).__name__}(), ensemble=False)` instead "
                          f"of `{type(self).__name__}(probability=True)`", FutureWarning, stacklevel=3)
        X, y = self._validate_fit_data(X, y)
        sw = self._sample_weight(sample_weight, X, y)
        self._resolve_gamma(X)
        # drawn as scikit-learn draws LIBSVM's seed, so that a shared RandomState advances alike
        seed = rnd.randint(np.iinfo("i").max)
        data, kernel = self._training_data(X)
        self._fit_one_vs_one(X, data, kernel, y.astype(np.intp), sw)
        self.shape_fit_ = X.shape if hasattr(X, "shape") else (_num_samples(X),)
        self._probA = self._probB = np.empty(0)
        if self.probability != "deprecated" and bool(self.probability):
            self._fit_probability(X, y, sample_weight, seed)
        return self

    def _class_multipliers(self, y_idx):
        """The factor of each sample's dual bound that comes from its class: ``class_weight_``."""
        return self.class_weight_[y_idx]

    def _fit_one_vs_one(self, X, data, kernel, y_idx, sw):
        """Solve the pairwise problems and store them in LIBSVM's layout."""
        k = self.classes_.size
        keep = sw > 0
        if not keep.all() and np.unique(y_idx[keep]).size == 1:
            raise ValueError(_ONE_CLASS_LEFT)
        for c in range(k):
            if not np.any(keep & (y_idx == c)):
                raise ValueError(f"sample_weight is zero or negative for every sample of class "
                                 f"{_label(self.classes_[c])}: a one-vs-one model needs samples of every class; "
                                 "remove that class's samples from X and y")
        weights = self._class_multipliers(y_idx) * sw
        # LIBSVM's order: the samples of class i, then those of class j, each in training order
        by_class = [np.flatnonzero(keep & (y_idx == c) & (weights > 0)) for c in range(k)]
        pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
        results, certs, certified, coefs = [], [], [], []
        for i, j in pairs:
            if by_class[i].size == 0 or by_class[j].size == 0:
                c = i if by_class[i].size == 0 else j
                raise ValueError(f"class_weight is 0 for class {_label(self.classes_[c])}: its samples cannot be "
                                 "support vectors, and the problem of its pair of classes has no solution")
            rows = np.concatenate([by_class[i], by_class[j]])
            yy = np.concatenate([np.ones(by_class[i].size), -np.ones(by_class[j].size)])
            label = ("problem" if k == 2 else
                     f"problem of classes {_label(self.classes_[i])} and {_label(self.classes_[j])}")
            # _solve <- here <- fit <- scikit-learn's _fit_context wrapper <- the caller
            res, cert, ok = self._solve(kernel.samples(data, rows), kernel, yy, weights[rows], label, 5)
            results.append(res)
            certs.append(cert)
            certified.append(ok)
            coefs.append((rows, res.coef))
        self._store_solves(results, certs, certified, 5)
        self.n_iter_ = np.array([r.n_iter for r in results], dtype=np.int32)
        self._set_layout(X, y_idx, pairs, coefs, [r.b for r in results])

    def _set_layout(self, X, y_idx, pairs, coefs, biases):
        """support_, dual_coef_, intercept_ in LIBSVM's one-vs-one layout (and scikit-learn's signs)."""
        k = self.classes_.size
        sv_mask = np.zeros(y_idx.size, dtype=bool)
        for rows, coef in coefs:
            sv_mask[rows[coef != 0]] = True
        support = np.concatenate([np.flatnonzero(sv_mask & (y_idx == c)) for c in range(k)])
        self._n_support = np.array([np.sum(sv_mask & (y_idx == c)) for c in range(k)], dtype=np.int32)
        position = np.full(y_idx.size, -1)
        position[support] = np.arange(support.size)
        dual = np.zeros((k - 1, support.size))
        for (i, j), (rows, coef) in zip(pairs, coefs):
            nz = coef != 0
            r = rows[nz]
            # LIBSVM: the coefficients of class i's SVs in row j-1, those of class j's SVs in row i
            dual[np.where(y_idx[r] == i, j - 1, i), position[r]] = coef[nz]
        # LIBSVM's signs (class i of pair (i, j) positive) are kept internally, as scikit-learn
        # does; the binary model's public signs make decision_function > 0 predict classes_[1]
        self._store_model(X, support, dual, biases)
        if k == 2:
            self.dual_coef_ = -self._dual_coef_
            self.intercept_ = -self._intercept_
        else:
            self.dual_coef_ = self._dual_coef_
            self.intercept_ = self._intercept_.copy()

    def _fit_probability(self, X, y_idx, sample_weight, seed):
        """Platt scaling: scikit-learn's CalibratedClassifierCV on a clone with probability off."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.model_selection import StratifiedKFold

        y = self.classes_[y_idx.astype(np.intp)]
        smallest = int(np.bincount(y_idx.astype(np.intp)).min())
        if smallest < 2:
            raise ValueError("probability=True needs at least 2 samples of every class (its Platt scaling is "
                             f"cross-validated), but a class of y has {smallest}")
        # ovr: the calibrator reads one decision value per class
        base = clone(self).set_params(probability="deprecated", decision_function_shape="ovr", break_ties=False)
        cv = StratifiedKFold(n_splits=min(5, smallest), shuffle=True, random_state=seed)
        self.calibrated_ = CalibratedClassifierCV(base, method="sigmoid", cv=cv, ensemble=False)
        self.calibrated_.fit(X, y, sample_weight=sample_weight)
        sig = self.calibrated_.calibrated_classifiers_[0].calibrators
        self._probA = np.array([c.a_ for c in sig])
        self._probB = np.array([c.b_ for c in sig])

    def _get_coef(self):
        D, SV = self.dual_coef_, self.support_vectors_
        if D.shape[0] == 1:
            return _sparse_output(D @ SV) if self._sparse else D @ SV
        starts = np.concatenate([[0], np.cumsum(self._n_support)])
        k = self.classes_.size
        rows = []
        for i in range(k):
            si = slice(starts[i], starts[i + 1])
            for j in range(i + 1, k):
                sj = slice(starts[j], starts[j + 1])
                # [[row]]: a 1 x n_SV block, for dense arrays and both sparse interfaces alike
                rows.append(D[[j - 1], si] @ SV[si] + D[[i], sj] @ SV[sj])
        return _sparse_output(sp.vstack(rows)) if self._sparse else np.vstack(rows)

    def _pair_decisions(self, X):
        """Decision values of the pairwise problems in LIBSVM's signs, shape (n_samples, n_pairs)."""
        X = self._validate_for_predict(X)
        k = self.classes_.size
        n_pairs = k * (k - 1) // 2
        starts = np.concatenate([[0], np.cumsum(self._n_support)])
        D = self._dense_dual_coef()
        out = np.empty((_num_samples(X), n_pairs))
        for rows, Kr in self._kernel_blocks(X):
            if k == 2:
                out[rows, 0] = Kr @ D[0] + self._intercept_[0]
                continue
            p = 0
            for i in range(k):
                si = slice(starts[i], starts[i + 1])
                for j in range(i + 1, k):
                    sj = slice(starts[j], starts[j + 1])
                    out[rows, p] = Kr[:, si] @ D[j - 1, si] + Kr[:, sj] @ D[i, sj] + self._intercept_[p]
                    p += 1
        return out

    def decision_function(self, X):
        """Decision values of the samples in X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or (n_samples, n_train)
            Inputs (sparse only for a model fitted on sparse data, or a callable kernel); for
            kernel='precomputed' the kernel values against the training samples.

        Returns
        -------
        ndarray of shape (n_samples,), (n_samples, n_classes) or (n_samples, n_pairs)
            Binary: > 0 for classes_[1]. Multi-class: one column per class for
            decision_function_shape='ovr' (votes plus a monotone transformation of the pairwise
            values, as scikit-learn's), one per pair of classes (in the order (0, 1), (0, 2),
            ..., (1, 2), ...; > 0 for the first class of the pair) for 'ovo'.
        """
        dec = self._pair_decisions(X)
        if self.classes_.size == 2:
            return -dec[:, 0]
        if self.decision_function_shape == "ovr":
            return _ovr_decision_function(dec < 0, -dec, self.classes_.size)
        return dec

    def predict(self, X):
        """Predicted class labels: LIBSVM's one-vs-one votes, ties to the lowest class.

        With break_ties=True, decision_function_shape='ovr' and more than two classes, the
        label of the largest decision value instead.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or (n_samples, n_train)
            Inputs (sparse only for a model fitted on sparse data, or a callable kernel); for
            kernel='precomputed' the kernel values against the training samples.

        Returns
        -------
        ndarray of shape (n_samples,)
            The predicted labels (values of ``classes_``).
        """
        check_is_fitted(self)
        if self.break_ties and self.decision_function_shape == "ovo":
            raise ValueError("break_ties must be False when decision_function_shape is 'ovo'")
        k = self.classes_.size
        if self.break_ties and self.decision_function_shape == "ovr" and k > 2:
            y = np.argmax(self.decision_function(X), axis=1)
        else:
            dec = self._pair_decisions(X)
            votes = np.zeros((dec.shape[0], k), dtype=np.intp)
            p = 0
            for i in range(k):
                for j in range(i + 1, k):
                    # LIBSVM: a positive value votes for i, zero and negative ones for j
                    votes[:, i] += dec[:, p] > 0
                    votes[:, j] += dec[:, p] <= 0
                    p += 1
            y = np.argmax(votes, axis=1)
        return self.classes_.take(np.asarray(y, dtype=np.intp))

    def _check_proba(self):
        if self.probability == "deprecated" or not self.probability:
            raise AttributeError("predict_proba is not available when probability=False")
        return True

    @available_if(_check_proba)
    def predict_proba(self, X):
        """Class probabilities by Platt scaling (available with probability=True).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or (n_samples, n_train)
            Inputs (sparse only for a model fitted on sparse data, or a callable kernel); for
            kernel='precomputed' the kernel values against the training samples.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            The probability of each class (columns in the order of ``classes_``), from
            ``calibrated_``.
        """
        check_is_fitted(self)
        if not hasattr(self, "calibrated_"):
            raise NotFittedError("predict_proba is not available when fitted with probability=False")
        return self.calibrated_.predict_proba(X)

    @available_if(_check_proba)
    def predict_log_proba(self, X):
        """Logarithms of the class probabilities of :meth:`predict_proba` (available with probability=True).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or (n_samples, n_train)
            Inputs (sparse only for a model fitted on sparse data, or a callable kernel); for
            kernel='precomputed' the kernel values against the training samples.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            The log-probability of each class (columns in the order of ``classes_``).
        """
        return np.log(self.predict_proba(X))

    @property
    def coef_(self):
        """Weights of the features in the pairwise decision functions (kernel='linear' only).

        A read-only array of shape (n_classes * (n_classes - 1) / 2, n_features), computed from
        ``dual_coef_`` and ``support_vectors_``; AttributeError for the other kernels.
        """
        return self._coef()

    @property
    def n_support_(self):
        """Number of support vectors of each class, an int32 array of shape (n_classes,)."""
        return self._n_support_value()

    @deprecated("Attribute `probA_` was deprecated in version 1.9 and will be removed in 1.11 as the "
                "`probability=True` option for SVC and NuSVC was deprecated and will be removed in 1.11.")
    @property
    def probA_(self):
        """Slopes A of the Platt scaling ``1 / (1 + exp(A f + B))``, one per calibrated decision value."""
        return self._probA

    @deprecated("Attribute `probB_` was deprecated in version 1.9 and will be removed in 1.11 as the "
                "`probability=True` option for SVC and NuSVC was deprecated and will be removed in 1.11.")
    @property
    def probB_(self):
        """Offsets B of the Platt scaling ``1 / (1 + exp(A f + B))``, one per calibrated decision value."""
        return self._probB


class SVC(_BaseSVC):
    """C-support vector classification: scikit-learn's ``SVC``, solved by glopt's SMO and certified.

    The same constructor, defaults, validation, fitted attributes, one-vs-one layout, decision
    values and predictions as :class:`sklearn.svm.SVC` (the differences are listed in the module
    docstring of :mod:`glopt.svm`); the pairwise problems are solved by :func:`glopt.smo.solve`
    with ``n_jobs`` threads and each is certified by :func:`glopt.certify.certify`.

    Parameters
    ----------
    C : float > 0, default=1.0
        Regularization parameter: sample i's dual bound is C * class_weight_[class of i] *
        sample_weight[i]. ``C=np.inf`` is a hard margin (solved with the bound ``C_INF``).
    kernel : {'linear', 'poly', 'rbf', 'sigmoid', 'precomputed'} or callable, default='rbf'
        The kernel: linear ``<x, z>``, poly ``(gamma <x, z> + coef0)^degree``, rbf
        ``exp(-gamma ||x - z||^2)``, sigmoid ``tanh(gamma <x, z> + coef0)``, or the Gram matrix
        given as X. A callable ``kernel(A, B)`` returns the Gram block of shape (len(A), len(B)):
        fit evaluates ``kernel(X, X)`` once and solves it as a precomputed kernel, prediction
        evaluates ``kernel(X_test, X_train)`` in row blocks; both run at Python speed. The
        constant kernels scikit-learn allows and glopt's SMO does not evaluate (gamma=0,
        degree=0) are computed the same way, as a Gram matrix. Every Gram matrix must be
        symmetric positive semi-definite.
    degree : int >= 0, default=3
        Degree of the polynomial kernel.
    gamma : {'scale', 'auto'} or float >= 0, default='scale'
        Kernel coefficient of rbf, poly and sigmoid: 'scale' is 1 / (n_features * X.var()), 'auto'
        1 / n_features (resolved in ``_gamma``).
    coef0 : float, default=0.0
        Constant term of the poly and sigmoid kernels.
    shrinking : bool, default=True
        LIBSVM's shrinking heuristic.
    probability : bool, default='deprecated'
        Deprecated in scikit-learn 1.9, as there: any value given raises the same FutureWarning.
        True fits ``calibrated_``, a :class:`~sklearn.calibration.CalibratedClassifierCV`
        (``method='sigmoid'``, ``ensemble=False``, stratified 5-fold cross-validation shuffled by
        random_state, fewer folds when a class has fewer than 5 samples) on a clone with
        probability off, which gives :meth:`predict_proba` and :meth:`predict_log_proba` by Platt
        scaling; ``predict`` still votes.
    tol : float >= 1e-15, default=1e-3
        Stopping tolerance of the SMO: the maximal KKT violation m(a) - M(a) (LIBSVM's eps).
    cache_size : float > 0, default=200
        Kernel cache of the SMO in MB.
    class_weight : dict or 'balanced', default=None
        Multipliers of C per class (``{label: weight}``); 'balanced' is
        n_samples / (n_classes * np.bincount(y)), as scikit-learn computes it.
    verbose : bool, default=False
        Print the SMO's progress.
    max_iter : int >= 1 or -1, default=-1
        Iteration cap of each pairwise SMO; -1 is LIBSVM's cap max(10,000,000, 100 n) for n
        samples of the pair. Reaching it sets ``fit_status_ = 1`` with scikit-learn's
        ConvergenceWarning.
    decision_function_shape : {'ovo', 'ovr'}, default='ovr'
        Shape of decision_function for more than two classes: one column per class ('ovr') or
        per pair of classes ('ovo'). Training is one-vs-one either way.
    break_ties : bool, default=False
        With decision_function_shape='ovr' and more than two classes, predict the class of the
        largest decision value instead of the first class among those tied in votes.
    random_state : int, RandomState instance or None, default=None
        Seed of the cross-validation folds of probability=True (the only randomness).
    n_jobs : int or None, default=None
        OpenMP threads of the SMO's kernel columns (None: all; -k: all but k - 1). The answer
        does not depend on it.
    divide : None, 'auto' or int >= 1, default=None
        None: the plain SMO, LIBSVM's iterations. 'auto' or k: each problem solved by divide
        and conquer (:func:`glopt.smo.solve_dc`: k-means clusters, seeded, their problems
        solved first, then the whole problem from the union of their answers), with k clusters
        or as many as make each cluster's kernel matrix fit ``cache_size`` ('auto': one per
        5,120 samples at 200 MB). The answer is the same problem's to the stopping
        rule and is certified as any, but the path is not LIBSVM's: it agrees with scikit-learn's
        to the tolerance, not to rounding. Its speed against the plain SMO is measured in
        the SMO documentation; not for a precomputed or callable kernel.
    working_set : None, 'auto' or int >= 2, default='auto'
        None: LIBSVM's pairs. An integer q: each problem solved by blocked working sets of q
        variables first (``glopt.smo.solve``'s ``working_set``: a local SMO per set on its
        kernel block, the kernel rows in float, kept in ``cache_size`` megabytes), then the
        engine's exact finish. 'auto': blocked working sets (512 variables, 1,024 from
        100,000 samples) for problems of at least ``glopt.smo.BLOCKED_MIN_VARIABLES`` dual
        variables (40,000: samples, twice the samples for SVR and nu-SVR; where they are
        measured faster than LIBSVM's pairs), on dense data (or sparse data dense enough to
        be made dense) with a named kernel other than 'precomputed'; LIBSVM's pairs
        otherwise, so that smaller problems have scikit-learn's answers to rounding. A
        blocked answer agrees with scikit-learn's to the tolerance, not to rounding, and is
        certified as any.

    Attributes
    ----------
    class_weight_ : ndarray of shape (n_classes,)
        Multipliers of C for each class.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    coef_ : ndarray of shape (n_classes * (n_classes - 1) / 2, n_features)
        Weights of the features (kernel='linear' only), read-only.
    dual_coef_ : ndarray of shape (n_classes - 1, n_SV)
        Dual coefficients (label times alpha) of the support vectors, in LIBSVM's one-vs-one
        layout: for the pair (i, j), the coefficients of class i's support vectors are in row
        j - 1 and those of class j's in row i. Binary: positive for classes_[1].
    fit_status_ : int
        0 if every problem met its stopping rule, 1 if one stopped at max_iter.
    intercept_ : ndarray of shape (n_classes * (n_classes - 1) / 2,)
        Constants of the pairwise decision functions.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape ``(n_features_in_,)``
        Names of the features seen in fit (only when X has string column names).
    n_iter_ : ndarray of int32, shape (n_classes * (n_classes - 1) // 2,)
        SMO iterations of each pairwise problem.
    support_ : ndarray of int32, shape (n_SV,)
        Indices of the support vectors in the training set, grouped by class.
    support_vectors_ : ndarray of shape (n_SV, n_features)
        The support vectors (empty for a precomputed or callable kernel).
    n_support_ : ndarray of int32, shape (n_classes,)
        Number of support vectors of each class.
    probA_ : ndarray
        Deprecated as in scikit-learn: the Platt slopes of ``calibrated_`` (one per calibrated
        decision value: one for two classes, one per class otherwise), empty without probability.
    probB_ : ndarray
        Deprecated as in scikit-learn: the Platt offsets of ``calibrated_``, empty without
        probability.
    shape_fit_ : tuple of int
        Shape of the training inputs.
    certificate_ : list of glopt.certify.Certificate
        One certificate per pairwise problem (in the order of ``intercept_``), computed from the
        answer, the data and the SMO's final gradient: primal and dual objectives, duality gap, KKT residual,
        infeasibility.
    certified_ : ndarray of bool, shape (n_classes * (n_classes - 1) // 2,)
        Whether each certificate confirms the stopping rule: KKT residual and infeasibility at
        most tol. (At a KKT residual of tol the relative duality gap can be much larger than tol
        on nearly separable data; it is in ``certificate_``, and shrinks with tol.)
    calibrated_ : sklearn.calibration.CalibratedClassifierCV
        The Platt scaling of probability=True (only then).

    See Also
    --------
    NuSVC : nu-support vector classification.
    SVR : Epsilon-support vector regression.
    sklearn.svm.SVC : The estimator this one replaces.
    glopt.estimators.GLSVC : The classifier with the generalized loss.

    Notes
    -----
    Classes are handled one-vs-one, as by LIBSVM: one binary problem per pair of classes (i, j),
    class i labeled +1, on the samples of both classes in training order; each pair's answer is
    LIBSVM's, so support vectors, dual coefficients and intercepts agree with scikit-learn's to
    within the stopping tolerance.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from glopt.svm import SVC
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SVC(kernel="linear").fit(X, y)
    >>> clf.dual_coef_.shape, bool(clf.certified_.all())
    ((2, 27), True)
    """

    _task = "svc"

    def __init__(self, *, C=1.0, kernel="rbf", degree=3, gamma="scale", coef0=0.0, shrinking=True,
                 probability="deprecated", tol=1e-3, cache_size=200, class_weight=None, verbose=False,
                 max_iter=-1, decision_function_shape="ovr", break_ties=False, random_state=None, n_jobs=None, divide=None,
                 working_set="auto"):
        self.C = C
        self.kernel = kernel
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.shrinking = shrinking
        self.probability = probability
        self.tol = tol
        self.cache_size = cache_size
        self.class_weight = class_weight
        self.verbose = verbose
        self.max_iter = max_iter
        self.decision_function_shape = decision_function_shape
        self.break_ties = break_ties
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.divide = divide
        self.working_set = working_set

    def _problem_params(self) -> dict:
        return {"C": self._bound_C()}


class NuSVC(_BaseSVC):
    """Nu-support vector classification: scikit-learn's ``NuSVC``, solved by glopt's SMO and certified.

    The same constructor, defaults, validation, fitted attributes, one-vs-one layout, decision
    values and predictions as :class:`sklearn.svm.NuSVC` (the differences are listed in the
    module docstring of :mod:`glopt.svm`); each pairwise problem is LIBSVM's nu-SVC, solved by
    :func:`glopt.smo.solve` (LIBSVM's ``Solver_NU``) with ``n_jobs`` threads and certified by
    :func:`glopt.certify.certify`.

    Parameters
    ----------
    nu : float in (0, 1], default=0.5
        An upper bound on the fraction of margin errors and a lower bound on the fraction of
        support vectors (of each pairwise problem). It must be feasible for every pair of
        classes (i, j): nu * (n_i + n_j) / 2 <= min(n_i, n_j), with n_i the sum of the sample
        weights of class i (the number of its samples without weights).
    kernel : {'linear', 'poly', 'rbf', 'sigmoid', 'precomputed'} or callable, default='rbf'
        The kernel, as in :class:`SVC`: a callable ``kernel(A, B)`` returns the Gram block of
        shape (len(A), len(B)) and is solved as a precomputed kernel, at Python speed; every Gram
        matrix must be symmetric positive semi-definite.
    degree : int >= 0, default=3
        Degree of the polynomial kernel.
    gamma : {'scale', 'auto'} or float >= 0, default='scale'
        Kernel coefficient of rbf, poly and sigmoid: 'scale' is 1 / (n_features * X.var()), 'auto'
        1 / n_features (resolved in ``_gamma``).
    coef0 : float, default=0.0
        Constant term of the poly and sigmoid kernels.
    shrinking : bool, default=True
        LIBSVM's shrinking heuristic.
    probability : bool, default='deprecated'
        Deprecated in scikit-learn 1.9, as there: any value given raises the same FutureWarning.
        True fits ``calibrated_`` by Platt scaling, as :class:`SVC` does; ``predict`` still votes.
    tol : float >= 1e-15, default=1e-3
        Stopping tolerance of the SMO: the maximal KKT violation m(a) - M(a) (LIBSVM's eps).
    cache_size : float > 0, default=200
        Kernel cache of the SMO in MB.
    class_weight : dict or 'balanced', default=None
        Computed into ``class_weight_`` as scikit-learn computes it, and, as in scikit-learn,
        without effect on the model: LIBSVM takes nu-SVC's dual bounds from the sample weights
        alone.
    verbose : bool, default=False
        Print the SMO's progress.
    max_iter : int >= 1 or -1, default=-1
        Iteration cap of each pairwise SMO; -1 is LIBSVM's cap max(10,000,000, 100 n) for n
        samples of the pair. Reaching it sets ``fit_status_ = 1`` with scikit-learn's
        ConvergenceWarning.
    decision_function_shape : {'ovo', 'ovr'}, default='ovr'
        Shape of decision_function for more than two classes: one column per class ('ovr') or
        per pair of classes ('ovo'). Training is one-vs-one either way.
    break_ties : bool, default=False
        With decision_function_shape='ovr' and more than two classes, predict the class of the
        largest decision value instead of the first class among those tied in votes.
    random_state : int, RandomState instance or None, default=None
        Seed of the cross-validation folds of probability=True (the only randomness).
    n_jobs : int or None, default=None
        OpenMP threads of the SMO's kernel columns (None: all; -k: all but k - 1). The answer
        does not depend on it.
    divide : None, 'auto' or int >= 1, default=None
        None: the plain SMO, LIBSVM's iterations. 'auto' or k: each problem solved by divide
        and conquer (:func:`glopt.smo.solve_dc`: k-means clusters, seeded, their problems
        solved first, then the whole problem from the union of their answers), with k clusters
        or as many as make each cluster's kernel matrix fit ``cache_size`` ('auto': one per
        5,120 samples at 200 MB). The answer is the same problem's to the stopping
        rule and is certified as any, but the path is not LIBSVM's: it agrees with scikit-learn's
        to the tolerance, not to rounding. Its speed against the plain SMO is measured in
        the SMO documentation; not for a precomputed or callable kernel.
    working_set : None, 'auto' or int >= 2, default='auto'
        None: LIBSVM's pairs. An integer q: each problem solved by blocked working sets of q
        variables first (``glopt.smo.solve``'s ``working_set``: a local SMO per set on its
        kernel block, the kernel rows in float, kept in ``cache_size`` megabytes), then the
        engine's exact finish. 'auto': blocked working sets (512 variables, 1,024 from
        100,000 samples) for problems of at least ``glopt.smo.BLOCKED_MIN_VARIABLES`` dual
        variables (40,000: samples, twice the samples for SVR and nu-SVR; where they are
        measured faster than LIBSVM's pairs), on dense data (or sparse data dense enough to
        be made dense) with a named kernel other than 'precomputed'; LIBSVM's pairs
        otherwise, so that smaller problems have scikit-learn's answers to rounding. A
        blocked answer agrees with scikit-learn's to the tolerance, not to rounding, and is
        certified as any.

    Attributes
    ----------
    class_weight_ : ndarray of shape (n_classes,)
        The class weights computed from ``class_weight`` (not used by the model).
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    coef_ : ndarray of shape (n_classes * (n_classes - 1) / 2, n_features)
        Weights of the features (kernel='linear' only), read-only.
    dual_coef_ : ndarray of shape (n_classes - 1, n_SV)
        Dual coefficients of the support vectors in LIBSVM's one-vs-one layout (as in
        :class:`SVC`), scaled as LIBSVM scales nu-SVC's: each pair's solution divided by its r,
        which makes it the C-SVC solution with C = 1 / r.
    fit_status_ : int
        0 if every problem met its stopping rule, 1 if one stopped at max_iter.
    intercept_ : ndarray of shape (n_classes * (n_classes - 1) / 2,)
        Constants of the pairwise decision functions.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape ``(n_features_in_,)``
        Names of the features seen in fit (only when X has string column names).
    n_iter_ : ndarray of int32, shape (n_classes * (n_classes - 1) // 2,)
        SMO iterations of each pairwise problem.
    support_ : ndarray of int32, shape (n_SV,)
        Indices of the support vectors in the training set, grouped by class.
    support_vectors_ : ndarray of shape (n_SV, n_features)
        The support vectors (empty for a precomputed or callable kernel).
    n_support_ : ndarray of int32, shape (n_classes,)
        Number of support vectors of each class.
    probA_ : ndarray
        Deprecated as in scikit-learn: the Platt slopes of ``calibrated_``, empty without
        probability.
    probB_ : ndarray
        Deprecated as in scikit-learn: the Platt offsets of ``calibrated_``, empty without
        probability.
    shape_fit_ : tuple of int
        Shape of the training inputs.
    certificate_ : list of glopt.certify.Certificate
        One certificate per pairwise problem (in the order of ``intercept_``), of the problem
        LIBSVM solves (the unscaled variables, bounded by the sample weights, and LIBSVM's r),
        computed from the answer, the data and the SMO's final gradient.
    certified_ : ndarray of bool, shape (n_classes * (n_classes - 1) // 2,)
        Whether each certificate confirms the stopping rule: KKT residual and infeasibility at
        most tol.
    calibrated_ : sklearn.calibration.CalibratedClassifierCV
        The Platt scaling of probability=True (only then).

    See Also
    --------
    SVC : C-support vector classification.
    sklearn.svm.NuSVC : The estimator this one replaces.

    Notes
    -----
    Each pairwise problem is LIBSVM's nu-SVC dual  min 0.5 a^T Q a  subject to
    0 <= a_i <= sample_weight_i and, for each of the two classes, sum a_i = nu sum(w) / 2; the
    model is (y a / r, -rho / r) with LIBSVM's r and rho, a C-SVC solution with C = 1 / r.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from glopt.svm import NuSVC
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = NuSVC(nu=0.2, kernel="linear").fit(X, y)
    >>> clf.intercept_.shape, bool(clf.certified_.all())
    ((3,), True)
    """

    _task = "nu_svc"

    _parameter_constraints: dict = {
        **{name: rule for name, rule in _BaseSVC._parameter_constraints.items() if name != "C"},
        "nu": [Interval(Real, 0.0, 1.0, closed="right")],
    }

    def __init__(self, *, nu=0.5, kernel="rbf", degree=3, gamma="scale", coef0=0.0, shrinking=True,
                 probability="deprecated", tol=1e-3, cache_size=200, class_weight=None, verbose=False,
                 max_iter=-1, decision_function_shape="ovr", break_ties=False, random_state=None, n_jobs=None, divide=None,
                 working_set="auto"):
        self.nu = nu
        self.kernel = kernel
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.shrinking = shrinking
        self.probability = probability
        self.tol = tol
        self.cache_size = cache_size
        self.class_weight = class_weight
        self.verbose = verbose
        self.max_iter = max_iter
        self.decision_function_shape = decision_function_shape
        self.break_ties = break_ties
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.divide = divide
        self.working_set = working_set

    def _problem_params(self) -> dict:
        return {"nu": float(self.nu)}

    def _class_multipliers(self, y_idx):
        # LIBSVM's nu-SVC bounds are the sample weights alone: class_weight_ is not applied
        return np.ones(y_idx.size)

    def _check_feasible(self, y, sw):
        """LIBSVM's test: nu (n_i + n_j) / 2 <= min(n_i, n_j) for every pair of classes.

        n_i sums the weights of class i in sample order, those <= 0 included, as LIBSVM sums them.
        """
        counts = np.bincount(y.astype(np.intp), weights=sw, minlength=self.classes_.size)
        k = counts.size
        for i in range(k):
            for j in range(i + 1, k):
                n_i, n_j = counts[i], counts[j]
                if self.nu * (n_i + n_j) / 2 > min(n_i, n_j):
                    raise ValueError(
                        f"specified nu is infeasible: nu={self.nu!r} for classes {_label(self.classes_[i])} and "
                        f"{_label(self.classes_[j])}, whose sample weights sum to {n_i:g} and {n_j:g}; nu-SVC "
                        "needs nu * (n_i + n_j) / 2 <= min(n_i, n_j) for every pair of classes")


# --------------------------------------------------------------------------------------
# One problem: regressors and the one-class SVM
# --------------------------------------------------------------------------------------
class _BaseOneProblem(_BaseLibSVM):
    """One problem on all samples of positive weight; the support vectors in training order."""

    def _fit_problem(self, X, y, sample_weight, stacklevel):
        """Validate, solve and store the one problem of a regressor or a one-class SVM.

        ``stacklevel`` points a warning at the caller of fit (frames from the solve to there).
        """
        self._check_params()
        X, y = self._validate_fit_data(X, y)
        sw = self._sample_weight(sample_weight, X, y)
        self._resolve_gamma(X)
        data, kernel = self._training_data(X)
        rows = np.flatnonzero(sw > 0)
        res, cert, ok = self._solve(kernel.samples(data, rows), kernel, y[rows], sw[rows], "problem",
                                    stacklevel)
        self._store_solves([res], [cert], [ok], stacklevel)
        self.n_iter_ = int(res.n_iter)
        nz = np.flatnonzero(res.coef)
        self._store_model(X, rows[nz], res.coef[nz][None, :], [res.b])
        # LIBSVM's two counts for a model of one problem (the second is 0); n_support_ shows the first
        self._n_support = np.array([nz.size, 0], dtype=np.int32)
        self.dual_coef_ = self._dual_coef_
        self.intercept_ = self._intercept_.copy()
        self.shape_fit_ = X.shape if hasattr(X, "shape") else (_num_samples(X),)

    def _decision_values(self, X):
        """``f(x) = sum_j dual_coef_j K(sv_j, x) + intercept_`` of the samples in X."""
        X = self._validate_for_predict(X)
        coef = self._dense_dual_coef()[0]
        out = np.empty(_num_samples(X))
        for rows, Kr in self._kernel_blocks(X):
            out[rows] = Kr @ coef + self._intercept_[0]
        return out

    @property
    def coef_(self):
        """Weights of the features of the decision function (kernel='linear' only).

        A read-only array of shape (1, n_features), computed from ``dual_coef_`` and
        ``support_vectors_``; AttributeError for the other kernels.
        """
        return self._coef()

    @property
    def n_support_(self):
        """Number of support vectors, an int32 array of shape (1,)."""
        return self._n_support_value()[:1]


class _BaseSVR(RegressorMixin, _BaseOneProblem):
    """The regressors: one problem on real targets."""

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the regressor: one certified SMO problem.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or (n_samples, n_samples)
            Training inputs (sparse: taken as CSR); the Gram matrix for kernel='precomputed'; any
            inputs the kernel accepts for a callable kernel.
        y : array-like of shape (n_samples,)
            Real targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights: sample i's dual bounds are C * sample_weight[i]. Samples of weight
            <= 0 are left out, as LIBSVM does.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        # _solve <- _fit_problem <- fit <- scikit-learn's _fit_context wrapper <- the caller
        self._fit_problem(X, y, sample_weight, 5)
        return self

    def predict(self, X):
        """Predicted targets ``f(x) = sum_j dual_coef_j K(sv_j, x) + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or (n_samples, n_train)
            Inputs (sparse only for a model fitted on sparse data, or a callable kernel); for
            kernel='precomputed' the kernel values against the training samples.

        Returns
        -------
        ndarray of shape (n_samples,)
            The predicted targets.
        """
        return self._decision_values(X)


class SVR(_BaseSVR):
    """Epsilon-support vector regression: scikit-learn's ``SVR``, solved by glopt's SMO and certified.

    The same constructor, defaults, validation, fitted attributes and predictions as
    :class:`sklearn.svm.SVR` (the differences are listed in the module docstring of
    :mod:`glopt.svm`); the problem, in LIBSVM's 2n-variable form, is solved by
    :func:`glopt.smo.solve` with ``n_jobs`` threads and certified by
    :func:`glopt.certify.certify`.

    Parameters
    ----------
    kernel : {'linear', 'poly', 'rbf', 'sigmoid', 'precomputed'} or callable, default='rbf'
        The kernel, as in :class:`SVC`: a callable ``kernel(A, B)`` returns the Gram block of
        shape (len(A), len(B)) and is solved as a precomputed kernel, at Python speed; every Gram
        matrix must be symmetric positive semi-definite.
    degree : int >= 0, default=3
        Degree of the polynomial kernel.
    gamma : {'scale', 'auto'} or float >= 0, default='scale'
        Kernel coefficient of rbf, poly and sigmoid: 'scale' is 1 / (n_features * X.var()), 'auto'
        1 / n_features (resolved in ``_gamma``).
    coef0 : float, default=0.0
        Constant term of the poly and sigmoid kernels.
    tol : float >= 1e-15, default=1e-3
        Stopping tolerance of the SMO: the maximal KKT violation m(a) - M(a) (LIBSVM's eps).
    C : float > 0, default=1.0
        Regularization parameter: sample i's dual bounds are C * sample_weight[i]. ``C=np.inf``
        is solved with the bound ``C_INF``.
    epsilon : float >= 0, default=0.1
        Width of the insensitive tube: errors within it are not penalized.
    shrinking : bool, default=True
        LIBSVM's shrinking heuristic.
    cache_size : float > 0, default=200
        Kernel cache of the SMO in MB.
    verbose : bool, default=False
        Print the SMO's progress.
    max_iter : int >= 1 or -1, default=-1
        Iteration cap of the SMO; -1 is LIBSVM's cap max(10,000,000, 200 n) for n samples.
        Reaching it sets ``fit_status_ = 1`` with scikit-learn's ConvergenceWarning.
    n_jobs : int or None, default=None
        OpenMP threads of the SMO's kernel columns (None: all; -k: all but k - 1). The answer
        does not depend on it.
    divide : None, 'auto' or int >= 1, default=None
        None: the plain SMO, LIBSVM's iterations. 'auto' or k: each problem solved by divide
        and conquer (:func:`glopt.smo.solve_dc`: k-means clusters, seeded, their problems
        solved first, then the whole problem from the union of their answers), with k clusters
        or as many as make each cluster's kernel matrix fit ``cache_size`` ('auto': one per
        5,120 samples at 200 MB). The answer is the same problem's to the stopping
        rule and is certified as any, but the path is not LIBSVM's: it agrees with scikit-learn's
        to the tolerance, not to rounding. Its speed against the plain SMO is measured in
        the SMO documentation; not for a precomputed or callable kernel.
    working_set : None, 'auto' or int >= 2, default='auto'
        None: LIBSVM's pairs. An integer q: each problem solved by blocked working sets of q
        variables first (``glopt.smo.solve``'s ``working_set``: a local SMO per set on its
        kernel block, the kernel rows in float, kept in ``cache_size`` megabytes), then the
        engine's exact finish. 'auto': blocked working sets (512 variables, 1,024 from
        100,000 samples) for problems of at least ``glopt.smo.BLOCKED_MIN_VARIABLES`` dual
        variables (40,000: samples, twice the samples for SVR and nu-SVR; where they are
        measured faster than LIBSVM's pairs), on dense data (or sparse data dense enough to
        be made dense) with a named kernel other than 'precomputed'; LIBSVM's pairs
        otherwise, so that smaller problems have scikit-learn's answers to rounding. A
        blocked answer agrees with scikit-learn's to the tolerance, not to rounding, and is
        certified as any.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features)
        Weights of the features (kernel='linear' only), read-only.
    dual_coef_ : ndarray of shape (1, n_SV)
        Coefficients alpha - alpha* of the support vectors in the decision function.
    fit_status_ : int
        0 if the problem met its stopping rule, 1 if it stopped at max_iter.
    intercept_ : ndarray of shape (1,)
        Constant of the decision function.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape ``(n_features_in_,)``
        Names of the features seen in fit (only when X has string column names).
    n_iter_ : int
        SMO iterations.
    n_support_ : ndarray of int32, shape (1,)
        Number of support vectors.
    shape_fit_ : tuple of int
        Shape of the training inputs.
    support_ : ndarray of int32, shape (n_SV,)
        Indices of the support vectors in the training set.
    support_vectors_ : ndarray of shape (n_SV, n_features)
        The support vectors (empty for a precomputed or callable kernel).
    certificate_ : list of glopt.certify.Certificate
        The certificate of the problem (a list of one), computed from the answer and the data
        alone.
    certified_ : ndarray of bool, shape (1,)
        Whether the certificate confirms the stopping rule: KKT residual and infeasibility at
        most tol.

    See Also
    --------
    NuSVR : nu-support vector regression.
    SVC : C-support vector classification.
    sklearn.svm.SVR : The estimator this one replaces.
    glopt.estimators.GLSVR : The regressor with the generalized loss.

    Examples
    --------
    >>> import numpy as np
    >>> from glopt.svm import SVR
    >>> X = np.linspace(0.0, 3.0, 60)[:, None]
    >>> reg = SVR(C=10.0).fit(X, np.sin(X).ravel())
    >>> bool(reg.certified_.all()), reg.dual_coef_.shape[0]
    (True, 1)
    """

    _task = "svr"

    _parameter_constraints: dict = {
        **_BaseLibSVM._parameter_constraints,
        "epsilon": [Interval(Real, 0.0, None, closed="left")],
    }

    def __init__(self, *, kernel="rbf", degree=3, gamma="scale", coef0=0.0, tol=1e-3, C=1.0, epsilon=0.1,
                 shrinking=True, cache_size=200, verbose=False, max_iter=-1, n_jobs=None, divide=None,
                 working_set="auto"):
        self.kernel = kernel
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.tol = tol
        self.C = C
        self.epsilon = epsilon
        self.shrinking = shrinking
        self.cache_size = cache_size
        self.verbose = verbose
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.divide = divide
        self.working_set = working_set

    def _problem_params(self) -> dict:
        return {"C": self._bound_C(), "epsilon": float(self.epsilon)}


class NuSVR(_BaseSVR):
    """Nu-support vector regression: scikit-learn's ``NuSVR``, solved by glopt's SMO and certified.

    The same constructor, defaults, validation, fitted attributes and predictions as
    :class:`sklearn.svm.NuSVR` (the differences are listed in the module docstring of
    :mod:`glopt.svm`); the problem, LIBSVM's nu-SVR in its 2n-variable form, is solved by
    :func:`glopt.smo.solve` (LIBSVM's ``Solver_NU``) with ``n_jobs`` threads and certified by
    :func:`glopt.certify.certify`.

    Parameters
    ----------
    nu : float in (0, 1], default=0.5
        An upper bound on the fraction of training errors and a lower bound on the fraction of
        support vectors; it replaces the tube width epsilon of :class:`SVR`, which the solve
        finds (``-r`` of LIBSVM).
    C : float > 0, default=1.0
        Regularization parameter: sample i's dual bounds are C * sample_weight[i]. ``C=np.inf``
        is solved with the bound ``C_INF``.
    kernel : {'linear', 'poly', 'rbf', 'sigmoid', 'precomputed'} or callable, default='rbf'
        The kernel, as in :class:`SVC`: a callable ``kernel(A, B)`` returns the Gram block of
        shape (len(A), len(B)) and is solved as a precomputed kernel, at Python speed; every Gram
        matrix must be symmetric positive semi-definite.
    degree : int >= 0, default=3
        Degree of the polynomial kernel.
    gamma : {'scale', 'auto'} or float >= 0, default='scale'
        Kernel coefficient of rbf, poly and sigmoid: 'scale' is 1 / (n_features * X.var()), 'auto'
        1 / n_features (resolved in ``_gamma``).
    coef0 : float, default=0.0
        Constant term of the poly and sigmoid kernels.
    shrinking : bool, default=True
        LIBSVM's shrinking heuristic.
    tol : float >= 1e-15, default=1e-3
        Stopping tolerance of the SMO: the maximal KKT violation m(a) - M(a) (LIBSVM's eps).
    cache_size : float > 0, default=200
        Kernel cache of the SMO in MB.
    verbose : bool, default=False
        Print the SMO's progress.
    max_iter : int >= 1 or -1, default=-1
        Iteration cap of the SMO; -1 is LIBSVM's cap max(10,000,000, 200 n) for n samples.
        Reaching it sets ``fit_status_ = 1`` with scikit-learn's ConvergenceWarning.
    n_jobs : int or None, default=None
        OpenMP threads of the SMO's kernel columns (None: all; -k: all but k - 1). The answer
        does not depend on it.
    divide : None, 'auto' or int >= 1, default=None
        None: the plain SMO, LIBSVM's iterations. 'auto' or k: each problem solved by divide
        and conquer (:func:`glopt.smo.solve_dc`: k-means clusters, seeded, their problems
        solved first, then the whole problem from the union of their answers), with k clusters
        or as many as make each cluster's kernel matrix fit ``cache_size`` ('auto': one per
        5,120 samples at 200 MB). The answer is the same problem's to the stopping
        rule and is certified as any, but the path is not LIBSVM's: it agrees with scikit-learn's
        to the tolerance, not to rounding. Its speed against the plain SMO is measured in
        the SMO documentation; not for a precomputed or callable kernel.
    working_set : None, 'auto' or int >= 2, default='auto'
        None: LIBSVM's pairs. An integer q: each problem solved by blocked working sets of q
        variables first (``glopt.smo.solve``'s ``working_set``: a local SMO per set on its
        kernel block, the kernel rows in float, kept in ``cache_size`` megabytes), then the
        engine's exact finish. 'auto': blocked working sets (512 variables, 1,024 from
        100,000 samples) for problems of at least ``glopt.smo.BLOCKED_MIN_VARIABLES`` dual
        variables (40,000: samples, twice the samples for SVR and nu-SVR; where they are
        measured faster than LIBSVM's pairs), on dense data (or sparse data dense enough to
        be made dense) with a named kernel other than 'precomputed'; LIBSVM's pairs
        otherwise, so that smaller problems have scikit-learn's answers to rounding. A
        blocked answer agrees with scikit-learn's to the tolerance, not to rounding, and is
        certified as any.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features)
        Weights of the features (kernel='linear' only), read-only.
    dual_coef_ : ndarray of shape (1, n_SV)
        Coefficients alpha - alpha* of the support vectors in the decision function.
    fit_status_ : int
        0 if the problem met its stopping rule, 1 if it stopped at max_iter.
    intercept_ : ndarray of shape (1,)
        Constant of the decision function.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape ``(n_features_in_,)``
        Names of the features seen in fit (only when X has string column names).
    n_iter_ : int
        SMO iterations.
    n_support_ : ndarray of int32, shape (1,)
        Number of support vectors.
    shape_fit_ : tuple of int
        Shape of the training inputs.
    support_ : ndarray of int32, shape (n_SV,)
        Indices of the support vectors in the training set.
    support_vectors_ : ndarray of shape (n_SV, n_features)
        The support vectors (empty for a precomputed or callable kernel).
    certificate_ : list of glopt.certify.Certificate
        The certificate of the problem (a list of one), computed from the answer, LIBSVM's r and
        the data alone.
    certified_ : ndarray of bool, shape (1,)
        Whether the certificate confirms the stopping rule: KKT residual and infeasibility at
        most tol.

    See Also
    --------
    SVR : Epsilon-support vector regression.
    sklearn.svm.NuSVR : The estimator this one replaces.

    Examples
    --------
    >>> import numpy as np
    >>> from glopt.svm import NuSVR
    >>> X = np.linspace(0.0, 3.0, 60)[:, None]
    >>> reg = NuSVR(nu=0.3, C=10.0).fit(X, np.sin(X).ravel())
    >>> bool(reg.certified_.all()), reg.dual_coef_.shape[0]
    (True, 1)
    """

    _task = "nu_svr"

    _parameter_constraints: dict = {
        **_BaseLibSVM._parameter_constraints,
        "nu": [Interval(Real, 0.0, 1.0, closed="right")],
    }

    def __init__(self, *, nu=0.5, C=1.0, kernel="rbf", degree=3, gamma="scale", coef0=0.0, shrinking=True,
                 tol=1e-3, cache_size=200, verbose=False, max_iter=-1, n_jobs=None, divide=None,
                 working_set="auto"):
        self.nu = nu
        self.C = C
        self.kernel = kernel
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.shrinking = shrinking
        self.tol = tol
        self.cache_size = cache_size
        self.verbose = verbose
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.divide = divide
        self.working_set = working_set

    def _problem_params(self) -> dict:
        return {"C": self._bound_C(), "nu": float(self.nu)}


# --------------------------------------------------------------------------------------
# Novelty detection: the one-class SVM
# --------------------------------------------------------------------------------------
class OneClassSVM(OutlierMixin, _BaseOneProblem):
    """Unsupervised outlier detection: scikit-learn's ``OneClassSVM``, solved by glopt's SMO and certified.

    The same constructor, defaults, validation, fitted attributes, decision values and
    predictions as :class:`sklearn.svm.OneClassSVM` (the differences are listed in the module
    docstring of :mod:`glopt.svm`); the problem, LIBSVM's one-class SVM, is solved by
    :func:`glopt.smo.solve` with ``n_jobs`` threads and certified by
    :func:`glopt.certify.certify`.

    Parameters
    ----------
    kernel : {'linear', 'poly', 'rbf', 'sigmoid', 'precomputed'} or callable, default='rbf'
        The kernel, as in :class:`SVC`: a callable ``kernel(A, B)`` returns the Gram block of
        shape (len(A), len(B)) and is solved as a precomputed kernel, at Python speed; every Gram
        matrix must be symmetric positive semi-definite.
    degree : int >= 0, default=3
        Degree of the polynomial kernel.
    gamma : {'scale', 'auto'} or float >= 0, default='scale'
        Kernel coefficient of rbf, poly and sigmoid: 'scale' is 1 / (n_features * X.var()), 'auto'
        1 / n_features (resolved in ``_gamma``).
    coef0 : float, default=0.0
        Constant term of the poly and sigmoid kernels.
    tol : float >= 1e-15, default=1e-3
        Stopping tolerance of the SMO: the maximal KKT violation m(a) - M(a) (LIBSVM's eps).
    nu : float in (0, 1], default=0.5
        An upper bound on the fraction of training errors (outliers) and a lower bound on the
        fraction of support vectors.
    shrinking : bool, default=True
        LIBSVM's shrinking heuristic.
    cache_size : float > 0, default=200
        Kernel cache of the SMO in MB.
    verbose : bool, default=False
        Print the SMO's progress.
    max_iter : int >= 1 or -1, default=-1
        Iteration cap of the SMO; -1 is LIBSVM's cap max(10,000,000, 100 n) for n samples.
        Reaching it sets ``fit_status_ = 1`` with scikit-learn's ConvergenceWarning.
    n_jobs : int or None, default=None
        OpenMP threads of the SMO's kernel columns (None: all; -k: all but k - 1). The answer
        does not depend on it.
    divide : None, 'auto' or int >= 1, default=None
        None: the plain SMO, LIBSVM's iterations. 'auto' or k: each problem solved by divide
        and conquer (:func:`glopt.smo.solve_dc`: k-means clusters, seeded, their problems
        solved first, then the whole problem from the union of their answers), with k clusters
        or as many as make each cluster's kernel matrix fit ``cache_size`` ('auto': one per
        5,120 samples at 200 MB). The answer is the same problem's to the stopping
        rule and is certified as any, but the path is not LIBSVM's: it agrees with scikit-learn's
        to the tolerance, not to rounding. Its speed against the plain SMO is measured in
        the SMO documentation; not for a precomputed or callable kernel.
    working_set : None, 'auto' or int >= 2, default='auto'
        None: LIBSVM's pairs. An integer q: each problem solved by blocked working sets of q
        variables first (``glopt.smo.solve``'s ``working_set``: a local SMO per set on its
        kernel block, the kernel rows in float, kept in ``cache_size`` megabytes), then the
        engine's exact finish. 'auto': blocked working sets (512 variables, 1,024 from
        100,000 samples) for problems of at least ``glopt.smo.BLOCKED_MIN_VARIABLES`` dual
        variables (40,000: samples, twice the samples for SVR and nu-SVR; where they are
        measured faster than LIBSVM's pairs), on dense data (or sparse data dense enough to
        be made dense) with a named kernel other than 'precomputed'; LIBSVM's pairs
        otherwise, so that smaller problems have scikit-learn's answers to rounding. A
        blocked answer agrees with scikit-learn's to the tolerance, not to rounding, and is
        certified as any.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features)
        Weights of the features (kernel='linear' only), read-only.
    dual_coef_ : ndarray of shape (1, n_SV)
        Coefficients of the support vectors in the decision function.
    fit_status_ : int
        0 if the problem met its stopping rule, 1 if it stopped at max_iter.
    intercept_ : ndarray of shape (1,)
        Constant of the decision function (-rho of LIBSVM).
    offset_ : ndarray of shape (1,)
        ``-intercept_``: ``decision_function = score_samples - offset_``.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape ``(n_features_in_,)``
        Names of the features seen in fit (only when X has string column names).
    n_iter_ : int
        SMO iterations.
    n_support_ : ndarray of int32, shape (1,)
        Number of support vectors.
    shape_fit_ : tuple of int
        Shape of the training inputs.
    support_ : ndarray of int32, shape (n_SV,)
        Indices of the support vectors in the training set.
    support_vectors_ : ndarray of shape (n_SV, n_features)
        The support vectors (empty for a precomputed or callable kernel).
    certificate_ : list of glopt.certify.Certificate
        The certificate of the problem (a list of one), computed from the answer and the data
        alone.
    certified_ : ndarray of bool, shape (1,)
        Whether the certificate confirms the stopping rule: KKT residual and infeasibility at
        most tol.

    See Also
    --------
    SVC : C-support vector classification.
    sklearn.svm.OneClassSVM : The estimator this one replaces.

    Notes
    -----
    The problem is LIBSVM's one-class dual  min 0.5 a^T K a  subject to
    0 <= a_i <= sample_weight_i and sum a_i = nu sum(sample_weight); the decision function is
    ``sum_j a_j K(x_j, x) - rho``.

    Examples
    --------
    >>> import numpy as np
    >>> from glopt.svm import OneClassSVM
    >>> X = np.random.default_rng(0).normal(size=(100, 2))
    >>> det = OneClassSVM(nu=0.1, gamma=0.1).fit(X)
    >>> det.predict([[0.0, 0.0], [6.0, 6.0]]).tolist(), bool(det.certified_.all())
    ([1, -1], True)
    """

    _task = "one_class"

    _parameter_constraints: dict = {
        **{name: rule for name, rule in _BaseLibSVM._parameter_constraints.items() if name != "C"},
        "nu": [Interval(Real, 0.0, 1.0, closed="right")],
    }

    def __init__(self, *, kernel="rbf", degree=3, gamma="scale", coef0=0.0, tol=1e-3, nu=0.5, shrinking=True,
                 cache_size=200, verbose=False, max_iter=-1, n_jobs=None, divide=None,
                 working_set="auto"):
        self.kernel = kernel
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.tol = tol
        self.nu = nu
        self.shrinking = shrinking
        self.cache_size = cache_size
        self.verbose = verbose
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.divide = divide
        self.working_set = working_set

    def _problem_params(self) -> dict:
        return {"nu": float(self.nu)}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fit the one-class SVM: one certified SMO problem on the samples of positive weight.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or (n_samples, n_samples)
            Training inputs (sparse: taken as CSR); the Gram matrix for kernel='precomputed'; any
            inputs the kernel accepts for a callable kernel.
        y : None
            Ignored; present for the API of scikit-learn's estimators.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights: sample i's dual bound is sample_weight[i]. Samples of weight <= 0
            are left out, as LIBSVM does.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        # _solve <- _fit_problem <- fit <- scikit-learn's _fit_context wrapper <- the caller
        self._fit_problem(X, np.ones(_num_samples(X)), sample_weight, 5)
        self.offset_ = -self._intercept_
        return self

    def decision_function(self, X):
        """Signed distance to the separating hyperplane: > 0 for inliers, < 0 for outliers.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or (n_samples, n_train)
            Inputs (sparse only for a model fitted on sparse data, or a callable kernel); for
            kernel='precomputed' the kernel values against the training samples.

        Returns
        -------
        ndarray of shape (n_samples,)
            ``sum_j dual_coef_j K(sv_j, x) + intercept_``.
        """
        return self._decision_values(X)

    def score_samples(self, X):
        """The unshifted decision values, ``decision_function(X) + offset_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or (n_samples, n_train)
            Inputs (sparse only for a model fitted on sparse data, or a callable kernel); for
            kernel='precomputed' the kernel values against the training samples.

        Returns
        -------
        ndarray of shape (n_samples,)
            ``sum_j dual_coef_j K(sv_j, x)``.
        """
        return self.decision_function(X) + self.offset_

    def predict(self, X):
        """+1 for inliers, -1 for outliers (LIBSVM: +1 where the decision value is > 0).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or (n_samples, n_train)
            Inputs (sparse only for a model fitted on sparse data, or a callable kernel); for
            kernel='precomputed' the kernel values against the training samples.

        Returns
        -------
        ndarray of intp, shape (n_samples,)
            The labels +1 and -1.
        """
        return np.where(self.decision_function(X) > 0, 1, -1).astype(np.intp)
