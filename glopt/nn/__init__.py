"""PyTorch losses of glopt (docs/mathematics.md §8); importing this module imports torch.

- :class:`GeneralizedLoss` / :func:`generalized_loss`: e^T S(x) e over the batch (exact, random
  Fourier features, or over the global batch under torch.distributed).
- :class:`OneVsRestSVMLoss` / :func:`one_vs_rest_svm_loss`: the squared-hinge one-vs-rest SVM head.
- :class:`ISM3Loss` / :func:`ism3_loss`: cross-entropy plus the M3SVM margin regularizer
  (:func:`margin_penalty`).

The losses subclass ``torch.nn.modules.loss._Loss`` and take torch's ``reduction``; forward and
backward make no host synchronization unless value checks are asked for
(:func:`set_default_validate_args`, or ``validate_args=True`` on a loss).
"""
from .functional import (generalized_loss, get_default_validate_args, ism3_loss, margin_penalty,
                         one_vs_rest_svm_loss, rff_frequencies, set_default_validate_args)
from .modules import GeneralizedLoss, ISM3Loss, OneVsRestSVMLoss

__all__ = ["GeneralizedLoss", "ISM3Loss", "OneVsRestSVMLoss", "generalized_loss", "get_default_validate_args",
           "ism3_loss", "margin_penalty", "one_vs_rest_svm_loss", "rff_frequencies", "set_default_validate_args"]
