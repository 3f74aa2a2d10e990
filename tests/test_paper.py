"""The paper's moving-bound SMO scheme (glopt.paper), kept for comparison only.

- it always warns that it is not a convergent method, and validates its inputs;
- with S = I its bounds are constant, so it must be an ordinary SMO: the standard SVM optimum;
- with a Gaussian S it is compared with MM on fixed seeds (the solver is deterministic): its
  answer is far from stationary and not better than MM's.
"""
import numpy as np
import pytest

from conftest import random_problem
from glopt import smo
from glopt.kernels import Correlation, correlation_matrix, median_sq_distance
from glopt.mm import SMOInner, gl_objective, gl_weights, solve_mm, stationarity
from glopt.losses import mm_weights
from glopt.paper import NotConvergentWarning, solve_paper
from glopt.problem import SVMProblem

pytestmark = pytest.mark.filterwarnings("ignore::glopt.paper.NotConvergentWarning")


def _gauss_case(seed, task="svc", n=50, weighted=False):
    pr = random_problem(seed, n=n, d=3, task=task, weighted=weighted)
    return pr, correlation_matrix(pr.X, "G", 1.0 / median_sq_distance(pr.X))


# --------------------------------------------------------------------------------------------
# warning and input validation
# --------------------------------------------------------------------------------------------
def test_every_call_warns_that_it_is_not_a_convergent_method():
    pr = random_problem(0, n=20)
    for clip in ("all", "pair"):
        with pytest.warns(NotConvergentWarning, match="comparison only.*not a convergent method.*solve_mm"):
            solve_paper(pr, np.eye(20), clip=clip, max_iter=5)
    assert issubclass(NotConvergentWarning, UserWarning)


@pytest.mark.parametrize("kwargs,match", [
    (dict(clip="both"), "clip"),
    (dict(clip=None), "clip"),
    (dict(eps=0.0), "eps"),
    (dict(eps=float("nan")), "eps"),
    (dict(tol=-1e-3), "tol"),
    (dict(max_iter=0), "max_iter"),
    (dict(max_iter=2.5), "max_iter"),
    (dict(max_iter=True), "max_iter"),
    (dict(checkpoint_every=0), "checkpoint_every"),
])
def test_bad_options_are_refused(kwargs, match):
    pr = random_problem(0, n=20)
    with pytest.raises(ValueError, match=match):
        solve_paper(pr, np.eye(20), **kwargs)


def test_bad_problem_and_s_are_refused():
    pr = random_problem(0, n=20)
    with pytest.raises(ValueError, match="p must be 1"):
        solve_paper(random_problem(0, n=20, p=2), np.eye(20))
    with pytest.raises(TypeError, match="problem"):
        solve_paper((pr.X, pr.y), np.eye(20))
    with pytest.raises(ValueError, match="S has shape"):
        solve_paper(pr, np.eye(19))
    with pytest.raises(ValueError, match="S must be entrywise nonnegative"):
        solve_paper(pr, np.eye(20) - 0.01)
    with pytest.raises(ValueError, match="S is not symmetric"):
        solve_paper(pr, np.eye(20) + np.triu(np.full((20, 20), 0.1), 1))
    with pytest.raises(ValueError, match="NaN"):
        solve_paper(pr, np.full((20, 20), np.nan))


def test_the_bounds_are_the_mm_weights():
    """C * the paper's bound formula (diagonal apart, eps-smoothed) = C * glopt.mm.gl_weights."""
    rng = np.random.default_rng(0)
    pr, S = _gauss_case(3, weighted=True)
    xi = np.where(rng.random(pr.n) < 0.4, 0.0, rng.exponential(size=pr.n))
    w = pr.sample_weight
    ours = mm_weights(xi, S - np.diag(np.diag(S)), 1e-4, w, diagonal=np.diag(S))
    np.testing.assert_allclose(ours, gl_weights(pr, S, xi, 1e-4), rtol=1e-12)
    # with S = I they are the sample weights exactly (no ulp-level movement of the bounds)
    I = np.eye(pr.n)
    assert np.array_equal(mm_weights(xi, I - np.diag(np.diag(I)), 1e-4, w, diagonal=np.diag(I)), w)


# --------------------------------------------------------------------------------------------
# S = I: constant bounds, an ordinary SMO
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("task", ["svc", "svr"])
@pytest.mark.parametrize("weighted", [False, True])
def test_identity_s_is_an_ordinary_smo_reaching_the_svm_optimum(task, weighted):
    pr = random_problem(4, n=60, task=task, weighted=weighted)
    ref = smo.solve(pr, tol=1e-6)
    results = [solve_paper(pr, np.eye(pr.n), tol=1e-6, clip=clip) for clip in ("all", "pair")]
    for r in results:
        assert r.status == "converged"
        assert r.dual_objective == pytest.approx(ref.dual_objective, rel=1e-4)
        assert r.extra["stationarity"] <= 1e-5
        assert r.extra["balance"] <= 1e-10
        # the bounds never moved: C * weights
        np.testing.assert_array_equal(r.extra["upper"], np.tile(pr.upper, 1 if task == "svc" else 2))
        # the objective is the p = 1 primal of the standard SVM (S = I)
        assert r.objective == pytest.approx(gl_objective(pr, np.eye(pr.n), r.coef, r.b), rel=1e-12)
    # no clipping ever happens, so the two variants are the same run
    np.testing.assert_array_equal(results[0].a, results[1].a)
    assert results[0].n_iter == results[1].n_iter


def test_identity_s_matches_the_cvx_reference():
    from glopt.cvx import solve_reference

    pr = random_problem(5, n=25, weighted=True)
    ref = solve_reference(pr)
    r = solve_paper(pr, np.eye(pr.n), tol=1e-7)
    assert r.dual_objective == pytest.approx(ref.dual_objective, rel=1e-4)
    assert r.objective == pytest.approx(ref.objective, rel=1e-4)


def test_result_fields():
    pr, S = _gauss_case(1)
    r = solve_paper(pr, S, clip="pair", max_iter=300, checkpoint_every=50)
    assert r.solver == "paper-pair" and r.status in ("converged", "max_iter")
    assert r.n_iter <= 300
    assert r.objective == pytest.approx(gl_objective(pr, S, r.coef, r.b), rel=1e-12)
    assert r.extra["stationarity"] == pytest.approx(stationarity(r, pr, S, 1e-4), rel=1e-12)
    assert r.extra["balance"] == pytest.approx(abs(pr.y @ r.a), abs=1e-12)
    its = [c[0] for c in r.extra["checkpoints"]]
    assert its[0] == 0 and its[-1] == r.n_iter and its == sorted(set(its))
    assert all(it % 50 == 0 for it in its[:-1])
    Js = np.array([c[1] for c in r.extra["checkpoints"]])
    assert r.extra["objective_rises"] == pytest.approx(np.mean(np.diff(Js) > 0))
    assert np.all(r.a >= 0)
    # max_iter is honoured and reported
    r1 = solve_paper(pr, S, max_iter=1)
    assert r1.status == "max_iter" and r1.n_iter == 1


def test_correlation_operator_is_accepted():
    pr = random_problem(2, n=40)
    op = Correlation(pr.X, "G", 1.0 / median_sq_distance(pr.X))
    r_op = solve_paper(pr, op, max_iter=200)
    r_dense = solve_paper(pr, op.dense(), max_iter=200)
    np.testing.assert_array_equal(r_op.a, r_dense.a)


def test_precomputed_kernel_gives_the_same_run():
    pr, S = _gauss_case(6, n=40)
    pre = SVMProblem(pr.gram(), pr.y, kernel=type(pr.kernel)("precomputed"), task="svc", C=pr.C)
    r, r_pre = (solve_paper(q, S, clip="pair", max_iter=500) for q in (pr, pre))
    np.testing.assert_allclose(r_pre.a, r.a, rtol=1e-9, atol=1e-9)


# --------------------------------------------------------------------------------------------
# a Gaussian S: what the scheme does (fixed seeds; the solver is deterministic)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("task,seed", [("svc", 0), ("svc", 1), ("svr", 2)])
def test_gaussian_s_is_not_solved_as_well_as_by_mm(task, seed):
    pr, S = _gauss_case(seed, task)
    mm = solve_mm(pr, S, SMOInner(tol=1e-6))
    for clip in ("all", "pair"):
        r = solve_paper(pr, S, clip=clip, max_iter=3000)
        # far from stationary, where MM is (nearly) stationary
        assert r.extra["stationarity"] > 0.1
        assert r.extra["stationarity"] > 20 * mm.extra["stationarity"]
        # and not better than MM's answer (beyond noise)
        assert r.objective >= mm.objective * (1 - 1e-3)


def test_clipping_every_variable_breaks_the_balance():
    """The literal reading (clip='all') drifts off y^T a = 0 and runs into the iteration cap
    (reproducible: the solver is deterministic and the drift is large, not a rounding effect)."""
    pr, S = _gauss_case(0)
    r = solve_paper(pr, S, clip="all", max_iter=2000)
    assert r.status == "max_iter"
    assert r.extra["balance"] > 1.0
    assert max(c[2] for c in r.extra["checkpoints"]) > 1.0
