"""torch.nn.Module forms of the glopt losses (each a thin holder of options over :mod:`.functional`).

They subclass ``torch.nn.modules.loss._Loss`` (``_WeightedLoss`` where a per-class ``weight`` is
taken, registered as a buffer), as torch's losses do. This module has no
``from __future__ import annotations``: ``torch.jit.script`` reads the annotations of
:class:`OneVsRestSVMLoss` and :class:`ISM3Loss`.
"""
import math
import numbers
import warnings
from typing import Optional

import numpy as np
import torch
from torch.nn.modules.loss import _Loss, _WeightedLoss

from . import _core
from . import functional as Fn

_LEGACY = ("passing the last layer's weight as weight= is deprecated; pass it as last_layer_weight= (the "
           "per-class weight is the constructor's weight=, as in torch.nn.CrossEntropyLoss)")


def _legacy_last_layer_weight(weight: Optional[torch.Tensor],
                              last_layer_weight: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
    """The last layer's weight of a forward call that may still pass it as ``weight=`` (deprecated)."""
    if weight is None:
        return last_layer_weight
    if last_layer_weight is not None:
        raise ValueError("pass the last layer's weight once, as last_layer_weight")
    if torch.jit.is_scripting():       # (TorchScript: a literal message, no category)
        warnings.warn("passing the last layer's weight as weight= is deprecated; pass it as "
                      "last_layer_weight= (the per-class weight is the constructor's weight=)")
    else:
        warnings.warn(_LEGACY, FutureWarning, stacklevel=3)
    return weight


def _check_validate_args(validate_args):
    if validate_args is not None and not isinstance(validate_args, (bool, np.bool_)):
        raise ValueError(f"validate_args must be None, True or False, got {validate_args!r}")
    return None if validate_args is None else bool(validate_args)


def _check_class_weight(weight):
    if weight is None:
        return None
    Fn._check_tensor(weight, "weight")
    if not weight.is_floating_point() or weight.dim() != 1:
        raise ValueError(f"weight (the per-class weight) must be a floating-point tensor of shape (K,), got "
                         f"{weight.dtype} {tuple(weight.shape)}")
    return weight


class GeneralizedLoss(_Loss):
    r"""Generalized loss of order p, ``e^T S(x) e`` over the batch (docs/mathematics.md §8).

    ``e_i`` is the per-sample error raised to p/2: regression ``e = |t - o|`` (minus ``epsilon``,
    clipped at 0: epsilon-insensitive), classification the hinge slack ``max(0, 1 - t o)``, for
    binary targets in {-1, +1} or one-vs-rest over the K classes of class-index targets. S is the
    pattern-correlation matrix of ``features`` (G, Q, M of :mod:`glopt.kernels`, or I), optionally
    class-masked (S_ij = 0 across classes). Several outputs (regression (B, T), one-vs-rest
    (B, K)) share S: the loss is ``sum_t e_t^T S e_t``.

    Shapes: ``input`` (B, \*) for regression, (B,) or (B, 1) binary, (B, K) one-vs-rest;
    ``target`` the shape of ``input``, or (B,) class indices for one-vs-rest; ``features``
    (B, \*), flattened to (B, D); the output a scalar, or (B, T) for ``reduction="none"``.
    B = 1 gives S = [[1]] (the standard loss); B = 0 raises ValueError.

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
    validate_args : bool or None, default None
        Check the tensors' values on every call (finite entries, binary targets in {-1, +1},
        class indices in range, a nonzero median distance for "scale"): each check is a host
        synchronization. None: the default of :func:`glopt.nn.set_default_validate_args`
        (off unless set).

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
    accumulates in float32 under autocast-bf16; its result is float32. Every tensor it creates
    is created on the input's device; without ``validate_args`` forward and backward make no
    host synchronization (the random frequencies are drawn at the first call with a given
    feature dimension and copied to the device asynchronously, through pinned memory, once per
    dtype and device).

    Gradients flow into ``features`` when they require grad (S then depends on the parameters
    too); pass detached features to keep S a weighting of the errors. Under torch.compile the
    loss traces into one graph (fullgraph) without the value checks; with ``s_approx="rff"``
    the frequencies are drawn (numpy) at the first call, so make that call eagerly or accept a
    graph break there. ``torch.jit.trace`` and ``torch.export`` work; ``torch.jit.script`` does
    not (docs/nn.md says why).

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
                 global_batch: bool = False, reduction: str = "mean", validate_args: Optional[bool] = None):
        Fn.choice(reduction, "reduction", Fn.REDUCTIONS)
        super().__init__(reduction=reduction)
        self.task, self.p, self.s_kernel, self.gamma_s = task, p, s_kernel, gamma_s
        self.nu, self.alpha, self.class_mask, self.epsilon, self.eps = nu, alpha, class_mask, epsilon, eps
        self.s_approx, self.n_components, self.random_state = s_approx, n_components, random_state
        self.global_batch = global_batch
        self.validate_args = _check_validate_args(validate_args)
        self._key = None
        self._checked_options()           # a bad option fails at construction
        # An int seed gives the same draw wherever it is made; otherwise one generator feeds the draws.
        self._rng = None if isinstance(random_state, numbers.Integral) else np.random.default_rng(random_state)
        self._draws = {}          # feature dimension -> (W1, phase) as numpy arrays
        self._frequencies = {}    # (dimension, dtype, device) -> the same as tensors

    _OPTIONS = ("task", "p", "s_kernel", "gamma_s", "nu", "alpha", "class_mask", "epsilon", "eps", "s_approx",
                "n_components", "random_state", "global_batch", "reduction")

    @property
    def options(self) -> dict:
        """The options of the loss, by name (those of the constructor but ``validate_args``)."""
        return {name: getattr(self, name) for name in self._OPTIONS}

    def _checked_options(self):
        """The checked (p, gamma, epsilon, eps, R), checked again only when an option changed."""
        key = tuple(getattr(self, name) for name in self._OPTIONS)
        if self._key is None or key != self._key:
            self._checked = Fn._loss_options(self.task, self.p, self.s_kernel, self.gamma_s, self.nu, self.alpha,
                                             self.class_mask, self.epsilon, self.eps, self.s_approx,
                                             self.n_components, self.random_state, self.global_batch,
                                             self.reduction)
            self._key = key
        return self._checked

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
        D = int(math.prod(features.shape[1:]))
        key = (D, dtype, features.device)
        if key not in self._frequencies:
            if D not in self._draws:
                seed = self.random_state if self._rng is None else self._rng
                self._draws[D] = Fn.rff_frequencies(self.s_kernel, D, self.n_components, seed, self.nu, self.alpha)
            self._frequencies[key] = tuple(Fn._to_device(a, dtype, features.device) for a in self._draws[D])
        return self._frequencies[key]

    def forward(self, input: torch.Tensor, target: torch.Tensor,
                features: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Evaluate the loss on a batch.

        Parameters
        ----------
        input : Tensor
            Predictions: regression (B, \\*); binary classification (B,) or (B, 1); one-vs-rest
            (B, K). B >= 1: a batch of one sample has S = [[1]] (the standard loss).
        target : Tensor
            Of the shape of ``input`` (regression; binary classification, values in {-1, +1}), or
            (B,) class indices in [0, K) of an integer dtype (one-vs-rest).
        features : Tensor of shape (B, \\*), optional
            The inputs S is computed on, flattened per sample to (B, D); required unless
            ``s_kernel="I"``.

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
            When the batch is empty, a shape, dtype or device does not fit the task, or (when
            validating) a value does not.
        """
        p, gamma, epsilon, eps, R = self._checked_options()
        rff = None
        if self.s_approx == "rff" and isinstance(features, torch.Tensor) and features.dim() > 0:
            rff = self._rff(features, Fn._compute_dtype(input) if isinstance(input, torch.Tensor) else torch.float32)
        return Fn._generalized(input, target, features, self.task, p, self.s_kernel, gamma, self.nu, self.alpha,
                               self.class_mask, epsilon, eps, self.s_approx, R, self.random_state,
                               self.global_batch, self.reduction, Fn._validating(self.validate_args), rff)


class OneVsRestSVMLoss(_WeightedLoss):
    r"""One-vs-rest SVM head, ``C sum_n w_(y_n) sum_k max(0, 1 - t_kn s_kn)^2 + 0.5 ||W||^2``.

    The squared hinge of the soft-margin SVM (docs/mathematics.md §8), one binary problem per class:
    t_kn = +1 if sample n is of class k, -1 otherwise. The penalty is added when the last layer's
    weight W is passed to :meth:`forward` as ``last_layer_weight`` (or use the optimizer's weight
    decay instead). Per-class ``weight`` and ``ignore_index`` work as in
    :class:`torch.nn.CrossEntropyLoss`. Shapes: ``input`` (B, K), ``target`` (B,), output a
    scalar or (B,) for ``reduction="none"``. ``torch.jit.script`` compiles it.

    Parameters
    ----------
    C : float > 0, default 1.0
        Weight of the data term.
    reduction : {"mean", "sum", "none"}, default "mean"
        "sum": the formula above; "mean": the data term divided by the sum of the samples'
        weights (B without ``weight`` and ignored targets), the penalty added once; "none": the
        (B,) per-sample data terms ``C w_(y_n) sum_k h_kn^2`` (0 where ignored), without the
        penalty (it belongs to no sample; add ``0.5 * W.square().sum()`` yourself).
    weight : Tensor of shape (K,), optional
        Per-class weights: sample n's term is multiplied by ``weight[y_n]`` (a buffer).
    ignore_index : int, default -100
        A target value that contributes nothing (nor to the "mean" denominator).
    validate_args : bool or None, default None
        Check the values on every call (finite input and weights, class indices in range); each
        check is a host synchronization. None: :func:`glopt.nn.get_default_validate_args`.

    Raises
    ------
    ValueError
        When ``C`` is not positive, ``reduction`` is unknown or ``weight`` not a (K,) vector.

    See Also
    --------
    glopt.nn.one_vs_rest_svm_loss : The functional form.
    """

    __constants__ = ["C", "ignore_index", "reduction"]
    C: float
    ignore_index: int

    def __init__(self, C: float = 1.0, reduction: str = "mean", *, weight: Optional[torch.Tensor] = None,
                 ignore_index: int = -100, validate_args: Optional[bool] = None):
        Fn.positive_scalar(C, "C")
        Fn.choice(reduction, "reduction", Fn.REDUCTIONS)
        super().__init__(_check_class_weight(weight), reduction=reduction)
        self.C, self.ignore_index = float(C), Fn._check_ignore_index(ignore_index)
        self.validate_args = _check_validate_args(validate_args)

    def extra_repr(self) -> str:
        """Show the options in the module's repr.

        Returns
        -------
        str
            ``C``, ``ignore_index`` and ``reduction`` as ``name=value`` pairs.
        """
        return f"C={self.C:g}, ignore_index={self.ignore_index}, reduction={self.reduction!r}"

    def forward(self, input: torch.Tensor, target: torch.Tensor, last_layer_weight: Optional[torch.Tensor] = None,
                weight: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Evaluate the loss on a batch.

        Parameters
        ----------
        input : Tensor of shape (B, K)
            Class scores s, K >= 2, B >= 1.
        target : Tensor of shape (B,)
            Class indices in [0, K), or ``ignore_index``.
        last_layer_weight : Tensor, optional
            The last layer's weight W, any shape (e.g. (K, D)): adds ``0.5 ||W||^2``.
        weight : Tensor, optional
            Deprecated name of ``last_layer_weight`` (a FutureWarning); the per-class weight is
            the constructor's.

        Returns
        -------
        Tensor
            A scalar, or the (B,) per-sample data terms with ``reduction="none"``.

        Raises
        ------
        ValueError
            When a shape, dtype or device does not fit, or (when validating) a value does not.
        """
        last_layer_weight = _legacy_last_layer_weight(weight, last_layer_weight)
        if torch.jit.is_scripting():
            return _core.ovr_svm(input, target, last_layer_weight, self.weight, self.C, self.ignore_index,
                                 self.reduction)
        return self._eager(input, target, last_layer_weight)

    @torch.jit.unused
    def _eager(self, input: torch.Tensor, target: torch.Tensor,
               last_layer_weight: Optional[torch.Tensor]) -> torch.Tensor:
        return Fn.one_vs_rest_svm_loss(input, target, last_layer_weight, weight=self.weight, C=self.C,
                                       ignore_index=self.ignore_index, reduction=self.reduction,
                                       validate_args=self.validate_args)


class ISM3Loss(_WeightedLoss):
    r"""ISM3 loss, softmax cross-entropy plus ``lam sum_{k<l} ||w_k - w_l||^p`` over class weights.

    The margin regularizer of M3SVM (Nie et al., AAAI 2024) on a network's last layer: it pulls
    the class weight vectors' pairwise distances down, which maximizes the minimum margin between
    classes. The last layer's class weights (K, D) are passed to :meth:`forward` as
    ``last_layer_weight`` (e.g. ``model.fc.weight``). For p < 2 the gradient where two rows
    coincide is set to 0 (see :func:`glopt.nn.margin_penalty`). Per-class ``weight`` and
    ``ignore_index`` are those of :class:`torch.nn.CrossEntropyLoss`, which ``lam = 0`` gives
    exactly. Shapes: ``input`` (B, K), ``target`` (B,), output a scalar or (B,) for
    ``reduction="none"``. ``torch.jit.script`` compiles it.

    Parameters
    ----------
    lam : float >= 0, default 1e-3
        Weight of the regularizer.
    p : float > 0, default 2.0
        Exponent of the pairwise distances (convex for p >= 1).
    reduction : {"mean", "sum", "none"}, default "mean"
        Reduction of the cross-entropy: "mean" (CrossEntropyLoss's, weighted), "sum" (the
        penalty added once), "none" (the (B,) per-sample cross-entropies, without the penalty:
        add ``lam * margin_penalty(W, p)``).
    weight : Tensor of shape (K,), optional
        Per-class weights of the cross-entropy (a buffer).
    ignore_index : int, default -100
        A target value that contributes nothing (nor to the "mean" denominator).
    validate_args : bool or None, default None
        Check the values on every call (finite input and weights, class indices in range); each
        check is a host synchronization. None: :func:`glopt.nn.get_default_validate_args`.

    Raises
    ------
    ValueError
        When ``lam`` is negative, ``p`` not positive, ``reduction`` unknown or ``weight`` not a
        (K,) vector.

    See Also
    --------
    glopt.nn.ism3_loss : The functional form.
    """

    __constants__ = ["lam", "p", "ignore_index", "reduction"]
    lam: float
    p: float
    ignore_index: int

    def __init__(self, lam: float = 1e-3, p: float = 2.0, reduction: str = "mean", *,
                 weight: Optional[torch.Tensor] = None, ignore_index: int = -100,
                 validate_args: Optional[bool] = None):
        Fn.positive_scalar(lam, "lam", allow_zero=True)
        Fn.positive_scalar(p, "p")
        Fn.choice(reduction, "reduction", Fn.REDUCTIONS)
        super().__init__(_check_class_weight(weight), reduction=reduction)
        self.lam, self.p, self.ignore_index = float(lam), float(p), Fn._check_ignore_index(ignore_index)
        self.validate_args = _check_validate_args(validate_args)

    def extra_repr(self) -> str:
        """Show the options in the module's repr.

        Returns
        -------
        str
            ``lam``, ``p``, ``ignore_index`` and ``reduction`` as ``name=value`` pairs.
        """
        return f"lam={self.lam:g}, p={self.p:g}, ignore_index={self.ignore_index}, reduction={self.reduction!r}"

    def forward(self, input: torch.Tensor, target: torch.Tensor, last_layer_weight: Optional[torch.Tensor] = None,
                weight: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Evaluate the loss on a batch.

        Parameters
        ----------
        input : Tensor of shape (B, K)
            Logits, K >= 2, B >= 1.
        target : Tensor of shape (B,)
            Class indices in [0, K), or ``ignore_index``.
        last_layer_weight : Tensor of shape (K, D), optional
            The class weights of the last layer; required when ``lam > 0`` (unless
            ``reduction="none"``).
        weight : Tensor of shape (K, D), optional
            Deprecated name of ``last_layer_weight`` (a FutureWarning); the per-class weight is
            the constructor's.

        Returns
        -------
        Tensor
            A scalar, or the (B,) per-sample cross-entropies with ``reduction="none"``.

        Raises
        ------
        ValueError
            When a shape, dtype or device does not fit, ``last_layer_weight`` is missing, or
            (when validating) a value does not fit.
        """
        last_layer_weight = _legacy_last_layer_weight(weight, last_layer_weight)
        if torch.jit.is_scripting():
            return _core.ism3(input, target, last_layer_weight, self.weight, self.lam, self.p, self.ignore_index,
                              self.reduction)
        return self._eager(input, target, last_layer_weight)

    @torch.jit.unused
    def _eager(self, input: torch.Tensor, target: torch.Tensor,
               last_layer_weight: Optional[torch.Tensor]) -> torch.Tensor:
        return Fn.ism3_loss(input, target, last_layer_weight, weight=self.weight, lam=self.lam, p=self.p,
                            ignore_index=self.ignore_index, reduction=self.reduction,
                            validate_args=self.validate_args)
