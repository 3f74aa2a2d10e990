"""The MM solver of the p = 1 generalized loss: same path with SMO and cvxpy inner solvers,
monotone up to the inner duality gap, stationary at the end."""
from dataclasses import replace

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from conftest import random_problem
from glopt.kernels import Correlation, Kernel, correlation_matrix, median_sq_distance
from glopt.mm import CvxInner, SMOInner, gl_objective, gl_weights, solve_mm, stationarity
from glopt.problem import SVMProblem


def _gl_case(seed, task, s_kernel, rel_gamma, n=60):
    pr = random_problem(seed, n=n, d=4, task=task, kernel="rbf", weighted=False)
    S = Correlation(pr.X, s_kernel, rel_gamma / median_sq_distance(pr.X))
    return pr, S


def _assert_taken_path_monotone(steps, n):
    """Taken steps decrease J_eps up to rounding; a step not taken rose within its duality gap."""
    rounding = 4.0 * n * np.finfo(float).eps
    prev = steps[0]
    assert prev.taken
    for step in steps[1:]:
        assert step.objective - prev.objective <= step.inner_gap + 1e-12 * abs(prev.objective)
        assert step.taken == (step.objective - prev.objective <= rounding * max(abs(step.objective),
                                                                              abs(prev.objective)))
        if step.taken:
            prev = step
    return prev


@pytest.mark.parametrize("task", ["svc", "svr"])
@pytest.mark.parametrize("s_kernel,rel_gamma", [("G", 1.0), ("G", 5.0), ("Q", 1.0), ("M", 2.0)])
def test_smo_and_cvx_inner_solvers_follow_the_same_path(task, s_kernel, rel_gamma):
    pr, S = _gl_case(0, task, s_kernel, rel_gamma)
    kw = dict(eps=1e-4, tol=1e-10, weight_tol=1e-7, max_iter=200, cert_tol=1e-6)
    r_cvx = solve_mm(pr, S, CvxInner(), **kw)
    r_smo = solve_mm(pr, S, SMOInner(tol=1e-11), **kw)
    h_cvx, h_smo = (r.extra["history"].record() for r in (r_cvx, r_smo))
    p_cvx, p_smo = h_cvx["objective"][h_cvx["taken"]], h_smo["objective"][h_smo["taken"]]
    m = min(len(p_cvx), len(p_smo))
    np.testing.assert_allclose(p_smo[:m], p_cvx[:m], rtol=1e-7)
    assert r_smo.extra["smoothed_objective"] == pytest.approx(r_cvx.extra["smoothed_objective"], rel=1e-6)
    assert r_smo.objective == pytest.approx(r_cvx.objective, rel=1e-5)
    for r in (r_cvx, r_smo):
        assert r.extra["stationarity"] <= 1e-6
        assert stationarity(r, pr, S, 1e-4) == pytest.approx(r.extra["stationarity"])
        steps = r.extra["history"].steps
        last = _assert_taken_path_monotone(steps, pr.n)
        # the returned model is the last taken iterate, the lowest of them all (up to rounding)
        assert r.extra["smoothed_objective"] == last.objective
        best = min(s.objective for s in steps if s.taken)
        assert last.objective <= best + 4.0 * pr.n * np.finfo(float).eps * abs(best)
        # the result's objective is the true (eps = 0) objective of the returned (coef, b)
        assert r.objective == pytest.approx(gl_objective(pr, S, r.coef, r.b), rel=1e-12)


def test_mm_never_worse_than_its_standard_svm_start():
    pr, S = _gl_case(1, "svc", "G", 1.0, n=80)
    r = solve_mm(pr, S, SMOInner(tol=1e-6))
    steps = r.extra["history"].steps
    assert r.extra["smoothed_objective"] < steps[0].objective
    best = min(s.objective for s in steps if s.taken)
    assert r.extra["smoothed_objective"] <= best + 4.0 * pr.n * np.finfo(float).eps * abs(best)


def test_identity_s_is_the_standard_svm_in_one_step():
    pr = random_problem(2, n=50, weighted=False)
    r = solve_mm(pr, np.eye(50), SMOInner(tol=1e-8))
    # at S = I the weights are the sample weights: the first MM step reproduces the start
    np.testing.assert_allclose(r.extra["weights"], 1.0)
    assert r.n_iter <= 2 and r.extra["stationarity"] <= 1e-7


def test_weights_combine_sample_weights_and_s():
    pr = random_problem(3, n=30, weighted=True)
    S = correlation_matrix(pr.X, "G", 0.3)
    xi = np.abs(np.random.default_rng(0).normal(size=30))
    e = np.sqrt(xi + 1e-4)
    d = np.sqrt(pr.sample_weight)
    Sw = S * d[:, None] * d[None, :]
    np.testing.assert_allclose(gl_weights(pr, S, xi, 1e-4), Sw @ e / e, rtol=1e-12)
    np.testing.assert_allclose(gl_weights(pr, np.eye(30), np.zeros(30), 1e-4), pr.sample_weight, rtol=1e-12)


def test_loose_inner_tolerance_is_refused():
    pr, S = _gl_case(4, "svc", "G", 1.0, n=20)
    with pytest.raises(ValueError, match="tol"):
        solve_mm(pr, S, SMOInner(tol=1e-3), eps=1e-4)
    with pytest.raises(ValueError, match="p must be 1"):
        solve_mm(SVMProblem(pr.X, pr.y, pr.kernel, p=2), S, SMOInner(tol=1e-6))
    with pytest.raises(ValueError, match="S has shape"):
        solve_mm(pr, np.eye(5), SMOInner(tol=1e-6))


def test_max_iter_warns():
    pr, S = _gl_case(5, "svc", "G", 1.0, n=40)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        r = solve_mm(pr, S, SMOInner(tol=1e-6), max_iter=1, tol=1e-12)
    assert r.status == "max_iter"


def test_a_step_that_does_not_majorize_is_caught(monkeypatch):
    """The derived bound J_eps(x+) <= J_eps(x) + gap holds for any feasible inner answer when the
    surrogate majorizes; a wrong slope (a bug) breaks it and must raise, not pass silently."""
    import glopt.mm as mm

    pr, S = _gl_case(6, "svc", "G", 1.0, n=40)
    monkeypatch.setattr(mm, "_tangent_slope", lambda Se, e: 0.2 * Se / e)
    with pytest.raises(RuntimeError, match="duality gap"):
        solve_mm(pr, S, SMOInner(tol=1e-8))


@pytest.mark.parametrize("newton", [False, True])
@pytest.mark.parametrize("task", ["svc", "svr"])
def test_inexact_mm_ends_where_plain_mm_ends(task, newton):
    """Inexact MM (loose inner tolerance first, tightened as the progress shrinks) reaches the
    same stationary point as plain MM with fewer inner iterations; every step is still checked
    against its own duality gap, loose steps that rise are discarded, and the run ends at the
    user's inner tolerance (so the certificate is plain MM's)."""
    pr, S = _gl_case(0, task, "G", 2.0, n=80)
    kw = dict(eps=1e-4, tol=1e-10, weight_tol=1e-7, max_iter=300)
    plain = solve_mm(pr, S, SMOInner(tol=1e-9, newton=newton), **kw)
    inexact = solve_mm(pr, S, SMOInner(tol=1e-9, newton=newton), inexact=True, **kw)
    assert inexact.extra["smoothed_objective"] == pytest.approx(plain.extra["smoothed_objective"], rel=1e-7)
    # J (eps = 0) takes sqrt of slacks the inner solver resolves only to its tol (1e-9): a
    # slack of 5e-10 there adds ~2e-5 to sqrt(xi), so J itself differs by ~1e-5 between two
    # equally good answers. Compared with the unresolved slacks (below the inner tol) at zero:
    def resolved_J(r):
        xi = pr.slack(pr.decision(r.coef, r.b))
        e = np.sqrt(np.where(xi < 1e-9, 0.0, xi))
        return 0.5 * r.coef @ pr.kernel.matvec(pr.X, r.coef) + pr.C * e @ (S @ e)

    assert resolved_J(inexact) == pytest.approx(resolved_J(plain), rel=1e-7)
    assert inexact.extra["stationarity"] <= 1e-5
    assert stationarity(inexact, pr, S, 1e-4) == pytest.approx(inexact.extra["stationarity"])
    assert inexact.extra["inner_iterations"] < plain.extra["inner_iterations"]

    steps = inexact.extra["history"].steps
    tols = [s.inner_tol for s in steps]
    assert tols[0] == 1e-3 and tols[-1] <= 1e-9
    assert all(a >= b for a, b in zip(tols, tols[1:]))  # only ever tightened
    _assert_taken_path_monotone(steps, pr.n)
    # the result comes from a solve at (or below) the user's tolerance
    assert inexact.extra["certificate"].kkt_violation == inexact.extra["stationarity"]
    if not newton:
        # (with the Newton steps every answer is exact to rounding whatever the tolerance, and
        # the last steps at the user's tolerance may all be rounding-level rises, not taken)
        assert any(s.inner_tol <= 1e-9 and s.taken for s in steps)


def test_inexact_mm_still_catches_a_step_that_does_not_majorize(monkeypatch):
    import glopt.mm as mm

    pr, S = _gl_case(6, "svc", "G", 1.0, n=40)
    monkeypatch.setattr(mm, "_tangent_slope", lambda Se, e: 0.2 * Se / e)
    with pytest.raises(RuntimeError, match="duality gap"):
        solve_mm(pr, S, SMOInner(tol=1e-8), inexact=True)


@pytest.mark.parametrize("task", ["svc", "svr"])
@pytest.mark.parametrize("duplicates", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_stale_weights_reach_the_same_answer(task, duplicates, seed, monkeypatch):
    """MM refreshes the weights only where a bound can matter (support vectors, samples with a
    slack or near the margin); with every weight refreshed at every step (MARGIN_BAND = inf) it
    reaches the same stationary point. (The paths may differ by a step or two: a stale bound of
    a variable at 0 changes which variables the SMO's feasible warm start moves.) Duplicated rows
    put copies of margin points at a = 0, where a stale bound once inflated the step's gap."""
    import glopt.mm as mm

    pr = random_problem(seed, n=90, d=3, task=task, weighted=False)
    if duplicates:
        pr = replace(pr, X=np.repeat(pr.X[:9], 10, axis=0))
    S = Correlation(pr.X, "G", 2.0 / median_sq_distance(pr.X))
    kw = dict(eps=1e-4, tol=1e-8, cert_tol=1e-5, accelerate=True, max_iter=200)
    lazy = solve_mm(pr, S, SMOInner(tol=1e-7), **kw)
    monkeypatch.setattr(mm, "MARGIN_BAND", np.inf)
    full = solve_mm(pr, S, SMOInner(tol=1e-7), **kw)
    assert lazy.extra["smoothed_objective"] == pytest.approx(full.extra["smoothed_objective"], rel=1e-6)
    for r in (lazy, full):
        _assert_taken_path_monotone(r.extra["history"].steps, pr.n)
        # the same residual from K coef by the kernel instead of the SMO's gradient: sqrt(xi + eps)
        # turns their 1e-13 difference in a zero slack into ~1e-9 in a weight
        assert stationarity(r, pr, S, 1e-4) == pytest.approx(r.extra["stationarity"], rel=1e-6, abs=1e-8)


def _near_hard_margin(seed, task, n=150):
    """An MM-like step problem: overlapping classes (or noisy targets), a few duplicated rows,
    per-sample bounds up to ~1e4 (the weights of zero-slack samples scale like 1 / sqrt(eps))."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    X[: n // 10] = X[n // 10: 2 * (n // 10)]
    score = X @ rng.normal(size=3)
    y = np.where(score + rng.normal(size=n) > 0, 1.0, -1.0) if task == "svc" else score + 0.3 * rng.normal(size=n)
    w = 10.0 ** rng.uniform(1, 4, size=n)
    return SVMProblem(X, y, Kernel("rbf", gamma=1.0 / 3), task, C=1.0, weights=w, epsilon=0.1)


@pytest.mark.parametrize("task", ["svc", "svr"])
def test_newton_steps_reach_the_smo_optimum_in_far_fewer_iterations(task):
    """SMOInner's Newton steps on the free set (small problems) change how the optimum is reached,
    not which: the same dual objective, an answer certified at the SMO's tolerance from its own
    gradient, and a fraction of the SMO's iterations on a near-hard-margin problem."""
    from glopt import smo

    pr = _near_hard_margin(0, task)
    plain = SMOInner(tol=1e-6, newton=False)(pr, None)
    newton = SMOInner(tol=1e-6)(pr, None)
    assert newton.extra["newton"] and "newton" not in plain.extra
    assert newton.status == plain.status == "optimal"
    assert newton.dual_objective == pytest.approx(plain.dual_objective, rel=1e-8)
    cert = smo.certificate(newton, pr)
    assert cert.kkt_violation <= 1e-6 and cert.infeasibility <= 1e-9
    assert cert.gap <= smo.certificate(plain, pr).gap + 1e-9 * abs(cert.dual)
    # K coef handed to the loop agrees with the kernel's own product
    np.testing.assert_allclose(newton.extra["Kcoef"], pr.kernel.matvec(pr.X, newton.coef),
                               rtol=1e-9, atol=1e-9 * np.max(np.abs(newton.coef)))
    assert newton.n_iter * 5 < plain.n_iter
    # the stopping rule a Newton point must meet is the SMO's own
    import glopt.mm as mm
    from glopt.dual import dual_form

    form = dual_form(pr)
    assert mm._kkt_violation(form, plain.a, plain.extra["grad"])[0] == pytest.approx(
        plain.extra["violation"], rel=1e-6, abs=1e-12)
    assert mm._kkt_violation(form, newton.a, newton.extra["grad"])[0] <= 1e-6


def test_newton_step_is_feasible_and_decreases_the_dual():
    import glopt.mm as mm
    from glopt import smo
    from glopt.dual import dual_form

    pr = _near_hard_margin(1, "svc")
    form = dual_form(pr)
    Q = form.dense_q(pr.kernel(pr.X))
    rough = smo.solve(pr, tol=1e-1, precision="double")
    a, grad = mm._newton_free(form, Q, rough.a, rough.extra["grad"], 1e-6)

    def dual(v):
        return 0.5 * v @ Q @ v + form.linear @ v

    assert np.all(a >= 0.0) and np.all(a <= form.upper)
    assert abs(form.sign @ a) <= 1e-9 * np.sum(np.abs(a))
    assert dual(a) < dual(rough.a)
    np.testing.assert_allclose(grad, Q @ a + form.linear)
    # nothing free: nothing to do
    assert mm._newton_free(form, Q, np.zeros(pr.n), form.linear.copy(), 1e-6) is None


def test_dense_s_and_single_thread_give_the_operators_answer(monkeypatch):
    """Small problems keep S as a dense matrix and run on one thread; the answer is the one the S
    operator gives at any thread count, and its reported J is what gl_objective computes."""
    import glopt.mm as mm

    pr, S = _gl_case(7, "svc", "G", 1.0, n=80)
    kw = dict(eps=1e-4, tol=1e-8, cert_tol=1e-5, accelerate=True)
    small = solve_mm(pr, S, SMOInner(tol=1e-7), **kw)
    assert small.objective == pytest.approx(gl_objective(pr, S, small.coef, small.b), rel=1e-12)
    monkeypatch.setattr(mm, "DENSE_S_BYTES", 0)
    monkeypatch.setattr(mm, "SERIAL_SAMPLES", 0)
    operator = solve_mm(pr, S, SMOInner(tol=1e-7), **kw)
    assert small.extra["smoothed_objective"] == pytest.approx(operator.extra["smoothed_objective"], rel=1e-7)
    assert small.extra["certificate"].ok(1e-5) and operator.extra["certificate"].ok(1e-5)


def test_loose_schedule_lands_on_the_inner_tolerance():
    """Inexact MM divides the inner tolerance by 10 from loose_tol: it reaches the user's
    tolerance itself (not 1.0000000000000003e-09), and goes below it only to redo a step."""
    from glopt.mm import TIGHTEN_LIMIT, _MMLoop

    pr, S = _gl_case(8, "svc", "G", 1.0, n=20)
    for final in (1e-9, 3e-9):
        loop = _MMLoop(pr, S, SMOInner(tol=final), 1e-4, True, 1e-3, 0.1)
        tols = [loop.step_tol]
        while loop.tighten():
            tols.append(loop.step_tol)
        assert final in tols
        assert all(t >= final for t in tols[:tols.index(final)])
        assert tols[-1] == pytest.approx(final * TIGHTEN_LIMIT)
