"""LIBSVM model files and training-data files, read for certification.

A model file is the text LIBSVM's ``svm_save_model`` (``svm-train``) and ThunderSVM write: a
header of ``key value ...`` lines (svm_type, kernel_type, degree, gamma, coef0, nr_class,
total_sv, rho, label, nr_sv, probA, probB), the line ``SV``, then one line per support vector:
its ``nr_class - 1`` coefficients and its ``index:value`` pairs (``0:serial`` for a precomputed
kernel). The file does not record C, nu, epsilon or the class weights: they are given when the
file is read (:func:`read_libsvm_model`). It does not record which training samples the support
vectors are either: each is found among the training rows of its class, as the row equal to it
(up to the 8 significant digits the file keeps of each value).

Training data come as LIBSVM/svmlight text (:func:`sklearn.datasets.load_svmlight_file`), as
CSV with a header row and a named label column, or as ``.npz`` with arrays ``X`` and ``y`` (and
optionally ``sample_weight``).
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .._checks import _is_sparse, as_float_array, positive_scalar
from ..kernels import Kernel
from ._libsvm import Layout

#: LIBSVM's names of its five formulations, and the SVMProblem task of each.
SVM_TYPES = {"c_svc": "svc", "nu_svc": "nu_svc", "one_class": "one_class", "epsilon_svr": "svr",
             "nu_svr": "nu_svr"}
#: LIBSVM's kernel names (``polynomial`` is glopt's ``poly``).
KERNEL_TYPES = {"linear": "linear", "polynomial": "poly", "rbf": "rbf", "sigmoid": "sigmoid",
                "precomputed": "precomputed"}
#: The training parameters a model file does not record, by formulation.
NEEDED_PARAMS = {"c_svc": ("C",), "nu_svc": ("nu",), "one_class": ("nu",), "epsilon_svr": ("C", "epsilon"),
                 "nu_svr": ("C", "nu")}

_HEADER_KEYS = ("svm_type", "kernel_type", "degree", "gamma", "coef0", "nr_class", "total_sv", "rho",
                "label", "nr_sv", "probA", "probB", "prob_density_marks")


@dataclass
class LibsvmModel:
    """A model read from a LIBSVM model file, with the training parameters the file does not record.

    Parameters
    ----------
    path : str
        The file it was read from.
    svm_type : str
        LIBSVM's formulation: ``c_svc``, ``nu_svc``, ``one_class``, ``epsilon_svr`` or ``nu_svr``.
    kernel_type : str
        ``linear``, ``polynomial``, ``rbf``, ``sigmoid`` or ``precomputed``.
    gamma : float
        Kernel coefficient (rbf, polynomial, sigmoid).
    degree : int
        Degree of the polynomial kernel.
    coef0 : float
        Constant term of the polynomial and sigmoid kernels.
    nr_class : int
        Number of classes (2 for the regressors and the one-class SVM).
    rho : ndarray of shape (nr_class * (nr_class - 1) / 2,)
        The offsets rho of the decision functions (b = -rho).
    label : ndarray of shape (nr_class,) or None
        The class labels in LIBSVM's order (classifiers).
    nr_sv : ndarray of shape (nr_class,) or None
        Number of support vectors of each class (classifiers).
    sv_coef : ndarray of shape (nr_class - 1, total_sv)
        The coefficients of the support vectors, LIBSVM's one-vs-one layout.
    SV : scipy.sparse.csr_matrix of shape (total_sv, max_index + 1)
        The support vectors, column i holding the value of index i (empty for a precomputed
        kernel).
    sv_serial : ndarray of int or None
        Precomputed kernel: the 1-based training serial number of each support vector.
    C : float, optional
        The C it was trained with (c_svc, epsilon_svr, nu_svr).
    nu : float, optional
        The nu it was trained with (nu_svc, one_class, nu_svr).
    epsilon : float, optional
        The epsilon it was trained with (epsilon_svr).
    class_weight : dict, optional
        LIBSVM's ``-wi`` class weights, ``{label: weight}`` (c_svc).
    """

    path: str
    svm_type: str
    kernel_type: str
    gamma: float
    degree: int
    coef0: float
    nr_class: int
    rho: np.ndarray
    label: np.ndarray | None
    nr_sv: np.ndarray | None
    sv_coef: np.ndarray
    SV: sp.csr_matrix
    sv_serial: np.ndarray | None = None
    C: float | None = None
    nu: float | None = None
    epsilon: float | None = None
    class_weight: dict | None = field(default=None)

    @property
    def total_sv(self) -> int:
        """Number of support vectors."""
        return int(self.sv_coef.shape[1])

    @property
    def task(self) -> str:
        """The SVMProblem task of the formulation."""
        return SVM_TYPES[self.svm_type]

    def kernel(self) -> Kernel:
        """The kernel the model was trained with, as a glopt Kernel.

        Returns
        -------
        Kernel
            The kernel with the file's gamma, degree and coef0.
        """
        name = KERNEL_TYPES[self.kernel_type]
        if name in ("linear", "precomputed"):
            return Kernel(name)
        return Kernel(name, gamma=self.gamma, degree=self.degree if name == "poly" else 3, coef0=self.coef0)

    def missing_params(self) -> list:
        """The training parameters the formulation needs and the model was not given.

        Returns
        -------
        list of str
            Names among ``C``, ``nu`` and ``epsilon``.
        """
        return [p for p in NEEDED_PARAMS[self.svm_type] if getattr(self, p) is None]


def model_name(model: LibsvmModel) -> str:
    """How reports name a model read from a file: its path and formulation."""
    return f"LIBSVM model file {model.path} ({model.svm_type})"


def is_libsvm_model_file(path) -> bool:
    """Whether ``path`` is a text file that starts like a LIBSVM model file (``svm_type ...``).

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    bool
        True when its first line starts with ``svm_type``.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return False
    return head.lstrip().startswith(b"svm_type")


def read_libsvm_model(path, *, C=None, nu=None, epsilon=None, class_weight=None) -> LibsvmModel:
    """Read a LIBSVM model file (as LIBSVM's ``svm_save_model`` and ThunderSVM write it).

    The file does not record the training parameters C, nu, epsilon and the class weights;
    pass those the model was trained with (``svm-train -c``, ``-n``, ``-p``, ``-wi``):
    :func:`~glopt.audit.certify_model` refuses to certify a model whose formulation needs one
    that was not given, rather than certify a problem the model may not have solved.

    Parameters
    ----------
    path : str or os.PathLike
        The model file.
    C : float > 0, optional
        The cost C (c_svc, epsilon_svr, nu_svr).
    nu : float in (0, 1], optional
        The nu (nu_svc, one_class, nu_svr).
    epsilon : float >= 0, optional
        The tube width epsilon (epsilon_svr).
    class_weight : dict, optional
        Class weights ``{label: weight}`` (c_svc): the bound of class ``label`` is C * weight.

    Returns
    -------
    LibsvmModel
        The model.

    Raises
    ------
    ValueError
        When the file cannot be read or is not a valid model file (the message names the file
        and the line), or a parameter is out of range.
    """
    path = os.fspath(path)
    C = None if C is None else positive_scalar(C, "C")
    epsilon = None if epsilon is None else positive_scalar(epsilon, "epsilon", allow_zero=True)
    if nu is not None:
        nu = positive_scalar(nu, "nu")
        if nu > 1:
            raise ValueError(f"nu must be in (0, 1], got {nu!r}")
    if class_weight is not None:
        if not isinstance(class_weight, dict):
            raise ValueError(f"class_weight must be a dict {{label: weight}}, got {type(class_weight).__name__}")
        class_weight = {float(k): positive_scalar(v, f"class_weight[{k!r}]", allow_zero=True)
                        for k, v in class_weight.items()}
    try:
        with open(path, encoding="ascii", errors="strict") as f:
            lines = f.read().splitlines()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a LIBSVM model file (not ASCII text)") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the model file: {exc.strerror or exc}") from None
    header, sv_start = _read_header(path, lines)
    return _read_model(path, lines, header, sv_start, C, nu, epsilon, class_weight)


def _read_header(path, lines):
    header = {}
    for ln, line in enumerate(lines, start=1):
        tokens = line.split()
        if not tokens:
            continue
        key, values = tokens[0], tokens[1:]
        if key == "SV":
            if values:
                raise ValueError(f"{path}, line {ln}: the line 'SV' must stand alone, got {line.strip()!r}")
            return header, ln
        if ln == 1 and key != "svm_type":
            raise ValueError(f"{path}, line 1: not a LIBSVM model file (it must start with 'svm_type', "
                             f"got {key!r})")
        if key not in _HEADER_KEYS:
            raise ValueError(f"{path}, line {ln}: unknown header field {key!r} (known: {', '.join(_HEADER_KEYS)})")
        if key in header:
            raise ValueError(f"{path}, line {ln}: header field {key!r} given twice")
        if not values:
            raise ValueError(f"{path}, line {ln}: header field {key!r} has no value")
        _check_field(path, ln, key, values)
        header[key] = (ln, values)
    raise ValueError(f"{path}: no 'SV' line: the file ends before its support vectors"
                     if lines else f"{path}: the file is empty")


def _check_field(path, ln, key, values) -> None:
    """The values of one header line have the field's type (the counts are checked later)."""
    if key == "svm_type" and (len(values) != 1 or values[0] not in SVM_TYPES):
        raise ValueError(f"{path}, line {ln}: svm_type must be one of {', '.join(SVM_TYPES)}, got {' '.join(values)!r}")
    if key == "kernel_type" and (len(values) != 1 or values[0] not in KERNEL_TYPES):
        raise ValueError(f"{path}, line {ln}: kernel_type must be one of {', '.join(KERNEL_TYPES)}, "
                         f"got {' '.join(values)!r}")
    if key in ("degree", "nr_class", "total_sv", "nr_sv"):
        _numbers(path, ln, key, values, int)
    elif key not in ("svm_type", "kernel_type"):
        _numbers(path, ln, key, values)


def _numbers(path, ln, key, values, kind=float, count=None):
    if count is not None and len(values) != count:
        raise ValueError(f"{path}, line {ln}: {key} must have {count} value(s), got {len(values)}")
    try:
        out = [kind(v) for v in values]
    except ValueError:
        raise ValueError(f"{path}, line {ln}: {key} must be {'integers' if kind is int else 'numbers'}, "
                         f"got {' '.join(values)!r}") from None
    if kind is float and not all(np.isfinite(out)):
        raise ValueError(f"{path}, line {ln}: {key} holds NaN or infinity")
    return out


def _read_model(path, lines, header, sv_start, C, nu, epsilon, class_weight) -> LibsvmModel:
    def need(key):
        if key not in header:
            raise ValueError(f"{path}: the header has no '{key}' line")
        return header[key]

    ln, v = need("svm_type")
    if len(v) != 1 or v[0] not in SVM_TYPES:
        raise ValueError(f"{path}, line {ln}: svm_type must be one of {', '.join(SVM_TYPES)}, got {' '.join(v)!r}")
    svm_type = v[0]
    ln, v = need("kernel_type")
    if len(v) != 1 or v[0] not in KERNEL_TYPES:
        raise ValueError(f"{path}, line {ln}: kernel_type must be one of {', '.join(KERNEL_TYPES)}, "
                         f"got {' '.join(v)!r}")
    kernel_type = v[0]
    gamma, degree, coef0 = 1.0, 3, 0.0
    if kernel_type in ("polynomial", "rbf", "sigmoid"):
        ln, v = need("gamma")
        gamma = _numbers(path, ln, "gamma", v, count=1)[0]
        if gamma <= 0:
            raise ValueError(f"{path}, line {ln}: gamma must be > 0, got {gamma!r}")
    if kernel_type == "polynomial":
        ln, v = need("degree")
        degree = _numbers(path, ln, "degree", v, int, count=1)[0]
        if degree < 1:
            raise ValueError(f"{path}, line {ln}: degree must be >= 1, got {degree}")
    if kernel_type in ("polynomial", "sigmoid"):
        ln, v = need("coef0")
        coef0 = _numbers(path, ln, "coef0", v, count=1)[0]
    ln, v = need("nr_class")
    nr_class = _numbers(path, ln, "nr_class", v, int, count=1)[0]
    classifier = svm_type in ("c_svc", "nu_svc")
    if nr_class < 2 or (not classifier and nr_class != 2):
        raise ValueError(f"{path}, line {ln}: nr_class must be {'>= 2' if classifier else '2'} for "
                         f"{svm_type}, got {nr_class}")
    ln, v = need("total_sv")
    total_sv = _numbers(path, ln, "total_sv", v, int, count=1)[0]
    if total_sv < 0:
        raise ValueError(f"{path}, line {ln}: total_sv must be >= 0, got {total_sv}")
    n_pairs = nr_class * (nr_class - 1) // 2
    ln, v = need("rho")
    rho = np.array(_numbers(path, ln, "rho", v, count=n_pairs))
    label = nr_sv = None
    if classifier:
        ln, v = need("label")
        label = np.array(_numbers(path, ln, "label", v, count=nr_class))
        if np.unique(label).size != nr_class:
            raise ValueError(f"{path}, line {ln}: label lists a class twice")
        ln, v = need("nr_sv")
        nr_sv = np.array(_numbers(path, ln, "nr_sv", v, int, count=nr_class), dtype=np.intp)
        if np.any(nr_sv < 0) or nr_sv.sum() != total_sv:
            raise ValueError(f"{path}, line {ln}: nr_sv must be counts summing to total_sv = {total_sv}, "
                             f"got {' '.join(v)}")
    precomputed = kernel_type == "precomputed"
    n_coef = nr_class - 1
    coefs = np.zeros((n_coef, total_sv))
    indptr, indices, data, serial = [0], [], [], []
    row = 0
    for ln in range(sv_start + 1, len(lines) + 1):
        tokens = lines[ln - 1].split()
        if not tokens:
            continue
        if row == total_sv:
            raise ValueError(f"{path}, line {ln}: more support vector lines than total_sv = {total_sv}")
        if len(tokens) < n_coef:
            raise ValueError(f"{path}, line {ln}: a support vector line needs {n_coef} coefficient(s), "
                             f"got {len(tokens)} field(s)")
        coefs[:, row] = _numbers(path, ln, "the coefficients", tokens[:n_coef])
        last = -1
        for tok in tokens[n_coef:]:
            idx, sep, val = tok.partition(":")
            try:
                i, x = int(idx), float(val)
            except ValueError:
                i = x = None
            if not sep or i is None or not np.isfinite(x):
                raise ValueError(f"{path}, line {ln}: expected 'index:value', got {tok!r}")
            if i < 0 or i <= last:
                raise ValueError(f"{path}, line {ln}: feature indices must be >= 0 and increasing, got {tok!r}")
            last = i
            if precomputed:
                if i != 0 or serial and len(serial) > row:
                    raise ValueError(f"{path}, line {ln}: a precomputed-kernel support vector is one "
                                     f"'0:serial' pair, got {tok!r}")
                if x != int(x) or x < 1:
                    raise ValueError(f"{path}, line {ln}: the serial number must be a positive integer, got {tok!r}")
                serial.append(int(x))
            else:
                indices.append(i)
                data.append(x)
        if precomputed and len(serial) != row + 1:
            raise ValueError(f"{path}, line {ln}: a precomputed-kernel support vector needs its '0:serial' pair")
        indptr.append(len(indices))
        row += 1
    if row != total_sv:
        raise ValueError(f"{path}: {row} support vector line(s) but total_sv = {total_sv} (the file is truncated)")
    width = (max(indices) + 1) if indices else 1
    SV = sp.csr_matrix((np.array(data, dtype=np.float64), np.array(indices, dtype=np.int64),
                        np.array(indptr, dtype=np.int64)), shape=(total_sv, width))
    if class_weight is not None and label is not None:
        unknown = sorted(set(class_weight) - set(label.tolist()))
        if unknown:
            raise ValueError(f"class_weight names labels the model does not have: {unknown} "
                             f"(its labels are {label.tolist()})")
    return LibsvmModel(path=path, svm_type=svm_type, kernel_type=kernel_type, gamma=gamma, degree=degree,
                       coef0=coef0, nr_class=nr_class, rho=rho, label=label, nr_sv=nr_sv, sv_coef=coefs,
                       SV=SV, sv_serial=np.array(serial, dtype=np.intp) if precomputed else None,
                       C=C, nu=nu, epsilon=epsilon, class_weight=class_weight)


# --------------------------------------------------------------------------------------
# The model's layout on its training data
# --------------------------------------------------------------------------------------
def model_layout(model: LibsvmModel, X, y=None, sample_weight=None, first_index: int = 1) -> Layout:
    """The :class:`~glopt.audit._libsvm.Layout` of a LIBSVM model file on its training data.

    Parameters
    ----------
    model : LibsvmModel
        The model, with the training parameters its formulation needs.
    X : array-like or sparse matrix of shape (n_samples, n_features)
        The training inputs, column j holding LIBSVM's feature index ``j + first_index``; for a
        precomputed kernel the (n_samples, n_samples) Gram matrix, row i the sample of serial
        number i + 1.
    y : array-like of shape (n_samples,), optional
        The training labels or targets (not used by one_class).
    sample_weight : array-like of shape (n_samples,), optional
        Per-sample weights (a LIBSVM build with instance weights); default ones.
    first_index : {0, 1}, default=1
        LIBSVM's feature index of X's first column.

    Returns
    -------
    Layout
        The model in LIBSVM's terms.

    Raises
    ------
    ValueError
        When a training parameter is missing, or X or y do not match the model.
    """
    missing = model.missing_params()
    if missing:
        flags = ", ".join(f"{p}=..." for p in missing)
        options = " ".join(f"--{p} {p.upper()}" for p in missing)
        raise ValueError(f"the LIBSVM model file {model.path} ({model.svm_type}) does not record "
                         f"{' and '.join(missing)}: give the values it was trained with "
                         f"(read_libsvm_model(path, {flags}); on the command line {options})")
    kernel = model.kernel()
    precomputed = kernel.name == "precomputed"
    if precomputed:
        data = as_float_array(X.toarray() if _is_sparse(X) else X, "X", ndim=2)
        if data.shape[0] != data.shape[1]:
            raise ValueError(f"X must be the square Gram matrix for a precomputed kernel, got shape {data.shape}")
    else:
        data = _model_data(model, X, first_index)
    n = data.shape[0]
    classifier = model.label is not None
    weights = np.ones(n) if sample_weight is None else as_float_array(
        np.ravel(np.asarray(sample_weight)), "sample_weight", ndim=1)
    if weights.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},), got {weights.shape}")
    targets = classes = None
    if classifier:
        classes = model.label
        targets = _label_index(y, classes, n)
        if model.class_weight is not None and model.svm_type == "c_svc":
            cw = np.array([model.class_weight.get(float(c), 1.0) for c in classes])
            weights = weights * cw[targets]
    elif model.svm_type != "one_class":
        if y is None:
            raise ValueError(f"y is required to certify a {model.svm_type} model (its training targets)")
        targets = as_float_array(np.ravel(np.asarray(y)), "y", ndim=1)
        if targets.shape != (n,):
            raise ValueError(f"y must have shape ({n},), got {targets.shape}")
    if precomputed:
        sv_index = model.sv_serial - 1
        if sv_index.size and sv_index.max() >= n:
            raise ValueError(f"the model's support vectors have serial numbers up to {sv_index.max() + 1} but X "
                             f"has {n} samples")
        if classifier:
            sv_class = np.repeat(np.arange(classes.size), model.nr_sv)
            if not np.array_equal(targets[sv_index], sv_class):
                raise ValueError("y does not match the model: the labels of its support vectors are not those "
                                 "of their class in the model file")
    else:
        sv_class = np.repeat(np.arange(classes.size), model.nr_sv) if classifier else None
        regression = targets if model.svm_type in ("epsilon_svr", "nu_svr") else None
        sv_index = _match_support_vectors(model, data, targets if classifier else None, sv_class, first_index,
                                          values=regression)
    params = {p: float(getattr(model, p)) for p in NEEDED_PARAMS[model.svm_type]}
    if model.svm_type == "c_svc" and model.class_weight:
        params["class_weight"] = {str(k): v for k, v in model.class_weight.items()}
    info = {"source": "libsvm model file", "kernel": KERNEL_TYPES[model.kernel_type]}
    if model.kernel_type in ("polynomial", "rbf", "sigmoid"):
        info["gamma"] = model.gamma
    if model.kernel_type == "polynomial":
        info["degree"] = model.degree
    if model.kernel_type in ("polynomial", "sigmoid"):
        info["coef0"] = model.coef0
    return Layout(task=model.task, kernel=kernel, data=data, params=params, targets=targets, classes=classes,
                  weights=weights, sv_index=sv_index, dual=model.sv_coef.copy(), intercept=-model.rho, info=info)


def _model_data(model: LibsvmModel, X, first_index):
    """X with one column per LIBSVM feature index of the model (dense when that is small)."""
    if first_index not in (0, 1):
        raise ValueError(f"first_index must be 0 or 1, got {first_index!r}")
    if _is_sparse(X):
        X = sp.csr_matrix(X, dtype=np.float64)
        if not np.all(np.isfinite(X.data)):
            raise ValueError("X contains NaN or infinity")
    else:
        X = as_float_array(X, "X", ndim=2)
    # column of SV index i in X: i - first_index
    sv = model.SV
    used = np.unique(sv.indices[sv.data != 0]) if sv.nnz else np.array([], dtype=np.int64)
    if used.size and used.min() < first_index:
        raise ValueError(f"the model's support vectors use feature index {int(used.min())}, which X (first "
                         f"column = index {first_index}) has no column for")
    if used.size and used.max() - first_index >= X.shape[1]:
        raise ValueError(f"the model's support vectors use feature index {int(used.max())} but the data's "
                         f"features end at index {X.shape[1] - 1 + first_index}: the data do not match the model")
    if _is_sparse(X) and X.shape[0] * X.shape[1] <= 50_000_000 and X.nnz >= 0.25 * X.shape[0] * X.shape[1]:
        X = X.toarray()
    return X if not _is_sparse(X) else X.tocsr()


def _label_index(y, classes, n) -> np.ndarray:
    if y is None:
        raise ValueError("y is required to certify a classifier (its training labels)")
    y = as_float_array(np.ravel(np.asarray(y)), "y", ndim=1)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},), got {y.shape}")
    # LIBSVM keeps labels as integers in its model files
    idx = np.full(n, -1, dtype=np.intp)
    for c, value in enumerate(classes):
        idx[y == value] = c
    if np.any(idx < 0):
        unseen = list(dict.fromkeys(y[idx < 0].tolist()))
        raise ValueError(f"y holds labels the model was not trained on: {unseen[:5]}{' ...' if len(unseen) > 5 else ''} "
                         f"(its labels are {classes.tolist()})")
    return idx


def _match_support_vectors(model: LibsvmModel, data, targets, sv_class, first_index, values=None) -> np.ndarray:
    """The training row of each support vector: the nearest row of its class, within rounding.

    A model file keeps 8 significant digits of each value (ThunderSVM: of a float32), so a
    support vector matches its training row to a relative distance of about 1e-7; rows within
    1e-6 count as equal, and a support vector takes the nearest such row not taken yet.

    A regressor's support vectors whose input is that of several training rows (duplicate
    inputs, ``values`` their targets) share one decision value f there, so which of those rows
    carries which coefficient does not change the model; they are given to the rows as its
    optimality conditions place them: positive coefficients to the largest targets, negative ones
    to the smallest, the larger magnitudes further out (a coefficient at its bound C lies outside
    the tube, a free one on its edge).
    """
    from ..kernels import _inner, _row_sq

    n = data.shape[0]
    width = data.shape[1]
    # X's columns: index i of the model file in column i - first_index (_model_data checked that
    # every index with a nonzero value has its column)
    sv = model.SV.copy()
    sv.eliminate_zeros()
    sv = sp.csr_matrix((sv.data, sv.indices - first_index, sv.indptr), shape=(sv.shape[0], width))
    if _is_sparse(data):
        svm = sv
    else:
        svm = sv.toarray()
    x_sq = _row_sq(data)
    s_sq = _row_sq(svm)
    taken = np.zeros(n, dtype=bool)
    out = np.empty(sv.shape[0], dtype=np.intp)
    shared = {}   # regressors: rows of one input -> the support vectors matching them all
    groups = [np.arange(n)] if targets is None else [np.flatnonzero(targets == c) for c in range(int(sv_class.max(initial=-1)) + 1)]
    block = max(1, (32 << 20) // (8 * max(n, 1)))
    for start in range(0, sv.shape[0], block):
        stop = min(sv.shape[0], start + block)
        for c, rows in enumerate(groups):
            sel = np.arange(start, stop) if targets is None else np.flatnonzero(sv_class[start:stop] == c) + start
            if sel.size == 0:
                continue
            if rows.size == 0:
                raise ValueError(f"{model.path}: support vector {int(sel[0]) + 1} belongs to class "
                                 f"{_fmt(model.label[c])}, which no training sample has")
            G = _inner(svm[sel], data[rows])
            d2 = s_sq[sel, None] + x_sq[None, rows] - 2.0 * G
            tol2 = 1e-12 * (s_sq[sel, None] + x_sq[None, rows]) + 1e-300
            # the usual case at once: each support vector has one match, a different one for each
            close = d2 <= tol2
            if np.all(close.sum(axis=1) == 1):
                best = rows[np.argmax(close, axis=1)]
                if np.unique(best).size == best.size and not taken[best].any():
                    taken[best] = True
                    out[sel] = best
                    continue
            for k, t in enumerate(sel):
                if values is not None:
                    near = rows[d2[k] <= tol2[k]]
                    if near.size > 1:
                        shared.setdefault(tuple(near.tolist()), []).append(int(t))
                cand = np.flatnonzero((d2[k] <= tol2[k]) & ~taken[rows])
                if cand.size == 0:
                    what = "" if targets is None else f" of class {_fmt(model.label[c])}"
                    raise ValueError(f"{model.path}: support vector {int(t) + 1} matches no (unused) training "
                                     f"sample{what}: the data are not those the model was trained on")
                best = rows[cand[np.argmin(d2[k, cand])]]
                taken[best] = True
                out[t] = best
    if shared:
        _place_duplicates(out, shared, np.asarray(values, dtype=np.float64), model.sv_coef[0])
    return out


def _place_duplicates(out, shared, values, coef) -> None:
    """Reassign, within each set of training rows of one input, the regressor's support vectors
    matching them (see :func:`_match_support_vectors`): positive coefficients to the rows of the
    largest targets, negative ones to the smallest, in order of magnitude."""
    for rows, svs in shared.items():
        svs = np.array(svs, dtype=np.intp)
        own = set(out[svs].tolist())
        # rows of this input taken by support vectors of another (a tolerance edge) stay theirs
        others = set(out.tolist()) - own
        free = np.array([r for r in rows if r not in others], dtype=np.intp)
        order = free[np.argsort(-values[free], kind="stable")]       # largest target first
        pos = svs[coef[svs] > 0]
        neg = svs[coef[svs] <= 0]
        pos = pos[np.argsort(-coef[pos], kind="stable")]             # largest coefficient first
        neg = neg[np.argsort(coef[neg], kind="stable")]              # most negative first
        out[pos] = order[:pos.size]
        out[neg] = order[::-1][:neg.size]


def _fmt(value) -> str:
    v = float(value)
    return str(int(v)) if v == int(v) else repr(v)


# --------------------------------------------------------------------------------------
# Training data
# --------------------------------------------------------------------------------------
def read_data(path, *, label_column=None, weight_column=None, n_features=None, zero_based="auto"):
    """Read training data: LIBSVM/svmlight text, CSV with a header row, or ``.npz``.

    The format is chosen by the file's extension: ``.csv`` (a header row, one column per
    feature, the labels in the column named ``label_column``, optionally weights in
    ``weight_column``), ``.npz`` (arrays ``X``, ``y`` and optionally ``sample_weight``), anything
    else LIBSVM/svmlight text (``label index:value ...`` per line, read by
    :func:`sklearn.datasets.load_svmlight_file`).

    Parameters
    ----------
    path : str or os.PathLike
        The data file.
    label_column : str, optional
        CSV: the name of the label column (required unless the file holds features only, for a
        one-class model).
    weight_column : str, optional
        CSV: the name of a column of sample weights.
    n_features : int, optional
        svmlight: the number of features (default: the largest index in the file).
    zero_based : bool or "auto", default="auto"
        svmlight: whether the file's feature indices start at 0 (as for
        :func:`sklearn.datasets.load_svmlight_file`).

    Returns
    -------
    X : ndarray or scipy.sparse.csr_matrix of shape (n_samples, n_features)
        The inputs (svmlight: sparse).
    y : ndarray of shape (n_samples,) or None
        The labels (strings for a CSV label column that is not numeric), None when there is none.
    sample_weight : ndarray of shape (n_samples,) or None
        The weights, when the file has them.

    Raises
    ------
    ValueError
        When the file cannot be read or is malformed: the message names the file and, where
        there is one, the line.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"{path}: no such data file")
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npz":
        if label_column is not None or weight_column is not None:
            raise ValueError(f"{path}: label_column and weight_column apply to CSV files; an .npz file holds "
                             "arrays X, y and sample_weight")
        return _read_npz(path)
    if ext == ".csv":
        return _read_csv(path, label_column, weight_column)
    if label_column is not None or weight_column is not None:
        raise ValueError(f"{path}: label_column and weight_column apply to CSV files (this file is read as "
                         "LIBSVM/svmlight text)")
    return _read_svmlight(path, n_features, zero_based)


def _read_npz(path):
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read the .npz file: {exc}") from None
    if "X" not in arrays:
        raise ValueError(f"{path}: the .npz file has no array 'X' (it has {sorted(arrays)})")
    X = arrays["X"]
    if X.ndim != 2:
        raise ValueError(f"{path}: X must be 2-dimensional, got shape {X.shape}")
    y = arrays.get("y")
    sw = arrays.get("sample_weight")
    for name, a in (("y", y), ("sample_weight", sw)):
        if a is not None and a.shape != (X.shape[0],):
            raise ValueError(f"{path}: {name} must have shape ({X.shape[0]},), got {a.shape}")
    return as_float_array(X, f"{path}: X", ndim=2), y, None if sw is None else as_float_array(sw, "sample_weight", 1)


def _read_csv(path, label_column, weight_column):
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{path}: cannot read the CSV file: {exc}") from None
    rows = [(ln, r) for ln, r in enumerate(rows, start=1) if any(c.strip() for c in r)]
    if not rows:
        raise ValueError(f"{path}: the CSV file is empty")
    header = [c.strip() for c in rows[0][1]]
    for name, what in ((label_column, "label"), (weight_column, "weight")):
        if name is not None and name not in header:
            raise ValueError(f"{path}, line {rows[0][0]}: no {what} column {name!r} in the header "
                             f"(columns: {', '.join(header)})")
    if label_column is not None and label_column == weight_column:
        raise ValueError(f"{path}: the label and the weight column are the same, {label_column!r}")
    li = header.index(label_column) if label_column is not None else None
    wi = header.index(weight_column) if weight_column is not None else None
    feat = [j for j in range(len(header)) if j not in (li, wi)]
    if not feat:
        raise ValueError(f"{path}: the CSV file has no feature columns")
    X = np.empty((len(rows) - 1, len(feat)))
    labels, weights = [], []
    for r, (ln, cells) in enumerate(rows[1:]):
        if len(cells) != len(header):
            raise ValueError(f"{path}, line {ln}: {len(cells)} fields but the header has {len(header)}")
        for k, j in enumerate(feat):
            try:
                X[r, k] = float(cells[j])
            except ValueError:
                hint = " (if it holds the labels, name it as the label column)" if label_column is None else ""
                raise ValueError(f"{path}, line {ln}: column {header[j]!r} must be a number, got "
                                 f"{cells[j]!r}{hint}") from None
            if not np.isfinite(X[r, k]):
                raise ValueError(f"{path}, line {ln}: column {header[j]!r} is not finite ({cells[j]!r})")
        if li is not None:
            labels.append(cells[li].strip())
        if wi is not None:
            try:
                weights.append(float(cells[wi]))
            except ValueError:
                raise ValueError(f"{path}, line {ln}: weight column {header[wi]!r} must be a number, "
                                 f"got {cells[wi]!r}") from None
    if X.shape[0] == 0:
        raise ValueError(f"{path}: the CSV file has a header but no data rows")
    y = None
    if li is not None:
        y = np.array(labels)
        try:
            y = y.astype(np.float64)
        except ValueError:
            pass
    return X, y, (np.array(weights) if wi is not None else None)


def _read_svmlight(path, n_features, zero_based):
    from sklearn.datasets import load_svmlight_file

    try:
        X, y = load_svmlight_file(path, n_features=n_features, dtype=np.float64, zero_based=zero_based)
    except (ValueError, RuntimeError, UnicodeDecodeError) as exc:
        line, why = _svmlight_problem(path)
        if line is not None:
            raise ValueError(f"{path}, line {line}: {why}") from None
        raise ValueError(f"{path}: not a LIBSVM/svmlight data file: {exc}") from None
    if X.shape[0] == 0:
        raise ValueError(f"{path}: the data file has no samples")
    if not np.all(np.isfinite(X.data)) or not np.all(np.isfinite(y)):
        line, why = _svmlight_problem(path)
        raise ValueError(f"{path}, line {line}: {why}" if line else f"{path}: the data hold NaN or infinity")
    return X.tocsr(), y, None


def _svmlight_problem(path):
    """(line, reason) of the first line of an svmlight file that does not parse, or (None, None)."""
    try:
        with open(path, "rb") as f:
            for ln, raw in enumerate(f, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError:
                    return ln, "not UTF-8 text"
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                tokens = line.split()
                try:
                    label = float(tokens[0].split(",")[0])
                except ValueError:
                    return ln, f"the label must be a number, got {tokens[0]!r}"
                if not np.isfinite(label):
                    return ln, f"the label is not finite ({tokens[0]!r})"
                last = -1
                for tok in tokens[1:]:
                    if tok.startswith("qid:"):
                        continue
                    idx, sep, val = tok.partition(":")
                    try:
                        i, x = int(idx), float(val)
                    except ValueError:
                        return ln, f"expected 'index:value', got {tok!r}"
                    if not sep:
                        return ln, f"expected 'index:value', got {tok!r}"
                    if i < 0 or i <= last:
                        return ln, f"feature indices must be >= 0 and increasing, got {tok!r}"
                    if not np.isfinite(x):
                        return ln, f"the value of feature {i} is not finite ({tok!r})"
                    last = i
    except OSError as exc:
        return None, str(exc)
    return None, None
