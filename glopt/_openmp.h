/* The OpenMP calls of glopt's extensions, also where the build has no OpenMP (the compiler lacks
   it, or GLOPT_OPENMP=0): prange then runs its loop serially on one thread, which these stubs
   report, so the same Cython code builds either way. */
#ifndef GLOPT_OPENMP_H
#define GLOPT_OPENMP_H
#ifdef _OPENMP
#include <omp.h>
static inline int gl_omp_max_threads(void) { return omp_get_max_threads(); }
static inline int gl_omp_thread_num(void) { return omp_get_thread_num(); }
#else
static inline int gl_omp_max_threads(void) { return 1; }
static inline int gl_omp_thread_num(void) { return 0; }
#endif
#endif
