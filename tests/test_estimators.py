"""GLSVC / GLSVR: scikit-learn's estimator checks, agreement with SVC / SVR at S = I, the GL path."""
import pickle

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR
from sklearn.utils.estimator_checks import parametrize_with_checks

from glopt.certify import certify, result_from_sklearn
from glopt.datasets import load_keel
from glopt.estimators import GLSVC, GLSVR
from glopt.kernels import Kernel, median_sq_distance
from glopt.problem import SVMProblem


def _expected_failures(estimator):
    """sample_weight is a per-sample C, not a repetition count, where the loss couples samples."""
    reasons = []
    if estimator.s_kernel != "I":
        reasons.append("for S != I a repeated sample is correlated with its copy (S = 1): two copies "
                       "weigh (2 sqrt(xi))^2 = 4 xi in the p = 1 loss, a weight of 2 gives 2 xi")
    if estimator.gamma == "scale" and estimator.kernel != "linear":
        reasons.append("gamma='scale' is 1 / (d var X), and repetition changes var X")
    if not reasons:
        return {}
    # the same reasons hold on sparse input (the check's sparse twin)
    return {"check_sample_weight_equivalence_on_dense_data": "; ".join(reasons),
            "check_sample_weight_equivalence_on_sparse_data": "; ".join(reasons)}


@parametrize_with_checks([GLSVC(), GLSVR(), GLSVC(s_kernel="M", p=2), GLSVR(s_kernel="Q", p=2),
                          GLSVC(s_kernel="I", kernel="linear", tol=1e-12)],
                         expected_failed_checks=_expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _standardized(name):
    X, y = load_keel(name, return_X_y=True)
    return (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0), y


@pytest.mark.parametrize("name", ["sonar", "ionosphere", "wdbc"])
def test_identity_s_equals_libsvm_svc(name):
    X, y = _standardized(name)
    gl = GLSVC(s_kernel="I", C=2.0, tol=1e-8).fit(X, y)
    sk = SVC(C=2.0, tol=1e-8).fit(X, y)
    assert (gl.predict(X) == sk.predict(X)).all()
    problem = SVMProblem(X, y, Kernel("rbf", gamma=sk._gamma), C=2.0)
    coef = np.zeros(len(y))
    coef[gl.support_] = gl.dual_coef_[0]
    from glopt.result import SVMResult
    mine = certify(SVMResult(coef=coef, b=gl.intercept_[0], a=y * coef), problem)
    theirs = certify(result_from_sklearn(sk, problem), problem)
    assert mine.dual == pytest.approx(theirs.dual, rel=1e-6)


@pytest.mark.parametrize("name", ["sonar", "ionosphere", "wdbc"])
def test_large_gamma_s_tends_to_libsvm_svc(name):
    X, y = _standardized(name)
    gl = GLSVC(gamma_s=1e4, C=2.0, tol=1e-7).fit(X, y)  # S = I up to exp(-1e4 d^2)
    sk = SVC(C=2.0, tol=1e-7).fit(X, y)
    assert (gl.predict(X) == sk.predict(X)).all()
    np.testing.assert_allclose(gl.decision_function(X), sk.decision_function(X), atol=1e-4)


def test_identity_s_equals_libsvm_svr():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    gl = GLSVR(s_kernel="I", C=3.0, epsilon=0.2, tol=1e-8).fit(X, y)
    sk = SVR(C=3.0, epsilon=0.2, tol=1e-8).fit(X, y)
    np.testing.assert_allclose(gl.predict(X), sk.predict(X), atol=1e-5)


def test_multiclass_matches_svc_layout():
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    gl = GLSVC(s_kernel="I", tol=1e-8).fit(X, labels)
    sk = SVC(tol=1e-8).fit(X, labels)
    assert list(gl.classes_) == list(sk.classes_)
    assert (gl.support_ == sk.support_).all() and (gl.n_support_ == sk.n_support_).all()
    np.testing.assert_allclose(gl.dual_coef_, sk.dual_coef_, atol=1e-4)
    np.testing.assert_allclose(gl.intercept_, sk.intercept_, atol=1e-4)
    for shape in ("ovr", "ovo"):
        gl.set_params(decision_function_shape=shape)
        sk.set_params(decision_function_shape=shape)
        np.testing.assert_allclose(gl.decision_function(X), sk.decision_function(X), atol=1e-4)
    assert (gl.predict(X) == sk.predict(X)).all()


@pytest.mark.parametrize("s_kernel", ["G", "Q", "M"])
def test_generalized_loss_fit_is_certified(s_kernel):
    X, y = _standardized("sonar")
    gl = GLSVC(s_kernel=s_kernel, tol=1e-7, eps=1e-4, mm_tol=1e-9, cert_tol=1e-4).fit(X, y)
    assert gl.n_iter_[0] >= 1
    hist = gl.objective_history_[0]
    path = hist["objective"][hist["taken"]]
    assert path[-1] < path[0]
    assert np.all(np.diff(path) <= 1e-12 * path[0])  # taken steps never rise
    assert gl.certified_[0] and gl.certificate_[0].ok(gl.cert_tol)


def test_p2_fit_is_optimal():
    X, y = _standardized("ionosphere")
    gl = GLSVC(p=2, s_kernel="G").fit(X[:150], y[:150])
    cert = gl.certificate_[0]
    assert cert.rel_gap <= 1e-6 and cert.kkt_violation <= 1e-6


def test_pickle_round_trip():
    X, y = _standardized("sonar")
    gl = GLSVC().fit(X, y)
    again = pickle.loads(pickle.dumps(gl))
    np.testing.assert_array_equal(again.decision_function(X), gl.decision_function(X))
    reg = GLSVR().fit(X, y)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(reg)).predict(X), reg.predict(X))


def test_pipeline_and_grid_search():
    X, y = _standardized("sonar")
    pipe = make_pipeline(StandardScaler(), GLSVC())
    cv = StratifiedKFold(3, shuffle=True, random_state=0)  # sonar is sorted by class
    grid = GridSearchCV(pipe, {"glsvc__C": [0.5, 2.0], "glsvc__gamma_s": ["scale", 0.05]}, cv=cv)
    grid.fit(X, y)
    assert grid.best_score_ > 0.75


def test_rff_approximation_close_to_exact():
    # random features approximate each entry of S to about sqrt(2 / n_components): a wide S
    # (gamma_s = 1 / median d^2, entries ~0.4) is approximated well, a narrow one is not
    X, y = _standardized("sonar")
    gs = 1.0 / median_sq_distance(X)
    exact = GLSVC(s_kernel="G", gamma_s=gs).fit(X, y)
    approx = GLSVC(s_kernel="G", gamma_s=gs, s_approx="rff", n_components=4000, random_state=0).fit(X, y)
    agree = (exact.predict(X) == approx.predict(X)).mean()
    assert agree >= 0.97


@pytest.mark.parametrize("Est,kwargs,match", [
    (GLSVC, {"p": 3}, "'p' parameter of GLSVC"),
    (GLSVC, {"p": True}, "'p' parameter of GLSVC must be an integer"),
    (GLSVC, {"solver": "paper", "p": 2}, "solver='paper'"),
    (GLSVC, {"gamma_s": 0.0}, "'gamma_s' parameter"),
    (GLSVC, {"gamma_s": -1.0}, "'gamma_s' parameter"),
    (GLSVC, {"C": 0}, "'C' parameter"),
    (GLSVC, {"gamma": -1}, "'gamma' parameter"),
    (GLSVC, {"s_kernel": "X"}, "'s_kernel' parameter"),
    (GLSVC, {"kernel": "sigmoid"}, "'kernel' parameter"),
    (GLSVC, {"solver": "newton"}, "'solver' parameter"),
    (GLSVC, {"eps": 0}, "'eps' parameter"),
    (GLSVC, {"matern_nu": 1.0}, "'matern_nu' parameter"),
    (GLSVC, {"s_approx": "nystrom"}, "'s_approx' parameter"),
    (GLSVC, {"kernel": "precomputed"}, "precomputed"),
    (GLSVC, {"shrinking": "no"}, "'shrinking' parameter"),
    (GLSVC, {"tol": 1e-300}, "'tol' parameter"),
    (GLSVC, {"cert_tol": 0.0}, "'cert_tol' parameter"),
    (GLSVR, {"epsilon": -1}, "'epsilon' parameter"),
    (GLSVR, {"p": 0}, "'p' parameter"),
])
def test_bad_parameters(Est, kwargs, match):
    X, y = _standardized("sonar")
    with pytest.raises(ValueError, match=match):
        Est(**kwargs).fit(X[:40], y[:40])


def test_class_mask_is_not_a_regression_parameter():
    with pytest.raises(TypeError):
        GLSVR(class_mask=True)


def test_bad_data():
    X, y = _standardized("sonar")
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        GLSVC().fit(Xn, y)
    with pytest.raises(ValueError, match="one class"):
        GLSVC().fit(X, np.ones(len(y)))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        GLSVC().fit(X, y[:-1])
    with pytest.raises(ValueError, match="sample_weight"):
        GLSVC().fit(X, y, sample_weight=-np.ones(len(y)))


# --------------------------------------------------------------------------------------------
# class_weight, coef_, the SMO's iteration cap next to MM's
# --------------------------------------------------------------------------------------------
def _three_classes(seed=0, n=150):
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=n, n_features=5, n_informative=3, n_classes=3,
                               random_state=seed)
    return X, y


def test_class_weight_matches_svc_with_the_standard_loss():
    from sklearn.svm import SVC

    X, y = _three_classes()
    cw = {0: 0.5, 1: 2.0, 2: 1.0}
    ours = GLSVC(s_kernel="I", class_weight=cw, tol=1e-8).fit(X, y)
    ref = SVC(class_weight=cw, tol=1e-8).fit(X, y)
    np.testing.assert_array_equal(ours.support_, ref.support_)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, atol=1e-5)
    np.testing.assert_allclose(ours.class_weight_, ref.class_weight_)
    assert np.mean(ours.predict(X) == ref.predict(X)) >= 0.999


def test_balanced_class_weight_is_the_sample_weight_it_stands_for():
    X, y = _three_classes(1)
    y = np.where(y == 2, 1, y)  # unbalanced: 1/3 against 2/3
    balanced = GLSVC(class_weight="balanced").fit(X, y)
    counts = np.bincount(y)
    sw = (len(y) / (2 * counts))[y]
    weighted = GLSVC().fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(balanced.dual_coef_, weighted.dual_coef_, rtol=1e-9, atol=1e-12)
    assert balanced.certified_.all()


@pytest.mark.parametrize("n_classes", [2, 3])
def test_coef_gives_the_linear_decision_function(n_classes):
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=120, n_features=4, n_informative=3, n_redundant=0,
                               n_classes=n_classes, random_state=2)
    model = GLSVC(kernel="linear", decision_function_shape="ovo").fit(X, y)
    dec = model.decision_function(X)
    lin = X @ model.coef_.T + model.intercept_
    np.testing.assert_allclose(lin.reshape(dec.shape), dec, atol=1e-9)
    with pytest.raises(AttributeError, match="linear kernel"):
        GLSVC().fit(X, y).coef_
    reg = GLSVR(kernel="linear").fit(X, X[:, 0] + 0.1 * X[:, 1])
    np.testing.assert_allclose(X @ reg.coef_[0] + reg.intercept_[0], reg.predict(X), atol=1e-9)


def test_max_iter_caps_the_smo_and_mm_max_iter_the_mm_steps():
    X, y = _three_classes(3)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        capped = GLSVC(s_kernel="I", max_iter=3).fit(X, y)
    assert not capped.certified_.all()
    assert GLSVC(s_kernel="I").fit(X, y).certified_.all()  # max_iter=-1: LIBSVM's cap
    with pytest.warns(ConvergenceWarning, match="mm_max_iter"):
        GLSVC(mm_max_iter=1, accelerate=False).fit(X, y)
    with pytest.raises(ValueError, match="max_iter"):
        GLSVC(max_iter=0).fit(X, y)


def test_precomputed_gram_matches_the_kernel_for_pairs_and_zero_weights():
    """Each pairwise problem (and a fit with zero sample weights) takes its principal Gram block."""
    from sklearn.datasets import load_iris
    from sklearn.metrics.pairwise import rbf_kernel

    X, y = load_iris(return_X_y=True)
    K = rbf_kernel(X, X, gamma=0.5)
    sw = np.ones(len(y))
    sw[::4] = 0.0
    for est_sw in (None, sw):
        gram = GLSVC(kernel="precomputed", s_kernel="I", tol=1e-8).fit(K, y, sample_weight=est_sw)
        native = GLSVC(kernel="rbf", gamma=0.5, s_kernel="I", tol=1e-8).fit(X, y, sample_weight=est_sw)
        np.testing.assert_allclose(gram.decision_function(K), native.decision_function(X), atol=1e-6)
    reg = GLSVR(kernel="precomputed", s_kernel="I", tol=1e-8).fit(K, X[:, 0], sample_weight=sw)
    ref = GLSVR(kernel="rbf", gamma=0.5, s_kernel="I", tol=1e-8).fit(X, X[:, 0], sample_weight=sw)
    np.testing.assert_allclose(reg.predict(K), ref.predict(X), atol=1e-6)
