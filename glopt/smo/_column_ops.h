/* Operations on a column of Q for the SMO engine (glopt/smo/_solver.pyx): the working-set
   selection scans and the gradient updates, each for double and single-precision columns. */
#ifndef GLOPT_SMO_COLUMN_OPS_H
#define GLOPT_SMO_COLUMN_OPS_H
#include <Python.h>   /* Py_ssize_t */
#include <math.h>     /* HUGE_VAL */
#include <string.h>   /* memcpy */

/* The kernel columns' options (_kernel_columns.h): gcc may if-convert the selects of the scans,
   so that they vectorize, which changes no result; no fused multiply-add, so that each update
   rounds as written. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math", "fp-contract=off")
#endif

/* Each scan is built for AVX-512, AVX2 and the baseline, chosen at load time by the CPU (the
   kernel columns' clones, _kernel_columns.h); with no fused multiply-add and IEEE operations
   lane by lane, every clone computes the same numbers. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define GL_SCAN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GL_SCAN_CLONES
#endif

/* ---------------------------------------------------------------------------------------------
   Arg max with ties to the last index, as LIBSVM's loops `if (v >= best) {best = v; idx = t;}`.
   A scan computes its values in blocks of GL_SB entries (an L1-resident buffer, in a loop that
   vectorizes), then folds each block into a state of 8 lanes, lane u holding the maximum and the
   last index reaching it among the entries t = u (mod 8); the result is the largest lane
   maximum and, among the lanes holding it, the largest index, which is the last index of the
   maximum: the sequential loop's choice (its running maximum only grows, so it takes exactly
   the entries equal to the final maximum, the last of them last). NaN is never taken, in
   either. The sequential loop's compare-and-select chain costs a few cycles per entry; the
   lanes' costs a fraction of one. */
#define GL_SB 256

#if defined(__GNUC__) && !defined(__clang__)
typedef double gl_c8d __attribute__((vector_size(64)));
typedef long long gl_c8l __attribute__((vector_size(64)));
typedef struct { gl_c8d best; gl_c8l idx; } gl_amax;

static inline void gl_amax_init(gl_amax* s, double init) {
    const gl_c8d b = {init, init, init, init, init, init, init, init};
    const gl_c8l i = {-1, -1, -1, -1, -1, -1, -1, -1};
    s->best = b;
    s->idx = i;
}

/* Fold v[0 .. len) (indices k0 + t) into s; v has room for len rounded up to a multiple of 8,
   filled with pad (a value no entry is to be chosen for). */
static inline void gl_amax_add(gl_amax* s, double* v, Py_ssize_t len, Py_ssize_t k0, double pad) {
    const gl_c8l lane = {0, 1, 2, 3, 4, 5, 6, 7};
    Py_ssize_t t;
    for (t = len; t % 8 != 0; t++) v[t] = pad;
    for (t = 0; t < len; t += 8) {
        gl_c8d x;
        gl_c8l m;
        memcpy(&x, v + t, sizeof(x));
        m = (gl_c8l) (x >= s->best);
        s->best = (gl_c8d) (((gl_c8l) x & m) | ((gl_c8l) s->best & ~m));
        s->idx = ((lane + (long long) (k0 + t)) & m) | (s->idx & ~m);
    }
}

/* Lane-wise max `m = v > m ? v : m` of v[0 .. len) (room and pad as in gl_amax_add); the lanes
   are combined by gl_max_result. Only compared with the tolerance: the sign of a zero maximum,
   which the order decides, does not matter. */
static inline void gl_max_add(gl_c8d* m, double* v, Py_ssize_t len) {
    Py_ssize_t t;
    for (t = len; t % 8 != 0; t++) v[t] = -HUGE_VAL;
    for (t = 0; t < len; t += 8) {
        gl_c8d x;
        gl_c8l k;
        memcpy(&x, v + t, sizeof(x));
        k = (gl_c8l) (x > *m);
        *m = (gl_c8d) (((gl_c8l) x & k) | ((gl_c8l) *m & ~k));
    }
}

static inline double gl_max_result(const gl_c8d* m) {
    double b = (*m)[0];
    int u;
    for (u = 1; u < 8; u++) b = (*m)[u] > b ? (*m)[u] : b;
    return b;
}
#define GL_MAX_INIT(M)                                                                    \
    gl_c8d M = {-HUGE_VAL, -HUGE_VAL, -HUGE_VAL, -HUGE_VAL,                               \
                -HUGE_VAL, -HUGE_VAL, -HUGE_VAL, -HUGE_VAL}

static inline int gl_amax_result(const gl_amax* s, double* best) {
    double b = s->best[0];
    long long i = s->idx[0];
    int u;
    for (u = 1; u < 8; u++) {
        if (s->best[u] > b || (s->best[u] == b && s->idx[u] > i)) {
            b = s->best[u];
            i = s->idx[u];
        }
    }
    *best = b;
    return (int) i;
}
#else
typedef struct { double best; Py_ssize_t idx; } gl_amax;

static inline void gl_amax_init(gl_amax* s, double init) {
    s->best = init;
    s->idx = -1;
}

static inline void gl_amax_add(gl_amax* s, double* v, Py_ssize_t len, Py_ssize_t k0, double pad) {
    Py_ssize_t t;
    (void) pad;
    for (t = 0; t < len; t++)
        if (v[t] >= s->best) { s->best = v[t]; s->idx = k0 + t; }
}

static inline int gl_amax_result(const gl_amax* s, double* best) {
    *best = s->best;
    return (int) s->idx;
}

static inline void gl_max_add(double* m, double* v, Py_ssize_t len) {
    Py_ssize_t t;
    for (t = 0; t < len; t++) *m = v[t] > *m ? v[t] : *m;
}

static inline double gl_max_result(const double* m) { return *m; }
#define GL_MAX_INIT(M) double M = -HUGE_VAL
#endif

/* ---------------------------------------------------------------------------------------------
   Working-set selection scans. upm[t] / lowm[t] are 1.0 when variable t is in I_up / I_low
   (it may move so as to raise / lower y_t a_t), else 0.0. The choices are exactly those of
   LIBSVM's select_working_set (ties go to the last index). */

/* i = argmax over I_up of -y_t G_t; returns -1 if I_up is empty. */
GL_SCAN_CLONES static int gl_select_up(Py_ssize_t n, const double* restrict G,
                                       const double* restrict y, const double* restrict upm,
                                       double* gmax) {
    double vb[GL_SB];
    gl_amax st;
    Py_ssize_t k0, t, len;
    int idx;
    gl_amax_init(&st, -HUGE_VAL);
    for (k0 = 0; k0 < n; k0 += GL_SB) {
        len = n - k0 < GL_SB ? n - k0 : GL_SB;
        for (t = 0; t < len; t++)
            vb[t] = upm[k0 + t] > 0.5 ? -(y[k0 + t] * G[k0 + t]) : -HUGE_VAL;
        gl_amax_add(&st, vb, len, k0, -HUGE_VAL);
    }
    idx = gl_amax_result(&st, gmax);
    return *gmax == -HUGE_VAL ? -1 : idx;
}

/* j = argmax over I_low of y_t G_t (WSS1); returns -1 if I_low is empty. */
GL_SCAN_CLONES static int gl_select_low(Py_ssize_t n, const double* restrict G,
                                        const double* restrict y, const double* restrict lowm,
                                        double* gmax2) {
    double vb[GL_SB];
    gl_amax st;
    Py_ssize_t k0, t, len;
    int idx;
    gl_amax_init(&st, -HUGE_VAL);
    for (k0 = 0; k0 < n; k0 += GL_SB) {
        len = n - k0 < GL_SB ? n - k0 : GL_SB;
        for (t = 0; t < len; t++)
            vb[t] = lowm[k0 + t] > 0.5 ? y[k0 + t] * G[k0 + t] : -HUGE_VAL;
        gl_amax_add(&st, vb, len, k0, -HUGE_VAL);
    }
    idx = gl_amax_result(&st, gmax2);
    return *gmax2 == -HUGE_VAL ? -1 : idx;
}

/* The nu mode's scans (LIBSVM's Solver_NU): the same maxima within each sign class.
   v_t = sgn * y_t G_t over the t with mask[t] (sgn = -1 with upm: -y G over I_up; sgn = +1 with
   lowm: y G over I_low); *gp, *ip: max and argmax over y_t = +1, *gn, *in over y_t = -1 (-1 and
   -HUGE_VAL where the class has none). Ties go to the last index, as in LIBSVM. An entry of the
   other class enters a class's arg max as -HUGE_VAL, which is only ever chosen when the class
   has no entry, and then reported as -1. */
static inline void gl_nu_results(gl_amax* sp, gl_amax* sn, double* gp, int* ip, double* gn,
                                 int* in) {
    int kp = gl_amax_result(sp, gp), kn = gl_amax_result(sn, gn);
    *ip = *gp == -HUGE_VAL ? -1 : kp;
    *in = *gn == -HUGE_VAL ? -1 : kn;
}

GL_SCAN_CLONES static void gl_select_nu(Py_ssize_t n, const double* restrict G,
                                        const double* restrict y, const double* restrict mask,
                                        double sgn, double* gp, int* ip, double* gn, int* in) {
    double vp[GL_SB], vn[GL_SB];
    gl_amax sp, sn;
    Py_ssize_t k0, t, len;
    gl_amax_init(&sp, -HUGE_VAL);
    gl_amax_init(&sn, -HUGE_VAL);
    for (k0 = 0; k0 < n; k0 += GL_SB) {
        len = n - k0 < GL_SB ? n - k0 : GL_SB;
        for (t = 0; t < len; t++) {
            const double yt = y[k0 + t];
            const double v = mask[k0 + t] > 0.5 ? sgn * (yt * G[k0 + t]) : -HUGE_VAL;
            vp[t] = yt > 0 ? v : -HUGE_VAL;
            vn[t] = yt > 0 ? -HUGE_VAL : v;
        }
        gl_amax_add(&sp, vp, len, k0, -HUGE_VAL);
        gl_amax_add(&sn, vn, len, k0, -HUGE_VAL);
    }
    gl_nu_results(&sp, &sn, gp, ip, gn, in);
}

/* Second-order choice of j for a given i (LIBSVM WSS3): over I_low with
   grad_diff = Gmax + y_j G_j > 0, maximize grad_diff^2 / quad_coef (quad_coef = QD_i + QD_j -
   2 y_i y_j Q_ij, replaced by tau when <= 0), i.e. minimize LIBSVM's obj_diff = -that. Returns
   j (-1 if none) and *best its score; *gmax2 = max over I_low of y_j G_j. The column Qi is
   double (_d) or single precision (_f, LIBSVM's Qfloat, promoted exactly).

   gl_select_nu_wss3_j: the nu mode's choice of j (LIBSVM Solver_NU::select_working_set): the
   same score, j within the sign class of its i (Qp, Gmaxp, QDp for y_j = +1 with the class's
   i_p; Qn, Gmaxn, QDn for y_j = -1), the best over both classes; also Gmaxp2 / Gmaxn2, the max
   over I_low of y_j G_j within each class. A class without i has Gmax = -HUGE_VAL, so that none
   of its j qualifies (its column pointer must still be readable: pass the other class's).

   gl_gather_wss3_j / gl_gather_nu_wss3_j (gather mode): the same choices with the columns of i
   (of i_p, i_n) gathered from their kernel columns in the same pass (the entries gl_gather
   writes, also written to Qi / Qp, Qn for the update).

   gl_axpy2_up / gl_axpy2_nu: G += Qi dai + Qj daj (the gradient update of a step) and, in the
   same pass, the next iteration's choice of i (gl_select_up's / gl_select_nu's with upm,
   sgn = -1, on the updated G); gl_gather_axpy2_up / _nu: the same
   with the second column gathered (gl_gather's entries yb y[k] col[rows[k]]) in the pass;
   gl_axpy: G += c Q; gl_axpy_gbar: G += c Q and, unless cu = 0, G_bar += cu Q in one pass, Q =
   a or (col not NULL) gathered as gl_gather does (a start's sums); gl_gather: out[k] = yt y[k]
   col[rows[k]], a column of Q from a cached kernel column in gather mode (LIBSVM's
   SVR_Q::get_Q; left to gcc's scalar loads, which AMD cores run faster than the AVX-512 gather
   instruction).

   The score of an entry (GL_WSS3_SCORE) and its value in the max of y G (GL_LOWYG). */
#define GL_WSS3_SCORE(GD, Q, TAU, LOW)                                                           \
    ((LOW) > 0.5 ? ((GD) > 0 ? ((GD) * (GD)) / ((Q) > 0 ? (Q) : (TAU)) : -1.0) : -1.0)
#define GL_LOWYG(YG, LOW) ((LOW) > 0.5 ? (YG) : -HUGE_VAL)

/* s c for a sign s = +-1 (a product of the signs) and a column entry c: the sign flipped by
   negation, which is the product's value bit for bit, with no conversions between precisions */
#define GL_SIGNED(S, C) ((S) > 0 ? (C) : -(C))

/* The bodies the select and gather variants share: they differ only in how an entry of Q is
   read, which the statement Q_STMT does (declaring qij, or bq; the gather variants also store
   the entries they gather). */
#define GL_UP_VALUE(G_, Y_, UP_) ((UP_) > 0.5 ? -((Y_) * (G_)) : -HUGE_VAL)

#define GL_WSS3_J_BODY(Q_STMT)                                                                     \
    double sb[GL_SB], lb[GL_SB];                                                                   \
    gl_amax st;                                                                                    \
    Py_ssize_t k0, t, len;                                                                         \
    GL_MAX_INIT(g2);                                                                               \
    gl_amax_init(&st, -0.5);                                                                       \
    for (k0 = 0; k0 < n; k0 += GL_SB) {                                                            \
        len = n - k0 < GL_SB ? n - k0 : GL_SB;                                                     \
        for (t = 0; t < len; t++) {                                                                \
            const Py_ssize_t j = k0 + t;                                                           \
            const double yj = y[j], yg = yj * G[j], gd = Gmax + yg;                                \
            Q_STMT                                                                                 \
            const double q = QDi + QD[j] - 2.0 * yi * yj * qij;                                    \
            sb[t] = GL_WSS3_SCORE(gd, q, tau, lowm[j]);                                            \
            lb[t] = GL_LOWYG(yg, lowm[j]);                                                         \
        }                                                                                          \
        gl_amax_add(&st, sb, len, k0, -1.0);                                                       \
        gl_max_add(&g2, lb, len);                                                                  \
    }                                                                                              \
    *gmax2 = gl_max_result(&g2);                                                                   \
    return gl_amax_result(&st, best);

#define GL_NU_WSS3_J_BODY(Q_STMT)                                                                  \
    double sb[GL_SB], lbp[GL_SB], lbn[GL_SB];                                                      \
    gl_amax st;                                                                                    \
    Py_ssize_t k0, t, len;                                                                         \
    GL_MAX_INIT(g2p);                                                                              \
    GL_MAX_INIT(g2n);                                                                              \
    gl_amax_init(&st, -0.5);                                                                       \
    for (k0 = 0; k0 < n; k0 += GL_SB) {                                                            \
        len = n - k0 < GL_SB ? n - k0 : GL_SB;                                                     \
        for (t = 0; t < len; t++) {                                                                \
            const Py_ssize_t j = k0 + t;                                                           \
            const double yj = y[j], yg = yj * G[j];                                                \
            const double gd = (yj > 0 ? Gmaxp : Gmaxn) + yg;                                       \
            Q_STMT                                                                                 \
            const double q = (yj > 0 ? QDp : QDn) + QD[j] - 2.0 * qij;                             \
            const double lw = GL_LOWYG(yg, lowm[j]);                                               \
            sb[t] = GL_WSS3_SCORE(gd, q, tau, lowm[j]);                                            \
            lbp[t] = yj > 0 ? lw : -HUGE_VAL;                                                      \
            lbn[t] = yj > 0 ? -HUGE_VAL : lw;                                                      \
        }                                                                                          \
        gl_amax_add(&st, sb, len, k0, -1.0);                                                       \
        gl_max_add(&g2p, lbp, len);                                                                \
        gl_max_add(&g2n, lbn, len);                                                                \
    }                                                                                              \
    *gmaxp2 = gl_max_result(&g2p);                                                                 \
    *gmaxn2 = gl_max_result(&g2n);                                                                 \
    return gl_amax_result(&st, best);

#define GL_AXPY2_UP_BODY(Q_STMT)                                                                   \
    double vb[GL_SB];                                                                              \
    gl_amax st;                                                                                    \
    Py_ssize_t k0, t, len;                                                                         \
    int idx;                                                                                       \
    gl_amax_init(&st, -HUGE_VAL);                                                                  \
    for (k0 = 0; k0 < n; k0 += GL_SB) {                                                            \
        len = n - k0 < GL_SB ? n - k0 : GL_SB;                                                     \
        for (t = 0; t < len; t++) {                                                                \
            const Py_ssize_t k = k0 + t;                                                           \
            Q_STMT                                                                                 \
            const double g = G[k] + ((double) a[k] * da + bq * db);                                \
            G[k] = g;                                                                              \
            vb[t] = GL_UP_VALUE(g, y[k], upm[k]);                                                  \
        }                                                                                          \
        gl_amax_add(&st, vb, len, k0, -HUGE_VAL);                                                  \
    }                                                                                              \
    idx = gl_amax_result(&st, gmax);                                                               \
    return *gmax == -HUGE_VAL ? -1 : idx;

#define GL_AXPY2_NU_BODY(Q_STMT)                                                                   \
    double vp[GL_SB], vn[GL_SB];                                                                   \
    gl_amax sp, sn;                                                                                \
    Py_ssize_t k0, t, len;                                                                         \
    gl_amax_init(&sp, -HUGE_VAL);                                                                  \
    gl_amax_init(&sn, -HUGE_VAL);                                                                  \
    for (k0 = 0; k0 < n; k0 += GL_SB) {                                                            \
        len = n - k0 < GL_SB ? n - k0 : GL_SB;                                                     \
        for (t = 0; t < len; t++) {                                                                \
            const Py_ssize_t k = k0 + t;                                                           \
            Q_STMT                                                                                 \
            const double g = G[k] + ((double) a[k] * da + bq * db);                                \
            const double v = GL_UP_VALUE(g, y[k], upm[k]);                                         \
            G[k] = g;                                                                              \
            vp[t] = y[k] > 0 ? v : -HUGE_VAL;                                                      \
            vn[t] = y[k] > 0 ? -HUGE_VAL : v;                                                      \
        }                                                                                          \
        gl_amax_add(&sp, vp, len, k0, -HUGE_VAL);                                                  \
        gl_amax_add(&sn, vn, len, k0, -HUGE_VAL);                                                  \
    }                                                                                              \
    gl_nu_results(&sp, &sn, gp, ip, gn, in);

#define GL_DEF_COLUMN_OPS(SUF, QT)                                                                 \
GL_SCAN_CLONES static int gl_select_wss3_j_##SUF(                                                  \
        Py_ssize_t n, const double* restrict G, const double* restrict y,                          \
        const double* restrict lowm, const double* restrict QD, const QT* restrict Qi,             \
        double Gmax, double QDi, double yi, double tau, double* best, double* gmax2) {             \
    GL_WSS3_J_BODY(const double qij = (double) Qi[j];)                                             \
}                                                                                                  \
GL_SCAN_CLONES static int gl_gather_wss3_j_##SUF(                                                  \
        Py_ssize_t n, const double* restrict G, const double* restrict y,                          \
        const double* restrict lowm, const double* restrict QD, const QT* restrict col,            \
        const int* restrict rows, QT* restrict Qi, double Gmax, double QDi, double yi,             \
        double tau, double* best, double* gmax2) {                                                 \
    GL_WSS3_J_BODY(const QT qv = GL_SIGNED(yi * yj, col[rows[j]]);                                 \
                   const double qij = (double) qv;                                                 \
                   Qi[j] = qv;)                                                                    \
}                                                                                                  \
GL_SCAN_CLONES static int gl_select_nu_wss3_j_##SUF(                                               \
        Py_ssize_t n, const double* restrict G, const double* restrict y,                          \
        const double* restrict lowm, const double* restrict QD, const QT* restrict Qp,             \
        const QT* restrict Qn, double Gmaxp, double Gmaxn, double QDp, double QDn, double tau,     \
        double* best, double* gmaxp2, double* gmaxn2) {                                            \
    GL_NU_WSS3_J_BODY(const double qij = yj > 0 ? (double) Qp[j] : (double) Qn[j];)                \
}                                                                                                  \
GL_SCAN_CLONES static int gl_gather_nu_wss3_j_##SUF(                                               \
        Py_ssize_t n, const double* restrict G, const double* restrict y,                          \
        const double* restrict lowm, const double* restrict QD, const QT* restrict colp,           \
        const QT* restrict coln, const int* restrict rows, QT* restrict Qp, QT* restrict Qn,       \
        double Gmaxp, double Gmaxn, double QDp, double QDn, double tau, double* best,              \
        double* gmaxp2, double* gmaxn2) {                                                          \
    GL_NU_WSS3_J_BODY(const QT qp = GL_SIGNED(yj, colp[rows[j]]);   /* y_p = +1, y_n = -1 */       \
                      const QT qn = GL_SIGNED(-1.0 * yj, coln[rows[j]]);                           \
                      const double qij = yj > 0 ? (double) qp : (double) qn;                       \
                      Qp[j] = qp;                                                                  \
                      Qn[j] = qn;)                                                                 \
}                                                                                                  \
GL_SCAN_CLONES static int gl_axpy2_up_##SUF(Py_ssize_t n, double* restrict G,                      \
                                            const QT* restrict a, double da,                       \
                                            const QT* restrict b, double db,                       \
                                            const double* restrict y,                              \
                                            const double* restrict upm, double* gmax) {            \
    GL_AXPY2_UP_BODY(const double bq = (double) b[k];)                                             \
}                                                                                                  \
GL_SCAN_CLONES static int gl_gather_axpy2_up_##SUF(Py_ssize_t n, double* restrict G,               \
                                                   const QT* restrict a, double da,                \
                                                   const QT* restrict col,                         \
                                                   const int* restrict rows, double yb,            \
                                                   double db, const double* restrict y,            \
                                                   const double* restrict upm, double* gmax) {     \
    GL_AXPY2_UP_BODY(const double bq = (double) GL_SIGNED(yb * y[k], col[rows[k]]);)               \
}                                                                                                  \
GL_SCAN_CLONES static void gl_axpy2_nu_##SUF(Py_ssize_t n, double* restrict G,                     \
                                             const QT* restrict a, double da,                      \
                                             const QT* restrict b, double db,                      \
                                             const double* restrict y,                             \
                                             const double* restrict upm, double* gp, int* ip,      \
                                             double* gn, int* in) {                                \
    GL_AXPY2_NU_BODY(const double bq = (double) b[k];)                                             \
}                                                                                                  \
GL_SCAN_CLONES static void gl_gather_axpy2_nu_##SUF(Py_ssize_t n, double* restrict G,              \
                                                    const QT* restrict a, double da,               \
                                                    const QT* restrict col,                        \
                                                    const int* restrict rows, double yb,           \
                                                    double db, const double* restrict y,           \
                                                    const double* restrict upm, double* gp,        \
                                                    int* ip, double* gn, int* in) {                \
    GL_AXPY2_NU_BODY(const double bq = (double) GL_SIGNED(yb * y[k], col[rows[k]]);)               \
}                                                                                                  \
GL_SCAN_CLONES static void gl_axpy_gbar_##SUF(Py_ssize_t n, double* restrict G,                   \
                                              double* restrict Gbar, double c, double cu,          \
                                              const QT* restrict a, const QT* restrict col,        \
                                              const int* restrict rows,                            \
                                              const double* restrict y, double yt) {               \
    Py_ssize_t k;                                                                                  \
    if (col != NULL) {                                                                             \
        for (k = 0; k < n; k++) {                                                                  \
            const double q = (double) GL_SIGNED(yt * y[k], col[rows[k]]);                          \
            G[k] += c * q;                                                                         \
            if (cu != 0.0) Gbar[k] += cu * q;                                                      \
        }                                                                                          \
    } else if (cu != 0.0) {                                                                        \
        for (k = 0; k < n; k++) {                                                                  \
            G[k] += c * (double) a[k];                                                             \
            Gbar[k] += cu * (double) a[k];                                                         \
        }                                                                                          \
    } else {                                                                                       \
        for (k = 0; k < n; k++) G[k] += c * (double) a[k];                                         \
    }                                                                                              \
}                                                                                                  \
GL_SCAN_CLONES static void gl_axpy_##SUF(Py_ssize_t n, double* restrict G, double c,               \
                                         const QT* restrict a) {                                   \
    Py_ssize_t k;                                                                                  \
    for (k = 0; k < n; k++) G[k] += c * (double) a[k];                                             \
}                                                                                                  \
GL_SCAN_CLONES static void gl_gather_##SUF(Py_ssize_t n, QT* restrict out,                         \
                                           const QT* restrict col, const int* restrict rows,       \
                                           const double* restrict y, double yt) {                  \
    Py_ssize_t k;      /* signs are exact in float: out[k] is +-col[rows[k]] */                    \
    for (k = 0; k < n; k++) out[k] = GL_SIGNED(yt * y[k], col[rows[k]]);                           \
}
GL_DEF_COLUMN_OPS(d, double)
GL_DEF_COLUMN_OPS(f, float)

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
#endif
