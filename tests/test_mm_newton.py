"""The compiled Newton rounds of MM's inner solver (glopt._newton) against a numpy reference."""
from dataclasses import replace

import numpy as np
import pytest

from conftest import random_problem
from glopt import smo
from glopt._newton import newton_rounds
from glopt.dual import dual_form
from glopt.mm import _kkt_violation, _newton_free


def reference_rounds(Q, a, grad, u, s, q, tol, max_rounds):
    """The rounds of glopt._newton in numpy: a new solve of Q_FF + delta I per round. Returns
    (moved, a, grad, single), single True when the rounds went on joining one variable at a time."""
    a, grad = a.astype(float), grad.astype(float)
    free = (a > 0.0) & (a < u)
    barred = np.zeros(a.size, dtype=bool)
    last = np.zeros(a.size, dtype=bool)
    order = list(np.flatnonzero(free))  # F in the order the compiled rounds keep it
    delta = 1e-10 * max(float(np.max(np.abs(np.diag(Q)))), np.finfo(float).tiny)
    moved = stale = single = False
    for _ in range(max_rounds):
        F = np.array(order, dtype=int)
        m = F.size
        if m == 0:
            break
        H = Q[np.ix_(F, F)] + delta * np.eye(m)
        y, z = np.linalg.solve(H, grad[F]), np.linalg.solve(H, s[F])
        lam = -(s[F] @ y) / (s[F] @ z)
        d = -(y + lam * z)
        d -= s[F] * ((s[F] @ d) / m)
        slope = grad[F] @ d
        if np.isfinite(slope) and slope < 0.0:
            Qd = Q[np.ix_(F, F)] @ d
            curvature = d @ Qd
            t_opt = -slope / curvature if curvature > 0.0 else np.inf
            with np.errstate(divide="ignore", invalid="ignore"):
                room = np.where(d > 0.0, (u[F] - a[F]) / d, np.where(d < 0.0, -a[F] / d, np.inf))
            k = int(np.argmin(room))
            t = min(t_opt, room[k])
            if not np.isfinite(t):
                break
            a[F] += t * d
            grad[F] += t * Qd
            stale, moved = True, moved or t > 0.0
            if t >= room[k]:
                i = F[k]
                a[i] = u[i] if d[k] > 0.0 else 0.0
                free[i] = False
                del order[k]
                if room[k] == 0.0:
                    if last[i] and last.sum() > 1:
                        single = True
                    else:
                        barred[i] = True
                continue
        if stale:
            grad, stale = Q @ a + q, False
        r = grad + lam * s
        join = np.flatnonzero(~free & ~barred & (u > 0.0) & (((a <= 0.0) & (r < -tol)) | ((a >= u) & (r > tol))))
        if join.size == 0:
            break
        if single:
            join = join[[int(np.argmax(np.abs(r[join])))]]
        order += list(join)
        free[join] = True
        last[:] = False
        last[join] = True
    return moved, a, grad, single


def _case(seed, task="svc", C=30.0, n=80, start="rough"):
    """A problem with many free and many bound variables, its dual and a feasible start: a rough
    SMO point, or ("far") a random one, half of it at zero, from which the active set is found
    in a hundred rounds or more."""
    pr = replace(random_problem(seed, n=n, d=3, task=task, weighted=True), C=C)
    form = dual_form(pr)
    Q = form.dense_q(pr.kernel(pr.X))
    if start == "rough":
        a0 = smo.solve(pr, tol=1e-1, precision="double").a.copy()
    else:
        rng = np.random.default_rng(seed)
        u = form.upper
        a0 = form.feasible_start(np.where(rng.random(u.size) < 0.5, rng.uniform(0.0, 1.0, u.size) * u, 0.0))
    return pr, form, Q, a0, Q @ a0 + form.linear


def _dual(form, Q, a):
    return 0.5 * a @ Q @ a + form.linear @ a


@pytest.mark.parametrize("seed,task,start", [(1, "svc", "rough"), (2, "svr", "rough"), (0, "svc", "far"),
                                             (2, "svr", "far"), (4, "svc", "far")])
def test_compiled_rounds_agree_with_the_reference(seed, task, start):
    """The factor updates follow the reference's path (same free sets, same steps) to rounding."""
    pr, form, Q, a0, g0 = _case(seed, task, n=120 if seed == 4 else 80, start=start)
    a, grad = a0.copy(), g0.copy()
    moved = newton_rounds(Q, a, grad, form.upper, form.sign, form.linear, 1e-6, 500, 1500, 2e8)
    ref_moved, ref_a, ref_grad, single = reference_rounds(Q, a0, g0, form.upper, form.sign, form.linear,
                                                          1e-6, 500)
    assert moved and ref_moved
    assert single == (start == "far")  # the far starts need the one-at-a-time joins
    np.testing.assert_allclose(a, ref_a, rtol=0, atol=1e-12 * np.max(np.abs(ref_a)))
    np.testing.assert_allclose(grad, ref_grad, rtol=0, atol=1e-12 * np.max(np.abs(ref_grad)))
    assert _kkt_violation(form, a, Q @ a + form.linear)[0] <= 1e-6


@pytest.mark.parametrize("seed,task,start", [(4, "svc", "far"), (5, "svr", "rough")])
def test_rounds_stay_feasible_lower_the_dual_and_reach_the_optimum(seed, task, start):
    pr, form, Q, a0, g0 = _case(seed, task, n=120, start=start)
    a, grad = _newton_free(form, Q, a0, g0, 1e-8)
    assert np.all(a >= 0.0) and np.all(a <= form.upper)
    assert abs(form.sign @ a - form.sign @ a0) <= 1e-10 * np.sum(np.abs(a))
    assert _dual(form, Q, a) < _dual(form, Q, a0)
    np.testing.assert_allclose(grad, Q @ a + form.linear)
    # the active set is found within NEWTON_ROUNDS rounds: the SMO's own stopping rule holds
    assert _kkt_violation(form, a0, g0)[0] > 1e-2
    assert _kkt_violation(form, a, grad)[0] <= 1e-6
    exact = smo.solve(pr, tol=1e-10, precision="double")
    assert _dual(form, Q, a) == pytest.approx(_dual(form, Q, exact.a), rel=1e-9)


def test_each_round_lowers_the_dual():
    """Stopped after k rounds, for every k: feasible, and the dual never rises."""
    pr, form, Q, a0, g0 = _case(6, "svc", start="far")
    prev = _dual(form, Q, a0)
    for k in range(1, 120, 7):
        a, grad = a0.copy(), g0.copy()
        newton_rounds(Q, a, grad, form.upper, form.sign, form.linear, 1e-6, k, 1500, 2e8)
        value = _dual(form, Q, np.clip(a, 0.0, form.upper))
        assert value <= prev + 1e-12 * abs(prev)
        assert np.all(a >= -1e-12 * np.max(form.upper)) and np.all(a <= form.upper * (1 + 1e-12))
        assert abs(form.sign @ a) <= 1e-10 * np.sum(np.abs(a))
        prev = value


def test_limits_and_arguments():
    pr, form, Q, a0, g0 = _case(7, "svc")
    a, grad = a0.copy(), g0.copy()
    # no round allowed, or too many free variables: nothing moves
    assert not newton_rounds(Q, a, grad, form.upper, form.sign, form.linear, 1e-6, 0, 1500, 2e8)
    assert not newton_rounds(Q, a, grad, form.upper, form.sign, form.linear, 1e-6, 200, 1, 2e8)
    np.testing.assert_array_equal(a, a0)
    with pytest.raises(ValueError, match="length l"):
        newton_rounds(Q, a[:-1], grad, form.upper, form.sign, form.linear, 1e-6, 10, 1500, 2e8)
    # nothing free: nothing to do
    assert _newton_free(form, Q, np.zeros(form.size), form.linear.copy(), 1e-6) is None
