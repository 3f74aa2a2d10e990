"""Neural: the seed papers' network experiments with the torch losses of :mod:`glopt.nn`.

A small CNN (conv16-conv32-fc64-fc10) on scikit-learn's digits (1797 8x8 images, 10 classes;
offline), trained from the same initialization and on the same split for every loss of a seed:

(a) the generalized loss ``e^T S e`` on the one-vs-rest hinge slacks (p = 2; S = G, Q, M on the
    standardized input pixels, gamma_s='scale', with and without the class mask) against the
    standard loss (S = I: the one-vs-rest squared hinge);
(b) the deep one-vs-rest SVM head (squared hinge on the last layer's scores, with and without the
    weight penalty 0.5 ||W||^2) against softmax cross-entropy;
(c) ISM3 (cross-entropy plus M3SVM's margin regularizer on the last layer) against
    cross-entropy.

Test accuracy and macro F1, mean and standard deviation over the seeds, with two paired tests
over the seeds against each experiment's baseline (Student's t and Wilcoxon's signed rank on
the accuracy), and a plot. Needs torch (the ``torch`` extra).
"""
from __future__ import annotations

import math

import numpy as np

from .report import ERROR, FAIL

#: Accuracy below which a loss counts as not having trained (chance is 0.1).
ACCURACY_FLOOR = {True: 0.3, False: 0.8}


def plan(quick: bool) -> dict:
    """Seeds, epochs and mini-batch size of the quick and the full version."""
    if quick:
        return dict(seeds=3, epochs=4, batch=64, lr=3e-3)
    return dict(seeds=5, epochs=25, batch=64, lr=3e-3)


def load(seed: int):
    """Digits as (N, 1, 8, 8) float32 images standardized by the training pixels, split 75/25 (stratified)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    mu, sd = X_tr.mean(), X_tr.std()
    shape = (-1, 1, 8, 8)
    return (((X_tr - mu) / sd).reshape(shape).astype(np.float32), y_tr,
            ((X_te - mu) / sd).reshape(shape).astype(np.float32), y_te)


def losses():
    """Experiment, loss name and the options of each loss; the first of an experiment is its baseline."""
    gl = [("(a) generalized loss", "S = I (standard)", dict(kind="gl", s_kernel="I"))]
    for mask in (False, True):
        for k in ("G", "Q", "M"):
            gl.append(("(a) generalized loss", f"S = {k}" + (" mask" if mask else ""),
                       dict(kind="gl", s_kernel=k, class_mask=mask)))
    svm = [("(b) SVM head", "cross-entropy", dict(kind="ce")),
           ("(b) SVM head", "squared hinge", dict(kind="ovr", penalty=False)),
           ("(b) SVM head", "squared hinge + 0.5||W||^2", dict(kind="ovr", penalty=True))]
    ism3 = [("(c) ISM3", "cross-entropy", dict(kind="ce")),
            ("(c) ISM3", "ISM3 (lam 1e-3, p 2)", dict(kind="ism3"))]
    return gl + svm + ism3


def _network(torch):
    from torch import nn

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Flatten(), nn.Linear(32 * 2 * 2, 64), nn.ReLU())
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            return self.fc(self.body(x))

    return CNN()


def _criterion(torch, options: dict, n_train: int):
    """A function (scores, targets, inputs, model) -> loss for the options of :func:`losses`."""
    from ..nn import GeneralizedLoss, ISM3Loss, OneVsRestSVMLoss

    kind = options["kind"]
    if kind == "gl":
        loss = GeneralizedLoss(p=2, task="classification", s_kernel=options["s_kernel"], gamma_s="scale",
                               class_mask=options.get("class_mask", False))
        return lambda out, y, x, model: loss(out, y, x.flatten(1))
    if kind == "ce":
        loss = torch.nn.CrossEntropyLoss()
        return lambda out, y, x, model: loss(out, y)
    if kind == "ovr":
        loss = OneVsRestSVMLoss(C=1.0)
        if not options["penalty"]:
            return lambda out, y, x, model: loss(out, y)
        # the SVM objective sum_n h_n^2 + 0.5 ||W||^2 over the training set, divided by N: the mean
        # data term of a mini-batch plus 0.5 ||W||^2 / N (the penalty of W / sqrt(N))
        scale = 1.0 / math.sqrt(n_train)
        return lambda out, y, x, model: loss(out, y, last_layer_weight=model.fc.weight * scale)
    loss = ISM3Loss(lam=1e-3, p=2.0)
    return lambda out, y, x, model: loss(out, y, last_layer_weight=model.fc.weight)


def train(options: dict, data, seed: int, cfg: dict) -> np.ndarray:
    """Train the CNN with one loss; returns the predicted test classes."""
    import torch

    X_tr, y_tr, X_te, _ = data
    torch.manual_seed(seed)                         # the same initialization for every loss of a seed
    model = _network(torch)
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    Xt, yt = torch.from_numpy(X_tr), torch.from_numpy(y_tr).long()
    criterion = _criterion(torch, options, len(yt))
    order = torch.Generator().manual_seed(seed)      # the same mini-batches for every loss of a seed
    for _ in range(cfg["epochs"]):
        perm = torch.randperm(len(yt), generator=order)
        for i in range(0, len(yt), cfg["batch"]):
            idx = perm[i:i + cfg["batch"]]
            xb, yb = Xt[idx], yt[idx]
            loss = criterion(model(xb), yb, xb, model)
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        return model(torch.from_numpy(X_te)).argmax(1).numpy()


def paired_p(a, b) -> tuple:
    """Two-sided p-values of the paired differences a - b: Student's t and Wilcoxon's signed rank
    (1.0 when all differences are 0)."""
    from scipy.stats import ttest_rel

    from .cv import wilcoxon_p

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if np.allclose(d, 0.0):
        return 1.0, 1.0
    t = float(ttest_rel(a, b).pvalue) if np.std(d) > 0 else 0.0
    return t, wilcoxon_p(a, b)


def _rows(report, cfg, seed, quick):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)            # small convolutions: one thread is fastest, and reproducible
    try:
        return _table(report, cfg, seed, quick)
    finally:
        torch.set_num_threads(threads)


def _table(report, cfg, seed, quick):
    from sklearn.metrics import accuracy_score, f1_score

    from .cv import outcome

    specs = losses()
    unique = {}                       # the cross-entropy runs are shared by (b) and (c)
    for _, name, options in specs:
        unique.setdefault(repr(sorted(options.items())), options)
    scores = {key: {"acc": [], "f1": []} for key in unique}
    with report.bar(len(unique) * cfg["seeds"], "CNN on digits") as bar:
        for s in range(cfg["seeds"]):
            data = load(seed + s)
            for key, options in unique.items():
                bar.set_postfix_str(f"seed {seed + s} {options['kind']}")
                pred = train(options, data, seed + s, cfg)
                scores[key]["acc"].append(accuracy_score(data[3], pred))
                scores[key]["f1"].append(f1_score(data[3], pred, average="macro"))
                bar.update()
    rows, base = [], {}
    for experiment, name, options in specs:
        sc = scores[repr(sorted(options.items()))]
        if experiment not in base:
            base[experiment] = (name, sc)
        base_name, base_sc = base[experiment]
        acc, f1 = np.mean(sc["acc"]), np.mean(sc["f1"])
        row = {"experiment": experiment, "loss": name, "accuracy": float(acc), "accuracy_std": float(np.std(sc["acc"])),
               "macro_f1": float(f1), "macro_f1_std": float(np.std(sc["f1"])), "seeds": cfg["seeds"],
               "baseline": base_name}
        if name == base_name:
            row.update(acc_diff=0.0, t_p=float("nan"), wilcoxon_p=float("nan"), outcome="")
        else:
            t_p, w_p = paired_p(sc["acc"], base_sc["acc"])
            diff = float(acc - np.mean(base_sc["acc"]))
            row.update(acc_diff=diff, t_p=t_p, wilcoxon_p=w_p, outcome=outcome(diff, t_p, what="loss"))
        row["verdict"] = "ok" if acc >= ACCURACY_FLOOR[quick] else FAIL
        rows.append(row)
    return rows


def run(report, seed: int, quick: bool) -> None:
    """The section: the table ``neural``, its plot ``neural_accuracy`` and a summary line.

    Parameters
    ----------
    report : glopt.experiments.report.Report
        Where the section, table, plot and summary go.
    seed : int
        First seed: seed s of the run splits, initializes and orders the mini-batches with
        ``seed + s``.
    quick : bool
        The small version (3 seeds, 4 epochs) or the full one (5 seeds, 25 epochs).
    """
    try:
        import torch  # noqa: F401
    except ImportError as exc:          # the torch extra is missing: say so in the report
        report.section("Neural: CNN on digits: ERROR", f"torch is not installed ({exc}); install glopt[torch].")
        report.table("neural", [{"experiment": "all", "verdict": ERROR, "note": "torch missing"}])
        return
    cfg = plan(quick)
    rows = _rows(report, cfg, seed, quick)
    report.section("Neural: the generalized loss, the SVM head and ISM3 in a CNN", (
        f"A CNN (conv16-conv32-fc64-fc10, ReLU, max-pooling) on scikit-learn's digits (8x8, 10 classes), "
        f"75/25 stratified split per seed, pixels standardized by the training split; Adam (lr {cfg['lr']:g}), "
        f"mini-batches of {cfg['batch']}, {cfg['epochs']} epochs, {cfg['seeds']} seeds (seed s: split, "
        "initialization and mini-batch order, the same for every loss). (a) `glopt.nn.GeneralizedLoss` "
        "(p = 2, one-vs-rest hinge slacks, S on the standardized input pixels of the mini-batch, "
        "gamma_s='scale', with and without the class mask) against the standard loss S = I (the "
        "one-vs-rest squared hinge); (b) `OneVsRestSVMLoss` (C = 1) without and with the weight penalty "
        "(the SVM objective over the training set divided by N: the penalty is 0.5 ||W||^2 / N) against "
        "softmax cross-entropy; (c) `ISM3Loss` against cross-entropy. Mean and standard deviation of the "
        "test accuracy and macro F1 over the seeds; `t_p` and `wilcoxon_p`: paired Student t and "
        "Wilcoxon signed-rank p-values of the accuracy against the experiment's baseline (with "
        f"{cfg['seeds']} seeds the smallest two-sided Wilcoxon p is {2 / 2 ** cfg['seeds']:.3g}); "
        "`outcome` from the t-test at 0.05. A loss whose mean accuracy is below "
        f"{ACCURACY_FLOOR[quick]:g} fails (chance is 0.1)."))
    report.table("neural", rows)
    report.summary("neural (CNN on digits, accuracy): " + ", ".join(
        f"{r['loss']} {r['accuracy']:.3f}" for r in rows if not (r["experiment"].startswith("(c)")
                                                                 and r["loss"] == "cross-entropy")))
    _plot(report, rows)


def _plot(report, rows):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if not (r["experiment"].startswith("(c)") and r["loss"] == "cross-entropy")]
    fig, ax = plt.subplots(figsize=(11, 3.8))
    x = np.arange(len(shown))
    for j, (metric, label) in enumerate((("accuracy", "test accuracy"), ("macro_f1", "macro F1"))):
        ax.bar(x + (j - 0.5) * 0.4, [r[metric] for r in shown], 0.4, yerr=[r[f"{metric}_std"] for r in shown],
               label=label, color=f"C{j}")
    low = min(r["accuracy"] - r["accuracy_std"] for r in shown)
    ax.set_ylim(max(0.0, low - 0.05), 1.0)
    ax.set_xticks(x, [f"{r['experiment'][:3]} {r['loss']}" for r in shown], rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("test score (mean, std over seeds)")
    ax.legend(fontsize=8, loc="lower right")
    report.figure("neural_accuracy", fig, "CNN on digits: test accuracy and macro F1 of each loss, mean and "
                  "standard deviation over the seeds ((a) generalized loss vs S = I, (b) SVM head vs "
                  "cross-entropy, (c) ISM3 vs cross-entropy).")
