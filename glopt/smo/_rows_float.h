/* Gaussian kernel rows in single precision, for the blocked phase's row store
   (glopt/smo/_blocks.pyx). The store holds float values and the phase's answer is finished
   against the exact Q by the engine, so the rows need float accuracy only: computing them in
   float arithmetic (16 lanes per vector register instead of 8) halves their cost. The squared
   distance is summed as sum_m (x_m - z_m)^2, without the cancellation of |x|^2 + |z|^2 - 2 x.z,
   and every entry is computed with the same operations in the same order whether a vector body
   or the remainder loop takes it (no fused multiply-add), so a row does not depend on the tiles
   or the threads that computed it. */
#ifndef GLOPT_SMO_ROWS_FLOAT_H
#define GLOPT_SMO_ROWS_FLOAT_H
#include <Python.h>   /* Py_ssize_t */
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math", "fp-contract=off")
#endif

/* exp(x) for x <= 0 in float (0 below the underflow threshold): x = n ln2 + r, |r| <= ln2 / 2,
   and the degree-7 Taylor polynomial of e^r (truncation 0.35^8 / 8! = 5e-9, below float's
   rounding); branch-free, so that a loop over it vectorizes. */
static inline float gl_expf_neg(float x) {
    const float XMIN = -87.0f;
    const float SHIFT = 12582912.0f;                 /* 1.5 * 2^23 */
    float xc = x < XMIN ? XMIN : x;
    float t = xc * 1.44269504088896341f + SHIFT;
    float nf = t - SHIFT;
    float r = xc - nf * 0.693145751953125f;          /* ln 2, high bits (exact product) */
    float p, scale;
    int32_t tb, sb, kb;
    r = r - nf * 1.42860676533018708e-06f;           /* ln 2, low bits */
    p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    memcpy(&tb, &t, sizeof(float));
    memcpy(&sb, &SHIFT, sizeof(float));
    kb = ((tb - sb) + 127) * 8388608;                /* (n + 127) << 23 */
    memcpy(&scale, &kb, sizeof(float));
    p = p * scale;
    return x < XMIN ? 0.0f : p;
}

#define GL_RF_BLOCK 256

typedef float gl_v16f __attribute__((vector_size(64)));

/* out[j] = exp(-gamma |x - z_j|^2) for j in [j0, j1), x the d floats xr and z_j the j-th column
   of the column-major float copy XT (leading dimension ld). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void gl_rbf_row_f32(Py_ssize_t d, float gamma, const float* xr, const float* XT,
                           Py_ssize_t ld, Py_ssize_t j0, Py_ssize_t j1, float* out) {
    float acc[GL_RF_BLOCK];
    Py_ssize_t jb, len, t, m;
    for (jb = j0; jb < j1; jb += GL_RF_BLOCK) {
        len = jb + GL_RF_BLOCK < j1 ? GL_RF_BLOCK : j1 - jb;
        t = 0;
        /* 64 distances at a time in registers, each 0 + (x_0 - z_0)^2 + (x_1 - z_1)^2 + ...
           in order, as the remainder loop below sums them */
        for (; t + 64 <= len; t += 64) {
            const gl_v16f zero = {0.0f};
            gl_v16f a0 = zero, a1 = zero, a2 = zero, a3 = zero, z;
            for (m = 0; m < d; m++) {
                const float xm = xr[m];
                const float* col = XT + m * ld + jb + t;
                memcpy(&z, col, sizeof(z));
                z = z - xm;
                a0 = a0 + z * z;
                memcpy(&z, col + 16, sizeof(z));
                z = z - xm;
                a1 = a1 + z * z;
                memcpy(&z, col + 32, sizeof(z));
                z = z - xm;
                a2 = a2 + z * z;
                memcpy(&z, col + 48, sizeof(z));
                z = z - xm;
                a3 = a3 + z * z;
            }
            memcpy(acc + t, &a0, sizeof(a0));
            memcpy(acc + t + 16, &a1, sizeof(a1));
            memcpy(acc + t + 32, &a2, sizeof(a2));
            memcpy(acc + t + 48, &a3, sizeof(a3));
        }
        for (m = t; m < len; m++) acc[m] = 0.0f;
        for (m = 0; m < d; m++) {
            const float xm = xr[m];
            const float* col = XT + m * ld + jb;
            Py_ssize_t u;
            for (u = t; u < len; u++) {
                const float z = col[u] - xm;
                acc[u] += z * z;
            }
        }
        for (t = 0; t < len; t++) out[jb + t] = gl_expf_neg(-gamma * acc[t]);
    }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
#endif
