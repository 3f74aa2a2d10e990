# cython: language_level=3
"""Compiled active-set Newton rounds of a box-constrained dual with one balance constraint.

    min_a 0.5 a^T Q a + q^T a   s.t.  s^T a = const,  0 <= a <= u.

The rounds of :func:`glopt.mm._newton_free` (its docstring has the method). Each round solves
the free variables' equality-constrained Newton problem with H = Q_FF + delta I: with
y = H^-1 g_F and z = H^-1 s_F, the multiplier of s^T d = 0 is lam = -(s^T y) / (s^T z) and the
step d = -(y + lam z). The Cholesky factor R^T R = H is kept across the rounds and changed, not
recomputed, when F changes: a variable that reaches its bound is deleted from it (Givens
rotations, O(m^2)) and one that joins is appended (one triangular solve, O(m^2)), so a round
costs O(m^2) instead of the O(m^3) of a new factorization. On MM's small problems a finish often
needs a hundred rounds or more, one bound change each, and the SMO takes over whenever the
rounds run out.

Joining: at the optimum over F every bound variable whose KKT violation (with the multiplier
lam) exceeds tol joins. Several variables released at once need not all move into the box; when
one of them moves out at once (a step of length zero cuts it), the rounds go on joining the
single most violating variable at a time, for which the step moves it inside (the primal
active-set method's release of one constraint); a single joined variable that moves out at once
is rounding, and is not taken in again.

The factorization is LAPACK's dpotrf, reached at import through the function pointer scipy
exports in ``scipy.linalg.cython_lapack``: scipy is a run-time dependency already, and taking
the pointer there keeps it out of the build.
"""
from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer
from libc.math cimport INFINITY, fabs, hypot, isfinite, sqrt
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

ctypedef void (*dpotrf_t)(char* uplo, int* n, double* a, int* lda, int* info) noexcept nogil
ctypedef void (*dpotrs_t)(char* uplo, int* n, int* nrhs, double* a, int* lda, double* b, int* ldb,
                          int* info) noexcept nogil
ctypedef void (*dgemv_t)(char* trans, int* m, int* n, double* alpha, double* a, int* lda, double* x,
                         int* incx, double* beta, double* y, int* incy) noexcept nogil

cdef dpotrf_t _dpotrf = NULL
cdef dpotrs_t _dpotrs = NULL
cdef dgemv_t _dgemv = NULL


cdef void* _pointer(module, str name) except NULL:
    capsule = module.__pyx_capi__[name]
    return PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule))


cdef void _load() except *:
    global _dpotrf, _dpotrs, _dgemv
    from scipy.linalg import cython_blas, cython_lapack

    _dpotrf = <dpotrf_t> _pointer(cython_lapack, "dpotrf")
    _dpotrs = <dpotrs_t> _pointer(cython_lapack, "dpotrs")
    _dgemv = <dgemv_t> _pointer(cython_blas, "dgemv")


_load()


# R is upper triangular, column-major with leading dimension ld: R[i + j * ld], i <= j

cdef int _factor(const double[:, ::1] Q, const Py_ssize_t* F, Py_ssize_t m, double delta,
                 double* R, Py_ssize_t ld) noexcept nogil:
    """R^T R = Q_FF + delta I from scratch; 0 when it is not numerically positive definite."""
    cdef Py_ssize_t i, j
    cdef int n = <int> m, lda = <int> ld, info = 0
    cdef char uplo = b'U'
    if m == 0:
        return 1
    for j in range(m):
        for i in range(j + 1):
            R[i + j * ld] = Q[F[i], F[j]]
        R[j + j * ld] += delta
    _dpotrf(&uplo, &n, R, &lda, &info)
    return info == 0


cdef int _append(const double[:, ::1] Q, Py_ssize_t* F, Py_ssize_t m, double delta, double* R,
                 Py_ssize_t ld, Py_ssize_t v) noexcept nogil:
    """Variable v appended to F (position m) and to the factor; 0 when H would not be positive
    definite (then nothing is changed)."""
    cdef Py_ssize_t i, p
    cdef double acc, rho2 = Q[v, v] + delta
    cdef double* col = &R[m * ld]
    for i in range(m):                      # R^T r = Q[F, v], r stored as the new column
        acc = Q[F[i], v]
        for p in range(i):
            acc -= R[p + i * ld] * col[p]
        col[i] = acc / R[i + i * ld]
        rho2 -= col[i] * col[i]
    if not rho2 > 0.0:
        return 0
    col[m] = sqrt(rho2)
    F[m] = v
    return 1


cdef void _delete(double* R, Py_ssize_t ld, Py_ssize_t* F, Py_ssize_t m, Py_ssize_t k) noexcept nogil:
    """Position k deleted from F and from the factor (of size m, m - 1 after)."""
    cdef Py_ssize_t j, q
    cdef double a, b, r, c, s, x, y
    for j in range(k, m - 1):               # drop column k: the others shift left, Hessenberg
        memcpy(&R[j * ld], &R[(j + 1) * ld], (j + 2) * sizeof(double))
        F[j] = F[j + 1]
    for j in range(k, m - 1):               # Givens rotations on rows (j, j + 1) restore it
        a = R[j + j * ld]
        b = R[j + 1 + j * ld]
        r = hypot(a, b)
        c = a / r
        s = b / r
        R[j + j * ld] = r
        R[j + 1 + j * ld] = 0.0
        for q in range(j + 1, m - 1):
            x = R[j + q * ld]
            y = R[j + 1 + q * ld]
            R[j + q * ld] = c * x + s * y
            R[j + 1 + q * ld] = c * y - s * x


cdef void _solve2(double* R, Py_ssize_t ld, Py_ssize_t m, double* yz) noexcept nogil:
    """(y, z) <- (R^T R)^-1 (y, z), y = yz[:m], z = yz[ld:ld + m]."""
    cdef int n = <int> m, lda = <int> ld, nrhs = 2, info = 0
    cdef char uplo = b'U'
    _dpotrs(&uplo, &n, &nrhs, R, &lda, yz, &lda, &info)


cdef void _gradient(const double[:, ::1] Q, const double[::1] a, const double[::1] linear,
                    double[::1] grad) noexcept nogil:
    """grad = Q a + q (Q symmetric: its rows are its columns)."""
    cdef Py_ssize_t i, n = a.shape[0]
    cdef int nn = <int> n, one = 1
    cdef double alpha = 1.0, beta = 1.0
    cdef char trans = b'N'
    for i in range(n):
        grad[i] = linear[i]
    _dgemv(&trans, &nn, &nn, &alpha, <double*> &Q[0, 0], &nn, <double*> &a[0], &one, &beta, &grad[0], &one)


cdef int _rounds(const double[:, ::1] Q, double[::1] a, double[::1] grad, const double[::1] u,
                 const double[::1] sg, const double[::1] linear, double tol, double delta,
                 int max_rounds, Py_ssize_t max_free, double max_work, char* free_, char* barred,
                 char* last, Py_ssize_t* joined, Py_ssize_t* F, double* R, Py_ssize_t ld,
                 double* y, double* z, double* d, double* Qd) noexcept nogil:
    """The rounds on a and grad in place; returns 1 when a step of positive length was taken."""
    cdef Py_ssize_t n = a.shape[0], m = 0, i, j, k, fi, nj, nlast = 0, best
    cdef int moved = 0, stale = 0, single = 0, ok, rnd
    cdef double work, lam, sy, sz, proj, slope, curvature, t_opt, t, room, room_k, acc, r, worst
    cdef const double* qrow
    for i in range(n):
        if free_[i]:
            F[m] = i
            m += 1
    if m > max_free:
        return 0
    work = (<double> m) * m * m / 3.0
    if not _factor(Q, F, m, delta, R, ld):
        return 0
    for rnd in range(max_rounds):
        if m == 0:
            break
        work += 4.0 * m * m
        if work > max_work:
            break
        for i in range(m):
            y[i] = grad[F[i]]
            z[i] = sg[F[i]]
        _solve2(R, ld, m, y)                    # z = y + ld
        sy = 0.0
        sz = 0.0
        for i in range(m):
            sy += sg[F[i]] * y[i]
            sz += sg[F[i]] * z[i]
        if not (sz > 0.0 and isfinite(sy)):
            break
        lam = -sy / sz
        proj = 0.0
        for i in range(m):
            d[i] = -(y[i] + lam * z[i])
            proj += sg[F[i]] * d[i]
        proj /= m
        slope = 0.0
        for i in range(m):
            d[i] -= sg[F[i]] * proj                             # s^T d = 0 exactly
            slope += grad[F[i]] * d[i]
        if isfinite(slope) and slope < 0.0:
            curvature = 0.0
            for i in range(m):
                qrow = &Q[F[i], 0]
                acc = 0.0
                for j in range(m):
                    acc += qrow[F[j]] * d[j]
                Qd[i] = acc
                curvature += d[i] * acc
            t_opt = -slope / curvature if curvature > 0.0 else INFINITY
            k = 0
            room_k = INFINITY
            for i in range(m):
                fi = F[i]
                if d[i] > 0.0:
                    room = (u[fi] - a[fi]) / d[i]
                elif d[i] < 0.0:
                    room = -a[fi] / d[i]
                else:
                    room = INFINITY
                if room < room_k:
                    room_k = room
                    k = i
            t = t_opt if t_opt < room_k else room_k
            if not isfinite(t):
                break
            for i in range(m):
                fi = F[i]
                a[fi] += t * d[i]
                grad[fi] += t * Qd[i]  # the other entries are recomputed when they are read
            stale = 1
            if t > 0.0:
                moved = 1
            if t >= room_k:  # cut at a bound: that variable leaves F, the others go on
                fi = F[k]
                a[fi] = u[fi] if d[k] > 0.0 else 0.0
                free_[fi] = 0
                if room_k == 0.0:
                    if last[fi] and nlast > 1:
                        single = 1     # released with others, it moved out: one at a time now
                    else:
                        barred[fi] = 1
                _delete(R, ld, F, m, k)
                m -= 1
                continue
        # optimal over F: the bound variables violating the KKT conditions with the multiplier
        # of s^T d = 0 join F
        if stale:
            _gradient(Q, a, linear, grad)
            work += (<double> n) * n
            stale = 0
        nj = 0
        best = -1
        worst = 0.0
        for i in range(n):
            if free_[i] or barred[i] or not u[i] > 0.0:
                continue
            r = grad[i] + lam * sg[i]
            if (a[i] <= 0.0 and r < -tol) or (a[i] >= u[i] and r > tol):
                joined[nj] = i
                nj += 1
                if fabs(r) > worst:
                    worst = fabs(r)
                    best = i
        if nj == 0:
            break
        if single:
            joined[0] = best
            nj = 1
        if m + nj > max_free:
            break
        for i in range(n):
            last[i] = 0
        ok = 1
        if 3 * nj > m:                      # many at once: a new factorization is cheaper
            for i in range(nj):
                F[m + i] = joined[i]
            work += (<double> (m + nj)) ** 3 / 3.0
            ok = _factor(Q, F, m + nj, delta, R, ld)
            if ok:
                m += nj
        else:
            for i in range(nj):
                ok = _append(Q, F, m, delta, R, ld, joined[i])
                if not ok:
                    break
                m += 1
        if not ok:  # not numerically positive definite: the SMO goes on from here
            break
        for i in range(nj):
            free_[joined[i]] = 1
            last[joined[i]] = 1
        nlast = nj
    return moved


cdef void _release(char* flags, Py_ssize_t* idx, double* R, double* vec) noexcept:
    free(flags)
    free(idx)
    free(R)
    free(vec)


def newton_rounds(const double[:, ::1] Q, double[::1] a, double[::1] grad, const double[::1] upper,
                  const double[::1] sign, const double[::1] linear, double tol, int max_rounds,
                  Py_ssize_t max_free, double max_work):
    """Active-set Newton rounds of min 0.5 a^T Q a + q^T a, s^T a = const, 0 <= a <= u, in place.

    Parameters
    ----------
    Q : ndarray of float64, shape (l, l), C-contiguous
        The symmetric positive semidefinite dual matrix.
    a : ndarray of float64, shape (l,)
        A feasible point, overwritten by the rounds' point.
    grad : ndarray of float64, shape (l,)
        Q a + q at ``a``, overwritten; entries outside the last free set may be stale.
    upper, sign, linear : ndarray of float64, shape (l,)
        The bounds u, the signs s of the balance and the linear term q.
    tol : float
        A bound variable joins the free set when its KKT violation exceeds ``tol``.
    max_rounds : int
        At most this many rounds (solves with the factor).
    max_free : int
        At most this many free variables.
    max_work : float
        The rounds stop once their arithmetic (m^3 / 3 per factorization, 4 m^2 per round with
        m free variables, l^2 per gradient) exceeds this.

    Returns
    -------
    bool
        Whether a step of positive length was taken.
    """
    cdef Py_ssize_t n = a.shape[0], ld, i
    if not (Q.shape[0] == n and Q.shape[1] == n and grad.shape[0] == n and upper.shape[0] == n
            and sign.shape[0] == n and linear.shape[0] == n):
        raise ValueError("Q must be (l, l) and a, grad, upper, sign, linear of length l")
    if n == 0 or max_free < 1:
        return False
    cdef double delta = 0.0, tiny = 2.2250738585072014e-308
    for i in range(n):
        if fabs(Q[i, i]) > delta:
            delta = fabs(Q[i, i])
    delta = 1e-10 * (delta if delta > tiny else tiny)    # regularizes duplicated inputs
    ld = min(n, max_free)
    cdef char* flags = <char*> malloc(3 * n)
    cdef Py_ssize_t* idx = <Py_ssize_t*> malloc((n + ld) * sizeof(Py_ssize_t))
    cdef double* R = <double*> malloc(ld * ld * sizeof(double))
    cdef double* vec = <double*> malloc(4 * ld * sizeof(double))
    cdef int moved = 0, any_free = 0
    if flags == NULL or idx == NULL or R == NULL or vec == NULL:
        _release(flags, idx, R, vec)
        raise MemoryError()
    try:
        for i in range(n):
            flags[i] = a[i] > 0.0 and a[i] < upper[i]     # free
            flags[n + i] = 0                               # barred: not taken in again
            flags[2 * n + i] = 0                           # joined in the latest join
            any_free |= flags[i]
        if any_free:
            with nogil:
                moved = _rounds(Q, a, grad, upper, sign, linear, tol, delta, max_rounds, max_free,
                                max_work, flags, flags + n, flags + 2 * n, idx + ld, idx, R, ld,
                                vec, vec + ld, vec + 2 * ld, vec + 3 * ld)
    finally:
        _release(flags, idx, R, vec)
    return bool(moved)
