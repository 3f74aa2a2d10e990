"""Production SMO solver (Cython): the LIBSVM solver class with per-variable upper bounds.

- :func:`solve_svc`, :func:`solve_svr`: weighted C-SVC and epsilon-SVR from arrays;
- :func:`solve`: any p = 1 :class:`glopt.problem.SVMProblem`;
- :func:`solve_dc`: the same problems by divide and conquer (clusters solved through joblib, then
  the whole problem from their union), for large n;
- ``working_set=`` of :func:`solve`: blocked working sets before the engine (``BLOCKED_MIN_VARIABLES``:
  where the estimators' ``working_set="auto"`` starts taking them);
- :func:`certificate`: the certificate of an answer, from the engine's own gradient;
- :class:`SMOEngine`: the resumable compiled solver state underneath.
"""
from ._api import certificate, default_max_iter, resolve_n_jobs, solve, solve_svc, solve_svr
from ._blocked import BLOCKED_MIN_VARIABLES
from ._dc import cluster_capacity, cluster_samples, solve_dc
from ._solver import SMOEngine, openmp_max_threads

__all__ = ["solve", "solve_dc", "BLOCKED_MIN_VARIABLES", "cluster_samples", "cluster_capacity", "solve_svc", "solve_svr", "certificate", "SMOEngine", "openmp_max_threads", "default_max_iter",
           "resolve_n_jobs"]
