"""The dual-form adapters (glopt.dual) against the dense QP they stand for."""
import numpy as np
import pytest
from conftest import random_problem

from glopt import smo
from glopt.certify import certify
from glopt.dual import FORMS, DualForm, dual_form


@pytest.mark.parametrize("task", ["svc", "svr"])
@pytest.mark.parametrize("weighted", [False, True])
def test_form_matches_the_dense_dual(task, weighted):
    pr = random_problem(0, n=25, task=task, weighted=weighted)
    form = dual_form(pr)
    l = pr.n if task == "svc" else 2 * pr.n
    assert form.size == l and form.n_samples == pr.n and form.index.dtype == np.int32
    rng = np.random.default_rng(1)
    a = rng.uniform(0.0, 1.0, l) * form.upper
    K = pr.gram()
    Q = form.dense_q(K)
    coef = form.coef(a)
    # coef and the gradient Q a + q from K coef alone
    if task == "svc":
        np.testing.assert_array_equal(coef, pr.y * a)
    else:
        np.testing.assert_array_equal(coef, a[:pr.n] - a[pr.n:])
    np.testing.assert_allclose(form.gradient(K @ coef), Q @ a + form.linear, rtol=1e-12, atol=1e-12)
    # the dual objective -(0.5 a^T Q a + q^T a) = lin - 0.5 coef^T K coef
    np.testing.assert_allclose(form.linear_value(a) - 0.5 * coef @ K @ coef,
                               -(0.5 * a @ Q @ a + form.linear @ a), rtol=1e-12)
    np.testing.assert_allclose(form.upper, np.tile(pr.upper, l // pr.n))
    np.testing.assert_allclose(form.sample_sums(a), a if task == "svc" else a[:pr.n] + a[pr.n:])


@pytest.mark.parametrize("task", ["svc", "svr"])
def test_margin_slack_is_the_primal_constraint(task):
    pr = random_problem(2, n=20, task=task)
    form = dual_form(pr)
    f = np.random.default_rng(3).normal(size=pr.n)
    zeta = pr.slack(f)
    g = form.margin_slack(f, zeta)
    assert np.all(g >= -1e-12)  # the optimal slacks satisfy every margin constraint
    if task == "svc":
        np.testing.assert_allclose(g, pr.y * f - 1.0 + zeta, atol=1e-12)
    else:
        r = pr.y - f
        np.testing.assert_allclose(g, np.concatenate([pr.epsilon + zeta - r, pr.epsilon + zeta + r]), atol=1e-12)


def test_feasible_start_restores_the_balance_within_the_box():
    pr = random_problem(4, n=30, task="svc", weighted=True)
    form = dual_form(pr)
    a0 = np.random.default_rng(5).uniform(-1.0, 3.0, pr.n)
    a = form.feasible_start(a0)
    assert np.all(a >= 0) and np.all(a <= form.upper)
    assert abs(form.sign @ a) <= 1e-12 * form.upper.sum()
    with pytest.raises(ValueError, match="cannot be made feasible"):
        form.feasible_start(np.zeros(pr.n), balance=10.0 * form.upper.sum())


@pytest.mark.parametrize("task", ["svc", "svr"])
def test_smo_and_certifier_read_the_same_form(task):
    pr = random_problem(6, n=40, task=task)
    res = smo.solve(pr, tol=1e-8, precision="double")
    form = dual_form(pr)
    np.testing.assert_array_equal(res.coef, form.coef(res.a))
    np.testing.assert_allclose(res.extra["grad"], form.gradient(pr.kernel(pr.X) @ res.coef), atol=1e-9)
    assert certify(res, pr).ok(1e-6)


def test_every_task_has_an_adapter_and_other_objects_are_refused():
    assert set(FORMS) == {"svc", "svr", "nu_svc", "nu_svr", "one_class"}
    assert isinstance(dual_form(random_problem(0, n=8)), DualForm)
    with pytest.raises(TypeError, match="SVMProblem"):
        dual_form("svc")


@pytest.mark.parametrize("task", ["svc", "svr", "nu_svc", "nu_svr", "one_class"])
def test_kernel_product_inverts_the_gradient(task):
    from glopt.problem import SVMProblem

    base = random_problem(8, n=30, task="svr" if task in ("svr", "nu_svr") else "svc")
    labels = None if task == "one_class" else base.y
    pr = SVMProblem(base.X, labels, base.kernel, task, C=base.C, nu=0.4, epsilon=0.2)
    form = dual_form(pr)
    Kc = np.random.default_rng(1).normal(size=pr.n)
    np.testing.assert_allclose(form.kernel_product(form.gradient(Kc)), Kc, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="grad must have shape"):
        form.kernel_product(np.zeros(form.size + 1))


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("precision", ["single", "double"])
@pytest.mark.parametrize("task", ["svc", "svr", "nu_svc", "nu_svr", "one_class"])
def test_smo_certificate_from_its_gradient_equals_the_recomputed_one(task, precision, sparse):
    # the SMO's final gradient is exact (recomputed after the single phase): the certificate
    # built on it must agree with the certifier's own kernel pass
    import scipy.sparse as sps

    from glopt.problem import SVMProblem

    base = random_problem(9, n=120, d=4, task="svr" if task in ("svr", "nu_svr") else "svc")
    labels = None if task == "one_class" else base.y
    X = sps.csr_matrix(base.X) if sparse else base.X
    pr = SVMProblem(X, labels, base.kernel, task, C=base.C, nu=0.3, epsilon=0.2, weights=base.weights)
    res = smo.solve(pr, tol=1e-3, precision=precision)
    fast, full = smo.certificate(res, pr), certify(res, pr)
    for name in ("primal", "dual", "gap"):
        assert getattr(fast, name) == pytest.approx(getattr(full, name), rel=1e-10, abs=1e-10)
    assert fast.kkt_violation == pytest.approx(full.kkt_violation, rel=1e-8, abs=1e-11)
    assert fast.infeasibility == full.infeasibility
    with pytest.raises(ValueError, match="no SMO gradient"):
        from dataclasses import replace

        smo.certificate(replace(res, extra={}), pr)
