"""Blocked working sets: many variables per outer step, solved on their own kernel block.

LIBSVM's SMO computes one kernel column per iteration, and once the columns no longer fit the
cache it computes nearly every column it uses. The blocked phase (the scheme of ThunderSVM and
oneDAL's SVM) instead takes many variables per outer step and each kernel row once per step.
Each outer step

1. takes a working set B of at most q variables: the half of the previous set added last, and
   the most violating variables of I_up and I_low (per sign class for the nu formulations) not
   yet in it (:func:`~glopt.smo._blocks.select_working_set`);
2. computes the block Q_BB from the data (:func:`~glopt.smo._blocks.kernel_block`) and solves
   the problem restricted to B (the other variables fixed) with LIBSVM's SMO on it, to the
   local tolerance max(tol, 0.1 x the violation at the start of the step);
3. updates the gradient of all l variables from the kernel rows of the changed variables in
   one pass (:func:`~glopt.smo._blocks.fused_gradient`): each row is taken from a row store of
   ``cache_size`` megabytes or computed tile by tile while the pass uses it, and the rows of
   the half that stays are kept in the store for the next step, the rows used longest ago
   giving way first.

The rows and the block are computed in float (the Gaussian kernel in float arithmetic,
``glopt/smo/_rows_float.h``). The phase stops when the violation m(a) - M(a) of the whole
problem, for that float Q, is at most tol. The engine (:class:`~glopt.smo._solver.SMOEngine`)
then starts from that point with the gradient recomputed exactly and iterates in double
precision until the stopping rule holds for the exact Q, so the answer is judged against the
exact problem as any other.
"""
from __future__ import annotations

import numbers
import time

import numpy as np

from ..kernels import Kernel
from ._blocks import fused_gradient, kernel_block, local_smo, padded, select_working_set

#: the engine's kernel codes (glopt/smo/_kernel_columns.h)
_KERNEL_CODES = {"linear": 0, "rbf": 1, "poly": 2, "sigmoid": 4}

#: the kernels the blocked phase computes rows of
BLOCKED_KERNELS = tuple(_KERNEL_CODES)

#: the estimators' working_set="auto" takes blocked working sets from this many dual variables
#: up (samples; twice the samples for SVR and nu-SVR)
BLOCKED_MIN_VARIABLES = 40_000

#: the working set "auto" takes from Q_LARGE_SAMPLES samples up ...
Q_MAX = 1024

#: ... and below (the gradient passes over all l then weigh less against the local solves)
Q_SMALL = 512

#: the problem size from which "auto" takes Q_MAX variables per step
Q_LARGE_SAMPLES = 100_000

#: local iterations per working-set variable in one outer step (the local solve's cap)
LOCAL_ITER_PER_VAR = 50


def check_working_set(working_set) -> None:
    """Refuse a working_set that is neither None, "auto" nor an even integer >= 2."""
    if working_set is None or (isinstance(working_set, str) and working_set == "auto"):
        return
    if (isinstance(working_set, (bool, np.bool_)) or not isinstance(working_set, numbers.Integral)
            or working_set < 2):
        raise ValueError("working_set must be None (LIBSVM's pairs), 'auto' or an integer >= 2 "
                         f"(variables per outer step), got {working_set!r}")


def working_set_size(working_set, n_samples: int, n_variables: int) -> int:
    """The working set's size q: as given, or "auto": Q_MAX variables from Q_LARGE_SAMPLES samples, else Q_SMALL.

    Parameters
    ----------
    working_set : "auto" or int >= 2
        The requested size.
    n_samples : int
        Data rows n (the length of a kernel row).
    n_variables : int
        Dual variables l.

    Returns
    -------
    int
        q, at most l and at least 2 (or l when l < 2).
    """
    if working_set == "auto":
        q = Q_MAX if n_samples >= Q_LARGE_SAMPLES else Q_SMALL
    else:
        q = int(working_set)
    return max(min(q, n_variables), min(2, n_variables))


def blocked_pays(n_variables: int, min_variables: int = BLOCKED_MIN_VARIABLES) -> bool:
    """Whether the estimators' working_set="auto" takes blocked working sets for l variables.

    From ``min_variables`` dual variables, where the engine's columns no longer fit its cache
    and the blocked phase's rows serve many iterations each.
    """
    return n_variables >= min_variables


def blocked_applies(problem, data) -> str | None:
    """Why the blocked phase cannot run on this problem (None: it can)."""
    if not isinstance(data, np.ndarray):
        return "sparse data"
    if problem.kernel.name not in BLOCKED_KERNELS:
        return f"kernel={problem.kernel.name!r}"
    return None


class _RowStore:
    """Kernel rows K(x_r, .) of data rows r, float32, in a fixed number of slots (oldest out).

    The rows enter the gradient through :meth:`add_to`, which computes the rows it lacks while
    it uses them (one pass: :func:`~glopt.smo._blocks.fused_gradient`) and keeps some of them
    for the next steps; :meth:`block` computes a working set's kernel block from the data.
    """

    def __init__(self, X, kernel: Kernel, n_slots: int, n_threads: int):
        self.kernel = (_KERNEL_CODES[kernel.name], float(kernel.gamma), float(kernel.coef0),
                       int(kernel.degree))
        # Gaussian rows in float arithmetic (they are stored in float and only lead to the
        # engine's exact finish): a float copy of the data, O(n d); the other kernels' rows
        # from the double data, its transpose and squared norms. The unused arrays are stubs.
        self.float_rows = kernel.name == "rbf"
        n = X.shape[0]
        width = padded(n)
        if self.float_rows:
            # centred: distances do not change, and the float norms of the rows' form
            # |x|^2 + |z|^2 - 2 x.z stay small
            self.Xf = np.ascontiguousarray(X - X.mean(axis=0), dtype=np.float32)
            self.XTf = np.zeros((X.shape[1], width), dtype=np.float32)
            self.XTf[:, :n] = self.Xf.T
            self.sqf = np.zeros(width, dtype=np.float32)
            self.sqf[:n] = np.einsum("ij,ij->i", self.Xf, self.Xf, dtype=np.float64)
            self.X = self.XT = np.zeros((1, 1))
            self.sq = np.zeros(1)
        else:
            self.X = np.ascontiguousarray(X, dtype=np.float64)
            self.XT = np.ascontiguousarray(self.X.T)
            self.sq = np.einsum("ij,ij->i", self.X, self.X)
            self.Xf = self.XTf = np.zeros((1, 1), dtype=np.float32)
            self.sqf = np.zeros(1, dtype=np.float32)
        self.rows = np.empty((max(n_slots, 1), width), dtype=np.float32)
        self.slot_of = np.full(n, -1, dtype=np.int32)
        self.row_in = np.full(n_slots, -1, dtype=np.int32)
        self.used = np.zeros(n_slots, dtype=np.int64)
        self.n_threads = n_threads
        self.clock = 0
        self.computed = 0
        self.block_evals = 0

    def block(self, data_rows: np.ndarray) -> np.ndarray:
        """K(x_i, x_j) for the pairs of these data rows (float32, repeats allowed)."""
        m = data_rows.size
        out = np.empty((m, padded(m)), dtype=np.float32)
        kernel_block(self.float_rows, self.Xf, self.sqf, self.X, self.sq, *self.kernel,
                     np.ascontiguousarray(data_rows, dtype=np.int32), out, self.n_threads)
        self.block_evals += m * m
        return out[:, :m]

    def add_to(self, G: np.ndarray, s: np.ndarray, data_rows: np.ndarray, coef: np.ndarray,
               prefer: np.ndarray | None = None) -> None:
        """G_j += s_j sum_k coef_k K(x_{data_rows[k]}, x_j) over all data rows j.

        ``data_rows`` are distinct and increasing. The rows not in the store are computed; as
        many of them as the slots not read here hold are kept, those marked in ``prefer``
        (rows the next step is likely to change again) first, in the slots used longest ago.
        """
        self.clock += 1
        rows = np.ascontiguousarray(data_rows, dtype=np.int32)
        read = self.slot_of[rows]
        hit = read >= 0
        missing = np.flatnonzero(~hit)
        write = np.full(rows.size, -1, dtype=np.int32)
        n_write = min(missing.size, self.row_in.size - int(np.count_nonzero(hit)))
        if n_write > 0:
            if prefer is not None:
                missing = missing[np.argsort(~prefer[missing], kind="stable")]
            missing = missing[:n_write]
            held = np.zeros(self.row_in.size, dtype=bool)
            held[read[hit]] = True
            # free slots first (used = 0 and row_in = -1), then the rows used longest ago
            order = np.where(held, np.iinfo(np.int64).max, self.used)
            free = np.argpartition(order, n_write - 1)[:n_write].astype(np.int32)
            old = self.row_in[free]
            self.slot_of[old[old >= 0]] = -1
            self.row_in[free] = rows[missing]
            self.slot_of[rows[missing]] = free
            write[missing] = free
            self.used[free] = self.clock
        self.used[read[hit]] = self.clock
        self.computed += int(rows.size - np.count_nonzero(hit))
        fused_gradient(self.float_rows, self.Xf, self.sqf, self.XTf, self.X, self.sq, self.XT,
                       *self.kernel, rows, np.ascontiguousarray(coef, dtype=np.float64),
                       read, write, self.rows, s, G, self.n_threads)


def blocked_phase(form, X, kernel: Kernel, a: np.ndarray, *, q: int, tol: float, cache_bytes: float,
                  n_threads: int, max_iter: int, nu: bool, report=None) -> dict:
    """Run outer steps from the feasible point ``a`` until the whole violation <= tol.

    Parameters
    ----------
    form : DualForm
        The problem's dual form (:mod:`glopt.dual`).
    X : ndarray of float64, shape (n, d)
        Dense training inputs.
    kernel : Kernel
        A linear, rbf, poly or sigmoid kernel.
    a : ndarray of float64, shape (l,)
        Feasible start; not modified.
    q : int
        Working-set size.
    tol : float
        Stopping tolerance on the violation m(a) - M(a) (per sign class for ``nu``).
    cache_bytes : float
        The row store's budget in bytes.
    n_threads : int
        Threads of the block and the gradient pass.
    max_iter : int
        Cap on the local SMO iterations of all steps together.
    nu : bool
        The two equality constraints of the nu formulations (pairs within a sign class).
    report : callable(dict) -> bool, optional
        Called after every outer step with the progress (iteration, violation, objective,
        active_size, outer); True stops the phase.

    Returns
    -------
    dict
        ``a`` (the point reached), ``grad`` (its gradient for Q rounded to float), ``status``
        ("optimal", "max_iter" or "callback"), and the
        phase's statistics: ``outer`` steps, ``n_iter`` local iterations, ``rows`` computed
        (kernel rows the gradient passes computed rather than read from the store),
        ``kernel_evals``, ``q``, ``slots`` of the store, the violation reached and the seconds
        spent in selection, blocks, local solves and gradient passes (with their rows).
    """
    t_start = time.perf_counter()
    n = form.n_samples
    l = form.size
    idx = np.ascontiguousarray(form.index, dtype=np.int32)
    sign = np.ascontiguousarray(form.sign, dtype=np.float64)
    upper = np.ascontiguousarray(form.upper, dtype=np.float64)
    identity = bool(l == n and np.array_equal(idx, np.arange(n)))
    n_slots = min(n, int(cache_bytes // (4.0 * n)))
    store = _RowStore(X, kernel, n_slots, n_threads)
    a = np.array(a, dtype=np.float64)
    G = np.array(form.linear, dtype=np.float64)
    # the start's gradient p + Q a, from the rows of its nonzero variables
    nonzero = np.flatnonzero(a)
    _add_rows(store, idx[nonzero], sign[nonzero] * a[nonzero], idx, sign, G, identity, None)
    t_grad = time.perf_counter() - t_start
    t_local = t_select = t_block = 0.0
    keep = np.zeros(0, dtype=np.int64)
    B_buf = np.empty(q, dtype=np.int64)
    scratch = np.empty(33 * l, dtype=np.uint8)
    n_iter = outer = 0
    status = "optimal"
    while True:
        t0 = time.perf_counter()
        violation, size = select_working_set(G, sign, a, upper, nu, keep, B_buf, scratch, tol)
        t_select += time.perf_counter() - t0
        if not violation > tol:
            break
        if n_iter >= max_iter:
            status = "max_iter"
            break
        B = B_buf[:size].copy()
        # the local solve takes B in increasing data row (the block's rows read X forwards)
        W = B[np.argsort(idx[B], kind="stable")]
        t0 = time.perf_counter()
        sW = sign[W]
        QW = np.multiply.outer(sW, sW) * store.block(idx[W])
        t_block += time.perf_counter() - t0
        t0 = time.perf_counter()
        aW = a[W].copy()
        gW = G[W].copy()
        it, _ = local_smo(QW, sW, upper[W], aW, gW, max(tol, 0.1 * violation),
                          min(LOCAL_ITER_PER_VAR * W.size, max_iter - n_iter), nu)
        t_local += time.perf_counter() - t0
        t0 = time.perf_counter()
        changed = np.flatnonzero(aW != a[W])
        # the half added last stays (first in, first out, as ThunderSVM's working sets): its
        # rows are the ones worth keeping
        keep = B[B.size - min(B.size, q) // 2:]
        _add_rows(store, idx[W[changed]], sW[changed] * (aW[changed] - a[W[changed]]), idx,
                  sign, G, identity, idx[keep])
        a[W] = aW
        t_grad += time.perf_counter() - t0
        n_iter += int(it)
        outer += 1
        if report is not None:
            # a sum, not a BLAS dot: OpenBLAS's threads would spin after it, taking the cores
            # from the next step's own threads
            info = {"iteration": n_iter, "violation": violation,
                    "objective": -0.5 * float(np.sum(a * (G + form.linear))), "active_size": l,
                    "outer": outer}
            if report(info):
                status = "callback"
                break
    return {"a": a, "grad": G, "status": status, "outer": outer, "n_iter": n_iter,
            "rows": store.computed, "kernel_evals": store.computed * n + store.block_evals,
            "q": q, "slots": n_slots, "violation": float(violation), "time_block": t_block,
            "time_local": t_local, "time_gradient": t_grad, "time_select": t_select,
            "time": time.perf_counter() - t_start}


def _add_rows(store, data_rows, c, idx, sign, G, identity, prefer_rows) -> None:
    """G_t += s_t sum_b c_b K(x_{data_rows[b]}, x_{i_t}) for every variable t, in one pass.

    The terms of a data row are summed first and the rows added in increasing order, so that
    the gradient depends on neither the store nor the threads. ``prefer_rows``: data rows
    whose kernel rows the store keeps first.
    """
    if data_rows.size == 0:
        return
    rows, inv = np.unique(data_rows, return_inverse=True)
    coef = np.bincount(inv, weights=c, minlength=rows.size)
    prefer = None if prefer_rows is None else np.isin(rows, prefer_rows)
    if identity:
        store.add_to(G, sign, rows, coef, prefer)
        return
    # variables sharing a data row (SVR's alpha and alpha*) share its sum: n sums, not l
    h = np.zeros(store.slot_of.size)
    store.add_to(h, np.ones(h.size), rows, coef, prefer)
    G += sign * h[idx]
