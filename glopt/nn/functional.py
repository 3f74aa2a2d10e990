"""Functional forms of the torch losses (docs/mathematics.md §8).

Every function takes ``(input, target, ...)`` in torch's order and a ``reduction`` in
{'mean', 'sum', 'none'}. The correlation matrix S is built with :func:`glopt.kernels.s_from_sqdist`
and :func:`glopt.kernels.squared_distances` evaluated on tensors (``xp=torch``): the S formulas
exist once, for numpy and torch alike. Random Fourier features draw their frequencies with
:func:`glopt.kernels.spectral_frequencies`, the sampler of :class:`glopt.kernels.RandomFeatureCorrelation`.

No loss reads a tensor's values on the host by default: forward and backward make no host
synchronization, so they queue on a CUDA stream like torch's own losses. The checks that need the
values (finite entries, targets in {-1, +1}, class indices in range, a nonzero median distance for
``gamma_s='scale'``) run when asked: ``validate_args=True`` on a call or a module, or
:func:`set_default_validate_args` for all of them (as ``torch.distributions`` does). Shapes,
dtypes, devices and options are always checked (metadata, no sync).
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
import torch

from .._checks import choice, positive_scalar
from ..kernels import check_s_params, s_from_sqdist, spectral_frequencies, squared_distances
from . import _core

REDUCTIONS = ("mean", "sum", "none")
TASKS = ("regression", "classification")
S_APPROX = ("exact", "rff")
#: gamma_s='scale' takes the median squared distance over the pairs of at most this many samples
#: (the first of the batch), so that its cost does not grow with B (the RFF path stays linear).
SCALE_SAMPLES = 128

_VALIDATE_ARGS = False


# --------------------------------------------------------------------------------------
# the validation switch
# --------------------------------------------------------------------------------------
def set_default_validate_args(value: bool) -> bool:
    """Set whether the losses check the values of their tensors when a call does not say.

    The value checks are: finite ``input``, ``target``, ``features`` and weights; binary targets
    in {-1, +1}; class indices in [0, K) (or equal to ``ignore_index``); per-class weights >= 0;
    and, for ``gamma_s='scale'``, a batch whose features have two distinct rows. Each reads a
    tensor on the host (a device-to-host synchronization on a GPU), so they are off by default,
    the analogue of ``torch.distributions.Distribution.set_default_validate_args``. A loss's
    ``validate_args`` argument, when not None, overrides this default. The checks are skipped
    while ``torch.compile`` traces.

    Parameters
    ----------
    value : bool
        True to check the values on every call that does not pass ``validate_args``.

    Returns
    -------
    bool
        The previous default, so that a caller can restore it.

    Raises
    ------
    ValueError
        If ``value`` is not a bool.

    Examples
    --------
    >>> import torch
    >>> from glopt.nn import generalized_loss, set_default_validate_args
    >>> previous = set_default_validate_args(True)
    >>> try:
    ...     generalized_loss(torch.tensor([float("nan"), 0.0]), torch.zeros(2), s_kernel="I")
    ... except ValueError as exc:
    ...     print(exc)
    input contains NaN or infinity
    >>> _ = set_default_validate_args(previous)
    """
    global _VALIDATE_ARGS
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"value must be True or False, got {value!r}")
    previous, _VALIDATE_ARGS = _VALIDATE_ARGS, bool(value)
    return previous


def get_default_validate_args() -> bool:
    """Whether the losses check the values of their tensors by default.

    Returns
    -------
    bool
        The default set by :func:`set_default_validate_args` (False unless set).
    """
    return _VALIDATE_ARGS


def _validating(validate_args) -> bool:
    """Whether this call checks values: its ``validate_args``, else the default; never while compiling."""
    if validate_args is None:
        on = _VALIDATE_ARGS
    elif isinstance(validate_args, (bool, np.bool_)):
        on = bool(validate_args)
    else:
        raise ValueError(f"validate_args must be None, True or False, got {validate_args!r}")
    return on and not torch.compiler.is_compiling()


def _checking() -> bool:
    """Option checks (numbers, no tensors) run in eager mode; under torch.compile they are taken as
    given (numpy on a traced number would break the graph; the modules check them at construction)."""
    return not torch.compiler.is_compiling()


# --------------------------------------------------------------------------------------
# checks: metadata always, values when validating
# --------------------------------------------------------------------------------------
def _check_tensor(t, name: str) -> torch.Tensor:
    if not isinstance(t, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.is_complex():
        raise ValueError(f"{name} must be real, got dtype {t.dtype}")
    return t


def _has_values(t) -> bool:
    return isinstance(t, torch.Tensor) and t.numel() > 0 and t.device.type != "meta"


def _check_finite(**tensors) -> None:
    """Value check: no NaN or infinity (one host sync per floating-point tensor)."""
    for name, t in tensors.items():
        if _has_values(t) and t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} contains NaN or infinity")


def _check_indices(target: torch.Tensor, n_classes: int, ignore_index: int | None = None,
                   name: str = "target") -> None:
    """Value check: class indices in [0, n_classes) or equal to ignore_index."""
    if not _has_values(target):
        return
    bad = (target < 0) | (target >= n_classes)
    if ignore_index is not None:
        bad = bad & (target != ignore_index)
    if bool(bad.any()):
        other = f" (other than ignore_index={ignore_index})" if ignore_index is not None else ""
        raise ValueError(f"{name} has class indices outside [0, {n_classes - 1}]{other}: {target[bad][:5].tolist()}")


def _check_binary(target: torch.Tensor) -> None:
    """Value check: binary targets in {-1, +1}."""
    if _has_values(target) and not bool(((target == 1) | (target == -1)).all()):
        bad = torch.unique(target.float())[:5].tolist()
        raise ValueError(f"target (binary classification) must hold -1 or +1, got values {bad}")


def _same_device(input: torch.Tensor, **others) -> None:
    """Every tensor argument on input's device (a clear error instead of torch's mid-computation one)."""
    for name, t in others.items():
        if isinstance(t, torch.Tensor) and t.device != input.device:
            raise ValueError(f"{name} is on device {t.device} but input is on {input.device}: move them to "
                             "one device")


def _compute_dtype(t: torch.Tensor) -> torch.dtype:
    # float64 stays float64; float32, bfloat16 and float16 are all evaluated in float32, so that S
    # and its products accumulate in float32 even when the network runs under autocast-bf16.
    return _core.compute_dtype(t)


def _positive(value, name: str, allow_zero: bool = False) -> float:
    # glopt._checks.positive_scalar uses numpy on the number, which torch.compile would trace as a
    # tensor (a data-dependent branch); options are checked in eager mode (and by the modules'
    # constructors), and taken as given while compiling.
    return positive_scalar(value, name, allow_zero) if _checking() else float(value)


def _s_params(s_kernel: str, gamma_s, nu: float, alpha: float) -> float:
    if _checking():
        return check_s_params(s_kernel, gamma_s, nu, alpha)
    return 1.0 if s_kernel == "I" else float(gamma_s)


def _check_int(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_ignore_index(value) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"ignore_index must be an integer, got {value!r}")
    return int(value)


def _check_p(p) -> int:
    if isinstance(p, (bool, np.bool_)) or p not in (1, 2):
        raise ValueError(f"p must be 1 or 2, got {p!r}")
    return int(p)


def _reduce(per: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "none":
        return per
    return per.sum() if reduction == "sum" else per.mean()


def _no_autocast(device_type: str):
    """A context with autocast off on ``device_type`` (a no-op where torch has no autocast)."""
    if torch.amp.is_autocast_available(device_type):
        return torch.autocast(device_type=device_type, enabled=False)
    return _NULL


class _Null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


_NULL = _Null()


# --------------------------------------------------------------------------------------
# the generalized loss
# --------------------------------------------------------------------------------------
def _slacks(input, target, task: str, epsilon: float, dtype, validate: bool):
    """Per-element slacks xi (B, T) in ``dtype`` and per-sample class codes (B,) (or None),
    with the number of classes."""
    B = input.shape[0]
    if task == "regression":
        if input.shape != target.shape:
            raise ValueError(f"input {tuple(input.shape)} and target {tuple(target.shape)} must have the "
                             "same shape (regression)")
        xi = (target.to(dtype) - input.to(dtype)).abs()
        if epsilon > 0:
            xi = torch.relu(xi - epsilon)
        return xi.reshape(B, math.prod(input.shape[1:])), None, 0
    if input.dim() == 2 and target.dim() == 1 and input.shape[1] >= 2:      # one-vs-rest
        if target.dtype == torch.bool or target.is_floating_point():
            raise ValueError(f"target must hold class indices as an integer tensor, got dtype {target.dtype}")
        if target.shape[0] != B:
            raise ValueError(f"target must have shape (B,) = ({B},) to match input {tuple(input.shape)}, got "
                             f"{tuple(target.shape)}")
        K = input.shape[1]
        if validate:
            _check_indices(target, K)
        codes = target.long()
        t = (codes[:, None] == torch.arange(K, device=input.device)).to(dtype) * 2.0 - 1.0
        return torch.relu(1.0 - t * input.to(dtype)), codes, K
    if input.shape != target.shape or input.dim() not in (1, 2) or (input.dim() == 2 and input.shape[1] != 1):
        raise ValueError("classification expects either binary scores (B,) or (B, 1) with targets of the "
                         "same shape in {-1, +1}, or class scores (B, K) with class indices (B,); got input "
                         f"{tuple(input.shape)} and target {tuple(target.shape)}")
    if target.dtype == torch.bool:
        raise ValueError("target (binary classification) must hold -1 or +1, got a bool tensor")
    if validate:
        _check_binary(target)
    t = target.to(dtype).reshape(B, 1)
    return torch.relu(1.0 - t * input.to(dtype).reshape(B, 1)), (t.reshape(B) > 0).long(), 2


def _world():
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist, dist.get_world_size(), dist.get_rank()
    return None, 1, 0


def _all_gather(tensors, dist, world: int, rank: int):
    """Concatenate each (B_r, ...) tensor over the ranks; gradients flow through this rank's part only.

    Batch sizes may differ between ranks (the blocks are padded to the largest); the trailing shapes
    must agree, which every rank checks on the gathered shapes, so all ranks raise together. The
    exchange of the shapes is the one host synchronization of the global batch (the padded
    blocks' size must be known on the host).
    """
    dev = tensors[0].device
    shape = torch.tensor([tensors[0].shape[0]] + [math.prod(t.shape[1:]) for t in tensors],
                         device=dev, dtype=torch.long)
    shapes = [torch.empty_like(shape) for _ in range(world)]
    dist.all_gather(shapes, shape)
    shapes = torch.stack(shapes).tolist()
    if any(s[1:] != shapes[0][1:] for s in shapes):
        raise ValueError(f"global_batch: per-sample sizes differ between ranks: {[s[1:] for s in shapes]}")
    sizes = [s[0] for s in shapes]
    top = max(sizes)
    out = []
    for t in tensors:
        pad = torch.zeros((top,) + tuple(t.shape[1:]), dtype=t.dtype, device=dev)
        pad[: t.shape[0]] = t.detach()
        bufs = [torch.empty_like(pad) for _ in range(world)]
        dist.all_gather(bufs, pad)
        parts = [b[:n] for b, n in zip(bufs, sizes)]
        parts[rank] = t
        out.append(torch.cat(parts))
    return out


def _scale_gamma(feats: torch.Tensor, d2: torch.Tensor | None = None, validate: bool = False) -> torch.Tensor:
    """1 / median squared pairwise distance over the pairs of the first SCALE_SAMPLES rows (no gradient).

    ``d2``: the squared distances of the batch if already computed (exact S). Every pair appears
    twice among the off-diagonal entries of the symmetric block, which leaves the (lower) median
    unchanged, so the median is taken over the off-diagonal entries read by a strided view. A
    median of 0 (most pairs of rows equal) is raised as an error when validating, and otherwise
    replaced by the smallest positive number of the dtype (without a host sync): S is then 1
    between equal rows and 0 between distinct ones.
    """
    m = min(feats.shape[0], SCALE_SAMPLES)
    if d2 is None:
        Fs = feats[:m].detach()
        block = squared_distances(Fs, Fs, xp=torch)
    else:
        block = d2[:m, :m].detach()
    off = block.reshape(-1)[1:].reshape(m - 1, m + 1)[:, :-1]       # the m (m - 1) off-diagonal entries
    med = off.median()
    if validate and med.device.type != "meta" and not bool(med > 0):
        raise ValueError("gamma_s='scale': the features of the batch have no two distinct rows "
                         "(median squared distance 0); pass a numeric gamma_s")
    return 1.0 / med.clamp_min(torch.finfo(med.dtype).tiny)


def _check_random_state(random_state):
    if not (isinstance(random_state, np.random.Generator) or random_state is None
            or (isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool) and random_state >= 0)):
        raise ValueError(f"random_state must be None, a nonnegative int or a numpy Generator, got {random_state!r}")
    return random_state


def rff_frequencies(s_kernel: str, n_features: int, n_components: int, random_state=0, nu: float = 1.5,
                    alpha: float = 1.0):
    """Unit-scale spectral frequencies and phases of the random Fourier features of S.

    W for a given gamma_s is ``sqrt(gamma_s) * W1``: the G, M and Q spectral samplers of
    :func:`glopt.kernels.spectral_frequencies` all scale that way, so the draw is the same as
    ``spectral_frequencies(s_kernel, gamma_s, ...)`` and can be made once and reused when
    gamma_s='scale' changes from batch to batch.

    Parameters
    ----------
    s_kernel : {'G', 'Q', 'M'}
        Correlation kernel whose spectral density is sampled.
    n_features : int
        Feature dimension D, >= 1.
    n_components : int
        Number of random features R, >= 1.
    random_state : int, numpy.random.Generator or None, default=0
        A nonnegative int gives the same draw on every call and every rank, None a fresh one, a
        Generator is advanced by the call.
    nu : {0.5, 1.5, 2.5}, default=1.5
        Matern order (``s_kernel='M'``).
    alpha : float, default=1.0
        Rational-quadratic shape, > 0 (``s_kernel='Q'``).

    Returns
    -------
    W1 : numpy.ndarray of shape (n_features, n_components)
        Frequencies for gamma_s = 1.
    phase : numpy.ndarray of shape (n_components,)
        Phases, uniform on [0, 2 pi).

    Raises
    ------
    ValueError
        If ``random_state``, ``n_features`` or ``n_components`` is invalid, or a kernel option
        (checked by :func:`glopt.kernels.spectral_frequencies`).
    """
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(
        _check_random_state(random_state))
    n_features = _check_int(n_features, "n_features")
    n_components = _check_int(n_components, "n_components")
    W1 = spectral_frequencies(s_kernel, 1.0, n_features, n_components, rng, nu, alpha)
    phase = rng.uniform(0.0, 2.0 * np.pi, size=n_components)
    return W1, phase



def _check_rff_seed(s_approx, global_batch, random_state):
    if s_approx == "rff" and global_batch and (not isinstance(random_state, numbers.Integral)
                                               or isinstance(random_state, bool)):
        raise ValueError("global_batch with s_approx='rff' needs an integer random_state, so that every rank "
                         "draws the same frequencies")


def _loss_options(task, p, s_kernel, gamma_s, nu, alpha, class_mask, epsilon, eps, s_approx, n_components,
                  random_state, global_batch, reduction):
    """The options of :func:`generalized_loss`, checked alone and against each other.

    Returns (p, gamma, epsilon, eps, R): gamma is None for gamma_s='scale' (resolved on each
    batch), else the checked number.
    """
    choice(reduction, "reduction", REDUCTIONS)
    choice(task, "task", TASKS)
    choice(s_approx, "s_approx", S_APPROX)
    p = _check_p(p)
    scale = isinstance(gamma_s, str)
    if scale and gamma_s != "scale":
        raise ValueError(f"gamma_s must be a positive number or 'scale', got {gamma_s!r}")
    gamma = _s_params(s_kernel, 1.0 if scale else gamma_s, nu, alpha)
    epsilon = _positive(epsilon, "epsilon", allow_zero=True)
    eps = _positive(eps, "eps")
    R = _check_int(n_components, "n_components")
    if task == "classification" and epsilon > 0:
        raise ValueError("epsilon (the insensitive zone) applies to regression only")
    if class_mask and task == "regression":
        raise ValueError("class_mask needs classes: use task='classification' (binary or class-index targets)")
    _check_rff_seed(s_approx, global_batch, random_state)
    _check_random_state(random_state)
    if s_kernel == "I" and s_approx == "rff":
        raise ValueError("s_approx='rff' approximates G, Q or M; s_kernel='I' needs no approximation")
    return p, None if scale else gamma, epsilon, eps, R


def _check_batch(input, target, features, s_kernel: str, allow_empty: bool) -> int:
    """Types, shapes and devices of a batch (metadata only); returns B."""
    _check_tensor(input, "input")
    _check_tensor(target, "target")
    if not input.is_floating_point():
        raise ValueError(f"input must be a floating-point tensor, got dtype {input.dtype}")
    if input.dim() == 0:
        raise ValueError("input must have a batch dimension (B, ...), got a scalar")
    B = input.shape[0]
    if B == 0 and not allow_empty:
        raise ValueError("the batch is empty (input has B = 0 samples): the loss of no sample is undefined")
    _same_device(input, target=target, features=features)
    if features is not None:
        _check_tensor(features, "features")
        if features.dim() == 0 or features.shape[0] != B:
            raise ValueError(f"features must have shape (B, ...) with B = {B}, got {tuple(features.shape)}")
    elif s_kernel != "I":
        raise ValueError(f"s_kernel={s_kernel!r} computes S on features: pass features (B, ...) (the network "
                         "inputs, or penultimate features, detached)")
    return B


def _gather_global(xi, feats, codes):
    """Slacks, features and class codes of the global batch (each None stays None).

    Under a torch.distributed process group of several ranks they are all-gathered; otherwise
    the local ones are returned.
    """
    dist, world, rank = _world()
    if world > 1:
        parts = [xi] + ([feats] if feats is not None else []) + ([codes] if codes is not None else [])
        parts = _all_gather(parts, dist, world, rank)
        xi = parts[0]
        feats = parts[1] if feats is not None else None
        codes = parts[-1] if codes is not None else None
    return xi, feats, codes


def _exact_s(feats, codes, s_kernel: str, gamma, nu: float, alpha: float, class_mask: bool, dtype,
             validate: bool):
    """S (B, B) of the features; gamma None: gamma_s='scale' on this batch."""
    d2 = squared_distances(feats, feats, xp=torch)
    # exact zeros on the diagonal (S_ii = 1, as glopt.kernels.Correlation.block), and no
    # gradient through them (the Matern sqrt has an unbounded slope at d = 0).
    d2 = d2.masked_fill(torch.eye(d2.shape[0], dtype=torch.bool, device=d2.device), 0.0)
    g = _scale_gamma(feats, d2, validate) if gamma is None else gamma
    S = s_from_sqdist(d2, s_kernel, g, nu, alpha, xp=torch)
    if class_mask:
        S = S * (codes[:, None] == codes[None, :]).to(dtype)
    return S


def _rff_map(feats, s_kernel: str, gamma, nu: float, alpha: float, R: int, random_state, rff, dtype,
             validate: bool):
    """Random Fourier features Z (B, R) with S ~ Z Z^T; gamma None: gamma_s='scale' on this batch.

    ``rff``: frequencies and phases drawn before (:func:`rff_frequencies`; numpy arrays, or tensors
    already on the device), or None to draw them (a host-to-device copy on a GPU).
    """
    g = _scale_gamma(feats, None, validate) if gamma is None else gamma
    if rff is None:
        rff = rff_frequencies(s_kernel, int(feats.shape[1]), R, random_state, nu, alpha)
    W1, phase = (_to_device(a, dtype, feats.device) for a in rff)
    if W1.shape != (feats.shape[1], R):
        raise ValueError(f"features have {feats.shape[1]} columns, the frequencies {tuple(W1.shape)}")
    W = W1 * torch.sqrt(g) if isinstance(g, torch.Tensor) else W1 * math.sqrt(g)
    return math.sqrt(2.0 / R) * torch.cos(feats @ W + phase)      # (B, R)


def _to_device(a, dtype, device) -> torch.Tensor:
    """An array (numpy, or a tensor) as a tensor of ``dtype`` on ``device``, without a host sync:
    a copy to a CUDA device goes through pinned memory, asynchronously (torch's caching host
    allocator keeps the pinned block until the copy has run)."""
    if isinstance(a, torch.Tensor) and a.device == device and a.dtype == dtype:
        return a
    t = a if isinstance(a, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(a))
    if device.type == "cuda" and t.device.type == "cpu":
        return t.to(dtype).pin_memory().to(device, non_blocking=True)
    return t.to(device=device, dtype=dtype)


def _rff_terms(e, Z, codes, n_classes: int, class_mask: bool, dtype):
    """The per-element terms e_it (S e_t)_i (B, T) with S ~ Z Z^T (class-masked exactly)."""
    if class_mask:
        # exact mask: one block Z_c^T e_c per class, S ~ sum_c Z_c Z_c^T on that class's rows
        onehot = (codes[:, None] == torch.arange(n_classes, device=codes.device)).to(dtype)    # (B, C)
        U = torch.einsum("bc,br,bt->crt", onehot, Z, e)                      # (C, R, T)
        return e * torch.einsum("br,brt->bt", Z, U[codes])
    return e * (Z @ (Z.t() @ e))


def _reduce_terms(per, p: int, eps: float, reduction: str):
    """The reduction of the per-element terms e_it (S e_t)_i."""
    if p == 1:
        # drop the diagonal's smoothing: S_ii e_i^2 = xi_i + eps contributes xi_i, so that S = I
        # gives the L1 / hinge loss; the gradient is that of L_eps (glopt.losses, eps > 0).
        per = per - eps
    return _reduce(per, reduction)


def generalized_loss(input: torch.Tensor, target: torch.Tensor, features: torch.Tensor | None = None, *,
                     task: str = "regression", p: int = 2, s_kernel: str = "G", gamma_s="scale",
                     nu: float = 1.5, alpha: float = 1.0, class_mask: bool = False, epsilon: float = 0.0,
                     eps: float = 1e-4, s_approx: str = "exact", n_components: int = 256, random_state=0,
                     global_batch: bool = False, reduction: str = "mean", validate_args: bool | None = None,
                     _rff=None) -> torch.Tensor:
    """Generalized loss ``e^T S(features) e`` of a batch, reduced.

    ``e_i`` is the per-sample error raised to p/2: regression ``|t - o|`` (minus ``epsilon``,
    clipped at 0), classification the hinge slack ``max(0, 1 - t o)`` (binary targets in
    {-1, +1}, or one-vs-rest over the K classes of class-index targets). Several outputs share S:
    the loss is ``sum_t e_t^T S e_t``. The module form, with the options explained at length, is
    :class:`glopt.nn.GeneralizedLoss`. No host synchronization unless ``validate_args``.

    Parameters
    ----------
    input : torch.Tensor
        Floating-point predictions: regression ``(B, *)``; binary classification (B,) or (B, 1);
        one-vs-rest (B, K) class scores, K >= 2. B >= 1: a batch of one sample has S = [[1]],
        the standard loss; B = 0 raises ValueError (under ``global_batch`` a rank may hold no
        sample as long as the global batch has one).
    target : torch.Tensor
        Regression: the shape of ``input``; binary classification: the shape of ``input``, values
        in {-1, +1}; one-vs-rest: (B,) integer class indices in [0, K).
    features : torch.Tensor, optional
        ``(B, *)`` features S is computed on, flattened per sample to (B, D) (the network inputs,
        or detached penultimate features); required unless ``s_kernel='I'``.
    task : {'regression', 'classification'}, default='regression'
        Regression residuals or classification hinge slacks.
    p : {2, 1}, default=2
        2: the quadratic loss ``xi^T S xi`` (S = I: MSELoss, or the squared hinge). 1: the loss
        ``sum_ij S_ij sqrt(xi_i xi_j)`` (S = I: L1Loss, or the hinge), evaluated with
        ``e = sqrt(xi + eps)`` and the diagonal's eps subtracted again.
    s_kernel : {'G', 'Q', 'M', 'I'}, default='G'
        Correlation kernel of S (:func:`glopt.kernels.s_from_sqdist`); 'I': the standard loss.
    gamma_s : float or 'scale', default='scale'
        Inverse squared length scale of S, > 0; 'scale': 1 / (median squared pairwise distance
        of the features over the first SCALE_SAMPLES samples of the batch; no gradient).
    nu : {0.5, 1.5, 2.5}, default=1.5
        Matern order (``s_kernel='M'``).
    alpha : float, default=1.0
        Rational-quadratic shape, > 0 (``s_kernel='Q'``).
    class_mask : bool, default=False
        Zero S between samples of different classes (classification only).
    epsilon : float, default=0.0
        Insensitive zone of the regression error, >= 0 (regression only).
    eps : float, default=1e-4
        Smoothing of p = 1, > 0 (margin units).
    s_approx : {'exact', 'rff'}, default='exact'
        'exact': S is B x B, O(B^2 D); 'rff': random Fourier features, ``S ~ Z Z^T``, O(B D R).
    n_components : int, default=256
        Number of random features R (``s_approx='rff'``), >= 1.
    random_state : int, numpy.random.Generator or None, default=0
        Seed of the random frequencies (:func:`rff_frequencies`); an int under ``global_batch``
        with ``s_approx='rff'``, so that every rank draws the same. The functional form draws
        them on every call (and copies them to the device); the module draws them once.
    global_batch : bool, default=False
        Under an initialized torch.distributed process group of several ranks, S spans the
        global batch (all-gathered; gradients flow through this rank's samples only). Every rank
        must call the loss. Otherwise the ordinary loss.
    reduction : {'mean', 'sum', 'none'}, default='mean'
        'mean': sum / numel of e; 'sum'; 'none': the per-element terms.
    validate_args : bool or None, default=None
        Check the values (finite tensors, labels, index range, a nonzero median distance for
        'scale'), at the cost of host synchronizations; None: :func:`get_default_validate_args`.

    Returns
    -------
    loss : torch.Tensor
        A scalar, or for 'none' a (B, T) tensor of the terms ``e_it (S e_t)_i`` (minus eps for
        p = 1), T the outputs (1 for binary, K for one-vs-rest), B the global batch under
        ``global_batch``; float32 (float64 for float64 ``input``), evaluated with autocast off.

    Raises
    ------
    ValueError
        If an option is unknown, out of range or inconsistent with another, a tensor has the
        wrong type, shape or device, the batch is empty, or (when validating) a value is bad.
    """
    p, gamma, epsilon, eps, R = _loss_options(task, p, s_kernel, gamma_s, nu, alpha, class_mask, epsilon, eps,
                                              s_approx, n_components, random_state, global_batch, reduction)
    return _generalized(input, target, features, task, p, s_kernel, gamma, nu, alpha, class_mask, epsilon, eps,
                        s_approx, R, random_state, global_batch, reduction, _validating(validate_args), _rff)


def _generalized(input, target, features, task, p, s_kernel, gamma, nu, alpha, class_mask, epsilon, eps, s_approx,
                 R, random_state, global_batch, reduction, validate, rff):
    """:func:`generalized_loss` on checked options (``gamma`` None: 'scale')."""
    world = _world()[1] if global_batch else 1
    B = _check_batch(input, target, features, s_kernel, allow_empty=world > 1)
    if validate:
        _check_finite(input=input, target=target, features=features)
    dtype = _compute_dtype(input)
    # S and its products in float32 (or float64) even under autocast: the loss is not autocast.
    with _no_autocast(input.device.type):
        xi, codes, n_classes = _slacks(input, target, task, epsilon, dtype, validate)
        feats = None
        if s_kernel != "I":
            feats = features.reshape(B, math.prod(features.shape[1:])).to(dtype)
        if world > 1:
            xi, feats, codes = _gather_global(xi, feats, codes)
            if xi.shape[0] == 0:
                raise ValueError("the global batch is empty (every rank has B = 0 samples): the loss of no "
                                 "sample is undefined")
        if s_kernel == "I" or xi.shape[0] == 1:
            # a batch of one sample has S = [[1]] whatever the kernel: the standard loss
            # e_i (I e)_i = xi^p exactly: p = 2 is MSELoss / the squared hinge, p = 1 L1Loss / the hinge.
            per = xi * xi if p == 2 else xi
            return _reduce(per, reduction)
        # p = 1: e = sqrt(xi + eps); the smoothing keeps d e / d xi finite at xi = 0 (docs/mathematics.md §3).
        e = xi if p == 2 else torch.sqrt(xi + eps)
        if s_approx == "exact":
            per = e * (_exact_s(feats, codes, s_kernel, gamma, nu, alpha, class_mask, dtype, validate) @ e)
        else:
            Z = _rff_map(feats, s_kernel, gamma, nu, alpha, R, random_state, rff, dtype, validate)
            per = _rff_terms(e, Z, codes, n_classes, class_mask, dtype)
        return _reduce_terms(per, p, eps, reduction)


# --------------------------------------------------------------------------------------
# one-vs-rest SVM head and ISM3
# --------------------------------------------------------------------------------------
def _legacy_weight(last_layer_weight, weight, func: str):
    """``weight=`` of two or more dimensions is the former name of ``last_layer_weight``."""
    if isinstance(weight, torch.Tensor) and weight.dim() >= 2:
        if last_layer_weight is not None:
            raise ValueError("weight is the per-class weight, of shape (K,); the last layer's weight is "
                             "last_layer_weight")
        warnings.warn(f"{func}: passing the last layer's weight as weight= is deprecated; pass it as "
                      "last_layer_weight= (weight is now the per-class weight of shape (K,), as in "
                      "torch.nn.CrossEntropyLoss)", FutureWarning, stacklevel=3)
        return weight, None
    return last_layer_weight, weight


def _class_weight_values(weight) -> None:
    """Value check of a per-class weight: finite and >= 0."""
    if _has_values(weight):
        _check_finite(weight=weight)
        if bool((weight < 0).any()):
            raise ValueError("weight (the per-class weight) must be >= 0")


def _head_inputs(input, target, last_layer_weight, weight, ignore_index, validate: bool):
    """Types (and, when validating, values) of the tensors of the SVM head and ISM3."""
    _check_tensor(input, "input")
    _check_tensor(target, "target")
    if last_layer_weight is not None:
        _check_tensor(last_layer_weight, "last_layer_weight")
    if weight is not None:
        _check_tensor(weight, "weight")
    ignore_index = _check_ignore_index(ignore_index)
    _core.check_scores(input, target)
    if validate:
        _check_finite(input=input, last_layer_weight=last_layer_weight)
        _check_indices(target, input.shape[1], ignore_index)
        _class_weight_values(weight)
    return ignore_index


def one_vs_rest_svm_loss(input: torch.Tensor, target: torch.Tensor, last_layer_weight: torch.Tensor | None = None,
                         *, weight: torch.Tensor | None = None, C: float = 1.0, ignore_index: int = -100,
                         reduction: str = "mean", validate_args: bool | None = None) -> torch.Tensor:
    """One-vs-rest squared-hinge SVM loss of class scores, with an optional weight penalty.

    The loss is ``C * sum_n w_(y_n) sum_k max(0, 1 - t_kn s_kn)^2 + 0.5 ||last_layer_weight||^2``
    with t_kn = +1 for the true class y_n and -1 otherwise, w the per-class ``weight`` (1 without),
    samples whose target is ``ignore_index`` left out (module form: :class:`glopt.nn.OneVsRestSVMLoss`).
    No host synchronization unless ``validate_args``.

    Parameters
    ----------
    input : torch.Tensor
        (B, K) floating-point class scores s, K >= 2, B >= 1.
    target : torch.Tensor
        (B,) integer class indices in [0, K), or ``ignore_index``.
    last_layer_weight : torch.Tensor, optional
        The last layer's weight (any shape, e.g. (K, D)); adds ``0.5 ||last_layer_weight||^2``
        unless reduction='none'. Passing it as ``weight=`` (its former name) still works, with a
        FutureWarning, when it has two or more dimensions.
    weight : torch.Tensor, optional
        (K,) per-class weights, as in :func:`torch.nn.functional.cross_entropy`: sample n's term is
        multiplied by ``weight[target_n]``.
    C : float, default=1.0
        Weight of the data term, > 0.
    ignore_index : int, default=-100
        A target value that contributes nothing (nor to the 'mean' denominator).
    reduction : {'mean', 'sum', 'none'}, default='mean'
        'mean' divides the data term by the sum of the samples' weights (B without ``weight`` and
        ignored targets), as CrossEntropyLoss; 'none' returns the (B,) per-sample data terms
        (0 where ignored) without the weight penalty.
    validate_args : bool or None, default=None
        Check the values (finite tensors, class indices in range, weights >= 0), at the cost of
        host synchronizations; None: :func:`get_default_validate_args`.

    Returns
    -------
    loss : torch.Tensor
        A scalar, or (B,) for 'none'; float32, or float64 where ``input`` (or the penalized
        ``last_layer_weight``) is float64.

    Raises
    ------
    ValueError
        If an option or a tensor is invalid (type, shape, device; labels when validating), or the
        batch is empty.
    """
    last_layer_weight, weight = _legacy_weight(last_layer_weight, weight, "one_vs_rest_svm_loss")
    choice(reduction, "reduction", REDUCTIONS)
    C = _positive(C, "C")
    ignore_index = _head_inputs(input, target, last_layer_weight, weight, ignore_index, _validating(validate_args))
    return _core.ovr_svm(input, target, last_layer_weight, weight, C, ignore_index, reduction)


def margin_penalty(weight: torch.Tensor, p: float = 2.0, *, validate_args: bool | None = None) -> torch.Tensor:
    """M3SVM's margin regularizer ``sum_{k<l} ||w_k - w_l||^p`` over the rows of a weight matrix.

    Vectorized over the K (K - 1) / 2 pairs (memory O(K^2 D / 2)). For p < 2, ``||v||^p`` has an
    unbounded or undefined slope at v = 0; the gradient is set to 0 where two rows coincide (a
    subgradient for p >= 1), via a double ``where`` so no NaN reaches autograd.

    Parameters
    ----------
    weight : torch.Tensor
        (K, D) floating-point class weights w_k (trailing dimensions are flattened).
    p : float, default=2.0
        Power of the pairwise norms, > 0.
    validate_args : bool or None, default=None
        Check that ``weight`` is finite (a host synchronization); None:
        :func:`get_default_validate_args`.

    Returns
    -------
    penalty : torch.Tensor
        A scalar, float32 (float64 for float64 ``weight``).

    Raises
    ------
    ValueError
        If ``p`` is not a positive number or ``weight`` is not a floating-point matrix.
    """
    p = _positive(p, "p")
    _check_tensor(weight, "weight")
    if not weight.is_floating_point() or weight.dim() < 2:
        raise ValueError(f"weight must be a floating-point tensor (K, D), got {weight.dtype} {tuple(weight.shape)}")
    if _validating(validate_args):
        _check_finite(weight=weight)
    return _core.margin(weight, p)


def ism3_loss(input: torch.Tensor, target: torch.Tensor, last_layer_weight: torch.Tensor | None = None, *,
              weight: torch.Tensor | None = None, lam: float = 1e-3, p: float = 2.0, ignore_index: int = -100,
              reduction: str = "mean", validate_args: bool | None = None) -> torch.Tensor:
    """ISM3 loss: softmax cross-entropy plus M3SVM's margin regularizer on the class weights.

    The loss is ``cross_entropy(input, target, weight, ignore_index) + lam * sum_{k<l} ||w_k - w_l||^p``
    over the rows w_k of ``last_layer_weight`` (module form: :class:`glopt.nn.ISM3Loss`; the
    regularizer is :func:`margin_penalty`). With ``lam = 0`` it is
    :func:`torch.nn.functional.cross_entropy` exactly. No host synchronization unless ``validate_args``.

    Parameters
    ----------
    input : torch.Tensor
        (B, K) floating-point logits, K >= 2, B >= 1.
    target : torch.Tensor
        (B,) integer class indices in [0, K), or ``ignore_index``.
    last_layer_weight : torch.Tensor, optional
        (K, D) the last layer's class weights; required when ``lam > 0`` (unless
        reduction='none'). Passing it as ``weight=`` (its former name) still works, with a
        FutureWarning.
    weight : torch.Tensor, optional
        (K,) per-class weights of the cross-entropy, as in torch.nn.CrossEntropyLoss.
    lam : float, default=1e-3
        Weight of the margin regularizer, >= 0.
    p : float, default=2.0
        Power of the pairwise norms, > 0.
    ignore_index : int, default=-100
        A target value that contributes nothing (nor to the 'mean' denominator).
    reduction : {'mean', 'sum', 'none'}, default='mean'
        Reduction of the cross-entropy; 'none' returns the (B,) per-sample cross-entropies without
        the regularizer.
    validate_args : bool or None, default=None
        Check the values (finite tensors, class indices in range, weights >= 0), at the cost of
        host synchronizations; None: :func:`get_default_validate_args`.

    Returns
    -------
    loss : torch.Tensor
        A scalar, or (B,) for 'none'; float32, or float64 where ``input`` (or, with the
        regularizer, ``last_layer_weight``) is float64.

    Raises
    ------
    ValueError
        If an option or a tensor is invalid (type, shape, device, weight rows; labels when
        validating), ``last_layer_weight`` is missing while ``lam > 0``, or the batch is empty.
    """
    last_layer_weight, weight = _legacy_weight(last_layer_weight, weight, "ism3_loss")
    choice(reduction, "reduction", REDUCTIONS)
    lam = _positive(lam, "lam", allow_zero=True)
    p = _positive(p, "p")
    ignore_index = _head_inputs(input, target, last_layer_weight, weight, ignore_index, _validating(validate_args))
    return _core.ism3(input, target, last_layer_weight, weight, lam, p, ignore_index, reduction)
