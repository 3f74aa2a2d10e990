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
from dataclasses import replace
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.multiclass import _ovr_decision_function, check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._checks import TOL_MIN, squared_norms
from .certify import certify
from .kernels import Correlation, Kernel, RandomFeatureCorrelation, scale_gamma_s
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
        "solver": [StrOptions({"mm", "paper"})],
        "tol": [Interval(Real, TOL_MIN, None, closed="left")],
        "mm_tol": [Interval(Real, 0.0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
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

    def _check_params(self):
        """The rules scikit-learn's constraints cannot state (run after them, in fit)."""
        for name in ("degree", "p", "max_iter", "n_components", "n_jobs"):
            if isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"The '{name}' parameter of {type(self).__name__} must be an integer, "
                                 f"got {getattr(self, name)!r}")
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
    def _validate_X(self, X):
        """Inputs whose squared norms overflow make every kernel value NaN: refuse them by name."""
        if self.kernel != "precomputed":
            squared_norms(X, "X")
        return X

    def _kernel_for(self, X) -> Kernel:
        gamma = self.gamma
        if gamma == "scale":
            var = X.var()
            gamma = 1.0 / (X.shape[1] * var) if var > 0 else 1.0
        elif gamma == "auto":
            gamma = 1.0 / X.shape[1]
        self._gamma = float(gamma)
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
        from . import smo
        from .mm import SMOInner, gl_weights, solve_mm

        kernel = self._kernel_
        problem = SVMProblem(X, y, kernel, self._task, C=self.C, weights=weights,
                             epsilon=getattr(self, "epsilon", 0.1))
        S = self._correlation(X, y_mask)
        smo_opts = dict(cache_size=self.cache_size, shrinking=self.shrinking, n_jobs=self.n_jobs)
        if self.p == 2:
            from .quadratic import solve_quadratic

            Sd = np.eye(len(y)) if S is None else S.dense()
            problem = replace(problem, p=2, S=Sd)
            result = solve_quadratic(problem, tol=min(self.tol, 1e-8))
            return result, certify(result, problem)
        if S is None:  # the standard loss: one weighted SVM
            result = smo.solve(problem, tol=self.tol, **smo_opts)
            return result, certify(result, problem)
        if self.solver == "paper":
            from .paper import solve_paper

            result = solve_paper(problem, S, eps=self.eps, tol=self.tol)
        else:
            inner = SMOInner(tol=min(self.tol, 0.1 * self.eps), **smo_opts)
            callback = None
            if self.verbose:
                def callback(step):
                    print(f"[glopt] MM step: objective {step.objective:.10g}, weight change "
                          f"{step.weight_change:.2e}, inner iterations {step.inner_iterations}"
                          + ("" if step.taken else " (not taken: rose within the inner gap)"))
            result = solve_mm(problem, S, inner, eps=self.eps, tol=self.mm_tol, max_iter=self.max_iter,
                              callback=callback, cert_tol=self.cert_tol, accelerate=self.accelerate)
            return result, result.extra["certificate"]
        xi = problem.slack(problem.decision(result.coef, result.b))
        final = replace(problem, weights=gl_weights(problem, S, xi, self.eps))
        return result, certify(result, final)

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
        return tags

    def _kernel_rows(self, X):
        X = validate_data(self, X, reset=False, dtype=np.float64)
        if self.kernel == "precomputed":
            if X.shape[1] != self.shape_fit_[0]:
                raise ValueError(f"X must have {self.shape_fit_[0]} columns (one per training sample) "
                                 f"for kernel='precomputed', got {X.shape[1]}")
            return X[:, self.support_]
        return self._kernel_(self.support_vectors_, self._validate_X(X))


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
        advice.append(f"raise max_iter (now {est.max_iter}; the solver stopped there)")
    if est.s_kernel != "I" and est.p == 1 and est.solver == "mm":
        advice.append(f"lower tol (the inner SMO tolerance, now {est.tol:g}) and mm_tol (now {est.mm_tol:g})")
        advice.append("or raise eps (the smoothing, now " f"{est.eps:g})")
    else:
        advice.append(f"lower tol (now {est.tol:g})")
    advice.append(f"or accept a looser cert_tol (now {tol:g})")
    return (f"{type(est).__name__}: the {label} does not certify at cert_tol={tol:g} "
            f"({', '.join(failed)}; solver status {res.status!r}). To certify it, "
            + ", ".join(advice) + ".")


_PARAMS_DOC = """
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
    solver : {'mm', 'paper'}, default='mm'
        'paper' is the paper's single-loop scheme, kept for comparison only (not convergent).
    tol : float >= 1e-15, default=1e-5
        Stopping tolerance of the SVM solver (SMO: maximal KKT violation); for p = 1 and S != I
        the inner tolerance is min(tol, 0.1 * eps), tightened by MM where its steps need it.
    mm_tol : float > 0, default=1e-6
        MM stops when the relative objective decrease is below mm_tol and the final certificate
        meets cert_tol (or the inner accuracy allows no further progress).
    max_iter : int >= 1, default=100
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
"""


_ATTRS_DOC = """
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
"""


class GLSVC(ClassifierMixin, _BaseGL):
    __doc__ = """Support-vector classifier with the generalized loss sum_ij S_ij xi_i^(p/2) xi_j^(p/2).

    Multi-class problems are solved one-vs-one, as scikit-learn's SVC: one binary problem per pair
    of classes, each with S computed on that pair's samples; prediction by votes (ties to the
    lowest class index), ``decision_function_shape`` as in SVC.
    """ + _PARAMS_DOC + """    class_mask : bool, default=False
        Target-space separation: S_ij = 0 for samples of different classes.
    decision_function_shape : {'ovr', 'ovo'}, default='ovr'
        Shape of decision_function for more than two classes, as in SVC.

    Attributes
    ----------
    classes_, support_, support_vectors_, n_support_, dual_coef_, intercept_ : as in SVC
        (binary: decision_function > 0 predicts classes_[1]).
    """ + _ATTRS_DOC

    _parameter_constraints: dict = {
        **_BaseGL._parameter_constraints,
        "class_mask": ["boolean"],
        "decision_function_shape": [StrOptions({"ovr", "ovo"})],
    }

    def __init__(self, C=1.0, kernel="rbf", gamma="scale", degree=3, coef0=0.0, s_kernel="G",
                 gamma_s="scale", matern_nu=1.5, rq_alpha=1.0, p=1, eps=1e-4, class_mask=False,
                 solver="mm", tol=1e-5, mm_tol=1e-6, max_iter=100, accelerate=True, cert_tol=CERT_TOL,
                 cache_size=200, shrinking=True, n_jobs=None, s_approx=None, n_components=500, random_state=None,
                 decision_function_shape="ovr", verbose=False):
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
        self.class_mask = class_mask
        self.solver = solver
        self.tol = tol
        self.mm_tol = mm_tol
        self.max_iter = max_iter
        self.accelerate = accelerate
        self.cert_tol = cert_tol
        self.cache_size = cache_size
        self.shrinking = shrinking
        self.n_jobs = n_jobs
        self.s_approx = s_approx
        self.n_components = n_components
        self.random_state = random_state
        self.decision_function_shape = decision_function_shape
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit on X (n_samples, n_features) and labels y (any values, >= 2 classes)."""
        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float64, order="C")
        self._validate_X(X)
        check_classification_targets(y)
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if np.any(sw < 0):
            raise ValueError("sample_weight must be nonnegative")
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if self.classes_.size < 2:
            raise ValueError(f"y contains only one class ({self.classes_[0]!r}); two are needed")
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
            res, cert = self._solve(X[rows], yy, sw[rows], yy if self.class_mask else None)
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
        """Binary: (n,) with > 0 for classes_[1]. Multi-class: (n, k) for 'ovr', (n, k(k-1)/2) for 'ovo'."""
        check_is_fitted(self)
        dec = self._pair_decisions(X)
        if self.classes_.size == 2:
            return dec[:, 0]
        if self.decision_function_shape == "ovr":
            return _ovr_decision_function(dec < 0, -dec, self.classes_.size)
        return dec

    def predict(self, X):
        """Predicted class labels, shape (n_samples,): one-vs-one votes (binary: the sign of
        decision_function)."""
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


class GLSVR(RegressorMixin, _BaseGL):
    __doc__ = """Support-vector regression with the generalized loss on epsilon-insensitive slacks.

    zeta_i = max(0, |y_i - f(x_i)| - epsilon); loss C * sum_ij S_ij zeta_i^(p/2) zeta_j^(p/2).
    """ + _PARAMS_DOC + """    epsilon : float >= 0, default=0.1
        Width of the insensitive tube.

    Attributes
    ----------
    support_, support_vectors_, dual_coef_ (1, n_SV), intercept_ (1,) : as in SVR.
    """ + _ATTRS_DOC

    _task = "svr"

    _parameter_constraints: dict = {
        **_BaseGL._parameter_constraints,
        "epsilon": [Interval(Real, 0.0, None, closed="left")],
    }

    def __init__(self, C=1.0, kernel="rbf", gamma="scale", degree=3, coef0=0.0, epsilon=0.1,
                 s_kernel="G", gamma_s="scale", matern_nu=1.5, rq_alpha=1.0, p=1, eps=1e-4,
                 solver="mm", tol=1e-5, mm_tol=1e-6, max_iter=100, accelerate=True, cert_tol=CERT_TOL,
                 cache_size=200, shrinking=True, n_jobs=None, s_approx=None, n_components=500, random_state=None,
                 verbose=False):
        self.C = C
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.epsilon = epsilon
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
        self.accelerate = accelerate
        self.cert_tol = cert_tol
        self.cache_size = cache_size
        self.shrinking = shrinking
        self.n_jobs = n_jobs
        self.s_approx = s_approx
        self.n_components = n_components
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit on X (n_samples, n_features) and real targets y (n_samples,)."""
        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float64, order="C", y_numeric=True)
        self._validate_X(X)
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if np.any(sw < 0):
            raise ValueError("sample_weight must be nonnegative")
        rows = np.flatnonzero(sw > 0)
        if rows.size == 0:
            raise ValueError("sample_weight is zero everywhere: nothing to fit")
        self.shape_fit_ = X.shape
        self._kernel_ = self._kernel_for(X)
        self.gamma_s_ = self._gamma_s_for(X)
        res, cert = self._solve(X[rows], y[rows], sw[rows], None)
        self._store([res], [cert], ["problem"])
        nz = np.flatnonzero(res.coef)
        self.support_ = rows[nz].astype(np.int32)
        self.support_vectors_ = X[self.support_] if self.kernel != "precomputed" else np.empty((0, 0))
        self.dual_coef_ = res.coef[nz][None, :]
        self.intercept_ = np.array([res.b])
        return self

    def predict(self, X):
        """Predicted targets f(x) = sum_j dual_coef_j K(sv_j, x) + intercept_, shape (n_samples,)."""
        check_is_fitted(self)
        return self._kernel_rows(X) @ self.dual_coef_[0] + self.intercept_[0]
