"""Certificates of LIBSVM-family models: scikit-learn's, scikit-learn-intelex's and glopt's SVMs.

Every such model is a set of problems of LIBSVM's five formulations (C-SVC and nu-SVC: one per
pair of classes; epsilon-SVR, nu-SVR, the one-class SVM: one) stored in LIBSVM's layout:
support vectors grouped by class, ``dual_coef_`` of shape (n_classes - 1, n_SV) with the
coefficients of class i's support vectors for the pair (i, j) in row j - 1 and those of class
j's in row i, one intercept b = -rho per pair, class i of the pair (i, j) labeled +1. A
:class:`Layout` holds a model in those terms, whoever fitted it; :func:`layout_reports`
rebuilds each problem (the training samples of positive weight, in LIBSVM's order, with the
model's kernel, C, nu, epsilon and per-sample bounds) and its answer (the dual variables a as
LIBSVM stores them), and certifies it with :func:`glopt.certify.certify`.

Answers the models do not store are recovered as LIBSVM defines them: the nu-SVC scale r from
the class sums (the model is (y a / r, -rho / r) and each class's a sums to nu sum(w) / 2), and
the nu-SVR multiplier r from the free variables of each sign (LIBSVM's ``Solver_NU``
``calculate_rho``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._checks import _is_sparse, as_float_array
from ..certify import certify
from ..kernels import Kernel
from ..problem import SVMProblem
from ..result import SVMResult
from ._report import SubproblemReport

#: The dual form name of each task (``SubproblemReport.form``).
FORM_NAMES = {"svc": "c_svc", "nu_svc": "nu_svc", "svr": "epsilon_svr", "nu_svr": "nu_svr",
              "one_class": "one_class"}

#: Stopping tolerance of the reference solve (glopt's SMO).
REFERENCE_TOL = 1e-8

#: Largest subproblem also solved by the cvxpy reference (Clarabel) when ``reference=True``.
CVX_MAX_SAMPLES = 300

#: Bytes of one block of kernel values when decision values are computed on X.
_BLOCK_BYTES = 64 << 20

_SKLEARN_NAMES = ("SVC", "NuSVC", "SVR", "NuSVR", "OneClassSVM")
_SKLEARNEX_NAMES = ("SVC", "NuSVC", "SVR", "NuSVR")
_TASKS = {"SVC": "svc", "NuSVC": "nu_svc", "SVR": "svr", "NuSVR": "nu_svr", "OneClassSVM": "one_class"}


@dataclass
class Layout:
    """A fitted LIBSVM-family model in LIBSVM's terms, with the training data it was fitted on.

    Parameters
    ----------
    task : {"svc", "nu_svc", "svr", "nu_svr", "one_class"}
        The SVMProblem task of every subproblem.
    kernel : Kernel
        The kernel with its fitted parameters (``precomputed``: ``data`` is the Gram matrix).
    data : ndarray or scipy.sparse CSR matrix
        The training inputs, validated for ``kernel``, or the (n, n) Gram matrix.
    params : dict
        C, nu and epsilon, those the task uses.
    targets : ndarray or None
        Class index of each training sample (classifiers), real targets (regressors), None
        (one-class).
    classes : ndarray or None
        Class labels in the model's pair order (classifiers).
    weights : ndarray of shape (n,)
        Per-sample bound multipliers (C-SVC: class weight times sample weight); samples with a
        weight <= 0 are left out of every subproblem.
    sv_index : ndarray of int
        Training index of each support vector.
    dual : ndarray of shape (max(1, n_classes - 1), n_SV)
        Dual coefficients in LIBSVM's layout and signs.
    intercept : ndarray of shape (n_pairs,) or (1,)
        b = -rho of each subproblem, in LIBSVM's signs.
    info : dict
        Facts about the source recorded in each subproblem's problem dict.
    """

    task: str
    kernel: Kernel
    data: object
    params: dict
    targets: np.ndarray | None
    classes: np.ndarray | None
    weights: np.ndarray
    sv_index: np.ndarray
    dual: np.ndarray
    intercept: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of training samples."""
        return int(self.data.shape[0])

    @property
    def classifier(self) -> bool:
        """Whether the model solves one problem per pair of classes."""
        return self.task in ("svc", "nu_svc")


# --------------------------------------------------------------------------------------
# Estimators: scikit-learn, scikit-learn-intelex, glopt.svm
# --------------------------------------------------------------------------------------
def estimator_source(model) -> str | None:
    """``"sklearn"``, ``"sklearnex"`` or ``"glopt"`` for a supported estimator type, else None.

    Only the exact classes are recognized: a subclass may solve another problem.
    """
    cls = type(model)
    module, name = cls.__module__, cls.__name__
    if module.startswith("glopt.svm") and name in _SKLEARN_NAMES:
        from .. import svm as glopt_svm

        return "glopt" if cls is getattr(glopt_svm, name) else None
    if module.startswith("sklearnex.") and name in _SKLEARNEX_NAMES:
        import sklearnex.svm as ex

        return "sklearnex" if cls is getattr(ex, name, None) else None
    if module.startswith("sklearn.svm") and name in _SKLEARN_NAMES:
        import sklearn.svm as sk

        return "sklearn" if cls is getattr(sk, name) else None
    return None


def certify_libsvm(model, X, y=None, sample_weight=None, reference=False):
    """Certify each problem a fitted LIBSVM-family estimator solved on (X, y).

    Parameters
    ----------
    model : estimator
        A fitted SVC, NuSVC, SVR, NuSVR or OneClassSVM of scikit-learn, scikit-learn-intelex
        (no OneClassSVM there) or :mod:`glopt.svm`.
    X : array-like or sparse matrix of shape (n_samples, n_features), or (n_samples, n_samples)
        The training inputs the model was fitted on (the Gram matrix for kernel='precomputed').
    y : array-like of shape (n_samples,), optional
        The training labels or targets (not used by the one-class SVM).
    sample_weight : array-like of shape (n_samples,), optional
        The sample weights passed to ``fit``.
    reference : bool, default=False
        Also solve each problem by glopt to a tight tolerance and compare.

    Returns
    -------
    reports : list of SubproblemReport
        One report per problem, in the order of ``intercept_``.
    model_reference : dict or None
        The model-level reference figures (see :func:`layout_reports`).
    """
    return layout_reports(estimator_layout(model, X, y, sample_weight), reference=reference)


def estimator_layout(model, X, y=None, sample_weight=None) -> Layout:
    """The :class:`Layout` of a fitted estimator and the training data it was fitted on.

    Parameters
    ----------
    model : estimator
        A fitted estimator :func:`estimator_source` recognizes.
    X : array-like or sparse matrix
        The training inputs (or Gram matrix).
    y : array-like, optional
        The training labels or targets.
    sample_weight : array-like, optional
        The sample weights passed to ``fit``.

    Returns
    -------
    Layout
        The model in LIBSVM's terms.

    Raises
    ------
    TypeError
        When the model is not a supported estimator.
    ValueError
        When the model is not fitted, or X, y or sample_weight do not match it.
    """
    source = estimator_source(model)
    name = type(model).__name__
    if source is None:
        raise TypeError(f"{type(model).__module__}.{name} is not a LIBSVM-family estimator glopt certifies")
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model, "dual_coef_")
    except NotFittedError:
        raise ValueError(f"model: the {name} is not fitted (call fit first)") from None
    if source == "sklearnex" and not hasattr(model, "_onedal_estimator"):
        source = "sklearn"   # scikit-learn-intelex fell back to scikit-learn's LIBSVM in fit
    task = _TASKS[name]
    kernel, data, kinfo = _estimator_kernel(model, X)
    n = data.shape[0]
    n_fit = int(model.shape_fit_[0])
    if n != n_fit:
        raise ValueError(f"X has {n} samples but the {name} was fitted on {n_fit}")
    sw = _sample_weight(sample_weight, n)
    classifier = task in ("svc", "nu_svc")
    classes = targets = None
    if classifier:
        classes = np.asarray(model.classes_)
        targets = _class_index(y, classes, n)
        class_w = np.asarray(model.class_weight_, dtype=np.float64)
        # LIBSVM's nu-SVC takes its bounds from the sample weights alone; scikit-learn-intelex
        # folds class_weight into the sample weights it passes to oneDAL for both classifiers
        fold = task == "svc" or (source == "sklearnex" and getattr(model, "class_weight", None) is not None)
        weights = sw * class_w[targets] if fold else sw.copy()
    elif task == "one_class":
        weights = sw.copy()
    else:
        if y is None:
            raise ValueError(f"y is required to certify a {name} (its training targets)")
        targets = as_float_array(np.ravel(np.asarray(y)), "y", ndim=1)
        if targets.shape != (n,):
            raise ValueError(f"y must have shape ({n},), got {targets.shape}")
        weights = sw.copy()

    support = np.asarray(model.support_, dtype=np.intp)
    if source == "sklearn" and np.any(sw <= 0):
        # scikit-learn's LIBSVM drops the samples of weight <= 0 first: support_ indexes the rest
        kept = np.flatnonzero(sw > 0)
        if support.size and support.max() >= kept.size:
            raise ValueError("sample_weight does not match the model: support_ indexes more samples of "
                             "positive weight than sample_weight has")
        support = kept[support]
    if support.size and (support.min() < 0 or support.max() >= n):
        raise ValueError(f"the model's support_ indexes samples outside X's {n} rows")
    _check_support_vectors(model, data, support, kernel)
    dual = model.dual_coef_
    dual = np.asarray(dual.toarray() if _is_sparse(dual) else dual, dtype=np.float64)
    intercept = np.asarray(model.intercept_, dtype=np.float64).ravel()
    if dual.ndim != 2 or dual.shape[1] != support.size:
        raise ValueError(f"the model's dual_coef_ has shape {dual.shape} for {support.size} support vectors")
    if classifier:
        k = classes.size
        empty = [c for c in range(k) if not np.any(weights[targets == c] > 0)]
        if empty and (dual.shape[0] != k - 1 or intercept.size != k * (k - 1) // 2):
            raise ValueError(f"class {_label(classes[empty[0]])} has no sample of positive weight: LIBSVM fitted "
                             "the model without it, and its classes_ no longer describe the problems it solved")
        if dual.shape[0] != k - 1 or intercept.size != k * (k - 1) // 2:
            raise ValueError(f"the model's dual_coef_ {dual.shape} and intercept_ {intercept.shape} do not "
                             f"have LIBSVM's one-vs-one layout for {k} classes")
        n_support = np.asarray(model._n_support if source != "glopt" else model.n_support_, dtype=np.intp)
        # LIBSVM groups the support vectors by class (oneDAL keeps a binary model's in training
        # order: one row of coefficients serves both classes there)
        sv_targets = targets[support] if k > 2 else np.sort(targets[support], kind="stable")
        expected = np.repeat(np.arange(k), n_support)
        if expected.size != support.size or not np.array_equal(sv_targets, expected):
            raise ValueError("y does not match the model: the labels of its support vectors are not those "
                             "it was fitted with (each class's support vectors must carry that class's label)")
        if k == 2:
            # scikit-learn's public binary signs are LIBSVM's flipped (decision > 0: classes_[1])
            dual, intercept = -dual, -intercept
    elif dual.shape[0] != 1 or intercept.size != 1:
        raise ValueError(f"the model's dual_coef_ {dual.shape} and intercept_ {intercept.shape} are not "
                         "those of one problem")
    params = _estimator_params(model, task)
    info = {"source": source, **kinfo}
    return Layout(task=task, kernel=kernel, data=data, params=params, targets=targets, classes=classes,
                  weights=weights, sv_index=support, dual=dual, intercept=intercept, info=info)


def _estimator_params(model, task) -> dict:
    if task in ("svc", "svr", "nu_svr"):
        C = float(model.C)
        if not np.isfinite(C):
            from ..svm import C_INF

            C = C_INF
        params = {"C": C}
    else:
        params = {}
    if task == "svr":
        params["epsilon"] = float(model.epsilon)
    if task in ("nu_svc", "nu_svr", "one_class"):
        params["nu"] = float(model.nu)
    return params


def _sample_weight(sample_weight, n) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    sw = as_float_array(np.ravel(np.asarray(sample_weight)), "sample_weight", ndim=1)
    if sw.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},), got {sw.shape}")
    return sw


def _class_index(y, classes, n) -> np.ndarray:
    """The index in ``classes`` of each label of y; ValueError naming unseen labels."""
    if y is None:
        raise ValueError("y is required to certify a classifier (its training labels)")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},), got {y.shape}")
    try:
        seen = np.isin(y, classes)
    except TypeError:
        seen = np.zeros(n, dtype=bool)
    if not seen.all():
        unseen = list(dict.fromkeys(y[~seen].tolist()))
        raise ValueError(f"y holds labels the model was not fitted on: {unseen[:5]}"
                         f"{' ...' if len(unseen) > 5 else ''} (its classes are {classes.tolist()})")
    order = np.argsort(classes, kind="stable")
    return order[np.searchsorted(classes[order], y)].astype(np.intp)


def _check_labels(y, classes) -> None:
    """ValueError naming the labels of y that are not among the model's ``classes``."""
    try:
        seen = np.isin(y, classes)
    except TypeError:   # labels that do not compare with the classes (numbers against strings)
        seen = np.array([any(v == c for c in classes.tolist()) for v in y.tolist()], dtype=bool)
    if not seen.all():
        unseen = list(dict.fromkeys(_item(v) for v in y[~seen]))
        raise ValueError(f"y holds labels the model was not fitted on: {unseen[:5]}"
                         f"{' ...' if len(unseen) > 5 else ''} (its classes are {[_item(c) for c in classes]})")


def _item(v):
    return v.item() if isinstance(v, np.generic) else v


def _estimator_kernel(model, X):
    """(Kernel, data, info) of an estimator on X: its kernel with the fitted parameters."""
    kern = model.kernel
    if callable(kern):
        K = kern(X, X)
        K = np.asarray(K.toarray() if _is_sparse(K) else K, dtype=np.float64)
        if K.ndim != 2 or K.shape[0] != K.shape[1]:
            raise ValueError(f"the model's callable kernel returned shape {K.shape} on X; it must be square")
        return Kernel("precomputed"), as_float_array(K, "kernel(X, X)", ndim=2), {"kernel": "callable"}
    if kern == "precomputed":
        G = as_float_array(X, "X", ndim=2)
        if G.shape[0] != G.shape[1]:
            raise ValueError(f"X must be the square Gram matrix for kernel='precomputed', got shape {G.shape}")
        return Kernel("precomputed"), G, {"kernel": "precomputed"}
    n_features = getattr(model, "n_features_in_", None)
    shape = getattr(X, "shape", None)
    if shape is None:
        X = np.asarray(X)
        shape = X.shape
    if len(shape) != 2:
        raise ValueError(f"X must be 2-dimensional, got shape {shape}")
    if n_features is not None and shape[1] != n_features:
        raise ValueError(f"X has {shape[1]} features but the model was fitted on {n_features}")
    gamma, degree, coef0 = float(model._gamma), int(model.degree), float(model.coef0)
    info = {"kernel": kern}
    if kern in ("rbf", "poly", "sigmoid"):
        info["gamma"] = gamma
    if kern == "poly":
        info["degree"] = degree
    if kern in ("poly", "sigmoid"):
        info["coef0"] = coef0
    if kern == "linear":
        k = Kernel("linear")
    elif gamma > 0 and (kern != "poly" or degree >= 1):
        k = Kernel(kern, gamma=gamma, degree=degree if kern == "poly" else 3, coef0=coef0)
    else:
        # constant kernels (gamma = 0, degree = 0), which glopt's Kernel does not evaluate
        from ..svm import _libsvm_gram

        Xd = X if _is_sparse(X) else as_float_array(X, "X", ndim=2)
        return Kernel("precomputed"), _libsvm_gram(kern, gamma, degree, coef0, Xd, Xd), info
    return k, k.check_data(X), info


def _check_support_vectors(model, data, support, kernel) -> None:
    """X's rows at the support indices are the model's support vectors (else X is other data)."""
    if kernel.name == "precomputed":
        # a Gram matrix (precomputed, callable or constant kernel): no support vectors to compare
        return
    sv = getattr(model, "support_vectors_", None)
    if sv is None or sv.shape[0] == 0:
        return
    if sv.shape[0] != support.size:
        raise ValueError(f"the model has {sv.shape[0]} support vectors but {support.size} support indices")
    rows = data[support]
    if rows.shape != sv.shape:
        raise ValueError(f"the model's support_vectors_ have shape {sv.shape}, X's rows at support_ {rows.shape}")
    if _is_sparse(rows) or _is_sparse(sv):
        import scipy.sparse as sp

        # compared as sparse matrices: a dense copy of wide sparse data may not fit in memory
        B = sp.csr_matrix(sv, dtype=np.float64)
        diff = (sp.csr_matrix(rows, dtype=np.float64) - B).tocsr()
        scale = float(np.abs(B.data).max(initial=0.0))
        worst = float(np.abs(diff.data).max(initial=0.0))
    else:
        B = np.asarray(sv, dtype=np.float64)
        A = np.asarray(rows)
        scale = float(np.abs(B).max(initial=0.0))
        worst = float(np.abs(A - B).max(initial=0.0))
    if worst > 1e-9 * max(1.0, scale):
        raise ValueError("X is not the data the model was fitted on: its rows at the model's support_ "
                         "differ from support_vectors_ (or sample_weight is not the one passed to fit: "
                         "scikit-learn's support_ counts the samples of positive weight only)")


# --------------------------------------------------------------------------------------
# Subproblems and their certificates
# --------------------------------------------------------------------------------------
@dataclass
class Subproblem:
    """One problem of a :class:`Layout`: its data, the model's answer, and where it sits."""

    label: str
    problem: SVMProblem
    result: SVMResult
    rows: np.ndarray
    Kcoef: np.ndarray
    info: dict
    pair: tuple | None = None


def _label(value) -> str:
    """A class label as reports show it (an integral float as an integer: LIBSVM's labels)."""
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def subproblems(layout: Layout) -> list:
    """The problems of ``layout``, each with the model's answer (see the module docstring).

    Parameters
    ----------
    layout : Layout
        The model.

    Returns
    -------
    list of Subproblem
        In the order of the model's intercepts.

    Raises
    ------
    ValueError
        When a support vector has a weight <= 0, or a pair of classes has no sample of positive
        weight in one class.
    """
    L = layout
    keep = L.weights > 0
    coef_by_sv = L.dual
    if L.classifier:
        k = L.classes.size
        sv_class = L.targets[L.sv_index]
        pairs = []
        for i in range(k):
            for j in range(i + 1, k):
                rows_i = np.flatnonzero(keep & (L.targets == i))
                rows_j = np.flatnonzero(keep & (L.targets == j))
                label = f"classes ({_label(L.classes[i])}, {_label(L.classes[j])})"
                if rows_i.size == 0 or rows_j.size == 0:
                    empty = L.classes[i] if rows_i.size == 0 else L.classes[j]
                    raise ValueError(f"{label}: class {_label(empty)} has no sample of positive weight; the "
                                     "problem of this pair has no solution to certify")
                rows = np.concatenate([rows_i, rows_j])
                yy = np.concatenate([np.ones(rows_i.size), -np.ones(rows_j.size)])
                coef = np.zeros(rows.size)
                pos = np.full(L.n, -1)
                pos[rows] = np.arange(rows.size)
                for cls, row in ((i, j - 1), (j, i)):
                    sel = np.flatnonzero(sv_class == cls)
                    _place(coef, pos, L.sv_index[sel], coef_by_sv[row, sel], label)
                dropped = int(np.count_nonzero(~keep & ((L.targets == i) | (L.targets == j))))
                pairs.append((label, rows, yy, coef, dropped, (i, j)))
        products = _pair_products(L, pairs)
        return [_make(L, label, rows, yy, coef, float(L.intercept[p]), dropped, pair, Kc)
                for p, ((label, rows, yy, coef, dropped, pair), Kc) in enumerate(zip(pairs, products))]
    rows = np.flatnonzero(keep)
    coef = np.zeros(rows.size)
    pos = np.full(L.n, -1)
    pos[rows] = np.arange(rows.size)
    label = "one-class" if L.task == "one_class" else "regression"
    _place(coef, pos, L.sv_index, coef_by_sv[0], label)
    yy = None if L.task == "one_class" else L.targets[rows]
    return [_make(L, label, rows, yy, coef, float(L.intercept[0]), int(np.count_nonzero(~keep)), None)]


def _place(coef, pos, sv_rows, values, label) -> None:
    nz = values != 0
    where = pos[sv_rows[nz]]
    if np.any(where < 0):
        bad = sv_rows[nz][where < 0][0]
        raise ValueError(f"{label}: sample {int(bad)} is a support vector of the model but its weight "
                         "(sample_weight times class weight) is <= 0: the weights are not those the model "
                         "was fitted with")
    coef[where] = values[nz]


def _pair_products(L: Layout, pairs) -> list:
    """K @ coef of each pair on its own samples: one product over all pairs when that is cheaper.

    Per pair the product costs (n_i + n_j)(s_i + s_j)(d + 1) (samples, support vectors and
    features of the two classes); one product with a column per pair costs n s (d + P) for P
    pairs, which wins for a few classes (about 2/3 of the work at 4 classes).
    """
    if L.kernel.name == "precomputed" or not pairs:
        return [None] * len(pairs)
    d = L.data.shape[1]
    nsv = np.array([np.count_nonzero(coef) for _, _, _, coef, _, _ in pairs], dtype=float)
    separate = float(sum(rows.size * s for (_, rows, *_), s in zip(pairs, nsv))) * (d + 1)
    support = np.zeros(L.n, dtype=bool)
    for _, rows, _, coef, _, _ in pairs:
        support[rows[coef != 0]] = True
    joint = float(L.n) * float(support.sum()) * (d + len(pairs))
    if len(pairs) == 1 or joint >= separate:
        return [None] * len(pairs)
    V = np.zeros((L.n, len(pairs)))
    for p, (_, rows, _, coef, _, _) in enumerate(pairs):
        V[rows, p] = coef
    KV = L.kernel._matvec(L.data, V)
    return [np.ascontiguousarray(KV[rows, p]) for p, (_, rows, *_) in enumerate(pairs)]


def _make(L: Layout, label, rows, yy, coef, b, n_dropped, pair, Kc=None) -> Subproblem:
    """The SVMProblem of ``rows`` and the model's answer on it (the dual variables LIBSVM stores)."""
    w = L.weights[rows]
    weights = None if np.all(w == 1.0) else w
    C = L.params.get("C", 1.0)
    try:
        problem = SVMProblem(L.kernel.samples(L.data, rows), yy, L.kernel, L.task, C=C, weights=weights,
                             epsilon=L.params.get("epsilon", 0.1), nu=L.params.get("nu", 0.5))
    except ValueError as exc:
        raise ValueError(f"{label}: the model's problem cannot be stated: {exc}") from None
    if Kc is None:
        Kc = L.kernel._matvec(problem.X, coef)
    extra = {}
    if L.task == "svc":
        a = problem.y * coef
    elif L.task == "nu_svc":
        # the model is (y a / r, -rho / r) and sum(a) = nu sum(w): r from the stored coefficients
        total = float(np.abs(coef).sum())
        from ..dual import dual_form

        target = float(dual_form(problem).rhs.sum())
        r = target / total if total > 0 else 1.0
        a = problem.y * coef * r
        Kc = Kc * r
        extra["r"] = r
    elif L.task in ("svr", "nu_svr"):
        a = np.concatenate([np.maximum(coef, 0.0), np.maximum(-coef, 0.0)])
        if L.task == "nu_svr":
            extra["r"] = _nu_svr_r(problem, a, Kc)
    else:
        a = coef.copy()
    result = SVMResult(coef=coef, b=b, a=a, solver="model", extra=extra)
    info = _problem_info(L, problem, a, rows, n_dropped, extra)
    return Subproblem(label=label, problem=problem, result=result, rows=rows, Kcoef=Kc, info=info, pair=pair)


def _nu_svr_r(problem: SVMProblem, a, Kc) -> float:
    """LIBSVM's r of a nu-SVR answer: (r1 + r2) / 2 from the free variables of each sign."""
    from ..dual import dual_form

    form = dual_form(problem)
    G = form.gradient(Kc)
    u = form.upper
    upper = a >= u * (1.0 - 1e-12)
    lower = a <= 0.0
    free = ~upper & ~lower
    rs = []
    for cls in (form.sign > 0, form.sign < 0):
        f = cls & free
        if f.any():
            rs.append(float(G[f].mean()))
        else:
            ub = float(G[cls & lower].min(initial=np.inf))
            lb = float(G[cls & upper].max(initial=-np.inf))
            rs.append(0.5 * (ub + lb) if np.isfinite(ub) and np.isfinite(lb) else (ub if np.isfinite(ub) else lb))
    return 0.5 * (rs[0] + rs[1])


def _problem_info(L: Layout, problem: SVMProblem, a, rows, n_dropped, extra) -> dict:
    from ..dual import dual_form

    u = dual_form(problem).upper
    info = {"task": L.task, **{k: v for k, v in L.params.items()}, **L.info,
            "n_samples": int(rows.size), "n_support": int(np.count_nonzero(a)),
            "n_at_bound": int(np.count_nonzero(a >= u * (1.0 - 1e-12))),
            "bound_min": float(u.min()), "bound_max": float(u.max())}
    if n_dropped:
        info["dropped_samples"] = n_dropped
        info["note"] = (f"{n_dropped} sample(s) of weight <= 0 left out: their dual bound 0 forces a = 0, "
                        "so they do not change the problem's solution")
    if "r" in extra:
        info["r"] = float(extra["r"])
    return info


def layout_reports(layout: Layout, reference: bool = False):
    """Certify every problem of ``layout``; with ``reference``, compare with glopt's own solution.

    Parameters
    ----------
    layout : Layout
        The model.
    reference : bool, default=False
        Solve each problem by glopt's SMO (tol ``REFERENCE_TOL``; and by the cvxpy reference when
        it has at most ``CVX_MAX_SAMPLES`` samples) and report the differences.

    Returns
    -------
    reports : list of SubproblemReport
        One report per problem.
    model_reference : dict or None
        With ``reference``: ``prediction_mismatch``, the share of training samples whose
        predicted label differs between the model and the reference (None for regressors).
    """
    subs = subproblems(layout)
    reports, decisions = [], []
    for s in subs:
        cert = certify(s.result, s.problem, Kcoef=s.Kcoef)
        ref = None
        if reference:
            ref, dec = _reference(layout, s, cert)
            decisions.append(dec)
        reports.append(SubproblemReport(label=s.label, form=FORM_NAMES[layout.task], problem=s.info,
                                        certificate=cert, reference=ref))
    if not reference:
        return reports, None
    return reports, {"prediction_mismatch": _model_mismatch(layout, subs, decisions)}


def _decisions(layout: Layout, s: Subproblem, V) -> np.ndarray:
    """Decision functions with coefficients V (columns) over ``s.rows`` on every training sample."""
    V = np.asarray(V, dtype=np.float64)
    if layout.kernel.name == "precomputed":
        G = layout.data
        cols = np.flatnonzero(np.any(V != 0, axis=1))
        out = np.zeros((layout.n, V.shape[1]))
        step = max(1, _BLOCK_BYTES // (8 * max(cols.size, 1)))
        for start in range(0, layout.n, step):
            out[start:start + step] = G[start:start + step][:, s.rows[cols]] @ V[cols]
        return out
    return layout.kernel._matvec(layout.data[s.rows], V, Z=layout.data, max_bytes=_BLOCK_BYTES)


def _reference(layout: Layout, s: Subproblem, model_cert):
    """glopt's certified solution of the same problem, the model's distance to it, and both
    decision values on the training samples."""
    from ..smo import certificate as smo_certificate
    from ..smo import solve as smo_solve

    problem = s.problem
    try:
        ref = smo_solve(problem, tol=REFERENCE_TOL, precision="double")
    except FloatingPointError as exc:
        # nu-SVC without a margin: the problem has no finite model to compare with
        return {"solver": "glopt.smo", "error": str(exc)}, None
    ref_cert = smo_certificate(ref, problem)
    solver = f"glopt.smo (tol={REFERENCE_TOL:g})"
    out = {}
    if problem.n <= CVX_MAX_SAMPLES:
        from ..cvx import ReferenceSolveError, solve_reference

        try:
            cvx = solve_reference(problem)
        except ReferenceSolveError as exc:   # pragma: no cover - Clarabel failing on a small problem
            out["cvx_error"] = str(exc)
        else:
            cvx_cert = certify(cvx, problem)
            out["cvx_objective_diff"] = float(cvx_cert.primal - ref_cert.primal)
    D = _decisions(layout, s, np.column_stack([s.result.coef, ref.coef]))
    f_model, f_ref = D[:, 0] + s.result.b, D[:, 1] + ref.b
    scale = max(1.0, abs(ref_cert.primal))
    out.update({
        "solver": solver,
        "objective": float(ref_cert.primal),
        "objective_diff": float(model_cert.primal - ref_cert.primal),
        "rel_objective_diff": float((model_cert.primal - ref_cert.primal) / scale),
        "max_decision_diff": float(np.max(np.abs(f_model - f_ref))),
        "prediction_mismatch": (None if layout.task in ("svr", "nu_svr")
                                else float(np.mean((f_model > 0) != (f_ref > 0)))),
        "reference_rel_gap": float(ref_cert.rel_gap),
        "reference_kkt_violation": float(ref_cert.kkt_violation),
    })
    return out, (f_model, f_ref)


def _model_mismatch(layout: Layout, subs, decisions) -> float | None:
    """Share of training samples whose predicted label differs between the model and the reference.

    Classifiers vote over the pairs (LIBSVM: a positive decision value votes for the pair's first
    class, ties to the lowest class index); the one-class SVM predicts the sign; regressors have
    no labels (None).
    """
    if layout.task in ("svr", "nu_svr") or any(d is None for d in decisions):
        return None
    if layout.task == "one_class":
        f_model, f_ref = decisions[0]
        return float(np.mean((f_model > 0) != (f_ref > 0)))
    k = layout.classes.size
    votes = [np.zeros((layout.n, k), dtype=np.intp), np.zeros((layout.n, k), dtype=np.intp)]
    for s, pair_decisions in zip(subs, decisions):
        i, j = s.pair
        for v, f in zip(votes, pair_decisions):
            v[:, i] += f > 0
            v[:, j] += f <= 0
    return float(np.mean(np.argmax(votes[0], axis=1) != np.argmax(votes[1], axis=1)))
