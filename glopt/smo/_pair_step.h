/* LIBSVM's two-variable step (svm.cpp, Solver::Solve): the pair (i, j) moved along the equality
   constraint to the minimum of the dual on that line, clipped to the box [0, Ci] x [0, Cj].
   Shared by the engine (glopt/smo/_solver.pyx) and the blocked phase's local SMO
   (glopt/smo/_blocks.pyx), so that both take the same step with the same arithmetic. */
#ifndef GLOPT_SMO_PAIR_STEP_H
#define GLOPT_SMO_PAIR_STEP_H

#define GL_TAU 1e-12   /* LIBSVM's TAU: the curvature used when a pair's is not positive */

/* In: the signs yi, yj, the diagonal entries QDi, QDj and Qij of Q, the gradient entries Gi, Gj,
   the bounds Ci, Cj; *ai, *aj the pair's values, replaced by the new ones. */
static inline void gl_pair_step(double yi, double yj, double QDi, double QDj, double Qij,
                                double Gi, double Gj, double Ci, double Cj, double* ai,
                                double* aj) {
    double quad_coef, delta, diff, s;
    double a_i = *ai, a_j = *aj;
    if (yi != yj) {
        quad_coef = QDi + QDj + 2.0 * Qij;
        if (quad_coef <= 0) quad_coef = GL_TAU;
        delta = (-Gi - Gj) / quad_coef;
        diff = a_i - a_j;
        a_i += delta;
        a_j += delta;
        if (diff > 0) {
            if (a_j < 0) { a_j = 0; a_i = diff; }
        } else {
            if (a_i < 0) { a_i = 0; a_j = -diff; }
        }
        if (diff > Ci - Cj) {
            if (a_i > Ci) { a_i = Ci; a_j = Ci - diff; }
        } else {
            if (a_j > Cj) { a_j = Cj; a_i = Cj + diff; }
        }
    } else {
        quad_coef = QDi + QDj - 2.0 * Qij;
        if (quad_coef <= 0) quad_coef = GL_TAU;
        delta = (Gi - Gj) / quad_coef;
        s = a_i + a_j;
        a_i -= delta;
        a_j += delta;
        if (s > Ci) {
            if (a_i > Ci) { a_i = Ci; a_j = s - Ci; }
        } else {
            if (a_j < 0) { a_j = 0; a_i = s; }
        }
        if (s > Cj) {
            if (a_j > Cj) { a_j = Cj; a_i = s - Cj; }
        } else {
            if (a_i < 0) { a_i = 0; a_j = s; }
        }
    }
    *ai = a_i;
    *aj = a_j;
}

#endif
