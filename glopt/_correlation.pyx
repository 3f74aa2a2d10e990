# cython: language_level=3
"""Fused, OpenMP-parallel products with a correlation matrix S computed on the fly.

``S[rows][:, cols] @ V`` without materializing any block of S: each entry is computed from the
inputs (squared norms + one dot product), passed through the correlation kernel and accumulated
at once, so memory traffic is O(n d) instead of O(n^2). Used by glopt.kernels.Correlation.
"""
from cython.parallel cimport prange
from libc.math cimport exp, sqrt, pow
cimport openmp

cdef enum:
    K_G = 0
    K_Q = 1
    K_M05 = 2
    K_M15 = 3
    K_M25 = 4


cdef inline double s_value(double d2, int kind, double gamma, double alpha) noexcept nogil:
    cdef double r
    if kind == K_G:
        return exp(-gamma * d2)
    if kind == K_Q:
        return pow(1.0 + (gamma / alpha) * d2, -alpha)
    r = sqrt(2.0 * gamma * d2)
    if kind == K_M05:
        return exp(-r)
    if kind == K_M15:
        r = 1.7320508075688772 * r
        return (1.0 + r) * exp(-r)
    r = 2.23606797749979 * r
    return (1.0 + r + r * r / 3.0) * exp(-r)


def openmp_max_threads():
    return openmp.omp_get_max_threads()


def s_matmul(const double[:, ::1] Xr, const double[::1] sq_r, const long[::1] idx_r,
             const double[:, ::1] Xc, const double[::1] sq_c, const long[::1] idx_c,
             const double[:, ::1] V, double[:, ::1] out, int kind, double gamma, double alpha,
             const long[::1] codes_r, const long[::1] codes_c, bint masked, int n_threads):
    """out[i, :] = sum_j S(xr_i, xc_j) V[j, :] (+ class mask); idx_* are global sample indices
    so that S_ii = 1 exactly on the diagonal."""
    cdef Py_ssize_t m = Xr.shape[0], k = Xc.shape[0], d = Xr.shape[1], c = V.shape[1]
    cdef Py_ssize_t i, j, t, q
    cdef double d2, s, dot
    for i in prange(m, nogil=True, num_threads=n_threads, schedule="static"):
        for q in range(c):
            out[i, q] = 0.0
        for j in range(k):
            if masked and codes_r[i] != codes_c[j]:
                continue
            if idx_r[i] == idx_c[j]:
                s = 1.0
            else:
                dot = 0.0
                for t in range(d):
                    dot = dot + Xr[i, t] * Xc[j, t]
                d2 = sq_r[i] + sq_c[j] - 2.0 * dot
                if d2 < 0.0:
                    d2 = 0.0
                s = s_value(d2, kind, gamma, alpha)
            for q in range(c):
                out[i, q] += s * V[j, q]
