# cython: language_level=3
"""Compiled core of glopt's SMO engine (filled by the SMO issue)."""
cimport openmp


def openmp_max_threads():
    """Number of OpenMP threads the extension would use by default."""
    return openmp.omp_get_max_threads()
