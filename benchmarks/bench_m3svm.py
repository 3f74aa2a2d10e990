"""M3SVM fit time: glopt's L-BFGS solver against the reference approach (full-batch Adam).

    python benchmarks/bench_m3svm.py [--folds 10] [--alpha 1e-4] [--p 4] [--loss smooth_hinge]
                                     [--lrs 0.05,0.01] [--max-steps 10000] [--repeats 3]
                                     [--out docs/results/m3svm-adam.md]

KEEL vehicle, StratifiedKFold(folds, shuffle, seed 0); on each training part (standardized on
that part) the same smoothed objective J (glopt.multiclass, delta = 0.1) is minimized by

- glopt: ``solve_lbfgs`` (L-BFGS-B with the analytic gradient, then Newton polish), time = the
  median of ``--repeats`` runs;
- the reference approach (github zz-haooo/M3SVM): full-batch Adam in torch on the same J, float64
  (float32 cannot resolve 1e-6 relative), W = 0, b = 0 start (deterministic), learning rate 0.05
  (the reference code's setting for vehicle) and others from ``--lrs``; it runs until its
  objective is within 1e-6 relative of glopt's final objective, or ``--max-steps`` steps.

Times are CPU times of the process (time.process_time): both solvers run single-threaded (torch
set to 1 thread; glopt limits BLAS to 1 thread on problems this small), and on a shared, loaded
machine CPU time measures the work where wall time measures the neighbours.

Per fold: both times, Adam's steps, whether it reached the target, and the ratio
t_Adam / t_glopt. When Adam does not reach the target the ratio is a lower bound (reported as
">="). Medians over folds in the last line. Goal: glopt >= 10x faster. Besides the console
table, the run writes a results page (``--out``; '' for none) with the command, the machine, the
load average and the same table.
"""
from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import time

import numpy as np


def adam_fit(X, y, n_classes, *, alpha, p, loss, delta, lr, target, max_steps):
    """Full-batch Adam on J (float64). Returns (time, steps, final objective, reached)."""
    import torch

    Xt = torch.as_tensor(X, dtype=torch.float64)
    yt = torch.as_tensor(y, dtype=torch.long)
    n = Xt.shape[0]
    W = torch.zeros((n_classes, X.shape[1]), dtype=torch.float64, requires_grad=True)
    b = torch.zeros(n_classes, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([W, b], lr=lr)
    mask = torch.ones((n, n_classes), dtype=torch.float64)
    mask[torch.arange(n), yt] = 0.0
    iu = torch.triu_indices(n_classes, n_classes, 1)

    def objective():
        F = Xt @ W.T + b
        fy = F.gather(1, yt[:, None])
        if loss == "logistic":
            data = (torch.logsumexp(F, dim=1) - fy[:, 0]).mean()
        else:
            U = 1.0 + F - fy
            data = ((0.5 * (U + torch.sqrt(U * U + delta * delta))) * mask).sum(dim=1).mean()
        D = W[iu[0]] - W[iu[1]]
        # torch.norm's gradient at 0 is NaN-free (0) for the 2-norm; pairs never coincide here
        return data + alpha * (torch.linalg.vector_norm(D, dim=1) ** p).sum()

    t0 = time.process_time()
    value = np.inf
    steps = 0
    for steps in range(1, max_steps + 1):
        opt.zero_grad()
        J = objective()
        value = float(J.detach())
        if value <= target:          # the objective of the iterate before this step
            steps -= 1
            break
        J.backward()
        opt.step()
    else:
        with torch.no_grad():
            value = float(objective())
    return time.process_time() - t0, steps, value, value <= target


def run(folds=10, alpha=1e-4, p=4.0, loss="smooth_hinge", delta=0.1, lrs=(0.05, 0.01), max_steps=10000,
        repeats=3, seed=0, verbose=True):
    import torch
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    from glopt.datasets import load_keel
    from glopt.multiclass import solve_lbfgs

    torch.set_num_threads(1)
    X, y = load_keel("vehicle", return_X_y=True)
    k = int(y.max()) + 1
    rows = []
    for fold, (train, _) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y)):
        Xs = StandardScaler().fit_transform(X[train])
        ys = y[train]
        times, res = [], None
        for _ in range(repeats):
            t0 = time.process_time()
            res = solve_lbfgs(Xs, ys, k, alpha=alpha, p=p, loss=loss, delta=delta)
            times.append(time.process_time() - t0)
        t_gl = statistics.median(times)
        target = res["objective"] * (1 + 1e-6)
        row = dict(fold=fold, t_glopt=t_gl, lbfgs_iter=res["n_iter"], newton=res["n_newton"],
                   objective=res["objective"])
        for lr in lrs:
            t_ad, steps, val, ok = adam_fit(Xs, ys, k, alpha=alpha, p=p, loss=loss, delta=delta, lr=lr,
                                            target=target, max_steps=max_steps)
            row[f"adam_{lr}"] = dict(time=t_ad, steps=steps, rel_gap=(val - res["objective"]) / abs(res["objective"]),
                                     reached=bool(ok), ratio=t_ad / t_gl)
        rows.append(row)
        if verbose:
            print(f"fold {fold}: glopt {t_gl:.3f} s ({res['n_iter']} L-BFGS + {res['n_newton']} Newton), "
                  + ", ".join(f"Adam lr {lr}: {row[f'adam_{lr}']['time']:.2f} s, "
                              f"{row[f'adam_{lr}']['steps']} steps, gap {row[f'adam_{lr}']['rel_gap']:.1e}"
                              for lr in lrs), flush=True)
    return rows


def markdown(rows, lrs, max_steps):
    head = "| fold | glopt [s] | L-BFGS it. + Newton | " + " | ".join(
        f"Adam lr {lr} [s] | steps | rel. gap | ratio" for lr in lrs) + " |"
    lines = [head, "|" + "---|" * (3 + 4 * len(lrs))]
    for r in rows:
        cells = [f"{r['fold']}", f"{r['t_glopt']:.3f}", f"{r['lbfgs_iter']} + {r['newton']}"]
        for lr in lrs:
            a = r[f"adam_{lr}"]
            cells += [f"{a['time']:.2f}", f"{a['steps']}" if a["reached"] else f"{max_steps} (not reached)",
                      f"{a['rel_gap']:.1e}", ("" if a["reached"] else ">=") + f"{a['ratio']:.0f}x"]
        lines.append("| " + " | ".join(cells) + " |")
    med = ["**median**", f"{statistics.median(r['t_glopt'] for r in rows):.3f}", ""]
    for lr in lrs:
        a = [r[f"adam_{lr}"] for r in rows]
        n_ok = sum(x["reached"] for x in a)
        med += [f"{statistics.median(x['time'] for x in a):.2f}", f"reached {n_ok}/{len(a)}",
                f"{statistics.median(x['rel_gap'] for x in a):.1e}",
                ("" if n_ok == len(a) else ">=") + f"{statistics.median(x['ratio'] for x in a):.0f}x"]
    lines.append("| " + " | ".join(med) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--alpha", type=float, default=1e-4)
    parser.add_argument("--p", type=float, default=4.0)
    parser.add_argument("--loss", default="smooth_hinge", choices=["smooth_hinge", "logistic"])
    parser.add_argument("--delta", type=float, default=0.1)
    parser.add_argument("--lrs", default="0.05,0.01")
    parser.add_argument("--max-steps", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs",
                                                      "results", "m3svm-adam.md"),
                        help="results page to write ('' for none)")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    lrs = tuple(float(v) for v in args.lrs.split(","))
    load0 = " ".join(f"{v:.2f}" for v in os.getloadavg())
    t0 = time.perf_counter()
    rows = run(args.folds, args.alpha, args.p, args.loss, args.delta, lrs, args.max_steps, args.repeats)
    setting = (f"KEEL vehicle, loss={args.loss}, alpha={args.alpha:g}, p={args.p:g}, delta={args.delta:g}; "
               f"target: glopt's objective x (1 + 1e-6)")
    table = markdown(rows, lrs, args.max_steps)
    print(f"\n{setting}\n")
    print(table)
    if args.out:
        from glopt.experiments.report import write_results_page

        load1 = " ".join(f"{v:.2f}" for v in os.getloadavg())
        verdicts = []
        for lr in lrs:
            a = [r[f"adam_{lr}"] for r in rows]
            med = statistics.median(x["ratio"] for x in a)
            exact = all(x["reached"] for x in a)
            verdicts.append(f"Adam lr {lr:g}: median ratio {'' if exact else '>= '}**{med:.1f}x**, "
                            f"{sum(x['reached'] for x in a)}/{len(a)} folds reached the target, "
                            f"lowest fold {min(x['ratio'] for x in a):.1f}x (goal >= 10x on the median: "
                            f"{'met' if med >= 10 else 'not met'}).")
        body = (f"{setting}. Per fold of StratifiedKFold({args.folds}, shuffle, seed 0), on the standardized "
                "training part, glopt's `solve_lbfgs` (L-BFGS-B with the analytic gradient, then Newton "
                f"polish; median of {args.repeats} runs) against full-batch Adam in torch on the same "
                "objective (float64, from W = 0, b = 0) until its objective is within 1e-6 relative of "
                f"glopt's final objective or {args.max_steps} steps. CPU time of the process, both "
                "single-threaded; *ratio* = t_Adam / t_glopt, a lower bound (>=) where Adam did not reach "
                "the target.\n\n"
                f"Load average {load0} at the start, {load1} at the end; wall time "
                f"{time.perf_counter() - t0:.0f} s.\n\n" + "".join(f"- {v}\n" for v in verdicts) + "\n"
                + table + "\n")
        command = "python benchmarks/bench_m3svm.py" + "".join(" " + shlex.quote(a) for a in argv)
        title = f"M3SVM fit time against Adam: {args.loss}, alpha {args.alpha:g}, p {args.p:g}"
        print("wrote", os.path.relpath(write_results_page(args.out, title, command, body)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
