/* glopt's exp for nonpositive arguments, included by both Cython extensions. */
#ifndef GLOPT_FASTEXP_H
#define GLOPT_FASTEXP_H
#include <stdint.h>
#include <string.h>

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
#pragma GCC diagnostic pop
#define GL_HAVE_V8 1
#endif
#endif
