"""Certificates of liblinear's problems (glopt.audit._liblinear): scikit-learn's LinearSVC and LinearSVR."""
import warnings

import cvxpy as cp
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.svm import SVC, LinearSVC, LinearSVR

from glopt.audit._liblinear import certify_liblinear
from glopt.audit._report import SubproblemReport

TIGHT = dict(tol=1e-8, max_iter=1_000_000, random_state=0)
CLASS_WEIGHT = {0: 2.0, 1: 0.7}


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(n_samples=120, n_features=5, n_informative=3, random_state=0)
    sw = np.random.default_rng(0).uniform(0.3, 2.5, y.size)
    return X, y, sw


@pytest.fixture(scope="module")
def three():
    X, y = make_classification(n_samples=150, n_features=5, n_informative=4, n_redundant=0, n_classes=3,
                               random_state=1)
    sw = np.random.default_rng(1).uniform(0.3, 2.5, y.size)
    return X, np.array(["ant", "bee", "cat"])[y], sw


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=100, n_features=4, noise=8.0, random_state=0)
    sw = np.random.default_rng(2).uniform(0.3, 2.5, y.size)
    return X, y / y.std(), sw


def _fit(model, X, y, sw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # liblinear's ConvergenceWarning at a default tol
        return model.fit(X, y, sample_weight=sw)


def _tight(reports, bound=1e-5):
    for r in reports:
        c = r.certificate
        assert c.rel_gap < bound and c.kkt_violation < bound and abs(c.infeasibility) <= 1e-12, (r.label, c)
        assert c.dual <= c.primal * (1 + 1e-12)


SVC_FORMS = [("hinge", True), ("squared_hinge", True), ("squared_hinge", False)]
INTERCEPTS = [(True, 1.0), (True, 10.0), (False, 1.0)]


@pytest.mark.parametrize("loss,dual", SVC_FORMS)
@pytest.mark.parametrize("fit_intercept,scaling", INTERCEPTS)
def test_linear_svc_binary_tight(binary, loss, dual, fit_intercept, scaling):
    X, y, sw = binary
    m = _fit(LinearSVC(loss=loss, dual=dual, C=0.8, fit_intercept=fit_intercept, intercept_scaling=scaling,
                       class_weight=CLASS_WEIGHT, **TIGHT), X, y, sw)
    reports = certify_liblinear(m, X, y, sw)
    assert [r.label for r in reports] == ["binary"]
    assert reports[0].form == f"liblinear:{loss}"
    p = reports[0].problem
    assert p["loss"] == loss and p["penalty"] == "l2" and p["C"] == 0.8 and p["n_samples"] == y.size
    assert p["fit_intercept"] is fit_intercept
    assert p["intercept_scaling"] == (scaling if fit_intercept else None)
    # per-sample C_i = C * class_weight[y_i] * sample_weight_i (liblinear's two-class rule)
    Ci = 0.8 * sw * np.where(y == 1, CLASS_WEIGHT[1], CLASS_WEIGHT[0])
    assert np.isclose(p["C_i_min"], Ci.min()) and np.isclose(p["C_i_max"], Ci.max())
    _tight(reports)


@pytest.mark.parametrize("loss,dual", SVC_FORMS)
@pytest.mark.parametrize("fit_intercept,scaling", INTERCEPTS)
def test_linear_svc_three_classes_tight(three, loss, dual, fit_intercept, scaling):
    X, y, sw = three
    m = _fit(LinearSVC(loss=loss, dual=dual, fit_intercept=fit_intercept, intercept_scaling=scaling,
                       class_weight="balanced", **TIGHT), X, y, sw)
    reports = certify_liblinear(m, X, y, sw)
    assert [r.label for r in reports] == ["class 'ant' vs rest", "class 'bee' vs rest", "class 'cat' vs rest"]
    assert [r.problem["positive_class"] for r in reports] == ["ant", "bee", "cat"]
    _tight(reports)


@pytest.mark.parametrize("loss,dual", [("epsilon_insensitive", True), ("squared_epsilon_insensitive", True),
                                       ("squared_epsilon_insensitive", False)])
@pytest.mark.parametrize("fit_intercept,scaling", INTERCEPTS)
def test_linear_svr_tight(regression, loss, dual, fit_intercept, scaling):
    X, y, sw = regression
    m = _fit(LinearSVR(loss=loss, dual=dual, C=2.0, epsilon=0.2, fit_intercept=fit_intercept,
                       intercept_scaling=scaling, **TIGHT), X, y, sw)
    reports = certify_liblinear(m, X, y, sw)
    assert [r.label for r in reports] == ["regression"]
    assert reports[0].problem["epsilon"] == 0.2
    _tight(reports)


@pytest.mark.parametrize("data", ["binary", "three"])
def test_l1_penalty_tight(request, data):
    X, y, sw = request.getfixturevalue(data)
    m = _fit(LinearSVC(penalty="l1", loss="squared_hinge", dual=False, intercept_scaling=3.0, **TIGHT), X, y, sw)
    reports = certify_liblinear(m, X, y, sw)
    assert all(r.form == "liblinear:squared_hinge+l1" and r.problem["penalty"] == "l1" for r in reports)
    _tight(reports)


# ---------------------------------------------------------------------------------------------
# the same primal, stated in cvxpy here: the certificate's primal is the objective, its dual a lower bound
# ---------------------------------------------------------------------------------------------
def _cvx_optimum(X, target, Ci, *, task, loss, penalty="l2", epsilon=0.0, bias=None, at=None):
    """The optimal value and w of the primal in cvxpy; with ``at``, also the objective at that w."""
    Xt = X if bias is None else np.hstack([X, np.full((X.shape[0], 1), bias)])
    w = cp.Variable(Xt.shape[1])
    f = Xt @ w
    u = 1 - cp.multiply(target, f) if task == "svc" else cp.abs(target - f) - epsilon
    xi = cp.pos(u)
    data = Ci @ xi if loss in ("hinge", "epsilon_insensitive") else Ci @ cp.square(xi)
    reg = cp.norm1(w) if penalty == "l1" else 0.5 * cp.sum_squares(w)
    prob = cp.Problem(cp.Minimize(reg + data))
    value_at = None
    if at is not None:
        w.value = at
        value_at = float(prob.objective.value)
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11)
    assert prob.status == cp.OPTIMAL
    if at is not None:
        return prob.value, np.asarray(w.value), value_at
    return prob.value, np.asarray(w.value)


@pytest.mark.parametrize("loss,penalty", [("hinge", "l2"), ("squared_hinge", "l2"), ("squared_hinge", "l1")])
def test_primal_matches_cvxpy(binary, loss, penalty):
    X, y, sw = binary
    X, y, sw = X[:60], y[:60], sw[:60]
    m = _fit(LinearSVC(loss=loss, penalty=penalty, dual=(penalty == "l2"), C=1.5, intercept_scaling=4.0,
                       class_weight=CLASS_WEIGHT, **TIGHT), X, y, sw)
    cert = certify_liblinear(m, X, y, sw)[0].certificate
    Ci = 1.5 * sw * np.where(y == 1, CLASS_WEIGHT[1], CLASS_WEIGHT[0])
    opt, w = _cvx_optimum(X, np.where(y == 1, 1.0, -1.0), Ci, task="svc", loss=loss, penalty=penalty, bias=4.0)
    assert cert.primal == pytest.approx(opt, rel=1e-6)
    assert cert.dual <= opt * (1 + 1e-8)
    # the model is liblinear's answer to this very problem: its w is cvxpy's
    assert np.allclose(np.append(m.coef_[0], m.intercept_[0] / 4.0), w, atol=1e-4)


def test_ovr_rest_has_no_class_weight(three):
    """One-vs-rest: the positive class's samples carry its class weight, the rest C alone (liblinear)."""
    X, y, sw = three
    cw = {"ant": 3.0, "bee": 0.5, "cat": 1.5}
    m = _fit(LinearSVC(loss="squared_hinge", dual=False, class_weight=cw, **TIGHT), X, y, sw)
    for k, (label, rep) in enumerate(zip(m.classes_, certify_liblinear(m, X, y, sw))):
        Ci = sw * np.where(y == label, cw[label], 1.0)
        opt, _ = _cvx_optimum(X, np.where(y == label, 1.0, -1.0), Ci, task="svc", loss="squared_hinge", bias=1.0)
        assert rep.certificate.primal == pytest.approx(opt, rel=1e-6), label


@pytest.mark.parametrize("loss", ["epsilon_insensitive", "squared_epsilon_insensitive"])
def test_svr_primal_matches_cvxpy(regression, loss):
    X, y, sw = regression
    for scaling in (1.0, 10.0):
        m = _fit(LinearSVR(loss=loss, C=3.0, epsilon=0.15, intercept_scaling=scaling, **TIGHT), X, y, sw)
        cert = certify_liblinear(m, X, y, sw)[0].certificate
        w = np.append(m.coef_, m.intercept_[0] / scaling)
        opt, _, at_model = _cvx_optimum(X, y, 3.0 * sw, task="svr", loss=loss, epsilon=0.15, bias=scaling, at=w)
        assert cert.primal == pytest.approx(at_model, rel=1e-12)       # the same objective
        assert cert.dual <= opt * (1 + 1e-8)                            # a lower bound on its optimum
        assert (cert.primal - opt) / opt <= cert.rel_gap + 1e-8         # the gap bounds the suboptimality
        if scaling == 1.0:                                              # liblinear converged: the optimum
            assert cert.primal == pytest.approx(opt, rel=1e-6)


# ---------------------------------------------------------------------------------------------
# the default tolerance: a valid, modest certificate
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", [LinearSVC(loss="hinge", random_state=0),
                                   LinearSVC(loss="squared_hinge", dual=True, random_state=0),
                                   LinearSVC(loss="squared_hinge", dual=False)])
def test_default_tol_certificate_is_valid_and_modest(binary, model):
    X, y, sw = binary
    m = _fit(model, X, y, sw)
    cert = certify_liblinear(m, X, y, sw)[0].certificate
    Ci = sw.copy()
    opt, _ = _cvx_optimum(X, np.where(y == 1, 1.0, -1.0), Ci, task="svc", loss=m.loss, bias=1.0)
    assert cert.dual <= opt * (1 + 1e-9) <= cert.primal * (1 + 2e-9)   # a lower bound, and P(w) >= P*
    assert cert.rel_gap >= (cert.primal - opt) / cert.primal - 1e-9    # the gap bounds the suboptimality
    assert cert.rel_gap < 1e-2 and cert.kkt_violation < 0.5


def test_default_tol_svr_is_valid(regression):
    X, y, sw = regression
    m = _fit(LinearSVR(epsilon=0.2, random_state=0), X, y, sw)
    cert = certify_liblinear(m, X, y, sw)[0].certificate
    opt, _ = _cvx_optimum(X, y, sw, task="svr", loss="epsilon_insensitive", epsilon=0.2, bias=1.0)
    assert cert.dual <= opt * (1 + 1e-9) <= cert.primal * (1 + 2e-9)
    assert cert.rel_gap < 1e-2


def test_tighter_tol_gives_a_tighter_certificate(three):
    X, y, sw = three
    gaps = []
    for tol in (1e-1, 1e-3, 1e-8):
        m = _fit(LinearSVC(loss="squared_hinge", dual=True, tol=tol, max_iter=1_000_000, random_state=0), X, y, sw)
        gaps.append(max(r.certificate.rel_gap for r in certify_liblinear(m, X, y, sw)))
    assert gaps[0] > gaps[2] and gaps[1] > gaps[2] and gaps[2] < 1e-10


# ---------------------------------------------------------------------------------------------
# a perturbed model fails, and the report names the subproblem
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("what", ["coef", "intercept"])
def test_perturbed_class_fails_by_name(three, what):
    X, y, sw = three
    m = _fit(LinearSVC(loss="hinge", **TIGHT), X, y, sw)
    assert all(r.ok(1e-6) for r in certify_liblinear(m, X, y, sw))
    if what == "coef":
        m.coef_[1] = m.coef_[1] * 1.02
    else:
        m.intercept_[1] += 0.05
    reports = certify_liblinear(m, X, y, sw)
    failed = [r.label for r in reports if not r.ok(1e-4)]
    assert failed == ["class 'bee' vs rest"]


@pytest.mark.parametrize("model", [LinearSVC(loss="squared_hinge", dual=False, **TIGHT),
                                   LinearSVC(penalty="l1", loss="squared_hinge", dual=False, **TIGHT)])
def test_perturbed_binary_fails(binary, model):
    X, y, sw = binary
    m = _fit(model, X, y, sw)
    assert certify_liblinear(m, X, y, sw)[0].ok(1e-6)
    m.intercept_ = m.intercept_ + 0.02
    assert not certify_liblinear(m, X, y, sw)[0].ok(1e-4)


def test_perturbed_svr_fails(regression):
    X, y, sw = regression
    m = _fit(LinearSVR(**TIGHT), X, y, sw)
    assert certify_liblinear(m, X, y, sw)[0].ok(1e-5)
    m.coef_ = m.coef_ * 0.99
    rep = certify_liblinear(m, X, y, sw)[0]
    assert rep.label == "regression" and not rep.ok(1e-4)


def test_wrong_sample_weight_fails(binary):
    """Certifying with other weights than the fit's certifies another problem: it must not pass."""
    X, y, sw = binary
    m = _fit(LinearSVC(loss="squared_hinge", dual=False, **TIGHT), X, y, sw)
    assert certify_liblinear(m, X, y, sw)[0].ok(1e-6)
    assert not certify_liblinear(m, X, y, None)[0].ok(1e-4)


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------
def test_sparse_inputs_match_dense(binary):
    X, y, sw = binary
    m = _fit(LinearSVC(loss="hinge", **TIGHT), X, y, sw)
    dense = certify_liblinear(m, X, y, sw)[0].certificate
    sparse = certify_liblinear(m, sp.csr_matrix(X), y, sw)[0].certificate
    assert sparse.primal == pytest.approx(dense.primal, rel=1e-12)
    assert sparse.rel_gap < 1e-5 and sparse.kkt_violation < 1e-5


def test_zero_weights_are_left_out(binary):
    X, y, sw = binary
    sw0 = sw.copy()
    sw0[::4] = 0.0
    m = _fit(LinearSVC(loss="hinge", **TIGHT), X, y, sw0)
    rep = certify_liblinear(m, X, y, sw0)[0]
    assert rep.problem["n_samples"] == y.size - 30 and rep.problem["dropped_samples"] == 30
    _tight([rep])


def test_reference_distance(binary, regression):
    X, y, sw = binary
    m = _fit(LinearSVC(loss="hinge", **TIGHT), X, y, sw)
    ref = certify_liblinear(m, X, y, sw, reference=True)[0].reference
    assert abs(ref["rel_objective_diff"]) < 1e-7 and ref["max_decision_diff"] < 1e-4
    assert ref["prediction_mismatch"] == 0.0 and ref["reference_rel_gap"] < 1e-6
    loose = _fit(LinearSVC(loss="hinge", tol=1.0, max_iter=3, random_state=0), X, y, sw)
    rep = certify_liblinear(loose, X, y, sw, reference=True)[0]
    assert rep.reference["rel_objective_diff"] > 1e-4 and rep.reference["max_decision_diff"] > 1e-3
    # the duality gap bounds the distance to the optimum
    assert rep.reference["objective_diff"] <= rep.certificate.gap * (1 + 1e-9)
    svr = _fit(LinearSVR(**TIGHT), *regression[:2], regression[2])
    assert certify_liblinear(svr, *regression, reference=True)[0].reference["prediction_mismatch"] is None


def test_report_type_and_dict(binary):
    X, y, sw = binary
    m = _fit(LinearSVC(), X, y, sw)
    rep = certify_liblinear(m, X, y, sw)[0]
    assert isinstance(rep, SubproblemReport)
    d = rep.to_dict()
    assert d["form"] == "liblinear:squared_hinge" and d["reference"] is None and np.isfinite(d["rel_gap"])


def test_crammer_singer_is_refused(three):
    X, y, _ = three
    m = _fit(LinearSVC(multi_class="crammer_singer"), X, y, None)
    with pytest.raises(TypeError, match="crammer_singer"):
        certify_liblinear(m, X, y, None)


def test_bad_inputs_are_named(binary):
    X, y, sw = binary
    m = _fit(LinearSVC(), X, y, sw)
    with pytest.raises(TypeError, match="LinearSVC or LinearSVR"):
        certify_liblinear(SVC(kernel="linear").fit(X, y), X, y)
    with pytest.raises(NotFittedError):
        certify_liblinear(LinearSVC(), X, y)
    with pytest.raises(ValueError, match="X has 4 features"):
        certify_liblinear(m, X[:, :4], y, sw)
    with pytest.raises(ValueError, match="y must have shape"):
        certify_liblinear(m, X, y[:-1], sw)
    with pytest.raises(ValueError, match=r"labels the model was not fitted on: \[7\]"):
        certify_liblinear(m, X, np.where(y == 1, 1, 7), sw)
    mixed = y.astype(object)
    mixed[0] = "a"
    with pytest.raises(ValueError, match=r"not fitted on: \['a'\]"):
        certify_liblinear(m, X, mixed, sw)
    with pytest.raises(ValueError, match="sample_weight"):
        certify_liblinear(m, X, y, -sw)
    with pytest.raises(ValueError, match="sample_weight"):
        certify_liblinear(m, X, y, sw[:-1])
    with pytest.raises(ValueError, match="y is required"):
        certify_liblinear(m, X, None, sw)
    m.coef_ = m.coef_ * np.nan
    with pytest.raises(ValueError, match="NaN"):
        certify_liblinear(m, X, y, sw)


def test_certify_model_reaches_this_certifier(three):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from glopt.audit import certify_model

    X, y, _ = three
    pipe = make_pipeline(StandardScaler(), LinearSVC(**TIGHT)).fit(X, y)
    report = certify_model(pipe, X, y)
    assert report.ok(1e-6) and [s.label for s in report.subproblems] == [
        "class 'ant' vs rest", "class 'bee' vs rest", "class 'cat' vs rest"]
