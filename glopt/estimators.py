"""scikit-learn estimators for the generalized loss: GLSVC and GLSVR.

The correlation matrix S is computed on the training inputs *as given*: distances depend on the
feature scales, so use the estimators in a Pipeline after a StandardScaler (the documented
default), as one does for an RBF SVM.

What a fitted estimator promises: every subproblem it solved (one per pair of classes for
GLSVC, one for GLSVR) has a certificate (``certificate_``) and ``certified_`` says whether it
meets ``cert_tol``: KKT (stationarity) residual, infeasibility and relative duality gap all
<= cert_tol. A subproblem that does not certify raises a ConvergenceWarning that says which
quantity failed and what to change.
"""
from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.svm._base import _one_vs_one_coef
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import _ovr_decision_function, check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._checks import TOL_MIN, _is_sparse, squared_norms
from .generalized import SOLVERS, solve_generalized
from .kernels import Correlation, Kernel, RandomFeatureCorrelation, _sparse_squared_norms, as_csr, resolve_gamma, scale_gamma_s
from .problem import SVMProblem

#: Default of ``cert_tol``, the tolerance at which every fitted subproblem certifies (or warns).
CERT_TOL = 1e-3


class _BaseGL(BaseEstimator):
    """Shared parameters, validation and the solve of one binary / regression problem."""

    _task = "svc"

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0.0, None, closed="neither")],
        "kernel": [StrOptions({"linear", "rbf", "poly", "precomputed"})],
        "gamma": [StrOptions({"scale", "auto"}), Interval(Real, 0.0, None, closed="neither")],
        "degree": [Interval(Integral, 1, None, closed="left")],
        "coef0": [Interval(Real, None, None, closed="neither")],
        "s_kernel": [StrOptions({"G", "Q", "M", "I"})],
        "gamma_s": [StrOptions({"scale"}), Interval(Real, 0.0, None, closed="neither")],
        "matern_nu": [Options(Real, {0.5, 1.5, 2.5})],
        "rq_alpha": [Interval(Real, 0.0, None, closed="neither")],
        "p": [Options(Integral, {1, 2})],
        "eps": [Interval(Real, 0.0, None, closed="neither")],
        "solver": [StrOptions(set(SOLVERS))],
        "tol": [Interval(Real, TOL_MIN, None, closed="left")],
        "mm_tol": [Interval(Real, 0.0, None, closed="neither")],
        "max_iter": [Interval(Integral, -1, None, closed="left")],
        "mm_max_iter": [Interval(Integral, 1, None, closed="left")],
        "accelerate": ["boolean"],
        "cert_tol": [Interval(Real, 0.0, None, closed="neither")],
        "cache_size": [Interval(Real, 0.0, None, closed="neither")],
        "shrinking": ["boolean"],
        "n_jobs": [Integral, None],
        "s_approx": [StrOptions({"rff"}), None],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, *, C, kernel, gamma, degree, coef0, s_kernel, gamma_s, matern_nu, rq_alpha, p,
                 eps, solver, tol, mm_tol, max_iter, mm_max_iter, accelerate, cert_tol, cache_size, shrinking, n_jobs,
                 s_approx, n_components, random_state, verbose):
        # scikit-learn reads the parameters from each estimator's own signature; the values are
        # stored here once for both, unchanged (validation happens in fit)
        self.C = C
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.s_kernel = s_kernel
        self.gamma_s = gamma_s
        self.matern_nu = matern_nu
        self.rq_alpha = rq_alpha
        self.p = p
        self.eps = eps
        self.solver = solver
        self.tol = tol
        self.mm_tol = mm_tol
        self.max_iter = max_iter
        self.mm_max_iter = mm_max_iter
        self.accelerate = accelerate
        self.cert_tol = cert_tol
        self.cache_size = cache_size
        self.shrinking = shrinking
        self.n_jobs = n_jobs
        self.s_approx = s_approx
        self.n_components = n_components
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self):
        """The rules scikit-learn's constraints cannot state (run after them, in fit)."""
        for name in ("degree", "p", "max_iter", "mm_max_iter", "n_components", "n_jobs"):
            if isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"The '{name}' parameter of {type(self).__name__} must be an integer, "
                                 f"got {getattr(self, name)!r}")
        if self.max_iter == 0:
            raise ValueError(f"The 'max_iter' parameter of {type(self).__name__} must be -1 (no limit "
                             "but LIBSVM's cap) or an integer >= 1, got 0")
        if self.n_jobs == 0:
            raise ValueError(f"The 'n_jobs' parameter of {type(self).__name__} must be None or a nonzero "
                             "integer, got 0")
        if self.solver == "paper" and self.p != 1:
            raise ValueError("solver='paper' exists for p=1 only (p=2 is convex and solved exactly)")
        if self.s_approx == "rff" and self.s_kernel == "I":
            raise ValueError("s_approx='rff' needs s_kernel in {'G', 'Q', 'M'}")
        if self.kernel == "precomputed" and self.s_kernel != "I":
            raise ValueError("kernel='precomputed' gives no inputs to compute S on: use s_kernel='I'")

    # -- helpers ------------------------------------------------------------------------------
    def _accept_sparse(self):
        """scipy.sparse inputs are converted to CSR, except for a precomputed Gram matrix (dense
        only, as the SMO takes it): validate_data then refuses sparse X by name."""
        return False if self.kernel == "precomputed" else "csr"

    def _validate_X(self, X):
        """Inputs whose squared norms overflow make every kernel value NaN: refuse them by name.
        Sparse inputs come back in the canonical CSR form (sorted indices, no duplicates) the
        kernels and S compute on."""
        if self.kernel == "precomputed":
            return X
        if _is_sparse(X):
            X = as_csr(X, "X")
            _sparse_squared_norms(X, "X")
        else:
            squared_norms(X, "X")
        return X

    def _kernel_for(self, X) -> Kernel:
        self._gamma = resolve_gamma(self.gamma, X)
        kernel = Kernel(self.kernel, gamma=self._gamma, degree=self.degree, coef0=self.coef0)
        kernel.check_data(X)
        return kernel

    def _gamma_s_for(self, X) -> float:
        if self.s_kernel == "I":
            return 1.0
        if self.gamma_s != "scale":
            return float(self.gamma_s)
        return scale_gamma_s(X, self.s_kernel, nu=self.matern_nu, alpha=self.rq_alpha)

    def _correlation(self, X, y_mask):
        """S on the rows X, as an operator (blocks or random features) or None for the identity."""
        if self.s_kernel == "I":
            return None
        kw = dict(y=y_mask, nu=self.matern_nu, alpha=self.rq_alpha)
        if self.s_approx == "rff":
            return RandomFeatureCorrelation(X, self.s_kernel, self.gamma_s_, n_components=self.n_components,
                                            random_state=self.random_state, **kw)
        return Correlation(X, self.s_kernel, self.gamma_s_, n_jobs=self.n_jobs, **kw)

    def _solve(self, X, y, weights, y_mask):
        """Solve one binary (svc, y in +-1) or regression problem; returns (result, certificate)."""
        problem = SVMProblem(X, y, self._kernel_, self._task, C=self.C, weights=weights,
                             epsilon=getattr(self, "epsilon", 0.1), p=self.p)
        result = solve_generalized(
            problem, self._correlation(X, y_mask), solver=self.solver, eps=self.eps, tol=self.tol,
            mm_tol=self.mm_tol, mm_max_iter=self.mm_max_iter, accelerate=self.accelerate,
            cert_tol=self.cert_tol, smo_options=self._smo_options(),
            callback=_print_step if self.verbose else None)
        return result, result.extra["certificate"]

    def _smo_options(self) -> dict:
        """The SMO's options: max_iter=-1 is LIBSVM's cap max(10^7, 100 l) (glopt.smo's default)."""
        return dict(cache_size=self.cache_size, shrinking=self.shrinking, n_jobs=self.n_jobs,
                    max_iter=None if self.max_iter == -1 else self.max_iter)

    @property
    def coef_(self):
        """Weights of the features in the decision function(s), for kernel='linear' only.

        Returns
        -------
        ndarray of shape (n_problems, n_features)
            ``dual_coef_`` times ``support_vectors_`` per subproblem, in scikit-learn's layout (a
            decision function is X @ coef_[k] + intercept_[k]); dense also after a sparse fit.
        """
        if self.kernel != "linear":
            raise AttributeError("coef_ is only available when using a linear kernel")
        check_is_fitted(self)
        return self._linear_coef()

    def _store(self, results, certificates, labels):
        """Fitted attributes of the solves, and the promise: certified, or a ConvergenceWarning."""
        self.n_iter_ = np.array([r.n_iter for r in results], dtype=np.int32)
        self.objective_history_ = [
            r.extra["history"].record() if "history" in r.extra else _single_record(r.objective)
            for r in results]
        self.certificate_ = certificates
        self.certified_ = np.array([c.ok(self.cert_tol) for c in certificates], dtype=bool)
        for res, cert, label, ok in zip(results, certificates, labels, self.certified_):
            if not ok:
                # _store <- fit <- scikit-learn's _fit_context wrapper <- the caller
                warnings.warn(_uncertified_message(self, res, cert, label), ConvergenceWarning, stacklevel=4)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.kernel == "precomputed"
        tags.input_tags.sparse = self.kernel != "precomputed"
        return tags

    def _kernel_rows(self, X):
        X = validate_data(self, X, reset=False, dtype=np.float64, accept_sparse=self._accept_sparse())
        if self.kernel == "precomputed":
            if X.shape[1] != self.shape_fit_[0]:
                raise ValueError(f"X must have {self.shape_fit_[0]} columns (one per training sample) "
                                 f"for kernel='precomputed', got {X.shape[1]}")
            return X[:, self.support_]
        return self._kernel_(self.support_vectors_, self._validate_X(X))


def _print_step(step) -> None:
    print(f"[glopt] MM step: objective {step.objective:.10g}, weight change "
          f"{step.weight_change:.2e}, inner iterations {step.inner_iterations}"
          + ("" if step.taken else " (not taken: rose within the inner gap)"))


def _single_record(objective):
    rec = np.zeros(1, dtype=[("objective", "f8"), ("true_objective", "f8"), ("inner_gap", "f8"), ("taken", "?")])
    rec[0] = (objective, objective, 0.0, True)
    return rec


def _uncertified_message(est, res, cert, label) -> str:
    """What failed in an uncertified subproblem, and what to change."""
    tol = est.cert_tol
    failed = [f"{name} {value:.2e}" for name, value in (
        ("KKT (stationarity) residual", cert.kkt_violation), ("infeasibility", cert.infeasibility),
        ("relative gap", cert.rel_gap)) if not value <= tol]
    advice = []
    if res.status == "max_iter":
        cap, name = ((est.mm_max_iter, "mm_max_iter") if res.solver.startswith("mm") else (est.max_iter, "max_iter"))
        advice.append(f"raise {name} (now {cap}; the solver stopped there)")
    if est.s_kernel != "I" and est.p == 1 and est.solver == "mm":
        advice.append(f"lower tol (the inner SMO tolerance, now {est.tol:g}) and mm_tol (now {est.mm_tol:g})")
        advice.append("or raise eps (the smoothing, now " f"{est.eps:g})")
    else:
        advice.append(f"lower tol (now {est.tol:g})")
    advice.append(f"or accept a looser cert_tol (now {tol:g})")
    return (f"{type(est).__name__}: the {label} does not certify at cert_tol={tol:g} "
            f"({', '.join(failed)}; solver status {res.status!r}). To certify it, "
            + ", ".join(advice) + ".")


class GLSVC(ClassifierMixin, _BaseGL):
    """Support-vector classifier with the generalized loss sum_ij S_ij xi_i^(p/2) xi_j^(p/2).

    xi_i = max(0, 1 - y_i f(x_i)) are the hinge slacks and S a correlation matrix of the training
    inputs (docs/mathematics.md §1). Multi-class problems are solved one-vs-one, as
    scikit-learn's SVC: one binary problem per pair of classes, each with S computed on that
    pair's samples; prediction by votes (ties to the lowest class index),
    ``decision_function_shape`` as in SVC.

    Parameters
    ----------
    C : float > 0, default=1.0
        Weight of the loss (per-sample C = C * sample_weight).
    kernel : {'linear', 'rbf', 'poly', 'precomputed'}, default='rbf'
        SVM kernel K of the decision function.
    gamma : float > 0 or {'scale', 'auto'}, default='scale'
        Kernel coefficient, as in scikit-learn's SVC ('scale': 1 / (n_features * X.var())).
    degree : int >= 1, default=3
        Degree of the polynomial kernel.
    coef0 : float, default=0.0
        Constant term of the polynomial kernel.
    s_kernel : {'G', 'Q', 'M', 'I'}, default='G'
        Correlation kernel of the loss: Gaussian, rational quadratic, Matern, identity
        (identity = the standard SVM loss).
    gamma_s : float > 0 or 'scale', default='scale'
        Inverse squared length scale of S. 'scale' (:func:`glopt.kernels.scale_gamma_s`) is the
        gamma_s at which S's mean row sum over each sample's distinct neighbours is 1 (row sums
        about 2 with the diagonal), computed on the training inputs: with all slacks zero the MM
        weights are C times the row sums of S, so this keeps the loss between the standard SVM
        (row sums 1, large gamma_s) and a near-hard-margin SVM (row sums in the tens or more,
        small gamma_s) at any n. Grid over multiples of the 'scale' value (``gamma_s_``).
    matern_nu : {0.5, 1.5, 2.5}, default=1.5
        Order of the Matern kernel (s_kernel='M').
    rq_alpha : float > 0, default=1.0
        Shape of the rational quadratic kernel (s_kernel='Q').
    p : {1, 2}, default=1
        Order of the loss: 1 is the loss of arXiv 2601.21331 (non-convex, solved by MM), 2 the
        convex generalized quadratic loss xi^T S xi (solved exactly, :mod:`glopt.quadratic`).
    eps : float > 0, default=1e-4
        Smoothing of the square roots of the p = 1 loss (margin units); the inner solver runs at
        tol <= 0.1 * eps.
    class_mask : bool, default=False
        Target-space separation: S_ij = 0 for samples of different classes.
    class_weight : dict, 'balanced' or None, default=None
        Per-class factors of the per-sample bounds, as in scikit-learn's SVC: C * class_weight[c]
        * sample_weight for the samples of class c; 'balanced' is n_samples / (n_classes *
        bincount(y)).
    solver : {'mm', 'paper'}, default='mm'
        'paper' is the paper's single-loop scheme, kept for comparison only (not convergent).
    tol : float >= 1e-15, default=1e-5
        Stopping tolerance of the SVM solver (SMO: maximal KKT violation); for p = 1 and S != I
        the inner tolerance is min(tol, 0.1 * eps), tightened by MM where its steps need it.
    mm_tol : float > 0, default=1e-6
        MM stops when the relative objective decrease is below mm_tol and the final certificate
        meets cert_tol (or the inner accuracy allows no further progress).
    max_iter : int, default=-1
        Iteration cap of each SMO solve (every MM step is one); -1 is LIBSVM's cap
        max(10^7, 100 n) (glopt.smo's default).
    mm_max_iter : int >= 1, default=100
        Maximal number of MM steps.
    accelerate : bool, default=True
        Extrapolated MM: each step's majorizer touches the loss at x + beta (x - x_prev)
        (Nesterov's sequence of beta, restarted whenever that point is not lower than x): every
        taken step still decreases the loss, and large problems need several times fewer steps
        to a certified answer (benchmarks/bench_glsvc.py). False: plain MM (majorizer at the
        current iterate), which may end at another stationary point.
    cert_tol : float > 0, default=1e-3
        The promise of a fit: every subproblem's certificate (KKT residual, infeasibility and
        relative duality gap) is <= cert_tol, recorded in ``certified_``; a ConvergenceWarning
        names each subproblem that does not meet it.
    cache_size : float > 0, default=200
        Kernel cache of the SMO in MB.
    shrinking : bool, default=True
        LIBSVM's shrinking heuristic in the SMO.
    n_jobs : int or None, default=None
        OpenMP threads for kernel columns and S products (None: all; capped at the CPUs).
    s_approx : {None, 'rff'}, default=None
        'rff': approximate S by random Fourier features (memory O(n * n_components)). Each entry
        of S is then off by about sqrt(2 / n_components): a good approximation of a wide S (small
        gamma_s, entries near 1), a poor one of a narrow S such as the 'scale' default, whose
        off-diagonal entries are mostly far smaller than that error.
    n_components : int >= 1, default=500
        Number of random features when s_approx='rff'.
    random_state : int, RandomState or None, default=None
        Seed of the random features (the only randomness).
    decision_function_shape : {'ovr', 'ovo'}, default='ovr'
        Shape of decision_function for more than two classes, as in scikit-learn's SVC.
    verbose : bool or int, default=False
        Print one line per MM step.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    class_weight_ : ndarray of shape (n_classes,)
        The factor of each class in the per-sample bounds (ones for class_weight=None).
    support_ : ndarray of int32, shape (n_SV,)
        Indices of the support vectors in the training set, grouped by class (as in SVC).
    support_vectors_ : ndarray or scipy.sparse CSR matrix of shape (n_SV, n_features)
        The support vectors (empty for kernel='precomputed'); a CSR matrix when fitted on sparse
        inputs, as in scikit-learn's SVC.
    n_support_ : ndarray of int32, shape (n_classes,)
        Number of support vectors of each class.
    dual_coef_ : ndarray of shape (n_classes - 1, n_SV)
        Coefficients of the support vectors in the decision functions, in LIBSVM's one-vs-one
        layout (binary: decision_function > 0 predicts classes_[1]).
    intercept_ : ndarray of shape (n_classes * (n_classes - 1) / 2,)
        Bias of each pairwise decision function.
    shape_fit_ : tuple of int
        Shape of the training inputs.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape ``(n_features_in_,)``
        Names of the features seen in fit (only when X has string column names).
    n_iter_ : ndarray of shape (n_problems,)
        MM steps (or SMO iterations for s_kernel='I') per subproblem.
    objective_history_ : list of structured ndarray
        Per subproblem, every MM step: fields ``objective`` (the smoothed objective J_eps),
        ``true_objective`` (J), ``inner_gap`` and ``taken``; ``h["objective"][h["taken"]]`` is the
        decreasing path that ends at the returned model (a step not taken rose within its inner
        duality gap and was discarded).
    certificate_ : list of glopt.certify.Certificate
        Per subproblem: for p = 1 the certificate of the last weighted SVM with the weights
        recomputed at the final slacks (``kkt_violation`` is the stationarity residual of the
        generalized-loss problem); for p = 2 and s_kernel='I' the optimality certificate.
    certified_ : ndarray of bool, shape (n_problems,)
        Whether each certificate meets cert_tol (``certificate_[k].ok(cert_tol)``); a
        ConvergenceWarning was raised for each False.
    gamma_s_ : float
        The gamma_s used (the 'scale' rule resolved on the training inputs).
    coef_ : ndarray of shape (n_problems, n_features)
        Weights of the features, for kernel='linear' only (AttributeError otherwise), as in
        scikit-learn's SVC / SVR.

    See Also
    --------
    GLSVR : The regression counterpart.
    sklearn.svm.SVC : The standard loss (s_kernel='I' solves the same problem).

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from glopt import GLSVC
    >>> X, y = make_classification(n_samples=100, random_state=0)
    >>> model = make_pipeline(StandardScaler(), GLSVC()).fit(X, y)
    >>> bool(model[-1].certified_.all())
    True
    """

    _parameter_constraints: dict = {
        **_BaseGL._parameter_constraints,
        "class_mask": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "decision_function_shape": [StrOptions({"ovr", "ovo"})],
    }

    def __init__(self, *, C=1.0, kernel="rbf", gamma="scale", degree=3, coef0=0.0, s_kernel="G",
                 gamma_s="scale", matern_nu=1.5, rq_alpha=1.0, p=1, eps=1e-4, class_mask=False,
                 class_weight=None, solver="mm", tol=1e-5, mm_tol=1e-6, max_iter=-1, mm_max_iter=100, accelerate=True,
                 cert_tol=CERT_TOL,
                 cache_size=200, shrinking=True, n_jobs=None, s_approx=None, n_components=500,
                 random_state=None, decision_function_shape="ovr", verbose=False):
        super().__init__(C=C, kernel=kernel, gamma=gamma, degree=degree, coef0=coef0,
                         s_kernel=s_kernel, gamma_s=gamma_s, matern_nu=matern_nu, rq_alpha=rq_alpha,
                         p=p, eps=eps, solver=solver, tol=tol, mm_tol=mm_tol, max_iter=max_iter,
                         mm_max_iter=mm_max_iter,
                         accelerate=accelerate, cert_tol=cert_tol, cache_size=cache_size,
                         shrinking=shrinking, n_jobs=n_jobs, s_approx=s_approx,
                         n_components=n_components, random_state=random_state, verbose=verbose)
        self.class_mask = class_mask
        self.class_weight = class_weight
        self.decision_function_shape = decision_function_shape

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the classifier: one certified problem per pair of classes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or (n_samples, n_samples)
            Training inputs; the Gram matrix for kernel='precomputed' (dense only). Sparse inputs
            (any scipy.sparse format) are converted to CSR float64.
        y : array-like of shape (n_samples,)
            Class labels (any values, at least two classes).
        sample_weight : array-like of shape (n_samples,), optional
            Nonnegative per-sample weights (the dual bounds are C * sample_weight); samples of
            weight 0 are left out.

        Returns
        -------
        self : GLSVC
            The fitted estimator.
        """
        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float64, order="C", accept_sparse=self._accept_sparse())
        X = self._validate_X(X)
        check_classification_targets(y)
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if np.any(sw < 0):
            raise ValueError("sample_weight must be nonnegative")
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError(f"y contains only one class ({self.classes_[0]!r}); two are needed")
        self.class_weight_ = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        sw = sw * self.class_weight_[y_idx]
        self.shape_fit_ = X.shape
        self._kernel_ = self._kernel_for(X)
        self.gamma_s_ = self._gamma_s_for(X)

        k = self.classes_.size
        pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
        results, certs, models = [], [], []
        for i, j in pairs:
            rows = np.flatnonzero(((y_idx == i) | (y_idx == j)) & (sw > 0))
            yy = np.where(y_idx[rows] == (j if k == 2 else i), 1.0, -1.0)  # binary: +1 = classes_[1]
            if np.unique(yy).size < 2:
                raise ValueError(f"after dropping zero sample weights, the pair of classes "
                                 f"{self.classes_[i]!r}, {self.classes_[j]!r} has only one class")
            res, cert = self._solve(self._kernel_.samples(X, rows), yy, sw[rows], yy if self.class_mask else None)
            results.append(res)
            certs.append(cert)
            models.append((rows, res.coef, res.b))
        labels = (["problem"] if k == 2 else
                  [f"problem of classes {self.classes_[i]!r} and {self.classes_[j]!r}" for i, j in pairs])
        self._store(results, certs, labels)
        self._set_libsvm_layout(X, y_idx, pairs, models)
        return self

    def _set_libsvm_layout(self, X, y_idx, pairs, models):
        """support_, dual_coef_, intercept_ in LIBSVM's (and SVC's) one-vs-one layout."""
        k = self.classes_.size
        sv_mask = np.zeros(X.shape[0], dtype=bool)
        for rows, coef, _ in models:
            sv_mask[rows[coef != 0]] = True
        support = np.concatenate([np.flatnonzero(sv_mask & (y_idx == c)) for c in range(k)])
        self.n_support_ = np.array([np.sum(sv_mask & (y_idx == c)) for c in range(k)], dtype=np.int32)
        pos = {s: t for t, s in enumerate(support)}
        dual = np.zeros((k - 1, support.size))
        for (i, j), (rows, coef, _) in zip(pairs, models):
            for r, c in zip(rows, coef):
                if c == 0:
                    continue
                # LIBSVM: coefficients of class i's SVs in row j-1, of class j's SVs in row i
                row = (j - 1) if y_idx[r] == i else i
                dual[row, pos[r]] = c
        self.support_ = support.astype(np.int32)
        self.support_vectors_ = X[support] if self.kernel != "precomputed" else np.empty((0, 0))
        self.dual_coef_ = dual
        self.intercept_ = np.array([b for _, _, b in models])
        self._pairs = pairs

    def _linear_coef(self):
        if self.classes_.size == 2:
            return self.dual_coef_ @ self.support_vectors_
        return np.asarray(_one_vs_one_coef(self.dual_coef_, self.n_support_, self.support_vectors_))

    def _pair_decisions(self, X):
        Kr = self._kernel_rows(X)  # (n_test, n_SV)
        k = self.classes_.size
        starts = np.concatenate([[0], np.cumsum(self.n_support_)])
        out = np.empty((Kr.shape[0], len(self._pairs)))
        for t, (i, j) in enumerate(self._pairs):
            si, sj = slice(starts[i], starts[i + 1]), slice(starts[j], starts[j + 1])
            if k == 2:
                out[:, t] = Kr @ self.dual_coef_[0] + self.intercept_[0]
            else:
                out[:, t] = (Kr[:, si] @ self.dual_coef_[j - 1, si] + Kr[:, sj] @ self.dual_coef_[i, sj]
                             + self.intercept_[t])
        return out

    def decision_function(self, X):
        """Decision values of the samples in X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or (n_samples, n_train)
            Inputs (sparse: converted to CSR float64); for kernel='precomputed' the kernel values
            against the training samples (dense only).

        Returns
        -------
        ndarray of shape (n_samples,), (n_samples, n_classes) or (n_samples, n_pairs)
            Binary: > 0 for classes_[1]. Multi-class: (n_samples, n_classes) for
            decision_function_shape='ovr', (n_samples, n_classes (n_classes - 1) / 2) for 'ovo'.
        """
        check_is_fitted(self)
        dec = self._pair_decisions(X)
        if self.classes_.size == 2:
            return dec[:, 0]
        if self.decision_function_shape == "ovr":
            return _ovr_decision_function(dec < 0, -dec, self.classes_.size)
        return dec

    def predict(self, X):
        """Predicted class labels: one-vs-one votes (binary: the sign of decision_function).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or (n_samples, n_train)
            Inputs (sparse: converted to CSR float64); for kernel='precomputed' the kernel values
            against the training samples (dense only).

        Returns
        -------
        ndarray of shape (n_samples,)
            The predicted labels (values of ``classes_``).
        """
        check_is_fitted(self)
        dec = self._pair_decisions(X)
        k = self.classes_.size
        if k == 2:
            return self.classes_[(dec[:, 0] > 0).astype(int)]
        votes = np.zeros((dec.shape[0], k), dtype=int)
        for t, (i, j) in enumerate(self._pairs):
            votes[:, i] += dec[:, t] > 0
            votes[:, j] += dec[:, t] <= 0
        return self.classes_[np.argmax(votes, axis=1)]


# GLSVR's parameter entries repeat GLSVC's on purpose: each estimator's docstring (its help() and
# its API page) is complete on its own, as scikit-learn's SVC and SVR are.
class GLSVR(RegressorMixin, _BaseGL):
    """Support-vector regression with the generalized loss on epsilon-insensitive slacks.

    ``zeta_i = max(0, |y_i - f(x_i)| - epsilon)``; the loss is C sum_ij S_ij zeta_i^(p/2) zeta_j^(p/2)
    with S a correlation matrix of the training inputs (docs/mathematics.md §1).

    Parameters
    ----------
    C : float > 0, default=1.0
        Weight of the loss (per-sample C = C * sample_weight).
    kernel : {'linear', 'rbf', 'poly', 'precomputed'}, default='rbf'
        SVM kernel K of the decision function.
    gamma : float > 0 or {'scale', 'auto'}, default='scale'
        Kernel coefficient, as in scikit-learn's SVC ('scale': 1 / (n_features * X.var())).
    degree : int >= 1, default=3
        Degree of the polynomial kernel.
    coef0 : float, default=0.0
        Constant term of the polynomial kernel.
    epsilon : float >= 0, default=0.1
        Width of the insensitive tube.
    s_kernel : {'G', 'Q', 'M', 'I'}, default='G'
        Correlation kernel of the loss: Gaussian, rational quadratic, Matern, identity
        (identity = the standard SVM loss).
    gamma_s : float > 0 or 'scale', default='scale'
        Inverse squared length scale of S. 'scale' (:func:`glopt.kernels.scale_gamma_s`) is the
        gamma_s at which S's mean row sum over each sample's distinct neighbours is 1 (row sums
        about 2 with the diagonal), computed on the training inputs: with all slacks zero the MM
        weights are C times the row sums of S, so this keeps the loss between the standard SVM
        (row sums 1, large gamma_s) and a near-hard-margin SVM (row sums in the tens or more,
        small gamma_s) at any n. Grid over multiples of the 'scale' value (``gamma_s_``).
    matern_nu : {0.5, 1.5, 2.5}, default=1.5
        Order of the Matern kernel (s_kernel='M').
    rq_alpha : float > 0, default=1.0
        Shape of the rational quadratic kernel (s_kernel='Q').
    p : {1, 2}, default=1
        Order of the loss: 1 is the loss of arXiv 2601.21331 (non-convex, solved by MM), 2 the
        convex generalized quadratic loss xi^T S xi (solved exactly, :mod:`glopt.quadratic`).
    eps : float > 0, default=1e-4
        Smoothing of the square roots of the p = 1 loss (margin units); the inner solver runs at
        tol <= 0.1 * eps.
    solver : {'mm', 'paper'}, default='mm'
        'paper' is the paper's single-loop scheme, kept for comparison only (not convergent).
    tol : float >= 1e-15, default=1e-5
        Stopping tolerance of the SVM solver (SMO: maximal KKT violation); for p = 1 and S != I
        the inner tolerance is min(tol, 0.1 * eps), tightened by MM where its steps need it.
    mm_tol : float > 0, default=1e-6
        MM stops when the relative objective decrease is below mm_tol and the final certificate
        meets cert_tol (or the inner accuracy allows no further progress).
    max_iter : int, default=-1
        Iteration cap of each SMO solve (every MM step is one); -1 is LIBSVM's cap
        max(10^7, 100 n) (glopt.smo's default).
    mm_max_iter : int >= 1, default=100
        Maximal number of MM steps.
    accelerate : bool, default=True
        Extrapolated MM: each step's majorizer touches the loss at x + beta (x - x_prev)
        (Nesterov's sequence of beta, restarted whenever that point is not lower than x): every
        taken step still decreases the loss, and large problems need several times fewer steps
        to a certified answer (benchmarks/bench_glsvc.py). False: plain MM (majorizer at the
        current iterate), which may end at another stationary point.
    cert_tol : float > 0, default=1e-3
        The promise of a fit: every subproblem's certificate (KKT residual, infeasibility and
        relative duality gap) is <= cert_tol, recorded in ``certified_``; a ConvergenceWarning
        names each subproblem that does not meet it.
    cache_size : float > 0, default=200
        Kernel cache of the SMO in MB.
    shrinking : bool, default=True
        LIBSVM's shrinking heuristic in the SMO.
    n_jobs : int or None, default=None
        OpenMP threads for kernel columns and S products (None: all; capped at the CPUs).
    s_approx : {None, 'rff'}, default=None
        'rff': approximate S by random Fourier features (memory O(n * n_components)). Each entry
        of S is then off by about sqrt(2 / n_components): a good approximation of a wide S (small
        gamma_s, entries near 1), a poor one of a narrow S such as the 'scale' default, whose
        off-diagonal entries are mostly far smaller than that error.
    n_components : int >= 1, default=500
        Number of random features when s_approx='rff'.
    random_state : int, RandomState or None, default=None
        Seed of the random features (the only randomness).
    verbose : bool or int, default=False
        Print one line per MM step.

    Attributes
    ----------
    support_ : ndarray of int32, shape (n_SV,)
        Indices of the support vectors in the training set.
    support_vectors_ : ndarray or scipy.sparse CSR matrix of shape (n_SV, n_features)
        The support vectors (empty for kernel='precomputed'); a CSR matrix when fitted on sparse
        inputs, as in scikit-learn's SVC.
    dual_coef_ : ndarray of shape (1, n_SV)
        Coefficients of the support vectors in the decision function.
    intercept_ : ndarray of shape (1,)
        Bias of the decision function.
    shape_fit_ : tuple of int
        Shape of the training inputs.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape ``(n_features_in_,)``
        Names of the features seen in fit (only when X has string column names).
    n_iter_ : ndarray of shape (n_problems,)
        MM steps (or SMO iterations for s_kernel='I') per subproblem.
    objective_history_ : list of structured ndarray
        Per subproblem, every MM step: fields ``objective`` (the smoothed objective J_eps),
        ``true_objective`` (J), ``inner_gap`` and ``taken``; ``h["objective"][h["taken"]]`` is the
        decreasing path that ends at the returned model (a step not taken rose within its inner
        duality gap and was discarded).
    certificate_ : list of glopt.certify.Certificate
        Per subproblem: for p = 1 the certificate of the last weighted SVM with the weights
        recomputed at the final slacks (``kkt_violation`` is the stationarity residual of the
        generalized-loss problem); for p = 2 and s_kernel='I' the optimality certificate.
    certified_ : ndarray of bool, shape (n_problems,)
        Whether each certificate meets cert_tol (``certificate_[k].ok(cert_tol)``); a
        ConvergenceWarning was raised for each False.
    gamma_s_ : float
        The gamma_s used (the 'scale' rule resolved on the training inputs).
    coef_ : ndarray of shape (n_problems, n_features)
        Weights of the features, for kernel='linear' only (AttributeError otherwise), as in
        scikit-learn's SVC / SVR.

    See Also
    --------
    GLSVC : The classification counterpart.
    sklearn.svm.SVR : The standard loss (s_kernel='I' solves the same problem).

    Examples
    --------
    >>> import numpy as np
    >>> from glopt import GLSVR
    >>> X = np.linspace(0.0, 3.0, 60)[:, None]
    >>> model = GLSVR(C=10.0).fit(X, np.sin(X).ravel())
    >>> bool(model.certified_.all())
    True
    """

    _task = "svr"

    _parameter_constraints: dict = {
        **_BaseGL._parameter_constraints,
        "epsilon": [Interval(Real, 0.0, None, closed="left")],
    }

    def __init__(self, *, C=1.0, kernel="rbf", gamma="scale", degree=3, coef0=0.0, epsilon=0.1,
                 s_kernel="G", gamma_s="scale", matern_nu=1.5, rq_alpha=1.0, p=1, eps=1e-4,
                 solver="mm", tol=1e-5, mm_tol=1e-6, max_iter=-1, mm_max_iter=100, accelerate=True,
                 cert_tol=CERT_TOL,
                 cache_size=200, shrinking=True, n_jobs=None, s_approx=None, n_components=500,
                 random_state=None, verbose=False):
        super().__init__(C=C, kernel=kernel, gamma=gamma, degree=degree, coef0=coef0,
                         s_kernel=s_kernel, gamma_s=gamma_s, matern_nu=matern_nu, rq_alpha=rq_alpha,
                         p=p, eps=eps, solver=solver, tol=tol, mm_tol=mm_tol, max_iter=max_iter,
                         mm_max_iter=mm_max_iter,
                         accelerate=accelerate, cert_tol=cert_tol, cache_size=cache_size,
                         shrinking=shrinking, n_jobs=n_jobs, s_approx=s_approx,
                         n_components=n_components, random_state=random_state, verbose=verbose)
        self.epsilon = epsilon

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the regressor: one certified problem.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or (n_samples, n_samples)
            Training inputs; the Gram matrix for kernel='precomputed' (dense only). Sparse inputs
            (any scipy.sparse format) are converted to CSR float64.
        y : array-like of shape (n_samples,)
            Real targets.
        sample_weight : array-like of shape (n_samples,), optional
            Nonnegative per-sample weights (the dual bounds are C * sample_weight); samples of
            weight 0 are left out.

        Returns
        -------
        self : GLSVR
            The fitted estimator.
        """
        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float64, order="C", y_numeric=True,
                             accept_sparse=self._accept_sparse())
        X = self._validate_X(X)
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if np.any(sw < 0):
            raise ValueError("sample_weight must be nonnegative")
        rows = np.flatnonzero(sw > 0)
        if rows.size == 0:
            raise ValueError("sample_weight is zero everywhere: nothing to fit")
        self.shape_fit_ = X.shape
        self._kernel_ = self._kernel_for(X)
        self.gamma_s_ = self._gamma_s_for(X)
        res, cert = self._solve(self._kernel_.samples(X, rows), y[rows], sw[rows], None)
        self._store([res], [cert], ["problem"])
        nz = np.flatnonzero(res.coef)
        self.support_ = rows[nz].astype(np.int32)
        self.support_vectors_ = X[self.support_] if self.kernel != "precomputed" else np.empty((0, 0))
        self.dual_coef_ = res.coef[nz][None, :]
        self.intercept_ = np.array([res.b])
        return self

    def _linear_coef(self):
        return self.dual_coef_ @ self.support_vectors_

    def predict(self, X):
        """Predicted targets ``f(x) = sum_j dual_coef_j K(sv_j, x) + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or (n_samples, n_train)
            Inputs (sparse: converted to CSR float64); for kernel='precomputed' the kernel values
            against the training samples (dense only).

        Returns
        -------
        ndarray of shape (n_samples,)
            The predicted targets.
        """
        check_is_fitted(self)
        return self._kernel_rows(X) @ self.dual_coef_[0] + self.intercept_[0]
