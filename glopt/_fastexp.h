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
#endif
