/* glopt's exp for nonpositive arguments (scalar and 8/32 lanes) and the Gaussian sums built on
   it, included by both Cython extensions. */
#ifndef GLOPT_FASTEXP_H
#define GLOPT_FASTEXP_H
#include <stdint.h>
#include <string.h>
#include <stddef.h>

/* Squared distances are computed as |x|^2 + |z|^2 - 2 x.z, whose rounding error is below
   (2d + 2) u (|x|^2 + |z|^2) for d features (u = 2^-53); a value within that bound cannot be told
   from 0 and counts as 0. So a point's distance to itself is exactly 0 (K_ii = S_ii = 1) whichever
   summation (vector, fused multiply-add or not) computed the dot product. glopt.kernels applies the
   same rule in numpy and torch. GL_D2_FLOOR(d) is the factor of |x|^2 + |z|^2. */
#define GL_D2_FLOOR(d) ((2.0 * (double) (d) + 2.0) * 1.1102230246251565e-16)
static inline double gl_d2(double sqa, double sqb, double dot, double floor_factor) {
    double v = sqa + sqb - 2.0 * dot;
    return v > floor_factor * (sqa + sqb) ? v : 0.0;
}

/* exp(x) for x <= 0 (0 below the underflow threshold): Cody-Waite reduction x = n ln2 + r,
   |r| <= ln2 / 2, and the degree-13 Taylor polynomial of e^r, whose truncation error
   (ln2/2)^14 / 14! = 4e-18 is below the rounding of double precision: the result is within a
   few ulp of libm's exp (tests/test_kernels.py measures the maximal relative error, <= 1e-15).
   Written without branches or calls so that a loop over it vectorizes. Shared by the SMO's kernel
   columns (glopt/smo/_solver.pyx) and the products with S (glopt/_correlation.pyx). */
static inline double gl_exp_neg(double x) {
    const double XMIN = -708.3964185322641;
    const double LOG2E = 1.4426950408889634;
    const double SHIFT = 6755399441055744.0;            /* 1.5 * 2^52 */
    const double LN2HI = 6.93147180369123816490e-01;
    const double LN2LO = 1.90821492927058770002e-10;
    double xc = x < XMIN ? XMIN : x;
    double t = xc * LOG2E + SHIFT;
    double nf = t - SHIFT;
    double r = xc - nf * LN2HI;
    int64_t tb, sb, kb;
    double p, scale;
    r = r - nf * LN2LO;
    p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    memcpy(&tb, &t, sizeof(double));
    memcpy(&sb, &SHIFT, sizeof(double));
    kb = ((tb - sb) + 1023) << 52;
    memcpy(&scale, &kb, sizeof(double));
    p = p * scale;
    return x < XMIN ? 0.0 : p;
}
#if defined(__GNUC__) && !defined(__clang__)
/* gl_exp_neg on 8 and 32 lanes (GCC vector extensions: as many zmm, ymm or xmm registers as the
   calling function's target needs), with exactly the scalar version's operations in the same
   order, so that each lane equals gl_exp_neg of its argument bit for bit. 32 lanes are four
   independent Horner chains interleaved: one chain is latency-bound. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"   /* inlined everywhere: no wide vector crosses a call */
typedef double gl_v8d __attribute__((vector_size(64)));
typedef long long gl_v8l __attribute__((vector_size(64)));
typedef double gl_v32d __attribute__((vector_size(256)));
typedef long long gl_v32l __attribute__((vector_size(256)));

#define GL_DEF_EXP_NEG_VEC(NAME, VD, VL)                                                       \
static inline __attribute__((always_inline)) VD NAME(VD x) {                                   \
    const VD ZERO = {0.0};                                                                     \
    const double XMIN = -708.3964185322641;                                                    \
    const double SHIFT = 6755399441055744.0;             /* 1.5 * 2^52 */                      \
    VL under = (VL) (x - XMIN) >> 63;    /* -1 where x < XMIN (sign of the exact difference) */\
    VD xc = (VD) (((VL) x & ~under) | ((VL) (ZERO + XMIN) & under));                           \
    VD t = xc * 1.4426950408889634 + SHIFT;                                                    \
    VD nf = t - SHIFT;                                                                         \
    VD r = xc - nf * 6.93147180369123816490e-01;                                               \
    VD p;                                                                                      \
    r = r - nf * 1.90821492927058770002e-10;                                                   \
    p = ZERO + 1.0 / 6227020800.0;                                                             \
    p = p * r + 1.0 / 479001600.0;                                                             \
    p = p * r + 1.0 / 39916800.0;                                                              \
    p = p * r + 1.0 / 3628800.0;                                                               \
    p = p * r + 1.0 / 362880.0;                                                                \
    p = p * r + 1.0 / 40320.0;                                                                 \
    p = p * r + 1.0 / 5040.0;                                                                  \
    p = p * r + 1.0 / 720.0;                                                                   \
    p = p * r + 1.0 / 120.0;                                                                   \
    p = p * r + 1.0 / 24.0;                                                                    \
    p = p * r + 1.0 / 6.0;                                                                     \
    p = p * r + 0.5;                                                                           \
    p = p * r + 1.0;                                                                           \
    p = p * r + 1.0;                                                                           \
    p = p * (VD) ((((VL) t - (VL) (ZERO + SHIFT)) + 1023) << 52);                              \
    return (VD) ((VL) p & ~under);                                                             \
}
GL_DEF_EXP_NEG_VEC(gl_exp_neg_v8, gl_v8d, gl_v8l)
GL_DEF_EXP_NEG_VEC(gl_exp_neg_v32, gl_v32d, gl_v32l)

/* Gaussian sums for 8 points held in registers: for t < 8,
       s0[t] += sum_e c0[e cs] exp(-gamma |x_e - z_{j+t}|^2)   (s1 likewise with c1 unless NULL),
   z_{j+t} column j + t of ZT (d x ld, squared norms sqz), x_e row rows[e] (rows NULL: row e) of
   the row-major X (d columns, squared norms sqx); the sum over e in order. Each x_e is read once
   per 8 points and the points' d values stay in L1, where a column of values per x_e would be
   streamed through memory. Four x_e at a time: each load of the points' values feeds four
   inner products, and the four exps are independent chains (one would be latency-bound); with
   wider blocks of points the accumulators no longer fit the registers beside the exps. Every
   term has the same expression, added to the sums in the order of e. Shared by the SMO's
   blocked gradient (K) and the S products. */
#define GL_GAUSS_TERM8(ACC, R, V)                                                              \
    do {                                                                                       \
        V = sqx[R] + sz - 2.0 * ACC;                                                           \
        V = (gl_v8d) ((gl_v8l) V & (gl_v8l) (V > fl * (sqx[R] + sz)));                         \
        V = gl_exp_neg_v8(-gamma * V);                                                         \
    } while (0)
static inline __attribute__((always_inline)) void gl_gauss_sums8x4(
        double gamma, ptrdiff_t d, const double* ZT, ptrdiff_t ld, ptrdiff_t j,
        const double* sqz, const double* X, const int* rows, const double* sqx, ptrdiff_t ne,
        const double* c0, const double* c1, ptrdiff_t cs, double* s0, double* s1) {
    const gl_v8d zero = {0.0};
    const double fl = GL_D2_FLOOR(d);
    gl_v8d a, b = zero, sz, zm;
    ptrdiff_t e = 0, m;
    memcpy(&a, s0, sizeof(a));
    if (c1 != NULL) memcpy(&b, s1, sizeof(b));
    memcpy(&sz, sqz + j, sizeof(sz));
    for (; e + 4 <= ne; e += 4) {
        const ptrdiff_t r0 = rows != NULL ? (ptrdiff_t) rows[e] : e;
        const ptrdiff_t r1 = rows != NULL ? (ptrdiff_t) rows[e + 1] : e + 1;
        const ptrdiff_t r2 = rows != NULL ? (ptrdiff_t) rows[e + 2] : e + 2;
        const ptrdiff_t r3 = rows != NULL ? (ptrdiff_t) rows[e + 3] : e + 3;
        const double *x0 = X + r0 * d, *x1 = X + r1 * d, *x2 = X + r2 * d, *x3 = X + r3 * d;
        gl_v8d acc0 = zero, acc1 = zero, acc2 = zero, acc3 = zero, v0, v1, v2, v3;
        for (m = 0; m < d; m++) {
            memcpy(&zm, ZT + m * ld + j, sizeof(zm));
            acc0 = acc0 + x0[m] * zm;
            acc1 = acc1 + x1[m] * zm;
            acc2 = acc2 + x2[m] * zm;
            acc3 = acc3 + x3[m] * zm;
        }
        GL_GAUSS_TERM8(acc0, r0, v0);
        GL_GAUSS_TERM8(acc1, r1, v1);
        GL_GAUSS_TERM8(acc2, r2, v2);
        GL_GAUSS_TERM8(acc3, r3, v3);
        a = a + c0[e * cs] * v0;
        a = a + c0[(e + 1) * cs] * v1;
        a = a + c0[(e + 2) * cs] * v2;
        a = a + c0[(e + 3) * cs] * v3;
        if (c1 != NULL) {
            b = b + c1[e * cs] * v0;
            b = b + c1[(e + 1) * cs] * v1;
            b = b + c1[(e + 2) * cs] * v2;
            b = b + c1[(e + 3) * cs] * v3;
        }
    }
    for (; e < ne; e++) {
        const ptrdiff_t r = rows != NULL ? (ptrdiff_t) rows[e] : e;
        const double* xe = X + r * d;
        gl_v8d acc = zero, v;
        for (m = 0; m < d; m++) {
            memcpy(&zm, ZT + m * ld + j, sizeof(zm));
            acc = acc + xe[m] * zm;
        }
        GL_GAUSS_TERM8(acc, r, v);
        a = a + c0[e * cs] * v;
        if (c1 != NULL) b = b + c1[e * cs] * v;
    }
    memcpy(s0, &a, sizeof(a));
    if (c1 != NULL) memcpy(s1, &b, sizeof(b));
}
#pragma GCC diagnostic pop
#define GL_HAVE_V8 1
#endif
#endif
