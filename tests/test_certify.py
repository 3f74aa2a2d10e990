"""The scikit-learn adapter: the problem is read from the fitted model, and nothing it cannot
represent passes as a C-SVC."""
import numpy as np
import pytest
from sklearn.svm import SVC, SVR, NuSVC, NuSVR, OneClassSVM

from glopt import smo
from glopt.certify import certify, problem_from_sklearn, result_from_sklearn


def _data(n=80, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ rng.normal(size=3) + 0.4 * rng.normal(size=n)


def test_svc_problem_is_read_from_the_model():
    X, score = _data()
    y = np.where(score > 0, "yes", "no")
    sw = np.random.default_rng(1).uniform(0.5, 2.0, size=y.size)
    est = SVC(C=3.0, gamma="scale", class_weight="balanced", tol=1e-9).fit(X, y, sample_weight=sw)
    pr = problem_from_sklearn(est, X, y, sample_weight=sw)
    assert pr.kernel.gamma == est._gamma and pr.C == 3.0
    np.testing.assert_array_equal(pr.y, np.where(y == est.classes_[1], 1.0, -1.0))
    np.testing.assert_allclose(pr.upper, 3.0 * sw * est.class_weight_[(y == est.classes_[1]).astype(int)])
    cert = certify(result_from_sklearn(est, pr), pr)
    assert cert.ok(1e-5)
    # the same problem solved by glopt's SMO has the same optimum
    ours = certify(smo.solve(pr, tol=1e-10), pr)
    assert ours.dual == pytest.approx(cert.dual, rel=1e-6)


def test_svr_problem_is_read_from_the_model():
    X, y = _data(seed=2)
    est = SVR(C=2.0, epsilon=0.3, gamma="auto", tol=1e-9).fit(X, y)
    pr = problem_from_sklearn(est, X, y)
    assert pr.epsilon == 0.3 and pr.kernel.gamma == pytest.approx(1.0 / 3)
    assert certify(result_from_sklearn(est, pr), pr).ok(1e-5)


@pytest.mark.parametrize("make", [lambda: NuSVC(), lambda: NuSVR(), lambda: OneClassSVM()])
def test_other_formulations_are_refused_by_name(make):
    X, y = _data(seed=3)
    est = make()
    est.fit(X) if isinstance(est, OneClassSVM) else est.fit(X, y if isinstance(est, NuSVR) else y > 0)
    with pytest.raises(TypeError, match=type(est).__name__):
        problem_from_sklearn(est, X, y)


def test_a_mismatched_problem_is_refused():
    X, score = _data(seed=4)
    y = np.where(score > 0, 1.0, -1.0)
    est = SVC(C=1.0, gamma=0.5).fit(X, y)
    pr = problem_from_sklearn(est, X, y)
    from dataclasses import replace

    with pytest.raises(ValueError, match="C"):
        result_from_sklearn(est, replace(pr, C=2.0))
    with pytest.raises(ValueError, match="labels"):
        result_from_sklearn(est, replace(pr, y=-pr.y))
