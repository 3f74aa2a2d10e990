"""Certify fitted SVMs: does a model solve its own training problem, and how well?

:func:`certify_model` takes a fitted model and the data it was fitted on, rebuilds every
optimization problem the model solved, with every hyperparameter read from the model, and
certifies the model's answer to each with :func:`glopt.certify.certify`: primal and dual
objectives, relative duality gap, KKT violation, infeasibility. Supported:

- scikit-learn's ``SVC``, ``NuSVC``, ``SVR``, ``NuSVR`` and ``OneClassSVM`` (any labels,
  one-vs-one for more than two classes: one problem per pair of classes, class weights and
  sample weights folded into the bounds), scikit-learn-intelex's ``SVC``, ``NuSVC``, ``SVR``
  and ``NuSVR``, and glopt's drop-ins of :mod:`glopt.svm`;
- model files of LIBSVM (``svm-train``, ``svm_save_model``) and ThunderSVM
  (:func:`read_libsvm_model`), with their training data (:func:`read_data`);
- scikit-learn's ``LinearSVC`` and ``LinearSVR`` (liblinear's primal problems), glopt's
  ``GLSVC``, ``GLSVR`` and ``M3SVM``;
- a :class:`sklearn.pipeline.Pipeline` whose last step is one of these (X goes through the
  other steps' ``transform`` first).

Anything else is refused with a TypeError naming its class: a model is only ever certified
against the problem it solved.
"""
from __future__ import annotations

import os

from .._checks import positive_scalar
from ._files import LibsvmModel, is_libsvm_model_file, read_data, read_libsvm_model
from ._report import ModelReport, SubproblemReport

__all__ = ["certify_model", "ModelReport", "SubproblemReport", "LibsvmModel", "read_libsvm_model", "read_data"]

#: The classes the liblinear and the generalized-loss certifiers handle (exact classes only:
#: a subclass may solve another problem).
_LIBLINEAR = ("LinearSVC", "LinearSVR")
_GENERALIZED = ("GLSVC", "GLSVR", "M3SVM")


def _other_kind(model) -> str | None:
    """``"liblinear"`` for scikit-learn's LinearSVC/LinearSVR, ``"generalized"`` for glopt's
    GLSVC/GLSVR/M3SVM, else None."""
    cls = type(model)
    if cls.__name__ in _LIBLINEAR and cls.__module__.startswith("sklearn.svm"):
        import sklearn.svm

        return "liblinear" if cls is getattr(sklearn.svm, cls.__name__) else None
    if cls.__name__ in _GENERALIZED and cls.__module__.startswith("glopt."):
        import glopt

        return "generalized" if cls is getattr(glopt, cls.__name__) else None
    return None


def _public_name(cls) -> str:
    """``module.ClassName`` with the private submodules left out (``sklearn.svm.SVC``)."""
    parts = []
    for part in cls.__module__.split("."):
        if part.startswith("_"):
            break
        parts.append(part)
    return ".".join(parts + [cls.__qualname__])


def certify_model(model, X, y=None, sample_weight=None, *, reference=False, tol=1e-3, gap_tol=None) -> ModelReport:
    """Certify that a fitted SVM solves its training problems, one certificate per subproblem.

    Every problem the model solved is rebuilt from the model's fitted hyperparameters (kernel
    with gamma as resolved at fit time, C, nu, epsilon, class weights) and the training data,
    and the model's own answer (dual coefficients, intercepts) is certified against it. Samples
    of weight 0 are left out of the problems (their dual bound 0 forces their dual variable to
    0) and counted in each subproblem's ``problem["dropped_samples"]``.

    Parameters
    ----------
    model : estimator, Pipeline, LibsvmModel, str or os.PathLike
        A fitted model (see the module docstring for the supported ones), a pipeline ending in
        one, a :class:`LibsvmModel`, or the path of a LIBSVM model file (for a formulation that
        needs C, nu or epsilon, read it with :func:`read_libsvm_model` to give them).
    X : array-like or sparse matrix of shape (n_samples, n_features)
        The training inputs the model was fitted on (the Gram matrix for a precomputed kernel;
        for a LIBSVM model, column j holds feature index j + 1).
    y : array-like of shape (n_samples,), optional
        The training labels or targets (not used by one-class models).
    sample_weight : array-like of shape (n_samples,), optional
        The sample weights passed to ``fit`` (default: none).
    reference : bool, default=False
        Also solve each problem by glopt (its SMO to a tolerance of 1e-8, certified; the cvxpy
        reference too for problems of at most 300 samples) and report, in each subproblem's
        ``reference``, the objective difference, the largest decision-value difference and the
        share of differing predictions on X, and in the report's ``reference`` the share of
        differing predicted labels.
    tol : float > 0, default=1e-3
        The tolerance the report judges the KKT violation and the infeasibility with: LIBSVM's
        default stopping tolerance (its stopping rule bounds the KKT violation).
    gap_tol : float > 0, optional
        The tolerance of the relative duality gap (None: the gap is reported, not judged).

    Returns
    -------
    ModelReport
        One :class:`SubproblemReport` per problem; ``report.ok()`` says whether all certify.

    Raises
    ------
    TypeError
        When the model is of a type glopt cannot certify (the message names its class).
    ValueError
        When the model is not fitted, or X, y or sample_weight do not match it (feature count,
        sample count, labels the model has not seen, rows that are not the model's support
        vectors), or a LIBSVM model file lacks a training parameter.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from glopt.audit import certify_model
    >>> X, y = load_iris(return_X_y=True)
    >>> report = certify_model(SVC(tol=1e-5).fit(X, y), X, y)
    >>> [s.label for s in report.subproblems]
    ['classes (0, 1)', 'classes (0, 2)', 'classes (1, 2)']
    >>> report.ok()
    True
    """
    from ._libsvm import certify_libsvm, estimator_source

    tol = positive_scalar(tol, "tol")
    gap_tol = None if gap_tol is None else positive_scalar(gap_tol, "gap_tol")
    if not isinstance(reference, bool):
        raise ValueError(f"reference must be True or False, got {reference!r}")
    if X is None:
        raise ValueError("X is required: the training inputs the model was fitted on")
    name, model, X = _unwrap(model, X)
    model_ref = None
    if isinstance(model, LibsvmModel):
        from ._files import model_layout
        from ._libsvm import layout_reports

        reports, model_ref = layout_reports(model_layout(model, X, y, sample_weight), reference=reference)
    elif estimator_source(model) is not None:
        reports, model_ref = certify_libsvm(model, X, y, sample_weight, reference)
    else:
        kind = _other_kind(model)
        if kind == "liblinear":
            from ._liblinear import certify_liblinear

            reports = certify_liblinear(model, X, y, sample_weight, reference)
        elif kind == "generalized":
            from ._generalized import certify_generalized

            reports = certify_generalized(model, X, y, sample_weight, reference)
        else:
            raise TypeError(f"{name} is not a model glopt can certify: supported are scikit-learn's SVC, NuSVC, "
                            "SVR, NuSVR, OneClassSVM, LinearSVC and LinearSVR, scikit-learn-intelex's SVC, NuSVC, "
                            "SVR and NuSVR, glopt's SVMs (glopt.svm, GLSVC, GLSVR, M3SVM), LIBSVM and ThunderSVM "
                            "model files, and a Pipeline ending in one of them")
    return ModelReport(model=name, subproblems=tuple(reports), tol=tol, gap_tol=gap_tol, reference=model_ref)


def _unwrap(model, X):
    """(name, model, X): a path read as a LIBSVM model file, a pipeline's last step with X transformed."""
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        if not is_libsvm_model_file(path):
            raise ValueError(f"model: {path} is not a LIBSVM model file (pass a fitted estimator, or load a "
                             "pickled one first)")
        model = read_libsvm_model(path)
    if isinstance(model, LibsvmModel):
        from ._files import model_name

        return model_name(model), model, X
    try:
        from sklearn.pipeline import Pipeline
    except ImportError:  # pragma: no cover - scikit-learn is a dependency
        Pipeline = ()
    if isinstance(model, Pipeline):
        steps = [s for _, s in model.steps]
        last = steps[-1]
        if last is None or last == "passthrough":
            raise TypeError("the Pipeline's last step is 'passthrough': there is no model to certify")
        head = [s for s in steps[:-1] if s is not None and s != "passthrough"]
        name = "sklearn.pipeline.Pipeline(" + ", ".join(_public_name(type(s)) for s in head + [last]) + ")"
        if head:
            X = model[:-1].transform(X)
        _, inner, X = _unwrap(last, X)
        return name, inner, X
    return _public_name(type(model)), model, X

