"""Divide and conquer for large n: cluster, solve the clusters, warm-start the whole problem.

The scheme of DC-SVM (Hsieh, Si and Dhillon, ICML 2014), one level:

1. cluster the inputs: k-means on a sample of them, then every sample goes to its nearest
   centre (for a Gaussian kernel, near in input space is near in feature space);
2. solve each cluster's own problem (the same task, C, weights and kernel on its samples only),
   each by the SMO, independently: through joblib, so any joblib backend runs them, a Dask
   cluster among them (``joblib.parallel_config(backend="dask")``);
3. start the SMO on the whole problem from the union of the clusters' answers. Most
   variables then start at the bound or at zero where they end, so LIBSVM's shrinking takes
   them out of the active set at its first pass, and the whole solve computes shorter kernel
   columns, and fewer of them, than a solve from zero; its extra cost is one blocked kernel
   pass over the start's support vectors (the start's gradient). Whether it is faster than the
   plain solve depends on the problem (docs/smo.md has the measurements).

The answer is the whole problem's, to the same stopping rule as :func:`glopt.smo.solve`, and
certifies like any other: only the start differs. A cluster's problem is a subproblem of the
whole one with its own equality constraints, so the union is feasible for the one-equality
forms (C-SVC, epsilon-SVR, one-class: each cluster's balance or sum adds up to the whole's);
the nu-SVC class sums are restored by :meth:`glopt.dual.DualForm.feasible_start`.
"""
from __future__ import annotations

import numbers
import time
import warnings

import numpy as np

from ..dual import dual_form
from ..problem import SVMProblem
from ..result import SVMResult
from ._api import _check_problem, _solve_problem, check_solve_options, solve

__all__ = ["solve_dc", "cluster_samples", "cluster_capacity"]


def cluster_capacity(cache_size: float) -> int:
    """The most samples whose whole kernel matrix fits ``cache_size`` MB in double precision.

    A cluster of at most this size is solved with every kernel column cached, so its solve
    costs little more than its kernel matrix; larger clusters pay LIBSVM's cache misses, and
    their solves grow faster than their size (5,120 samples at the default 200 MB).

    Parameters
    ----------
    cache_size : float > 0
        The kernel cache in megabytes (the SMO's ``cache_size``).

    Returns
    -------
    int
        floor(sqrt(cache_size * 2^20 / 8)), at least 1.
    """
    return max(1, int(np.sqrt(float(cache_size) * 2.0 ** 20 / 8.0)))


def _n_clusters(n_clusters, n: int, cache_size: float) -> int:
    if n_clusters is None:
        return max(1, -(-n // cluster_capacity(cache_size)))
    _integer(n_clusters, "n_clusters", 1)
    if n_clusters > n:
        raise ValueError(f"n_clusters={n_clusters} exceeds the number of samples {n}")
    return int(n_clusters)


def _integer(value, name: str, low: int) -> None:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


def _check_dc_options(sample_size, random_state, cluster_jobs, k: int, n: int) -> None:
    if sample_size is not None:
        _integer(sample_size, "sample_size", 1)
        if not k <= sample_size <= n:
            raise ValueError(f"sample_size must be in [n_clusters, n] = [{k}, {n}], got {sample_size!r}")
    _integer(random_state, "random_state", 0)
    if cluster_jobs is not None:
        if isinstance(cluster_jobs, (bool, np.bool_)) or not isinstance(cluster_jobs, numbers.Integral) \
                or cluster_jobs == 0:
            raise ValueError(f"cluster_jobs must be None or a nonzero integer (joblib's n_jobs), got {cluster_jobs!r}")


def cluster_samples(X, n_clusters: int, *, sample_size: int | None = None, random_state=0) -> np.ndarray:
    """Cluster labels of the rows of X: k-means on a sample of rows, then the nearest centre.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n, d)
        The inputs.
    n_clusters : int >= 1
        Number of clusters k.
    sample_size : int, optional
        Rows k-means is fitted on (default min(n, max(50 k, 20,000))), drawn without
        replacement; the centres then label every row.
    random_state : int, default=0
        Seed of the sample and of k-means: the same seed gives the same clusters.

    Returns
    -------
    ndarray of int, shape (n,)
        The cluster of each row, in 0 .. k - 1 (some clusters are empty when X has fewer than k
        distinct rows).
    """
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    n = X.shape[0]
    _integer(n_clusters, "n_clusters", 1)
    _check_dc_options(sample_size, random_state, None, n_clusters, n)
    if n_clusters == 1:
        return np.zeros(n, dtype=np.intp)
    m = min(n, max(50 * n_clusters, 20000)) if sample_size is None else int(sample_size)
    rng = np.random.default_rng(random_state)
    rows = np.sort(rng.choice(n, size=m, replace=False)) if m < n else np.arange(n)
    with warnings.catch_warnings():
        # fewer distinct rows than clusters leaves clusters empty, which costs nothing here
        warnings.filterwarnings("ignore", message="Number of distinct clusters", category=ConvergenceWarning)
        km = KMeans(n_clusters=n_clusters, n_init=1, random_state=random_state).fit(X[rows])
    return km.predict(X).astype(np.intp)


def _subproblem(problem: SVMProblem, rows: np.ndarray) -> SVMProblem | None:
    """The problem on ``rows`` only, or None when it has no SVM of its own (a single class)."""
    if rows.size == 0:
        return None
    y = None if problem.task == "one_class" else problem.y[rows]
    if problem.task in ("svc", "nu_svc") and np.unique(y).size < 2:
        return None
    weights = None if problem.weights is None else problem.weights[rows]
    try:
        return SVMProblem(problem.X[rows], y, kernel=problem.kernel, task=problem.task, C=problem.C,
                          weights=weights, epsilon=problem.epsilon, nu=problem.nu)
    except ValueError:
        if problem.task != "nu_svc":
            raise
        # nu can be infeasible for a cluster's class balance; its variables start at 0 and the
        # whole problem's class sums are restored from the other clusters
        return None


def _solve_cluster(sub: SVMProblem, options: dict) -> tuple[np.ndarray, int]:
    """One cluster's dual variables and SMO iterations (run in a joblib worker)."""
    res = _solve_problem(sub, **options)
    return res.a, res.n_iter


def _union(problem: SVMProblem, answers) -> np.ndarray:
    """The whole problem's dual variables from the clusters' (variables of skipped clusters 0)."""
    n = problem.n
    form = dual_form(problem)
    a = np.zeros(form.size)
    for rows, sub_a in answers:
        if sub_a is None:
            continue
        m = rows.size
        # variable t of a cluster's form is block t // m (alpha or alpha* of the 2n forms) of
        # sample rows[t % m]: the whole form orders its variables the same way
        t = np.arange(sub_a.size)
        a[(t // m) * n + rows[t % m]] = sub_a
    return a


def solve_dc(problem: SVMProblem, *, n_clusters=None, sample_size=None, random_state=0, cluster_jobs=None,
             **options) -> SVMResult:
    """Solve an :class:`~glopt.problem.SVMProblem` by divide and conquer, then the SMO on the whole.

    The inputs are clustered (:func:`cluster_samples`), each cluster's problem is solved by the
    SMO through joblib, and :func:`glopt.smo.solve` solves the whole problem from the union of
    their answers (see the module docstring). The answer is the whole problem's to the same
    stopping rule: it certifies like any other, and its dual objective is that of the plain
    solve to the accuracy the stopping rule gives. The clusters' problems run in joblib's
    current backend, so ``with joblib.parallel_config(backend="dask"):`` runs them on a Dask
    cluster; every backend gives the same answer.

    Parameters
    ----------
    problem : SVMProblem
        The problem to solve: p = 1, no correlation matrix S, a kernel on inputs (not
        precomputed).
    n_clusters : int >= 1, optional
        Number of clusters (default: as many as make each cluster's kernel matrix fit the
        kernel cache, :func:`cluster_capacity`, i.e. ceil(n / 5,120) at the default 200 MB;
        1 is the plain solve).
    sample_size : int, optional
        Rows k-means is fitted on (:func:`cluster_samples`).
    random_state : int, default=0
        Seed of the clustering.
    cluster_jobs : int, optional
        joblib's ``n_jobs`` for the clusters' solves (None: joblib's current setting, 1 unless a
        ``parallel_config`` says otherwise, one cluster after the other, each on the engine's
        threads).
    **options : dict
        The options of :func:`glopt.smo.solve` (tol, wss, shrinking, cache_size, max_iter,
        n_jobs, callback, callback_every, verbose, precision, working_set), for the clusters'
        solves and the whole one (the clusters' precision is always "auto", they take LIBSVM's
        pairs, and the callback, the progress lines and ``working_set`` follow the whole solve
        only); not ``a0`` / ``grad0`` (the clusters make the start).

    Returns
    -------
    SVMResult
        As :func:`glopt.smo.solve`: ``n_iter`` counts the whole problem's SMO iterations,
        ``solve_time`` covers clustering and every solve, and
        ``extra["dc"]`` holds the clusters' sizes, their SMO iterations, the time to cluster,
        the time of the clusters' solves and the whole solve's iterations.

    Raises
    ------
    TypeError
        When ``problem`` is not an :class:`~glopt.problem.SVMProblem`.
    ValueError
        When an option is invalid, the kernel is precomputed, or the problem is not a p = 1
        problem without S.
    """
    from joblib import Parallel, delayed

    _check_problem(problem)
    if problem.kernel.name == "precomputed":
        raise ValueError("solve_dc clusters the inputs: a precomputed kernel has none; use glopt.smo.solve")
    given = {"a0", "grad0"} & set(options)
    if given:
        raise ValueError(f"solve_dc makes its own start from the clusters: {sorted(given)} cannot be given")
    check_solve_options(options)
    k = _n_clusters(n_clusters, problem.n, options.get("cache_size", 200))
    _check_dc_options(sample_size, random_state, cluster_jobs, k, problem.n)
    if k == 1:
        result = solve(problem, **options)
        result.extra["dc"] = {"n_clusters": 1}
        return result
    t0 = time.perf_counter()
    labels = cluster_samples(problem.X, k, sample_size=sample_size, random_state=random_state)
    t_cluster = time.perf_counter() - t0
    groups = [np.flatnonzero(labels == c) for c in range(k)]
    subs = [_subproblem(problem, rows) for rows in groups]
    # the clusters' progress is not the whole problem's: callbacks and progress lines are for the
    # whole solve. Their answers are only a start, so their precision is the fast one for their
    # size (a cluster whose columns all fit the cache in double needs no exact pass).
    # the clusters fit the cache: LIBSVM's pairs, whatever working_set the whole solve takes
    sub_options = {key: v for key, v in options.items()
                   if key not in ("callback", "verbose", "working_set")}
    sub_options["precision"] = "auto"
    solved = Parallel(n_jobs=cluster_jobs)(
        delayed(_solve_cluster)(sub, sub_options) for sub in subs if sub is not None)
    it = iter(solved)
    per_cluster = [(None, 0) if sub is None else next(it) for sub in subs]
    answers = [(rows, a) for rows, (a, _) in zip(groups, per_cluster)]
    t_sub = time.perf_counter() - t0 - t_cluster
    result = solve(problem, a0=_union(problem, answers), **options)
    result.extra["dc"] = {"n_clusters": k, "cluster_sizes": [int(g.size) for g in groups],
                          "cluster_iterations": [int(i) for _, i in per_cluster], "cluster_time": t_cluster,
                          "subproblem_time": t_sub, "global_iterations": int(result.n_iter)}
    result.solve_time = time.perf_counter() - t0
    return result
