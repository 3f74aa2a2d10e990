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
    """Unit-scale spectral frequencies W1 (D, R) and phases (R,) as numpy arrays.

    W for a given gamma_s is ``sqrt(gamma_s) * W1``: the G, M and Q spectral samplers of
    :func:`glopt.kernels.spectral_frequencies` all scale that way, so the draw is the same as
    ``spectral_frequencies(s_kernel, gamma_s, ...)`` and can be made once and reused when
    gamma_s='scale' changes from batch to batch. ``random_state``: int (the same draw on every call
    and every rank), None (fresh) or a numpy Generator (advanced by the call).
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


def generalized_loss(input: torch.Tensor, target: torch.Tensor, features: torch.Tensor | None = None, *,
                     task: str = "regression", p: int = 2, s_kernel: str = "G", gamma_s="scale",
                     nu: float = 1.5, alpha: float = 1.0, class_mask: bool = False, epsilon: float = 0.0,
                     eps: float = 1e-4, s_approx: str = "exact", n_components: int = 256, random_state=0,
                     global_batch: bool = False, reduction: str = "mean", _rff=None) -> torch.Tensor:
    """Generalized loss e^T S(features) e, reduced (see :class:`glopt.nn.GeneralizedLoss`).

    Shapes: regression ``input`` (B, *) and ``target`` (B, *) alike; binary classification ``input``
    (B,) or (B, 1) with ``target`` of the same shape in {-1, +1}; one-vs-rest ``input`` (B, K) with
    ``target`` (B,) class indices. ``features`` (B, *) (flattened per sample), required unless
    ``s_kernel='I'``. Output: scalar, or for 'none' a (B, T) tensor of e_it (S e_t)_i (T outputs
    or K classes; B is the global batch under ``global_batch``).
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

    dtype = _compute_dtype(input)
    # S and its products in float32 (or float64) even under autocast: the loss is not autocast.
    with torch.autocast(device_type=input.device.type, enabled=False):
        xi, codes, n_classes = _slacks(input, target, task, epsilon, dtype)
        feats = None
        if s_kernel != "I":
            feats = features.reshape(B, -1).to(dtype)
        if global_batch:
            dist, world, rank = _world()
            if world > 1:
                parts = [xi] + ([feats] if feats is not None else []) + ([codes] if codes is not None else [])
                parts = _all_gather(parts, dist, world, rank)
                xi = parts[0]
                feats = parts[1] if feats is not None else None
                codes = parts[-1] if codes is not None else None
        if s_kernel == "I" or xi.shape[0] == 1:
            # a batch of one sample has S = [[1]] whatever the kernel: the standard loss
            # e_i (I e)_i = xi^p exactly: p = 2 is MSELoss / the squared hinge, p = 1 L1Loss / the hinge.
            per = xi * xi if p == 2 else xi
            return _reduce(per, reduction)
        # p = 1: e = sqrt(xi + eps); the smoothing keeps d e / d xi finite at xi = 0 (docs/mathematics.md §3).
        e = xi if p == 2 else torch.sqrt(xi + eps)
        if s_approx == "exact":
            d2 = squared_distances(feats, feats, xp=torch)
            # exact zeros on the diagonal (S_ii = 1, as glopt.kernels.Correlation.block), and no
            # gradient through them (the Matern sqrt has an unbounded slope at d = 0).
            d2 = d2.masked_fill(torch.eye(d2.shape[0], dtype=torch.bool, device=d2.device), 0.0)
            g = _scale_gamma(feats, d2) if scale else gamma
            S = s_from_sqdist(d2, s_kernel, g, nu, alpha, xp=torch)
            if class_mask:
                S = S * (codes[:, None] == codes[None, :]).to(dtype)
            per = e * (S @ e)
        else:
            g = _scale_gamma(feats) if scale else gamma
            if _rff is None:
                _rff = rff_frequencies(s_kernel, feats.shape[1], R, random_state, nu, alpha)
            W1, phase = (torch.as_tensor(a, dtype=dtype, device=feats.device) for a in _rff)
            if W1.shape != (feats.shape[1], R):
                raise ValueError(f"features have {feats.shape[1]} columns, the frequencies {tuple(W1.shape)}")
            scale_w = torch.sqrt(g) if isinstance(g, torch.Tensor) else math.sqrt(g)
            Z = math.sqrt(2.0 / R) * torch.cos(feats @ (W1 * scale_w) + phase)      # (B, R)
            if class_mask:
                # exact mask: one block Z_c^T e_c per class, S ~ sum_c Z_c Z_c^T on that class's rows
                onehot = F.one_hot(codes, n_classes).to(dtype)                      # (B, C)
                U = torch.einsum("bc,br,bt->crt", onehot, Z, e)                      # (C, R, T)
                per = e * torch.einsum("br,brt->bt", Z, U[codes])
            else:
                per = e * (Z @ (Z.t() @ e))
        if p == 1:
            # drop the diagonal's smoothing: S_ii e_i^2 = xi_i + eps contributes xi_i, so that S = I
            # gives the L1 / hinge loss; the gradient is that of L_eps (glopt.losses, eps > 0).
            per = per - eps
        return _reduce(per, reduction)


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
    """C * sum_n sum_k max(0, 1 - t_kn y_kn)^2 (+ 0.5 ||weight||^2), see :class:`glopt.nn.OneVsRestSVMLoss`.

    ``input`` (B, K) scores y, ``target`` (B,) class indices (t_kn = +1 for the true class, -1
    otherwise), ``weight`` any tensor (the last layer's weight). 'mean' divides the data term by B,
    'none' returns the (B,) per-sample data terms without the weight penalty.
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
    """sum_{k<l} ||w_k - w_l||^p over the rows of ``weight`` (K, D), vectorized over the K(K-1)/2 pairs.

    For p < 2, ||v||^p has an unbounded or undefined slope at v = 0; the gradient is set to 0 where
    two rows coincide (a subgradient for p >= 1), via a double ``where`` so no NaN reaches autograd.
    Memory O(K^2 D / 2).
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
    """Softmax cross-entropy + lam * sum_{k<l} ||w_k - w_l||^p, see :class:`glopt.nn.ISM3Loss`.

    ``input`` (B, K) logits, ``target`` (B,) class indices, ``weight`` (K, D) the last layer's class
    weights. 'none' returns the (B,) per-sample cross-entropies without the penalty.
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
