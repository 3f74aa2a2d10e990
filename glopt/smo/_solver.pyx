# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled core of glopt's SMO engine (the LIBSVM solver class, per-variable upper bounds).

Solves::

    min_a 0.5 a^T Q a + p^T a   s.t.  y^T a = delta,  0 <= a_t <= u_t,
    Q_ts = y_t y_s K(x_{idx_t}, x_{idx_s}),

for l variables on n data rows (the index map ``idx`` lets the two variables of epsilon-SVR share
one kernel row). The algorithm is LIBSVM's ``Solver`` (svm.cpp): working-set selection WSS1
(maximal violating pair) or WSS3 (second order, Fan, Chen and Lin 2005, with the tau guard for a
non positive-definite Q), stopping when m(a) - M(a) <= tol, an LRU kernel-column cache bounded in
bytes holding partially filled columns, shrinking with gradient reconstruction (G_bar) and
LIBSVM's bias (calculate_rho).

With ``nu=True`` the engine is LIBSVM's ``Solver_NU`` (nu-SVC, nu-SVR): the sum of a over each
sign class is kept, pairs are chosen within a class, and the stopping rule, the shrinking and the
bias are taken per class (SMOEngine's docstring).

Two cache modes, as in LIBSVM:

- *permuted* (``idx`` a permutation of 0..n-1, i.e. C-SVC): the cache holds columns of Q in the
  shrinking permutation, each filled on ``[0, len)`` for the active length asked for, and follows
  every swap of the permutation (LIBSVM's SVC_Q / Cache::swap_index);
- *gather* (any other ``idx``, e.g. the 2n variables of SVR): the cache holds full kernel rows of
  the n data rows in their original order; a column of Q is gathered from a row through the index
  and sign maps into one of two buffers (LIBSVM's SVR_Q).

Cache precision (``single``): as LIBSVM (Qfloat), the cached columns may be float32, half the
memory of float64 columns, so that a cache_size holds as many columns as LIBSVM's; the iterations
then solve the problem with Q rounded to float (gradient updated in double). Their gradient is off
by up to ~6e-8 * sum(a) * max|Q|, more than a tight tol, so ``to_double`` recomputes G (and G_bar)
in double precision from the kernel for the support vectors, drops the float cache and lets the
iterations go on with float64 columns until the stopping rule holds for the exact Q: the answer,
its gradient, bias and objective are those of the double-precision problem.

Kernel columns are computed with OpenMP (one thread per block of entries, each entry by exactly one
thread with the same arithmetic, so results do not depend on the number of threads); a build
without OpenMP computes them on one thread, with the same results.

Sparse data (any scipy.sparse matrix or array, taken as CSR with sorted column indices), with
the squared norms of the rows computed once: a column is computed from the compressed rows, as
LIBSVM does (row r scattered into a dense buffer of d values per thread, each entry the sum over
the other row's nonzeros; for a very large d, where such buffers would not stay in cache, the
two rows' column lists merged instead), or through a compressed-column copy of the data (each
nonzero of row r adds its column's nonzeros into the n inner products; the densest columns kept
whole), whichever costs less for the positions it covers (``_columns_pay``). Every way adds the
nonzero products in increasing column order, which is the dense sum without its zero terms, and
the kernel values go through the same code as the dense columns: every kernel value, and with it
the iterations, equals the dense engine's bit for bit. The blocked gradient pass has a simple
sparse counterpart (one kernel column per support vector, by data row), whose sums may differ
from the dense pass's in the last bits for the rbf kernel.

The solver is a resumable state object: ``run(k)`` performs at most k iterations without the GIL
and returns, so the Python face can call callbacks and check for KeyboardInterrupt between chunks.
"""
cimport cython
from cython.parallel cimport prange
from libc.math cimport HUGE_VAL, NAN
from libc.stdint cimport int64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec

import numpy as np


# OpenMP where the build has it; without, one thread and prange's loops serial
cdef extern from "_openmp.h":
    int gl_omp_max_threads() noexcept nogil
    int gl_omp_thread_num() noexcept nogil


# shrinking period after a warm start with a blocked gradient: such starts are near the optimum
# and the active set falls from l to about the free variables within a few passes (MM on magic,
# one run each: inner solves 0.60 s per step at 100, 0.66 s at 300, 0.80 s at LIBSVM's 1000;
# 50 no better)
_WARM_SHRINK = 100


def openmp_max_threads():
    """Number of OpenMP threads the extension would use by default (1 in a build without OpenMP)."""
    return gl_omp_max_threads()


# the kernel columns and the column operations are C (vector extensions, target clones and
# per-function optimize options, which Cython cannot express)
cdef extern from "_kernel_columns.h":
    int GL_BLOCK
    double gl_exp_neg(double x) noexcept nogil
    double gl_from_dot(int kind, double dot, double sqa, double sqb, double gamma, double coef0,
                       int degree, Py_ssize_t d) noexcept nogil
    double gl_dot_seq(const double* a, const double* b, Py_ssize_t d) noexcept nogil
    void gl_kblock(int kind, Py_ssize_t d, double gamma, double coef0, int degree,
                   const double* xr, double sqr, const double* XT, Py_ssize_t ld,
                   const double* sqv, const double* yv, double yr,
                   Py_ssize_t j0, Py_ssize_t j1, double* out, float* outf) noexcept nogil
    void gl_exp_neg_lanes(const double* x, double* out, Py_ssize_t n) noexcept nogil
    void gl_kgrad(int kind, Py_ssize_t d, double gamma, double coef0, int degree,
                  const double* X, const double* sq, const int* rows, const double* cf,
                  const double* cu, Py_ssize_t ne, const double* XT, Py_ssize_t ld,
                  const double* sqv, Py_ssize_t j0, Py_ssize_t j1, double* A, double* B,
                  double* tb) noexcept nogil
    double gl_csr_dot_merge(const double* data, const int* ind, int64_t a0, int64_t a1,
                            int64_t b0, int64_t b1) noexcept nogil
    void gl_kblock_csr(int kind, Py_ssize_t d, double gamma, double coef0, int degree,
                       const double* data, const int* ind, const int64_t* ptr, Py_ssize_t r,
                       const double* sq, const int* rows, double* w, const double* yv, double yr,
                       Py_ssize_t j0, Py_ssize_t j1, double* out, float* outf) noexcept nogil
    void gl_csc_dots(const double* data, const int* ind, const int64_t* ptr, Py_ssize_t r,
                     const int64_t* cptr, const int* crow, const double* cval, const int* cdense,
                     const double* dense, Py_ssize_t ldd, Py_ssize_t lo, Py_ssize_t hi,
                     double* dot) noexcept nogil
    void gl_kblock_dots(int kind, Py_ssize_t d, double gamma, double coef0, int degree,
                        const double* dot, double sqr, const double* sq, const int* rows,
                        const double* yv, double yr, Py_ssize_t j0, Py_ssize_t j1, double* out,
                        float* outf) noexcept nogil
    void gl_kgrad_csc(int kind, Py_ssize_t d, double gamma, double coef0, int degree,
                      const double* data, const int* ind, const int64_t* ptr, const double* sq,
                      const int* rows, const double* cf, const double* cu, Py_ssize_t ne,
                      const int64_t* cptr, const int* crow, const double* cval, const int* cdense,
                      const double* dense, Py_ssize_t ldd, Py_ssize_t lo, Py_ssize_t hi,
                      double* A, double* B, double* dot, double* tb) noexcept nogil
    void gl_kgrad_csr(int kind, Py_ssize_t d, double gamma, double coef0, int degree,
                      const double* data, const int* ind, const int64_t* ptr, const double* sq,
                      const int* rows, const double* cf, const double* cu, Py_ssize_t ne,
                      const int* cols, Py_ssize_t j0, Py_ssize_t j1, double* A, double* B,
                      double* tb, double* w) noexcept nogil

cdef extern from "_pair_step.h":
    void gl_pair_step(double yi, double yj, double QDi, double QDj, double Qij, double Gi,
                      double Gj, double Ci, double Cj, double* ai, double* aj) noexcept nogil

cdef extern from "_column_ops.h":
    int gl_select_up(Py_ssize_t n, const double* G, const double* y, const double* upm,
                     double* gmax) noexcept nogil
    int gl_select_low(Py_ssize_t n, const double* G, const double* y, const double* lowm,
                      double* gmax2) noexcept nogil
    void gl_select_nu(Py_ssize_t n, const double* G, const double* y, const double* mask,
                      double sgn, double* gp, int* ip, double* gn, int* in_) noexcept nogil
    int gl_select_wss3_j_d(Py_ssize_t n, const double* G, const double* y, const double* lowm,
                           const double* QD, const double* Qi, double Gmax, double QDi, double yi,
                           double tau, double* best, double* gmax2) noexcept nogil
    int gl_select_wss3_j_f(Py_ssize_t n, const double* G, const double* y, const double* lowm,
                           const double* QD, const float* Qi, double Gmax, double QDi, double yi,
                           double tau, double* best, double* gmax2) noexcept nogil
    int gl_gather_wss3_j_d(Py_ssize_t n, const double* G, const double* y, const double* lowm,
                           const double* QD, const double* col, const int* rows, double* Qi,
                           double Gmax, double QDi, double yi, double tau, double* best,
                           double* gmax2) noexcept nogil
    int gl_gather_wss3_j_f(Py_ssize_t n, const double* G, const double* y, const double* lowm,
                           const double* QD, const float* col, const int* rows, float* Qi,
                           double Gmax, double QDi, double yi, double tau, double* best,
                           double* gmax2) noexcept nogil
    int gl_select_nu_wss3_j_d(Py_ssize_t n, const double* G, const double* y, const double* lowm,
                              const double* QD, const double* Qp, const double* Qn, double Gmaxp,
                              double Gmaxn, double QDp, double QDn, double tau, double* best,
                              double* gmaxp2, double* gmaxn2) noexcept nogil
    int gl_select_nu_wss3_j_f(Py_ssize_t n, const double* G, const double* y, const double* lowm,
                              const double* QD, const float* Qp, const float* Qn, double Gmaxp,
                              double Gmaxn, double QDp, double QDn, double tau, double* best,
                              double* gmaxp2, double* gmaxn2) noexcept nogil
    int gl_gather_nu_wss3_j_d(Py_ssize_t n, const double* G, const double* y, const double* lowm,
                              const double* QD, const double* colp, const double* coln,
                              const int* rows, double* Qp, double* Qn, double Gmaxp,
                              double Gmaxn, double QDp, double QDn, double tau, double* best,
                              double* gmaxp2, double* gmaxn2) noexcept nogil
    int gl_gather_nu_wss3_j_f(Py_ssize_t n, const double* G, const double* y, const double* lowm,
                              const double* QD, const float* colp, const float* coln,
                              const int* rows, float* Qp, float* Qn, double Gmaxp,
                              double Gmaxn, double QDp, double QDn, double tau, double* best,
                              double* gmaxp2, double* gmaxn2) noexcept nogil
    int gl_axpy2_up_d(Py_ssize_t n, double* G, const double* a, double da, const double* b,
                      double db, const double* y, const double* upm, double* gmax) noexcept nogil
    int gl_axpy2_up_f(Py_ssize_t n, double* G, const float* a, double da, const float* b,
                      double db, const double* y, const double* upm, double* gmax) noexcept nogil
    void gl_axpy2_nu_d(Py_ssize_t n, double* G, const double* a, double da, const double* b,
                       double db, const double* y, const double* upm, double* gp, int* ip,
                       double* gn, int* in_) noexcept nogil
    void gl_axpy2_nu_f(Py_ssize_t n, double* G, const float* a, double da, const float* b,
                       double db, const double* y, const double* upm, double* gp, int* ip,
                       double* gn, int* in_) noexcept nogil
    int gl_gather_axpy2_up_d(Py_ssize_t n, double* G, const double* a, double da,
                             const double* col, const int* rows, double yb, double db,
                             const double* y, const double* upm, double* gmax) noexcept nogil
    int gl_gather_axpy2_up_f(Py_ssize_t n, double* G, const float* a, double da, const float* col,
                             const int* rows, double yb, double db, const double* y,
                             const double* upm, double* gmax) noexcept nogil
    void gl_gather_axpy2_nu_d(Py_ssize_t n, double* G, const double* a, double da,
                              const double* col, const int* rows, double yb, double db,
                              const double* y, const double* upm, double* gp, int* ip,
                              double* gn, int* in_) noexcept nogil
    void gl_gather_axpy2_nu_f(Py_ssize_t n, double* G, const float* a, double da,
                              const float* col, const int* rows, double yb, double db,
                              const double* y, const double* upm, double* gp, int* ip,
                              double* gn, int* in_) noexcept nogil
    void gl_axpy_gbar_d(Py_ssize_t n, double* G, double* Gbar, double c, double cu,
                        const double* a, const double* col, const int* rows, const double* y,
                        double yt) noexcept nogil
    void gl_axpy_gbar_f(Py_ssize_t n, double* G, double* Gbar, double c, double cu,
                        const float* a, const float* col, const int* rows, const double* y,
                        double yt) noexcept nogil
    void gl_axpy_d(Py_ssize_t n, double* G, double c, const double* a) noexcept nogil
    void gl_axpy_f(Py_ssize_t n, double* G, double c, const float* a) noexcept nogil
    void gl_gather_d(Py_ssize_t n, double* out, const double* col, const int* rows,
                     const double* y, double yt) noexcept nogil
    void gl_gather_f(Py_ssize_t n, float* out, const float* col, const int* rows,
                     const double* y, double yt) noexcept nogil


def _exp_neg(double x):
    """The engine's exp for x <= 0 (exposed for tests)."""
    return gl_exp_neg(x)


def _exp_neg_lanes(const double[::1] x):
    """exp(x) through the vector exps of the blocked gradient pass (exposed for tests)."""
    out = np.empty(x.shape[0])
    cdef double[::1] o = out
    if x.shape[0]:
        gl_exp_neg_lanes(&x[0], &o[0], x.shape[0])
    return out


cdef enum:
    K_LINEAR = 0
    K_RBF = 1
    K_POLY = 2
    K_PRECOMPUTED = 3
    K_SIGMOID = 4

cdef enum:
    LOWER_BOUND = 0
    UPPER_BOUND = 1
    FREE = 2

# return codes of run()
cdef enum:
    RUNNING = 0
    CONVERGED = 1
    MAX_ITER = 2

KERNEL_CODES = {"linear": K_LINEAR, "rbf": K_RBF, "poly": K_POLY, "precomputed": K_PRECOMPUTED,
                "sigmoid": K_SIGMOID}

RUN_CODES = {RUNNING: "running", CONVERGED: "optimal", MAX_ITER: "max_iter"}

cdef double TAU = 1e-12

cdef double INF = HUGE_VAL
# Entries of a kernel column below which it is computed by one thread only.
cdef Py_ssize_t PAR_MIN = 2048
# Active variables from which an iteration's scans (selection, gradient update, gather) may be
# split between the threads (the scans' own ThreadCtl decides).
cdef Py_ssize_t SCAN_PAR_MIN = 4096
# Most threads a scan splits into (the slots of the per-thread partial results).
cdef enum:
    SCAN_MAX_THREADS = 64
# Thread controls per size class (lengths from par_min up, doubling; the last open-ended): the
# cost of a parallel region is about fixed, so whether it pays depends on the length.
cdef enum:
    N_SIZE_CLASSES = 6
# Kernel values of an exact gradient pass from which it always runs on the engine's threads.
cdef double EXACT_PAR_MIN = 4194304.0
# Sparse data with at most this many features: inner products through a dense scatter buffer of d
# values per thread (2 MiB: it stays in L2 / L3, where the row it holds is read at random); above,
# by merging the two rows' column lists, which needs no buffer.
cdef Py_ssize_t SPARSE_SCATTER_MAX = 1 << 18
SPARSE_DOT_MODES = ("auto", "scatter", "merge", "columns")
# Sparse "auto": a column through the compressed columns (one product per pair of nonzeros the
# rows share, added into a vector of n inner products) where that costs less than reading the
# nonzeros of the column's rows; a product there costs about COLUMNS_COST reads, clearing and
# reading the n inner products COLUMNS_ZERO_COST per data row.
cdef double COLUMNS_COST = 0.5
cdef double COLUMNS_ZERO_COST = 0.1
# Compressed columns with at least this share of the rows nonzero are also kept whole (at most as
# many bytes as the CSR data take): added whole, an entry costs about DENSE_COST of a scattered one.
DENSE_COLUMN_SHARE = 1.0 / 3.0
DENSE_COST = 0.25


def _is_sparse(X):
    return type(X).__module__.startswith("scipy.sparse")


def _csr_parts(X):
    """A scipy.sparse matrix or array as CSR arrays: float64 values, int32 column indices sorted
    within each row without duplicates (summed), int64 row pointers, and the shape."""
    import scipy.sparse as sp
    if X.ndim != 2:
        raise ValueError(f"X must be 2-dimensional, got a sparse array of shape {X.shape}")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must hold real numbers, got a sparse matrix of dtype {X.dtype}")
    if X.shape[1] > np.iinfo(np.int32).max:
        raise ValueError(f"X has {X.shape[1]} columns, more than the engine's int32 column indices")
    A = sp.csr_matrix(X)
    if not A.has_canonical_format:
        A = A.copy()
        A.sum_duplicates()
    return (np.ascontiguousarray(A.data, dtype=np.float64),
            np.ascontiguousarray(A.indices, dtype=np.int32),
            np.ascontiguousarray(A.indptr, dtype=np.int64), A.shape)


ctypedef struct KData:
    const double* X      # n x d data (row-major), or the n x n Gram matrix (precomputed); NULL: sparse
    double* XT           # d x ld column-major copy (permuted mode: in the shrinking permutation)
    double* sqv          # squared norms in the order of XT's columns
    double* sq           # squared norms of the rows of X
    bint sparse          # the data are the CSR arrays below (XT and sqv unused)
    const double* sp_data
    const int* sp_ind
    const int64_t* sp_ptr
    double* wbuf         # sparse: one zeroed scatter buffer of d values per thread (NULL: merge)
    const int64_t* csc_ptr   # sparse: the same data as compressed columns (NULL: not kept)
    const int* csc_row
    const double* csc_val
    const int* csc_dense     # per column: its row in dense (-1: compressed only; NULL: none)
    const double* dense      # the densest columns whole, one per row of n values
    const double* csc_work   # per data row: the cost of its column through csc_*
    double* dots         # the n inner products of the column being computed (with csc_*)
    bint csc_always      # every column through csc_* (else where it costs less: _columns_pay)
    double nnz_row       # mean nonzeros per data row
    Py_ssize_t ld
    Py_ssize_t n
    Py_ssize_t d
    int kind
    int degree
    double gamma
    double coef0


cdef inline double _kval(const KData* k, Py_ssize_t r, Py_ssize_t s) noexcept nogil:
    """K(x_r, x_s) for data rows r and s (same arithmetic as the blocked columns)."""
    if k.kind == K_PRECOMPUTED:
        return k.X[r * k.n + s]
    if k.sparse:
        return gl_from_dot(k.kind, gl_csr_dot_merge(k.sp_data, k.sp_ind, k.sp_ptr[r],
                                                    k.sp_ptr[r + 1], k.sp_ptr[s], k.sp_ptr[s + 1]),
                           k.sq[r], k.sq[s], k.gamma, k.coef0, k.degree, k.d)
    return gl_from_dot(k.kind, gl_dot_seq(k.X + r * k.d, k.X + s * k.d, k.d),
                       k.sq[r], k.sq[s], k.gamma, k.coef0, k.degree, k.d)


ctypedef struct ThreadCtl:
    # Adaptive use of the OpenMP team for kernel columns. On a busy machine a parallel region
    # waits for a descheduled worker (a whole scheduler slice, ~10 ms, instead of ~0.1 ms of
    # work), so the per-entry cost of serial and parallel columns is measured (exponential
    # moving averages) and the cheaper mode used; the other mode is re-probed now and then, the
    # parallel probe with exponential back-off while it keeps losing. Only the speed depends on
    # this choice: every entry is computed with the same arithmetic either way.
    int nthreads
    Py_ssize_t par_min    # columns shorter than this are computed by one thread
    bint adaptive         # False: always parallel (for nthreads > 1)
    bint par              # current mode
    double ns_ser         # EMA of seconds per entry, serial (-1: not measured)
    double ns_par         # EMA of seconds per entry, parallel (-1: not measured)
    long long countdown   # columns until the next probe of the other mode
    long long gap_par     # probe interval of the parallel mode while serial wins
    long long n_par       # columns computed in parallel
    long long n_ser       # columns computed serially (eligible ones)
    bint last_par         # the previous eligible call ran in parallel


cdef inline double _now() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + 1e-9 * ts.tv_nsec


cdef void _tc_init(ThreadCtl* tc, int nthreads, bint adaptive, Py_ssize_t par_min) noexcept nogil:
    tc.nthreads = nthreads
    tc.par_min = par_min
    tc.adaptive = adaptive
    tc.par = nthreads > 1
    tc.ns_ser = -1.0
    tc.ns_par = -1.0
    tc.countdown = 0
    tc.gap_par = 16
    tc.n_par = 0
    tc.n_ser = 0
    tc.last_par = False


cdef inline int _size_class(Py_ssize_t n, Py_ssize_t par_min) noexcept nogil:
    """The size class of a call of n entries (n >= par_min)."""
    cdef int c = 0
    cdef Py_ssize_t m = 2 * par_min
    while n >= m and c < N_SIZE_CLASSES - 1:
        c += 1
        m *= 2
    return c


cdef inline bint _tc_choose(ThreadCtl* tc, bint* probe) noexcept nogil:
    """The mode of the next eligible call: measure both first, then the cheaper one with
    occasional probes of the other (*probe set for those)."""
    probe[0] = False
    if not tc.adaptive:
        return True
    if tc.ns_ser < 0:
        return False
    if tc.ns_par < 0:
        return True
    if tc.countdown <= 0:
        probe[0] = True
        return not tc.par
    tc.countdown -= 1
    return tc.par


cdef void _tc_record(ThreadCtl* tc, bint par, bint probe, double seconds,
                     Py_ssize_t entries) noexcept nogil:
    """Account an eligible call of ``entries`` entries that took ``seconds`` in mode ``par``."""
    cdef double cost
    cdef bint cold = par and not tc.last_par
    if par:
        tc.n_par += 1
    else:
        tc.n_ser += 1
    tc.last_par = par
    if not tc.adaptive:
        return
    if cold:
        # the first parallel call after serial ones wakes the sleeping worker (tens of
        # microseconds, as much as the call itself): a probe measures the next call instead
        if probe:
            tc.countdown = 0
        return
    cost = seconds / entries
    if par:
        tc.ns_par = cost if tc.ns_par < 0 else 0.7 * tc.ns_par + 0.3 * cost
    else:
        tc.ns_ser = cost if tc.ns_ser < 0 else 0.7 * tc.ns_ser + 0.3 * cost
    if tc.ns_ser < 0 or tc.ns_par < 0:
        return
    # hysteresis: parallel stays until it is clearly the slower mode (a serial spell lets the
    # worker fall asleep, which costs the next parallel call of any kind its wake-up)
    if tc.ns_par < (1.1 if tc.par else 0.95) * tc.ns_ser:
        if not tc.par or probe:
            tc.gap_par = 16
            tc.countdown = 256       # refresh the serial estimate now and then
        tc.par = True
    else:
        if tc.par or probe:
            tc.countdown = tc.gap_par
            tc.gap_par = min(2 * tc.gap_par, 8192)
        tc.par = False


cdef inline void _kcols(const KData* k, Py_ssize_t r, const double* yv, double yr,
                        const int* rows, Py_ssize_t j0, Py_ssize_t j1, double* out, float* outf,
                        int thread) noexcept nogil:
    """Entries [j0, j1) of the column of data row r (not precomputed), as _fill describes them:
    from the dense copy XT, or from the CSR rows with the scatter buffer of ``thread``."""
    if k.sparse:
        gl_kblock_csr(k.kind, k.d, k.gamma, k.coef0, k.degree, k.sp_data, k.sp_ind, k.sp_ptr, r,
                      k.sq, rows, k.wbuf + thread * k.d if k.wbuf != NULL else NULL, yv, yr,
                      j0, j1, out, outf)
    else:
        gl_kblock(k.kind, k.d, k.gamma, k.coef0, k.degree, k.X + r * k.d, k.sq[r], k.XT, k.ld,
                  k.sqv, yv, yr, j0, j1, out, outf)


cdef inline bint _columns_cheaper(const KData* k, double work, double count,
                                  double length) noexcept nogil:
    """Whether ``count`` sparse columns over ``length`` positions each, whose rows' columns
    cost ``work`` together (KData.csc_work), are cheaper through the compressed columns than
    through the rows (the values are the same either way)."""
    if k.dots == NULL:
        return False
    if k.csc_always:
        return True
    return COLUMNS_COST * work + COLUMNS_ZERO_COST * count * k.n < k.nnz_row * count * length


cdef inline bint _columns_pay(const KData* k, Py_ssize_t r, Py_ssize_t length) noexcept nogil:
    """Whether the sparse column of row r over ``length`` positions is cheaper through the
    compressed columns."""
    return _columns_cheaper(k, k.csc_work[r] if k.dots != NULL else 0.0, 1.0, <double> length)


cdef void _fill_by_columns(const KData* k, int r, const double* yv, double yr, const int* rows,
                           double* out, float* outf, Py_ssize_t start, Py_ssize_t end,
                           ThreadCtl* tc) noexcept nogil:
    """_fill for sparse data through the compressed columns: the n inner products of row r
    (each thread its share of the data rows), then the kernel values of the positions
    [start, end) from them (each thread its blocks)."""
    cdef Py_ssize_t nblk, b, j0, j1, t
    cdef int nth = tc.nthreads
    cdef bint par = False, probe = False
    cdef bint timed = nth > 1 and end - start >= tc.par_min
    cdef double t0
    if timed:
        par = _tc_choose(tc, &probe)
    t0 = _now()
    if par:
        for t in prange(nth, schedule="static", num_threads=nth):
            gl_csc_dots(k.sp_data, k.sp_ind, k.sp_ptr, r, k.csc_ptr, k.csc_row, k.csc_val,
                        k.csc_dense, k.dense, k.n, _chunk(k.n, <int> t, nth),
                        _chunk(k.n, <int> t + 1, nth), k.dots)
        nblk = (end - start + GL_BLOCK - 1) // GL_BLOCK
        for b in prange(nblk, schedule="static", num_threads=nth):
            j0 = start + b * GL_BLOCK
            j1 = min(j0 + GL_BLOCK, end)
            gl_kblock_dots(k.kind, k.d, k.gamma, k.coef0, k.degree, k.dots, k.sq[r], k.sq, rows,
                           yv, yr, j0, j1, out, outf)
    else:
        gl_csc_dots(k.sp_data, k.sp_ind, k.sp_ptr, r, k.csc_ptr, k.csc_row, k.csc_val,
                    k.csc_dense, k.dense, k.n, 0, k.n, k.dots)
        gl_kblock_dots(k.kind, k.d, k.gamma, k.coef0, k.degree, k.dots, k.sq[r], k.sq, rows,
                       yv, yr, start, end, out, outf)
    if timed:
        _tc_record(tc, par, probe, _now() - t0, end - start)


cdef void _fill(const KData* k, int r, const double* yv, double yr, const int* rows,
                double* out, float* outf, Py_ssize_t start, Py_ssize_t end,
                ThreadCtl* tc) noexcept nogil:
    """out[j] = yr * yv[j] * K(r, z_j) for j in [start, end) (yv NULL: no signs).

    With outf not NULL the entries go to outf instead, rounded to single precision (out unused).

    z_j is column j of k.XT (dense data; XT follows the order of rows), data row rows[j]
    (sparse data) or row rows[j] of the Gram matrix (rows NULL: row j). Blocks of GL_BLOCK
    entries go to the threads; each entry is computed by one thread with the same arithmetic,
    so the column does not depend on the number of threads.
    """
    cdef Py_ssize_t nblk, b, j0, j1, j
    cdef const double* grow
    cdef bint par, probe
    cdef double t0
    if k.kind == K_PRECOMPUTED:
        grow = k.X + r * k.n
        if outf != NULL:
            if rows == NULL:
                if yv == NULL:
                    for j in range(start, end):
                        outf[j] = <float> grow[j]
                else:
                    for j in range(start, end):
                        outf[j] = <float> ((yr * yv[j]) * grow[j])
            else:
                for j in range(start, end):
                    outf[j] = <float> ((yr * yv[j]) * grow[rows[j]])
            return
        if rows == NULL:
            if yv == NULL:
                memcpy(out + start, grow + start, (end - start) * sizeof(double))
            else:
                for j in range(start, end):
                    out[j] = (yr * yv[j]) * grow[j]
        else:
            for j in range(start, end):
                out[j] = (yr * yv[j]) * grow[rows[j]]
        return
    if end <= start:
        return
    if k.sparse and _columns_pay(k, r, end - start):
        _fill_by_columns(k, r, yv, yr, rows, out, outf, start, end, tc)
        return
    if tc.nthreads <= 1 or end - start < tc.par_min:
        _kcols(k, r, yv, yr, rows, start, end, out, outf, 0)
        return
    par = _tc_choose(tc, &probe)
    t0 = _now()
    if par:
        nblk = (end - start + GL_BLOCK - 1) // GL_BLOCK
        for b in prange(nblk, schedule="static", num_threads=tc.nthreads):
            j0 = start + b * GL_BLOCK
            j1 = min(j0 + GL_BLOCK, end)
            _kcols(k, r, yv, yr, rows, j0, j1, out, outf, gl_omp_thread_num())
    else:
        _kcols(k, r, yv, yr, rows, start, end, out, outf, 0)
    _tc_record(tc, par, probe, _now() - t0, end - start)


cdef char _swap_entries(void* col, int length, const int* pairs, int n_pairs,
                        bint single) noexcept nogil:
    """Apply the swaps (pairs[2k] < pairs[2k + 1]) to a cached column of ``length`` entries in
    order; returns 1 (and stops) at the first swap whose i it holds but not j: LIBSVM then
    removes the column."""
    cdef int k, i, j
    cdef float tf
    cdef double td
    cdef float* cf = <float*> col
    cdef double* cd = <double*> col
    for k in range(n_pairs):
        i = pairs[2 * k]
        j = pairs[2 * k + 1]
        if length > i:
            if length <= j:
                return 1
            if single:
                tf = cf[i]; cf[i] = cf[j]; cf[j] = tf
            else:
                td = cd[i]; cd[i] = cd[j]; cd[j] = td
    return 0


cdef inline Py_ssize_t _chunk(Py_ssize_t n, int c, int nth) noexcept nogil:
    """Start of chunk c of [0, n) split into nth contiguous chunks."""
    return (n * c) // nth


cdef int _check_problem(Py_ssize_t n, Py_ssize_t ncols, bint sparse, str kernel, int wss,
                        const int[::1] idxv, const double[::1] yv, const double[::1] pv,
                        const double[::1] uv, const double[::1] av, str sparse_dot) except -1:
    """Raise ValueError for an unknown kernel, wss or sparse_dot, mismatched lengths or an idx out
    of range, TypeError for a sparse Gram matrix."""
    cdef int l = idxv.shape[0]
    if kernel not in KERNEL_CODES:
        raise ValueError(f"unknown kernel {kernel!r}")
    if sparse_dot not in SPARSE_DOT_MODES:
        raise ValueError(f"sparse_dot must be one of {SPARSE_DOT_MODES}, got {sparse_dot!r}")
    if sparse and kernel == "precomputed":
        raise TypeError("X: kernel='precomputed' takes the Gram matrix as a dense array, got a "
                        "scipy.sparse matrix")
    if wss not in (1, 3):
        raise ValueError(f"wss must be 1 or 3, got {wss}")
    if yv.shape[0] != l or pv.shape[0] != l or uv.shape[0] != l or av.shape[0] != l:
        raise ValueError("idx, y, p, u and a must have the same length")
    if l < 1 or n < 1:
        raise ValueError("empty problem")
    if kernel == "precomputed" and ncols != n:
        raise ValueError("precomputed kernel needs a square Gram matrix")
    idx_np = np.asarray(idxv)
    if idx_np.min() < 0 or idx_np.max() >= n:
        raise ValueError("idx out of range")
    if not np.all(np.abs(np.asarray(yv)) == 1.0):
        raise ValueError("y: the signs must be -1 or +1")
    return 0


@cython.final
cdef class SMOEngine:
    """Resumable LIBSVM-class SMO solver state (see the module docstring).

    The problem is the dual form of :mod:`glopt.dual`: min 0.5 a^T Q a + q^T a, s^T a = const,
    0 <= a <= u, Q_tr = s_t s_r K(x_{i_t}, x_{i_r}).

    Parameters
    ----------
    X : ndarray of float64, shape (n, d), or scipy.sparse matrix or array of shape (n, d)
        The data, C-contiguous; the (n, n) Gram matrix for ``kernel="precomputed"`` (dense).
        Sparse data are taken in CSR form (values as float64, column indices sorted, duplicates
        summed; the engine keeps its own arrays) and their kernel columns are computed from the
        compressed rows or columns (module docstring): every kernel value equals the dense one.
    kernel : {"linear", "rbf", "poly", "sigmoid", "precomputed"}
        The kernel: <x, z>, ``exp(-gamma |x - z|^2)``, (gamma <x, z> + coef0)^degree,
        tanh(gamma <x, z> + coef0) (LIBSVM's sigmoid), or the Gram matrix given as X.
    gamma : float
        Kernel coefficient (rbf, poly, sigmoid).
    degree : int
        Degree of the polynomial kernel.
    coef0 : float
        Constant term of the polynomial and sigmoid kernels.
    idx : ndarray of int32, shape (l,)
        Data row i_t of each variable.
    y : ndarray of float64, shape (l,)
        The signs s_t in {-1, +1}.
    p : ndarray of float64, shape (l,)
        The linear term q (LIBSVM's name p).
    u : ndarray of float64, shape (l,)
        Positive upper bounds.
    a : ndarray of float64, shape (l,)
        Feasible starting point (0 <= a <= u; s^T a is kept).
    tol : float
        Stopping tolerance on m(a) - M(a).
    wss : {1, 3}
        Working-set selection: maximal violating pair or second order.
    shrinking : bool
        LIBSVM's shrinking heuristic.
    cache_bytes : float
        Kernel cache budget in bytes (at least two full columns are always allowed).
    n_threads : int
        OpenMP threads for kernel columns.
    max_iter : int
        Iteration cap.
    grad_ref : ndarray of float64, shape (l,), optional
        Gradient ``Q a_ref + q`` at a reference point ``a_ref``; the starting gradient is then
        ``grad_ref + Q (a - a_ref)``, computed from the columns of the variables that differ only
        (default: a_ref = 0, grad_ref = q).
    a_ref : ndarray of float64, shape (l,), optional
        The reference point of ``grad_ref``.
    mode : {"auto", "permuted", "gather"}
        Cache mode; "permuted" needs idx to be a permutation.
    adaptive_threads : bool
        Measure serial and parallel columns and use the faster (default); False computes every
        large column with all n_threads.
    par_min : int
        Columns shorter than this are computed by one thread (default 2048; -1: the default).
    single : bool
        Keep the kernel columns in single precision, as LIBSVM's cache (Qfloat) does: half the
        memory per column, so twice the columns fit in ``cache_bytes``. The iterations then solve
        the problem with the rounded Q (with LIBSVM's ordering of the samples they are LIBSVM's,
        one for one); :meth:`to_double` recomputes the gradient exactly and continues in double
        precision, so that the final answer is judged against the exact Q.
    nu : bool
        LIBSVM's ``Solver_NU`` (nu-SVC, nu-SVR): the problem has two equality constraints, the sum
        of a over each sign class (y_t = +1 and y_t = -1) fixed at its value at the start, which
        must be feasible (the caller builds LIBSVM's start). Both variables of every pair are
        taken in the same class, so every step keeps both sums. wss=3: LIBSVM's selection
        (i_p, i_n maximize -y G over I_up within each class, j by the second-order rule paired
        with the i of its class); wss=1 (not in LIBSVM): the maximal violating pair within the
        class of the larger violation. Stops when max over the classes of m_c(a) - M_c(a) <= tol
        (the value ``progress`` and ``finish`` report as the violation); shrinking is Solver_NU's
        (per-class bounds Gmax1..Gmax4). ``finish`` returns LIBSVM's rho = (r1 - r2) / 2 and
        r = (r1 + r2) / 2, r1 and r2 from the free variables of each class. Default False:
        LIBSVM's ``Solver`` with the single constraint y^T a = const.
    sparse_dot : {"auto", "scatter", "merge", "columns"}
        How sparse data's inner products are taken: "scatter" (a dense buffer of d values per
        thread), "merge" (the two rows' column lists merged, no buffer), "columns" (through a
        compressed-column copy of the data), or "auto" (per column, through the compressed
        columns where that costs less, else scatter for at most 2**18 features and merge
        above). All give the same values; ignored for dense data.
    cold : bool
        ``a`` is the problem's own start (LIBSVM's: the one-class and nu starts have variables at
        their bounds), not a warm start: its gradient and G_bar are summed from the columns and
        the shrinking keeps LIBSVM's period, as LIBSVM's ``Solver`` does (nu mode: always, without
        ``a_ref``). Default False: a start with support vectors and no ``a_ref`` is taken as a warm
        start, whose gradient comes from the blocked pass over the support vectors.
    """

    # data / kernel
    cdef object _X_keep
    cdef object _csc_keep   # sparse: the compressed columns and per-row products kd points into
    cdef KData kd
    cdef int l
    cdef int n
    # per position (follow the shrinking permutation)
    cdef int* xrow          # data row of the variable at position t
    cdef int* active_set    # original variable index at position t
    cdef double* y
    cdef double* p
    cdef double* u
    cdef double* alpha
    cdef double* G
    cdef double* G_bar
    cdef double* QD
    cdef char* status
    cdef double* upm         # 1.0 if in I_up (y=+1 below its bound, or y=-1 above 0)
    cdef double* lowm        # 1.0 if in I_low
    # solver state
    cdef int active_size
    cdef bint unshrink
    cdef int counter
    cdef int shrink_period   # iterations between shrinking passes
    cdef long long iter
    cdef long long max_iter
    cdef double tol
    cdef int wss
    cdef bint shrinking
    cdef bint gbar_valid
    cdef int n_threads
    cdef ThreadCtl tc[N_SIZE_CLASSES]    # kernel columns, per size class
    cdef bint single         # cache columns are float32 (LIBSVM's Qfloat), else float64
    cdef bint nu             # LIBSVM's Solver_NU: pairs, stopping rule, shrinking and bias per class
    cdef double cache_bytes
    cdef long long iter_single    # iterations done in single precision (before to_double)
    cdef bint finished
    cdef double obj          # 0.5 a^T Q a + p^T a, tracked incrementally
    cdef long long kernel_evals
    cdef long long n_shrink_calls
    cdef long long n_reconstruct
    # cache
    cdef bint permuted
    cdef int n_keys
    cdef void** c_data       # float* or double* columns (self.single)
    cdef int* c_len
    cdef int* c_prev
    cdef int* c_next
    cdef long long c_free    # entries (of the current precision) still available
    cdef long long c_total   # the budget in entries
    cdef double c_peak       # largest number of bytes held by cached columns (tests)
    cdef int* sw_pairs       # a shrinking pass's swaps (i < j) not yet done within the columns
    cdef int n_sw
    cdef int* sw_heads       # scratch of _cache_flush_swaps: the columns it works on
    cdef char* sw_drop
    cdef void* buf0          # gather mode: columns of Q in the current precision
    cdef void* buf1
    cdef int next_buf
    cdef int buf_var[2]      # the variable whose column each buffer holds (-1: none) ...
    cdef int buf_len[2]      # ... on positions [0, buf_len): valid until positions move
    # The scans of an iteration (selection, gradient update, gather) run on sc.nthreads threads
    # when scan_par: each thread takes one contiguous chunk of the active set and the chunks'
    # results are combined in order, so that maxima, their indices (ties to the last) and every
    # entry are those of one sequential scan whatever the number of threads.
    cdef ThreadCtl sc[N_SIZE_CLASSES]    # per size class of the active set
    cdef int sc_class        # this iteration's
    cdef bint scan_par
    cdef bint scan_probe
    cdef double scan_time    # seconds spent in this iteration's scans
    cdef Py_ssize_t scan_entries
    cdef double pv0[SCAN_MAX_THREADS]
    cdef double pv1[SCAN_MAX_THREADS]
    cdef double pv2[SCAN_MAX_THREADS]
    cdef double pv3[SCAN_MAX_THREADS]
    cdef int pi0[SCAN_MAX_THREADS]
    cdef int pi1[SCAN_MAX_THREADS]
    # The update of an iteration also makes the next one's first choice (i over I_up, per sign
    # class in nu mode) in the same pass over G; valid until G, the statuses or the positions
    # change otherwise (shrinking, reconstruction, precision change).
    cdef bint up_valid
    cdef int up_i
    cdef int up_in
    cdef double up_g
    cdef double up_gn

    def __cinit__(self):
        self.xrow = NULL
        self.active_set = NULL
        self.y = NULL
        self.p = NULL
        self.u = NULL
        self.alpha = NULL
        self.G = NULL
        self.G_bar = NULL
        self.QD = NULL
        self.status = NULL
        self.upm = NULL
        self.lowm = NULL
        self.kd.sq = NULL
        self.kd.XT = NULL
        self.kd.sqv = NULL
        self.kd.wbuf = NULL
        self.kd.dots = NULL
        self.kd.csc_ptr = NULL
        self.kd.csc_dense = NULL
        self.kd.dense = NULL
        self.kd.csc_always = False
        self.kd.sparse = False
        self.c_data = NULL
        self.c_len = NULL
        self.c_prev = NULL
        self.c_next = NULL
        self.buf0 = NULL
        self.buf1 = NULL
        self.sw_pairs = NULL
        self.sw_heads = NULL
        self.sw_drop = NULL
        self.n_sw = 0
        self.n_keys = 0

    def __dealloc__(self):
        cdef int t
        if self.c_data != NULL:
            for t in range(self.n_keys):
                free(self.c_data[t])
            free(self.c_data)
        free(self.c_len)
        free(self.c_prev)
        free(self.c_next)
        free(self.buf0)
        free(self.buf1)
        free(self.sw_pairs)
        free(self.sw_heads)
        free(self.sw_drop)
        free(self.xrow)
        free(self.active_set)
        free(self.y)
        free(self.p)
        free(self.u)
        free(self.alpha)
        free(self.G)
        free(self.G_bar)
        free(self.QD)
        free(self.status)
        free(self.upm)
        free(self.lowm)
        free(self.kd.sq)
        free(self.kd.XT)
        free(self.kd.sqv)
        free(self.kd.wbuf)
        free(self.kd.dots)

    def __init__(self, X, str kernel, double gamma, int degree, double coef0, idx, y, p, u, a,
                 double tol, int wss, bint shrinking, double cache_bytes, int n_threads,
                 long long max_iter, grad_ref=None, a_ref=None, str mode="auto",
                 bint adaptive_threads=True, Py_ssize_t par_min=-1, bint single=False,
                 bint nu=False, str sparse_dot="auto", bint cold=False):
        cdef const double[:, ::1] Xv
        cdef Py_ssize_t n, ncols
        cdef bint sparse = _is_sparse(X)
        if sparse:
            csr = _csr_parts(X)
            n, ncols = csr[3]
        else:
            Xv = np.ascontiguousarray(X, dtype=np.float64)
            n, ncols = Xv.shape[0], Xv.shape[1]
        cdef const int[::1] idxv = np.ascontiguousarray(idx, dtype=np.int32)
        cdef const double[::1] yv = np.ascontiguousarray(y, dtype=np.float64)
        cdef const double[::1] pv = np.ascontiguousarray(p, dtype=np.float64)
        cdef const double[::1] uv = np.ascontiguousarray(u, dtype=np.float64)
        cdef const double[::1] av = np.ascontiguousarray(a, dtype=np.float64)
        _check_problem(n, ncols, sparse, kernel, wss, idxv, yv, pv, uv, av, sparse_dot)
        if sparse:
            self._set_sparse_data(csr[0], csr[1], csr[2], n, ncols)
        else:
            self._set_dense_data(Xv)
        self._set_kernel(idxv.shape[0], kernel, gamma, degree, coef0)
        self._set_options(tol, wss, shrinking, cache_bytes, n_threads, max_iter, adaptive_threads,
                          par_min, single, nu)
        self._reset_state()
        self._set_cache_mode(idxv, mode)
        self._alloc_positions()
        self._set_kernel_copy(idxv, sparse_dot)
        self._set_variables(idxv, yv, pv, uv, av)
        self._alloc_cache()
        self._start_gradient(av, grad_ref, a_ref, cold)
        self._set_objective()

    # ------------------------------------------------------------------ construction
    cdef int _set_dense_data(self, const double[:, ::1] Xv) except -1:
        """Dense data (kd points into Xv, kept alive here)."""
        self._X_keep = Xv
        self.kd.X = &Xv[0, 0]
        self.kd.sparse = False
        self.kd.n = Xv.shape[0]
        self.kd.d = Xv.shape[1]
        self.n = Xv.shape[0]
        return 0

    cdef int _set_sparse_data(self, const double[::1] data, const int[::1] ind,
                              const int64_t[::1] ptr, Py_ssize_t n, Py_ssize_t d) except -1:
        """CSR data (kd points into the three arrays, kept alive here; an all-zero matrix has no
        values, and its pointers are never read)."""
        self._X_keep = (data, ind, ptr)
        self.kd.X = NULL
        self.kd.sparse = True
        self.kd.sp_data = &data[0] if data.shape[0] > 0 else NULL
        self.kd.sp_ind = &ind[0] if ind.shape[0] > 0 else NULL
        self.kd.sp_ptr = &ptr[0]
        self.kd.n = n
        self.kd.d = d
        self.n = n
        return 0

    cdef int _set_columns(self, bint always) except -1:
        """The sparse data also as compressed columns, for the columns that cost less through
        them (``always``: every column)."""
        cdef const int64_t[::1] cptr
        cdef const int[::1] crow
        cdef const double[::1] cval
        cdef const double[::1] work
        cdef const int[::1] cdense
        cdef const double[:, ::1] dv
        import scipy.sparse as sp
        data, ind, ptr = (np.asarray(a) for a in self._X_keep)
        n, d = self.kd.n, self.kd.d
        A = sp.csr_matrix((data, ind, ptr), shape=(n, d)).tocsc()
        A.sort_indices()
        cptr = np.ascontiguousarray(A.indptr, dtype=np.int64)
        crow = np.ascontiguousarray(A.indices, dtype=np.int32)
        cval = np.ascontiguousarray(A.data, dtype=np.float64)
        counts = np.diff(np.asarray(cptr)).astype(np.float64)
        # the densest columns also whole, as many as fit in the bytes of the CSR data
        order = np.argsort(-counts, kind="stable")
        fit = int(min(np.count_nonzero(counts >= DENSE_COLUMN_SHARE * n),
                      12.0 * data.shape[0] // max(8 * n, 1)))
        whole = np.sort(order[:fit])
        col_dense = np.full(d, -1, dtype=np.int32)
        col_dense[whole] = np.arange(whole.size, dtype=np.int32)
        dense_cols = np.ascontiguousarray(A[:, whole].toarray().T, dtype=np.float64)
        # the cost of row r's column: per column of r, its nonzeros (scattered) or n (whole)
        cost = np.where(col_dense >= 0, DENSE_COST * n, counts)
        work = np.bincount(np.repeat(np.arange(n), np.diff(ptr)), weights=cost[ind],
                           minlength=n).astype(np.float64)
        cdense = col_dense
        self._csc_keep = (cptr, crow, cval, work, col_dense, dense_cols)
        self.kd.csc_ptr = &cptr[0]
        self.kd.csc_row = &crow[0] if crow.shape[0] > 0 else NULL
        self.kd.csc_val = &cval[0] if cval.shape[0] > 0 else NULL
        self.kd.csc_work = &work[0]
        if whole.size > 0:
            self.kd.csc_dense = &cdense[0]
            dv = dense_cols
            self.kd.dense = &dv[0, 0]
        self.kd.csc_always = always
        self.kd.nnz_row = data.shape[0] / max(n, 1)
        self.kd.dots = <double*> malloc(max(n, 1) * sizeof(double))
        if self.kd.dots == NULL:
            raise MemoryError()
        return 0

    cdef int _set_kernel(self, int l, str kernel, double gamma, int degree,
                         double coef0) except -1:
        """The kernel definition and the number of variables."""
        self.kd.kind = KERNEL_CODES[kernel]
        self.kd.degree = degree
        self.kd.gamma = gamma
        self.kd.coef0 = coef0
        self.l = l
        return 0

    cdef int _set_options(self, double tol, int wss, bint shrinking, double cache_bytes,
                          int n_threads, long long max_iter, bint adaptive_threads,
                          Py_ssize_t par_min, bint single, bint nu) except -1:
        """The solver's options and its thread controls."""
        cdef int c
        self.tol = tol
        self.wss = wss
        self.shrinking = shrinking
        self.n_threads = max(1, n_threads)
        for c in range(N_SIZE_CLASSES):
            _tc_init(&self.tc[c], self.n_threads, adaptive_threads,
                     PAR_MIN if par_min < 0 else par_min)
            _tc_init(&self.sc[c], min(self.n_threads, SCAN_MAX_THREADS), adaptive_threads,
                     SCAN_PAR_MIN if par_min < 0 else par_min)
        self.scan_par = False
        self.up_valid = False
        self.single = single
        self.nu = nu
        self.cache_bytes = cache_bytes
        self.max_iter = max_iter
        return 0

    cdef int _reset_state(self) except -1:
        """Iteration state and counters of a fresh solve (first shrinking after min(l, 1000))."""
        self.iter_single = -1
        self.iter = 0
        self.unshrink = False
        self.shrink_period = min(self.l, 1000)
        self.counter = self.shrink_period + 1
        self.gbar_valid = False
        self.finished = False
        self.kernel_evals = 0
        self.n_shrink_calls = 0
        self.n_reconstruct = 0
        return 0

    cdef int _set_cache_mode(self, const int[::1] idxv, str mode) except -1:
        """Permuted or gather cache (module docstring); "auto": permuted if idx is a permutation."""
        cdef int l = self.l, n = self.n
        idx_np = np.asarray(idxv)
        if mode == "auto":
            self.permuted = l == n and np.array_equal(np.sort(idx_np), np.arange(n))
        elif mode == "permuted":
            if not (l == n and np.array_equal(np.sort(idx_np), np.arange(n))):
                raise ValueError("mode='permuted' needs idx to be a permutation of the data rows")
            self.permuted = True
        elif mode == "gather":
            self.permuted = False
        else:
            raise ValueError(f"unknown cache mode {mode!r}")
        return 0

    cdef int _alloc_positions(self) except -1:
        """The per-position arrays (length l)."""
        cdef int l = self.l
        self.xrow = <int*> malloc(l * sizeof(int))
        self.active_set = <int*> malloc(l * sizeof(int))
        self.y = <double*> malloc(l * sizeof(double))
        self.p = <double*> malloc(l * sizeof(double))
        self.u = <double*> malloc(l * sizeof(double))
        self.alpha = <double*> malloc(l * sizeof(double))
        self.G = <double*> malloc(l * sizeof(double))
        self.G_bar = <double*> malloc(l * sizeof(double))
        self.QD = <double*> malloc(l * sizeof(double))
        self.status = <char*> malloc(l * sizeof(char))
        self.upm = <double*> malloc(l * sizeof(double))
        self.lowm = <double*> malloc(l * sizeof(double))
        if (self.xrow == NULL or self.active_set == NULL or self.y == NULL or self.p == NULL
                or self.u == NULL or self.alpha == NULL or self.G == NULL or self.G_bar == NULL
                or self.QD == NULL or self.status == NULL
                or self.upm == NULL or self.lowm == NULL):
            raise MemoryError()
        return 0

    cdef int _set_kernel_copy(self, const int[::1] idxv, str sparse_dot) except -1:
        """Squared norms of the rows and X's column-major copy that the blocked columns read, in
        the order of the variables (permuted) or of the rows (gather); none for precomputed.
        Sparse data need no copy (their columns are read from the CSR rows), only the per-thread
        scatter buffers unless the inner products merge the rows (``sparse_dot``)."""
        cdef int n = self.n, l = self.l
        cdef int t, r
        cdef Py_ssize_t m
        cdef const int64_t* ptr
        self.kd.XT = NULL
        self.kd.sqv = NULL
        self.kd.ld = 0
        if self.kd.kind == K_PRECOMPUTED:
            return 0
        self.kd.sq = <double*> malloc(max(n, 1) * sizeof(double))
        if self.kd.sq == NULL:
            raise MemoryError()
        if self.kd.sparse:
            ptr = self.kd.sp_ptr
            for r in range(n):
                self.kd.sq[r] = gl_csr_dot_merge(self.kd.sp_data, self.kd.sp_ind, ptr[r],
                                                 ptr[r + 1], ptr[r], ptr[r + 1])
            self.kd.ld = l if self.permuted else n
            if sparse_dot == "scatter" or (sparse_dot == "auto" and self.kd.d <= SPARSE_SCATTER_MAX):
                self.kd.wbuf = <double*> calloc(max(self.tc[0].nthreads * self.kd.d, 1),
                                                sizeof(double))
                if self.kd.wbuf == NULL:
                    raise MemoryError()
            if sparse_dot in ("auto", "columns"):
                self._set_columns(sparse_dot == "columns")
            return 0
        for r in range(n):
            self.kd.sq[r] = gl_dot_seq(self.kd.X + <Py_ssize_t> r * self.kd.d,
                                       self.kd.X + <Py_ssize_t> r * self.kd.d, self.kd.d)
        self.kd.ld = l if self.permuted else n
        self.kd.XT = <double*> malloc(max(self.kd.ld * self.kd.d, 1) * sizeof(double))
        self.kd.sqv = <double*> malloc(self.kd.ld * sizeof(double))
        if self.kd.XT == NULL or self.kd.sqv == NULL:
            raise MemoryError()
        for t in range(self.kd.ld):
            r = idxv[t] if self.permuted else t
            self.kd.sqv[t] = self.kd.sq[r]
            for m in range(self.kd.d):
                self.kd.XT[m * self.kd.ld + t] = self.kd.X[<Py_ssize_t> r * self.kd.d + m]
        return 0

    cdef int _set_variables(self, const int[::1] idxv, const double[::1] yv, const double[::1] pv,
                            const double[::1] uv, const double[::1] av) except -1:
        """Each variable's data row, sign, linear term, bound, start value, Q_tt and status."""
        cdef int t, l = self.l
        for t in range(l):
            self.xrow[t] = idxv[t]
            self.active_set[t] = t
            self.y[t] = 1.0 if yv[t] > 0 else -1.0
            self.p[t] = pv[t]
            self.u[t] = uv[t]
            self.alpha[t] = av[t]
            self.G_bar[t] = 0.0
            self.QD[t] = _kval(&self.kd, idxv[t], idxv[t])
            self._update_status(t)
        self.active_size = l
        return 0

    cdef int _alloc_cache(self) except -1:
        """The empty LRU kernel cache (keys: positions if permuted, else data rows), its budget and
        the two gather buffers."""
        cdef int l = self.l
        self.n_keys = l if self.permuted else self.n
        self.c_free = self._budget()
        self.c_total = self.c_free
        self.c_peak = 0.0
        self.c_data = <void**> calloc(self.n_keys, sizeof(void*))
        self.c_len = <int*> calloc(self.n_keys, sizeof(int))
        self.c_prev = <int*> malloc((self.n_keys + 1) * sizeof(int))
        self.c_next = <int*> malloc((self.n_keys + 1) * sizeof(int))
        if self.c_data == NULL or self.c_len == NULL or self.c_prev == NULL or self.c_next == NULL:
            raise MemoryError()
        self.c_prev[self.n_keys] = self.n_keys
        self.c_next[self.n_keys] = self.n_keys
        if self.permuted:
            # a shrinking pass swaps fewer than l pairs
            self.sw_pairs = <int*> malloc(2 * max(l, 1) * sizeof(int))
            self.sw_heads = <int*> malloc(max(l, 1) * sizeof(int))
            self.sw_drop = <char*> malloc(max(l, 1) * sizeof(char))
            if self.sw_pairs == NULL or self.sw_heads == NULL or self.sw_drop == NULL:
                raise MemoryError()
            self.n_sw = 0
        else:
            self.buf0 = malloc(l * sizeof(double))     # room for either precision
            self.buf1 = malloc(l * sizeof(double))
            if self.buf0 == NULL or self.buf1 == NULL:
                raise MemoryError()
        self.next_buf = 0
        self._buf_forget()
        return 0

    cdef inline void _buf_forget(self) noexcept nogil:
        """The gather buffers no longer hold valid columns (positions or precision changed)."""
        self.buf_var[0] = -1
        self.buf_var[1] = -1
        self.buf_len[0] = 0
        self.buf_len[1] = 0

    cdef bint _blocked_start(self, const double[::1] av, a_ref, bint cold) except -1:
        """Whether the start gradient is computed by the blocked pass over the support vectors.

        A warm start far from a_ref (MM: every bound changed, so every upper-bounded variable
        moved) needs a kernel column per moved variable, then one per upper-bounded variable for
        G_bar when shrinking starts: computing G and G_bar from scratch in one blocked pass over
        the support vectors reads the data in cache-sized blocks instead, at a fraction of the
        cost per kernel value (MM on magic, ~5,300 of ~5,600 moved: inner solve 2.8 s -> 1.5 s
        per step).

        A cold start (``cold``; in nu mode any start without a_ref: LIBSVM's, nu l / 2 at the
        bounds in each class) is not a warm start: its gradient is summed from the columns and the
        shrinking keeps LIBSVM's period, as LIBSVM's Solver and Solver_NU, so that with
        single-precision columns and LIBSVM's order of the samples the iterations are LIBSVM's.
        """
        if (self.nu or cold) and a_ref is None:
            return False
        a_np = np.asarray(av)
        n_sv = np.count_nonzero(a_np)
        n_moved = n_sv if a_ref is None else np.count_nonzero(a_np != np.asarray(a_ref, dtype=np.float64))
        return n_sv > 0 and 4 * n_moved > n_sv and self.kd.kind != K_PRECOMPUTED

    cdef int _start_gradient(self, const double[::1] av, grad_ref, a_ref, bint cold) except -1:
        """G at the start point: by the blocked pass, or grad_ref (default p) plus the columns of
        the variables that differ from a_ref (default 0)."""
        cdef const double[::1] gv
        cdef const double[::1] arv
        cdef int t, l = self.l
        if self._blocked_start(av, a_ref, cold):
            with nogil:
                self._exact_gradient(True)
            self.gbar_valid = True
            # G_bar is at hand: shrink at the first iteration and then often, rather than after
            # min(l, 1000) iterations on full-length columns; unless the start meets the stopping
            # rule already (a blocked phase's answer), where the first check ends the run and a
            # shrinking before it would only cost a gradient reconstruction
            self.shrink_period = min(l, _WARM_SHRINK)
            self.counter = self.shrink_period + 1 if self._violation() < self.tol else 1
        elif grad_ref is None:
            for t in range(l):
                self.G[t] = self.p[t]
            with nogil:
                self._add_columns_gbar()
        else:
            gv = np.ascontiguousarray(grad_ref, dtype=np.float64)
            arv = np.ascontiguousarray(a_ref, dtype=np.float64)
            if gv.shape[0] != l or arv.shape[0] != l:
                raise ValueError("grad_ref and a_ref must have length l")
            for t in range(l):
                self.G[t] = gv[t]
            with nogil:
                self._add_columns(&arv[0])
        return 0

    cdef void _set_objective(self) noexcept nogil:
        """obj = 0.5 a^T (G + p), which is 0.5 a^T Q a + p^T a, from the current gradient."""
        cdef int t
        self.obj = 0.0
        for t in range(self.l):
            self.obj += self.alpha[t] * (self.G[t] + self.p[t])
        self.obj *= 0.5

    # ------------------------------------------------------------------ helpers
    cdef long long _budget(self) noexcept:
        """Cache entries allowed by cache_bytes in the current precision (LIBSVM's Cache: the
        budget counts the column entries plus the per-column bookkeeping; two full columns at
        least)."""
        cdef Py_ssize_t es = sizeof(float) if self.single else sizeof(double)
        cdef long long col = self.l if self.permuted else self.n
        cdef long long budget = <long long> (self.cache_bytes / es)
        budget -= (<long long> self.n_keys * (sizeof(void*) + 3 * sizeof(int))) // es
        if budget < 2 * col:
            budget = 2 * col
        return budget

    cdef inline double _qat(self, const void* q, Py_ssize_t k) noexcept nogil:
        """Entry k of a column returned by _get_q (a float promotes exactly)."""
        if self.single:
            return (<const float*> q)[k]
        return (<const double*> q)[k]

    cdef inline void _axpy(self, Py_ssize_t k0, Py_ssize_t k1, double* v, double c,
                           const void* q) noexcept nogil:
        """v[k] += c * q[k] for k in [k0, k1)."""
        if self.single:
            gl_axpy_f(k1 - k0, v + k0, c, (<const float*> q) + k0)
        else:
            gl_axpy_d(k1 - k0, v + k0, c, (<const double*> q) + k0)

    cdef inline void _update_status(self, int t) noexcept nogil:
        cdef char st
        if self.alpha[t] >= self.u[t]:
            st = UPPER_BOUND
        elif self.alpha[t] <= 0.0:
            st = LOWER_BOUND
        else:
            st = FREE
        self.status[t] = st
        if self.y[t] > 0:
            self.upm[t] = 1.0 if st != UPPER_BOUND else 0.0
            self.lowm[t] = 1.0 if st != LOWER_BOUND else 0.0
        else:
            self.upm[t] = 1.0 if st != LOWER_BOUND else 0.0
            self.lowm[t] = 1.0 if st != UPPER_BOUND else 0.0

    cdef int _add_columns(self, const double* a_ref) except -1 nogil:
        """G += sum_t (alpha_t - a_ref_t) Q_t over the variables that differ (a warm start's
        update of the given gradient at a_ref; the cold start sums its columns in
        _add_columns_gbar)."""
        cdef int t
        cdef double da
        cdef const void* Q_t
        for t in range(self.l):
            da = self.alpha[t] - a_ref[t]
            if da != 0.0:
                Q_t = self._get_q(t, self.l)
                self._axpy(0, self.l, self.G, da, Q_t)
        return 0

    cdef int _add_columns_gbar(self) except -1 nogil:
        """G += sum_t alpha_t Q_t and G_bar = sum over upper-bounded t of u_t Q_t, from the same
        columns, as LIBSVM's Solver::Solve starts (a = 0 for C-SVC and epsilon-SVR; the nu and
        one-class starts have variables at their bounds, whose columns G needs anyway). G_bar
        then follows every step as in LIBSVM (rather than being summed afresh at the first
        shrinking, in another order), so that the gradients reconstructed after shrinking, and
        the iterations after them, are LIBSVM's to the last bit."""
        cdef int t
        cdef const void* Q_t
        cdef const void* col
        for t in range(self.l):
            self.G_bar[t] = 0.0
        for t in range(self.l):
            if self.alpha[t] != 0.0:
                # one pass for both sums (gather mode: the column gathered in it), on the scans'
                # threads when the scans' control finds them faster
                Q_t = col = NULL
                if self.permuted:
                    Q_t = self._get_q(t, self.l)
                else:
                    col = self._kernel_column(self.xrow[t])
                self._scan_begin()
                self._scan_axpy_gbar(Q_t, col, t)
                self._scan_end()
        self.gbar_valid = True
        return 0

    cdef void _scan_axpy_gbar(self, const void* Q_t, const void* col, int t) noexcept nogil:
        """G += alpha_t Q_t and, if t is upper-bounded, G_bar += u_t Q_t on all l positions
        (gl_axpy_gbar; Q_t gathered from col in gather mode)."""
        cdef Py_ssize_t n = self.l
        cdef int c, nth = self.sc[0].nthreads
        cdef double t0 = _now()
        cdef double cu = self.u[t] if self.status[t] == UPPER_BOUND else 0.0
        # serial: no parallel region (see the scans below)
        if not self.scan_par:
            self._axpy_gbar_range(0, n, Q_t, col, t, cu)
        else:
            for c in prange(nth, schedule="static", num_threads=nth):
                self._axpy_gbar_range(_chunk(n, c, nth), _chunk(n, c + 1, nth), Q_t, col, t, cu)
        self.scan_time += _now() - t0
        self.scan_entries += n

    cdef inline void _axpy_gbar_range(self, Py_ssize_t a, Py_ssize_t b, const void* Q_t,
                                      const void* col, int t, double cu) noexcept nogil:
        if self.single:
            gl_axpy_gbar_f(b - a, self.G + a, self.G_bar + a, self.alpha[t], cu,
                           (<const float*> Q_t) + a if Q_t != NULL else NULL,
                           <const float*> col, self.xrow + a, self.y + a, self.y[t])
        else:
            gl_axpy_gbar_d(b - a, self.G + a, self.G_bar + a, self.alpha[t], cu,
                           (<const double*> Q_t) + a if Q_t != NULL else NULL,
                           <const double*> col, self.xrow + a, self.y + a, self.y[t])

    # ------------------------------------------------------------------ cache
    cdef inline void _lru_delete(self, int h) noexcept nogil:
        self.c_next[self.c_prev[h]] = self.c_next[h]
        self.c_prev[self.c_next[h]] = self.c_prev[h]

    cdef inline void _lru_insert(self, int h) noexcept nogil:
        cdef int head = self.n_keys
        self.c_next[h] = head
        self.c_prev[h] = self.c_prev[head]
        self.c_next[self.c_prev[h]] = h
        self.c_prev[head] = h

    cdef int _cache_get(self, int h, void** data, int length) except -2 nogil:
        """LIBSVM Cache::get_data: returns the position from which data[h] must be filled."""
        cdef int more, old, start
        cdef void* newp
        if self.c_len[h] > 0:
            self._lru_delete(h)
        more = length - self.c_len[h]
        start = length
        if more > 0:
            while self.c_free < more and self.c_next[self.n_keys] != self.n_keys:
                old = self.c_next[self.n_keys]
                self._lru_delete(old)
                free(self.c_data[old])
                self.c_free += self.c_len[old]
                self.c_data[old] = NULL
                self.c_len[old] = 0
            newp = realloc(self.c_data[h], length * (sizeof(float) if self.single else sizeof(double)))
            if newp == NULL:
                with gil:
                    raise MemoryError("kernel cache allocation failed")
            self.c_data[h] = newp
            self.c_free -= more
            self.c_peak = max(self.c_peak, <double> (self.c_total - self.c_free)
                              * (sizeof(float) if self.single else sizeof(double)))
            start = self.c_len[h]
            self.c_len[h] = length
        self._lru_insert(h)
        data[0] = self.c_data[h]
        return start

    cdef void _cache_swap(self, int i, int j) noexcept nogil:
        """LIBSVM Cache::swap_index (permuted mode), in two parts: the keys i and j exchange their
        columns (and LRU places) now, as in LIBSVM; the exchange of entries i and j within every
        cached column, or the column's removal when it holds i but not j, is recorded and done
        by _cache_flush_swaps for all of a shrinking pass's swaps at once (same columns after
        the pass: a column's fate depends only on its own length and the sequence of swaps)."""
        cdef void* tp
        cdef int tl
        if i == j:
            return
        if self.c_len[i] > 0:
            self._lru_delete(i)
        if self.c_len[j] > 0:
            self._lru_delete(j)
        tp = self.c_data[i]
        self.c_data[i] = self.c_data[j]
        self.c_data[j] = tp
        tl = self.c_len[i]
        self.c_len[i] = self.c_len[j]
        self.c_len[j] = tl
        if self.c_len[i] > 0:
            self._lru_insert(i)
        if self.c_len[j] > 0:
            self._lru_insert(j)
        self.sw_pairs[2 * self.n_sw] = min(i, j)
        self.sw_pairs[2 * self.n_sw + 1] = max(i, j)
        self.n_sw += 1

    cdef void _cache_flush_swaps(self) noexcept nogil:
        """The recorded swaps within the cached columns (LIBSVM's loop over the LRU list, one
        pass per column over all swaps instead of one pass over the list per swap; columns in
        parallel when there is much to do), then the removals."""
        cdef int h, e, nh = 0, k, lo, nth = 1
        if self.n_sw == 0:
            return
        lo = self.sw_pairs[0]
        for k in range(1, self.n_sw):
            lo = min(lo, self.sw_pairs[2 * k])
        h = self.c_next[self.n_keys]
        while h != self.n_keys:
            if self.c_len[h] > lo:
                self.sw_heads[nh] = h
                nh += 1
            h = self.c_next[h]
        if <double> nh * self.n_sw >= 65536.0:
            nth = self.tc[0].nthreads
        if nth == 1:
            for e in range(nh):
                self.sw_drop[e] = _swap_entries(self.c_data[self.sw_heads[e]],
                                                self.c_len[self.sw_heads[e]], self.sw_pairs,
                                                self.n_sw, self.single)
        else:
            for e in prange(nh, schedule="dynamic", num_threads=nth):
                self.sw_drop[e] = _swap_entries(self.c_data[self.sw_heads[e]],
                                                self.c_len[self.sw_heads[e]], self.sw_pairs,
                                                self.n_sw, self.single)
        for e in range(nh):
            if self.sw_drop[e]:
                h = self.sw_heads[e]
                self._lru_delete(h)
                free(self.c_data[h])
                self.c_free += self.c_len[h]
                self.c_data[h] = NULL
                self.c_len[h] = 0
        self.n_sw = 0

    cdef void _cache_clear(self) noexcept nogil:
        """Drop every cached column."""
        cdef int h
        for h in range(self.n_keys):
            free(self.c_data[h])
            self.c_data[h] = NULL
            self.c_len[h] = 0
        self.c_prev[self.n_keys] = self.n_keys
        self.c_next[self.n_keys] = self.n_keys
        self._buf_forget()

    cdef const void* _get_q(self, int t, int length) except NULL nogil:
        """Column t of Q on positions [0, length), float* or double* (self.single)."""
        cdef void* data
        cdef const void* col
        cdef int start, b
        if self.permuted:
            start = self._cache_get(t, &data, length)
            if start < length:
                if self.single:
                    _fill(&self.kd, self.xrow[t], self.y, self.y[t], self.xrow, NULL,
                          <float*> data, start, length, self._col_ctl(length - start))
                else:
                    _fill(&self.kd, self.xrow[t], self.y, self.y[t], self.xrow, <double*> data,
                          NULL, start, length, self._col_ctl(length - start))
                self.kernel_evals += length - start
            return data
        col = self._kernel_column(self.xrow[t])
        # an iteration asks for the column of i in the selection and again in the update:
        # a buffer that still holds it is reused (LIBSVM gathers it again)
        b = self._buf_find(t, length)
        if b >= 0:
            return self._buf(b)
        b = self._buf_claim(t, length)
        self._scan_gather(col, self._buf(b), self.y[t], length)
        return self._buf(b)

    cdef const void* _kernel_column(self, int r) except NULL nogil:
        """Gather mode: the cached kernel column of data row r (all n entries)."""
        cdef void* data
        cdef int start = self._cache_get(r, &data, self.n)
        if start < self.n:
            if self.single:
                _fill(&self.kd, r, NULL, 1.0, NULL, NULL, <float*> data, start, self.n,
                      self._col_ctl(self.n - start))
            else:
                _fill(&self.kd, r, NULL, 1.0, NULL, <double*> data, NULL, start, self.n,
                      self._col_ctl(self.n - start))
            self.kernel_evals += self.n - start
        return data

    cdef inline ThreadCtl* _col_ctl(self, Py_ssize_t length) noexcept nogil:
        """The thread control of kernel columns of this length."""
        if length < self.tc[0].par_min:
            return &self.tc[0]
        return &self.tc[_size_class(length, self.tc[0].par_min)]

    cdef inline void* _buf(self, int b) noexcept nogil:
        return self.buf0 if b == 0 else self.buf1

    cdef inline int _buf_find(self, int t, int length) noexcept nogil:
        """The gather buffer holding column t on [0, length) (the other one is filled next), or -1."""
        cdef int b
        for b in range(2):
            if self.buf_var[b] == t and self.buf_len[b] >= length:
                self.next_buf = 1 - b
                return b
        return -1

    cdef inline int _buf_claim(self, int t, int length) noexcept nogil:
        """The gather buffer that column t on [0, length) is to be written to."""
        cdef int b = self.next_buf
        self.next_buf = 1 - b
        self.buf_var[b] = t
        self.buf_len[b] = length
        return b


    # ------------------------------------------------------------------ scans
    # A serial scan (or pass) never enters a parallel region, not even one of one thread:
    # libgomp starts a one-thread region after a two-thread one by retiring the idle worker at
    # its dock barrier (the master waits for the worker to get there, and the next parallel
    # region creates a new thread). On a quiet machine that costs microseconds per region; on a
    # busy one each wait is a scheduler slice, every iteration, and the worker's spinning takes
    # the core the master needs.
    cdef inline void _scan_begin(self) noexcept nogil:
        """Choose the mode of this iteration's scans (parallel only on a large active set)."""
        self.scan_time = 0.0
        self.scan_entries = 0
        if self.sc[0].nthreads > 1 and self.active_size >= self.sc[0].par_min:
            self.sc_class = _size_class(self.active_size, self.sc[0].par_min)
            self.scan_par = _tc_choose(&self.sc[self.sc_class], &self.scan_probe)
        else:
            self.scan_par = False
            self.scan_probe = False

    cdef inline void _scan_end(self) noexcept nogil:
        """Account this iteration's scans to their thread control."""
        if self.scan_entries > 0 and self.sc[0].nthreads > 1 and self.active_size >= self.sc[0].par_min:
            _tc_record(&self.sc[self.sc_class], self.scan_par, self.scan_probe, self.scan_time,
                       self.scan_entries)
        self.scan_par = False

    cdef int _scan_up(self, double* gmax) noexcept nogil:
        """gl_select_up on the active set (made by the last update where still valid)."""
        cdef Py_ssize_t n = self.active_size, a, b
        cdef int c, nth = self.sc[0].nthreads, i = -1
        cdef double t0, best = -INF
        if self.up_valid and not self.nu:
            gmax[0] = self.up_g
            return self.up_i
        t0 = _now()
        if not self.scan_par:
            i = gl_select_up(n, self.G, self.y, self.upm, gmax)
        else:
            for c in prange(nth, schedule="static", num_threads=nth):
                a = _chunk(n, c, nth)
                b = _chunk(n, c + 1, nth)
                self.pi0[c] = gl_select_up(b - a, self.G + a, self.y + a, self.upm + a,
                                           &self.pv0[c])
                if self.pi0[c] >= 0:
                    self.pi0[c] += a
            for c in range(nth):
                if self.pi0[c] >= 0 and self.pv0[c] >= best:
                    best = self.pv0[c]
                    i = self.pi0[c]
            gmax[0] = best
        self.scan_time += _now() - t0
        self.scan_entries += n
        return i

    cdef void _scan_nu(self, const double* mask, double sgn, double* gp, int* ip, double* gn,
                       int* in_) noexcept nogil:
        """gl_select_nu on the active set (with upm: made by the last update where still valid)."""
        cdef Py_ssize_t n = self.active_size, a, b
        cdef int c, nth = self.sc[0].nthreads
        cdef double t0
        if self.up_valid and self.nu and mask == self.upm and sgn == -1.0:
            gp[0] = self.up_g
            ip[0] = self.up_i
            gn[0] = self.up_gn
            in_[0] = self.up_in
            return
        t0 = _now()
        if not self.scan_par:
            gl_select_nu(n, self.G, self.y, mask, sgn, gp, ip, gn, in_)
        else:
            for c in prange(nth, schedule="static", num_threads=nth):
                a = _chunk(n, c, nth)
                b = _chunk(n, c + 1, nth)
                gl_select_nu(b - a, self.G + a, self.y + a, mask + a, sgn, &self.pv0[c],
                             &self.pi0[c], &self.pv1[c], &self.pi1[c])
                if self.pi0[c] >= 0:
                    self.pi0[c] += a
                if self.pi1[c] >= 0:
                    self.pi1[c] += a
            gp[0] = -INF
            gn[0] = -INF
            ip[0] = -1
            in_[0] = -1
            for c in range(nth):
                if self.pi0[c] >= 0 and self.pv0[c] >= gp[0]:
                    gp[0] = self.pv0[c]
                    ip[0] = self.pi0[c]
                if self.pi1[c] >= 0 and self.pv1[c] >= gn[0]:
                    gn[0] = self.pv1[c]
                    in_[0] = self.pi1[c]
        self.scan_time += _now() - t0
        self.scan_entries += n

    cdef int _scan_wss3_j_range(self, Py_ssize_t a, Py_ssize_t b, const void* Q_i,
                                const void* col, void* out, double Gmax, double QDi, double yi,
                                double* best, double* gmax2) noexcept nogil:
        """gl_select_wss3_j_f / _d on positions [a, b) (index relative to a), or with col not
        NULL gl_gather_wss3_j_f / _d, which gathers the column of i from col into out."""
        if col != NULL:
            if self.single:
                return gl_gather_wss3_j_f(b - a, self.G + a, self.y + a, self.lowm + a,
                                          self.QD + a, <const float*> col, self.xrow + a,
                                          (<float*> out) + a, Gmax, QDi, yi, TAU, best, gmax2)
            return gl_gather_wss3_j_d(b - a, self.G + a, self.y + a, self.lowm + a, self.QD + a,
                                      <const double*> col, self.xrow + a, (<double*> out) + a,
                                      Gmax, QDi, yi, TAU, best, gmax2)
        if self.single:
            return gl_select_wss3_j_f(b - a, self.G + a, self.y + a, self.lowm + a, self.QD + a,
                                      (<const float*> Q_i) + a, Gmax, QDi, yi, TAU, best, gmax2)
        return gl_select_wss3_j_d(b - a, self.G + a, self.y + a, self.lowm + a, self.QD + a,
                                  (<const double*> Q_i) + a, Gmax, QDi, yi, TAU, best, gmax2)

    cdef int _scan_wss3_j(self, const void* Q_i, const void* col, void* out, double Gmax,
                          double QDi, double yi, double* gmax2) noexcept nogil:
        """The second-order choice of j on the active set (_scan_wss3_j_range's two forms)."""
        cdef Py_ssize_t n = self.active_size, a, b
        cdef int c, nth = self.sc[0].nthreads, j = -1
        cdef double t0 = _now(), best = -0.5, g2 = -INF, sc
        if not self.scan_par:
            j = self._scan_wss3_j_range(0, n, Q_i, col, out, Gmax, QDi, yi, &sc, gmax2)
        else:
            for c in prange(nth, schedule="static", num_threads=nth):
                a = _chunk(n, c, nth)
                b = _chunk(n, c + 1, nth)
                self.pi0[c] = self._scan_wss3_j_range(a, b, Q_i, col, out, Gmax, QDi, yi,
                                                      &self.pv0[c], &self.pv1[c])
                if self.pi0[c] >= 0:
                    self.pi0[c] += a
            for c in range(nth):
                if self.pi0[c] >= 0 and self.pv0[c] >= best:
                    best = self.pv0[c]
                    j = self.pi0[c]
                g2 = max(g2, self.pv1[c])
            gmax2[0] = g2
        self.scan_time += _now() - t0
        self.scan_entries += n
        return j

    cdef int _scan_nu_wss3_j_range(self, Py_ssize_t a, Py_ssize_t b, const void* Q_p,
                                   const void* Q_n, const void* colp, const void* coln,
                                   void* outp, void* outn, double gp, double gn, double QDp,
                                   double QDn, double* best, double* gp2,
                                   double* gn2) noexcept nogil:
        """gl_select_nu_wss3_j_f / _d on positions [a, b) (index relative to a), or with colp
        not NULL gl_gather_nu_wss3_j_f / _d, which gathers the columns of i_p and i_n."""
        if colp != NULL:
            if self.single:
                return gl_gather_nu_wss3_j_f(b - a, self.G + a, self.y + a, self.lowm + a,
                                             self.QD + a, <const float*> colp,
                                             <const float*> coln, self.xrow + a,
                                             (<float*> outp) + a, (<float*> outn) + a, gp, gn,
                                             QDp, QDn, TAU, best, gp2, gn2)
            return gl_gather_nu_wss3_j_d(b - a, self.G + a, self.y + a, self.lowm + a,
                                         self.QD + a, <const double*> colp, <const double*> coln,
                                         self.xrow + a, (<double*> outp) + a,
                                         (<double*> outn) + a, gp, gn, QDp, QDn, TAU, best, gp2,
                                         gn2)
        if self.single:
            return gl_select_nu_wss3_j_f(b - a, self.G + a, self.y + a, self.lowm + a,
                                         self.QD + a, (<const float*> Q_p) + a,
                                         (<const float*> Q_n) + a, gp, gn, QDp, QDn, TAU, best,
                                         gp2, gn2)
        return gl_select_nu_wss3_j_d(b - a, self.G + a, self.y + a, self.lowm + a, self.QD + a,
                                     (<const double*> Q_p) + a, (<const double*> Q_n) + a, gp,
                                     gn, QDp, QDn, TAU, best, gp2, gn2)

    cdef int _scan_nu_wss3_j(self, const void* Q_p, const void* Q_n, const void* colp,
                             const void* coln, void* outp, void* outn, double gp, double gn,
                             double QDp, double QDn, double* gp2, double* gn2) noexcept nogil:
        """The nu mode's second-order choice of j on the active set (_scan_nu_wss3_j_range)."""
        cdef Py_ssize_t n = self.active_size, a, b
        cdef int c, nth = self.sc[0].nthreads, j = -1
        cdef double t0 = _now(), best = -0.5, sc
        if not self.scan_par:
            j = self._scan_nu_wss3_j_range(0, n, Q_p, Q_n, colp, coln, outp, outn, gp, gn, QDp,
                                           QDn, &sc, gp2, gn2)
        else:
            for c in prange(nth, schedule="static", num_threads=nth):
                a = _chunk(n, c, nth)
                b = _chunk(n, c + 1, nth)
                self.pi0[c] = self._scan_nu_wss3_j_range(a, b, Q_p, Q_n, colp, coln, outp, outn,
                                                         gp, gn, QDp, QDn, &self.pv0[c],
                                                         &self.pv1[c], &self.pv2[c])
                if self.pi0[c] >= 0:
                    self.pi0[c] += a
            gp2[0] = -INF
            gn2[0] = -INF
            for c in range(nth):
                if self.pi0[c] >= 0 and self.pv0[c] >= best:
                    best = self.pv0[c]
                    j = self.pi0[c]
                gp2[0] = max(gp2[0], self.pv1[c])
                gn2[0] = max(gn2[0], self.pv2[c])
        self.scan_time += _now() - t0
        self.scan_entries += n
        return j

    cdef void _axpy2_range(self, Py_ssize_t a, Py_ssize_t b, const void* Q_i, double dai,
                           const void* Q_j, const void* col_j, double yj, double daj, double* g,
                           int* i, double* gn, int* in_) noexcept nogil:
        """The update with the next choice of i (gl_axpy2_up / _nu) on positions [a, b), index
        relative to a; with col_j not NULL the column of j gathered from it in the pass
        (gl_gather_axpy2_up / _nu, sign yj)."""
        cdef double* G = self.G + a
        cdef const double* y = self.y + a
        cdef const double* upm = self.upm + a
        cdef const int* rows = self.xrow + a
        if self.single:
            if self.nu:
                if col_j != NULL:
                    gl_gather_axpy2_nu_f(b - a, G, (<const float*> Q_i) + a, dai,
                                         <const float*> col_j, rows, yj, daj, y, upm, g, i, gn,
                                         in_)
                else:
                    gl_axpy2_nu_f(b - a, G, (<const float*> Q_i) + a, dai,
                                  (<const float*> Q_j) + a, daj, y, upm, g, i, gn, in_)
            elif col_j != NULL:
                i[0] = gl_gather_axpy2_up_f(b - a, G, (<const float*> Q_i) + a, dai,
                                            <const float*> col_j, rows, yj, daj, y, upm, g)
            else:
                i[0] = gl_axpy2_up_f(b - a, G, (<const float*> Q_i) + a, dai,
                                     (<const float*> Q_j) + a, daj, y, upm, g)
        else:
            if self.nu:
                if col_j != NULL:
                    gl_gather_axpy2_nu_d(b - a, G, (<const double*> Q_i) + a, dai,
                                         <const double*> col_j, rows, yj, daj, y, upm, g, i, gn,
                                         in_)
                else:
                    gl_axpy2_nu_d(b - a, G, (<const double*> Q_i) + a, dai,
                                  (<const double*> Q_j) + a, daj, y, upm, g, i, gn, in_)
            elif col_j != NULL:
                i[0] = gl_gather_axpy2_up_d(b - a, G, (<const double*> Q_i) + a, dai,
                                            <const double*> col_j, rows, yj, daj, y, upm, g)
            else:
                i[0] = gl_axpy2_up_d(b - a, G, (<const double*> Q_i) + a, dai,
                                     (<const double*> Q_j) + a, daj, y, upm, g)

    cdef inline void _axpy2_chunk(self, int c, int nth, Py_ssize_t n, const void* Q_i, double dai,
                                  const void* Q_j, const void* col_j, double yj,
                                  double daj) noexcept nogil:
        """Chunk c of nth of _scan_axpy2: its update and its choice of i, in pv*/pi*[c]."""
        cdef Py_ssize_t a = _chunk(n, c, nth), b = _chunk(n, c + 1, nth)
        self._axpy2_range(a, b, Q_i, dai, Q_j, col_j, yj, daj, &self.pv0[c], &self.pi0[c],
                          &self.pv1[c], &self.pi1[c])
        if self.pi0[c] >= 0:
            self.pi0[c] += a
        if self.nu and self.pi1[c] >= 0:
            self.pi1[c] += a

    cdef void _scan_axpy2(self, const void* Q_i, double dai, const void* Q_j,
                          const void* col_j, double yj, double daj) noexcept nogil:
        """G += Q_i dai + Q_j daj on the active set (Q_j gathered from col_j in the pass when
        col_j is not NULL), and in the same pass the next iteration's choice of i over I_up (per
        sign class in nu mode), kept in up_* for _scan_up / _scan_nu."""
        cdef Py_ssize_t n = self.active_size
        cdef int c, nth = self.sc[0].nthreads
        cdef double t0 = _now()
        if not self.scan_par:
            nth = 1
            self._axpy2_chunk(0, 1, n, Q_i, dai, Q_j, col_j, yj, daj)
        else:
            for c in prange(nth, schedule="static", num_threads=nth):
                self._axpy2_chunk(c, nth, n, Q_i, dai, Q_j, col_j, yj, daj)
        # the chunks' choices combined as in _scan_up / _scan_nu
        self.up_g = -INF
        self.up_gn = -INF
        self.up_i = -1
        self.up_in = -1
        for c in range(nth):
            if self.pi0[c] >= 0 and self.pv0[c] >= self.up_g:
                self.up_g = self.pv0[c]
                self.up_i = self.pi0[c]
            if self.nu and self.pi1[c] >= 0 and self.pv1[c] >= self.up_gn:
                self.up_gn = self.pv1[c]
                self.up_in = self.pi1[c]
        self.up_valid = True
        self.scan_time += _now() - t0
        self.scan_entries += n

    cdef void _scan_gather(self, const void* data, void* buf, double yt,
                           Py_ssize_t length) noexcept nogil:
        """Gather mode: buf[j] = yt y[j] data[xrow[j]] for j < length (LIBSVM's SVR_Q buffer)."""
        cdef int c, nth = self.sc[0].nthreads
        cdef double t0 = _now()
        if not self.scan_par:
            self._gather_range(0, length, data, buf, yt)
        else:
            for c in prange(nth, schedule="static", num_threads=nth):
                self._gather_range(_chunk(length, c, nth), _chunk(length, c + 1, nth), data, buf, yt)
        self.scan_time += _now() - t0
        self.scan_entries += length

    cdef inline void _gather_range(self, Py_ssize_t a, Py_ssize_t b, const void* data, void* buf,
                                   double yt) noexcept nogil:
        if self.single:
            gl_gather_f(b - a, <float*> buf + a, <const float*> data, self.xrow + a, self.y + a, yt)
        else:
            gl_gather_d(b - a, <double*> buf + a, <const double*> data, self.xrow + a, self.y + a, yt)

    # ------------------------------------------------------------------ solver pieces
    cdef void _swap_index(self, int i, int j) noexcept nogil:
        cdef double td
        cdef int ti
        cdef char tc
        cdef Py_ssize_t m, ld
        if self.permuted:
            self._cache_swap(i, j)
        else:
            self._buf_forget()
        if self.permuted:
            if self.kd.XT != NULL:
                ld = self.kd.ld
                for m in range(self.kd.d):
                    td = self.kd.XT[m * ld + i]
                    self.kd.XT[m * ld + i] = self.kd.XT[m * ld + j]
                    self.kd.XT[m * ld + j] = td
                td = self.kd.sqv[i]; self.kd.sqv[i] = self.kd.sqv[j]; self.kd.sqv[j] = td
        ti = self.xrow[i]; self.xrow[i] = self.xrow[j]; self.xrow[j] = ti
        ti = self.active_set[i]; self.active_set[i] = self.active_set[j]; self.active_set[j] = ti
        td = self.y[i]; self.y[i] = self.y[j]; self.y[j] = td
        td = self.p[i]; self.p[i] = self.p[j]; self.p[j] = td
        td = self.u[i]; self.u[i] = self.u[j]; self.u[j] = td
        td = self.alpha[i]; self.alpha[i] = self.alpha[j]; self.alpha[j] = td
        td = self.G[i]; self.G[i] = self.G[j]; self.G[j] = td
        td = self.G_bar[i]; self.G_bar[i] = self.G_bar[j]; self.G_bar[j] = td
        td = self.QD[i]; self.QD[i] = self.QD[j]; self.QD[j] = td
        tc = self.status[i]; self.status[i] = self.status[j]; self.status[j] = tc
        td = self.upm[i]; self.upm[i] = self.upm[j]; self.upm[j] = td
        td = self.lowm[i]; self.lowm[i] = self.lowm[j]; self.lowm[j] = td

    cdef int _compute_gbar(self) except -1 nogil:
        """G_bar_t = sum over upper-bounded s of u_s Q_ts (needed once shrinking starts)."""
        cdef int t, k
        cdef const void* Q_t
        for k in range(self.l):
            self.G_bar[k] = 0.0
        for t in range(self.l):
            if self.status[t] == UPPER_BOUND:
                Q_t = self._get_q(t, self.l)
                self._axpy(0, self.l, self.G_bar, self.u[t], Q_t)
        self.gbar_valid = True
        return 0

    cdef int _reconstruct_gradient(self) except -1 nogil:
        """LIBSVM reconstruct_gradient: G of the inactive variables from G_bar and free ones."""
        cdef int i, j, nr_free = 0
        cdef int active_size = self.active_size, l = self.l
        cdef const void* Q_i
        self.up_valid = False
        if active_size == l:
            return 0
        self.n_reconstruct += 1
        for j in range(active_size, l):
            self.G[j] = self.G_bar[j] + self.p[j]
        for j in range(active_size):
            if self.status[j] == FREE:
                nr_free += 1
        if <long long> nr_free * l > 2 * <long long> active_size * (l - active_size):
            for i in range(active_size, l):
                Q_i = self._get_q(i, active_size)
                # LIBSVM's order: each term added to G_i itself (not summed apart first), so
                # that with LIBSVM's start and G_bar the reconstructed gradient is LIBSVM's to
                # the last bit and the iterations after it are LIBSVM's
                for j in range(active_size):
                    if self.status[j] == FREE:
                        self.G[i] += self.alpha[j] * self._qat(Q_i, j)
        else:
            for i in range(active_size):
                if self.status[i] == FREE:
                    Q_i = self._get_q(i, l)
                    self._axpy(active_size, l, self.G, self.alpha[i], Q_i)
        return 0

    cdef inline void _max_violation(self, double* gmax1, double* gmax2) noexcept nogil:
        """Gmax1 = max over I_up of -y G, Gmax2 = max over I_low of y G (active set)."""
        cdef int t
        cdef double g1 = -INF, g2 = -INF, yg
        for t in range(self.active_size):
            yg = self.y[t] * self.G[t]
            if self.y[t] > 0:
                if self.status[t] != UPPER_BOUND and -yg >= g1:
                    g1 = -yg
                if self.status[t] != LOWER_BOUND and yg >= g2:
                    g2 = yg
            else:
                if self.status[t] != LOWER_BOUND and -yg >= g1:
                    g1 = -yg
                if self.status[t] != UPPER_BOUND and yg >= g2:
                    g2 = yg
        gmax1[0] = g1
        gmax2[0] = g2

    cdef inline void _nu_violations(self, double* gmax1, double* gmax2, double* gmax3,
                                    double* gmax4) noexcept nogil:
        """Solver_NU's maxima on the active set: Gmax1 / Gmax2 = max over I_up / I_low of -y G /
        y G among y = +1, Gmax3 / Gmax4 the same among y = -1 (LIBSVM's Gmax3 = max G over I_up,
        Gmax4 = max -G over I_low of that class)."""
        cdef int t
        cdef double g1 = -INF, g2 = -INF, g3 = -INF, g4 = -INF, yg
        for t in range(self.active_size):
            yg = self.y[t] * self.G[t]
            if self.y[t] > 0:
                if self.status[t] != UPPER_BOUND and -yg > g1:
                    g1 = -yg
                if self.status[t] != LOWER_BOUND and yg > g2:
                    g2 = yg
            else:
                if self.status[t] != LOWER_BOUND and -yg > g3:
                    g3 = -yg
                if self.status[t] != UPPER_BOUND and yg > g4:
                    g4 = yg
        gmax1[0] = g1
        gmax2[0] = g2
        gmax3[0] = g3
        gmax4[0] = g4

    cdef double _violation(self) noexcept nogil:
        """The stopping quantity on the active set: m(a) - M(a), or in nu mode the larger of the two
        classes' (LIBSVM's max(Gmaxp + Gmaxp2, Gmaxn + Gmaxn2))."""
        cdef double g1, g2, g3, g4
        if self.nu:
            self._nu_violations(&g1, &g2, &g3, &g4)
            return max(g1 + g2, g3 + g4)
        self._max_violation(&g1, &g2)
        return g1 + g2

    cdef int _select_wss1(self, int* out_i, int* out_j) noexcept nogil:
        """Maximal violating pair."""
        cdef double Gmax1, Gmax2
        cdef int i1 = self._scan_up(&Gmax1)
        cdef int i2 = gl_select_low(self.active_size, self.G, self.y, self.lowm, &Gmax2)
        if i1 == -1 or i2 == -1 or Gmax1 + Gmax2 <= self.tol:
            return 1
        out_i[0] = i1
        out_j[0] = i2
        return 0

    cdef int _select_wss3(self, int* out_i, int* out_j) except -1 nogil:
        """LIBSVM select_working_set (second-order information, WSS3)."""
        cdef double Gmax, Gmax2
        cdef int i, j, b
        cdef const void* Q_i
        cdef const void* col
        i = self._scan_up(&Gmax)
        if i == -1:
            return 1
        if not self.permuted and self._buf_find(i, self.active_size) < 0:
            # gather mode: the column of i gathered by the scan itself
            col = self._kernel_column(self.xrow[i])
            b = self._buf_claim(i, self.active_size)
            j = self._scan_wss3_j(NULL, col, self._buf(b), Gmax, self.QD[i], self.y[i], &Gmax2)
        else:
            Q_i = self._get_q(i, self.active_size)
            j = self._scan_wss3_j(Q_i, NULL, NULL, Gmax, self.QD[i], self.y[i], &Gmax2)
        if Gmax + Gmax2 <= self.tol or j == -1:
            return 1
        out_i[0] = i
        out_j[0] = j
        return 0

    cdef int _select_nu_wss1(self, int* out_i, int* out_j) noexcept nogil:
        """Maximal violating pair within a sign class (nu mode): per class i = argmax over I_up of
        -y G and j = argmax over I_low of y G, the pair of the class with the larger violation."""
        cdef double gp, gn, gp2, gn2
        cdef int ip, in_, jp, jn
        self._scan_nu(self.upm, -1.0, &gp, &ip, &gn, &in_)
        self._scan_nu(self.lowm, 1.0, &gp2, &jp, &gn2, &jn)
        if max(gp + gp2, gn + gn2) <= self.tol:
            return 1
        # a class lacking i or j has a violation of -inf, so the chosen one has both
        if gp + gp2 >= gn + gn2:
            out_i[0] = ip
            out_j[0] = jp
        else:
            out_i[0] = in_
            out_j[0] = jn
        return 0

    cdef int _select_nu_wss3(self, int* out_i, int* out_j) except -1 nogil:
        """LIBSVM Solver_NU::select_working_set: i_p and i_n maximize -y G over I_up within each
        class, j the second-order choice over both classes paired with its class's i."""
        cdef double gp, gn, gp2, gn2
        cdef int ip, in_, j, bp, bn
        cdef const void* Q_p
        cdef const void* Q_n
        cdef const void* colp
        cdef const void* coln
        self._scan_nu(self.upm, -1.0, &gp, &ip, &gn, &in_)
        if ip == -1 and in_ == -1:
            return 1
        if (not self.permuted and ip != -1 and in_ != -1
                and self._buf_find(ip, self.active_size) < 0
                and self._buf_find(in_, self.active_size) < 0):
            # gather mode: both columns gathered by the scan itself (the cache keeps the last
            # two kernel columns asked for: at least two full columns fit)
            colp = self._kernel_column(self.xrow[ip])
            coln = self._kernel_column(self.xrow[in_])
            bp = self._buf_claim(ip, self.active_size)
            bn = self._buf_claim(in_, self.active_size)
            j = self._scan_nu_wss3_j(NULL, NULL, colp, coln, self._buf(bp), self._buf(bn), gp, gn,
                                     self.QD[ip], self.QD[in_], &gp2, &gn2)
        else:
            # both columns stay valid: the cache keeps the last two columns asked for (at least
            # two full columns fit), and so do the two gather buffers
            Q_p = self._get_q(ip, self.active_size) if ip != -1 else NULL
            Q_n = self._get_q(in_, self.active_size) if in_ != -1 else NULL
            if Q_p == NULL:
                Q_p = Q_n
            if Q_n == NULL:
                Q_n = Q_p
            j = self._scan_nu_wss3_j(Q_p, Q_n, NULL, NULL, NULL, NULL, gp, gn,
                                     self.QD[ip] if ip != -1 else 0.0,
                                     self.QD[in_] if in_ != -1 else 0.0, &gp2, &gn2)
        if max(gp + gp2, gn + gn2) <= self.tol or j == -1:
            return 1
        out_i[0] = ip if self.y[j] > 0 else in_
        out_j[0] = j
        return 0

    cdef inline int _select(self, int* i, int* j) except -1 nogil:
        if self.nu:
            if self.wss == 3:
                return self._select_nu_wss3(i, j)
            return self._select_nu_wss1(i, j)
        if self.wss == 3:
            return self._select_wss3(i, j)
        return self._select_wss1(i, j)

    cdef inline bint _be_shrunk(self, int i, double Gmax1, double Gmax2) noexcept nogil:
        if self.status[i] == UPPER_BOUND:
            if self.y[i] > 0:
                return -self.G[i] > Gmax1
            return -self.G[i] > Gmax2
        elif self.status[i] == LOWER_BOUND:
            if self.y[i] > 0:
                return self.G[i] > Gmax2
            return self.G[i] > Gmax1
        return False

    cdef inline bint _be_shrunk_nu(self, int i, double Gmax1, double Gmax2, double Gmax3,
                                   double Gmax4) noexcept nogil:
        """LIBSVM Solver_NU::be_shrunk (Gmax3 / Gmax4 as in _nu_violations)."""
        if self.status[i] == UPPER_BOUND:
            if self.y[i] > 0:
                return -self.G[i] > Gmax1
            return -self.G[i] > Gmax4
        elif self.status[i] == LOWER_BOUND:
            if self.y[i] > 0:
                return self.G[i] > Gmax2
            return self.G[i] > Gmax3
        return False

    cdef int _do_shrinking_nu(self) except -1 nogil:
        """LIBSVM Solver_NU::do_shrinking: the unshrink test and the shrinking per sign class."""
        cdef double Gmax1, Gmax2, Gmax3, Gmax4
        cdef int i
        self._nu_violations(&Gmax1, &Gmax2, &Gmax3, &Gmax4)
        if not self.unshrink and max(Gmax1 + Gmax2, Gmax3 + Gmax4) <= self.tol * 10:
            self.unshrink = True
            self._reconstruct_gradient()
            self.active_size = self.l
        i = 0
        while i < self.active_size:
            if self._be_shrunk_nu(i, Gmax1, Gmax2, Gmax3, Gmax4):
                self.active_size -= 1
                while self.active_size > i:
                    if not self._be_shrunk_nu(self.active_size, Gmax1, Gmax2, Gmax3, Gmax4):
                        self._swap_index(i, self.active_size)
                        break
                    self.active_size -= 1
            i += 1
        if self.permuted:
            self._cache_flush_swaps()
        return 0

    cdef int _do_shrinking(self) except -1 nogil:
        """LIBSVM do_shrinking (Solver_NU's in nu mode)."""
        cdef double Gmax1, Gmax2
        cdef int i
        self.up_valid = False
        if not self.gbar_valid:
            self._compute_gbar()
        self.n_shrink_calls += 1
        if self.nu:
            return self._do_shrinking_nu()
        self._max_violation(&Gmax1, &Gmax2)
        if not self.unshrink and Gmax1 + Gmax2 <= self.tol * 10:
            self.unshrink = True
            self._reconstruct_gradient()
            self.active_size = self.l
        i = 0
        while i < self.active_size:
            if self._be_shrunk(i, Gmax1, Gmax2):
                self.active_size -= 1
                while self.active_size > i:
                    if not self._be_shrunk(self.active_size, Gmax1, Gmax2):
                        self._swap_index(i, self.active_size)
                        break
                    self.active_size -= 1
            i += 1
        if self.permuted:
            self._cache_flush_swaps()
        return 0

    cdef int _update_pair(self, int i, int j) except -1 nogil:
        """LIBSVM's analytic two-variable step with per-variable bounds, then G and G_bar."""
        cdef int active_size = self.active_size, l = self.l
        cdef const void* Q_i = self._get_q(i, active_size)
        cdef const void* Q_j = NULL
        cdef const void* col_j = NULL
        cdef double C_i = self.u[i], C_j = self.u[j]
        cdef double* alpha = self.alpha
        cdef double* G = self.G
        cdef double old_ai = alpha[i], old_aj = alpha[j]
        cdef double dai, daj, Qij = self._qat(Q_i, j)
        # gather mode: the column of j is gathered by the update's pass (unless a buffer holds
        # it), which is all that reads it
        if self.permuted or self._buf_find(j, active_size) >= 0:
            Q_j = self._get_q(j, active_size)
        else:
            col_j = self._kernel_column(self.xrow[j])
        cdef double Gi = G[i], Gj = G[j]
        cdef bint ui, uj
        gl_pair_step(self.y[i], self.y[j], self.QD[i], self.QD[j], Qij, Gi, Gj, C_i, C_j,
                     &alpha[i], &alpha[j])

        dai = alpha[i] - old_ai
        daj = alpha[j] - old_aj
        self.obj += (Gi * dai + Gj * daj
                     + 0.5 * (self.QD[i] * dai * dai + self.QD[j] * daj * daj) + Qij * dai * daj)
        ui = self.status[i] == UPPER_BOUND
        uj = self.status[j] == UPPER_BOUND
        self._update_status(i)
        self._update_status(j)
        # (the statuses first: the pass makes the next choice of i with them)
        self._scan_axpy2(Q_i, dai, Q_j, col_j, self.y[j], daj)
        if self.gbar_valid:
            if ui != (self.status[i] == UPPER_BOUND):
                Q_i = self._get_q(i, l)
                self._axpy(0, l, self.G_bar, -C_i if ui else C_i, Q_i)
            if uj != (self.status[j] == UPPER_BOUND):
                Q_j = self._get_q(j, l)
                self._axpy(0, l, self.G_bar, -C_j if uj else C_j, Q_j)
        return 0

    cdef int _run(self, long long steps) except -1 nogil:
        cdef long long done = 0
        cdef int i = 0, j = 0
        while done < steps:
            self.counter -= 1
            if self.counter == 0:
                self.counter = self.shrink_period
                if self.shrinking:
                    self._do_shrinking()
            self._scan_begin()
            if self._select(&i, &j) != 0:
                self._scan_end()
                self._reconstruct_gradient()
                self.active_size = self.l
                self._scan_begin()
                if self._select(&i, &j) != 0:
                    self._scan_end()
                    return CONVERGED
                self.counter = 1   # do shrinking next iteration
            if self.iter >= self.max_iter:   # (checked after the optimality test)
                self._scan_end()
                return MAX_ITER
            self.iter += 1
            done += 1
            self._update_pair(i, j)
            self._scan_end()
        return RUNNING

    cdef int _exact_gradient(self, bint threads=False) except -1 nogil:
        """G = p + Q alpha and G_bar = sum over upper-bounded s of u_s Q_s, on all l positions,
        in double precision from the kernel, without the cache (the budget holds, and each
        support vector's kernel values are needed once).

        With c_s = y_s alpha_s, G_t = p_t + y_t (A_z + B_z) and G_bar_t = y_t B_z, where z is the
        column of XT of variable t (its position, or its data row in gather mode) and
        A_z = sum over free s of c_s K(x_s, z), B_z = the same over upper-bounded s. A and B are
        computed in blocks of GL_BLOCK columns, one parallel region with dynamic scheduling (a
        descheduled thread delays the end by one block at most), each block's sums in the order
        of the support vectors whatever thread computes it: results do not depend on n_threads.
        ``threads``: use the engine's threads even before columns were timed (the warm start's
        pass, where blocks of n_SV kernel values per entry keep both threads busy).
        """
        cdef int t, e, ne = 0, l = self.l, nth
        cdef Py_ssize_t ld, j, b, nblk, j0, j1
        cdef ThreadCtl* cl
        cdef int* rows = NULL
        cdef double* cf = NULL
        cdef double* cu = NULL
        cdef double* A = NULL
        cdef double* B = NULL
        cdef double* tmp = NULL
        cdef double* tb
        cdef double* row_cf = NULL
        cdef double* row_cu = NULL
        cdef const double* grow
        cdef double v
        cdef int z
        ld = self.kd.ld if self.kd.kind != K_PRECOMPUTED else (l if self.permuted else self.n)
        nth = self.tc[0].nthreads if self.kd.kind != K_PRECOMPUTED else 1
        rows = <int*> malloc(max(l, 1) * sizeof(int))
        cf = <double*> malloc(max(l, 1) * sizeof(double))
        cu = <double*> malloc(max(l, 1) * sizeof(double))
        A = <double*> calloc(max(ld, 1), sizeof(double))
        B = <double*> calloc(max(ld, 1), sizeof(double))
        tmp = <double*> malloc(max(ld, 1) * nth * sizeof(double))
        if not self.permuted:
            row_cf = <double*> calloc(max(self.n, 1), sizeof(double))
            row_cu = <double*> calloc(max(self.n, 1), sizeof(double))
        if (rows == NULL or cf == NULL or cu == NULL or A == NULL or B == NULL or tmp == NULL
                or (not self.permuted and (row_cf == NULL or row_cu == NULL))):
            free(rows); free(cf); free(cu); free(A); free(B); free(tmp); free(row_cf); free(row_cu)
            with gil:
                raise MemoryError()
        # the support vectors' data rows and coefficients in the order of the data rows, so that
        # the sums, hence the results, are the same in both cache modes (gather mode: per data
        # row, the two variables of an SVR row summed)
        if self.permuted:
            # rows first holds the inverse of the permutation xrow; entry ne <= z is overwritten
            # by the data row z of the ne-th support vector after rows[z] has been read
            for t in range(l):
                rows[self.xrow[t]] = t
            for z in range(l):
                t = rows[z]
                if self.alpha[t] > 0.0:
                    rows[ne] = z
                    if self.status[t] == UPPER_BOUND:
                        cf[ne] = 0.0
                        cu[ne] = self.y[t] * self.u[t]
                    else:
                        cf[ne] = self.y[t] * self.alpha[t]
                        cu[ne] = 0.0
                    ne += 1
        else:
            for t in range(l):
                if self.alpha[t] > 0.0:
                    if self.status[t] == UPPER_BOUND:
                        row_cu[self.xrow[t]] += self.y[t] * self.u[t]
                    else:
                        row_cf[self.xrow[t]] += self.y[t] * self.alpha[t]
            for t in range(self.n):
                if row_cf[t] != 0.0 or row_cu[t] != 0.0:
                    rows[ne] = t
                    cf[ne] = row_cf[t]
                    cu[ne] = row_cu[t]
                    ne += 1
        if self.kd.kind == K_PRECOMPUTED:
            for e in range(ne):
                grow = self.kd.X + <Py_ssize_t> rows[e] * self.n
                for j in range(ld):
                    v = grow[self.xrow[j]] if self.permuted else grow[j]
                    A[j] += cf[e] * v
                    B[j] += cu[e] * v
        else:
            # A long pass (at least EXACT_PAR_MIN kernel values) always uses the threads: its
            # blocks are scheduled dynamically, so a descheduled worker delays its end by one
            # block at most. A shorter one only when parallel columns were measured to be
            # faster (adaptive off: always, tests).
            cl = self._col_ctl(ld)
            if (not threads and cl.adaptive and <double> ne * ld < EXACT_PAR_MIN
                    and not (cl.par and cl.ns_par >= 0 and cl.ns_ser >= 0)):
                nth = 1
            nblk = (ld + GL_BLOCK - 1) // GL_BLOCK
            if self.kd.sparse:
                self._grad_pass_sparse(rows, cf, cu, ne, A, B, tmp, nth)
            else:
                if nth == 1:
                    for b in range(nblk):
                        gl_kgrad(self.kd.kind, self.kd.d, self.kd.gamma, self.kd.coef0,
                                 self.kd.degree, self.kd.X, self.kd.sq, rows, cf, cu, ne, self.kd.XT,
                                 ld, self.kd.sqv, b * GL_BLOCK, min((b + 1) * GL_BLOCK, ld), A, B, tmp)
                else:
                    for b in prange(nblk, schedule="dynamic", num_threads=nth):
                        j0 = b * GL_BLOCK
                        j1 = min(j0 + GL_BLOCK, ld)
                        tb = tmp + gl_omp_thread_num() * ld
                        gl_kgrad(self.kd.kind, self.kd.d, self.kd.gamma, self.kd.coef0,
                                 self.kd.degree, self.kd.X, self.kd.sq, rows, cf, cu, ne, self.kd.XT,
                                 ld, self.kd.sqv, j0, j1, A, B, tb)
        self.kernel_evals += <long long> ne * ld
        for t in range(l):
            z = t if self.permuted else self.xrow[t]
            self.G_bar[t] = self.y[t] * B[z]
            self.G[t] = self.p[t] + self.y[t] * (A[z] + B[z])
        free(rows); free(cf); free(cu); free(A); free(B); free(tmp); free(row_cf); free(row_cu)
        return 0

    cdef bint _columns_pass(self, const int* rows, Py_ssize_t ne, Py_ssize_t ld) noexcept nogil:
        """Whether the sparse gradient pass over the ne support vectors rows[.] is cheaper
        through the compressed columns (as _columns_pay decides for one column)."""
        cdef Py_ssize_t e
        cdef double work = 0.0
        if self.kd.dots != NULL and not self.kd.csc_always:
            for e in range(ne):
                work += self.kd.csc_work[rows[e]]
        return _columns_cheaper(&self.kd, work, <double> ne, <double> ld)

    cdef int _grad_pass_sparse(self, const int* rows, const double* cf, const double* cu,
                               Py_ssize_t ne, double* A, double* B, double* tb,
                               int nth) except -1 nogil:
        """The exact gradient pass over sparse data: A and B (by position) summed by data row,
        in chunks of whole GL_BLOCK rows on the threads, through the compressed columns
        (gl_kgrad_csc) where that is cheaper, else from the rows (gl_kgrad_csr). Both add the
        same terms in the same order with the same loops over the same blocks of data rows,
        so neither the method nor the threads change a bit of the result. tb: scratch of at
        least n values (indexed by data row, each chunk its own rows)."""
        cdef Py_ssize_t n = self.n, c, nchunk, j, nblk = (self.n + GL_BLOCK - 1) // GL_BLOCK
        cdef bint by_row = not self.permuted    # gather mode: A and B are already by data row
        cdef bint columns = self._columns_pass(rows, ne, n)
        cdef double* Ar = A if by_row else <double*> calloc(max(n, 1), sizeof(double))
        cdef double* Br = B if by_row else <double*> calloc(max(n, 1), sizeof(double))
        if Ar == NULL or Br == NULL:
            if not by_row:
                free(Ar); free(Br)
            with gil:
                raise MemoryError()
        # the columns' chunks: a few per thread, as each searches every column it reads for
        # its first row; the rows': one block each. Dynamic: a descheduled worker delays the
        # end by one chunk at most.
        nchunk = (min(4 * nth, nblk) if nth > 1 else 1) if columns else nblk
        if nth == 1:
            for c in range(nchunk):
                self._grad_chunk(columns, rows, cf, cu, ne, (nblk * c) // nchunk * GL_BLOCK,
                                 min((nblk * (c + 1)) // nchunk * GL_BLOCK, n), Ar, Br, tb, 0)
        else:
            for c in prange(nchunk, schedule="dynamic", num_threads=nth):
                self._grad_chunk(columns, rows, cf, cu, ne, (nblk * c) // nchunk * GL_BLOCK,
                                 min((nblk * (c + 1)) // nchunk * GL_BLOCK, n), Ar, Br, tb,
                                 gl_omp_thread_num())
        if not by_row:
            for j in range(n):
                A[j] = Ar[self.xrow[j]]
                B[j] = Br[self.xrow[j]]
            free(Ar); free(Br)
        return 0

    cdef void _grad_chunk(self, bint columns, const int* rows, const double* cf, const double* cu,
                          Py_ssize_t ne, Py_ssize_t lo, Py_ssize_t hi, double* Ar, double* Br,
                          double* tb, int thread) noexcept nogil:
        """The data rows [lo, hi) of _grad_pass_sparse (tb: scratch by data row)."""
        if columns:
            gl_kgrad_csc(self.kd.kind, self.kd.d, self.kd.gamma, self.kd.coef0, self.kd.degree,
                         self.kd.sp_data, self.kd.sp_ind, self.kd.sp_ptr, self.kd.sq, rows, cf, cu,
                         ne, self.kd.csc_ptr, self.kd.csc_row, self.kd.csc_val, self.kd.csc_dense,
                         self.kd.dense, self.n, lo, hi, Ar, Br, self.kd.dots, tb)
        else:
            gl_kgrad_csr(self.kd.kind, self.kd.d, self.kd.gamma, self.kd.coef0, self.kd.degree,
                         self.kd.sp_data, self.kd.sp_ind, self.kd.sp_ptr, self.kd.sq, rows, cf, cu,
                         ne, NULL, lo, hi, Ar, Br, tb,
                         self.kd.wbuf + thread * self.kd.d if self.kd.wbuf != NULL else NULL)

    def to_double(self):
        """Leave single precision: recompute the gradient exactly and continue in double precision.

        The float cache is dropped and the gradient (and G_bar) recomputed in double precision
        for the current a. The single-precision phase has solved the problem with the rounded Q, whose gradient is
        off from the exact one by up to about 6e-8 * sum(a) * max|Q|; the next ``run`` goes on
        from the exact gradient with double-precision columns until the stopping rule holds for
        the exact Q (usually at once). Returns the violation m(a) - M(a) of the exact gradient
        (nu mode: the larger of the two classes').
        """
        self.up_valid = False
        if self.single:
            self.iter_single = self.iter
            with nogil:
                self._cache_clear()
            self.single = False
            self.c_free = self._budget()
            self.c_total = self.c_free
            with nogil:
                self._exact_gradient()
            self.gbar_valid = True
            self.active_size = self.l
            self.finished = False
            self._set_objective()
        return float(self._violation())

    # ------------------------------------------------------------------ Python API
    def run(self, long long steps):
        """Do at most ``steps`` iterations.

        Parameters
        ----------
        steps : int
            Iteration budget of this call.

        Returns
        -------
        str
            "running", "optimal" or "max_iter".
        """
        cdef int code
        if self.finished:
            return "optimal"
        with nogil:
            code = self._run(steps)
        if code == CONVERGED:
            self.finished = True
        return RUN_CODES[code]

    def progress(self):
        """Iteration, violation on the active set, dual objective (maximization form), active size.

        The violation is the stopping rule's quantity: m(a) - M(a), or in nu mode the larger of the
        two sign classes' m(a) - M(a).
        """
        return {"iteration": int(self.iter), "violation": float(self._violation()),
                "objective": float(-self.obj), "active_size": int(self.active_size)}

    cdef double _calculate_rho(self) noexcept nogil:
        """LIBSVM Solver::calculate_rho over all l variables: the mean of y G over the free
        variables, else the midpoint of the bounds the others give."""
        cdef int t, nr_free = 0
        cdef double ub = INF, lb = -INF, sum_free = 0.0, yG
        for t in range(self.l):
            yG = self.y[t] * self.G[t]
            if self.status[t] == UPPER_BOUND:
                if self.y[t] < 0:
                    ub = min(ub, yG)
                else:
                    lb = max(lb, yG)
            elif self.status[t] == LOWER_BOUND:
                if self.y[t] > 0:
                    ub = min(ub, yG)
                else:
                    lb = max(lb, yG)
            else:
                nr_free += 1
                sum_free += yG
        return sum_free / nr_free if nr_free > 0 else (ub + lb) / 2

    cdef double _calculate_rho_nu(self, double* r_out) noexcept nogil:
        """LIBSVM Solver_NU::calculate_rho over all l variables: r1 (r2) the mean of G over the
        free variables with y = +1 (-1), else the midpoint of the bounds the others of the class
        give; returns rho = (r1 - r2) / 2 and sets r = (r1 + r2) / 2."""
        cdef int t, nr_free1 = 0, nr_free2 = 0
        cdef double ub1 = INF, ub2 = INF, lb1 = -INF, lb2 = -INF
        cdef double sum_free1 = 0.0, sum_free2 = 0.0, r1, r2
        for t in range(self.l):
            if self.y[t] > 0:
                if self.status[t] == UPPER_BOUND:
                    lb1 = max(lb1, self.G[t])
                elif self.status[t] == LOWER_BOUND:
                    ub1 = min(ub1, self.G[t])
                else:
                    nr_free1 += 1
                    sum_free1 += self.G[t]
            else:
                if self.status[t] == UPPER_BOUND:
                    lb2 = max(lb2, self.G[t])
                elif self.status[t] == LOWER_BOUND:
                    ub2 = min(ub2, self.G[t])
                else:
                    nr_free2 += 1
                    sum_free2 += self.G[t]
        r1 = sum_free1 / nr_free1 if nr_free1 > 0 else (ub1 + lb1) / 2
        r2 = sum_free2 / nr_free2 if nr_free2 > 0 else (ub2 + lb2) / 2
        r_out[0] = (r1 + r2) / 2
        return (r1 - r2) / 2

    def finish(self):
        """Reconstruct the full gradient and return the solution in the original variable order.

        Returns a dict: a, grad, rho, r, violation, obj (0.5 a^T Q a + p^T a), n_iter, and
        counters. rho is LIBSVM's bias term (C-SVC, epsilon-SVR: b = -rho). In nu mode
        rho = (r1 - r2) / 2 and r = (r1 + r2) / 2 from the two sign classes (LIBSVM's Solver_NU;
        nu-SVC's answer is then rescaled, coef = y a / r and b = -rho / r, nu-SVR's b = -rho and
        its tube half-width epsilon = -r); without nu, r is NaN. The violation is the stopping
        rule's quantity (:meth:`progress`).
        """
        cdef int t
        cdef double rho, r = NAN, viol, v = 0.0
        cdef double[::1] av
        cdef double[::1] gv
        with nogil:
            self._reconstruct_gradient()
        self.active_size = self.l
        if self.nu:
            rho = self._calculate_rho_nu(&r)
        else:
            rho = self._calculate_rho()
        viol = self._violation()
        a = np.empty(self.l)
        grad = np.empty(self.l)
        av = a
        gv = grad
        for t in range(self.l):
            av[self.active_set[t]] = self.alpha[t]
            gv[self.active_set[t]] = self.G[t]
            v += self.alpha[t] * (self.G[t] + self.p[t])
        return {"a": a, "grad": grad, "rho": float(rho), "r": float(r),
                "violation": float(max(viol, 0.0)),
                "obj": 0.5 * v, "n_iter": int(self.iter), "kernel_evals": int(self.kernel_evals),
                "n_shrink": int(self.n_shrink_calls), "n_reconstruct": int(self.n_reconstruct),
                "cache_mode": "permuted" if self.permuted else "gather",
                "parallel_columns": sum(int(self.tc[c].n_par) for c in range(N_SIZE_CLASSES)),
                "serial_columns": sum(int(self.tc[c].n_ser) for c in range(N_SIZE_CLASSES)),
                "parallel_scans": sum(int(self.sc[c].n_par) for c in range(N_SIZE_CLASSES)),
                "serial_scans": sum(int(self.sc[c].n_ser) for c in range(N_SIZE_CLASSES)),
                "n_iter_single": int(self.iter if self.single else max(self.iter_single, 0)),
                "precision": "single" if self.single else "double",
                "cache_peak_bytes": float(self.c_peak)}

    @property
    def n_iter(self):
        return int(self.iter)
