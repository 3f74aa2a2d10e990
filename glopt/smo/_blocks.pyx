"""Compiled parts of the blocked working-set phase (:mod:`glopt.smo._blocked`).

Five kernels, each with one job:

- :func:`kernel_rows`: kernel rows K(x_r, .) of a set of data rows, rounded to float, on the
  threads (the engine's register-tiled block code, ``gl_kblock``);
- :func:`rbf_rows_float`: the same rows of the Gaussian kernel computed in float arithmetic;
- :func:`gather_block`: the working set's block Q_BB from those rows;
- :func:`local_smo`: LIBSVM's SMO (WSS3 pairs and its two-variable step, ``Solver`` or
  ``Solver_NU``) on the working set's own block Q_BB, from the working set's gradient;
- :func:`update_gradient`: the gradient of every variable after a local solve,
  G_t += s_t sum_b c_b K(x_{i_b}, x_{i_t}), one pass over the changed rows.

Every entry of a row and of the gradient is computed by one thread in a fixed order, so the
results do not depend on the number of threads.
"""
cimport cython
from cython.parallel cimport prange
from libc.math cimport INFINITY

import numpy as np

cdef extern from "_pair_step.h" nogil:
    void gl_pair_step(double yi, double yj, double QDi, double QDj, double Qij, double Gi,
                      double Gj, double Ci, double Cj, double* ai, double* aj)

cdef extern from "_rows_float.h" nogil:
    void gl_rbf_row_f32(Py_ssize_t d, float gamma, const float* xr, const float* XT,
                        Py_ssize_t ld, Py_ssize_t j0, Py_ssize_t j1, float* out)

cdef extern from "_kernel_columns.h" nogil:
    void gl_kblock(int kind, Py_ssize_t d, double gamma, double coef0, int degree,
                   const double* xr, double sqr, const double* XT, Py_ssize_t ld,
                   const double* sqv, const double* yv, double yr,
                   Py_ssize_t j0, Py_ssize_t j1, double* out, float* outf)

#: LIBSVM's TAU: the curvature used when a pair's is not positive
cdef double TAU = 1e-12

#: gradient entries per task of :func:`update_gradient` (a stack buffer of this many doubles)
DEF GCHUNK = 1024

#: data points per tile of :func:`kernel_rows` (d x 512 doubles of XT: 80 KB for d = 20)
DEF ROW_TILE = 512


@cython.boundscheck(False)
@cython.wraparound(False)
def kernel_rows(const double[:, ::1] X, const double[::1] sq, const double[:, ::1] XT, int kind,
                double gamma, double coef0, int degree, const int[::1] rows, const int[::1] slots,
                float[:, ::1] out, int n_threads):
    """out[slots[k], j] = K(x_{rows[k]}, x_j) for all data rows j, rounded to float.

    The rows are computed together, one tile of ROW_TILE data points at a time: a tile of XT
    (d x ROW_TILE values) stays in the core's cache while every row takes its entries from it,
    where one row at a time would stream all of XT from memory once per row. Each entry is the
    engine's own kernel value for that pair (the same code), whatever the tiles and threads.

    Parameters
    ----------
    X : ndarray of float64, shape (n, d)
        The data, C-contiguous.
    sq : ndarray of float64, shape (n,)
        Squared norms of the rows of X.
    XT : ndarray of float64, shape (d, n)
        X transposed, C-contiguous (the column-major copy the block code streams).
    kind, gamma, coef0, degree
        The kernel (the engine's codes: 0 linear, 1 rbf, 2 poly, 4 sigmoid).
    rows : ndarray of int32, shape (m,)
        The data rows whose kernel rows are computed.
    slots : ndarray of int32, shape (m,)
        The row of ``out`` each one is written to.
    out : ndarray of float32, shape (n_slots, n)
        The row store.
    n_threads : int
        Threads, each taking whole tiles.
    """
    cdef Py_ssize_t m = rows.shape[0], n = XT.shape[1], d = X.shape[1]
    cdef Py_ssize_t ntiles = (n + ROW_TILE - 1) // ROW_TILE, tile, k, j0, j1
    if m == 0 or n == 0:
        return
    for tile in prange(ntiles, nogil=True, num_threads=n_threads, schedule="dynamic"):
        j0 = tile * ROW_TILE
        j1 = min(j0 + ROW_TILE, n)
        for k in range(m):
            gl_kblock(kind, d, gamma, coef0, degree, &X[rows[k], 0], sq[rows[k]], &XT[0, 0], n,
                      &sq[0], NULL, 1.0, j0, j1, NULL, &out[slots[k], 0])


@cython.boundscheck(False)
@cython.wraparound(False)
def rbf_rows_float(const float[:, ::1] X, const float[:, ::1] XT, double gamma,
                   const int[::1] rows, const int[::1] slots, float[:, ::1] out, int n_threads):
    """out[slots[k], j] = exp(-gamma |x_{rows[k]} - x_j|^2) in float arithmetic (rbf only).

    The rows of :func:`kernel_rows` for the Gaussian kernel at half the cost: the data and the
    distances in float, the squared distance summed over the differences, float's exp
    (``glopt/smo/_rows_float.h``); each value is within about 1e-6 of the exact kernel, and
    the tiles are those of :func:`kernel_rows`, so the rows do not depend on the threads.

    Parameters
    ----------
    X : ndarray of float32, shape (n, d)
        The data in float, C-contiguous.
    XT : ndarray of float32, shape (d, n)
        Its transpose, C-contiguous.
    gamma : float
        The Gaussian kernel's coefficient.
    rows, slots, out, n_threads
        As for :func:`kernel_rows`.
    """
    cdef Py_ssize_t m = rows.shape[0], n = XT.shape[1], d = X.shape[1]
    cdef Py_ssize_t ntiles = (n + ROW_TILE - 1) // ROW_TILE, tile, k, j0, j1
    cdef float g = <float> gamma
    if m == 0 or n == 0:
        return
    for tile in prange(ntiles, nogil=True, num_threads=n_threads, schedule="dynamic"):
        j0 = tile * ROW_TILE
        j1 = min(j0 + ROW_TILE, n)
        for k in range(m):
            gl_rbf_row_f32(d, g, &X[rows[k], 0], &XT[0, 0], n, j0, j1, &out[slots[k], 0])


@cython.boundscheck(False)
@cython.wraparound(False)
def gather_block(const float[:, ::1] store, const int[::1] slots, const int[::1] cols,
                 const double[::1] s, double[:, ::1] Q):
    """Q[i, j] = s[i] s[j] store[slots[i], cols[j]]: the working set's block of Q, in double.

    Parameters
    ----------
    store : ndarray of float32, shape (n_slots, n)
        The kernel rows.
    slots : ndarray of int32, shape (m,)
        The row of each working-set variable.
    cols : ndarray of int32, shape (m,)
        The data row of each working-set variable.
    s : ndarray of float64, shape (m,)
        Their signs.
    Q : ndarray of float64, shape (m, m)
        The block, written.
    """
    cdef Py_ssize_t m = slots.shape[0], i, j
    cdef const float* row
    cdef double si
    with nogil:
        for i in range(m):
            row = &store[slots[i], 0]
            si = s[i]
            for j in range(m):
                Q[i, j] = (si * s[j]) * row[cols[j]]


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _update_chunk(const float[:, ::1] store, const int[::1] slots, const double[::1] c,
                        const int[::1] idx, const double[::1] s, double[::1] G, Py_ssize_t r0,
                        Py_ssize_t r1, bint identity) noexcept nogil:
    cdef double acc[GCHUNK]
    cdef Py_ssize_t b, r, nb = slots.shape[0]
    cdef double cb
    cdef const float* row
    for r in range(r1 - r0):
        acc[r] = 0.0
    for b in range(nb):
        cb = c[b]
        row = &store[slots[b], 0]
        if identity:
            for r in range(r0, r1):
                acc[r - r0] += cb * row[r]
        else:
            for r in range(r0, r1):
                acc[r - r0] += cb * row[idx[r]]
    for r in range(r0, r1):
        G[r] += s[r] * acc[r - r0]


@cython.boundscheck(False)
@cython.wraparound(False)
def update_gradient(const float[:, ::1] store, const int[::1] slots, const double[::1] c,
                    const int[::1] idx, const double[::1] s, double[::1] G, bint identity,
                    int n_threads):
    """G[t] += s[t] * sum_b c[b] * store[slots[b], idx[t]] for every variable t.

    Parameters
    ----------
    store : ndarray of float32, shape (n_slots, n)
        The kernel rows.
    slots : ndarray of int32, shape (m,)
        The rows of the changed variables (one per changed data row).
    c : ndarray of float64, shape (m,)
        Their coefficients: the sum of s_b * (change of a_b) over the variables of that row.
    idx : ndarray of int32, shape (l,)
        Data row of each variable.
    s : ndarray of float64, shape (l,)
        Signs of the variables.
    G : ndarray of float64, shape (l,)
        The gradient, updated in place.
    identity : bool
        ``idx`` is 0, 1, ..., l - 1 (the rows are read without the gather).
    n_threads : int
        Threads; each takes whole chunks of the variables.
    """
    cdef Py_ssize_t l = G.shape[0], nchunks = (l + GCHUNK - 1) // GCHUNK, ch
    if slots.shape[0] == 0:
        return
    for ch in prange(nchunks, nogil=True, num_threads=n_threads, schedule="static"):
        _update_chunk(store, slots, c, idx, s, G, ch * GCHUNK, min((ch + 1) * GCHUNK, l), identity)


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
def local_smo(const double[:, ::1] Q, const double[::1] y, const double[::1] u, double[::1] a,
              double[::1] G, double eps, long long max_iter, bint nu):
    """LIBSVM's SMO on a working set: WSS3 pairs and the two-variable step until m - M < eps.

    Parameters
    ----------
    Q : ndarray of float64, shape (m, m)
        The block Q_BB = s_i s_j K(x_{i_i}, x_{i_j}) of the working set.
    y : ndarray of float64, shape (m,)
        Signs of the working set's variables.
    u : ndarray of float64, shape (m,)
        Their upper bounds.
    a : ndarray of float64, shape (m,)
        Their values, updated in place (every step keeps s^T a, and in ``nu`` mode the sum of
        a over each sign class).
    G : ndarray of float64, shape (m,)
        Their gradient entries, updated in place with the block's columns.
    eps : float
        Local stopping tolerance on the working set's m(a) - M(a).
    max_iter : int
        Iteration cap.
    nu : bool
        ``Solver_NU``'s selection: both variables of a pair from one sign class.

    Returns
    -------
    (int, float)
        The iterations done and the working set's violation before the first.
    """
    cdef Py_ssize_t m = Q.shape[0], t, i, j, ip, jn
    cdef long long it = 0
    cdef double Gmax, Gmax2, Gmaxn, Gmaxn2, grad_diff, quad, obj_diff, obj_min, first = -1.0
    cdef double ai, aj, old_ai, old_aj, diff, dai, daj, v, gi
    cdef double[::1] up = np.empty(m), low = np.empty(m), QD = np.empty(m)
    cdef const double* Qi
    cdef const double* Qj
    with nogil:
        # I_up / I_low membership (1 or 0), kept for the two variables each step changes
        for t in range(m):
            up[t] = 1.0 if (a[t] < u[t] if y[t] > 0 else a[t] > 0) else 0.0
            low[t] = 1.0 if (a[t] > 0 if y[t] > 0 else a[t] < u[t]) else 0.0
            QD[t] = Q[t, t]
        while it < max_iter:
            # i: the largest -y G over I_up (per sign class in nu mode), ties to the last
            Gmax = -INFINITY
            Gmaxn = -INFINITY
            ip = -1
            jn = -1
            for t in range(m):
                if up[t] != 0.0:
                    v = -y[t] * G[t]
                    if nu and y[t] < 0:
                        if v >= Gmaxn:
                            Gmaxn = v
                            jn = t
                    elif v >= Gmax:
                        Gmax = v
                        ip = t
            # j: the second-order choice among I_low, paired with the i of its class
            Gmax2 = -INFINITY
            Gmaxn2 = -INFINITY
            obj_min = INFINITY
            j = -1
            for t in range(m):
                if low[t] == 0.0:
                    continue
                v = y[t] * G[t]
                if nu and y[t] < 0:
                    if v >= Gmaxn2:
                        Gmaxn2 = v
                    i = jn
                    gi = Gmaxn
                else:
                    if v >= Gmax2:
                        Gmax2 = v
                    i = ip
                    gi = Gmax
                if i < 0:
                    continue
                grad_diff = gi + v
                if grad_diff > 0:
                    quad = QD[i] + QD[t] - 2.0 * y[i] * y[t] * Q[i, t]
                    obj_diff = -(grad_diff * grad_diff) / (quad if quad > 0 else TAU)
                    if obj_diff <= obj_min:
                        obj_min = obj_diff
                        j = t
            if nu:
                diff = max(Gmax + Gmax2, Gmaxn + Gmaxn2)
            else:
                diff = Gmax + Gmax2
            if first < 0:
                first = diff
            if diff < eps or j < 0:
                break
            i = (ip if y[j] > 0 else jn) if nu else ip
            # LIBSVM's two-variable step, clipped to the box (the engine's own)
            old_ai = a[i]
            old_aj = a[j]
            ai = old_ai
            aj = old_aj
            gl_pair_step(y[i], y[j], QD[i], QD[j], Q[i, j], G[i], G[j], u[i], u[j], &ai, &aj)
            a[i] = ai
            a[j] = aj
            dai = ai - old_ai
            daj = aj - old_aj
            Qi = &Q[i, 0]
            Qj = &Q[j, 0]
            for t in range(m):
                G[t] += Qi[t] * dai + Qj[t] * daj
            up[i] = 1.0 if (a[i] < u[i] if y[i] > 0 else a[i] > 0) else 0.0
            low[i] = 1.0 if (a[i] > 0 if y[i] > 0 else a[i] < u[i]) else 0.0
            up[j] = 1.0 if (a[j] < u[j] if y[j] > 0 else a[j] > 0) else 0.0
            low[j] = 1.0 if (a[j] > 0 if y[j] > 0 else a[j] < u[j]) else 0.0
            it += 1
    return it, first
