"""The Python face of the SMO engine: validation, problem set-up, warm start, callbacks, results.

C-SVC (l = n variables) and epsilon-SVR (LIBSVM's 2n-variable form) are both written as

    min_a 0.5 a^T Q a + q^T a   s.t.  s^T a = 0,  0 <= a_t <= u_t,  Q_tr = s_t s_r K(x_{i_t}, x_{i_r})

by their adapter in :mod:`glopt.dual` and solved by :class:`glopt.smo._solver.SMOEngine`.
"""
from __future__ import annotations

import inspect
import numbers
import time
import warnings

import numpy as np

from .._checks import _is_sparse, as_float_array, boolean, tolerance
from .._checks import resolve_n_jobs as _resolve_n_jobs
from ..certify import certify
from ..kernels import Kernel
from ..dual import DualForm, dual_form
from ..problem import SVMProblem
from ..result import SVMResult
from ._blocked import blocked_applies, blocked_phase, check_working_set, working_set_size
from ._solver import SMOEngine, openmp_max_threads

__all__ = ["solve", "solve_svc", "solve_svr", "certificate", "resolve_n_jobs", "default_max_iter"]

#: Iterations between two returns to Python when no callback is given (signal checks).
_CHUNK = 1000


def default_max_iter(n_variables: int) -> int:
    """LIBSVM's iteration cap: max(10,000,000, 100 * l).

    Parameters
    ----------
    n_variables : int
        Number of dual variables l (n for svc, 2n for svr).

    Returns
    -------
    int
        The iteration cap max(10,000,000, 100 * l).
    """
    return max(10_000_000, 100 * int(n_variables))


def resolve_n_jobs(n_jobs) -> int:
    """Threads for kernel columns: None = all OpenMP threads, k > 0 = k, -k = all but k-1.

    Parameters
    ----------
    n_jobs : int or None
        None = all OpenMP threads, k > 0 = k, -k = all but k-1 (0 is refused).

    Returns
    -------
    int
        The number of threads (at least 1), capped at the number of CPUs (or OpenMP's thread
        count, if larger).
    """
    return _resolve_n_jobs(n_jobs, openmp_max_threads())


#: The precisions of the cached kernel columns (:func:`solve_svc`'s ``precision``).
PRECISIONS = ("auto", "single", "double")


def _resolve_precision(precision: str, form: DualForm, kernel_name: str, cache_bytes: float) -> bool:
    """Whether the columns are cached in single precision ("auto": unless double ones all fit)."""
    if precision != "auto":
        return precision == "single"
    # When every kernel column fits the cache in double precision, float columns cache nothing
    # more and only add the exact gradient pass of the finish (a precomputed kernel's columns
    # are read, not computed, so caching them in float gains nothing either).
    n = form.n_samples
    return kernel_name != "precomputed" and float(n) * n * 8.0 > cache_bytes


#: CSR data at least this dense are handed to the engine as a dense array (see _engine_data)
DENSIFY_DENSITY = 0.25

#: ... unless the dense copy would take more bytes than this
DENSIFY_MAX_BYTES = 2 ** 31


def _engine_data(X):
    """The training inputs as the engine takes them: dense data stored as CSR made dense.

    A sparse kernel column reads each nonzero through its column index, a dense one streams d
    values per row with vector instructions; from about a quarter of the entries nonzero the
    dense columns are faster, and the copy is at most a few times the CSR's own size. The
    answer is the one the same data give as a dense array.
    """
    if not _is_sparse(X):
        return X
    if engine_takes_dense(X):
        return np.ascontiguousarray(X.toarray(), dtype=np.float64)
    return X


def engine_takes_dense(X) -> bool:
    """Whether the engine takes these inputs as a dense array (dense, or CSR dense enough)."""
    if not _is_sparse(X):
        return True
    n, d = X.shape
    return X.nnz >= DENSIFY_DENSITY * n * d and 8.0 * n * d <= DENSIFY_MAX_BYTES


def _check_options(tol, wss, shrinking, cache_size, max_iter, callback, callback_every, precision, verbose):
    tolerance(tol, "tol")
    if isinstance(wss, (bool, np.bool_)) or wss not in (1, 3):
        raise ValueError(f"wss must be 1 (maximal violating pair) or 3 (second order), got {wss!r}")
    boolean(shrinking, "shrinking")
    boolean(verbose, "verbose")
    if (isinstance(cache_size, (bool, np.bool_)) or not isinstance(cache_size, numbers.Real)
            or not np.isfinite(cache_size) or cache_size <= 0):
        raise ValueError(f"cache_size must be a finite number of megabytes > 0, got {cache_size!r}")
    if max_iter is not None and (isinstance(max_iter, (bool, np.bool_))
                                 or not isinstance(max_iter, numbers.Integral) or max_iter < 1):
        raise ValueError(f"max_iter must be None or an integer >= 1, got {max_iter!r}")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable, got {callback!r}")
    if (isinstance(callback_every, (bool, np.bool_)) or not isinstance(callback_every, numbers.Integral)
            or callback_every < 1):
        raise ValueError(f"callback_every must be an integer >= 1, got {callback_every!r}")
    if not isinstance(precision, str) or precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")


def _progress(engine, t0) -> dict:
    """The engine's progress and the seconds since the solve started."""
    info = engine.progress()
    info["time"] = time.perf_counter() - t0
    return info


def _drive(engine, callback, callback_every, verbose, t0) -> str:
    """Run the engine to a status ("optimal", "max_iter" or "callback"), calling back between chunks."""
    chunk = callback_every if (callback is not None or verbose) else _CHUNK
    while True:
        code = engine.run(chunk)
        if code != "running":
            return code
        if callback is not None or verbose:
            info = _progress(engine, t0)
            if verbose:
                print(f"smo iter {info['iteration']:>10d}  violation {info['violation']:.3e}  "
                      f"dual {info['objective']:.10g}  active {info['active_size']}  "
                      f"{info['time']:.2f} s", flush=True)
            if callback is not None and callback(info):
                return "callback"


def _check_problem(problem: SVMProblem) -> None:
    if not isinstance(problem, SVMProblem):
        raise TypeError(f"problem must be a glopt.problem.SVMProblem, got {type(problem).__name__}")
    if problem.p != 1 or problem.S is not None:
        raise ValueError("the SMO engine solves p=1 problems (weighted hinge / epsilon-insensitive "
                         f"loss) only, got p={problem.p}; use glopt.cvx for p=2")


def _start_point(form: DualForm, a0, grad0):
    """The feasible start a, and the (grad_ref, a_ref) pair the engine updates the gradient from."""
    if a0 is None:
        if grad0 is not None:
            raise ValueError("grad0 needs a0 (the point it is the gradient at)")
        return form.start.copy(), None, None
    a0 = as_float_array(a0, "a0", ndim=1)
    if a0.size != form.size:
        raise ValueError(f"a0 has length {a0.size}, expected {form.size} "
                         f"({'n' if form.size == form.n_samples else '2n'} dual variables)")
    a = form.feasible_start(a0)
    if grad0 is None:
        return a, None, None
    grad0 = as_float_array(grad0, "grad0", ndim=1)
    if grad0.size != form.size:
        raise ValueError(f"grad0 has length {grad0.size}, expected {form.size}")
    return a, grad0, a0


def _run(engine, *, single, polish, callback, callback_every, verbose, t0) -> str:
    """Drive the engine to its final status, with the double-precision finish after single."""
    status = _drive(engine, callback, callback_every, verbose, t0)
    if single and polish:
        # The single-precision iterations solved the problem with Q rounded to float; the answer
        # must hold for the exact Q: recompute the gradient in double precision and go on with
        # double-precision columns until the stopping rule holds for it (mostly 0 iterations).
        # After a callback stop only the gradient is made exact.
        violation = engine.to_double()
        if verbose:
            print(f"smo single precision {status} after {engine.n_iter} iterations; exact "
                  f"violation {violation:.3e}", flush=True)
        # one more report: the objective reported so far was that of the rounded Q
        if callback is not None and status != "callback" and callback(_progress(engine, t0)):
            status = "callback"
        if status != "callback":
            status = _drive(engine, callback, callback_every, verbose, t0)
    return status


def _result(form: DualForm, fin: dict, status: str, *, tol, wss, max_iter, n_threads, solve_time,
            verbose) -> SVMResult:
    """The engine's final state as an :class:`SVMResult` (a warning when max_iter was reached)."""
    a = fin["a"]
    r = fin.get("r", float("nan"))
    if form.rescale and not (np.isfinite(r) and r != 0.0):
        raise FloatingPointError(
            f"nu-SVC found no margin (LIBSVM's r = {r:g}): the model (y a / r, -rho / r) is not "
            "finite. Lower nu, or check that the two classes are not the same points.")
    if not (np.all(np.isfinite(a)) and np.isfinite(fin["rho"]) and np.isfinite(fin["obj"])):
        # the data checks rule out overflowing inputs; this guards the answer itself
        raise FloatingPointError(
            "the SMO's answer is not finite (the kernel values or the gradient overflowed): scale X, "
            "or use a smaller C, gamma or degree")
    coef, b = form.coef(a), -fin["rho"]
    if form.rescale:
        # nu-SVC: LIBSVM reports the solution scaled by 1 / r (a C-SVC solution with C = 1 / r)
        coef, b = coef / r, b / r
    if status == "max_iter":
        from sklearn.exceptions import ConvergenceWarning
        warnings.warn(
            f"SMO stopped at max_iter={max_iter} iterations with KKT violation m(a)-M(a) = "
            f"{fin['violation']:.3g} > tol = {tol:g}. Raise max_iter, increase tol, or scale the "
            "data (standardize X, smaller C or gamma).", ConvergenceWarning, stacklevel=4)
    if verbose:
        print(f"smo {status}: {fin['n_iter']} iterations, violation {fin['violation']:.3e}, "
              f"dual {-fin['obj']:.12g}, {solve_time:.3f} s", flush=True)
    extra = {
        "grad": fin["grad"],
        "violation": fin["violation"],
        "rho": fin["rho"],
        "n_sv": int(np.count_nonzero(coef)),
        "n_bounded": int(np.count_nonzero(a >= form.upper)),
        **{key: fin[key] for key in ("kernel_evals", "n_shrink", "n_reconstruct", "cache_mode",
                                     "parallel_columns", "serial_columns", "parallel_scans",
                                     "serial_scans", "n_iter_single",
                                     "precision", "cache_peak_bytes")},
        "n_threads": n_threads,
        "tol": float(tol),
        "upper": form.upper,
    }
    if form.nu:
        extra["r"] = r
    return SVMResult(coef=coef, b=b, a=a, objective=float("nan"),
                     dual_objective=-fin["obj"], status=status, n_iter=fin["n_iter"],
                     solve_time=solve_time, solver=f"smo-wss{int(wss)}", extra=extra)


def _solve_problem(problem: SVMProblem, *, tol=1e-3, wss=3, shrinking=True, cache_size=200,
                   max_iter=None, n_jobs=None, a0=None, grad0=None, callback=None,
                   callback_every=1000, verbose=False, precision="auto", working_set=None,
                   _cache_mode="auto", _adaptive_threads=True, _par_min=-1,
                   _qfloat=False) -> SVMResult:
    _check_problem(problem)
    _check_options(tol, wss, shrinking, cache_size, max_iter, callback, callback_every, precision, verbose)
    check_working_set(working_set)
    # _qfloat (tests): single-precision columns and no double-precision finish, i.e. exactly
    # LIBSVM's iterations
    n_threads = resolve_n_jobs(n_jobs)
    form = dual_form(problem)
    single = _resolve_precision(precision, form, problem.kernel.name, float(cache_size) * 2.0 ** 20) or bool(_qfloat)
    max_iter = default_max_iter(form.size) if max_iter is None else int(max_iter)
    a, grad_ref, a_ref = _start_point(form, a0, grad0)
    k = problem.kernel
    t0 = time.perf_counter()
    # LIBSVM's Solver_NU for the two class sums of the nu formulations
    nu_mode = {"nu": True} if form.nu else {}
    data = _engine_data(problem.X)
    blocked = None
    engine_iter = max_iter
    cold = a0 is None
    if working_set is not None:
        why = blocked_applies(problem, data)
        if why is not None:
            raise ValueError("working_set needs dense data and a linear, rbf, poly or sigmoid "
                             f"kernel, got {why}; use working_set=None")
        blocked = _blocked(problem, form, data, a, working_set, tol=tol, cache_size=cache_size,
                           n_threads=n_threads, max_iter=max_iter, callback=callback,
                           callback_every=callback_every, verbose=verbose, t0=t0)
        # the engine recomputes the gradient exactly at the point reached and finishes in
        # double precision (near the answer, few columns are needed), unless told "single"
        a, grad_ref, a_ref, cold = blocked["a"], None, None, False
        single = precision == "single" or bool(_qfloat)
        engine_iter = max(1, max_iter - blocked["n_iter"])
    engine = SMOEngine(data, k.name, k.gamma, k.degree, k.coef0, form.index, form.sign, form.linear,
                       form.upper, a, float(tol), int(wss), bool(shrinking), float(cache_size) * 2.0 ** 20,
                       n_threads, engine_iter, grad_ref=grad_ref, a_ref=a_ref, mode=_cache_mode,
                       adaptive_threads=bool(_adaptive_threads), par_min=int(_par_min), single=single,
                       cold=cold, **nu_mode)
    if blocked is not None and blocked["status"] != "optimal":
        status = blocked["status"]      # stopped in the blocked phase: its point, as it stands
    else:
        status = _run(engine, single=single, polish=not _qfloat, callback=callback,
                      callback_every=callback_every, verbose=verbose, t0=t0)
    fin = engine.finish()
    if blocked is not None:
        fin["n_iter"] += blocked["n_iter"]
        fin["kernel_evals"] += blocked["kernel_evals"]
    result = _result(form, fin, status, tol=tol, wss=wss, max_iter=max_iter, n_threads=n_threads,
                     solve_time=time.perf_counter() - t0, verbose=verbose)
    result.extra["layout"] = "dense" if isinstance(data, np.ndarray) else "csr"
    if blocked is not None:
        result.extra["blocked"] = {key: value for key, value in blocked.items()
                                   if key not in ("a", "grad")}
    return result


def _blocked(problem, form, data, a, working_set, *, tol, cache_size, n_threads, max_iter, callback,
             callback_every, verbose, t0) -> dict:
    """The blocked working-set phase from ``a`` (:mod:`glopt.smo._blocked`), reporting as the engine."""
    cache_bytes = float(cache_size) * 2.0 ** 20
    q = working_set_size(working_set, form.n_samples, form.size)
    last = [0]

    def report(info):
        # as the engine's chunks: a report once callback_every more iterations are done
        if not (callback is not None or verbose) or info["iteration"] - last[0] < callback_every:
            return False
        last[0] = info["iteration"]
        info["time"] = time.perf_counter() - t0
        if verbose:
            print(f"smo blocked step {info['outer']:>6d}  iter {info['iteration']:>10d}  "
                  f"violation {info['violation']:.3e}  dual {info['objective']:.10g}  "
                  f"{info['time']:.2f} s", flush=True)
        return callback is not None and bool(callback(info))

    out = blocked_phase(form, data, problem.kernel, a, q=q, tol=float(tol), cache_bytes=cache_bytes,
                        n_threads=n_threads, max_iter=max_iter, nu=bool(form.nu), report=report)
    if verbose:
        print(f"smo blocked phase {out['status']}: {out['outer']} steps of {q} variables, "
              f"{out['n_iter']} iterations, {out['rows']} kernel rows, violation (float Q) "
              f"{out['violation']:.3e}, {out['time']:.3f} s", flush=True)
    return out


_DOC_OPTIONS = """
    tol : float > 0
        Stop when the maximal KKT violation m(a) - M(a) <= tol (LIBSVM's ``eps``).
    wss : {1, 3}
        Working-set selection: 1 = maximal violating pair, 3 = second order (LIBSVM's default).
    shrinking : bool
        LIBSVM's shrinking heuristic with gradient reconstruction.
    cache_size : float > 0
        Kernel cache in megabytes (entries of ``precision``; at least two full columns are always
        kept).
    max_iter : int >= 1, optional
        Iteration cap (default max(10,000,000, 100 l)); reaching it gives status "max_iter" and a
        ConvergenceWarning.
    n_jobs : int, optional
        OpenMP threads for kernel columns: None or -1 = all (``OMP_NUM_THREADS``), k = k. The result
        does not depend on it.
    a0 : array (l,), optional
        Warm start (l = n for svc, 2n for svr). Clipped to [0, u]; y^T a = 0 is then restored by
        moving the variables with the most room.
    grad0 : array (l,), optional
        The gradient ``Q a0 + q`` at a0 (``result.extra["grad"]`` of an earlier solve with the same
        data, kernel and epsilon, whatever the bounds): the start gradient is then updated only for
        the variables that clipping or restoring changed.
    callback : callable(info) -> bool, optional
        Called every ``callback_every`` iterations with a dict (iteration, violation over the active
        set, objective = current dual objective, active_size, time = seconds since the solve
        started); returning True stops the solve
        (status "callback"). With ``precision="single"`` the objective is that of the rounded Q
        until the switch to double precision, which is reported once more with the exact one.
    callback_every : int >= 1
        Iterations between two calls of ``callback`` (and between two progress lines with
        ``verbose``).
    verbose : bool
        Print progress every ``callback_every`` iterations.
    precision : {"auto", "single", "double"}
        Precision of the cached kernel columns. "single" stores them as float32, as LIBSVM does
        (half the memory, twice the columns per MB), iterates on that rounded Q, then recomputes
        the gradient exactly in double precision (one kernel pass over the support vectors) and
        continues with double columns until m(a) - M(a) <= tol holds for the exact Q: the
        answer, its gradient and its objective are those of the exact problem either way.
        "double" iterates in double precision throughout. "auto" (default) is "double" when
        every kernel column (n samples long, n of them) fits ``cache_size`` in double precision
        or the kernel is precomputed, where float columns would cache nothing more and only add
        the exact pass, and "single" otherwise.
    working_set : None, "auto" or int >= 2
        None (default): LIBSVM's iterations, one pair and its kernel columns at a time. An
        integer q: a blocked phase first (:mod:`glopt.smo._blocked`; dense data and a linear,
        rbf, poly or sigmoid kernel): working sets of q variables, each solved by a local SMO
        on its own block of Q, with one pass over all gradients per set from the changed
        variables' kernel rows in float32 (computed in the pass, or read from a store of
        ``cache_size`` megabytes), until the violation for that rounded Q is at most ``tol``;
        the engine then recomputes the gradient exactly and finishes in double precision
        (``precision="single"``: single, then double), so the answer meets the same stopping
        rule for the exact Q. "auto": q = 512, and 1,024 from 100,000 samples. ``wss``
        applies to the finish (the local solves use WSS3); iterations and ``kernel_evals``
        count both phases, and ``extra["blocked"]`` describes the blocked phase (steps,
        iterations, rows computed, seconds spent on selection, blocks, local solves and
        gradient passes).
"""


def _options_doc(func):
    """Put the options shared by the solvers (``_DOC_OPTIONS``) into ``func``'s docstring."""
    func.__doc__ = func.__doc__.replace("    {options}\n", _DOC_OPTIONS.lstrip("\n") + "\n")
    return func


@_options_doc
def solve_svc(X, y, C=1.0, *, weights=None, kernel=None, tol=1e-3, wss=3, shrinking=True,
              cache_size=200, max_iter=None, n_jobs=None, a0=None, grad0=None, callback=None,
              callback_every=1000, verbose=False, precision="auto", working_set=None) -> SVMResult:
    """Weighted C-SVC by SMO: max 1^T a - 0.5 (y a)^T K (y a), y^T a = 0, 0 <= a_i <= C w_i.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n, d), or ndarray of shape (n, n)
        Training inputs, dense or sparse (any scipy.sparse format, used as CSR: the kernel
        columns are computed from the compressed rows or columns, with the dense answer; data
        with at least a quarter of their entries nonzero are made dense, whose columns are
        faster); the (n, n) Gram matrix, dense, for a precomputed kernel.
    y : ndarray of shape (n,)
        Labels in {-1, +1}.
    C : float > 0, default=1.0
        Weight of the loss (upper bounds C * weights).
    weights : ndarray of shape (n,), optional
        Positive per-sample weights (upper bounds C * weights).
    kernel : glopt.kernels.Kernel, optional
        The kernel K (default Kernel("rbf", gamma=1.0)).
    {options}
    Returns
    -------
    SVMResult
        The solution, with coef = y * a, b = -rho (LIBSVM), dual_objective, ``extra["grad"]`` and
        ``extra["violation"]``.
    """
    kernel = Kernel("rbf", gamma=1.0) if kernel is None else kernel
    problem = SVMProblem(X, y, kernel=kernel, task="svc", C=C, weights=weights)
    return _solve_problem(problem, tol=tol, wss=wss, shrinking=shrinking, cache_size=cache_size,
                          max_iter=max_iter, n_jobs=n_jobs, a0=a0, grad0=grad0, callback=callback,
                          callback_every=callback_every, verbose=verbose, precision=precision,
                          working_set=working_set)


@_options_doc
def solve_svr(X, y, C=1.0, *, epsilon=0.1, weights=None, kernel=None, tol=1e-3, wss=3,
              shrinking=True, cache_size=200, max_iter=None, n_jobs=None, a0=None, grad0=None,
              callback=None, callback_every=1000, verbose=False, precision="auto",
              working_set=None) -> SVMResult:
    """Weighted epsilon-SVR by SMO in LIBSVM's 2n-variable form a = [alpha, alpha*].

    min 0.5 (alpha - alpha*)^T K (alpha - alpha*) + eps 1^T (alpha + alpha*) - y^T (alpha - alpha*),
    1^T (alpha - alpha*) = 0, 0 <= alpha_i, alpha*_i <= C w_i.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n, d), or ndarray of shape (n, n)
        Training inputs, dense or sparse (any scipy.sparse format, used as CSR: the kernel
        columns are computed from the compressed rows or columns, with the dense answer; data
        with at least a quarter of their entries nonzero are made dense, whose columns are
        faster); the (n, n) Gram matrix, dense, for a precomputed kernel.
    y : ndarray of shape (n,)
        Real targets.
    C : float > 0, default=1.0
        Weight of the loss (upper bounds C * weights).
    epsilon : float >= 0, default=0.1
        Width of the insensitive tube.
    weights : ndarray of shape (n,), optional
        Positive per-sample weights (upper bounds C * weights).
    kernel : glopt.kernels.Kernel, optional
        The kernel K (default Kernel("rbf", gamma=1.0)).
    {options}
    Returns
    -------
    SVMResult
        The solution, with coef = alpha - alpha*, b = -rho and a = [alpha, alpha*] (length 2n).
    """
    kernel = Kernel("rbf", gamma=1.0) if kernel is None else kernel
    problem = SVMProblem(X, y, kernel=kernel, task="svr", C=C, weights=weights, epsilon=epsilon)
    return _solve_problem(problem, tol=tol, wss=wss, shrinking=shrinking, cache_size=cache_size,
                          max_iter=max_iter, n_jobs=n_jobs, a0=a0, grad0=grad0, callback=callback,
                          callback_every=callback_every, verbose=verbose, precision=precision,
                          working_set=working_set)


def solve(problem: SVMProblem, **options) -> SVMResult:
    """Solve an :class:`~glopt.problem.SVMProblem` (any of LIBSVM's five tasks, p = 1) by SMO.

    The dual form comes from the task's adapter (:mod:`glopt.dual`), with LIBSVM's start; the
    nu formulations run LIBSVM's ``Solver_NU``. The result follows LIBSVM's conventions:
    ``coef`` and ``b`` are the model (f = K coef + b; nu-SVC scaled by 1 / r), ``a`` the solved
    dual variables, and for nu_svc / nu_svr ``extra["r"]`` is LIBSVM's r (nu-SVC: the model is
    a C-SVC solution with C = 1 / r; nu-SVR: the tube width is epsilon = -r).

    Parameters
    ----------
    problem : SVMProblem
        The problem to solve: p = 1 and no correlation matrix S.
    **options : dict
        The options of :func:`solve_svc` after the problem data (tol, wss, shrinking,
        cache_size, max_iter, n_jobs, a0, grad0, callback, callback_every, verbose, precision,
        working_set).

    Returns
    -------
    SVMResult
        The solution, as :func:`solve_svc` (svc) or :func:`solve_svr` (svr) returns it.

    Raises
    ------
    TypeError
        When ``problem`` is not an :class:`~glopt.problem.SVMProblem`.
    ValueError
        When an option is unknown or invalid, or the problem is not a p = 1 problem without S.
    """
    if not isinstance(problem, SVMProblem):
        raise TypeError(f"problem must be a glopt.problem.SVMProblem, got {type(problem).__name__}")
    check_option_names(options)
    return _solve_problem(problem, **options)


_OPTIONS = {"tol", "wss", "shrinking", "cache_size", "max_iter", "n_jobs", "a0", "grad0", "callback",
            "callback_every", "verbose", "precision", "working_set", "_cache_mode", "_adaptive_threads", "_par_min", "_qfloat"}


def check_option_names(options: dict) -> None:
    """Refuse option names :func:`solve` does not take, naming the ones it does."""
    unknown = set(options) - _OPTIONS
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)}; allowed: {sorted(o for o in _OPTIONS if not o.startswith('_'))}")


def check_solve_options(options: dict) -> None:
    """Refuse the options of :func:`solve` that it would refuse, before any work is done."""
    check_option_names(options)
    # the values _solve_problem would check, its own defaults where not given
    defaults = inspect.signature(_solve_problem).parameters
    _check_options(*(options.get(name, defaults[name].default)
                     for name in inspect.signature(_check_options).parameters))
    resolve_n_jobs(options.get("n_jobs"))
    check_working_set(options.get("working_set"))


def certificate(result: SVMResult, problem: SVMProblem):
    """The certificate of an SMO answer, its kernel product taken from the engine's gradient.

    The engine ends with the gradient Q a + q of its answer, recomputed from the kernel in double
    precision after the single-precision phase and kept exact by its updates since; K @ coef
    follows from it (:meth:`glopt.dual.DualForm.kernel_product`), so the certificate costs no
    kernel pass. :func:`glopt.certify.certify` without ``Kcoef`` recomputes the product instead.

    Parameters
    ----------
    result : SVMResult
        An answer of :func:`solve` on ``problem`` (its ``extra["grad"]`` is read).
    problem : SVMProblem
        The problem ``result`` solves.

    Returns
    -------
    Certificate
        As :func:`glopt.certify.certify` gives it.

    Raises
    ------
    ValueError
        When ``result`` carries no gradient of ``problem``'s dual variables.
    """
    grad = result.extra.get("grad") if isinstance(result, SVMResult) else None
    if grad is None:
        raise ValueError("result carries no SMO gradient (extra['grad']): certify it with glopt.certify.certify")
    return certify(result, problem, Kcoef=dual_form(problem).kernel_product(grad))
