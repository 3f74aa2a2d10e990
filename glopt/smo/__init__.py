"""Production SMO solver (Cython)."""
from ._solver import openmp_max_threads

__all__ = ["openmp_max_threads"]
