/* Kernel values and kernel columns of the SMO engine (glopt/smo/_solver.pyx): a kernel value
   from an inner product, the blocked columns (and their single-precision rounding), the blocked
   gradient pass over the support vectors and the vector exps it uses; the same columns and
   gradient pass for data in compressed sparse rows (CSR). */
#ifndef GLOPT_SMO_KERNEL_COLUMNS_H
#define GLOPT_SMO_KERNEL_COLUMNS_H
#include <Python.h>   /* Py_ssize_t */
#include <stdint.h>
#include <string.h>
#include <math.h>

#define GL_K_LINEAR 0
#define GL_K_RBF 1
#define GL_K_POLY 2
#define GL_K_PRECOMPUTED 3
#define GL_K_SIGMOID 4
#define GL_BLOCK 256

/* Let gcc if-convert (and so vectorize) the selects of the loops below; this changes no
   arithmetic result. No fused multiply-add (the avx512f clone would contract): a kernel
   value must not depend on whether a vector body or a remainder loop computed it. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math", "fp-contract=off")
#endif

#include "_fastexp.h"  /* gl_exp_neg (glopt/_fastexp.h) */

static inline double gl_powi(double base, int times) {
    double tmp = base, ret = 1.0;
    int t;
    for (t = times; t > 0; t /= 2) {
        if (t % 2 == 1) ret *= tmp;
        tmp = tmp * tmp;
    }
    return ret;
}

/* Kernel value from the inner product (and squared norms for rbf). */
static inline double gl_from_dot(int kind, double dot, double sqa, double sqb,
                                 double gamma, double coef0, int degree, Py_ssize_t d) {
    if (kind == GL_K_RBF) return gl_exp_neg(-gamma * gl_d2(sqa, sqb, dot, GL_D2_FLOOR(d)));
    if (kind == GL_K_LINEAR) return dot;
    if (kind == GL_K_SIGMOID) return tanh(gamma * dot + coef0);
    return gl_powi(gamma * dot + coef0, degree);
}

/* Sequential inner product: the same summation order as the blocked version below. */
static inline double gl_dot_seq(const double* a, const double* b, Py_ssize_t d) {
    double s = 0.0;
    Py_ssize_t m;
    for (m = 0; m < d; m++) s += a[m] * b[m];
    return s;
}

/* The kernel of a block of len inner products acc[t] = <x_r, z_t> (sqr = |x_r|^2, sq[t] =
   |z_t|^2), in place, then out[t] = (yr * ys[t]) * acc[t] (or outf[t], rounded to float, when
   outf is not NULL; ys NULL: no signs). Shared by the dense and the sparse columns, so that
   equal inner products give equal kernel values whichever data layout produced them. */
static inline __attribute__((always_inline)) void gl_kfinish(
        int kind, Py_ssize_t d, double gamma, double coef0, int degree, double sqr,
        const double* sq, const double* ys, double yr, Py_ssize_t len, double* acc,
        double* out, float* outf) {
    Py_ssize_t t;
    if (kind == GL_K_RBF) {
        const double fl = GL_D2_FLOOR(d);
        for (t = 0; t < len; t++) acc[t] = gl_exp_neg(-gamma * gl_d2(sqr, sq[t], acc[t], fl));
    } else if (kind == GL_K_POLY) {
        for (t = 0; t < len; t++) acc[t] = gl_powi(gamma * acc[t] + coef0, degree);
    } else if (kind == GL_K_SIGMOID) {
        /* libm's tanh, as LIBSVM: one call per entry whatever the clone, so a value does
           not depend on the block it falls in */
        for (t = 0; t < len; t++) acc[t] = tanh(gamma * acc[t] + coef0);
    }
    if (outf != NULL) {           /* single-precision column: round the double value */
        if (ys != NULL) {
            for (t = 0; t < len; t++) outf[t] = (float) ((yr * ys[t]) * acc[t]);
        } else {
            for (t = 0; t < len; t++) outf[t] = (float) acc[t];
        }
    } else if (ys != NULL) {
        for (t = 0; t < len; t++) out[t] = (yr * ys[t]) * acc[t];
    } else {
        for (t = 0; t < len; t++) out[t] = acc[t];
    }
}

/* out[j] = (yr * yv[j]) * K(x_r, z_j) for j in [j0, j1) (or outf[j], rounded to float, when
   outf is not NULL), with z_j the j-th column of the
   column-major XT (leading dimension ld) and sqv[j] its squared norm; yv may be NULL (no
   signs). Every entry is computed with the same operations whatever the block boundaries
   (no fused multiply-add in either clone), so the result does not depend on how [j0, j1)
   is split between threads. Not for precomputed kernels. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void gl_kblock(int kind, Py_ssize_t d, double gamma, double coef0, int degree,
                      const double* xr, double sqr, const double* XT, Py_ssize_t ld,
                      const double* sqv, const double* yv, double yr,
                      Py_ssize_t j0, Py_ssize_t j1, double* out, float* outf) {
    double acc[GL_BLOCK];
    Py_ssize_t jb, je, len, t, m;
    for (jb = j0; jb < j1; jb += GL_BLOCK) {
        je = jb + GL_BLOCK < j1 ? jb + GL_BLOCK : j1;
        len = je - jb;
        t = 0;
#ifdef GL_HAVE_V8
        /* 32 inner products at a time in registers (a sweep of acc per feature would load and
           store it d times); each is 0 + x_0 z_0 + x_1 z_1 + ... in order, as below */
        for (; t + 32 <= len; t += 32) {
            const gl_v8d zero = {0.0};
            gl_v8d a0 = zero, a1 = zero, a2 = zero, a3 = zero, z;
            for (m = 0; m < d; m++) {
                const double xm = xr[m];
                const double* col = XT + m * ld + jb + t;
                memcpy(&z, col, sizeof(z));
                a0 = a0 + xm * z;
                memcpy(&z, col + 8, sizeof(z));
                a1 = a1 + xm * z;
                memcpy(&z, col + 16, sizeof(z));
                a2 = a2 + xm * z;
                memcpy(&z, col + 24, sizeof(z));
                a3 = a3 + xm * z;
            }
            memcpy(acc + t, &a0, sizeof(a0));
            memcpy(acc + t + 8, &a1, sizeof(a1));
            memcpy(acc + t + 16, &a2, sizeof(a2));
            memcpy(acc + t + 24, &a3, sizeof(a3));
        }
#endif
        for (m = t; m < len; m++) acc[m] = 0.0;
        for (m = 0; m < d; m++) {
            const double xm = xr[m];
            const double* col = XT + m * ld + jb;
            Py_ssize_t u;
            for (u = t; u < len; u++) acc[u] += xm * col[u];
        }
        gl_kfinish(kind, d, gamma, coef0, degree, sqr, sqv + jb, yv != NULL ? yv + jb : NULL,
                   yr, len, acc, outf != NULL ? NULL : out + jb,
                   outf != NULL ? outf + jb : NULL);
    }
}

/* Sparse data: the n x d matrix in CSR form (data, ind, ptr: row s holds the values
   data[ptr[s] .. ptr[s + 1]) at the columns ind[...], increasing within a row). An inner
   product over the nonzeros, in increasing column order, adds the same nonzero products in
   the same order as the dense sequential sum gl_dot_seq and the blocked columns (the terms a
   zero entry contributes are zeros, which leave a sum unchanged): sparse and dense kernel
   values agree bit for bit. */

/* <x_r, x_s> with x_r scattered into the dense vector w (length d). */
static inline double gl_csr_dot_w(const double* w, const double* data, const int* ind,
                                  int64_t k0, int64_t k1) {
    double s = 0.0;
    int64_t k;
    for (k = k0; k < k1; k++) s += w[ind[k]] * data[k];
    return s;
}

/* <x_a, x_b> by merging the two rows' column lists (no buffer: for a very large d). */
static inline double gl_csr_dot_merge(const double* data, const int* ind, int64_t a0,
                                      int64_t a1, int64_t b0, int64_t b1) {
    double s = 0.0;
    while (a0 < a1 && b0 < b1) {
        const int ia = ind[a0], ib = ind[b0];
        if (ia == ib) {
            s += data[a0] * data[b0];
            a0++;
            b0++;
        } else if (ia < ib) {
            a0++;
        } else {
            b0++;
        }
    }
    return s;
}

/* gl_kblock for CSR data: out[j] = (yr * yv[j]) * K(x_r, x_{rows[j]}) for j in [j0, j1)
   (rows NULL: row j), sq the squared norms of the rows. w: a zeroed buffer of d doubles
   (row r is scattered into it and cleared again before returning), or NULL for the merge
   of the two rows' column lists. Each entry's inner product and kernel value are computed
   as in gl_kblock, so the result does not depend on the split of [j0, j1) either. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void gl_kblock_csr(int kind, Py_ssize_t d, double gamma, double coef0, int degree,
                          const double* data, const int* ind, const int64_t* ptr,
                          Py_ssize_t r, const double* sq, const int* rows, double* w,
                          const double* yv, double yr, Py_ssize_t j0, Py_ssize_t j1,
                          double* out, float* outf) {
    double acc[GL_BLOCK], sqb[GL_BLOCK];
    const int64_t r0 = ptr[r], r1 = ptr[r + 1];
    Py_ssize_t jb, je, len, t;
    int64_t k;
    if (w != NULL)
        for (k = r0; k < r1; k++) w[ind[k]] = data[k];
    for (jb = j0; jb < j1; jb += GL_BLOCK) {
        je = jb + GL_BLOCK < j1 ? jb + GL_BLOCK : j1;
        len = je - jb;
        for (t = 0; t < len; t++) {
            const Py_ssize_t s = rows != NULL ? (Py_ssize_t) rows[jb + t] : jb + t;
            acc[t] = w != NULL ? gl_csr_dot_w(w, data, ind, ptr[s], ptr[s + 1])
                               : gl_csr_dot_merge(data, ind, r0, r1, ptr[s], ptr[s + 1]);
            sqb[t] = sq[s];
        }
        gl_kfinish(kind, d, gamma, coef0, degree, sq[r], sqb, yv != NULL ? yv + jb : NULL,
                   yr, len, acc, outf != NULL ? NULL : out + jb,
                   outf != NULL ? outf + jb : NULL);
    }
    if (w != NULL)
        for (k = r0; k < r1; k++) w[ind[k]] = 0.0;
}

/* dot[s] += x[0] v[0][s], then x[1] v[1][s], ... (m of them, 1 to 4) for s in [lo, hi): one
   read and one write of dot for the m columns, the same sums as m passes. */
static inline __attribute__((always_inline)) void gl_add_whole(
        Py_ssize_t lo, Py_ssize_t hi, int m, const double* const* v, const double* x,
        double* dot) {
    double* __restrict out = dot;
    const double* __restrict v0 = v[0];
    const double* __restrict v1 = m > 1 ? v[1] : v[0];
    const double* __restrict v2 = m > 2 ? v[2] : v[0];
    const double* __restrict v3 = m > 3 ? v[3] : v[0];
    const double x0 = x[0], x1 = m > 1 ? x[1] : 0.0, x2 = m > 2 ? x[2] : 0.0;
    const double x3 = m > 3 ? x[3] : 0.0;
    Py_ssize_t s;
    if (m == 4) {
        for (s = lo; s < hi; s++) {
            double t = out[s];
            t += x0 * v0[s];
            t += x1 * v1[s];
            t += x2 * v2[s];
            t += x3 * v3[s];
            out[s] = t;
        }
    } else if (m == 3) {
        for (s = lo; s < hi; s++) {
            double t = out[s];
            t += x0 * v0[s];
            t += x1 * v1[s];
            t += x2 * v2[s];
            out[s] = t;
        }
    } else if (m == 2) {
        for (s = lo; s < hi; s++) {
            double t = out[s];
            t += x0 * v0[s];
            t += x1 * v1[s];
            out[s] = t;
        }
    } else {
        for (s = lo; s < hi; s++) out[s] += x0 * v0[s];
    }
}

/* The inner products of row r with the data rows s in [lo, hi) through the compressed
   columns of the same data (CSC: column c holds the values cval[cptr[c] .. cptr[c + 1]) at
   the data rows crow[...], increasing): dot[s] = <x_r, x_s>, the rest of dot untouched. The
   columns with cdense[c] >= 0 are also kept whole, as row cdense[c] of the dense array (ldd
   values per row; cdense NULL: none), and are added as such, which streams where the
   compressed column would scatter. Each entry adds the products of the columns the two rows
   share in increasing column order (a whole column's other entries add zeros, which leave a
   sum unchanged): the sum gl_csr_dot_w and gl_csr_dot_merge form, so the values are theirs
   bit for bit. The work is the number of those products, sum over r's columns of the
   column's nonzeros, where the scatter buffer reads every nonzero of every row. (A
   target_clones function is not inlined, so its sums never take the fused multiply-adds
   of gl_kgrad_csc, which calls it.) */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void gl_csc_dots(const double* data, const int* ind, const int64_t* ptr, Py_ssize_t r,
                        const int64_t* cptr, const int* crow, const double* cval,
                        const int* cdense, const double* dense, Py_ssize_t ldd,
                        Py_ssize_t lo, Py_ssize_t hi, double* dot) {
    int64_t k;
    memset(dot + lo, 0, (size_t) (hi - lo) * sizeof(double));
    for (k = ptr[r]; k < ptr[r + 1]; k++) {
        const int c = ind[k];
        const double xv = data[k];
        int64_t p = cptr[c], e = cptr[c + 1];
        if (cdense != NULL && cdense[c] >= 0) {
            /* whole columns next to one another in r's list, up to four in one pass over dot:
               each entry still adds them one at a time in column order */
            const double* v[4];
            double x[4];
            int m = 0;
            while (m < 4 && k < ptr[r + 1] && cdense[ind[k]] >= 0) {
                v[m] = dense + (Py_ssize_t) cdense[ind[k]] * ldd;
                x[m++] = data[k++];
            }
            k--;                  /* the loop's k++ */
            gl_add_whole(lo, hi, m, v, x, dot);
            continue;
        }
        if (lo > 0) {             /* the first of the column's rows at or past lo */
            int64_t a = p, b = e;
            while (a < b) {
                const int64_t mid = a + (b - a) / 2;
                if (crow[mid] < lo) a = mid + 1; else b = mid;
            }
            p = a;
        }
        for (; p < e && crow[p] < hi; p++) dot[crow[p]] += xv * cval[p];
    }
}

/* gl_kblock from inner products already formed: out[j] = (yr * yv[j]) * K(x_r, x_{rows[j]})
   for j in [j0, j1) (rows NULL: row j) with <x_r, x_s> = dot[s] (gl_csc_dots), sq the squared
   norms of the rows; outf as in gl_kblock. The kernel values go through gl_kfinish as
   gl_kblock_csr's do, so the columns are that function's. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void gl_kblock_dots(int kind, Py_ssize_t d, double gamma, double coef0, int degree,
                           const double* dot, double sqr, const double* sq, const int* rows,
                           const double* yv, double yr, Py_ssize_t j0, Py_ssize_t j1,
                           double* out, float* outf) {
    double acc[GL_BLOCK], sqb[GL_BLOCK];
    Py_ssize_t jb, je, len, t;
    for (jb = j0; jb < j1; jb += GL_BLOCK) {
        je = jb + GL_BLOCK < j1 ? jb + GL_BLOCK : j1;
        len = je - jb;
        for (t = 0; t < len; t++) {
            const Py_ssize_t s = rows != NULL ? (Py_ssize_t) rows[jb + t] : jb + t;
            acc[t] = dot[s];
            sqb[t] = sq[s];
        }
        gl_kfinish(kind, d, gamma, coef0, degree, sqr, sqb, yv != NULL ? yv + jb : NULL,
                   yr, len, acc, outf != NULL ? NULL : out + jb,
                   outf != NULL ? outf + jb : NULL);
    }
}

/* A[j] += sum_e cf[e] K(x_e, z_j) and B[j] += sum_e cu[e] K(x_e, z_j) for j in [j0, j1),
   x_e the data rows rows[e] (row-major X, squared norms sq), z_j and sqv as in gl_kblock. The
   sums run over e in order; which path computes entry j depends only on j's place in
   [j0, j1), and the caller's blocks do not depend on the number of threads, so neither does
   the result. RBF: 8 entries j at a time by gl_gauss_sums8x4 (glopt/_fastexp.h; four
   support vectors at a time, whose exps are independent chains: one would be latency-bound),
   with fused multiply-adds where the target has them (entries may differ from gl_kblock's in
   the last bit); other kernels and the remainder: through gl_kblock and a scratch block tb. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=fast")
#endif
/* y[k] += c * x[k] for k in [k0, k1), every entry through the same 8-lane expression (the
   last k1 - k0 mod 8 through a zero-padded copy), so that the target fuses the multiply-add
   of all entries or of none: a vectorized loop's narrower tail does not fuse, which made an
   entry's last bit depend on where its block ended. */
static inline __attribute__((always_inline)) void gl_axpy_lanes(Py_ssize_t k0, Py_ssize_t k1,
                                                                double c, const double* x,
                                                                double* y) {
    Py_ssize_t k = k0;
#ifdef GL_HAVE_V8
    gl_v8d a, b;
    for (; k + 8 <= k1; k += 8) {
        memcpy(&a, x + k, sizeof(a));
        memcpy(&b, y + k, sizeof(b));
        b = b + c * a;
        memcpy(y + k, &b, sizeof(b));
    }
    if (k < k1) {
        double xa[8] = {0.0}, ya[8] = {0.0};
        memcpy(xa, x + k, (size_t) (k1 - k) * sizeof(double));
        memcpy(ya, y + k, (size_t) (k1 - k) * sizeof(double));
        memcpy(&a, xa, sizeof(a));
        memcpy(&b, ya, sizeof(b));
        b = b + c * a;
        memcpy(ya, &b, sizeof(b));
        memcpy(y + k, ya, (size_t) (k1 - k) * sizeof(double));
    }
#else
    for (; k < k1; k++) y[k] += c * x[k];
#endif
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void gl_kgrad(int kind, Py_ssize_t d, double gamma, double coef0, int degree,
                     const double* X, const double* sq, const int* rows, const double* cf,
                     const double* cu, Py_ssize_t ne, const double* XT, Py_ssize_t ld,
                     const double* sqv, Py_ssize_t j0, Py_ssize_t j1, double* A, double* B,
                     double* tb) {
    Py_ssize_t e, j;
#ifdef GL_HAVE_V8
    if (kind == GL_K_RBF) {
        for (j = j0; j + 8 <= j1; j += 8)
            gl_gauss_sums8x4(gamma, d, XT, ld, j, sqv, X, rows, sq, ne, cf, cu, 1, A + j, B + j);
        j0 = j;   /* the remainder below, by the scalar path */
    }
#endif
    if (j1 <= j0) return;
    for (e = 0; e < ne; e++) {
        gl_kblock(kind, d, gamma, coef0, degree, X + (Py_ssize_t) rows[e] * d, sq[rows[e]],
                  XT, ld, sqv, NULL, 1.0, j0, j1, tb, NULL);
        /* not gl_axpy_d, which is built without FMA: results would move in the last bit */
        if (cf[e] != 0.0) gl_axpy_lanes(j0, j1, cf[e], tb, A);
        if (cu[e] != 0.0) gl_axpy_lanes(j0, j1, cu[e], tb, B);
    }
}

/* gl_kgrad for CSR data (glopt's simple sparse path: no register-held points): A[j] +=
   sum_e cf[e] K(x_{rows[e]}, x_{cols[j]}) and B[j] likewise with cu, for j in [j0, j1) (cols
   NULL: row j), the sums over e in order; tb a scratch column, w as in gl_kblock_csr. The
   kernel values are gl_kblock_csr's and the updates gl_kgrad's gl_axpy_lanes, so the sums do
   not depend on the split of the columns between threads. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void gl_kgrad_csr(int kind, Py_ssize_t d, double gamma, double coef0, int degree,
                         const double* data, const int* ind, const int64_t* ptr,
                         const double* sq, const int* rows, const double* cf, const double* cu,
                         Py_ssize_t ne, const int* cols, Py_ssize_t j0, Py_ssize_t j1,
                         double* A, double* B, double* tb, double* w) {
    Py_ssize_t e;
    if (j1 <= j0) return;
    for (e = 0; e < ne; e++) {
        gl_kblock_csr(kind, d, gamma, coef0, degree, data, ind, ptr, rows[e], sq, cols, w,
                      NULL, 1.0, j0, j1, tb, NULL);
        if (cf[e] != 0.0) gl_axpy_lanes(j0, j1, cf[e], tb, A);
        if (cu[e] != 0.0) gl_axpy_lanes(j0, j1, cu[e], tb, B);
    }
}

/* gl_kgrad_csr through the compressed columns, by data row: A[s] += sum_e cf[e] K(x_{rows[e]},
   x_s) and B[s] += sum_e cu[e] K(x_{rows[e]}, x_s) for the data rows s in [lo, hi), the sums
   over e in order (the columns as gl_csc_dots takes them); dot and tb are scratch vectors of
   n values of which [lo, hi) is used. Entry s gets gl_kgrad_csr's terms in gl_kgrad_csr's
   order through the same gl_axpy_lanes (compiled as gl_kgrad_csr is, with fused multiply-adds
   where the target has them), so the two agree bit for bit, and the sums do not depend on the
   split of the rows between threads. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void gl_kgrad_csc(int kind, Py_ssize_t d, double gamma, double coef0, int degree,
                         const double* data, const int* ind, const int64_t* ptr,
                         const double* sq, const int* rows, const double* cf, const double* cu,
                         Py_ssize_t ne, const int64_t* cptr, const int* crow, const double* cval,
                         const int* cdense, const double* dense, Py_ssize_t ldd,
                         Py_ssize_t lo, Py_ssize_t hi, double* A, double* B, double* dot,
                         double* tb) {
    Py_ssize_t e;
    if (hi <= lo) return;
    for (e = 0; e < ne; e++) {
        gl_csc_dots(data, ind, ptr, rows[e], cptr, crow, cval, cdense, dense, ldd, lo, hi, dot);
        gl_kblock_dots(kind, d, gamma, coef0, degree, dot, sq[rows[e]], sq, NULL, NULL, 1.0,
                       lo, hi, tb, NULL);
        if (cf[e] != 0.0) gl_axpy_lanes(lo, hi, cf[e], tb, A);
        if (cu[e] != 0.0) gl_axpy_lanes(lo, hi, cu[e], tb, B);
    }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

/* out[i] = exp(x[i]) through the vector exps (32 and 8 lanes) and the scalar one for the
   rest, as gl_kgrad splits its entries (tests: every lane equals gl_exp_neg bit for bit). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void gl_exp_neg_lanes(const double* x, double* out, Py_ssize_t n) {
    Py_ssize_t i = 0;
#ifdef GL_HAVE_V8
    for (; i + 32 <= n; i += 32) {
        gl_v32d v;
        memcpy(&v, x + i, sizeof(v));
        v = gl_exp_neg_v32(v);
        memcpy(out + i, &v, sizeof(v));
    }
    for (; i + 8 <= n; i += 8) {
        gl_v8d v;
        memcpy(&v, x + i, sizeof(v));
        v = gl_exp_neg_v8(v);
        memcpy(out + i, &v, sizeof(v));
    }
#endif
    for (; i < n; i++) out[i] = gl_exp_neg(x[i]);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
#endif
