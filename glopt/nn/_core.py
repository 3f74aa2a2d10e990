"""The one-vs-rest SVM head, the margin penalty and ISM3 on checked tensors, in TorchScript's subset.

These are the bodies that :func:`glopt.nn.one_vs_rest_svm_loss`, :func:`glopt.nn.ism3_loss` and
:func:`glopt.nn.margin_penalty` (and the modules' ``forward``) evaluate once the options are
checked; they also check the shapes, dtypes and devices (metadata only: no host sync). They are
written so that ``torch.jit.script`` compiles the modules ``OneVsRestSVMLoss`` and ``ISM3Loss``
(this module has no ``from __future__ import annotations``: TorchScript reads the annotations).
"""
from typing import Optional

import torch
import torch.nn.functional as F


def compute_dtype(t: torch.Tensor) -> torch.dtype:
    """float64 stays float64; float32, bfloat16 and float16 are evaluated in float32."""
    if t.dtype == torch.float64:
        return torch.float64
    return torch.float32


def check_scores(input: torch.Tensor, target: torch.Tensor, name: str = "input") -> None:
    """(B, K) floating-point class scores, K >= 2, B >= 1, and (B,) integer class indices."""
    if not input.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {input.dtype}")
    if input.dim() != 2 or input.shape[1] < 2:
        raise ValueError(f"{name} must be class scores of shape (B, K) with K >= 2, got {list(input.shape)}")
    if target.dim() != 1 or target.shape[0] != input.shape[0]:
        raise ValueError(f"target must have shape (B,) = ({input.shape[0]},) to match {name} "
                         f"{list(input.shape)}, got {list(target.shape)}")
    if target.dtype == torch.bool or target.is_floating_point() or target.is_complex():
        raise ValueError(f"target must hold class indices as an integer tensor, got dtype {target.dtype}")
    if input.shape[0] == 0:
        raise ValueError("the batch is empty (input has B = 0 samples): the loss of no sample is undefined")
    if target.device != input.device:
        raise ValueError(f"target is on device {target.device} but input is on {input.device}: move them to "
                         "one device")


def check_class_weight(weight: Optional[torch.Tensor], n_classes: int, device: torch.device) -> None:
    """A per-class weight: a floating-point (K,) tensor on the input's device."""
    if weight is not None:
        if not weight.is_floating_point() or weight.dim() != 1 or weight.shape[0] != n_classes:
            raise ValueError(f"weight (the per-class weight) must be a floating-point tensor of shape (K,) = "
                             f"({n_classes},), got {weight.dtype} {list(weight.shape)}")
        if weight.device != device:
            raise ValueError(f"weight is on device {weight.device} but input is on {device}: move them to one "
                             "device")


def check_last_layer(w: torch.Tensor, n_classes: int, matrix: bool, device: torch.device) -> None:
    """The last layer's weight: floating point, (K, D) when ``matrix``, on the input's device."""
    if not w.is_floating_point() or w.dim() < (2 if matrix else 1):
        shape = "(K, D)" if matrix else "(K, ...)"
        raise ValueError(f"last_layer_weight must be a floating-point tensor {shape}, got {w.dtype} "
                         f"{list(w.shape)}")
    if n_classes > 0 and w.shape[0] != n_classes:
        raise ValueError(f"last_layer_weight has {w.shape[0]} rows but input has {n_classes} classes")
    if w.device != device:
        raise ValueError(f"last_layer_weight is on device {w.device} but input is on {device}: move them to "
                         "one device")


def sample_weights(target: torch.Tensor, weight: Optional[torch.Tensor], ignore_index: int,
                   dtype: torch.dtype) -> torch.Tensor:
    """(B,) weights of the samples: ``weight[target_n]`` (1 without weight), 0 where ignored."""
    keep = target != ignore_index
    if weight is None:
        return keep.to(dtype)
    safe = torch.where(keep, target, torch.zeros_like(target))
    return weight.to(dtype)[safe] * keep.to(dtype)


def ovr_svm(input: torch.Tensor, target: torch.Tensor, last_layer_weight: Optional[torch.Tensor],
            weight: Optional[torch.Tensor], C: float, ignore_index: int, reduction: str) -> torch.Tensor:
    """The one-vs-rest squared-hinge loss (checked shapes; see glopt.nn.one_vs_rest_svm_loss)."""
    check_scores(input, target)
    K = input.shape[1]
    check_class_weight(weight, K, input.device)
    if last_layer_weight is not None:
        check_last_layer(last_layer_weight, 0, False, input.device)
    dtype = compute_dtype(input)
    x = input.to(dtype)
    positive = target.unsqueeze(1) == torch.arange(K, device=input.device)          # (B, K), no one_hot sync
    t = positive.to(dtype) * 2.0 - 1.0
    h = torch.relu(1.0 - t * x)
    w_n = sample_weights(target, weight, ignore_index, dtype)
    per = (C * (h * h).sum(1)) * w_n
    if reduction == "none":
        return per
    out = per.sum()
    if reduction == "mean":
        out = out / w_n.sum()
    if last_layer_weight is not None:
        w = last_layer_weight.to(compute_dtype(last_layer_weight))
        out = out + 0.5 * (w * w).sum()
    return out


def margin(weight: torch.Tensor, p: float) -> torch.Tensor:
    """``sum_{k<l} ||w_k - w_l||^p`` over the rows of a (K, D) matrix (see glopt.nn.margin_penalty)."""
    w = weight.reshape(weight.shape[0], -1).to(compute_dtype(weight))
    K = w.shape[0]
    ij = torch.triu_indices(K, K, 1, device=w.device)
    diff = w[ij[0]] - w[ij[1]]
    sq = (diff * diff).sum(1)
    if p == 2.0:
        return sq.sum()
    pos = sq > 0
    safe = torch.where(pos, sq, torch.ones_like(sq))
    return torch.where(pos, safe ** (p / 2.0), torch.zeros_like(sq)).sum()


def ism3(input: torch.Tensor, target: torch.Tensor, last_layer_weight: Optional[torch.Tensor],
         weight: Optional[torch.Tensor], lam: float, p: float, ignore_index: int, reduction: str) -> torch.Tensor:
    """Cross-entropy plus ``lam`` times the margin penalty (checked shapes; see glopt.nn.ism3_loss)."""
    check_scores(input, target)
    K = input.shape[1]
    check_class_weight(weight, K, input.device)
    if last_layer_weight is not None:
        check_last_layer(last_layer_weight, K, True, input.device)
    elif lam > 0.0 and reduction != "none":
        raise ValueError("ISM3 with lam > 0 needs last_layer_weight, the (K, D) class weights of the last layer")
    dtype = compute_dtype(input)
    w_c: Optional[torch.Tensor] = None
    if weight is not None:
        w_c = weight.to(dtype)
    ce = F.cross_entropy(input.to(dtype), target.long(), weight=w_c, ignore_index=ignore_index, reduction=reduction)
    if reduction == "none" or last_layer_weight is None or lam == 0.0:
        return ce
    return ce + lam * margin(last_layer_weight, p)
