"""Compiled parts of the blocked working-set phase (:mod:`glopt.smo._blocked`).

Four kernels, each with one job:

- :func:`select_working_set`: the whole problem's violation and the next working set (the
  variables that stay, then the most violating of I_up and I_low in turn);
- :func:`kernel_block`: the working set's kernel block, as its kernel rows have it;
- :func:`local_smo`: LIBSVM's SMO (WSS3 pairs and its two-variable step, ``Solver`` or
  ``Solver_NU``) on the working set's own block Q_BB, from the working set's gradient;
- :func:`fused_gradient`: the gradient of every variable after a local solve,
  G_t += s_t sum_b c_b K(x_{i_b}, x_{i_t}), one pass over tiles of the data rows, the kernel
  rows read from the row store or computed in the pass.

The kernel values are float: the Gaussian kernel's in float arithmetic (``_rows_float.h``),
the others the engine's exact values rounded (``gl_kblock``). Every entry of a row and of the
gradient is computed by one thread in a fixed order, so the results do not depend on the
number of threads.
"""
cimport cython
from cython.parallel cimport prange
from libc.math cimport INFINITY
from libc.stdlib cimport calloc, free, malloc, qsort

import numpy as np

cdef extern from "_pair_step.h" nogil:
    void gl_pair_step(double yi, double yj, double QDi, double QDj, double Qij, double Gi,
                      double Gj, double Ci, double Cj, double* ai, double* aj)

cdef extern from "_rows_float.h" nogil:
    int GL_RF_WIDTH
    void gl_rbf_row_f32(Py_ssize_t d, float gamma, const float* xr, float sqr, const float* XT,
                        const float* sqz, Py_ssize_t ld, Py_ssize_t length, float* out)
    void gl_axpy_f32(Py_ssize_t length, double c, const float* row, double* acc)

cdef extern from "_kernel_columns.h" nogil:
    void gl_kblock(int kind, Py_ssize_t d, double gamma, double coef0, int degree,
                   const double* xr, double sqr, const double* XT, Py_ssize_t ld,
                   const double* sqv, const double* yv, double yr,
                   Py_ssize_t j0, Py_ssize_t j1, double* out, float* outf)

#: LIBSVM's TAU: the curvature used when a pair's is not positive
cdef double TAU = 1e-12

#: data points per tile of :func:`fused_gradient` (d x 512 values of XT: 40-80 KB for d = 20)
DEF ROW_TILE = 512


#: the float Gaussian rows' arrays have a multiple of this many columns (zeros past the data)
ROW_PAD = GL_RF_WIDTH


def padded(Py_ssize_t n):
    """n rounded up to a multiple of ROW_PAD: the column count of the float rows' arrays."""
    return (n + GL_RF_WIDTH - 1) // GL_RF_WIDTH * GL_RF_WIDTH


cdef void _row_segment(bint float_rbf, int kind, Py_ssize_t d, double gamma, double coef0,
                       int degree, const float* xf, float sqf, const float* XTf,
                       const float* sqvf, const double* x, double sqr, const double* XT,
                       const double* sqv, Py_ssize_t ld, Py_ssize_t length,
                       float* out) noexcept nogil:
    """out[j] = K(x, z_j) rounded to float for ``length`` columns z_j of XTf (or XT), ld apart.

    The Gaussian kernel in float arithmetic (``_rows_float.h``: ``length`` rounded up to
    ROW_PAD, over the padded columns), the others as the engine's own values
    (``gl_kblock``); an entry depends only on its two points, not on where the columns
    start, so a tile of a row equals that part of the whole row.
    """
    if float_rbf:
        gl_rbf_row_f32(d, <float> gamma, xf, sqf, XTf, sqvf, ld,
                       (length + GL_RF_WIDTH - 1) // GL_RF_WIDTH * GL_RF_WIDTH, out)
    else:
        gl_kblock(kind, d, gamma, coef0, degree, x, sqr, XT, ld, sqv, NULL, 1.0, 0, length, NULL,
                  out)


@cython.boundscheck(False)
@cython.wraparound(False)
def kernel_block(bint float_rbf, const float[:, ::1] Xf, const float[::1] sqf,
                 const double[:, ::1] X, const double[::1] sq, int kind, double gamma,
                 double coef0, int degree, const int[::1] rows, float[:, ::1] out, int n_threads):
    """out[i, j] = K(x_{rows[i]}, x_{rows[j]}): the working set's kernel block, as its rows have it.

    The entries are those :func:`fused_gradient` computes for the same pairs (the same code
    on the same values), so the local solve sees the Q that the gradient is updated with.

    Parameters
    ----------
    float_rbf : bool
        The Gaussian kernel in float arithmetic from ``Xf`` and ``sqf`` (else ``kind`` from
        ``X`` and ``sq``; the unused arrays may be any of the right type).
    Xf : ndarray of float32, shape (n, d)
        The centred data in float.
    sqf : ndarray of float32, shape (at least n,)
        Squared norms of the rows of Xf.
    X : ndarray of float64, shape (n, d)
        The data.
    sq : ndarray of float64, shape (n,)
        Squared norms of the rows of X.
    kind, gamma, coef0, degree
        The kernel (the engine's codes: 0 linear, 1 rbf, 2 poly, 4 sigmoid).
    rows : ndarray of int32, shape (m,)
        The working set's data rows (repeats allowed).
    out : ndarray of float32, shape (m, padded(m))
        The block in its first m columns, written (the others are scratch).
    n_threads : int
        Threads, each taking whole rows.
    """
    cdef Py_ssize_t m = rows.shape[0], mp = out.shape[1], i, k
    cdef Py_ssize_t d = Xf.shape[1] if float_rbf else X.shape[1]
    cdef float* XWf = NULL
    cdef float* sqWf = NULL
    cdef double* XW = NULL
    cdef double* sqW = NULL
    if m == 0:
        return
    if mp < padded(m):
        raise ValueError("out needs padded(m) columns")
    # the working set's points as columns (d x mp, zeros past m), the layout the row code reads
    if float_rbf:
        XWf = <float*> calloc(d * mp, sizeof(float))
        sqWf = <float*> calloc(mp, sizeof(float))
    else:
        XW = <double*> malloc(max(d * m, 1) * sizeof(double))
        sqW = <double*> malloc(m * sizeof(double))
    if (XWf == NULL or sqWf == NULL) if float_rbf else (XW == NULL or sqW == NULL):
        free(XWf); free(sqWf); free(XW); free(sqW)
        raise MemoryError()
    for i in range(m):
        for k in range(d):
            if float_rbf:
                XWf[k * mp + i] = Xf[rows[i], k]
            else:
                XW[k * m + i] = X[rows[i], k]
        if float_rbf:
            sqWf[i] = sqf[rows[i]]
        else:
            sqW[i] = sq[rows[i]]
    for i in prange(m, nogil=True, num_threads=n_threads, schedule="dynamic"):
        if float_rbf:
            _row_segment(True, kind, d, gamma, coef0, degree, &Xf[rows[i], 0], sqf[rows[i]],
                         XWf, sqWf, NULL, 0.0, NULL, NULL, mp, m, &out[i, 0])
        else:
            _row_segment(False, kind, d, gamma, coef0, degree, NULL, 0.0, NULL, NULL,
                         &X[rows[i], 0], sq[rows[i]], XW, sqW, m, m, &out[i, 0])
    free(XWf); free(sqWf); free(XW); free(sqW)


cdef void _fused_tile(bint float_rbf, int kind, Py_ssize_t d, double gamma, double coef0,
                      int degree, const float* Xf, const float* sqf, const float* XTf,
                      Py_ssize_t ldf, const double* X, const double* sq, const double* XT,
                      Py_ssize_t n, const int* rows, const double* c, const int* read_slot,
                      const int* write_slot, Py_ssize_t m, float* store, Py_ssize_t lds,
                      const double* s, double* G, Py_ssize_t j0, Py_ssize_t j1) noexcept nogil:
    cdef double acc[ROW_TILE]
    cdef float buf[ROW_TILE]
    cdef Py_ssize_t k, j, length = j1 - j0, r
    cdef const float* seg
    cdef float* dst
    for j in range(length):
        acc[j] = 0.0
    for k in range(m):
        if read_slot[k] >= 0:
            seg = store + read_slot[k] * lds + j0
        else:
            dst = store + write_slot[k] * lds + j0 if write_slot[k] >= 0 else buf
            r = rows[k]
            if float_rbf:
                _row_segment(True, kind, d, gamma, coef0, degree, Xf + r * d, sqf[r],
                             XTf + j0, sqf + j0, NULL, 0.0, NULL, NULL, ldf, length, dst)
            else:
                _row_segment(False, kind, d, gamma, coef0, degree, NULL, 0.0, NULL, NULL,
                             X + r * d, sq[r], XT + j0, sq + j0, n, length, dst)
            seg = dst
        gl_axpy_f32(length, c[k], seg, acc)
    for j in range(length):
        G[j0 + j] += s[j0 + j] * acc[j]


@cython.boundscheck(False)
@cython.wraparound(False)
def fused_gradient(bint float_rbf, const float[:, ::1] Xf, const float[::1] sqf,
                   const float[:, ::1] XTf, const double[:, ::1] X, const double[::1] sq,
                   const double[:, ::1] XT, int kind, double gamma, double coef0, int degree,
                   const int[::1] rows, const double[::1] c, const int[::1] read_slot,
                   const int[::1] write_slot, float[:, ::1] store, const double[::1] s,
                   double[::1] G, int n_threads):
    """G[j] += s[j] * sum_k c[k] K(x_{rows[k]}, x_j) for every data row j, in one pass.

    The kernel row of each rows[k] comes from the row store (``read_slot[k]`` >= 0) or is
    computed tile by tile while the gradient takes it (and written to slot ``write_slot[k]``
    of the store when that is >= 0), so a new row is used while its tile is in the core's
    cache rather than written out and read back. Each tile's terms are added in the order of
    ``rows`` and a stored row holds the values a computed one has, so the result depends on
    neither the store nor the threads.

    Parameters
    ----------
    float_rbf : bool
        Gaussian rows in float arithmetic from ``Xf``, ``sqf`` and ``XTf`` (else ``kind`` from
        ``X``, ``sq`` and ``XT``; the unused arrays may be any of the right type).
    Xf : ndarray of float32, shape (n, d)
        The centred data in float.
    sqf : ndarray of float32, shape (padded(n),)
        Squared norms of its rows (zeros past n).
    XTf : ndarray of float32, shape (d, padded(n))
        Its transpose (zeros past n), C-contiguous.
    X, XT : ndarray of float64, shapes (n, d) and (d, n)
        The data and its transpose, C-contiguous.
    sq : ndarray of float64, shape (n,)
        Squared norms of the rows of X.
    kind, gamma, coef0, degree
        The kernel (the engine's codes: 0 linear, 1 rbf, 2 poly, 4 sigmoid).
    rows : ndarray of int32, shape (m,)
        The data rows whose kernel rows enter, distinct.
    c : ndarray of float64, shape (m,)
        Their coefficients.
    read_slot, write_slot : ndarray of int32, shape (m,)
        The store's slot holding each row (or -1), and the slot a computed row is written to
        (or -1: not kept); a slot appears at most once among both.
    store : ndarray of float32, shape (n_slots, padded(n))
        The row store.
    s : ndarray of float64, shape (n,)
        The factor of each entry.
    G : ndarray of float64, shape (n,)
        Updated in place.
    n_threads : int
        Threads, each taking whole tiles of ROW_TILE data rows.
    """
    cdef Py_ssize_t m = rows.shape[0], n = G.shape[0], ntiles, tile, d
    cdef Py_ssize_t lds = store.shape[1], ldf = XTf.shape[1]
    if m == 0 or n == 0:
        return
    if lds < padded(n) or (float_rbf and (ldf < padded(n) or sqf.shape[0] < padded(n))):
        raise ValueError("the store and the float data need padded(n) columns")
    d = Xf.shape[1] if float_rbf else X.shape[1]
    ntiles = (n + ROW_TILE - 1) // ROW_TILE
    for tile in prange(ntiles, nogil=True, num_threads=n_threads, schedule="dynamic"):
        _fused_tile(float_rbf, kind, d, gamma, coef0, degree, &Xf[0, 0], &sqf[0], &XTf[0, 0],
                    ldf, &X[0, 0], &sq[0], &XT[0, 0], n, &rows[0], &c[0], &read_slot[0],
                    &write_slot[0], m, &store[0, 0], lds, &s[0], &G[0], tile * ROW_TILE,
                    min((tile + 1) * ROW_TILE, n))


cdef struct Cand:
    double key
    long long idx


cdef int _cand_cmp(const void* p, const void* q) noexcept nogil:
    cdef const Cand* x = <const Cand*> p
    cdef const Cand* y = <const Cand*> q
    if x.key < y.key:
        return -1
    if x.key > y.key:
        return 1
    return (x.idx > y.idx) - (x.idx < y.idx)


cdef inline bint _before(const Cand* x, const Cand* y) noexcept nogil:
    return x.key < y.key or (x.key == y.key and x.idx < y.idx)


cdef inline void _swap(Cand* c, Py_ssize_t i, Py_ssize_t j) noexcept nogil:
    cdef Cand t = c[i]
    c[i] = c[j]
    c[j] = t


cdef void _smallest(Cand* c, Py_ssize_t n, Py_ssize_t k) noexcept nogil:
    """Reorder c[0:n] so that its k smallest (key, idx) come first, in increasing order."""
    cdef Py_ssize_t lo = 0, hi = n - 1, mid, i, at, kth = k - 1
    cdef Cand pivot
    if k <= 0 or n == 0:
        return
    if k < n:
        # quickselect (median of three, Lomuto's partition): (key, idx) is a total order
        while lo < hi:
            mid = lo + (hi - lo) // 2
            if _before(&c[mid], &c[lo]):
                _swap(c, lo, mid)
            if _before(&c[hi], &c[lo]):
                _swap(c, lo, hi)
            if _before(&c[hi], &c[mid]):
                _swap(c, mid, hi)
            _swap(c, mid, hi)
            pivot = c[hi]
            at = lo
            for i in range(lo, hi):
                if _before(&c[i], &pivot):
                    _swap(c, i, at)
                    at += 1
            _swap(c, at, hi)
            if at == kth:
                break
            if at < kth:
                lo = at + 1
            else:
                hi = at - 1
    qsort(c, min(k, n), sizeof(Cand), _cand_cmp)


@cython.boundscheck(False)
@cython.wraparound(False)
def select_working_set(const double[::1] G, const double[::1] s, const double[::1] a,
                       const double[::1] u, bint nu, const long long[::1] keep,
                       long long[::1] out, unsigned char[::1] scratch, double tol):
    """The whole problem's violation and, when it exceeds tol, the next working set.

    With f = -s G, I_up (s > 0 and a < u, or s < 0 and a > 0) and I_low (the converse), the
    violation is max f over I_up - min f over I_low (in ``nu`` mode the larger of the two
    sign classes'). The working set is ``keep`` followed by new variables taken in turn from
    the lists of I_up by decreasing f and of I_low by increasing f (per sign class in ``nu``
    mode: a pair of the nu formulations lies within one class), each list holding only the
    variables that violate against the other side (f above min f over I_low of their class,
    or below max f over I_up), until the set has ``out.shape[0]`` variables or the lists run
    out. Ties in f go to the lower index.

    Parameters
    ----------
    G, s, a, u : ndarray of float64, shape (l,)
        Gradient, signs, values and upper bounds of the variables.
    nu : bool
        The two equality constraints of the nu formulations.
    keep : ndarray of int64, shape (k,)
        The variables that stay, distinct.
    out : ndarray of int64, shape (q,)
        The working set is written to its start.
    scratch : ndarray of uint8, shape (at least 33 l,)
        Work space.
    tol : float
        No set is chosen when the violation is at most tol.

    Returns
    -------
    (float, int)
        The violation (-inf when a side is empty) and the working set's size (0 when the
        violation is at most tol).
    """
    cdef Py_ssize_t l = G.shape[0], q = out.shape[0], nk = keep.shape[0], t, k, need, picked
    cdef Py_ssize_t count[4]
    cdef Py_ssize_t pos[4]
    cdef Cand* lists[4]
    cdef double fu_max[2]
    cdef double fl_min[2]
    cdef double f, violation = -INFINITY
    cdef int cl
    cdef bint isup, islow, moved
    cdef bint live[2]
    if scratch.shape[0] < 33 * l:
        raise ValueError("scratch holds fewer than 33 l bytes")
    cdef Cand* ups = <Cand*> &scratch[0]
    cdef Cand* lows = ups + l
    cdef unsigned char* taken = <unsigned char*> (lows + l)
    with nogil:
        fu_max[0] = -INFINITY
        fu_max[1] = -INFINITY
        fl_min[0] = INFINITY
        fl_min[1] = INFINITY
        for t in range(l):
            f = -s[t] * G[t]
            cl = 1 if (nu and s[t] < 0) else 0
            isup = a[t] < u[t] if s[t] > 0 else a[t] > 0
            islow = a[t] > 0 if s[t] > 0 else a[t] < u[t]
            if isup and f > fu_max[cl]:
                fu_max[cl] = f
            if islow and f < fl_min[cl]:
                fl_min[cl] = f
        for cl in range(2):
            live[cl] = fu_max[cl] > -INFINITY and fl_min[cl] < INFINITY
            if live[cl] and fu_max[cl] - fl_min[cl] > violation:
                violation = fu_max[cl] - fl_min[cl]
    if not violation > tol:
        return violation, 0
    need = q - nk
    with nogil:
        for t in range(l):
            taken[t] = 0
        for k in range(nk):
            taken[keep[k]] = 1
            out[k] = keep[k]
        # the lists of class 0 fill their halves from the front, those of class 1 from the back
        for k in range(4):
            count[k] = 0
        for t in range(l):
            if taken[t]:
                continue
            f = -s[t] * G[t]
            cl = 1 if (nu and s[t] < 0) else 0
            if not live[cl]:
                continue
            isup = a[t] < u[t] if s[t] > 0 else a[t] > 0
            islow = a[t] > 0 if s[t] > 0 else a[t] < u[t]
            if isup and f > fl_min[cl]:
                k = count[0] if cl == 0 else l - 1 - count[2]
                ups[k].key = -f
                ups[k].idx = t
                count[2 * cl] += 1
            if islow and f < fu_max[cl]:
                k = count[1] if cl == 0 else l - 1 - count[3]
                lows[k].key = f
                lows[k].idx = t
                count[2 * cl + 1] += 1
        lists[0] = ups
        lists[1] = lows
        lists[2] = ups + l - count[2]
        lists[3] = lows + l - count[3]
        for k in range(4):
            _smallest(lists[k], count[k], need)
            if count[k] > need:
                count[k] = need
            pos[k] = 0
        picked = 0
        while picked < need:
            moved = False
            for k in range(4):
                while pos[k] < count[k] and taken[lists[k][pos[k]].idx]:
                    pos[k] += 1
                if pos[k] < count[k] and picked < need:
                    t = lists[k][pos[k]].idx
                    taken[t] = 1
                    out[nk + picked] = t
                    picked += 1
                    moved = True
            if not moved:
                break
    return violation, nk + picked


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
