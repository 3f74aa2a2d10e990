"""The glopt.nn losses on a CUDA GPU: agreement with the CPU, host synchronizations, step time.

Three parts, each printed as a table:

1. **Agreement**: every loss (GeneralizedLoss for regression, binary and one-vs-rest with exact
   and random-feature S, class mask, p = 1 and 2; OneVsRestSVMLoss and ISM3Loss with per-class
   weight and ignore_index), every reduction, forward and backward on the GPU against the same
   computation on the CPU, in float64 (max relative difference of the value and of the input
   gradient; bound 1e-9) and in float32 (bound 1e-3).
2. **Host synchronizations** of each loss's forward and backward: the Python-level reads of
   tensor values (``glopt.nn._sync.count_host_syncs``) and the synchronizations torch's CUDA
   debug mode reports (``torch.cuda.set_sync_debug_mode("warn")``); the goal is 0 and 0.
3. **Training step** (forward, loss, backward, SGD step with momentum) of an MLP 3072-512-256-10 on
   random CIFAR-shaped tensors at B in {256, 1024, 4096}: CrossEntropyLoss and MSELoss against
   GeneralizedLoss with exact S and with random features (R = 256), S on the penultimate
   features (detached), gamma_s='scale'. Configurations are interleaved, each step timed with
   CUDA events, the median over the rounds reported.

    python benchmarks/bench_nn_gpu.py [--repeats 20] [--batch 256 1024 4096]

Without CUDA it says so and exits 0. ``--device cpu`` runs the same parts on the CPU (the
agreement check then compares the CPU with itself); it is how the script's own code is tested
on machines without a GPU. The exit status is 1 when an agreement bound or the zero-sync goal
is missed.
"""
import argparse
import os
import statistics
import sys
import time

import torch
from torch import nn

from glopt.nn import GeneralizedLoss, ISM3Loss, OneVsRestSVMLoss
from glopt.nn._sync import count_host_syncs

# the CPU step-time benchmark's network (its MLP 3072-512-256-10), from the script beside this one
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_nn import MLP  # noqa: E402

REDUCTIONS = ("mean", "sum", "none")
K, D = 10, 64


def loss_cases(reduction):
    """(name, loss module, task kind) for every loss and S of the check."""
    cw = torch.linspace(0.5, 2.0, K)
    cases = []
    for s_approx in ("exact", "rff"):
        for p in (1, 2):
            kw = dict(p=p, s_approx=s_approx, n_components=128, reduction=reduction)
            cases += [
                (f"GL reg {s_approx} p={p}", GeneralizedLoss(**kw), "reg"),
                (f"GL binary {s_approx} p={p} mask", GeneralizedLoss(task="classification", class_mask=True, **kw),
                 "bin"),
                (f"GL ovr {s_approx} p={p}", GeneralizedLoss(task="classification", s_kernel="M", **kw), "ovr"),
                (f"GL ovr {s_approx} p={p} mask", GeneralizedLoss(task="classification", class_mask=True, **kw),
                 "ovr"),
            ]
    cases += [("OneVsRestSVMLoss", OneVsRestSVMLoss(reduction=reduction, weight=cw), "head"),
              ("ISM3Loss", ISM3Loss(p=1.5, reduction=reduction, weight=cw), "head")]
    return cases


def batch(B, dtype, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = torch.randn(B, K, generator=g, dtype=dtype)
    y = torch.randint(0, K, (B,), generator=g)
    y[1] = -100                                       # an ignored target (the heads)
    data = dict(out=out, y=y, yc=y.clamp_min(0), yb=torch.where(y > 4, 1.0, -1.0).to(dtype),
                reg=torch.randn(B, K, generator=g, dtype=dtype), X=torch.randn(B, D, generator=g, dtype=dtype),
                W=torch.randn(K, D, generator=g, dtype=dtype))
    return {k: v.to(device) for k, v in data.items()}


def run_loss(loss, kind, data):
    """Forward and backward; returns (value, gradient of the scores)."""
    out = data["out"].clone().requires_grad_()
    if kind == "reg":
        value = loss(out, data["reg"], data["X"])
    elif kind == "bin":
        value = loss(out[:, 0], data["yb"], data["X"])
    elif kind == "ovr":
        value = loss(out, data["yc"], data["X"])
    else:
        value = loss(out, data["y"], data["W"])
    weights = torch.linspace(0.5, 1.5, value.numel(), dtype=value.dtype, device=value.device).reshape(value.shape)
    (value * weights).sum().backward()
    return value.detach(), out.grad


def rel(a, b) -> float:
    scale = b.abs().max().clamp_min(1e-30)
    return float(((a.double().cpu() - b.double()).abs().max() / scale).item())


def agreement(device, B):
    """Rows (name, reduction, dtype, value diff, grad diff, ok) of GPU against CPU."""
    rows = []
    for dtype, bound in ((torch.float64, 1e-9), (torch.float32, 1e-3)):
        cpu, dev = batch(B, dtype, "cpu"), batch(B, dtype, device)
        for reduction in REDUCTIONS:
            for name, loss, kind in loss_cases(reduction):
                v_cpu, g_cpu = run_loss(loss, kind, cpu)
                v_dev, g_dev = run_loss(loss.to(device), kind, dev)
                dv, dg = rel(v_dev, v_cpu), rel(g_dev, g_cpu)
                rows.append((name, reduction, str(dtype).replace("torch.", ""), dv, dg, dv <= bound and dg <= bound))
                loss.to("cpu")
    return rows


def sync_counts(device, B):
    """Rows (name, reduction, python-level forward/backward, CUDA-reported forward/backward)."""
    rows = []
    data = batch(B, torch.float32, device)
    for reduction in REDUCTIONS:
        for name, loss, kind in loss_cases(reduction):
            loss = loss.to(device)
            run_loss(loss, kind, data)                      # warm-up: random features drawn and copied once
            out = data["out"].clone().requires_grad_()
            args = {"reg": (out, data["reg"], data["X"]), "bin": (out[:, 0], data["yb"], data["X"]),
                    "ovr": (out, data["yc"], data["X"]), "head": (out, data["y"], data["W"])}[kind]
            with count_host_syncs(cuda_debug="warn") as fw:
                total = loss(*args).sum()
            with count_host_syncs(cuda_debug="warn") as bw:
                total.backward()
            rows.append((name, reduction, len(fw), len(bw), len(fw.cuda), len(bw.cuda)))
    return rows


def step_losses():
    cls = dict(task="classification", gamma_s="scale")
    reg = dict(task="regression", gamma_s="scale")
    return {
        "CrossEntropyLoss": ("ce", nn.CrossEntropyLoss()),
        "GL exact (ovr)": ("cls", GeneralizedLoss(**cls)),
        "GL rff (ovr)": ("cls", GeneralizedLoss(**cls, s_approx="rff", n_components=256)),
        "MSELoss": ("mse", nn.MSELoss()),
        "GL exact (reg)": ("reg", GeneralizedLoss(**reg)),
        "GL rff (reg)": ("reg", GeneralizedLoss(**reg, s_approx="rff", n_components=256)),
    }


def make_step(kind, loss, x, y, device):
    torch.manual_seed(0)
    model = MLP().to(device)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    onehot = nn.functional.one_hot(y, 10).float()

    def step():
        opt.zero_grad(set_to_none=True)
        out, h = model(x)
        if kind == "ce":
            value = loss(out, y)
        elif kind == "mse":
            value = loss(out, onehot)
        elif kind == "cls":
            value = loss(out, y, h.detach())
        else:
            value = loss(out, onehot, h.detach())
        value.backward()
        opt.step()
    return step


def timed(step, device) -> float:
    """Milliseconds of one step: CUDA events on a GPU, the wall clock on the CPU."""
    if device.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        step()
        end.record()
        end.synchronize()
        return start.elapsed_time(end)
    t0 = time.perf_counter()
    step()
    return 1e3 * (time.perf_counter() - t0)


def step_times(device, batches, repeats):
    """Rows (B, {name: median ms})."""
    rows = []
    for B in batches:
        g = torch.Generator().manual_seed(0)
        x = torch.randn(B, 3, 32, 32, generator=g).to(device)
        y = torch.randint(0, 10, (B,), generator=g).to(device)
        steps = {name: make_step(kind, loss.to(device), x, y, device) for name, (kind, loss) in step_losses().items()}
        for step in steps.values():
            for _ in range(3):
                step()                                   # warm-up (kernels, allocator, random features)
        times = {name: [] for name in steps}
        for _ in range(repeats):
            for name, step in steps.items():
                times[name].append(timed(step, device))
        rows.append((B, {k: statistics.median(v) for k, v in times.items()}))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--batch", type=int, nargs="+", default=[256, 1024, 4096])
    ap.add_argument("--check-batch", type=int, default=64, help="batch size of the agreement and sync checks")
    ap.add_argument("--device", default="cuda", help="cuda (default) or cpu (tests the script without a GPU)")
    args = ap.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(f"CUDA is not available (torch {torch.__version__}): this benchmark needs a GPU; nothing to do.")
        return 0
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"torch {torch.__version__}, device {device} ({name})")
    failures = 0

    print(f"\n## Agreement with the CPU (B = {args.check_batch}; bound 1e-9 in float64, 1e-3 in float32)\n")
    print("| loss | reduction | dtype | value rel. diff | grad rel. diff | ok |")
    print("|---|---|---|---|---|---|")
    for row in agreement(device, args.check_batch):
        print(f"| {row[0]} | {row[1]} | {row[2]} | {row[3]:.1e} | {row[4]:.1e} | {'yes' if row[5] else 'NO'} |")
        failures += not row[5]

    print(f"\n## Host synchronizations (B = {args.check_batch}; goal 0)\n")
    print("| loss | reduction | forward (Python) | backward (Python) | forward (CUDA) | backward (CUDA) |")
    print("|---|---|---|---|---|---|")
    for row in sync_counts(device, args.check_batch):
        print("| " + " | ".join(str(v) for v in row) + " |")
        failures += sum(row[2:]) > 0

    print(f"\n## Training step [ms], MLP 3072-512-256-10, median of {args.repeats} interleaved rounds\n")
    rows = step_times(device, args.batch, args.repeats)
    names = list(rows[0][1])
    print("| B | " + " | ".join(names) + " | exact / CE | rff / CE | exact / MSE | rff / MSE |")
    print("|---" * (len(names) + 5) + "|")
    for B, med in rows:
        ratios = (med["GL exact (ovr)"] / med["CrossEntropyLoss"], med["GL rff (ovr)"] / med["CrossEntropyLoss"],
                  med["GL exact (reg)"] / med["MSELoss"], med["GL rff (reg)"] / med["MSELoss"])
        print(f"| {B} | " + " | ".join(f"{med[k]:.2f}" for k in names) + " | "
              + " | ".join(f"{r:.2f}" for r in ratios) + " |")
    print(f"\n{failures} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
