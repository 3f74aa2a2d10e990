"""The optimal bias for a fixed w, and MM on duplicate-heavy data where a wrong bias once
inflated the duality gap that guards MM's steps."""
import math
from dataclasses import replace

import numpy as np
import pytest

from glopt.kernels import Correlation, Kernel, median_sq_distance
from glopt.mm import SMOInner, solve_mm
from glopt.problem import SVMProblem, hinge_sum_argmin


def _g(problem, Kc, b):
    """The weighted p = 1 loss at bias b, summed exactly (math.fsum)."""
    return math.fsum(problem.upper * problem.slack(Kc + b))


def _brute_min(problem, Kc):
    """min over all kinks of g: the exact minimum of a convex piecewise-linear function."""
    if problem.task == "svc":
        kinks = problem.y - Kc
    else:
        r = problem.y - Kc
        kinks = np.concatenate([r - problem.epsilon, r + problem.epsilon])
    return min(_g(problem, Kc, b) for b in np.unique(kinks))


def _duplicate_heavy(seed, task, n_distinct=13, copies=200, d=3):
    """A few distinct rows, each repeated hundreds of times, labels/targets noisy per copy, and
    per-sample weights spanning 1e-3 .. 1e5."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n_distinct, d))
    X = np.repeat(base, copies, axis=0)
    score = X @ rng.normal(size=d)
    if task == "svc":
        y = np.where(score + rng.normal(scale=1.0, size=score.size) > 0, 1.0, -1.0)
    else:
        y = score + rng.normal(scale=0.5, size=score.size)
    w = 10.0 ** rng.uniform(-3, 5, size=y.size)
    return X, y, w


@pytest.mark.parametrize("task", ["svc", "svr"])
@pytest.mark.parametrize("seed", range(6))
def test_best_bias_is_exact_on_tied_kinks_and_extreme_weights(task, seed):
    X, y, w = _duplicate_heavy(seed, task)
    pr = SVMProblem(X, y, Kernel("rbf", gamma=0.5), task, C=1.0, weights=w, epsilon=0.1)
    rng = np.random.default_rng(100 + seed)
    # decision values constant on each block of copies (kinks tie in blocks), plus rounding noise
    Kc = np.repeat(rng.normal(size=13), 200) + rng.normal(scale=1e-15, size=y.size)
    b = pr.best_bias(Kc)
    g_min = _brute_min(pr, Kc)
    assert _g(pr, Kc, b) <= g_min * (1 + 1e-12) + 1e-12
    # exact ties (no noise) as well
    Kc = np.repeat(rng.normal(size=13), 200)
    assert _g(pr, Kc, pr.best_bias(Kc)) <= _brute_min(pr, Kc) * (1 + 1e-12) + 1e-12


def test_hinge_sum_argmin_returns_the_midpoint_of_a_flat_minimum():
    # g(b) = max(0, 1 - b) + max(0, b - 3): zero on [1, 3]
    assert hinge_sum_argmin(np.array([1.0]), np.array([1.0]), np.array([3.0]), np.array([1.0])) == 2.0
    # unequal weights: the heavier side wins at its kink
    assert hinge_sum_argmin(np.array([3.0]), np.array([2.0]), np.array([1.0]), np.array([1.0])) == 3.0
    # ties in blocks with weights 1e-3 and 1e5
    dec = np.array([0.0] * 5 + [2.0] * 5)
    inc = np.array([1.0] * 5)
    b = hinge_sum_argmin(dec, np.array([1e5] * 5 + [1e-3] * 5), inc, np.array([1e5] * 5))
    assert b == 1.0
    with pytest.raises(ValueError, match="not finite"):
        hinge_sum_argmin(np.array([np.nan]), np.ones(1), np.zeros(1), np.ones(1))
    with pytest.raises(ValueError, match="both sides"):
        hinge_sum_argmin(np.zeros(0), np.zeros(0), np.zeros(1), np.ones(1))


@pytest.mark.parametrize("task", ["svc", "svr"])
@pytest.mark.parametrize("seed", [0, 1])
def test_mm_on_duplicate_heavy_data_is_monotone_and_returns_the_best_iterate(task, seed):
    X, y, _ = _duplicate_heavy(seed, task, copies=60)
    pr = SVMProblem(X, y, Kernel("rbf", gamma=1.0 / 3), task, C=1.0, epsilon=0.1)
    S = Correlation(X, "G", 1.0 / median_sq_distance(X))
    res = solve_mm(pr, S, SMOInner(tol=1e-5))
    steps = res.extra["history"].steps
    rounding = 4.0 * pr.n * np.finfo(float).eps
    prev = steps[0]
    for step in steps[1:]:
        # never a rise beyond the gap (computed with the optimal bias), and a taken step never rises
        assert step.objective - prev.objective <= step.inner_gap + rounding * abs(prev.objective)
        if step.taken:
            assert step.objective <= prev.objective + rounding * abs(prev.objective)
            prev = step
    taken = [s.objective for s in steps if s.taken]
    assert res.extra["smoothed_objective"] == taken[-1]
    assert taken[-1] <= min(taken) * (1 + rounding)
    # the returned bias minimizes the primal of the weighted SVM it solves, for its w
    step_problem = replace(pr, weights=res.extra["step_weights"])
    Kc = pr.kernel.matvec(pr.X, res.coef)
    assert _g(step_problem, Kc, res.b) <= _brute_min(step_problem, Kc) * (1 + 1e-9) + 1e-9


def test_history_record_marks_the_taken_steps():
    X, y, _ = _duplicate_heavy(3, "svc", copies=40)
    pr = SVMProblem(X, y, Kernel("rbf", gamma=1.0 / 3), "svc", C=1.0)
    S = Correlation(X, "G", 1.0 / median_sq_distance(X))
    res = solve_mm(pr, S, SMOInner(tol=1e-5))
    rec = res.extra["history"].record()
    assert rec.dtype.names == ("objective", "true_objective", "inner_gap", "taken")
    assert rec["taken"][0]
    assert rec["objective"][rec["taken"]][-1] == res.extra["smoothed_objective"]
