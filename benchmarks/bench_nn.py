"""Per-step time of GeneralizedLoss against torch's CrossEntropyLoss / MSELoss.

One step = forward + loss + backward + optimizer step (SGD with momentum) of an MLP and a small CNN
on random tensors of CIFAR shape (3x32x32, 10 classes). S is computed on the penultimate features
of the network, detached (the similarity of the samples as the network currently sees them; no
gradient flows into S, which keeps the loss a weighting of the errors and its backward cheap);
``--features input`` uses the flattened input (3072 columns) instead.

Configurations are interleaved (one step of each, round after round) and the median over
``--repeats`` rounds is reported, so drifts of a shared machine fall on all of them alike.
A second table times the loss alone (forward + backward on fixed outputs) at growing B, to show
how exact S (O(B^2 D)) and random features (O(B D R)) scale.

    python benchmarks/bench_nn.py [--repeats 7] [--threads 1] [--features penultimate|input]
                                  [--out docs/results/nn-step-time.md]

Besides the console tables, the run writes a results page (``--out``; '' for none) with the
command, the machine, the load average and both tables.
"""
import argparse
import os
import shlex
import statistics
import sys
import time

import torch
from torch import nn

from glopt.nn import GeneralizedLoss


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(3072, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU())
        self.head = nn.Linear(256, 10)

    def forward(self, x):
        h = self.body(x)
        return self.head(h), h


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Flatten(), nn.Linear(64 * 8 * 8, 128), nn.ReLU())
        self.head = nn.Linear(128, 10)

    def forward(self, x):
        h = self.body(x)
        return self.head(h), h


def losses(n_components):
    cls = dict(task="classification", gamma_s="scale")
    reg = dict(task="regression", gamma_s="scale")
    return {
        "CrossEntropyLoss": ("ce", nn.CrossEntropyLoss()),
        "GL exact (ovr)": ("cls", GeneralizedLoss(**cls)),
        "GL rff (ovr)": ("cls", GeneralizedLoss(**cls, s_approx="rff", n_components=n_components)),
        "MSELoss": ("mse", nn.MSELoss()),
        "GL exact (reg)": ("reg", GeneralizedLoss(**reg)),
        "GL rff (reg)": ("reg", GeneralizedLoss(**reg, s_approx="rff", n_components=n_components)),
    }


def make_step(model, kind, loss, x, y, use_input):
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    onehot = nn.functional.one_hot(y, 10).float()
    flat = x.reshape(len(x), -1)

    def step():
        opt.zero_grad(set_to_none=True)
        out, h = model(x)
        feats = flat if use_input else h.detach()
        if kind == "ce":
            value = loss(out, y)
        elif kind == "mse":
            value = loss(out, onehot)
        elif kind == "cls":
            value = loss(out, y, feats)
        else:
            value = loss(out, onehot, feats)
        value.backward()
        opt.step()
    return step


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _emit(lines, line):
    print(line, flush=True)
    lines.append(line)


def step_table(args):
    """Prints the per-step table; returns (caption, markdown table, {(model, B): exact overhead})."""
    caption = (f"Per-step time [ms], median of {args.repeats} interleaved rounds "
               f"({torch.get_num_threads()} thread(s), S on {args.features} features, R = {args.n_components})")
    print(f"\n{caption}\n")
    names = list(losses(args.n_components))
    lines, shares = [], {}
    _emit(lines, "| model | B | " + " | ".join(names) + " | exact / CE | rff / CE | exact / MSE | rff / MSE "
          "| loss alone CE / exact / rff [ms] | exact overhead (loss alone) |")
    _emit(lines, "|---" * (len(names) + 8) + "|")
    for model_cls in (MLP, CNN):
        for B in args.batch:
            g = torch.Generator().manual_seed(0)
            x, y = torch.randn(B, 3, 32, 32, generator=g), torch.randint(0, 10, (B,), generator=g)
            steps = {}
            for name, (kind, loss) in losses(args.n_components).items():
                torch.manual_seed(0)
                steps[name] = make_step(model_cls(), kind, loss, x, y, args.features == "input")
                for _ in range(2):
                    steps[name]()          # warm-up (allocator, random features drawn once)
            times = {name: [] for name in steps}
            for _ in range(args.repeats):
                for name, step in steps.items():
                    times[name].append(timed(step))
            med = {k: 1e3 * statistics.median(v) for k, v in times.items()}
            # The loss's own share, timed alone on this model's outputs and features (many short
            # repeats: steps of a shared machine are too noisy to resolve a few per cent).
            model = model_cls()
            with torch.no_grad():
                out0, h0 = model(x)
            feats = x.reshape(B, -1) if args.features == "input" else h0
            alone = {}
            table = losses(args.n_components)
            for name in ("CrossEntropyLoss", "GL exact (ovr)", "GL rff (ovr)"):
                kind, loss = table[name]
                out = out0.clone().requires_grad_()
                run = (lambda: loss(out, y).backward()) if kind == "ce" else (lambda: loss(out, y, feats).backward())
                run()
                alone[name] = 1e3 * statistics.median(timed(run) for _ in range(10 * args.repeats))
            share = (alone["GL exact (ovr)"] - alone["CrossEntropyLoss"]) / med["CrossEntropyLoss"]
            shares[(model_cls.__name__, B)] = share
            ratio = [med["GL exact (ovr)"] / med["CrossEntropyLoss"], med["GL rff (ovr)"] / med["CrossEntropyLoss"],
                     med["GL exact (reg)"] / med["MSELoss"], med["GL rff (reg)"] / med["MSELoss"]]
            _emit(lines, f"| {model_cls.__name__} | {B} | " + " | ".join(f"{med[k]:.1f}" for k in names) + " | "
                  + " | ".join(f"{r:.3f}" for r in ratio) + " | "
                  + " / ".join(f"{alone[k]:.2f}" for k in alone) + f" | {100 * share:.1f}% |")
    return caption, "\n".join(lines), shares


def loss_table(args):
    """Prints the loss-alone table; returns (caption, markdown table, [(B ratio, exact growth, rff growth)])."""
    caption = (f"Loss alone (forward + backward, one-vs-rest, 10 classes, D = {args.dim} features), "
               f"median of {args.repeats} [ms]")
    print(f"\n{caption}\n")
    lines = []
    _emit(lines, "| B | exact | rff | exact time / previous row | rff time / previous row |")
    _emit(lines, "|---|---|---|---|---|")
    exact = GeneralizedLoss(task="classification", gamma_s="scale")
    rff = GeneralizedLoss(task="classification", gamma_s="scale", s_approx="rff", n_components=args.n_components)
    prev, prev_B, growths = None, None, []
    for B in args.loss_batch:
        g = torch.Generator().manual_seed(0)
        out = torch.randn(B, 10, generator=g, requires_grad=True)
        y, feats = torch.randint(0, 10, (B,), generator=g), torch.randn(B, args.dim, generator=g)

        def run(loss):
            out.grad = None
            loss(out, y, feats).backward()
        run(exact), run(rff)
        t = {"exact": [], "rff": []}
        for _ in range(args.repeats):
            t["exact"].append(timed(lambda: run(exact)))
            t["rff"].append(timed(lambda: run(rff)))
        cur = {k: 1e3 * statistics.median(v) for k, v in t.items()}
        growth = ["" if prev is None else f"{cur[k] / prev[k]:.1f}" for k in ("exact", "rff")]
        if prev is not None:
            growths.append((B / prev_B, cur["exact"] / prev["exact"], cur["rff"] / prev["rff"]))
        _emit(lines, f"| {B} | {cur['exact']:.2f} | {cur['rff']:.2f} | {growth[0]} | {growth[1]} |")
        prev, prev_B = cur, B
    return caption, "\n".join(lines), growths


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, nargs="+", default=[64, 256, 1024])
    ap.add_argument("--loss-batch", type=int, nargs="+", default=[256, 1024, 4096])
    ap.add_argument("--dim", type=int, default=128, help="feature columns of the loss-alone table")
    ap.add_argument("--n-components", type=int, default=256)
    ap.add_argument("--features", choices=["penultimate", "input"], default="penultimate")
    ap.add_argument("--skip-steps", action="store_true", help="only the loss-alone table")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs",
                                                  "results", "nn-step-time.md"),
                    help="results page to write ('' for none)")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}")
    load0 = " ".join(f"{v:.2f}" for v in os.getloadavg())
    t0 = time.perf_counter()
    tables, goals = [], []
    if not args.skip_steps:
        caption, table, shares = step_table(args)
        tables.append(("One training step", caption, table))
        if ("CNN", 256) in shares:
            share = shares[("CNN", 256)]
            goals.append(f"Exact overhead (loss alone) for the CNN at B = 256: **{100 * share:.1f}%** of the "
                         f"CrossEntropyLoss step (goal <= 10%: {'met' if share <= 0.10 else 'not met'}).")
    caption, table, growths = loss_table(args)
    tables.append(("The loss alone at growing B", caption, table))
    if growths:
        goals.append("Growth of the loss-alone time per step of B: RFF "
                     + ", ".join(f"x{g[2]:.1f} for x{g[0]:g}" for g in growths) + "; exact "
                     + ", ".join(f"x{g[1]:.1f} for x{g[0]:g}" for g in growths)
                     + " (goal: RFF linear in B, i.e. growth <= the growth of B: "
                     + ("met" if all(g[2] <= g[0] for g in growths) else "not met") + ").")
    if args.out:
        from glopt.experiments.report import write_results_page

        load1 = " ".join(f"{v:.2f}" for v in os.getloadavg())
        body = (f"`glopt.nn.GeneralizedLoss` against torch's `CrossEntropyLoss` / `MSELoss` (torch "
                f"{torch.__version__}, {args.threads} thread(s)). One step = forward + loss + backward + SGD "
                "step (momentum 0.9) of an MLP 3072-512-256-10 and a CNN conv32-conv64-fc128-fc10 on random "
                "CIFAR-shaped tensors (3x32x32, 10 classes); S on the "
                f"{'flattened input' if args.features == 'input' else 'penultimate features, detached'}, "
                f"gamma_s='scale', R = {args.n_components} random features for `s_approx='rff'`. "
                "Configurations are interleaved, one step of each per round, and each time is the median "
                "over the rounds. The *loss alone* column times the loss's own forward and backward on "
                f"the model's outputs ({10 * args.repeats} repeats); *exact overhead* is its excess over "
                "CrossEntropyLoss as a share of CrossEntropyLoss's whole step.\n\n"
                f"Load average {load0} at the start, {load1} at the end; wall time "
                f"{time.perf_counter() - t0:.0f} s.\n\n"
                + "".join(f"- {g}\n" for g in goals) + "\n"
                + "\n\n".join(f"## {title}\n\n{caption}:\n\n{table}" for title, caption, table in tables) + "\n")
        command = "python benchmarks/bench_nn.py" + "".join(" " + shlex.quote(a) for a in argv)
        print("wrote", os.path.relpath(write_results_page(args.out, "GeneralizedLoss: time per training step",
                                                          command, body)))


if __name__ == "__main__":
    main()
