"""torch.nn.Module forms of the glopt losses (each a thin holder of options over :mod:`.functional`)."""
from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from torch import nn

from . import functional as Fn


class GeneralizedLoss(nn.Module):
    r"""Generalized loss of order p, ``e^T S(x) e`` over the batch (docs/mathematics.md §8).

    ``e_i`` is the per-sample error raised to p/2: regression ``e = |t - o|`` (minus ``epsilon``,
    clipped at 0: epsilon-insensitive), classification the hinge slack ``max(0, 1 - t o)``, for
    binary targets in {-1, +1} or one-vs-rest over the K classes of class-index targets. S is the
    pattern-correlation matrix of ``features`` (G, Q, M of :mod:`glopt.kernels`, or I), optionally
    class-masked (S_ij = 0 across classes). Several outputs (regression (B, T), one-vs-rest
    (B, K)) share S: the loss is ``sum_t e_t^T S e_t``.

    Parameters
    ----------
    p : {2, 1}, default 2
        2: the quadratic loss ``xi^T S xi`` (S = I gives MSELoss exactly, or the squared hinge).
        1: the loss of arXiv 2601.21331 (S = I gives L1Loss, or the hinge). p = 1 with S != I
        uses ``e = sqrt(xi + eps)``, which keeps the gradient finite where xi_i = 0 (the slope of
        sqrt is unbounded at 0); the diagonal's eps is subtracted again, so the value is
        ``L_eps - B eps`` with ``L_eps = sum_ij S_ij sqrt((xi_i + eps) (xi_j + eps))`` (the
        smoothed loss of :mod:`glopt.losses`, same gradient). p = 1 with S != I is not convex
        (docs/mathematics.md §2).
    task : {"regression", "classification"}, default "regression"
        Regression residuals or classification hinge slacks.
    s_kernel : {"G", "Q", "M", "I"}, default "G"
        The correlation kernel of S (:func:`glopt.kernels.s_from_sqdist`; I: the standard loss).
    gamma_s : float > 0 or "scale", default "scale"
        Inverse squared length scale; "scale" is 1 / (median squared pairwise distance of the
        features of the batch, over its first 128 samples; no gradient). Scale trap: "mean" is
        sum / numel, so the loss grows like the mean row sum of S (about 1 + 0.37 (B - 1) for G
        at gamma_s="scale"); pick gamma_s (and the learning rate) with that in mind.
    nu : {0.5, 1.5, 2.5}, default 1.5
        Matern order (``s_kernel="M"``).
    alpha : float > 0, default 1.0
        Rational-quadratic shape (``s_kernel="Q"``).
    class_mask : bool, default False
        Zero S across classes (classification).
    epsilon : float >= 0, default 0.0
        Insensitive zone of the regression error.
    eps : float > 0, default 1e-4
        Smoothing of p = 1 (margin units; 1e-4 as the MM scheme of docs/mathematics.md §3).
    s_approx : {"exact", "rff"}, default "exact"
        "exact": S is B x B, O(B^2 D); "rff": random Fourier features, ``S ~ Z Z^T`` and
        ``e^T S e ~ ||Z^T e||^2``, O(B D R).
    n_components : int >= 1, default 256
        Number of random features R of ``s_approx="rff"``.
    random_state : int, numpy.random.Generator or None, default 0
        Seed of the random frequencies, drawn once per feature dimension and kept (an int gives
        the same draw on every rank and every run; None draws afresh).
    global_batch : bool, default False
        Under an initialized torch.distributed process group, all-gather errors, features and
        classes so S spans the global batch; every rank returns the loss of the global batch and
        gradients flow through its local samples only (the gradient of the global loss with
        respect to them). DDP averages gradients over the W ranks, so the parameter gradient is
        that of the global loss divided by W. Every rank must call the loss (a rank that raises
        on bad input leaves the others waiting in the collective). Without a process group (or
        with one rank) it is the ordinary loss.
    reduction : {"mean", "sum", "none"}, default "mean"
        "mean": sum / numel of e, as torch's MSELoss; "sum"; "none": per element (see
        :meth:`forward`).

    Raises
    ------
    ValueError
        When an option is unknown or out of range (checked at construction).

    See Also
    --------
    glopt.nn.generalized_loss : The functional form.

    Notes
    -----
    The loss is evaluated in float32 (float64 for float64 input) with autocast disabled, so S
    accumulates in float32 under autocast-bf16; its result is float32.

    Gradients flow into ``features`` when they require grad (S then depends on the parameters
    too); pass detached features to keep S a weighting of the errors. Under torch.compile the
    loss traces into one graph (fullgraph) without the value checks (finite entries, label
    values, index range), which need a host sync and run in eager mode only; with
    ``s_approx="rff"`` the frequencies are drawn (numpy) at the first call, so make that call
    eagerly or accept a graph break there.

    Examples
    --------
    >>> import torch
    >>> from glopt.nn import GeneralizedLoss
    >>> x = torch.randn(8, 3)
    >>> loss = GeneralizedLoss(p=2, gamma_s=0.5)(torch.zeros(8, 1), torch.ones(8, 1), features=x)
    >>> loss.shape
    torch.Size([])
    """

    def __init__(self, p: int = 2, *, task: str = "regression", s_kernel: str = "G", gamma_s="scale",
                 nu: float = 1.5, alpha: float = 1.0, class_mask: bool = False, epsilon: float = 0.0,
                 eps: float = 1e-4, s_approx: str = "exact", n_components: int = 256, random_state=0,
                 global_batch: bool = False, reduction: str = "mean"):
        super().__init__()
        self.options = dict(task=task, p=p, s_kernel=s_kernel, gamma_s=gamma_s, nu=nu, alpha=alpha,
                            class_mask=class_mask, epsilon=epsilon, eps=eps, s_approx=s_approx,
                            n_components=n_components, random_state=random_state,
                            global_batch=global_batch, reduction=reduction)
        # Validate the options now (on a dummy batch of two), so a bad option fails at construction.
        x = torch.zeros(2, 2 if task == "classification" else 1, dtype=torch.float64)
        t = torch.zeros(2, dtype=torch.long) if task == "classification" else torch.zeros_like(x)
        Fn.generalized_loss(x, t, torch.eye(2, dtype=torch.float64), **dict(self.options, global_batch=False))
        Fn._check_rff_seed(s_approx, global_batch, random_state)
        # An int seed gives the same draw wherever it is made; otherwise one generator feeds the draws.
        self._rng = None if isinstance(random_state, numbers.Integral) else np.random.default_rng(random_state)
        self._draws = {}          # feature dimension -> (W1, phase) as numpy arrays
        self._frequencies = {}    # (dimension, dtype, device) -> the same as tensors

    @property
    def reduction(self) -> str:
        """The reduction: ``"mean"``, ``"sum"`` or ``"none"``."""
        return self.options["reduction"]

    def extra_repr(self) -> str:
        """Show the options in the module's repr.

        Returns
        -------
        str
            The constructor options as ``name=value`` pairs.
        """
        return ", ".join(f"{k}={v!r}" for k, v in self.options.items())

    def _rff(self, features, dtype):
        """Frequencies for this feature dimension: drawn once, converted once per dtype and device."""
        D = math.prod(features.shape[1:])
        key = (D, dtype, features.device)
        if key not in self._frequencies:
            o = self.options
            if D not in self._draws:
                seed = o["random_state"] if self._rng is None else self._rng
                self._draws[D] = Fn.rff_frequencies(o["s_kernel"], D, o["n_components"], seed, o["nu"], o["alpha"])
            self._frequencies[key] = tuple(torch.as_tensor(a, dtype=dtype, device=features.device)
                                           for a in self._draws[D])
        return self._frequencies[key]

    def forward(self, input: torch.Tensor, target: torch.Tensor, features: torch.Tensor | None = None):
        """Evaluate the loss on a batch.

        Parameters
        ----------
        input : Tensor
            Predictions: regression (B, ...); binary classification (B,) or (B, 1); one-vs-rest
            (B, K). B >= 1: a batch of one sample has S = [[1]] (the standard loss).
        target : Tensor
            Of the shape of ``input`` (regression; binary classification, values in {-1, +1}), or
            (B,) class indices in [0, K) of an integer dtype (one-vs-rest).
        features : Tensor of shape (B, ...), optional
            The inputs S is computed on, flattened per sample; required unless ``s_kernel="I"``.

        Returns
        -------
        Tensor
            A scalar; with ``reduction="none"`` a (B, T) tensor, T the outputs per sample (1 for
            (B,) input, K for one-vs-rest), of the per-element terms ``e_it (S e_t)_i`` (minus eps
            for p = 1), which sum to the "sum" reduction. Under ``global_batch``, B is the global
            batch (ranks in order).

        Raises
        ------
        ValueError
            When the batch is empty, or a shape, dtype or value does not fit the task.
        """
        rff = None
        if self.options["s_approx"] == "rff" and isinstance(features, torch.Tensor) and features.dim() > 0:
            rff = self._rff(features, Fn._compute_dtype(input) if isinstance(input, torch.Tensor) else torch.float32)
        return Fn.generalized_loss(input, target, features, **self.options, _rff=rff)


class OneVsRestSVMLoss(nn.Module):
    r"""One-vs-rest SVM head, ``C sum_n sum_k max(0, 1 - t_kn y_kn)^2 + 0.5 sum_k ||W_k||^2``.

    The squared hinge of the soft-margin SVM (docs/mathematics.md §8), one binary problem per class:
    t_kn = +1 if sample n is of class k, -1 otherwise. The penalty is added when a ``weight`` is
    passed to :meth:`forward` (the last layer's weight; use the optimizer's weight decay instead if
    preferred).

    Parameters
    ----------
    C : float > 0, default 1.0
        Weight of the data term.
    reduction : {"mean", "sum", "none"}, default "mean"
        "sum": the formula above; "mean": the data term divided by B, the penalty added once;
        "none": the (B,) per-sample data terms ``C sum_k h_kn^2``, without the penalty (it belongs
        to no sample; add ``0.5 * weight.square().sum()`` yourself).

    Raises
    ------
    ValueError
        When ``C`` is not positive or ``reduction`` is unknown.

    See Also
    --------
    glopt.nn.one_vs_rest_svm_loss : The functional form.
    """

    def __init__(self, C: float = 1.0, reduction: str = "mean"):
        super().__init__()
        Fn.positive_scalar(C, "C")
        Fn.choice(reduction, "reduction", Fn.REDUCTIONS)
        self.C, self.reduction = float(C), reduction

    def extra_repr(self) -> str:
        """Show the options in the module's repr.

        Returns
        -------
        str
            ``C`` and ``reduction`` as ``name=value`` pairs.
        """
        return f"C={self.C:g}, reduction={self.reduction!r}"

    def forward(self, input, target, weight=None):
        """Evaluate the loss on a batch.

        Parameters
        ----------
        input : Tensor of shape (B, K)
            Class scores y, K >= 2.
        target : Tensor of shape (B,)
            Class indices in [0, K).
        weight : Tensor, optional
            The last layer's weight, any shape: adds ``0.5 ||weight||^2``.

        Returns
        -------
        Tensor
            A scalar, or the (B,) per-sample data terms with ``reduction="none"``.
        """
        return Fn.one_vs_rest_svm_loss(input, target, weight, C=self.C, reduction=self.reduction)


class ISM3Loss(nn.Module):
    r"""ISM3 loss, softmax cross-entropy plus ``lam sum_{k<l} ||w_k - w_l||^p`` over class weights.

    The margin regularizer of M3SVM (Nie et al., AAAI 2024) on a network's last layer: it pulls
    the class weight vectors' pairwise distances down, which maximizes the minimum margin between
    classes. ``weight`` (K, D) is passed to :meth:`forward` (e.g. ``model.fc.weight``). For p < 2
    the gradient where two rows coincide is set to 0 (see :func:`glopt.nn.margin_penalty`).

    Parameters
    ----------
    lam : float >= 0, default 1e-3
        Weight of the regularizer.
    p : float > 0, default 2.0
        Exponent of the pairwise distances (convex for p >= 1).
    reduction : {"mean", "sum", "none"}, default "mean"
        Reduction of the cross-entropy: "mean", "sum" (the penalty added once), "none" (the (B,)
        per-sample cross-entropies, without the penalty: add ``lam * margin_penalty(weight, p)``).

    Raises
    ------
    ValueError
        When ``lam`` is negative, ``p`` not positive or ``reduction`` unknown.

    See Also
    --------
    glopt.nn.ism3_loss : The functional form.
    """

    def __init__(self, lam: float = 1e-3, p: float = 2.0, reduction: str = "mean"):
        super().__init__()
        Fn.positive_scalar(lam, "lam", allow_zero=True)
        Fn.positive_scalar(p, "p")
        Fn.choice(reduction, "reduction", Fn.REDUCTIONS)
        self.lam, self.p, self.reduction = float(lam), float(p), reduction

    def extra_repr(self) -> str:
        """Show the options in the module's repr.

        Returns
        -------
        str
            ``lam``, ``p`` and ``reduction`` as ``name=value`` pairs.
        """
        return f"lam={self.lam:g}, p={self.p:g}, reduction={self.reduction!r}"

    def forward(self, input, target, weight):
        """Evaluate the loss on a batch.

        Parameters
        ----------
        input : Tensor of shape (B, K)
            Logits.
        target : Tensor of shape (B,)
            Class indices in [0, K).
        weight : Tensor of shape (K, D)
            The class weights of the last layer.

        Returns
        -------
        Tensor
            A scalar, or the (B,) per-sample cross-entropies with ``reduction="none"``.
        """
        return Fn.ism3_loss(input, target, weight, lam=self.lam, p=self.p, reduction=self.reduction)
