/* Operations on a column of Q for the SMO engine (glopt/smo/_solver.pyx): the working-set
   selection scans and the gradient updates, each for double and single-precision columns. */
#ifndef GLOPT_SMO_COLUMN_OPS_H
#define GLOPT_SMO_COLUMN_OPS_H
#include <Python.h>   /* Py_ssize_t */
#include <math.h>     /* HUGE_VAL */

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

/* Working-set selection scans. upm[t] / lowm[t] are 1.0 when variable t is in I_up / I_low
   (it may move so as to raise / lower y^T a... i.e. y_t a_t up / down), else 0.0. The scans are
   branch-free where the data decide, and the choices are exactly those of LIBSVM's
   select_working_set (ties go to the last index). */

/* i = argmax over I_up of -y_t G_t; returns -1 if I_up is empty. */
GL_SCAN_CLONES static int gl_select_up(Py_ssize_t n, const double* restrict G, const double* restrict y,
                        const double* restrict upm, double* gmax) {
    double best = -HUGE_VAL;
    int idx = -1;
    Py_ssize_t t;
    for (t = 0; t < n; t++) {
        double v = upm[t] > 0.5 ? -(y[t] * G[t]) : -HUGE_VAL;
        if (v >= best) { best = v; idx = (int) t; }
    }
    *gmax = best;
    return best == -HUGE_VAL ? -1 : idx;
}

/* j = argmax over I_low of y_t G_t (WSS1); returns -1 if I_low is empty. */
GL_SCAN_CLONES static int gl_select_low(Py_ssize_t n, const double* restrict G, const double* restrict y,
                         const double* restrict lowm, double* gmax2) {
    double best = -HUGE_VAL;
    int idx = -1;
    Py_ssize_t t;
    for (t = 0; t < n; t++) {
        double v = lowm[t] > 0.5 ? y[t] * G[t] : -HUGE_VAL;
        if (v >= best) { best = v; idx = (int) t; }
    }
    *gmax2 = best;
    return best == -HUGE_VAL ? -1 : idx;
}

/* The nu mode's scans (LIBSVM's Solver_NU): the same maxima within each sign class.
   v_t = sgn * y_t G_t over the t with mask[t] (sgn = -1 with upm: -y G over I_up; sgn = +1 with
   lowm: y G over I_low); *gp, *ip: max and argmax over y_t = +1, *gn, *in over y_t = -1 (-1 and
   -HUGE_VAL where the class has none). Ties go to the last index, as in LIBSVM. */
GL_SCAN_CLONES static void gl_select_nu(Py_ssize_t n, const double* restrict G, const double* restrict y,
                         const double* restrict mask, double sgn, double* gp, int* ip,
                         double* gn, int* in) {
    double bp = -HUGE_VAL, bn = -HUGE_VAL;
    int kp = -1, kn = -1;
    Py_ssize_t t;
    for (t = 0; t < n; t++) {
        double v = mask[t] > 0.5 ? sgn * (y[t] * G[t]) : -HUGE_VAL;
        if (y[t] > 0) {
            if (v >= bp) { bp = v; kp = (int) t; }
        } else {
            if (v >= bn) { bn = v; kn = (int) t; }
        }
    }
    *gp = bp;
    *gn = bn;
    *ip = bp == -HUGE_VAL ? -1 : kp;
    *in = bn == -HUGE_VAL ? -1 : kn;
}

/* Second-order choice of j for a given i (LIBSVM WSS3): over I_low with
   grad_diff = Gmax + y_j G_j > 0, maximize grad_diff^2 / quad_coef (quad_coef = QD_i + QD_j -
   2 y_i y_j Q_ij, replaced by tau when <= 0), i.e. minimize LIBSVM's obj_diff = -that. Also
   returns Gmax2 = max over I_low of y_j G_j. score and lowyg: scratch arrays of length n.
   The column Qi is double (_d) or single precision (_f, LIBSVM's Qfloat, promoted exactly).

   gl_select_nu_wss3_j: the nu mode's choice of j (LIBSVM Solver_NU::select_working_set): the
   same score, j within the sign class of its i (Qp, Gmaxp, QDp for y_j = +1 with the class's
   i_p; Qn, Gmaxn, QDn for y_j = -1), the best over both classes; also Gmaxp2 / Gmaxn2, the max
   over I_low of y_j G_j within each class. A class without i has Gmax = -HUGE_VAL, so that none
   of its j qualifies (its column pointer must still be readable: pass the other class's).

   gl_gather_wss3_j / gl_gather_nu_wss3_j (gather mode): the same choices with the columns of i
   (of i_p, i_n) gathered from their kernel columns in the same pass (the entries gl_gather
   writes, also written to Qi / Qp, Qn for the update).

   gl_axpy2: G += Qi dai + Qj daj (the gradient update of a step); gl_axpy2_up / gl_axpy2_nu: the
   same update and, in the same pass, the next iteration's choice of i (gl_select_up's /
   gl_select_nu's with upm, sgn = -1, on the updated G); gl_axpy: G += c Q;
   gl_gather: out[k] = yt y[k] col[rows[k]], a column of Q from a cached kernel column in gather
   mode (LIBSVM's SVR_Q::get_Q; left to gcc's scalar loads, which AMD cores run faster than the
   AVX-512 gather instruction). */
#define GL_DEF_COLUMN_OPS(SUF, QT)                                                         \
GL_SCAN_CLONES static int gl_select_wss3_j_##SUF(Py_ssize_t n, const double* restrict G,                   \
                                  const double* restrict y, const double* restrict lowm,    \
                                  const double* restrict QD, const QT* restrict Qi,         \
                                  double Gmax, double QDi, double yi, double tau,           \
                                  double* restrict score, double* restrict lowyg,           \
                                  double* gmax2) {                                          \
    Py_ssize_t j;                                                                           \
    double best = -0.5, g2 = -HUGE_VAL;                                                     \
    int idx = -1;                                                                           \
    for (j = 0; j < n; j++) {          /* vectorized */                                     \
        double yj = y[j];                                                                   \
        double yg = yj * G[j];                                                              \
        double gd = Gmax + yg;                                                              \
        double q = QDi + QD[j] - 2.0 * yi * yj * (double) Qi[j];                            \
        double sc;                                                                          \
        q = q > 0 ? q : tau;                                                                \
        sc = (gd * gd) / q;                                                                 \
        sc = gd > 0 ? sc : -1.0;                                                            \
        score[j] = lowm[j] > 0.5 ? sc : -1.0;                                               \
        lowyg[j] = lowm[j] > 0.5 ? yg : -HUGE_VAL;                                          \
    }                                                                                       \
    for (j = 0; j < n; j++) {                                                               \
        double sc = score[j], v = lowyg[j];                                                 \
        if (sc >= best) { best = sc; idx = (int) j; }                                       \
        g2 = v > g2 ? v : g2;                                                               \
    }                                                                                       \
    *gmax2 = g2;                                                                            \
    return idx;                                                                             \
}                                                                                           \
GL_SCAN_CLONES static int gl_select_nu_wss3_j_##SUF(Py_ssize_t n, const double* restrict G,                \
                                     const double* restrict y, const double* restrict lowm, \
                                     const double* restrict QD, const QT* restrict Qp,      \
                                     const QT* restrict Qn, double Gmaxp, double Gmaxn,     \
                                     double QDp, double QDn, double tau,                    \
                                     double* restrict score, double* restrict lowyg,        \
                                     double* gmaxp2, double* gmaxn2) {                      \
    Py_ssize_t j;                                                                           \
    double best = -0.5, g2p = -HUGE_VAL, g2n = -HUGE_VAL;                                   \
    int idx = -1;                                                                           \
    for (j = 0; j < n; j++) {          /* vectorized */                                     \
        double yj = y[j];                                                                   \
        double yg = yj * G[j];                                                              \
        double gd = (yj > 0 ? Gmaxp : Gmaxn) + yg;                                          \
        double qij = yj > 0 ? (double) Qp[j] : (double) Qn[j];                              \
        double q = (yj > 0 ? QDp : QDn) + QD[j] - 2.0 * qij;                                \
        double sc;                                                                          \
        q = q > 0 ? q : tau;                                                                \
        sc = (gd * gd) / q;                                                                 \
        sc = gd > 0 ? sc : -1.0;                                                            \
        score[j] = lowm[j] > 0.5 ? sc : -1.0;                                               \
        lowyg[j] = lowm[j] > 0.5 ? yg : -HUGE_VAL;                                          \
    }                                                                                       \
    for (j = 0; j < n; j++) {                                                               \
        double sc = score[j], v = lowyg[j];                                                 \
        if (sc >= best) { best = sc; idx = (int) j; }                                       \
        if (y[j] > 0) g2p = v > g2p ? v : g2p;                                              \
        else g2n = v > g2n ? v : g2n;                                                       \
    }                                                                                       \
    *gmaxp2 = g2p;                                                                          \
    *gmaxn2 = g2n;                                                                          \
    return idx;                                                                             \
}                                                                                           \
GL_SCAN_CLONES static int gl_gather_wss3_j_##SUF(Py_ssize_t n, const double* restrict G,    \
                                  const double* restrict y, const double* restrict lowm,    \
                                  const double* restrict QD, const QT* restrict col,        \
                                  const int* restrict rows, QT* restrict Qi,                \
                                  double Gmax, double QDi, double yi, double tau,           \
                                  double* restrict score, double* restrict lowyg,           \
                                  double* gmax2) {                                          \
    Py_ssize_t j;                                                                           \
    double best = -0.5, g2 = -HUGE_VAL;                                                     \
    int idx = -1;                                                                           \
    for (j = 0; j < n; j++) {                                                               \
        double yj = y[j];                                                                   \
        QT qv = (QT) (yi * yj * (double) col[rows[j]]);                                     \
        double yg = yj * G[j];                                                              \
        double gd = Gmax + yg;                                                              \
        double q = QDi + QD[j] - 2.0 * yi * yj * (double) qv;                               \
        double sc;                                                                          \
        Qi[j] = qv;                                                                         \
        q = q > 0 ? q : tau;                                                                \
        sc = (gd * gd) / q;                                                                 \
        sc = gd > 0 ? sc : -1.0;                                                            \
        score[j] = lowm[j] > 0.5 ? sc : -1.0;                                               \
        lowyg[j] = lowm[j] > 0.5 ? yg : -HUGE_VAL;                                          \
    }                                                                                       \
    for (j = 0; j < n; j++) {                                                               \
        double sc = score[j], v = lowyg[j];                                                 \
        if (sc >= best) { best = sc; idx = (int) j; }                                       \
        g2 = v > g2 ? v : g2;                                                               \
    }                                                                                       \
    *gmax2 = g2;                                                                            \
    return idx;                                                                             \
}                                                                                           \
GL_SCAN_CLONES static int gl_gather_nu_wss3_j_##SUF(Py_ssize_t n, const double* restrict G, \
                                     const double* restrict y, const double* restrict lowm, \
                                     const double* restrict QD, const QT* restrict colp,    \
                                     const QT* restrict coln, const int* restrict rows,     \
                                     QT* restrict Qp, QT* restrict Qn, double Gmaxp,        \
                                     double Gmaxn, double QDp, double QDn, double tau,      \
                                     double* restrict score, double* restrict lowyg,        \
                                     double* gmaxp2, double* gmaxn2) {                      \
    Py_ssize_t j;                                                                           \
    double best = -0.5, g2p = -HUGE_VAL, g2n = -HUGE_VAL;                                   \
    int idx = -1;                                                                           \
    for (j = 0; j < n; j++) {                                                               \
        double yj = y[j];                                                                   \
        QT qp = (QT) (yj * (double) colp[rows[j]]);     /* y_p = +1, y_n = -1 */            \
        QT qn = (QT) (-1.0 * yj * (double) coln[rows[j]]);                                  \
        double yg = yj * G[j];                                                              \
        double gd = (yj > 0 ? Gmaxp : Gmaxn) + yg;                                          \
        double qij = yj > 0 ? (double) qp : (double) qn;                                    \
        double q = (yj > 0 ? QDp : QDn) + QD[j] - 2.0 * qij;                                \
        double sc;                                                                          \
        Qp[j] = qp;                                                                         \
        Qn[j] = qn;                                                                         \
        q = q > 0 ? q : tau;                                                                \
        sc = (gd * gd) / q;                                                                 \
        sc = gd > 0 ? sc : -1.0;                                                            \
        score[j] = lowm[j] > 0.5 ? sc : -1.0;                                               \
        lowyg[j] = lowm[j] > 0.5 ? yg : -HUGE_VAL;                                          \
    }                                                                                       \
    for (j = 0; j < n; j++) {                                                               \
        double sc = score[j], v = lowyg[j];                                                 \
        if (sc >= best) { best = sc; idx = (int) j; }                                       \
        if (y[j] > 0) g2p = v > g2p ? v : g2p;                                              \
        else g2n = v > g2n ? v : g2n;                                                       \
    }                                                                                       \
    *gmaxp2 = g2p;                                                                          \
    *gmaxn2 = g2n;                                                                          \
    return idx;                                                                             \
}                                                                                           \
GL_SCAN_CLONES static void gl_axpy2_##SUF(Py_ssize_t n, double* restrict G, const QT* restrict a,          \
                           double da, const QT* restrict b, double db) {                    \
    Py_ssize_t k;                                                                           \
    for (k = 0; k < n; k++) G[k] += (double) a[k] * da + (double) b[k] * db;                \
}                                                                                           \
GL_SCAN_CLONES static int gl_axpy2_up_##SUF(Py_ssize_t n, double* restrict G,              \
                                            const QT* restrict a, double da,                \
                                            const QT* restrict b, double db,                \
                                            const double* restrict y,                       \
                                            const double* restrict upm, double* gmax) {     \
    Py_ssize_t k;                                                                           \
    double best = -HUGE_VAL;                                                                \
    int idx = -1;                                                                           \
    for (k = 0; k < n; k++) {                                                               \
        double g = G[k] + ((double) a[k] * da + (double) b[k] * db);                        \
        double v = upm[k] > 0.5 ? -(y[k] * g) : -HUGE_VAL;                                  \
        G[k] = g;                                                                           \
        if (v >= best) { best = v; idx = (int) k; }                                         \
    }                                                                                       \
    *gmax = best;                                                                           \
    return best == -HUGE_VAL ? -1 : idx;                                                    \
}                                                                                           \
GL_SCAN_CLONES static void gl_axpy2_nu_##SUF(Py_ssize_t n, double* restrict G,              \
                                             const QT* restrict a, double da,               \
                                             const QT* restrict b, double db,               \
                                             const double* restrict y,                      \
                                             const double* restrict upm, double* gp,        \
                                             int* ip, double* gn, int* in) {                \
    Py_ssize_t k;                                                                           \
    double bp = -HUGE_VAL, bn = -HUGE_VAL;                                                  \
    int kp = -1, kn = -1;                                                                   \
    for (k = 0; k < n; k++) {                                                               \
        double g = G[k] + ((double) a[k] * da + (double) b[k] * db);                        \
        double v = upm[k] > 0.5 ? -(y[k] * g) : -HUGE_VAL;                                  \
        G[k] = g;                                                                           \
        if (y[k] > 0) {                                                                     \
            if (v >= bp) { bp = v; kp = (int) k; }                                          \
        } else {                                                                            \
            if (v >= bn) { bn = v; kn = (int) k; }                                          \
        }                                                                                   \
    }                                                                                       \
    *gp = bp;                                                                               \
    *gn = bn;                                                                               \
    *ip = bp == -HUGE_VAL ? -1 : kp;                                                        \
    *in = bn == -HUGE_VAL ? -1 : kn;                                                        \
}                                                                                           \
GL_SCAN_CLONES static int gl_gather_axpy2_up_##SUF(Py_ssize_t n, double* restrict G,       \
                                            const QT* restrict a, double da,                \
                                            const QT* restrict col,                         \
                                            const int* restrict rows, double yb, double db, \
                                            const double* restrict y,                       \
                                            const double* restrict upm, double* gmax) {     \
    Py_ssize_t k;                                                                           \
    double best = -HUGE_VAL;                                                                \
    int idx = -1;                                                                           \
    for (k = 0; k < n; k++) {                                                               \
        QT bk = (QT) (yb * y[k] * (double) col[rows[k]]);                                   \
        double g = G[k] + ((double) a[k] * da + (double) bk * db);                          \
        double v = upm[k] > 0.5 ? -(y[k] * g) : -HUGE_VAL;                                  \
        G[k] = g;                                                                           \
        if (v >= best) { best = v; idx = (int) k; }                                         \
    }                                                                                       \
    *gmax = best;                                                                           \
    return best == -HUGE_VAL ? -1 : idx;                                                    \
}                                                                                           \
GL_SCAN_CLONES static void gl_gather_axpy2_nu_##SUF(Py_ssize_t n, double* restrict G,       \
                                             const QT* restrict a, double da,               \
                                             const QT* restrict col,                        \
                                             const int* restrict rows, double yb,           \
                                             double db, const double* restrict y,           \
                                             const double* restrict upm, double* gp,        \
                                             int* ip, double* gn, int* in) {                \
    Py_ssize_t k;                                                                           \
    double bp = -HUGE_VAL, bn = -HUGE_VAL;                                                  \
    int kp = -1, kn = -1;                                                                   \
    for (k = 0; k < n; k++) {                                                               \
        QT bk = (QT) (yb * y[k] * (double) col[rows[k]]);                                   \
        double g = G[k] + ((double) a[k] * da + (double) bk * db);                          \
        double v = upm[k] > 0.5 ? -(y[k] * g) : -HUGE_VAL;                                  \
        G[k] = g;                                                                           \
        if (y[k] > 0) {                                                                     \
            if (v >= bp) { bp = v; kp = (int) k; }                                          \
        } else {                                                                            \
            if (v >= bn) { bn = v; kn = (int) k; }                                          \
        }                                                                                   \
    }                                                                                       \
    *gp = bp;                                                                               \
    *gn = bn;                                                                               \
    *ip = bp == -HUGE_VAL ? -1 : kp;                                                        \
    *in = bn == -HUGE_VAL ? -1 : kn;                                                        \
}                                                                                           \
GL_SCAN_CLONES static void gl_axpy_##SUF(Py_ssize_t n, double* restrict G, double c,                       \
                          const QT* restrict a) {                                           \
    Py_ssize_t k;                                                                           \
    for (k = 0; k < n; k++) G[k] += c * (double) a[k];                                      \
}                                                                                           \
GL_SCAN_CLONES static void gl_gather_##SUF(Py_ssize_t n, QT* restrict out,                \
                                           const QT* restrict col, const int* restrict rows, \
                                           const double* restrict y, double yt) {          \
    Py_ssize_t k;      /* signs are exact in float: out[k] is +-col[rows[k]] */             \
    for (k = 0; k < n; k++) out[k] = (QT) (yt * y[k] * (double) col[rows[k]]);              \
}
GL_DEF_COLUMN_OPS(d, double)
GL_DEF_COLUMN_OPS(f, float)

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
#endif
