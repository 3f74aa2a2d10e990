"""Certificates of glopt's own models from their fitted state (glopt.audit._generalized): GLSVC, GLSVR, M3SVM."""
import warnings
from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from glopt import GLSVC, GLSVR
from glopt.audit._generalized import certify_generalized
from glopt.cvx.m3svm import solve_m3svm_reference
from glopt.mm import stationarity
from glopt.multiclass import M3SVM
from glopt.problem import SVMProblem
from glopt.result import SVMResult


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(n_samples=70, n_features=4, random_state=0)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, y.size)
    return StandardScaler().fit_transform(X), y, sw


@pytest.fixture(scope="module")
def three():
    X, y = make_classification(n_samples=84, n_features=4, n_informative=3, n_redundant=0, n_classes=3,
                               random_state=1)
    return StandardScaler().fit_transform(X), np.array(["ant", "bee", "cat"])[y]


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=60, n_features=3, noise=5.0, random_state=0)
    sw = np.random.default_rng(2).uniform(0.5, 2.0, y.size)
    return StandardScaler().fit_transform(X), y / y.std(), sw


def _same(report, fitted, rel=1e-6):
    """The re-certification reproduces the fit's own certificate."""
    c = report.certificate
    assert c.primal == pytest.approx(fitted.primal, rel=rel)
    assert c.dual == pytest.approx(fitted.dual, rel=rel)
    assert c.kkt_violation == pytest.approx(fitted.kkt_violation, rel=1e-4, abs=1e-9)
    assert c.infeasibility == pytest.approx(fitted.infeasibility, rel=1e-4, abs=1e-12)


GL_FORMS = [dict(), dict(p=2), dict(s_kernel="I"), dict(p=2, s_kernel="I"), dict(kernel="linear", s_kernel="M")]


@pytest.mark.parametrize("params", GL_FORMS)
def test_glsvc_binary_reproduces_the_fit(binary, params):
    X, y, sw = binary
    m = GLSVC(**params).fit(X, y, sample_weight=sw)
    reports = certify_generalized(m, X, y, sw)
    assert [r.label for r in reports] == ["binary"] and reports[0].form == "generalized"
    _same(reports[0], m.certificate_[0])
    assert reports[0].ok(m.cert_tol) == bool(m.certified_[0])
    p = reports[0].problem
    assert p["p"] == m.p and p["s_kernel"] == m.s_kernel and p["gamma_s"] == m.gamma_s_ and p["n_samples"] == y.size
    nonconvex = m.p == 1 and m.s_kernel != "I"
    assert p["certificate"] == ("stationarity" if nonconvex else "optimality")
    assert (p["gl_objective"] is not None) == nonconvex


@pytest.mark.parametrize("params", [dict(), dict(p=2), dict(class_weight="balanced", class_mask=True)])
def test_glsvc_three_classes_one_report_per_pair(three, params):
    X, y = three
    m = GLSVC(**params).fit(X, y)
    reports = certify_generalized(m, X, y)
    assert [r.label for r in reports] == ["classes ('ant', 'bee')", "classes ('ant', 'cat')", "classes ('bee', 'cat')"]
    for rep, fitted in zip(reports, m.certificate_):
        _same(rep, fitted)
        assert rep.ok(m.cert_tol)


def test_stationarity_is_glopts(binary):
    """p = 1 with S != I: the KKT violation is glopt.mm.stationarity of the model's answer."""
    X, y, sw = binary
    m = GLSVC(eps=1e-3).fit(X, y, sample_weight=sw)
    rep = certify_generalized(m, X, y, sw)[0]
    problem = SVMProblem(X, np.where(y == 1, 1.0, -1.0), m._kernel_, "svc", C=m.C, weights=sw)
    coef = np.zeros(y.size)
    coef[m.support_] = m.dual_coef_[0]
    result = SVMResult(coef=coef, b=float(m.intercept_[0]), a=problem.y * coef)
    S = m._correlation(X, None)
    assert rep.certificate.kkt_violation == pytest.approx(stationarity(result, problem, S, m.eps), rel=1e-9)
    assert rep.problem["eps"] == 1e-3


@pytest.mark.parametrize("params", [dict(), dict(p=2), dict(s_kernel="I")])
def test_glsvr_reproduces_the_fit(regression, params):
    X, y, sw = regression
    m = GLSVR(C=5.0, epsilon=0.1, **params).fit(X, y, sample_weight=sw)
    reports = certify_generalized(m, X, y, sw)
    assert [r.label for r in reports] == ["regression"]
    _same(reports[0], m.certificate_[0])
    assert reports[0].ok(m.cert_tol) and reports[0].problem["epsilon"] == 0.1


def test_sparse_inputs_match_dense(binary):
    X, y, sw = binary
    m = GLSVC().fit(sp.csr_matrix(X), y, sample_weight=sw)
    dense = certify_generalized(m, X, y, sw)[0].certificate
    sparse = certify_generalized(m, sp.csr_matrix(X), y, sw)[0].certificate
    assert sparse.primal == pytest.approx(dense.primal, rel=1e-10)
    assert sparse.kkt_violation == pytest.approx(dense.kkt_violation, rel=1e-6, abs=1e-12)


def test_zero_weights_and_rff_with_seed(binary):
    X, y, sw = binary
    sw0 = sw.copy()
    sw0[:7] = 0.0
    m = GLSVC(s_approx="rff", n_components=200, gamma_s=0.05, random_state=3).fit(X, y, sample_weight=sw0)
    rep = certify_generalized(m, X, y, sw0)[0]
    assert rep.problem["n_samples"] == y.size - 7 and rep.problem["dropped_samples"] == 7
    _same(rep, m.certificate_[0])


# ---------------------------------------------------------------------------------------------
# a changed answer fails, named
# ---------------------------------------------------------------------------------------------
def test_perturbed_pair_fails_by_name(three):
    X, y = three
    m = GLSVC(p=2).fit(X, y)
    assert all(r.ok(1e-6) for r in certify_generalized(m, X, y))
    m.intercept_ = m.intercept_.copy()
    m.intercept_[2] += 0.05
    failed = [r.label for r in certify_generalized(m, X, y) if not r.ok(1e-3)]
    assert failed == ["classes ('bee', 'cat')"]


@pytest.mark.parametrize("params", [dict(), dict(s_kernel="I")])
def test_perturbed_coefficients_fail(binary, params):
    X, y, sw = binary
    m = GLSVC(**params).fit(X, y, sample_weight=sw)
    assert certify_generalized(m, X, y, sw)[0].ok(m.cert_tol)
    m.dual_coef_ = m.dual_coef_ * 0.9
    assert not certify_generalized(m, X, y, sw)[0].ok(m.cert_tol)


def test_other_weights_certify_another_problem(binary):
    X, y, sw = binary
    m = GLSVC(p=2).fit(X, y, sample_weight=sw)
    assert certify_generalized(m, X, y, sw)[0].ok(1e-6)
    assert not certify_generalized(m, X, y, np.ones_like(sw))[0].ok(1e-3)


def test_reference_distance(binary, regression):
    X, y, sw = binary
    m = GLSVC(p=2).fit(X, y, sample_weight=sw)
    ref = certify_generalized(m, X, y, sw, reference=True)[0].reference
    assert abs(ref["rel_objective_diff"]) < 1e-8 and ref["prediction_mismatch"] == 0.0
    assert ref["reference_rel_gap"] < 1e-8
    Xr, yr, swr = regression
    m = GLSVR(C=5.0).fit(Xr, yr, sample_weight=swr)
    ref = certify_generalized(m, Xr, yr, swr, reference=True)[0].reference
    assert abs(ref["rel_objective_diff"]) < 1e-4 and ref["prediction_mismatch"] is None


def test_gl_bad_inputs(binary):
    X, y, sw = binary
    m = GLSVC().fit(X, y, sample_weight=sw)
    with pytest.raises(ValueError, match="support_vectors_"):
        certify_generalized(m, X[::-1].copy(), y, sw)
    with pytest.raises(ValueError, match="samples"):
        certify_generalized(m, X[:-1], y[:-1], sw[:-1])
    with pytest.raises(ValueError, match="y must have shape"):
        certify_generalized(m, X, y[:-1], sw)
    with pytest.raises(ValueError, match="not fitted on"):
        certify_generalized(m, X, y + 5, sw)
    with pytest.raises(ValueError, match="sample_weight"):
        certify_generalized(m, X, y, -sw)
    with pytest.raises(ValueError, match="y is required"):
        certify_generalized(m, X, None, sw)
    with pytest.raises(ValueError, match=r"not fitted on: \[5\]"):
        certify_generalized(m, X, np.where(y == y[0], 5, y), sw)
    with pytest.raises(TypeError, match="GLSVC, GLSVR or M3SVM"):
        certify_generalized(SVC().fit(X, y), X, y)
    rff = GLSVC(s_approx="rff", n_components=200, gamma_s=0.05).fit(X, y)
    with pytest.raises(ValueError, match="random_state"):
        certify_generalized(rff, X, y)


# ---------------------------------------------------------------------------------------------
# M3SVM: the Fenchel dual of its convex objective
# ---------------------------------------------------------------------------------------------
M3_FORMS = [dict(), dict(loss="logistic"), dict(p=3.0), dict(p=1.0), dict(fit_intercept=False),
            dict(loss="hinge", solver="cvx"), dict(loss="hinge", solver="cvx", p=3.0),
            dict(class_weight="balanced", C=0.5)]


@pytest.mark.parametrize("params", M3_FORMS)
@pytest.mark.parametrize("data", ["binary", "three"])
def test_m3svm_tight(request, data, params):
    X, y = request.getfixturevalue(data)[:2]
    m = M3SVM(**params).fit(X, y)
    reports = certify_generalized(m, X, y, reference=True)
    assert len(reports) == 1 and reports[0].form == "m3svm"
    assert reports[0].label == ("binary" if data == "binary" else "multi-class")
    c, ref = reports[0].certificate, reports[0].reference
    assert c.primal == pytest.approx(m.objective_, rel=1e-10)
    assert c.rel_gap < 1e-8 and c.kkt_violation < 1e-6 and abs(c.infeasibility) < 1e-8, c
    assert c.dual <= ref["objective"] + 1e-8                    # a lower bound on the optimum
    assert abs(ref["rel_objective_diff"]) < 1e-7 and ref["prediction_mismatch"] == 0.0


def test_m3svm_loose_fit_gap_bounds_its_suboptimality(three):
    X, y = three
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = M3SVM(p=3.0, max_iter=3).fit(X, y)
    c = certify_generalized(m, X, y)[0].certificate
    best = solve_m3svm_reference(X, np.searchsorted(m.classes_, y), 3, alpha=m.alpha_, p=3.0,
                                 loss="smooth_hinge").objective
    assert c.dual <= best + 1e-9 <= c.primal + 2e-9
    assert c.gap >= c.primal - best - 1e-9 and c.rel_gap > 1e-4 and c.kkt_violation > 1e-4


@pytest.mark.parametrize("params", [dict(), dict(loss="logistic", p=1.0)])
def test_m3svm_perturbed_fails(three, params):
    X, y = three
    m = M3SVM(**params).fit(X, y)
    assert certify_generalized(m, X, y)[0].ok(1e-6)
    m.coef_ = m.coef_ * 1.05
    assert not certify_generalized(m, X, y)[0].ok(1e-3)


def test_m3svm_sample_weight_and_inputs(three):
    X, y = three
    sw = np.random.default_rng(4).uniform(0.0, 2.0, y.size)
    m = M3SVM(loss="logistic").fit(X, y, sample_weight=sw)
    assert certify_generalized(m, X, y, sw)[0].ok(1e-8)
    assert not certify_generalized(m, X, y)[0].ok(1e-3)
    assert certify_generalized(m, sp.csr_matrix(X), y, sw)[0].ok(1e-8)
    with pytest.raises(ValueError, match="features"):
        certify_generalized(m, X[:, :3], y, sw)
    with pytest.raises(ValueError, match=r"not fitted on: \['ape'\] \(its classes are \['ant', 'bee', 'cat'\]\)"):
        certify_generalized(m, X, np.where(y == "ant", "ape", y), sw)
    with pytest.raises(ValueError, match="sample_weight"):
        certify_generalized(m, X, y, -sw)
    with pytest.raises(ValueError, match="y is required"):
        certify_generalized(m, X, None, sw)


def test_m3svm_zero_alpha_has_no_dual(three):
    X, y = three
    m = M3SVM(alpha=0.0, loss="logistic", max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m.fit(X, y)
    c = certify_generalized(m, X, y)[0].certificate
    assert np.isnan(c.dual) and not replace(c).ok(1.0)


def test_precomputed_kernel(binary):
    X, y, sw = binary
    K = X @ X.T
    m = GLSVC(kernel="precomputed", s_kernel="I").fit(K, y, sample_weight=sw)
    rep = certify_generalized(m, K, y, sw)[0]
    _same(rep, m.certificate_[0])
    assert rep.problem["kernel"] == "precomputed"


def test_certify_model_reaches_this_certifier(three):
    from sklearn.pipeline import make_pipeline

    from glopt.audit import certify_model

    X, y = three
    for model in (make_pipeline(StandardScaler(), GLSVC(p=2)), M3SVM(loss="logistic")):
        report = certify_model(model.fit(X, y), X, y)
        assert report.ok() and all(s.form in ("generalized", "m3svm") for s in report.subproblems)
