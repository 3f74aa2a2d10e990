/* Gaussian kernel rows in single precision, for the blocked phase's row store and gradient
   passes (glopt/smo/_blocks.pyx). The store holds float values and the phase's answer is
   finished against the exact Q by the engine, so the rows need float accuracy only: computing
   them in float arithmetic, 16 lanes per vector register, with the squared distance
   |x|^2 + |z|^2 - 2 x.z of one fused multiply-add per feature, makes them about three times
   cheaper than the engine's double columns. The caller centres the data (distances do not
   change), which keeps the cancellation of that form at float's rounding of the centred
   norms. Every entry is computed by the same vector code, whatever its lane: the rows are
   padded to a multiple of GL_RF_WIDTH entries, so no remainder loop computes some entries
   differently, and a row does not depend on the tiles or the threads that computed it. */
#ifndef GLOPT_SMO_ROWS_FLOAT_H
#define GLOPT_SMO_ROWS_FLOAT_H
#include <Python.h>   /* Py_ssize_t */
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math", "fp-contract=fast")
#endif

/* entries per register block: eight accumulators of 16 lanes (two fused multiply-adds per
   cycle at a latency of four keep eight chains in flight) */
#define GL_RF_WIDTH 128

typedef float gl_v16f __attribute__((vector_size(64)));
typedef int32_t gl_v16i __attribute__((vector_size(64)));

static inline gl_v16f gl_splat16(float c) {
    gl_v16f v;
    int i;
    for (i = 0; i < 16; i++) v[i] = c;
    return v;
}

/* exp(x) for x <= 0, 16 lanes (0 below the underflow threshold): x = n ln2 + r, |r| <= ln2 / 2,
   and the degree-7 Taylor polynomial of e^r (truncation 0.35^8 / 8! = 5e-9, below float's
   rounding); 2^n from the bits of the rounding shift. */
static inline gl_v16f gl_expf_neg16(gl_v16f x) {
    const gl_v16f xmin = gl_splat16(-87.0f);
    const gl_v16f shift = gl_splat16(12582912.0f);                  /* 1.5 * 2^23 */
    const gl_v16i under = x < xmin;
    const gl_v16f xc = (gl_v16f) (((gl_v16i) x & ~under) | ((gl_v16i) xmin & under));
    const gl_v16f t = xc * 1.44269504088896341f + shift;
    const gl_v16f nf = t - shift;
    gl_v16f r = xc - nf * 0.693145751953125f;                        /* ln 2, high bits */
    gl_v16f p;
    gl_v16i kb;
    r = r - nf * 1.42860676533018708e-06f;                           /* ln 2, low bits */
    p = gl_splat16(1.0f / 5040.0f);
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    kb = (((gl_v16i) t - (gl_v16i) shift) + 127) << 23;             /* 2^n */
    p = p * (gl_v16f) kb;
    return (gl_v16f) ((gl_v16i) p & ~under);
}

/* out[j] = exp(-gamma max(0, sqr + sqz[j] - 2 x.z_j)) for j in [0, len), len a multiple of
   GL_RF_WIDTH: x the d floats xr with squared norm sqr, z_j the j-th column of the
   column-major float data XT (leading dimension ld, at least len columns from XT) and sqz
   their squared norms. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
static void gl_rbf_row_f32(Py_ssize_t d, float gamma, const float* xr, float sqr,
                           const float* XT, const float* sqz, Py_ssize_t ld, Py_ssize_t len,
                           float* out) {
    const gl_v16f zero = {0.0f};
    Py_ssize_t t, m;
    int k;
    for (t = 0; t + GL_RF_WIDTH <= len; t += GL_RF_WIDTH) {
        gl_v16f acc[8], z, dist, e;
        for (k = 0; k < 8; k++) acc[k] = zero;
        for (m = 0; m < d; m++) {
            const float xm = xr[m];
            const float* col = XT + m * ld + t;
            for (k = 0; k < 8; k++) {
                memcpy(&z, col + 16 * k, sizeof(z));
                acc[k] = acc[k] + z * xm;
            }
        }
        for (k = 0; k < 8; k++) {
            memcpy(&z, sqz + t + 16 * k, sizeof(z));
            dist = (z + sqr) - (acc[k] + acc[k]);
            dist = (gl_v16f) ((gl_v16i) dist & ~(dist < zero));     /* rounding below 0 */
            e = gl_expf_neg16(dist * -gamma);
            memcpy(out + t + 16 * k, &e, sizeof(e));
        }
    }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

/* acc[j] += c * row[j] for j in [0, len), in double: a gradient's terms from a float kernel
   row. A product and a sum per entry (no fused multiply-add), so that the vector body and
   the remainder loop give the same value and a gradient does not depend on the tiles. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
static void gl_axpy_f32(Py_ssize_t len, double c, const float* row, double* acc) {
    Py_ssize_t j;
    for (j = 0; j < len; j++) acc[j] += c * (double) row[j];
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
#endif
