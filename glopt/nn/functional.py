"""Functional forms of the torch losses (docs/mathematics.md §8).

Every function takes ``(input, target, ...)`` in torch's order and a ``reduction`` in
{'mean', 'sum', 'none'}. The correlation matrix S is built with :func:`glopt.kernels.s_from_sqdist`
and :func:`glopt.kernels.squared_distances` evaluated on tensors (``xp=torch``): the S formulas
exist once, for numpy and torch alike. Random Fourier features draw their frequencies with
:func:`glopt.kernels.spectral_frequencies`, the sampler of :class:`glopt.kernels.RandomFeatureCorrelation`.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
import torch
import torch.nn.functional as F

from .._checks import choice, positive_scalar
from ..kernels import check_s_params, s_from_sqdist, spectral_frequencies, squared_distances

REDUCTIONS = ("mean", "sum", "none")
TASKS = ("regression", "classification")
S_APPROX = ("exact", "rff")
#: gamma_s='scale' takes the median squared distance over the pairs of at most this many samples
#: (the first of the batch), so that its cost does not grow with B (the RFF path stays linear).
SCALE_SAMPLES = 128


# --------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------
def _checking() -> bool:
    """Value checks (finite entries, label values, index range) need the tensor's data on the host: a
    sync, and under torch.compile a graph break each. They run in eager mode and are skipped while
    torch.compile traces (shape and option checks always run)."""
    return not torch.compiler.is_compiling()


def _check_tensor(t, name: str) -> torch.Tensor:
    if not isinstance(t, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.is_complex():
        raise ValueError(f"{name} must be real, got dtype {t.dtype}")
    if t.is_floating_point() and t.device.type != "meta" and _checking() and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or infinity")
    return t


def _same_device(input: torch.Tensor, **others) -> None:
    """Every tensor argument on input's device (a clear error instead of torch's mid-computation one)."""
    for name, t in others.items():
        if isinstance(t, torch.Tensor) and t.device != input.device:
            raise ValueError(f"{name} is on device {t.device} but input is on {input.device}: move them to "
                             "one device")


def _compute_dtype(t: torch.Tensor) -> torch.dtype:
    # float64 stays float64; float32, bfloat16 and float16 are all evaluated in float32, so that S
    # and its products accumulate in float32 even when the network runs under autocast-bf16.
    return torch.float64 if t.dtype == torch.float64 else torch.float32


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


def _check_p(p) -> int:
    if isinstance(p, (bool, np.bool_)) or p not in (1, 2):
        raise ValueError(f"p must be 1 or 2, got {p!r}")
    return int(p)


def _class_indices(target: torch.Tensor, n_classes: int, name: str = "target") -> torch.Tensor:
    if target.dtype == torch.bool or target.is_floating_point():
        raise ValueError(f"{name} must hold class indices as an integer tensor, got dtype {target.dtype}")
    if target.dim() != 1:
        raise ValueError(f"{name} (class indices) must have shape (B,), got {tuple(target.shape)}")
    if (_checking() and target.numel() and target.device.type != "meta"
            and bool((target < 0).any() | (target >= n_classes).any())):
        bad = target[(target < 0) | (target >= n_classes)][:5].tolist()
        raise ValueError(f"{name} has class indices outside [0, {n_classes - 1}]: {bad}")
    return target.long()


def _scores(input: torch.Tensor, target: torch.Tensor, name: str = "input"):
    """(B, K) class scores with K >= 2 and (B,) class indices, checked."""
    _check_tensor(input, name)
    _check_tensor(target, "target")
    if not input.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {input.dtype}")
    if input.dim() != 2 or input.shape[1] < 2:
        raise ValueError(f"{name} must be class scores of shape (B, K) with K >= 2, got {tuple(input.shape)}")
    if target.dim() != 1 or target.shape[0] != input.shape[0]:
        raise ValueError(f"target must have shape (B,) = ({input.shape[0]},) to match {name} "
                         f"{tuple(input.shape)}, got {tuple(target.shape)}")
    return input, _class_indices(target, input.shape[1])


def _reduce(per: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "none":
        return per
    return per.sum() if reduction == "sum" else per.mean()


# --------------------------------------------------------------------------------------
# the generalized loss
# --------------------------------------------------------------------------------------
def _slacks(input, target, task: str, epsilon: float, dtype):
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
        return xi.reshape(B, -1), None, 0
    if input.dim() == 2 and target.dim() == 1 and input.shape[1] >= 2:      # one-vs-rest
        input, codes = _scores(input, target)
        K = input.shape[1]
        t = 2.0 * F.one_hot(codes, K).to(dtype) - 1.0
        return torch.relu(1.0 - t * input.to(dtype)), codes, K
    if input.shape != target.shape or input.dim() not in (1, 2) or (input.dim() == 2 and input.shape[1] != 1):
        raise ValueError("classification expects either binary scores (B,) or (B, 1) with targets of the "
                         "same shape in {-1, +1}, or class scores (B, K) with class indices (B,); got input "
                         f"{tuple(input.shape)} and target {tuple(target.shape)}")
    if target.dtype == torch.bool or (_checking() and not bool(((target == 1) | (target == -1)).all())):
        bad = torch.unique(target.float())[:5].tolist()
        raise ValueError(f"target (binary classification) must hold -1 or +1, got values {bad}")
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
    must agree, which every rank checks on the gathered shapes, so all ranks raise together.
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


def _scale_gamma(feats: torch.Tensor, d2: torch.Tensor | None = None) -> torch.Tensor:
    """1 / median squared pairwise distance over the pairs of the first SCALE_SAMPLES rows (no gradient).

    ``d2``: the squared distances of the batch if already computed (exact S). Every pair appears
    twice among the off-diagonal entries of the symmetric block, which leaves the (lower) median
    unchanged, so the median is taken over the off-diagonal entries read by a strided view.
    """
    m = min(feats.shape[0], SCALE_SAMPLES)
    if d2 is None:
        Fs = feats[:m].detach()
        block = squared_distances(Fs, Fs, xp=torch)
    else:
        block = d2[:m, :m].detach()
    off = block.reshape(-1)[1:].reshape(m - 1, m + 1)[:, :-1]       # the m (m - 1) off-diagonal entries
    med = off.median()
    if _checking() and not bool(med > 0):
        raise ValueError("gamma_s='scale': the features of the batch have no two distinct rows "
                         "(median squared distance 0); pass a numeric gamma_s")
    return 1.0 / med


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
    if isinstance(random_state, np.random.Generator):
        rng = random_state
    elif random_state is None or (isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
                                  and random_state >= 0):
        rng = np.random.default_rng(random_state)
    else:
        raise ValueError(f"random_state must be None, a nonnegative int or a numpy Generator, got {random_state!r}")
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
    if s_kernel == "I" and s_approx == "rff":
        raise ValueError("s_approx='rff' approximates G, Q or M; s_kernel='I' needs no approximation")
    return p, None if scale else gamma, epsilon, eps, R


def _check_batch(input, target, features, s_kernel: str) -> int:
    """The tensor arguments of :func:`generalized_loss`, checked; returns the batch size B."""
    _check_tensor(input, "input")
    _check_tensor(target, "target")
    if not input.is_floating_point():
        raise ValueError(f"input must be a floating-point tensor, got dtype {input.dtype}")
    if input.dim() == 0:
        raise ValueError("input must have a batch dimension (B, ...), got a scalar")
    B = input.shape[0]
    if B == 0:
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


def _exact_s(feats, codes, s_kernel: str, gamma, nu: float, alpha: float, class_mask: bool, dtype):
    """S (B, B) of the features; gamma None: gamma_s='scale' on this batch."""
    d2 = squared_distances(feats, feats, xp=torch)
    # exact zeros on the diagonal (S_ii = 1, as glopt.kernels.Correlation.block), and no
    # gradient through them (the Matern sqrt has an unbounded slope at d = 0).
    d2 = d2.masked_fill(torch.eye(d2.shape[0], dtype=torch.bool, device=d2.device), 0.0)
    g = _scale_gamma(feats, d2) if gamma is None else gamma
    S = s_from_sqdist(d2, s_kernel, g, nu, alpha, xp=torch)
    if class_mask:
        S = S * (codes[:, None] == codes[None, :]).to(dtype)
    return S


def _rff_map(feats, s_kernel: str, gamma, nu: float, alpha: float, R: int, random_state, rff, dtype):
    """Random Fourier features Z (B, R) with S ~ Z Z^T; gamma None: gamma_s='scale' on this batch.

    ``rff``: frequencies and phases drawn before (:func:`rff_frequencies`), or None to draw them.
    """
    g = _scale_gamma(feats) if gamma is None else gamma
    if rff is None:
        rff = rff_frequencies(s_kernel, feats.shape[1], R, random_state, nu, alpha)
    W1, phase = (torch.as_tensor(a, dtype=dtype, device=feats.device) for a in rff)
    if W1.shape != (feats.shape[1], R):
        raise ValueError(f"features have {feats.shape[1]} columns, the frequencies {tuple(W1.shape)}")
    scale_w = torch.sqrt(g) if isinstance(g, torch.Tensor) else math.sqrt(g)
    return math.sqrt(2.0 / R) * torch.cos(feats @ (W1 * scale_w) + phase)      # (B, R)


def _rff_terms(e, Z, codes, n_classes: int, class_mask: bool, dtype):
    """The per-element terms e_it (S e_t)_i (B, T) with S ~ Z Z^T (class-masked exactly)."""
    if class_mask:
        # exact mask: one block Z_c^T e_c per class, S ~ sum_c Z_c Z_c^T on that class's rows
        onehot = F.one_hot(codes, n_classes).to(dtype)                      # (B, C)
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
                     global_batch: bool = False, reduction: str = "mean", _rff=None) -> torch.Tensor:
    """Generalized loss ``e^T S(features) e`` of a batch, reduced.

    ``e_i`` is the per-sample error raised to p/2: regression ``|t - o|`` (minus ``epsilon``,
    clipped at 0), classification the hinge slack ``max(0, 1 - t o)`` (binary targets in
    {-1, +1}, or one-vs-rest over the K classes of class-index targets). Several outputs share S:
    the loss is ``sum_t e_t^T S e_t``. The module form, with the options explained at length, is
    :class:`glopt.nn.GeneralizedLoss`.

    Parameters
    ----------
    input : torch.Tensor
        Floating-point predictions: regression ``(B, *)``; binary classification (B,) or (B, 1);
        one-vs-rest (B, K) class scores. B >= 1 (a batch of one sample has S = [[1]], the
        standard loss).
    target : torch.Tensor
        Regression: the shape of ``input``; binary classification: the shape of ``input``, values
        in {-1, +1}; one-vs-rest: (B,) integer class indices in [0, K).
    features : torch.Tensor, optional
        ``(B, *)`` features S is computed on, flattened per sample (the network inputs, or
        detached penultimate features); required unless ``s_kernel='I'``.
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
        with ``s_approx='rff'``, so that every rank draws the same.
    global_batch : bool, default=False
        Under an initialized torch.distributed process group of several ranks, S spans the
        global batch (all-gathered; gradients flow through this rank's samples only). Every rank
        must call the loss. Otherwise the ordinary loss.
    reduction : {'mean', 'sum', 'none'}, default='mean'
        'mean': sum / numel of e; 'sum'; 'none': the per-element terms.

    Returns
    -------
    loss : torch.Tensor
        A scalar, or for 'none' a (B, T) tensor of the terms ``e_it (S e_t)_i`` (minus eps for
        p = 1), T the outputs (1 for binary, K for one-vs-rest), B the global batch under
        ``global_batch``; float32 (float64 for float64 ``input``), evaluated with autocast off.

    Raises
    ------
    ValueError
        If an option is unknown, out of range or inconsistent with another, or a tensor has the
        wrong type, shape, device or (in eager mode) non-finite values or bad labels.
    """
    p, gamma, epsilon, eps, R = _loss_options(task, p, s_kernel, gamma_s, nu, alpha, class_mask, epsilon, eps,
                                              s_approx, n_components, random_state, global_batch, reduction)
    B = _check_batch(input, target, features, s_kernel)
    dtype = _compute_dtype(input)
    # S and its products in float32 (or float64) even under autocast: the loss is not autocast.
    with torch.autocast(device_type=input.device.type, enabled=False):
        xi, codes, n_classes = _slacks(input, target, task, epsilon, dtype)
        feats = None
        if s_kernel != "I":
            feats = features.reshape(B, -1).to(dtype)
        if global_batch:
            xi, feats, codes = _gather_global(xi, feats, codes)
        if s_kernel == "I" or xi.shape[0] == 1:
            # a batch of one sample has S = [[1]] whatever the kernel: the standard loss
            # e_i (I e)_i = xi^p exactly: p = 2 is MSELoss / the squared hinge, p = 1 L1Loss / the hinge.
            per = xi * xi if p == 2 else xi
            return _reduce(per, reduction)
        # p = 1: e = sqrt(xi + eps); the smoothing keeps d e / d xi finite at xi = 0 (docs/mathematics.md §3).
        e = xi if p == 2 else torch.sqrt(xi + eps)
        if s_approx == "exact":
            per = e * (_exact_s(feats, codes, s_kernel, gamma, nu, alpha, class_mask, dtype) @ e)
        else:
            Z = _rff_map(feats, s_kernel, gamma, nu, alpha, R, random_state, _rff, dtype)
            per = _rff_terms(e, Z, codes, n_classes, class_mask, dtype)
        return _reduce_terms(per, p, eps, reduction)


# --------------------------------------------------------------------------------------
# one-vs-rest SVM head and ISM3
# --------------------------------------------------------------------------------------
def _check_weight(weight, n_classes: int | None = None, matrix: bool = False):
    _check_tensor(weight, "weight")
    if not weight.is_floating_point() or weight.dim() < (2 if matrix else 1):
        shape = "(K, D)" if matrix else "(K, ...)"
        raise ValueError(f"weight must be a floating-point tensor {shape}, got {weight.dtype} {tuple(weight.shape)}")
    if n_classes is not None and weight.shape[0] != n_classes:
        raise ValueError(f"weight has {weight.shape[0]} rows but input has {n_classes} classes")
    return weight


def one_vs_rest_svm_loss(input: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None, *,
                         C: float = 1.0, reduction: str = "mean") -> torch.Tensor:
    """One-vs-rest squared-hinge SVM loss of class scores, with an optional weight penalty.

    The loss is ``C * sum_n sum_k max(0, 1 - t_kn y_kn)^2 + 0.5 ||weight||^2`` with t_kn = +1 for
    the true class and -1 otherwise (module form: :class:`glopt.nn.OneVsRestSVMLoss`).

    Parameters
    ----------
    input : torch.Tensor
        (B, K) floating-point class scores y, K >= 2.
    target : torch.Tensor
        (B,) integer class indices in [0, K).
    weight : torch.Tensor, optional
        The last layer's weight (any shape); adds ``0.5 ||weight||^2`` unless reduction='none'.
    C : float, default=1.0
        Weight of the data term, > 0.
    reduction : {'mean', 'sum', 'none'}, default='mean'
        'mean' divides the data term by B; 'none' returns the per-sample data terms without the
        weight penalty.

    Returns
    -------
    loss : torch.Tensor
        A scalar, or (B,) for 'none'; float32, or float64 where ``input`` (or the penalized
        ``weight``) is float64.

    Raises
    ------
    ValueError
        If an option or a tensor is invalid (type, shape, device, labels).
    """
    choice(reduction, "reduction", REDUCTIONS)
    C = _positive(C, "C")
    input, target = _scores(input, target)
    _same_device(input, target=target, weight=weight)
    if weight is not None:
        _check_weight(weight)
    dtype = _compute_dtype(input)
    with torch.autocast(device_type=input.device.type, enabled=False):
        t = 2.0 * F.one_hot(target, input.shape[1]).to(dtype) - 1.0
        h = torch.relu(1.0 - t * input.to(dtype))
        out = _reduce(C * (h * h).sum(1), reduction)
        if weight is not None and reduction != "none":
            w = weight.to(_compute_dtype(weight))
            out = out + 0.5 * (w * w).sum()
        return out


def margin_penalty(weight: torch.Tensor, p: float = 2.0) -> torch.Tensor:
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
    _check_weight(weight, matrix=True)
    w = weight.reshape(weight.shape[0], -1).to(_compute_dtype(weight))
    K = w.shape[0]
    i, j = torch.triu_indices(K, K, 1, device=w.device)
    diff = w[i] - w[j]
    sq = (diff * diff).sum(1)
    if p == 2.0:
        return sq.sum()
    pos = sq > 0
    safe = torch.where(pos, sq, torch.ones_like(sq))
    return torch.where(pos, safe ** (p / 2.0), torch.zeros_like(sq)).sum()


def ism3_loss(input: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, *, lam: float = 1e-3,
              p: float = 2.0, reduction: str = "mean") -> torch.Tensor:
    """ISM3 loss: softmax cross-entropy plus M3SVM's margin regularizer on the class weights.

    The loss is ``cross_entropy(input, target) + lam * sum_{k<l} ||w_k - w_l||^p`` (module form:
    :class:`glopt.nn.ISM3Loss`; the regularizer is :func:`margin_penalty`).

    Parameters
    ----------
    input : torch.Tensor
        (B, K) floating-point logits, K >= 2.
    target : torch.Tensor
        (B,) integer class indices in [0, K).
    weight : torch.Tensor
        (K, D) the last layer's class weights.
    lam : float, default=1e-3
        Weight of the margin regularizer, >= 0.
    p : float, default=2.0
        Power of the pairwise norms, > 0.
    reduction : {'mean', 'sum', 'none'}, default='mean'
        Reduction of the cross-entropy; 'none' returns the per-sample cross-entropies without
        the regularizer.

    Returns
    -------
    loss : torch.Tensor
        A scalar, or (B,) for 'none'; float32, or float64 where ``input`` (or, with the
        regularizer, ``weight``) is float64.

    Raises
    ------
    ValueError
        If an option or a tensor is invalid (type, shape, device, labels, weight rows).
    """
    choice(reduction, "reduction", REDUCTIONS)
    lam = _positive(lam, "lam", allow_zero=True)
    input, target = _scores(input, target)
    _check_weight(weight, input.shape[1], matrix=True)
    _same_device(input, target=target, weight=weight)
    with torch.autocast(device_type=input.device.type, enabled=False):
        ce = F.cross_entropy(input.to(_compute_dtype(input)), target, reduction=reduction)
        if reduction == "none":
            _positive(p, "p")
            return ce
        return ce + lam * margin_penalty(weight, p)
