"""M3SVM: scikit-learn conventions, L-BFGS against the exact cvxpy reference, gradients, bad input."""

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from glopt.cvx.m3svm import solve_m3svm_reference
from glopt.datasets import load_keel
from glopt.multiclass import M3SVM, m3svm_objective, smooth_hinge, solve_lbfgs
from glopt.multiclass.solver import _Problem

# The default estimator (smoothed hinge) and ISM3 with the paper's p = 4 (covers predict_proba).
# Every check passes; none is marked as an expected failure.
@parametrize_with_checks([M3SVM(), M3SVM(loss="logistic", p=4)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _random_problem(seed, n=60, d=4, k=3, weighted=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, k, n)
    X[np.arange(n), y % d] += 1.5          # some class structure, not separable
    sw = rng.uniform(0.2, 3.0, n) if weighted else None
    return X, y, sw


# (loss, p, alpha, k, weighted): powers below, at and above 2, weights, 3-5 classes
CASES = [("smooth_hinge", 2.0, 1e-2, 3, False), ("smooth_hinge", 4.0, 1e-3, 4, False),
         ("smooth_hinge", 1.5, 1e-1, 5, True), ("smooth_hinge", 3.0, 1e-3, 3, True),
         ("logistic", 3.0, 1e-2, 3, False), ("logistic", 2.0, 1e-3, 4, True)]


@pytest.mark.parametrize("loss,p,alpha,k,weighted", CASES)
def test_lbfgs_reaches_cvx_optimum(loss, p, alpha, k, weighted):
    X, y, sw = _random_problem(int(p * 10) + k, k=k, weighted=weighted)
    ref = solve_m3svm_reference(X, y, k, alpha=alpha, p=p, loss=loss, delta=0.1, sample_weight=sw)
    assert ref.status == "optimal"
    # the reference's own value and the numpy objective at its solution agree (same problem)
    assert ref.objective == pytest.approx(ref.solver_objective, rel=1e-7)
    res = solve_lbfgs(X, y, k, alpha=alpha, p=p, loss=loss, delta=0.1, sample_weight=sw)
    assert res["objective"] == pytest.approx(ref.objective, rel=1e-5)
    # L-BFGS cannot beat the optimum by more than the reference's tolerance
    assert res["objective"] >= ref.objective - 10 * ref.tol * max(1.0, abs(ref.objective))
    # p > 1: the centred minimizer is unique, so the solutions themselves agree
    np.testing.assert_allclose(res["coef"], ref.coef, atol=1e-3 * max(1.0, np.abs(ref.coef).max()))
    np.testing.assert_allclose(res["coef"].sum(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(res["intercept"].sum(), 0.0, atol=1e-9)


def _vehicle_subsample(n=200, seed=0):
    X, y = load_keel("vehicle", return_X_y=True)
    X, _, y, _ = train_test_split(X, y, train_size=n, stratify=y, random_state=seed)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("p,alpha", [(4.0, 1e-3), (2.0, 1e-2)])
def test_lbfgs_reaches_cvx_optimum_on_vehicle(p, alpha):
    X, y = _vehicle_subsample()
    ref = solve_m3svm_reference(X, y, 4, alpha=alpha, p=p, loss="smooth_hinge", delta=0.1)
    est = M3SVM(alpha=alpha, p=p, delta=0.1).fit(X, y)
    assert est.objective_ == pytest.approx(ref.objective, rel=1e-5)
    assert est.objective_ >= ref.objective - 10 * ref.tol * abs(ref.objective)
    est_cvx = M3SVM(alpha=alpha, p=p, delta=0.1, solver="cvx").fit(X, y)
    assert est_cvx.objective_ == pytest.approx(ref.objective, rel=1e-9)
    assert np.mean(est.predict(X) == est_cvx.predict(X)) >= 0.99   # ties aside, the same model


def test_smoothed_solution_tends_to_hinge_optimum():
    """0 <= h_delta - max(0, .) <= delta / 2, so J_0(theta_delta) - J_0* is in [0, (k-1) delta / 2]."""
    k, p, alpha = 3, 2.0, 1e-2
    X, y, _ = _random_problem(1, n=80, k=k)
    hinge = solve_m3svm_reference(X, y, k, alpha=alpha, p=p, loss="hinge")
    J0 = hinge.objective
    gaps = []
    for delta in (1e-2, 1e-3, 1e-4):
        res = solve_lbfgs(X, y, k, alpha=alpha, p=p, delta=delta)
        gap = m3svm_objective(res["coef"], res["intercept"], X, y, alpha=alpha, p=p, loss="hinge") - J0
        bound = (k - 1) * delta / 2
        assert -10 * hinge.tol * J0 <= gap <= bound
        assert J0 - 10 * hinge.tol * J0 <= res["objective"] <= J0 + bound   # the smoothed optimum
        gaps.append(gap / J0)
    # it converges (about linearly in delta) and reaches 1e-5 relative
    assert gaps[1] < gaps[0] / 3 and gaps[2] < gaps[1] / 3
    assert gaps[2] <= 1e-5


@pytest.mark.parametrize("loss", ["smooth_hinge", "logistic"])
@pytest.mark.parametrize("p", [1.5, 2.0, 3.5])
def test_gradient_matches_finite_differences(loss, p):
    rng = np.random.default_rng(7)
    k, d = 4, 3
    X, y, sw = _random_problem(3, n=30, d=d, k=k, weighted=True)
    W, b = rng.normal(size=(k, d)), rng.normal(size=k)
    kw = dict(alpha=0.3, p=p, loss=loss, delta=0.05, sample_weight=sw)
    _, gW, gb = m3svm_objective(W, b, X, y, return_grad=True, **kw)
    theta = np.concatenate([W.ravel(), b])
    grad = np.concatenate([gW.ravel(), gb])

    def f(t):
        return m3svm_objective(t[:k * d].reshape(k, d), t[k * d:], X, y, **kw)

    h = 1e-6
    fd = np.array([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(theta.size)])
    # central differences: error O(h^2 f''') + O(eps f / h) ~ 1e-9 here
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("loss,p", [("smooth_hinge", 1.5), ("smooth_hinge", 4.0), ("logistic", 2.0)])
def test_hessian_matches_finite_differences(loss, p):
    """The Newton polish uses the exact Hessian of the minimized function (penalty included)."""
    rng = np.random.default_rng(11)
    k, d = 3, 3
    X, y, sw = _random_problem(4, n=25, d=d, k=k, weighted=True)
    prob = _Problem(X, y, sw / sw.sum(), k, 0.2, p, loss, 0.1)
    theta = rng.normal(size=k * (d + 1))
    H = prob.hessian(theta)
    h = 1e-6
    fd = np.array([(prob(theta + h * e)[1] - prob(theta - h * e)[1]) / (2 * h) for e in np.eye(theta.size)])
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    np.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("p", [1.0, 1.5])
def test_regularizer_gradient_guarded_where_classes_coincide(p):
    """For p < 2, ||w_k - w_l||^p has no (p = 1) or a 0/0 (1 < p < 2) gradient formula at w_k = w_l."""
    X, y, _ = _random_problem(5, n=20, d=3, k=3)
    W = np.array([[1.0, -2.0, 0.5], [1.0, -2.0, 0.5], [-2.0, 4.0, -1.0]])   # w_0 == w_1
    b = np.zeros(3)
    value, gW, gb = m3svm_objective(W, b, X, y, alpha=1.0, p=p, return_grad=True)
    assert np.isfinite(value) and np.all(np.isfinite(gW)) and np.all(np.isfinite(gb))
    if p > 1:  # differentiable there, with the pair's contribution 0: finite differences agree
        theta = W.ravel()

        def f(t):
            return m3svm_objective(t.reshape(3, 3), b, X, y, alpha=1.0, p=p)

        h = 1e-7
        fd = np.array([(f(theta + h * e) - f(theta - h * e)) / (2 * h) for e in np.eye(9)])
        np.testing.assert_allclose(gW.ravel(), fd, atol=1e-5)


def test_smooth_hinge_is_accurate_where_it_cancels():
    u = np.array([-1e8, -1e3, -1.0, 0.0, 1.0, 1e3])
    delta = 1e-3
    h, dh = smooth_hinge(u, delta, derivative=True)
    # exact values: delta^2 / (2 (sqrt(u^2 + delta^2) - u)) for u < 0 (no cancellation)
    exact = np.where(u < 0, delta ** 2 / (2 * (np.sqrt(u ** 2 + delta ** 2) - u)), (u + np.hypot(u, delta)) / 2)
    np.testing.assert_allclose(h, exact, rtol=1e-14)
    assert np.all(h > 0) and np.all(h - np.maximum(u, 0) <= delta / 2)
    assert np.all((dh > 0) & (dh < 1))


def test_labels_weights_proba_and_centring():
    X, y, _ = _random_problem(8, n=90, k=3)
    labels = np.array(["cat", "dog", "emu"])[y]
    est = M3SVM(alpha=1e-2, p=3).fit(X, labels)
    assert list(est.classes_) == ["cat", "dog", "emu"]
    assert est.coef_.shape == (3, 4) and est.intercept_.shape == (3,) and est.n_iter_ >= 1
    np.testing.assert_allclose(est.coef_.sum(axis=0), 0.0, atol=1e-10)
    assert set(est.predict(X)) <= set(labels)
    assert not hasattr(est, "predict_proba")          # hinge losses give no probabilities
    # integer weights = repetition (the loss is a weighted mean)
    sw = np.random.default_rng(0).integers(1, 4, size=len(y))
    a = M3SVM(alpha=1e-2, p=3).fit(X, labels, sample_weight=sw)
    b = M3SVM(alpha=1e-2, p=3).fit(np.repeat(X, sw, axis=0), np.repeat(labels, sw))
    np.testing.assert_allclose(a.decision_function(X), b.decision_function(X), rtol=1e-8, atol=1e-10)
    lg = M3SVM(loss="logistic", alpha=1e-2).fit(X, labels)
    P = lg.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert (lg.classes_[P.argmax(axis=1)] == lg.predict(X)).all()
    # deterministic: a refit is bit-identical
    assert np.array_equal(M3SVM(alpha=1e-2, p=3).fit(X, labels).coef_, est.coef_)


def test_hinge_needs_cvx_and_cvx_solves_it():
    X, y, _ = _random_problem(9, n=40, k=3)
    with pytest.raises(ValueError, match="solver='cvx'"):
        M3SVM(loss="hinge").fit(X, y)
    est = M3SVM(loss="hinge", solver="cvx", alpha=1e-2).fit(X, y)
    ref = solve_m3svm_reference(X, y, 3, alpha=1e-2, p=2.0, loss="hinge")
    assert est.objective_ == pytest.approx(ref.objective, rel=1e-9)


def test_max_iter_warns():
    X, y, _ = _random_problem(10, n=60, k=3)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        M3SVM(max_iter=2).fit(X, y)


@pytest.mark.parametrize("params,match", [
    (dict(p=0.5), "p must be >= 1"), (dict(p=np.inf), "p must be a finite"),
    (dict(alpha=-1e-3), "alpha must be >= 0"), (dict(delta=0.0), "delta"),
    (dict(loss="squared"), "loss must be one of"), (dict(solver="adam"), "solver must be one of"),
    (dict(tol=-1.0), "tol"), (dict(max_iter=0), "max_iter")])
def test_bad_parameters(params, match):
    X, y, _ = _random_problem(0)
    with pytest.raises(ValueError, match=match):
        M3SVM(**params).fit(X, y)


def test_bad_data():
    X, y, _ = _random_problem(0)
    with pytest.raises(ValueError, match="class"):
        M3SVM().fit(X, np.zeros(len(y)))
    for bad in (np.nan, np.inf):
        Xb = X.copy()
        Xb[3, 1] = bad
        with pytest.raises(ValueError, match="NaN|infinity"):
            M3SVM().fit(Xb, y)
    with pytest.raises(ValueError, match="nonnegative"):
        M3SVM().fit(X, y, sample_weight=-np.ones(len(y)))
    sw = (y == 0).astype(float)                      # only one class keeps a positive weight
    with pytest.raises(ValueError, match="class"):
        M3SVM().fit(X, y, sample_weight=sw)
    est = M3SVM().fit(X, y)
    with pytest.raises(ValueError, match="NaN|infinity"):
        est.predict(np.full((2, X.shape[1]), np.nan))
