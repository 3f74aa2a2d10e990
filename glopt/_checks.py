"""Input checks shared by every layer: each error names the offending argument."""
from __future__ import annotations

import numbers
import os

import numpy as np

#: The smallest stopping tolerance glopt's iterative solvers accept: below it the stopping tests
#: compare numbers that differ only in their rounding (a solver would run to its iteration cap).
TOL_MIN = 1e-15


def _is_sparse(x) -> bool:
    return type(x).__module__.startswith("scipy.sparse")


def as_float_array(x, name: str, ndim: int | None = None, allow_empty: bool = False) -> np.ndarray:
    """``x`` as a finite real float64 array with ``ndim`` dimensions (C-contiguous).

    Refused, each with a message naming ``name``: None, sparse matrices (convert with
    ``.toarray()``), complex values (the imaginary part would be lost silently), non-numeric
    entries, the wrong number of dimensions, empty arrays, NaN and infinity.
    """
    if x is None:
        raise TypeError(f"{name} must be an array, got None")
    if _is_sparse(x):
        raise TypeError(f"{name} is a scipy.sparse matrix; this function takes dense arrays "
                        f"(use {name}.toarray())")
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array: {exc}") from None
    if raw.dtype.kind == "c" or (raw.dtype == object and any(isinstance(v, complex) for v in raw.ravel()[:1000])):
        raise ValueError(f"{name} is complex (dtype {raw.dtype}); glopt works with real numbers only")
    if raw.dtype.kind in "USVMmO" and raw.dtype != object:
        raise ValueError(f"{name} must be a numeric array, got dtype {raw.dtype}")
    try:
        arr = np.ascontiguousarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array: {exc}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity")
    return arr


def squared_norms(X: np.ndarray, name: str = "X") -> np.ndarray:
    """Squared row norms of a finite 2-D array; refuses rows whose squared norm overflows.

    Kernel values are built from them (|x|^2 + |z|^2 - 2 x.z for the RBF kernel), so an
    overflow here turns every kernel value into NaN or infinity downstream.
    """
    sq = np.einsum("ij,ij->i", X, X)
    if not np.all(np.isfinite(4.0 * sq)):
        raise ValueError(f"{name} is too large for floating point: its squared row norms overflow "
                         f"(largest |entry| {np.abs(X).max():.3g}); scale {name} (e.g. StandardScaler)")
    return sq


def real_scalar(value, name: str) -> float:
    """A finite real number (not a bool, not a string)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def positive_scalar(value, name: str, allow_zero: bool = False) -> float:
    """A finite real number > 0 (or >= 0)."""
    value = real_scalar(value, name)
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}")
    return value


def tolerance(value, name: str = "tol") -> float:
    """A stopping tolerance: a finite number >= TOL_MIN."""
    value = positive_scalar(value, name)
    if value < TOL_MIN:
        raise ValueError(f"{name} must be >= {TOL_MIN:g} (below that the stopping test is decided by "
                         f"rounding and the solver would run to its iteration cap), got {value!r}")
    return value


def positive_int(value, name: str, low: int = 1) -> int:
    """An integer >= low (not a bool, not a float)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def boolean(value, name: str) -> bool:
    """True or False (numpy bools and the integers 0 and 1 too); strings and others are refused."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value)
    raise ValueError(f"{name} must be True or False, got {value!r}")


def choice(value, name: str, options) -> object:
    """``value`` if it is one of ``options`` (booleans never stand for 0 or 1)."""
    if isinstance(value, (bool, np.bool_)) and not any(isinstance(o, bool) for o in options):
        raise ValueError(f"{name} must be one of {sorted(map(str, options))}, got {value!r}")
    try:
        ok = value in options
    except TypeError:  # unhashable or not comparable
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {sorted(map(str, options))}, got {value!r}")
    return value


def consistent_length(n: int, **arrays) -> None:
    """Every keyword array has ``n`` rows."""
    for name, arr in arrays.items():
        if arr is not None and arr.shape[0] != n:
            raise ValueError(f"{name} has {arr.shape[0]} rows but X has {n}")


def binary_labels(y, name: str = "y") -> np.ndarray:
    """Labels of a two-class problem as +-1 floats; must already be in {-1, +1}."""
    y = as_float_array(y, name, ndim=1)
    values = np.unique(y)
    if values.size < 2:
        raise ValueError(f"{name} has a single class ({values[0]:g}); two are needed")
    if values.size > 2 or not np.all(np.isin(values, (-1.0, 1.0))):
        raise ValueError(f"{name} must hold labels in {{-1, +1}}, got values {values[:5]}")
    return y


def class_labels(y, n: int, name: str = "y") -> np.ndarray:
    """Class labels of any hashable kind (1-D, length n), refusing missing values (NaN, None)."""
    if _is_sparse(y):
        raise TypeError(f"{name} must be a 1-D array of class labels, not a sparse matrix")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got shape {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"{name} has {y.shape[0]} rows but X has {n}")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(f"{name} contains NaN or infinity (missing class labels)")
    if y.dtype == object and any(v is None or (isinstance(v, float) and not np.isfinite(v)) for v in y):
        raise ValueError(f"{name} contains missing class labels (None or NaN)")
    return y


def resolve_n_jobs(n_jobs, max_threads: int) -> int:
    """Threads for n_jobs: None = all (``max_threads``, OpenMP's count), k > 0 = k, -k = all but k-1.

    Capped at the number of CPUs (or OpenMP's thread count, if larger): more threads only add
    contention in compute-bound kernels, and asking OpenMP for tens of thousands crashes it.
    """
    if n_jobs is None:
        return max(1, int(max_threads))
    if isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(f"n_jobs must be None or a nonzero integer, got {n_jobs!r}")
    total = max(1, int(max_threads), os.cpu_count() or 1)
    if n_jobs > 0:
        return min(int(n_jobs), total)
    return max(1, total + 1 + int(n_jobs))
