"""Counting host synchronizations: the calls that read a tensor's data on the host.

:func:`count_host_syncs` patches, for the duration of a ``with`` block, every Python-level entry
point through which a tensor's values reach the host or an output's shape depends on its
values: ``Tensor.item``, ``__bool__``, ``__int__``, ``__float__``, ``__index__``, ``tolist``,
``cpu``, ``numpy``, ``__array__``, ``__format__``, ``__repr__``, ``nonzero``, ``to``/``copy_`` to
the CPU, indexing with a boolean mask, and ``torch.nonzero``, ``argwhere``, ``unique``,
``unique_consecutive``, ``masked_select``, ``bincount``, ``equal``, ``allclose``, ``is_nonzero``,
one-argument ``where`` and ``repeat_interleave`` without ``output_size``. It records each call
with the file and line of its caller. Where CUDA is present it also sets
``torch.cuda.set_sync_debug_mode("error")``, which catches the synchronizations made inside
torch's own C++ kernels (a blocking copy, a data-dependent output size). The benchmark
``benchmarks/bench_nn_gpu.py`` and the tests use it.
"""
from __future__ import annotations

import contextlib
import os
import sys
import warnings

import torch

#: Tensor methods that read the data on the host.
_TENSOR_METHODS = ("item", "__bool__", "__int__", "__float__", "__index__", "tolist", "cpu", "numpy", "__array__",
                   "__format__", "__repr__", "nonzero", "argwhere", "unique", "unique_consecutive",
                   "masked_select", "bincount", "equal", "allclose", "is_nonzero")
#: torch functions whose result (or its shape) depends on the data.
_TORCH_FUNCTIONS = ("nonzero", "argwhere", "unique", "unique_consecutive", "masked_select", "bincount", "equal",
                    "allclose", "is_nonzero")

_HERE = os.path.dirname(os.path.abspath(__file__))


def _caller() -> str:
    """File and line of the first frame outside this module and outside torch."""
    frame = sys._getframe(2)
    torch_dir = os.path.dirname(torch.__file__)
    while frame is not None:
        path = frame.f_code.co_filename
        if not (path.startswith(_HERE + os.sep + "_sync") or path.startswith(torch_dir)):
            return f"{os.path.basename(path)}:{frame.f_lineno}"
        frame = frame.f_back
    return "?"


def _is_cpu(device) -> bool:
    if device is None:
        return False
    if isinstance(device, str):
        return device.split(":")[0] == "cpu"
    return isinstance(device, torch.device) and device.type == "cpu"


def _mask_index(index) -> bool:
    """Whether an index holds a boolean (or uint8) tensor: indexing by it is a nonzero (a sync)."""
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, torch.Tensor) and i.dtype in (torch.bool, torch.uint8) for i in items)


class SyncLog(list):
    """The recorded Python-level calls, each ``"name at file:line"``; ``len()`` is their number.

    ``cuda`` holds the messages of the synchronizations torch's CUDA debug mode reported (mode
    "warn" only; in mode "error" the first one raises).
    """

    def __init__(self):
        super().__init__()
        self.cuda = []


@contextlib.contextmanager
def count_host_syncs(cuda_debug="error"):
    """Record every host synchronization made inside the block (see the module docstring).

    Parameters
    ----------
    cuda_debug : {"error", "warn", False}, default="error"
        Where CUDA is available, run the block under ``torch.cuda.set_sync_debug_mode``: "error"
        raises RuntimeError at a synchronization inside torch's CUDA kernels, "warn" records each
        in ``SyncLog.cuda``; False leaves the mode alone.

    Yields
    ------
    SyncLog
        The list of recorded calls, filled while the block runs.
    """
    if cuda_debug not in ("error", "warn", False):
        raise ValueError(f"cuda_debug must be 'error', 'warn' or False, got {cuda_debug!r}")
    log = SyncLog()
    depth = [0]           # a counted call that calls another counted one (cpu -> to) counts once
    saved = []

    def wrap(owner, name, original, test=None):
        def patched(*args, **kwargs):
            counted = depth[0] == 0 and (test is None or test(*args, **kwargs))
            if counted:
                log.append(f"{owner.__name__}.{name} at {_caller()}")
            depth[0] += 1
            try:
                return original(*args, **kwargs)
            finally:
                depth[0] -= 1
        return patched

    def patch(owner, name, test=None):
        if not hasattr(owner, name):
            return
        own = name in vars(owner)
        original = getattr(owner, name)
        saved.append((owner, name, own, vars(owner).get(name)))
        setattr(owner, name, wrap(owner, name, original, test))

    def to_cpu(self, *args, **kwargs):
        device = kwargs.get("device", args[0] if args and not isinstance(args[0], torch.dtype) else None)
        if isinstance(device, torch.Tensor):
            device = device.device
        return _is_cpu(device) and self.device.type != "cpu"

    for name in _TENSOR_METHODS:
        patch(torch.Tensor, name)
    patch(torch.Tensor, "to", to_cpu)
    patch(torch.Tensor, "copy_", lambda self, src, *a, **k: self.device.type == "cpu" and src.device.type != "cpu")
    patch(torch.Tensor, "__getitem__", lambda self, index: _mask_index(index))
    patch(torch.Tensor, "__setitem__", lambda self, index, value: _mask_index(index))
    for name in _TORCH_FUNCTIONS:
        patch(torch, name)
    patch(torch, "where", lambda *args, **kwargs: len(args) + len(kwargs) == 1)
    patch(torch, "repeat_interleave", lambda *args, **kwargs: "output_size" not in kwargs
          and len(args) >= 2 and isinstance(args[1], torch.Tensor) or (len(args) == 1))
    cuda = bool(cuda_debug) and torch.cuda.is_available()
    mode = torch.cuda.get_sync_debug_mode() if cuda else None
    caught = contextlib.nullcontext([])
    if cuda and cuda_debug == "warn":
        caught = warnings.catch_warnings(record=True)
    try:
        with caught as records:
            if cuda and cuda_debug == "warn":
                warnings.simplefilter("always")
            if cuda:
                torch.cuda.set_sync_debug_mode(cuda_debug)
            try:
                yield log
            finally:
                if cuda:
                    torch.cuda.set_sync_debug_mode(mode)
        log.cuda.extend(str(w.message) for w in records if "synchroniz" in str(w.message).lower())
    finally:
        for owner, name, own, value in reversed(saved):
            if own:
                setattr(owner, name, value)
            else:
                delattr(owner, name)
