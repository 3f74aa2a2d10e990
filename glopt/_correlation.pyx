# cython: language_level=3
"""Fused, OpenMP-parallel products with a correlation matrix S computed on the fly.

``S[:, cols] @ V`` without materializing any block of S: each entry is computed from the
inputs (squared norms + one dot product), passed through the correlation kernel and accumulated
at once, so memory traffic is O(n d) instead of O(n^2). Used by glopt.kernels.Correlation.

Layout (why it is fast): the columns are processed in blocks of GLC_BLOCK with the column points
stored transposed (d x k), so the dot products, the exponential (a branch-free polynomial, not
libm's scalar exp) and the accumulation all run over contiguous arrays the compiler vectorizes
(AVX-512 and AVX2 clones are built next to the generic one and chosen at run time; on the
benchmark machine the AVX-512 clone of the exp loop ran 3x faster than the AVX2 one). S is symmetric: among the column points
themselves each entry is computed once and used for both S_ij V_j and S_ji V_i (the second goes
to a per-thread buffer, summed in thread order after the loop: the result is deterministic for a
given thread count and agrees across thread counts to rounding).
"""
from cython.parallel cimport prange, threadid
from libc.stdlib cimport malloc, free

# OpenMP where the build has it; without, one thread and prange's loops serial
cdef extern from "_openmp.h":
    int gl_omp_max_threads() noexcept nogil

cdef extern from *:
    """
    #include <math.h>
    #include <stdint.h>
    #include <string.h>
    #define GLC_BLOCK 64

    #include "_fastexp.h"

    /* S values s[t] = S(d2[t]) in place, for the kernels with an exp form (G, Matern);
       kind 1 (rational quadratic) calls libm's pow. */
    static inline void glc_svalues(int kind, double gamma, double alpha, double* s, Py_ssize_t len) {
        Py_ssize_t t;
        double r;
        if (kind == 0) {
            for (t = 0; t < len; t++) s[t] = gl_exp_neg(-gamma * s[t]);
        } else if (kind == 1) {
            for (t = 0; t < len; t++) s[t] = pow(1.0 + (gamma / alpha) * s[t], -alpha);
        } else if (kind == 2) {
            for (t = 0; t < len; t++) s[t] = gl_exp_neg(-sqrt(2.0 * gamma * s[t]));
        } else if (kind == 3) {
            for (t = 0; t < len; t++) {
                r = 1.7320508075688772 * sqrt(2.0 * gamma * s[t]);
                s[t] = (1.0 + r) * gl_exp_neg(-r);
            }
        } else {
            for (t = 0; t < len; t++) {
                r = 2.23606797749979 * sqrt(2.0 * gamma * s[t]);
                s[t] = (1.0 + r + r * r / 3.0) * gl_exp_neg(-r);
            }
        }
    }

    /* One row x (squared norm sq) against the column points j in [j0, j1) (XT: d x ld, column
       j of point j, squared norms sqc): part[q * GLC_BLOCK + t] += S(x, z_j) VT[q, j] (lane
       partial sums, reduced by the caller: no reduction dependence, so the loop vectorizes), and,
       when scat is not NULL, scat[q * ld + j] += S(x, z_j) v[q] (the symmetric use of the same
       entry). */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    __attribute__((target_clones("avx512f", "avx2", "default")))
    #endif
    static void glc_row(int kind, double gamma, double alpha, Py_ssize_t d, const double* x, double sq,
                        const double* XT, Py_ssize_t ld, const double* sqc, Py_ssize_t j0, Py_ssize_t j1,
                        const double* VT, Py_ssize_t c, double* part, const double* v, double* scat) {
        double s[GLC_BLOCK];
        Py_ssize_t jb, len, t, m, q;
        for (jb = j0; jb < j1; jb += GLC_BLOCK) {
            len = j1 - jb < GLC_BLOCK ? j1 - jb : GLC_BLOCK;
            for (t = 0; t < len; t++) s[t] = 0.0;
            for (m = 0; m < d; m++) {
                const double xm = x[m];
                const double* col = XT + m * ld + jb;
                for (t = 0; t < len; t++) s[t] += xm * col[t];
            }
            for (t = 0; t < len; t++) s[t] = gl_d2(sq, sqc[jb + t], s[t], GL_D2_FLOOR(d));
            glc_svalues(kind, gamma, alpha, s, len);
            for (q = 0; q < c; q++) {
                const double* vq = VT + q * ld + jb;
                double* pq = part + q * GLC_BLOCK;
                for (t = 0; t < len; t++) pq[t] += s[t] * vq[t];
            }
            if (scat != NULL) {
                for (q = 0; q < c; q++) {
                    const double vi = v[q];
                    double* sq_ = scat + q * ld + jb;
                    for (t = 0; t < len; t++) sq_[t] += s[t] * vi;
                }
            }
        }
    }

    /* Gaussian rows (kind 0), c <= 2 vectors: out[i * c + q] = sum_e exp(-gamma |xr_i - xc_e|^2)
       V[e * c + q] for the 32 rows i in [i0, i0 + 32), 8 at a time by gl_gauss_sums8x4
       (glopt/_fastexp.h).
       XrT: d x ld, column i = row i; Xc: k x d row-major. */
    #ifdef GL_HAVE_V8
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    __attribute__((target_clones("avx512f", "avx2", "default")))
    #endif
    static void glc_rows32_g(double gamma, Py_ssize_t d, const double* XrT, Py_ssize_t ld,
                             const double* sq_r, Py_ssize_t i0, const double* Xc,
                             const double* sq_c, Py_ssize_t k, const double* V, Py_ssize_t c,
                             double* out) {
        double s0[32] = {0.0}, s1[32] = {0.0};
        Py_ssize_t t;
        for (t = 0; t < 32; t += 8)
            gl_gauss_sums8x4(gamma, d, XrT, ld, i0 + t, sq_r, Xc, NULL, sq_c, k, V,
                             c == 2 ? V + 1 : NULL, c, s0 + t, s1 + t);
        for (t = 0; t < 32; t++) {
            out[(i0 + t) * c] = s0[t];
            if (c == 2) out[(i0 + t) * c + 1] = s1[t];
        }
    }
    #define GLC_ROWS32 1
    #else
    static void glc_rows32_g(double gamma, Py_ssize_t d, const double* XrT, Py_ssize_t ld,
                             const double* sq_r, Py_ssize_t i0, const double* Xc,
                             const double* sq_c, Py_ssize_t k, const double* V, Py_ssize_t c,
                             double* out) {}
    #define GLC_ROWS32 0
    #endif

    /* out[q] = sum of the lane partial sums (fixed order), which are then cleared. */
    static inline void glc_reduce(double* part, Py_ssize_t c, double* out) {
        Py_ssize_t q, t;
        for (q = 0; q < c; q++) {
            double acc = 0.0;
            for (t = 0; t < GLC_BLOCK; t++) { acc += part[q * GLC_BLOCK + t]; part[q * GLC_BLOCK + t] = 0.0; }
            out[q] = acc;
        }
    }
    """
    enum: GLC_BLOCK
    double gl_exp_neg(double x) noexcept nogil
    void glc_row(int kind, double gamma, double alpha, Py_ssize_t d, const double* x, double sq,
                 const double* XT, Py_ssize_t ld, const double* sqc, Py_ssize_t j0, Py_ssize_t j1,
                 const double* VT, Py_ssize_t c, double* part, const double* v, double* scat) noexcept nogil
    void glc_reduce(double* part, Py_ssize_t c, double* out) noexcept nogil
    void glc_rows32_g(double gamma, Py_ssize_t d, const double* XrT, Py_ssize_t ld,
                      const double* sq_r, Py_ssize_t i0, const double* Xc, const double* sq_c,
                      Py_ssize_t k, const double* V, Py_ssize_t c, double* out) noexcept nogil
    bint GLC_ROWS32


def openmp_max_threads():
    return gl_omp_max_threads()


def exp_neg(const double[::1] x, double[::1] out):
    """out = exp(x) by the kernel's polynomial exp (x <= 0), for tests of its accuracy."""
    cdef Py_ssize_t i
    for i in range(x.shape[0]):
        out[i] = gl_exp_neg(x[i])


def s_matmul(const double[:, ::1] Xc, const double[:, ::1] XcT, const double[::1] sq_c,
             const double[:, ::1] V, const double[:, ::1] VT, const double[:, ::1] Xr,
             const double[:, ::1] XrT, const double[::1] sq_r, double[:, ::1] out_c,
             double[:, ::1] out_r, int kind, double gamma, double alpha, int n_threads):
    """S products over one set of column points (S_ii = 1, S symmetric):

    out_c[i, q] = VT[q, i] + sum_{j != i} S(xc_i, xc_j) VT[q, j]   (the column points' own rows)
    out_r[i, q] = sum_j S(xr_i, xc_j) VT[q, j]                      (the other rows)

    Xc (k, d) and XcT (d, k) are the column points and their transpose, V (k, c) the vectors and
    VT (c, k) their transpose, Xr (m, d) and XrT (d, m) the other rows. Gaussian S with c <= 2
    (MM's products, the RBF kernel's): the other rows 32 at a time by glc_rows32_g (an MM
    product on magic 0.36 -> 0.28 s).
    """
    cdef Py_ssize_t k = Xc.shape[0], m = Xr.shape[0], d = Xc.shape[1], c = VT.shape[0]
    cdef Py_ssize_t i, q, t, tid, nt, b, nb32 = 0
    cdef double* part_all
    cdef double* scat_all
    if k == 0:
        return
    nt = max(1, n_threads)
    # per thread: the lane partial sums (c * GLC_BLOCK) and the buffer of the symmetric half
    # (S_ji V_i of the triangle, c * k)
    part_all = <double*> malloc(nt * c * GLC_BLOCK * sizeof(double))
    scat_all = <double*> malloc(nt * c * k * sizeof(double))
    if part_all == NULL or scat_all == NULL:
        free(part_all)
        free(scat_all)
        raise MemoryError()
    for i in range(nt * c * GLC_BLOCK):
        part_all[i] = 0.0
    for i in range(nt * c * k):
        scat_all[i] = 0.0
    try:
        with nogil:
            # the triangle j < i of the column points: chunks of 8 rows dealt cyclically, which
            # balances the growing row lengths between the threads
            for i in prange(k, schedule="static", chunksize=8, num_threads=nt):
                tid = threadid()
                glc_row(kind, gamma, alpha, d, &Xc[i, 0], sq_c[i], &XcT[0, 0], k, &sq_c[0], 0, i,
                        &VT[0, 0], c, part_all + tid * c * GLC_BLOCK, &V[i, 0], scat_all + tid * c * k)
                glc_reduce(part_all + tid * c * GLC_BLOCK, c, &out_c[i, 0])
            if GLC_ROWS32 and kind == 0 and c <= 2:
                nb32 = m // 32
            if nb32 > 0:
                for b in prange(nb32, schedule="static", num_threads=nt):
                    glc_rows32_g(gamma, d, &XrT[0, 0], m, &sq_r[0], b * 32, &Xc[0, 0], &sq_c[0], k,
                                 &V[0, 0], c, &out_r[0, 0])
            for i in prange(nb32 * 32, m, schedule="static", num_threads=nt):
                tid = threadid()
                glc_row(kind, gamma, alpha, d, &Xr[i, 0], sq_r[i], &XcT[0, 0], k, &sq_c[0], 0, k,
                        &VT[0, 0], c, part_all + tid * c * GLC_BLOCK, NULL, NULL)
                glc_reduce(part_all + tid * c * GLC_BLOCK, c, &out_r[i, 0])
            for i in range(k):
                for q in range(c):
                    out_c[i, q] += VT[q, i]
                    for tid in range(nt):
                        out_c[i, q] += scat_all[tid * c * k + q * k + i]
    finally:
        free(part_all)
        free(scat_all)
