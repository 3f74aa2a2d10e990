"""Blocked working sets: many variables per outer step, solved on their own cached block.

LIBSVM's SMO computes one kernel column per iteration, and once the columns no longer fit the
cache it computes nearly every column it uses. The blocked phase (the scheme of ThunderSVM and
oneDAL's SVM) instead reuses each kernel row for many iterations. Each outer step

1. takes a working set B of at most q variables: the half of the previous set added last, and
   the most violating variables of I_up and I_low (per sign class for the nu formulations) not
   yet in it;
2. computes the kernel rows of B's new data rows (n entries each, rounded to float) into a row
   store of ``cache_size`` megabytes, the rows used longest ago giving way first;
3. solves the problem restricted to B (the other variables fixed) with LIBSVM's SMO on the
   block Q_BB, to the local tolerance max(tol, 0.1 x the violation at the start of the step);
4. updates the gradient of all l variables from the changed rows in one pass.

It stops when the violation m(a) - M(a) of the whole problem, for Q rounded to float, is at
most tol. The engine (:class:`~glopt.smo._solver.SMOEngine`) then starts from that point with
the gradient recomputed exactly and iterates in double precision until the stopping rule holds
for the exact Q, so the answer is judged against the exact problem as any other.
"""
from __future__ import annotations

import numbers
import time

import numpy as np

from ..kernels import Kernel
from ._blocks import gather_block, kernel_rows, local_smo, rbf_rows_float, update_gradient

#: the engine's kernel codes (glopt/smo/_kernel_columns.h)
_KERNEL_CODES = {"linear": 0, "rbf": 1, "poly": 2, "sigmoid": 4}

#: the kernels the blocked phase computes rows of
BLOCKED_KERNELS = tuple(_KERNEL_CODES)

#: the estimators' working_set="auto" takes blocked working sets from this many samples up ...
BLOCKED_MIN_SAMPLES = 100_000

#: ... while the cache holds at least this many float kernel rows (n <= 204,800 at 200 MB): with
#: fewer variables per step, the steps multiply, and with them the gradient passes over all l
BLOCKED_MIN_ROWS = 256

#: the largest working set "auto" takes
Q_MAX = 1024

#: the smallest working set "auto" takes: below it a step does little more than one SMO pair
Q_MIN = 16

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


def working_set_size(working_set, n_samples: int, n_variables: int, cache_bytes: float) -> int:
    """The working set's size q: as given, or "auto": as many rows as the cache holds, <= 1024.

    Parameters
    ----------
    working_set : "auto" or int >= 2
        The requested size.
    n_samples : int
        Data rows n (the length of a kernel row).
    n_variables : int
        Dual variables l.
    cache_bytes : float
        The row store's budget in bytes.

    Returns
    -------
    int
        q, at most l and at least 2 (or l when l < 2).
    """
    if working_set == "auto":
        rows = int(cache_bytes // (4.0 * n_samples))
        q = max(Q_MIN, min(Q_MAX, rows))
    else:
        q = int(working_set)
    return max(min(q, n_variables), min(2, n_variables))


def blocked_pays(n_samples: int, cache_bytes: float, min_samples: int = BLOCKED_MIN_SAMPLES) -> bool:
    """Whether the estimators' working_set="auto" takes blocked working sets for n samples.

    From ``min_samples`` samples, where the engine's columns no longer fit its cache, as long
    as the cache holds at least BLOCKED_MIN_ROWS kernel rows.
    """
    return n_samples >= min_samples and cache_bytes // (4.0 * n_samples) >= BLOCKED_MIN_ROWS


def blocked_applies(problem, data) -> str | None:
    """Why the blocked phase cannot run on this problem (None: it can)."""
    if not isinstance(data, np.ndarray):
        return "sparse data"
    if problem.kernel.name not in BLOCKED_KERNELS:
        return f"kernel={problem.kernel.name!r}"
    return None


class _RowStore:
    """Kernel rows K(x_r, .) of data rows r, float32, in a fixed number of slots (oldest out)."""

    def __init__(self, X, kernel: Kernel, n_slots: int, n_threads: int):
        self.kernel = (_KERNEL_CODES[kernel.name], float(kernel.gamma), float(kernel.coef0),
                       int(kernel.degree))
        # Gaussian rows in float arithmetic (they are stored in float and only lead to the
        # engine's exact finish): a float copy of the data, O(n d); the other kernels' rows
        # from the double data, its transpose and squared norms
        self.float_rows = kernel.name == "rbf"
        if self.float_rows:
            self.Xf = np.ascontiguousarray(X, dtype=np.float32)
            self.XTf = np.ascontiguousarray(self.Xf.T)
        else:
            self.X = np.ascontiguousarray(X, dtype=np.float64)
            self.XT = np.ascontiguousarray(self.X.T)
            self.sq = np.einsum("ij,ij->i", self.X, self.X)
        n = X.shape[0]
        self.rows = np.empty((n_slots, n), dtype=np.float32)
        self.slot_of = np.full(n, -1, dtype=np.int32)
        self.row_in = np.full(n_slots, -1, dtype=np.int32)
        self.used = np.zeros(n_slots, dtype=np.int64)
        self.ones = np.ones(n)
        self.n_threads = n_threads
        self.clock = 0
        self.computed = 0
        self.time = 0.0

    def slots(self, data_rows: np.ndarray) -> np.ndarray:
        """The slots holding these (distinct) data rows, computing the missing ones."""
        self.clock += 1
        slots = self.slot_of[data_rows]
        missing = np.flatnonzero(slots < 0)
        if missing.size:
            t0 = time.perf_counter()
            held = np.zeros(self.row_in.size, dtype=bool)
            held[slots[slots >= 0]] = True
            # free slots first (used = 0 and row_in = -1), then the rows used longest ago
            order = np.where(held, np.iinfo(np.int64).max, self.used)
            free = np.argpartition(order, missing.size - 1)[:missing.size].astype(np.int32)
            old = self.row_in[free]
            self.slot_of[old[old >= 0]] = -1
            new_rows = data_rows[missing].astype(np.int32)
            if self.float_rows:
                rbf_rows_float(self.Xf, self.XTf, self.kernel[1], new_rows, free, self.rows,
                               self.n_threads)
            else:
                kernel_rows(self.X, self.sq, self.XT, *self.kernel, new_rows, free, self.rows,
                            self.n_threads)
            self.row_in[free] = new_rows
            self.slot_of[new_rows] = free
            slots[missing] = free
            self.computed += int(missing.size)
            self.time += time.perf_counter() - t0
        self.used[slots] = self.clock
        return slots


def _masks(sign, a, upper):
    up = np.where(sign > 0, a < upper, a > 0)
    low = np.where(sign > 0, a > 0, a < upper)
    return up, low


def _violation(f, up, low, classes) -> float:
    """max over the classes of max f over I_up - min f over I_low (f = -s G)."""
    worst = -np.inf
    for c in classes:
        fu, fl = f[up & c], f[low & c]
        if fu.size and fl.size:
            worst = max(worst, float(fu.max() - fl.min()))
    return worst


def _most_violating(f, mask, count: int, largest: bool) -> np.ndarray:
    """Up to ``count`` indices of ``mask`` with the largest (or smallest) f, best first."""
    cand = np.flatnonzero(mask)
    if cand.size == 0 or count <= 0:
        return cand[:0]
    key = -f[cand] if largest else f[cand]
    if cand.size > count:
        part = np.argpartition(key, count - 1)[:count]
        cand, key = cand[part], key[part]
    return cand[np.argsort(key, kind="stable")]


def _select(f, up, low, classes, keep: np.ndarray, q: int) -> np.ndarray:
    """The next working set: ``keep`` then new violators, alternating I_up and I_low per class."""
    need = q - keep.size
    free = np.ones(f.size, dtype=bool)
    free[keep] = False
    lists = []
    for c in classes:
        fu, fl = f[up & c], f[low & c]
        if not (fu.size and fl.size):
            continue
        # only variables that violate against the other side can improve in a pair
        lists.append(_most_violating(f, up & c & free & (f > fl.min()), need, True))
        lists.append(_most_violating(f, low & c & free & (f < fu.max()), need, False))
    picked = []
    taken = np.zeros(f.size, dtype=bool)
    position = [0] * len(lists)
    while len(picked) < need:
        moved = False
        for k, lst in enumerate(lists):
            while position[k] < lst.size and taken[lst[position[k]]]:
                position[k] += 1
            if position[k] < lst.size and len(picked) < need:
                t = lst[position[k]]
                taken[t] = True
                picked.append(t)
                moved = True
        if not moved:
            break
    return np.concatenate([keep, np.asarray(picked, dtype=np.int64)]).astype(np.int64)


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
        The row store's budget in bytes (it holds at least q rows).
    n_threads : int
        Threads of the kernel rows and the gradient pass.
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
        phase's statistics: ``outer`` steps, ``n_iter`` local iterations, ``rows`` computed,
        ``kernel_evals``, ``q``, ``slots``, the violation reached and the seconds spent in rows,
        local solves, gradient updates and selection.
    """
    t_start = time.perf_counter()
    n = form.n_samples
    l = form.size
    idx = np.ascontiguousarray(form.index, dtype=np.int32)
    sign = np.ascontiguousarray(form.sign, dtype=np.float64)
    upper = np.ascontiguousarray(form.upper, dtype=np.float64)
    identity = bool(l == n and np.array_equal(idx, np.arange(n)))
    n_slots = min(n, max(q, int(cache_bytes // (4.0 * n))))
    store = _RowStore(X, kernel, n_slots, n_threads)
    a = np.array(a, dtype=np.float64)
    G = np.array(form.linear, dtype=np.float64)
    classes = [sign > 0, sign < 0] if nu else [np.ones(l, dtype=bool)]
    t_grad = 0.0
    # the start's gradient p + Q a, from the rows of its nonzero variables, a store's worth at a time
    nonzero = np.flatnonzero(a)
    for k in range(0, nonzero.size, n_slots):
        t = nonzero[k:k + n_slots]
        _apply(store, t, idx, sign, a[t], G, identity, n_threads)
    t_grad += time.perf_counter() - t_start
    t_local = t_select = 0.0
    keep = np.zeros(0, dtype=np.int64)
    n_iter = outer = 0
    status = "optimal"
    violation = np.inf
    while True:
        t0 = time.perf_counter()
        f = -sign * G
        up, low = _masks(sign, a, upper)
        violation = _violation(f, up, low, classes)
        if not violation > tol:
            t_select += time.perf_counter() - t0
            break
        if n_iter >= max_iter:
            status = "max_iter"
            t_select += time.perf_counter() - t0
            break
        B = _select(f, up, low, classes, keep, q)
        t_select += time.perf_counter() - t0
        # the local solve takes B in increasing data row, so that gathering its block reads
        # every row of the store forwards
        W = B[np.argsort(idx[B], kind="stable")]
        rows, inverse = np.unique(idx[W], return_inverse=True)
        slots = store.slots(rows)
        t0 = time.perf_counter()
        sW = sign[W]
        QW = np.empty((W.size, W.size))
        gather_block(store.rows, slots[inverse].astype(np.int32), idx[W], sW, QW)
        aW = a[W].copy()
        gW = G[W].copy()
        it, _ = local_smo(QW, sW, upper[W], aW, gW, max(tol, 0.1 * violation),
                          min(LOCAL_ITER_PER_VAR * W.size, max_iter - n_iter), nu)
        t_local += time.perf_counter() - t0
        t0 = time.perf_counter()
        changed = np.flatnonzero(aW != a[W])
        _apply_rows(store, idx[W[changed]], sW[changed] * (aW[changed] - a[W[changed]]),
                    idx, sign, G, identity, n_threads)
        a[W] = aW
        t_grad += time.perf_counter() - t0
        n_iter += int(it)
        outer += 1
        # the half added last stays (first in, first out), as ThunderSVM's working sets
        keep = B[B.size - min(B.size, q) // 2:]
        if report is not None:
            info = {"iteration": n_iter, "violation": violation,
                    "objective": -0.5 * float(a @ (G + form.linear)), "active_size": l,
                    "outer": outer}
            if report(info):
                status = "callback"
                break
    return {"a": a, "grad": G, "status": status, "outer": outer, "n_iter": n_iter, "rows": store.computed,
            "kernel_evals": store.computed * n, "q": q, "slots": n_slots,
            "violation": float(violation), "time_rows": store.time, "time_local": t_local,
            "time_gradient": t_grad, "time_select": t_select,
            "time": time.perf_counter() - t_start}


def _apply(store, t, idx, sign, coef, G, identity, n_threads) -> None:
    """G += Q[:, t] coef for the variables t, from their rows (computed as needed)."""
    store.slots(np.unique(idx[t]))
    _apply_rows(store, idx[t], sign[t] * coef, idx, sign, G, identity, n_threads)


def _apply_rows(store, data_rows, c, idx, sign, G, identity, n_threads) -> None:
    """G_r += s_r sum_b c_b K(x_b, x_{i_r}) over data rows b (in the store), one term per row.

    The terms are added in increasing data row, whatever slots hold the rows, so that the
    gradient does not depend on the store's size.
    """
    if data_rows.size == 0:
        return
    rows, inv = np.unique(data_rows, return_inverse=True)
    coef = np.bincount(inv, weights=c, minlength=rows.size)
    if identity:
        update_gradient(store.rows, store.slot_of[rows], coef, idx, sign, G, True, n_threads)
        return
    # variables sharing a data row (SVR's alpha and alpha*) share its sum: n sums, not l
    h = np.zeros(store.rows.shape[1])
    update_gradient(store.rows, store.slot_of[rows], coef, idx, store.ones, h, True, n_threads)
    G += sign * h[idx]
