"""LIBSVM's nu-SVC, nu-SVR and one-class SVM: dual forms, the cvxpy reference, the SMO and the
certifier, against scikit-learn (LIBSVM)."""
import numpy as np
import pytest
from sklearn.svm import NuSVC, NuSVR, OneClassSVM

from glopt import smo
from glopt.certify import certify
from glopt.cvx import solve_reference
from glopt.dual import dual_form
from glopt.kernels import Kernel
from glopt.problem import SVMProblem

GAMMA = 0.5


def _data(seed, n=40):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=n) > 0, 1.0, -1.0)
    t = X[:, 1] + 0.1 * rng.normal(size=n)
    w = rng.uniform(0.5, 2.0, n)
    return X, y, t, w


def _case(task, seed=0, weighted=False, nu=0.3, n=40):
    X, y, t, w = _data(seed, n)
    labels = {"nu_svc": y, "nu_svr": t, "one_class": None}[task]
    C = 2.0 if task == "nu_svr" else 1.0
    problem = SVMProblem(X, labels, Kernel("rbf", gamma=GAMMA), task=task, C=C, nu=nu,
                         weights=w if weighted else None)
    peer = {"nu_svc": NuSVC(nu=nu, gamma=GAMMA, tol=1e-10),
            "nu_svr": NuSVR(nu=nu, C=C, gamma=GAMMA, tol=1e-10),
            "one_class": OneClassSVM(nu=nu, gamma=GAMMA, tol=1e-10)}[task]
    fit_args = (X,) if labels is None else (X, labels)
    peer.fit(*fit_args, sample_weight=w if weighted else None)
    return problem, peer


def _peer_coef(peer, n):
    coef = np.zeros(n)
    coef[peer.support_] = np.asarray(peer.dual_coef_).ravel()
    return coef


@pytest.mark.parametrize("task", ["nu_svc", "nu_svr", "one_class"])
def test_start_is_libsvms_feasible_point(task):
    problem, _ = _case(task, weighted=True)
    form = dual_form(problem)
    np.testing.assert_allclose(form.rows @ form.start, form.rhs, rtol=1e-12)
    assert np.all(form.start >= 0) and np.all(form.start <= form.upper)
    assert form.nu == (task != "one_class")


@pytest.mark.parametrize("task", ["nu_svc", "nu_svr", "one_class"])
@pytest.mark.parametrize("weighted", [False, True])
def test_reference_certifies_and_matches_libsvm(task, weighted):
    problem, peer = _case(task, seed=1, weighted=weighted)
    ref = solve_reference(problem)
    cert = certify(ref, problem)
    assert cert.ok(1e-6), cert
    scale = max(1.0, np.abs(ref.coef).max())
    np.testing.assert_allclose(ref.coef, _peer_coef(peer, problem.n), atol=1e-5 * scale)
    assert abs(ref.b - float(peer.intercept_[0])) <= 1e-5 * max(1.0, abs(ref.b))


@pytest.mark.parametrize("weighted", [False, True])
def test_one_class_smo_matches_libsvm_and_certifies(weighted):
    problem, peer = _case("one_class", seed=2, weighted=weighted, n=200)
    res = smo.solve(problem, tol=1e-8, precision="double")
    assert certify(res, problem).ok(1e-6)
    coef = _peer_coef(peer, problem.n)
    np.testing.assert_allclose(res.coef, coef, atol=1e-6 * max(1.0, np.abs(coef).max()))
    assert abs(res.b - float(peer.intercept_[0])) <= 1e-6 * max(1.0, abs(res.b))


def test_certifier_sees_a_wrong_answer():
    problem, _ = _case("nu_svc", seed=3)
    ref = solve_reference(problem)
    bad = type(ref)(coef=ref.coef, b=ref.b + 0.5, a=ref.a, extra=dict(ref.extra))
    assert not certify(bad, problem).ok(1e-3)
    off = type(ref)(coef=ref.coef, b=ref.b, a=ref.a * 1.1, extra=dict(ref.extra))
    assert certify(off, problem).infeasibility > 1e-3


def test_nu_answers_need_r():
    problem, _ = _case("nu_svr", seed=4)
    ref = solve_reference(problem)
    no_r = type(ref)(coef=ref.coef, b=ref.b, a=ref.a)
    with pytest.raises(ValueError, match="r"):
        certify(no_r, problem)


def test_bad_nu_and_infeasible_nu_are_refused():
    X, y, t, _ = _data(5)
    for nu in (0.0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="nu"):
            SVMProblem(X, y, task="nu_svc", nu=nu)
    y_skewed = np.where(np.arange(40) < 5, 1.0, -1.0)
    with pytest.raises(ValueError, match="infeasible"):
        SVMProblem(X, y_skewed, task="nu_svc", nu=0.5)
    with pytest.raises(ValueError, match="y=None"):
        SVMProblem(X, y, task="one_class")
    with pytest.raises(ValueError, match="p=1"):
        SVMProblem(X, t, task="nu_svr", p=2)
    with pytest.raises(ValueError, match="slack"):
        SVMProblem(X, t, task="nu_svr").slack(np.zeros(40))


@pytest.mark.parametrize("task", ["nu_svc", "nu_svr"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nu_smo_matches_libsvm_and_certifies(task, weighted):
    problem, peer = _case(task, seed=6, weighted=weighted, n=200)
    res = smo.solve(problem, tol=1e-8, precision="double")
    assert np.isfinite(res.extra["r"])
    assert certify(res, problem).ok(1e-6)
    coef = _peer_coef(peer, problem.n)
    # the dual objective of the solved form (nu-SVC: in LIBSVM's scaled variables, coef * r):
    # LIBSVM rounds its kernel columns to float, so it is a hair from the optimum glopt certifies
    K = problem.kernel(problem.X)
    form = dual_form(problem)

    def dual_value(c):
        if task == "nu_svr":
            return float(problem.y @ c) - 0.5 * c @ K @ c
        r = form.rhs[0] / np.abs(c[problem.y > 0]).sum()  # each class of a sums to rhs
        return -0.5 * (r * c) @ K @ (r * c)

    ours, theirs = dual_value(res.coef), dual_value(coef)
    assert ours >= theirs - 1e-9 * max(1.0, abs(theirs))
    assert abs(ours - theirs) <= 1e-6 * max(1.0, abs(theirs))
    # the decision values (w is unique even where the coefficients are not)
    f_ours, f_theirs = K @ res.coef + res.b, K @ coef + float(peer.intercept_[0])
    np.testing.assert_allclose(f_ours, f_theirs, atol=1e-4 * max(1.0, np.abs(f_theirs).max()))


# --------------------------------------------------------------------------------------------
# every formulation on random problems: the SMO reaches the reference's optimum
# --------------------------------------------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(task=st.sampled_from(["svc", "svr", "nu_svc", "nu_svr", "one_class"]),
       seed=st.integers(0, 10_000), nu=st.floats(0.1, 0.6), kernel=st.sampled_from(["rbf", "linear", "poly"]),
       weighted=st.booleans())
def test_smo_reaches_the_reference_optimum(task, seed, nu, kernel, weighted):
    X, y, t, w = _data(seed, n=30)
    labels = {"svc": y, "nu_svc": y, "svr": t, "nu_svr": t, "one_class": None}[task]
    k = {"rbf": Kernel("rbf", gamma=GAMMA), "linear": Kernel("linear"),
         "poly": Kernel("poly", gamma=0.3, degree=2, coef0=1.0)}[kernel]
    try:
        problem = SVMProblem(X, labels, k, task=task, C=1.5, nu=nu, weights=w if weighted else None)
    except ValueError as exc:  # an infeasible nu for the drawn classes is refused, by name
        assert "infeasible" in str(exc)
        return
    ref = solve_reference(problem)
    res = smo.solve(problem, tol=1e-9, precision="double")
    for cert in (certify(ref, problem), certify(res, problem)):
        # KKT and feasibility to 1e-6, the gap to 1e-6 of max(1, |objective|): a nu-SVC whose
        # reduced hulls nearly touch has an optimum near 0, where a relative gap means nothing
        assert cert.kkt_violation <= 1e-6 and cert.infeasibility <= 1e-6, cert
        assert abs(cert.gap) <= 1e-6 * max(1.0, abs(cert.primal)), cert
    assert abs(certify(res, problem).dual - certify(ref, problem).dual) <= 1e-6 * max(1.0, abs(certify(ref, problem).dual))


def test_nu_svc_without_margin_says_so():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    keep = y < 2
    problem = SVMProblem(X[keep], np.where(y[keep] == 1, 1.0, -1.0), Kernel("rbf", gamma=0.25),
                         task="nu_svc", nu=1.0)
    with pytest.raises(FloatingPointError, match="no margin"):
        smo.solve(problem)
