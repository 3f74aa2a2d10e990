"""Input checks shared by every layer: each error names the offending argument."""
from __future__ import annotations

import numbers

import numpy as np


def as_float_array(x, name: str, ndim: int | None = None) -> np.ndarray:
    """``x`` as a finite float64 array with ``ndim`` dimensions (C-contiguous)."""
    try:
        arr = np.ascontiguousarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array: {exc}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity")
    return arr


def positive_scalar(value, name: str, allow_zero: bool = False) -> float:
    """A finite real number > 0 (or >= 0)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}")
    return value


def choice(value, name: str, options) -> object:
    """``value`` if it is one of ``options``."""
    if value not in options:
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


def resolve_n_jobs(n_jobs, max_threads: int) -> int:
    """Threads for n_jobs: None = all (``max_threads``, OpenMP's count), k > 0 = k, -k = all but k-1."""
    import os

    if n_jobs is None:
        return max(1, int(max_threads))
    if isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(f"n_jobs must be None or a nonzero integer, got {n_jobs!r}")
    if n_jobs > 0:
        return int(n_jobs)
    total = max(1, int(max_threads), os.cpu_count() or 1)
    return max(1, total + 1 + int(n_jobs))
