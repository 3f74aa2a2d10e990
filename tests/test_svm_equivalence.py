"""glopt.svm's five estimators against scikit-learn's (LIBSVM) on benchmark data, dense and sparse.

What this file establishes:

1. On KEEL sets (wisconsin, pima, australian, bupa, banana, heart, ionosphere, iris, wine,
   vehicle) and scikit-learn's (iris, wine, breast cancer; diabetes and a seeded Friedman #1 for
   the regressors), standardized: SVC, NuSVC, SVR, NuSVR and OneClassSVM at scikit-learn's
   defaults, fitted on dense and on CSR input, solve every problem to the dual objective of
   scikit-learn's model (1e-6 relative), with the same decision values (see Tolerances) and the
   same predictions on at least 99.9% of the points; the linear, poly and sigmoid kernels, and
   other parameters (C, nu, epsilon, gamma='auto', no shrinking, tol=1e-5, class weights), on a
   subset of the sets.
2. Weights: integer sample weights are repetitions (objective and predictions), class_weight
   {c: w} is sample weight w on the samples of class c, 'balanced' is its explicit weights, and
   every weighted fit (sample and class weights, zero and negative ones included) is
   scikit-learn's.
3. CSR input gives the answers of the same data as a dense array, to rounding, for the five
   estimators and the four kernels.
4. Against the cvxpy reference (hypothesis, derandomized): on random small problems of the five
   formulations, in CSR form (and dense, for the nu formulations and the one-class SVM) and in
   LIBSVM's single-precision path with its double-precision finish, with random C, epsilon, nu and weights, glopt's SMO answer has a certified KKT
   violation at most tol and the reference's dual objective to 1e-6 relative.
5. Bad input: every constructor parameter outside its range (scikit-learn's own
   check_param_validation), negative or NaN gamma and NaN or infinite nu with scikit-learn's
   messages, a nu infeasible for one pair of classes, and a callable kernel whose values have
   the wrong shape (in fit and in prediction), are not 2-D or are not finite raise a ValueError
   naming the argument.

Covered elsewhere, and not repeated here: tests/test_svm_dropin.py (each estimator against
scikit-learn on iris, breast cancer, digits and random sets, dense; sample weights against
scikit-learn on dense input; support sets, layout and attributes; precomputed and callable
kernels; dense and CSR fits of digits with the four kernels; nu outside (0, 1], nu infeasible for
two classes, the callable kernel of the wrong shape in SVC.fit; NuSVC ignoring class_weight;
scikit-learn's sample-weight-equivalence check at tol=1e-12), tests/test_nu_forms.py (the five
formulations against the reference, dense, in double precision), tests/test_smo.py (C-SVC and
epsilon-SVR against the reference, dense), tests/test_smo_nu.py (the nu solver against
scikit-learn iteration for iteration), tests/test_reference.py (the reference itself) and
tests/test_inputs.py, tests/test_kernels.py (SVMProblem's and Kernel's arguments, gamma <= 0
among them).

Tolerances:

- dual objectives: 1e-6 relative, the objective of each pairwise problem recomputed from the
  model's dual_coef_, support vectors and kernel by :func:`dual_objectives`, one function for
  both models (nu-SVC in LIBSVM's unscaled variables, whose class sums are nu sum(w) / 2).
  The kernel subset uses sets where every optimum is far from 0 (nu-SVC with a margin; the
  one-class SVM with linear-like kernels on data away from the origin, see
  :func:`one_class_data`): where the optimum is 0 to rounding, a relative comparison is void.
- decision values: ``tol * max(1, |f|_inf)`` with tol the stopping tolerance (1e-3). Both
  solvers stop when the maximal KKT violation m(a) - M(a) is at most tol; that violation is a
  difference of gradients, which are the decision values up to sign and offset (C-SVC:
  y_i f(x_i) - 1), so two answers that both meet the rule pin the decision values of the free
  support vectors within tol of the same margin, and may part by that much.
- predictions: at least 99.9% equal. For the one-class SVM the free support vectors of either
  model, and the points equal to one, are left out: at the optimum their decision value is
  exactly 0, and its sign is decided by rounding and the stopping point.
- dense against CSR ("to rounding"): the two representations give kernel values that differ in
  the last bits (the sparse products sum the nonzeros in another order); dual coefficients and
  intercepts are compared at 1e-10 of their largest, decision values at 1e-9 of max(1, |f|_inf)
  (a value sums n_SV products, scaled by nu-SVC's 1 / r): far below the ~tol by which answers
  on different SMO paths part.
"""
from __future__ import annotations

import functools
import re

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import svm as sk
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine, make_friedman1
from sklearn.metrics.pairwise import linear_kernel, polynomial_kernel, rbf_kernel, sigmoid_kernel
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.estimator_checks import check_param_validation

import glopt.svm as gsvm
from glopt import smo
from glopt.certify import certify
from glopt.cvx import Reference
from glopt.datasets import load_keel
from glopt.kernels import Kernel
from glopt.problem import SVMProblem

# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------
KEEL_CLASSIFICATION = ("wisconsin", "pima", "australian", "bupa", "banana", "heart", "ionosphere", "iris",
                       "wine", "vehicle")
SKLEARN_CLASSIFICATION = ("sk-iris", "sk-wine", "sk-breast_cancer")
CLASSIFICATION_SETS = KEEL_CLASSIFICATION + SKLEARN_CLASSIFICATION
REGRESSION_SETS = ("sk-diabetes", "sk-friedman1")
#: larger sets are subsampled (seeded) to keep each fit well under a second
MAX_SAMPLES = 1000
#: the CSR variant keeps this fraction of each row's entries (those of largest magnitude, at
#: least one): a standardized matrix has no zeros, and its CSR form would not exercise the
#: sparse kernel products (which the SMO may trade for dense ones on dense enough data)
SPARSE_FRACTION = 0.2

CLASSIFIERS = ("SVC", "NuSVC")
REGRESSORS = ("SVR", "NuSVR")
ESTIMATORS = ("SVC", "NuSVC", "SVR", "NuSVR", "OneClassSVM")
FORMS = ("dense", "sparse")
#: the kernels besides rbf: the sigmoid at a small gamma, where its Gram matrices are nearly
#: positive semi-definite and the problems (nearly) convex, so that their optima are unique
KERNELS = {"linear": {"kernel": "linear"}, "poly": {"kernel": "poly", "coef0": 1.0},
           "sigmoid": {"kernel": "sigmoid", "gamma": 0.01}}


def _standardize(X):
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


@functools.lru_cache(maxsize=None)
def dataset(name):
    """(X, y) of a named set, standardized (regression targets too), read-only."""
    loaders = {"sk-iris": load_iris, "sk-wine": load_wine, "sk-breast_cancer": load_breast_cancer,
               "sk-diabetes": load_diabetes}
    if name in loaders:
        X, y = loaders[name](return_X_y=True)
    elif name == "sk-friedman1":
        X, y = make_friedman1(n_samples=800, noise=1.0, random_state=0)
    else:
        X, y = load_keel(name, return_X_y=True)
    if len(y) > MAX_SAMPLES:
        rows = np.sort(np.random.default_rng(0).choice(len(y), MAX_SAMPLES, replace=False))
        X, y = X[rows], y[rows]
    X = np.ascontiguousarray(_standardize(X))
    if name in REGRESSION_SETS:
        y = (y - y.mean()) / y.std()
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def fit_input(name, form):
    """(X as fitted, its dense array, y): the standardized data, or a sparse CSR variant of it."""
    X, y = dataset(name)
    if form == "dense":
        return X, X, y
    keep = max(1, int(SPARSE_FRACTION * X.shape[1]))
    # the keep-th largest magnitude of each row: no row is left empty
    cut = -np.sort(-np.abs(X), axis=1)[:, keep - 1:keep]
    Xd = np.where(np.abs(X) >= cut, X, 0.0)
    return sp.csr_matrix(Xd), Xd, y


def one_class_data(X):
    """The one-class SVM's data for the linear, poly and sigmoid kernels: |X|.

    On data around the origin the one-class problem of a linear-like kernel is degenerate (its
    optimum is w = 0 to rounding, every answer ties): the magnitudes keep the zeros of the
    sparse form and lie on one side of the origin.
    """
    return abs(X) if sp.issparse(X) else np.abs(X)


def fit_args(name, X, y):
    """The fit arguments of an estimator: (X, y), or (X,) for the one-class SVM."""
    return (X,) if name == "OneClassSVM" else (X, y)


# --------------------------------------------------------------------------------------
# the quantities compared, computed alike for both models
# --------------------------------------------------------------------------------------
def _dense(A):
    return A.toarray() if sp.issparse(A) else np.asarray(A)


def kernel_matrix(model, A, B):
    """K(A, B) of a fitted model's named kernel, by scikit-learn's pairwise formulas."""
    A, B = _dense(A), _dense(B)
    if model.kernel == "linear":
        return linear_kernel(A, B)
    if model.kernel == "rbf":
        return rbf_kernel(A, B, gamma=model._gamma)
    if model.kernel == "poly":
        return polynomial_kernel(A, B, degree=model.degree, gamma=model._gamma, coef0=model.coef0)
    return sigmoid_kernel(A, B, gamma=model._gamma, coef0=model.coef0)


def _is_sklearn(model):
    return type(model).__module__.startswith("sklearn")


def support_rows(model, sample_weight=None):
    """Training-set indices of the support vectors.

    scikit-learn's support_ indexes the samples of positive weight, glopt's the training set.
    """
    if sample_weight is None or not _is_sklearn(model):
        return np.asarray(model.support_)
    return np.flatnonzero(np.asarray(sample_weight) > 0)[model.support_]


def dual_objectives(model, y, sample_weight=None):
    """The dual objective of each problem a fitted model solved, from its attributes alone.

    C-SVC: sum |c| - c^T K c / 2 per pair of classes; nu-SVC: -r^2 c^T K c / 2 per pair, in
    LIBSVM's unscaled variables a = r |c|, whose class sums are nu sum(w) / 2 over the pair's
    samples of positive weight (which gives r); epsilon-SVR: y^T c - epsilon |c|_1 - c^T K c / 2;
    nu-SVR: y^T c - c^T K c / 2; one-class: -c^T K c / 2 (dual maximized in every case).
    """
    name = type(model).__name__
    D = _dense(model.dual_coef_)
    K = kernel_matrix(model, model.support_vectors_, model.support_vectors_)
    if name in ("SVR", "NuSVR", "OneClassSVM"):
        c = D[0]
        quad = float(c @ K @ c)
        if name == "OneClassSVM":
            return np.array([-0.5 * quad])
        lin = float(np.asarray(y)[support_rows(model, sample_weight)] @ c)
        tube = float(model.epsilon) * float(np.abs(c).sum()) if name == "SVR" else 0.0
        return np.array([lin - tube - 0.5 * quad])
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    y_idx = np.searchsorted(model.classes_, y)
    starts = np.concatenate([[0], np.cumsum(model.n_support_)])
    k = len(model.classes_)
    out = []
    for i in range(k):
        for j in range(i + 1, k):
            idx = np.r_[starts[i]:starts[i + 1], starts[j]:starts[j + 1]]
            c = np.r_[D[j - 1, starts[i]:starts[i + 1]], D[i, starts[j]:starts[j + 1]]]
            quad = float(c @ K[np.ix_(idx, idx)] @ c)
            if name == "SVC":
                out.append(float(np.abs(c).sum()) - 0.5 * quad)
            else:
                pair = (w > 0) & ((y_idx == i) | (y_idx == j))
                r = model.nu * w[pair].sum() / 2.0 / c[c > 0].sum()
                out.append(-0.5 * r * r * quad)
    return np.array(out)


def values(model, X):
    """What a model's answer is judged by: its decision values, or the predicted targets."""
    return model.decision_function(X) if hasattr(model, "decision_function") else model.predict(X)


def free_support_vectors(model, n, sample_weight=None):
    """Mask of the one-class model's free support vectors (0 < a_i < w_i) in the training set."""
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    a = np.zeros(n)
    a[support_rows(model, sample_weight)] = _dense(model.dual_coef_)[0]
    return (a > 0) & (a < w)


def on_the_boundary(X, free):
    """Mask of the points of X equal to a free support vector (``free``, a mask of X's rows).

    At the optimum of the one-class problem these points have decision value 0 exactly: the free
    support vectors and their duplicates (iris and the integer-valued KEEL sets have duplicate
    rows).
    """
    Xd = _dense(X)
    rows = {Xd[i].tobytes() for i in np.flatnonzero(free)}
    return np.array([row.tobytes() in rows for row in Xd], dtype=bool)


def assert_same_model(ref, est, X, y, sample_weight=None):
    """``est`` (glopt) solved the problems of ``ref`` (scikit-learn) to the same answers."""
    assert type(est).__name__ == type(ref).__name__
    assert est._gamma == pytest.approx(ref._gamma, rel=1e-15)
    assert est.certified_.all() and est.fit_status_ == 0
    d_ref, d_est = dual_objectives(ref, y, sample_weight), dual_objectives(est, y, sample_weight)
    assert d_est.shape == d_ref.shape
    assert_allclose(d_est, d_ref, rtol=1e-6, atol=0)
    # the objectives recomputed here are those glopt's certificates state, problem by problem
    assert_allclose([c.dual for c in est.certificate_], d_est, rtol=1e-9, atol=0)
    v_ref, v_est = values(ref, X), values(est, X)
    assert v_est.shape == v_ref.shape
    assert np.abs(v_est - v_ref).max() <= est.tol * max(1.0, np.abs(v_ref).max())
    if isinstance(est, gsvm.OneClassSVM):
        n = X.shape[0]
        judged = ~on_the_boundary(X, free_support_vectors(ref, n, sample_weight)
                                  | free_support_vectors(est, n, sample_weight))
        assert np.mean(est.predict(X)[judged] == ref.predict(X)[judged]) >= 0.999
    elif hasattr(est, "classes_"):
        assert_array_equal(est.classes_, ref.classes_)
        assert np.mean(est.predict(X) == ref.predict(X)) >= 0.999


def fit_both(name, params, X, y, sample_weight=None):
    """scikit-learn's and glopt's estimator ``name`` with ``params``, fitted alike."""
    args = fit_args(name, X, y)
    ref = getattr(sk, name)(**params).fit(*args, sample_weight=sample_weight)
    est = getattr(gsvm, name)(**params).fit(*args, sample_weight=sample_weight)
    return ref, est


# --------------------------------------------------------------------------------------
# 1. scikit-learn's answers on the benchmark sets, dense and CSR
# --------------------------------------------------------------------------------------
RBF_CASES = [(name, data) for name in ("SVC", "NuSVC", "OneClassSVM") for data in CLASSIFICATION_SETS] + \
            [(name, data) for name in REGRESSORS for data in REGRESSION_SETS]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name, data", RBF_CASES, ids=[f"{n}-{d}" for n, d in RBF_CASES])
def test_defaults_match_scikit_learn(name, data, form):
    """Every estimator at its defaults (rbf, gamma='scale', tol=1e-3)."""
    X, _, y = fit_input(data, form)
    ref, est = fit_both(name, {}, X, y)
    assert sp.issparse(est.support_vectors_) == (form == "sparse")
    assert_same_model(ref, est, X, y)


#: nu-SVC with a margin at these kernels (wine, breast cancer); the regressors on their sets
KERNEL_SETS = {"SVC": ("wine", "sk-breast_cancer"), "NuSVC": ("wine", "sk-breast_cancer"),
               "OneClassSVM": ("wine", "sk-breast_cancer"), "SVR": REGRESSION_SETS, "NuSVR": REGRESSION_SETS}
KERNEL_CASES = [(name, data) for name in ESTIMATORS for data in KERNEL_SETS[name]]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("kernel", list(KERNELS))
@pytest.mark.parametrize("name, data", KERNEL_CASES, ids=[f"{n}-{d}" for n, d in KERNEL_CASES])
def test_other_kernels_match_scikit_learn(name, data, kernel, form):
    X, _, y = fit_input(data, form)
    if name == "OneClassSVM":
        X = one_class_data(X)
    ref, est = fit_both(name, KERNELS[kernel], X, y)
    assert_same_model(ref, est, X, y)


#: other parameters: C, nu, epsilon, gamma='auto', no shrinking, a tighter tol, class weights
OTHER_PARAMETERS = [
    ("SVC", "pima", {"C": 10.0}), ("SVC", "australian", {"C": 100.0, "gamma": "auto"}),
    ("SVC", "vehicle", {"C": 0.1, "shrinking": False}), ("SVC", "heart", {"C": 3.0, "tol": 1e-5}),
    ("SVC", "banana", {"C": 10.0, "class_weight": "balanced"}),
    ("NuSVC", "pima", {"nu": 0.4, "gamma": "auto"}), ("NuSVC", "vehicle", {"nu": 0.4, "shrinking": False}),
    ("NuSVC", "australian", {"tol": 1e-5}),
    ("OneClassSVM", "pima", {"nu": 0.05}), ("OneClassSVM", "vehicle", {"nu": 0.9}),
    ("OneClassSVM", "banana", {"nu": 0.3, "gamma": "auto", "shrinking": False}),
    ("OneClassSVM", "banana", {"nu": 0.05}),
    ("SVR", "sk-friedman1", {"C": 3.0}), ("SVR", "sk-diabetes", {"C": 10.0, "epsilon": 0.01}),
    ("SVR", "sk-friedman1", {"epsilon": 0.5, "shrinking": False}), ("SVR", "sk-diabetes", {"tol": 1e-5}),
    ("NuSVR", "sk-friedman1", {"C": 3.0, "nu": 0.2}), ("NuSVR", "sk-diabetes", {"C": 10.0, "nu": 0.8}),
    ("NuSVR", "sk-friedman1", {"shrinking": False, "tol": 1e-5}),
]
def _other_parameter_cases():
    cases = []
    for name, data, params in OTHER_PARAMETERS:
        for form in FORMS:
            label = "-".join(f"{k}={v}" for k, v in params.items())
            cases.append(pytest.param(name, data, params, form, id=f"{name}-{data}-{label}-{form}"))
    return cases


@pytest.mark.parametrize("name, data, params, form", _other_parameter_cases())
def test_other_parameters_match_scikit_learn(name, data, params, form):
    X, _, y = fit_input(data, form)
    ref, est = fit_both(name, params, X, y)
    assert_same_model(ref, est, X, y)


# --------------------------------------------------------------------------------------
# 2. weights
# --------------------------------------------------------------------------------------
#: a fixed gamma ('scale' changes when rows are repeated) and a tight tol: the weighted and the
#: repeated problems have the same primal, but different duals, whose answers agree only at the
#: optimum
REPEAT_PARAMS = {"gamma": 0.1, "tol": 1e-10}
REPEAT_SETS = {"SVC": "wine", "NuSVC": "wine", "OneClassSVM": "wine", "SVR": "sk-diabetes",
               "NuSVR": "sk-diabetes"}


@pytest.mark.parametrize("name", ESTIMATORS)
def test_integer_sample_weight_is_repetition(name):
    """Weight k (0 included) poses the problem of k copies of the sample: the same optimum and model.

    Decision values are compared at 1e-6 of max(1, |f|_inf): both fits are solved to
    tol = 1e-10, where the unique optimal decision function is pinned to about 1e-8.
    """
    X, y = dataset(REPEAT_SETS[name])
    X, y = X[:200], y[:200]
    k = np.random.default_rng(7).integers(0, 4, size=len(y))
    cls = getattr(gsvm, name)
    weighted = cls(**REPEAT_PARAMS).fit(*fit_args(name, X, y), sample_weight=k)
    X_rep, y_rep = np.repeat(X, k, axis=0), np.repeat(y, k)
    repeated = cls(**REPEAT_PARAMS).fit(*fit_args(name, X_rep, y_rep))
    assert weighted.certified_.all() and repeated.certified_.all()
    assert_allclose(dual_objectives(weighted, y, k), dual_objectives(repeated, y_rep), rtol=1e-6, atol=0)
    v_w, v_r = values(weighted, X), values(repeated, X)
    assert np.abs(v_w - v_r).max() <= 1e-6 * max(1.0, np.abs(v_r).max())
    if name == "OneClassSVM":
        # the free support vectors (f = 0 at the optimum) of either fit, on the original rows
        free_w = free_support_vectors(weighted, len(y), k)
        rows = np.repeat(np.arange(len(y)), k)
        free_r = np.zeros(len(y), dtype=bool)
        free_r[rows[free_support_vectors(repeated, len(y_rep))]] = True
        judged = ~on_the_boundary(X, free_w | free_r)
        assert np.mean(weighted.predict(X)[judged] == repeated.predict(X)[judged]) >= 0.999
    elif name in CLASSIFIERS:
        assert np.mean(weighted.predict(X) == repeated.predict(X)) >= 0.999


def _assert_identical(a, b, X):
    """Two glopt fits of bit-identical problems: the same answer, bit for bit."""
    assert_array_equal(a.support_, b.support_)
    assert_array_equal(_dense(a.dual_coef_), _dense(b.dual_coef_))
    assert_array_equal(a.intercept_, b.intercept_)
    assert_array_equal(a.predict(X), b.predict(X))


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("data, class_weight", [("pima", {1.0: 2.5}), ("vehicle", {1: 3.0, 3: 0.25})])
def test_class_weight_is_sample_weight_on_its_class(data, class_weight, form):
    """SVC's bound of sample i is C class_weight[y_i] sample_weight_i: {c: w} is weight w on class c.

    C w 1 and C 1 w are the same floats, so the two fits solve the same problem bit for bit.
    """
    X, _, y = fit_input(data, form)
    sw = np.ones(len(y))
    for c, w in class_weight.items():
        sw[y == c] = w
    by_class = gsvm.SVC(class_weight=class_weight).fit(X, y)
    by_sample = gsvm.SVC().fit(X, y, sample_weight=sw)
    _assert_identical(by_class, by_sample, X)
    assert_same_model(sk.SVC(class_weight=class_weight).fit(X, y), by_class, X, y)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("data", ["haberman", "vehicle"])
def test_balanced_is_its_explicit_weights(data, form):
    """'balanced' is n / (k n_c) for class c: the same class_weight_ and model as those weights given."""
    X, _, y = fit_input(data, form)
    classes, counts = np.unique(y, return_counts=True)
    explicit = dict(zip(classes.tolist(), (len(y) / (len(classes) * counts)).tolist()))
    balanced = gsvm.SVC(class_weight="balanced").fit(X, y)
    given_weights = gsvm.SVC(class_weight=explicit).fit(X, y)
    assert_array_equal(balanced.class_weight_, given_weights.class_weight_)
    assert_array_equal(balanced.class_weight_, compute_class_weight("balanced", classes=classes, y=y))
    _assert_identical(balanced, given_weights, X)
    assert_same_model(sk.SVC(class_weight="balanced").fit(X, y), balanced, X, y)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", ESTIMATORS)
def test_weighted_fit_matches_scikit_learn(name, form):
    """Sample weights (zeros and negatives leave their samples out), with class weights for SVC."""
    data = "sk-friedman1" if name in REGRESSORS else "australian"
    X, _, y = fit_input(data, form)
    sw = np.random.default_rng(11).uniform(0.0, 3.0, size=len(y))
    sw[::7] = 0.0
    sw[3::11] = -0.5
    params = {"class_weight": {1.0: 0.4}} if name == "SVC" else {}
    ref, est = fit_both(name, params, X, y, sample_weight=sw)
    assert np.all(sw[est.support_] > 0)
    assert_same_model(ref, est, X, y, sample_weight=sw)


# --------------------------------------------------------------------------------------
# 3. CSR input gives the answers of the dense array
# --------------------------------------------------------------------------------------
SPARSE_SETS = {"SVC": ("australian", "vehicle"), "NuSVC": ("australian", "vehicle"),
               "OneClassSVM": ("australian", "vehicle"), "SVR": REGRESSION_SETS, "NuSVR": REGRESSION_SETS}
SPARSE_CASES = [(name, data) for name in ESTIMATORS for data in SPARSE_SETS[name]]


@pytest.mark.parametrize("kernel", ["rbf", *KERNELS])
@pytest.mark.parametrize("name, data", SPARSE_CASES, ids=[f"{n}-{d}" for n, d in SPARSE_CASES])
def test_sparse_input_equals_dense_input(name, data, kernel):
    Xs, Xd, y = fit_input(data, "sparse")
    if name == "OneClassSVM" and kernel != "rbf":
        Xs, Xd = one_class_data(Xs), one_class_data(Xd)
    params = KERNELS.get(kernel, {})
    cls = getattr(gsvm, name)
    dense = cls(**params).fit(*fit_args(name, Xd, y))
    sparse = cls(**params).fit(*fit_args(name, Xs, y))
    assert sp.issparse(sparse.support_vectors_) and not sp.issparse(dense.support_vectors_)
    # gamma='scale' is computed by scikit-learn's sparse formula on CSR input: equal to rounding
    assert sparse._gamma == pytest.approx(dense._gamma, rel=1e-14)
    assert_array_equal(sparse.support_, dense.support_)
    assert_array_equal(sparse.support_vectors_.toarray(), dense.support_vectors_)
    coef_scale = max(1.0, np.abs(dense.dual_coef_).max())
    assert_allclose(sparse.dual_coef_.toarray(), dense.dual_coef_, rtol=0, atol=1e-10 * coef_scale)
    assert_allclose(sparse.intercept_, dense.intercept_, rtol=0,
                    atol=1e-10 * max(coef_scale, np.abs(dense.intercept_).max()))
    v_dense, v_sparse = values(dense, Xd), values(sparse, Xs)
    v_tol = 1e-9 * max(1.0, np.abs(v_dense).max())
    assert_allclose(v_sparse, v_dense, rtol=0, atol=v_tol)
    if name == "OneClassSVM":
        # a sign within rounding of 0 (the free support vectors) is rounding's to decide
        clear = np.abs(v_dense) > v_tol
        assert_array_equal(sparse.predict(Xs)[clear], dense.predict(Xd)[clear])
    elif name in CLASSIFIERS:
        assert_array_equal(sparse.predict(Xs), dense.predict(Xd))


# --------------------------------------------------------------------------------------
# 4. the SMO against the cvxpy reference on random problems
# --------------------------------------------------------------------------------------
TASKS = ("svc", "svr", "nu_svc", "nu_svr", "one_class")


@st.composite
def small_problems(draw, task):
    """(SVMProblem, tol) of a random small problem of formulation ``task``.

    The inputs are CSR (C-SVC and epsilon-SVR: always; the dense path is tests/test_smo.py's) or
    dense; the labels follow a noiseless linear rule with a gap, so that nu-SVC has a margin for
    every kernel drawn; the one-class data get a constant feature, so that no answer is w = 0;
    nu-SVC's nu is kept feasible for the drawn class weights.
    """
    n, d = draw(st.integers(20, 40)), draw(st.integers(2, 6))
    density = draw(st.floats(0.3, 0.9))
    seed = draw(st.integers(0, 2**31 - 1))
    kernel = draw(st.sampled_from(["rbf", "linear", "poly"]))
    C, nu, epsilon = draw(st.floats(0.2, 5.0)), draw(st.floats(0.05, 0.9)), draw(st.floats(0.05, 0.5))
    weighted = draw(st.booleans())
    sparse = task in ("svc", "svr") or draw(st.booleans())
    tol = draw(st.sampled_from([1e-6, 1e-9]))
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed, data_rvs=rng.standard_normal)
    score = X @ rng.normal(size=d)
    w = rng.uniform(0.2, 3.0, size=n) if weighted else None
    if task == "one_class":
        X, y = sp.hstack([np.ones((n, 1)), X], format="csr"), None
    elif task in ("svc", "nu_svc"):
        # a gap around the median split: the classes' hulls stay apart, and nu-SVC's optimum
        # (-|w|^2 / 2 at the closest points of the reduced hulls) away from 0
        keep = np.abs(score - np.median(score)) > 0.2 * score.std()
        X, score = X[keep], score[keep]
        w = None if w is None else w[keep]
        y = np.where(score > np.median(score), 1.0, -1.0)
        weights = np.ones(len(y)) if w is None else w
        w_pos, w_neg = weights[y > 0].sum(), weights[y < 0].sum()
        nu = min(nu, 0.95 * 2.0 * min(w_pos, w_neg) / (w_pos + w_neg))
    else:
        y = score + 0.3 * rng.normal(size=n)
    k = {"rbf": Kernel("rbf", gamma=1.0 / d), "linear": Kernel("linear"),
         "poly": Kernel("poly", gamma=0.5 / d, degree=2, coef0=1.0)}[kernel]
    problem = SVMProblem(X if sparse else X.toarray(), y, k, task, C=C, weights=w, epsilon=epsilon, nu=nu)
    return problem, tol


@pytest.mark.parametrize("task", TASKS)
@settings(max_examples=10, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_smo_answers_are_certified_and_reach_the_reference(task, data):
    """LIBSVM's single-precision iterations with the double-precision finish (the estimators' path)."""
    problem, tol = data.draw(small_problems(task))
    # the reference's dual: the problem whose objective is compared. Its duality gap (with the
    # primal of its multipliers) bounds its distance to the optimum: at most 1e-7 relative, the
    # reference's accuracy, for the 1e-6 comparison to mean anything
    ref = Reference(problem).solve_dual()
    res = smo.solve(problem, tol=tol)
    assert res.status == "optimal"
    cert, cert_ref = certify(res, problem), certify(ref, problem)
    assert cert_ref.rel_gap <= 1e-7 and cert_ref.infeasibility <= 1e-8, cert_ref
    assert cert.kkt_violation <= tol, cert
    assert cert.infeasibility <= 1e-9, cert
    assert abs(cert.dual - cert_ref.dual) <= 1e-6 * abs(cert_ref.dual), (cert, cert_ref)


# --------------------------------------------------------------------------------------
# 5. bad input
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ESTIMATORS)
def test_every_parameter_is_validated_by_name(name):
    """scikit-learn's own check: a bad type or value of any parameter raises naming it."""
    check_param_validation(name, getattr(gsvm, name)())


BAD_VALUES = [("gamma", -1.0), ("gamma", -np.inf), ("gamma", np.nan), ("nu", np.nan), ("nu", np.inf),
              ("nu", 1.0 + 1e-12)]
BAD_CASES = [(name, param, value) for name in ESTIMATORS for param, value in BAD_VALUES
             if param in getattr(gsvm, name)().get_params()]


@pytest.mark.parametrize("name, param, value", BAD_CASES, ids=[f"{n}-{p}={v}" for n, p, v in BAD_CASES])
def test_bad_gamma_and_nu_are_refused_as_by_scikit_learn(name, param, value):
    X, y = dataset("sk-iris")
    args = fit_args(name, X, y)
    with pytest.raises(InvalidParameterError) as theirs:
        getattr(sk, name)(**{param: value}).fit(*args)
    assert f"'{param}' parameter" in str(theirs.value)
    with pytest.raises(ValueError, match=re.escape(str(theirs.value))):
        getattr(gsvm, name)(**{param: value}).fit(*args)


def test_nu_infeasible_for_one_pair_of_classes_is_refused():
    """Three classes, one of them small: nu=0.5 is infeasible for its two pairs only."""
    X, y = dataset("sk-iris")
    keep = np.r_[np.arange(100), np.arange(100, 110)]
    with pytest.raises(ValueError, match="specified nu is infeasible"):
        sk.NuSVC(nu=0.5).fit(X[keep], y[keep])
    with pytest.raises(ValueError, match=r"specified nu is infeasible: nu=0\.5 for classes 0 and 2"):
        gsvm.NuSVC(nu=0.5).fit(X[keep], y[keep])
    gsvm.NuSVC(nu=0.3).fit(X[keep], y[keep])


@pytest.mark.parametrize("name", ESTIMATORS)
def test_callable_kernel_with_bad_values_is_refused(name):
    X, y = dataset("sk-iris")
    cls = getattr(gsvm, name)
    args = fit_args(name, X, y)
    for kernel, match in [(lambda A, B: A @ B.T[:, :-1], r"callable kernel returned an array of shape \(150, 149\)"),
                          (lambda A, B: (A @ B.T).ravel(), "callable kernel must return a 2-D array"),
                          (lambda A, B: np.full((len(A), len(B)), np.nan), "callable kernel returned NaN")]:
        with pytest.raises(ValueError, match=match):
            cls(kernel=kernel).fit(*args)
    # right in fit, wrong in prediction (one column short of the training samples)
    training = [True]

    def kernel(A, B):
        K = A @ B.T
        return K if training[0] else K[:, :-1]

    est = cls(kernel=kernel).fit(*args)
    training[0] = False
    with pytest.raises(ValueError, match=r"callable kernel returned an array of shape \(10, 149\) for 10 samples"):
        est.predict(X[:10])
