"""Divide and conquer (glopt.smo.solve_dc): the plain SMO's answer, certified, on any joblib backend."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification

from glopt.kernels import Kernel
from glopt.problem import SVMProblem
from glopt.smo import certificate, cluster_capacity, cluster_samples, solve, solve_dc


def _data(n=1500, seed=0):
    X, y = make_classification(n_samples=n, n_features=6, n_informative=4, flip_y=0.05, random_state=seed)
    X = (X - X.mean(0)) / X.std(0)
    return X, 2.0 * y - 1.0


def _problem(task, n=1500, **kw):
    X, y = _data(n)
    if task in ("svr", "nu_svr"):
        y = X[:, 0] + np.sin(X[:, 1]) + 0.1 * np.random.default_rng(1).normal(size=n)
    if task == "one_class":
        y = None
    return SVMProblem(X, y, kernel=Kernel("rbf", gamma=0.5), task=task, **kw)


@pytest.mark.parametrize("task", ["svc", "svr", "one_class", "nu_svc", "nu_svr"])
def test_dc_reaches_the_plain_objective_and_certifies(task):
    problem = _problem(task, C=2.0)
    plain = solve(problem, tol=1e-4)
    dc = solve_dc(problem, n_clusters=4, tol=1e-4)
    assert dc.status == "optimal"
    assert dc.extra["dc"]["n_clusters"] == 4 and sum(dc.extra["dc"]["cluster_sizes"]) == problem.n
    assert dc.dual_objective == pytest.approx(plain.dual_objective, rel=1e-6)
    cert = certificate(dc, problem)
    assert cert.kkt_violation <= 1e-4 * 1.01 and cert.infeasibility <= 1e-8
    # the clusters' answers were used: the whole solve started away from LIBSVM's start
    assert sum(dc.extra["dc"]["cluster_iterations"]) > 0


def test_dc_starts_near_the_answer():
    """The union of the clusters' answers is a better start than zero: fewer whole-problem iterations."""
    problem = _problem("svc", n=3000, C=1.0)
    plain = solve(problem)
    dc = solve_dc(problem, n_clusters=4)
    assert dc.extra["dc"]["global_iterations"] < plain.n_iter


def test_dc_answer_is_independent_of_threads_and_joblib_workers():
    problem = _problem("svc", C=1.0)
    one = solve_dc(problem, n_clusters=3, n_jobs=1)
    two = solve_dc(problem, n_clusters=3, n_jobs=2)
    procs = solve_dc(problem, n_clusters=3, cluster_jobs=2)
    for other in (two, procs):
        np.testing.assert_array_equal(other.a, one.a)
        assert other.b == one.b and other.n_iter == one.n_iter


def test_dc_sparse_input_gives_the_dense_answer():
    X, y = _data(1200)
    X[np.abs(X) < 0.8] = 0.0
    dense = solve_dc(SVMProblem(X, y, kernel=Kernel("rbf", gamma=0.5)), n_clusters=3)
    sparse = solve_dc(SVMProblem(sp.csr_matrix(X), y, kernel=Kernel("rbf", gamma=0.5)), n_clusters=3)
    assert sparse.dual_objective == pytest.approx(dense.dual_objective, rel=1e-9)


def test_dc_cluster_with_one_class_starts_at_zero():
    """A cluster holding one class has no SVM of its own: its variables start at 0, the answer is still exact."""
    rng = np.random.default_rng(0)
    X_mixed, y_mixed = _data(600)
    X_far = rng.normal(size=(200, 6)) + 40.0
    X = np.vstack([X_mixed, X_far])
    y = np.concatenate([y_mixed, np.ones(200)])
    problem = SVMProblem(X, y, kernel=Kernel("rbf", gamma=0.5))
    labels = cluster_samples(X, 3)
    assert any(np.unique(y[labels == c]).size == 1 for c in range(3))
    dc = solve_dc(problem, n_clusters=3)
    assert 0 in dc.extra["dc"]["cluster_iterations"]
    assert dc.dual_objective == pytest.approx(solve(problem).dual_objective, rel=1e-6)
    assert certificate(dc, problem).kkt_violation <= 1e-3 * 1.01


def test_cluster_samples_is_seeded_and_covers_every_row():
    X, _ = _data(2000)
    a = cluster_samples(X, 5, sample_size=500, random_state=3)
    b = cluster_samples(X, 5, sample_size=500, random_state=3)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (2000,) and set(np.unique(a)) == set(range(5))


def test_one_cluster_is_the_plain_solve():
    problem = _problem("svc", n=400)
    dc = solve_dc(problem, n_clusters=1)
    plain = solve(problem)
    np.testing.assert_array_equal(dc.a, plain.a)
    assert dc.extra["dc"] == {"n_clusters": 1}
    # the default: clusters whose kernel matrix fits the cache
    assert solve_dc(problem).extra["dc"] == {"n_clusters": 1}


def test_default_clusters_fit_the_kernel_cache():
    assert cluster_capacity(200) == 5120 and 8 * cluster_capacity(200) ** 2 <= 200 * 2 ** 20
    problem = _problem("svc", n=1500)
    # 0.5 MB holds the kernel matrix of 256 samples: ceil(1500 / 256) = 6 clusters
    dc = solve_dc(problem, cache_size=0.5)
    assert dc.extra["dc"]["n_clusters"] == 6 and max(dc.extra["dc"]["cluster_sizes"]) < 1500


def test_dc_callback_and_verbose_follow_the_whole_solve(capsys):
    problem = _problem("svc", n=800)
    seen = []
    solve_dc(problem, n_clusters=2, callback=lambda info: seen.append(info["active_size"]) and False,
             callback_every=50, verbose=True)
    out = capsys.readouterr().out
    assert seen and max(seen) <= problem.n
    # one final line: the whole problem's (the clusters' solves print nothing)
    assert out.count("smo optimal") == 1


@pytest.mark.parametrize("kwargs, match", [
    ({"n_clusters": 0}, "n_clusters"),
    ({"n_clusters": 2.5}, "n_clusters"),
    ({"n_clusters": 10**6}, "n_clusters"),
    ({"n_clusters": 2, "sample_size": 1}, "sample_size"),
    ({"n_clusters": 2, "sample_size": "all"}, "sample_size"),
    ({"random_state": -1}, "random_state"),
    ({"random_state": None}, "random_state"),
    ({"cluster_jobs": 0}, "cluster_jobs"),
    ({"cluster_jobs": "many"}, "cluster_jobs"),
    ({"a0": np.zeros(400)}, "a0"),
    ({"tol": -1.0}, "tol"),
    ({"precision": "half"}, "precision"),
    ({"n_jobs": 0}, "n_jobs"),
    ({"bogus": 1}, "bogus"),
])
def test_dc_refuses_bad_arguments_naming_them(kwargs, match):
    with pytest.raises(ValueError, match=match):
        solve_dc(_problem("svc", n=400), **kwargs)


def test_dc_refuses_a_precomputed_kernel_and_a_non_problem():
    X, y = _data(300)
    K = np.exp(-0.5 * ((X[:, None, :] - X[None]) ** 2).sum(-1))
    with pytest.raises(ValueError, match="precomputed"):
        solve_dc(SVMProblem(K, y, kernel=Kernel("precomputed")), n_clusters=2)
    with pytest.raises(TypeError, match="problem"):
        solve_dc((X, y))


@pytest.mark.slow
def test_dask_cluster_runs_the_clusters_identically():
    """A LocalCluster on loopback with 2 worker processes solves the clusters: the identical model."""
    pytest.importorskip("dask.distributed")
    import joblib
    from dask.distributed import Client, LocalCluster, get_task_stream

    problem = _problem("svc", n=2000, C=1.0)
    local = solve_dc(problem, n_clusters=4)
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                      processes=True) as cluster, Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        with get_task_stream(client) as stream, joblib.parallel_config(backend="dask"):
            on_dask = solve_dc(problem, n_clusters=4, cluster_jobs=-1)
    # the clusters' solves ran as tasks on the workers
    workers = {task["worker"] for task in stream.data}
    assert workers and all(w.startswith("tcp://127.0.0.1") for w in workers)
    np.testing.assert_array_equal(on_dask.a, local.a)
    assert on_dask.b == local.b and on_dask.n_iter == local.n_iter
    assert on_dask.dual_objective == local.dual_objective
