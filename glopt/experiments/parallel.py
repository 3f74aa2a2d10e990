"""Where the grid searches run: local processes, or a Dask cluster through joblib's dask backend.

The experiments never talk to Dask themselves: scikit-learn's searches parallelize with joblib,
and :func:`backend` only decides which joblib backend they see. ``scheduler`` is the address of
a running ``dask.distributed`` scheduler (``tcp://host:8786``) or ``"local"`` for a
``LocalCluster`` on loopback started here (and closed on exit).
"""
from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def backend(scheduler: str | None = None, n_workers: int = 2):
    """Context in which joblib (and so ``GridSearchCV(n_jobs=...)``) uses the chosen backend.

    Yields a short description of the backend for the report.
    """
    if scheduler is None:
        yield "joblib (local processes)"
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("--scheduler needs dask.distributed: pip install 'glopt[validate]'") from exc
    import joblib

    cluster = None
    if scheduler == "local":
        # one thread per worker: the solvers use OpenMP themselves
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, host="127.0.0.1",
                               dashboard_address=None, processes=True)
        address = cluster.scheduler_address
    else:
        address = scheduler
    client = Client(address)
    try:
        with joblib.parallel_config(backend="dask"):
            yield f"dask ({address}, {len(client.scheduler_info()['workers'])} workers)"
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
