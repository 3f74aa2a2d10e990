"""GLSVC with every default against scikit-learn's SVC with every default, and MM with the SMO
against MM with cvxpy.

    python benchmarks/bench_glsvc.py [--set magic] [--repeats 3] [--small 1000] [--out PAGE]

Part 1, at scale (default KEEL magic, n = 19,020): fit time and peak memory of ``GLSVC()``
against ``SVC()``, both with every default (RBF, C = 1, gamma = 'scale'; GLSVC: p = 1, S = G,
gamma_s = 'scale', cert_tol = 1e-3), on standardized features; each fit in a fresh subprocess,
the two alternating, peak memory = growth of VmHWM during the fit (C allocations included),
median of the repeats. Goal: GLSVC <= 2.5x SVC's time, peak < 2 GB. The results page (``--out``,
default docs/results/glsvc-magic.md) records the table with this command and the machine.

Part 2, small (a stratified subsample of --small points of the same set): the same MM loop with
the SMO inner solver and with the cvxpy inner solver (glopt.mm.solve_mm, inner tol 1e-9 for the
SMO so both reach the same fixed point), final objectives compared. Goal: >= 50x faster.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_smo import _load, _vm_hwm_kb  # noqa: E402

#: gamma_s of part 2 (relative to 1 / median squared distance)
SMALL_GAMMA_S_REL = 100.0


def worker(name: str, which: str) -> dict:
    from sklearn.svm import SVC

    from glopt.estimators import GLSVC

    X, y, _ = _load(name)
    est = {"svc": SVC, "glsvc": GLSVC, "plain": lambda: GLSVC(accelerate=False)}[which]()
    hwm0 = _vm_hwm_kb()
    t0 = time.perf_counter()
    est.fit(X, y)
    out = {"time": time.perf_counter() - t0, "peak_mb": (_vm_hwm_kb() - hwm0) / 1024.0,
           "n": int(X.shape[0]), "n_sv": int(len(est.support_)),
           "acc": float(est.score(X, y))}
    if which != "svc":
        cert = est.certificate_[0]
        out.update(mm_steps=int(est.n_iter_[0]), certified=bool(est.certified_[0]),
                   kkt=float(cert.kkt_violation), infeasibility=float(cert.infeasibility),
                   rel_gap=float(cert.rel_gap), gamma_s=float(est.gamma_s_),
                   objective=_gl_objective(est, X, y))
    return out


def _gl_objective(est, X, y):
    """The p = 1 objective J (eps = 0) of the fitted binary GLSVC, recomputed from its dual
    coefficients (after the timed fit), so that runs that take different MM paths compare."""
    import numpy as np

    from glopt.kernels import Correlation, Kernel
    from glopt.mm import gl_objective
    from glopt.problem import SVMProblem

    yy = np.where(y == est.classes_[1], 1.0, -1.0)
    coef = np.zeros(X.shape[0])
    coef[est.support_] = est.dual_coef_[0]
    problem = SVMProblem(X, yy, Kernel("rbf", gamma=est._gamma), "svc", C=est.C)
    S = Correlation(X, "G", est.gamma_s_)
    return float(gl_objective(problem, S, coef, float(est.intercept_[0])))


def _run(name, which):
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", name, which],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {name}/{which} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def large(name: str, repeats: int, plain: bool) -> str:
    """Part 1, as markdown."""
    from glopt.experiments.report import markdown_table

    runs = {"svc": [], "glsvc": []}
    for _ in range(repeats):
        for which in runs:
            runs[which].append(_run(name, which))
    if plain:  # once: plain MM for comparison (no extrapolation)
        runs["plain"] = [_run(name, "plain")]
    t = {k: statistics.median(r["time"] for r in v) for k, v in runs.items()}
    mem = {k: max(r["peak_mb"] for r in v) for k, v in runs.items()}
    g = runs["glsvc"][0]
    ratio = t["glsvc"] / t["svc"]
    rows = [{"estimator": label, "median fit [s]": t[k], "fits [s]": ", ".join(f"{r['time']:.2f}" for r in runs[k]),
             "peak [MB]": mem[k], "support vectors": runs[k][0]["n_sv"], "train accuracy": runs[k][0]["acc"]}
            for k, label in (("svc", "SVC()"), ("glsvc", "GLSVC()"), ("plain", "GLSVC(accelerate=False)"))
            if k in runs]
    certs = [r for r in runs["glsvc"]]
    text = (f"{name} (n = {g['n']}, standardized), {repeats} fits of each estimator, alternating, each in a "
            f"fresh process; every default on both sides.\n\n" + markdown_table(rows) + "\n\n"
            f"**GLSVC() / SVC() time: {ratio:.2f}x** (goal <= 2.5x); GLSVC peak {mem['glsvc']:.0f} MB (goal < 2048). "
            f"GLSVC: gamma_s_ = {g['gamma_s']:.4g} ('scale'), MM steps {', '.join(str(r['mm_steps']) for r in certs)}, "
            f"objective J {g['objective']:.6f}, certified {all(r['certified'] for r in certs)} "
            f"(worst KKT {max(r['kkt'] for r in certs):.1e}, infeasibility {max(r['infeasibility'] for r in certs):.1e}, "
            f"relative gap {max(r['rel_gap'] for r in certs):.1e}).\n")
    if plain:
        p = runs["plain"][0]
        text += (f"\nPlain MM (`accelerate=False`, one fit, not in the ratio): {p['time']:.2f} s, {p['mm_steps']} MM "
                 f"steps, objective J {p['objective']:.6f}, certified {p['certified']} (KKT {p['kkt']:.1e}): "
                 "the extrapolated steps reach a certified stationary point in fewer steps, not necessarily the same one.\n")
    print(text)
    return text


def small(name: str, n: int, rel: float) -> str:
    """Part 2, as markdown."""
    from sklearn.model_selection import train_test_split

    from glopt.kernels import Correlation, Kernel, median_sq_distance
    from glopt.mm import CvxInner, SMOInner, solve_mm
    from glopt.problem import SVMProblem

    X, y, gamma = _load(name)
    X, _, y, _ = train_test_split(X, y, train_size=n, stratify=y, random_state=0)
    problem = SVMProblem(X, y, Kernel("rbf", gamma=gamma), "svc", C=1.0)
    S = Correlation(X, "G", rel / median_sq_distance(X))
    runs = {}
    for label, inner in (("smo", SMOInner(tol=1e-9)), ("cvx", CvxInner())):
        t0 = time.perf_counter()
        res = solve_mm(problem, S, inner, eps=1e-4, tol=1e-6)
        runs[label] = (time.perf_counter() - t0, res)
    (t_s, r_s), (t_c, r_c) = runs["smo"], runs["cvx"]
    diff = abs(r_s.objective - r_c.objective) / abs(r_c.objective)
    from glopt.experiments.report import markdown_table

    rows = [{"inner solver": label, "time [s]": t, "MM steps": r.n_iter, "objective J": f"{r.objective:.9f}",
             "stationarity": r.extra["stationarity"]} for label, (t, r) in runs.items()]
    text = (f"MM (glopt.mm.solve_mm, plain: eps = 1e-4, tol = 1e-6) on {n} points of {name}, S = G with "
            f"gamma_s = {rel:g}/median d^2, the SMO inside at tol 1e-9 and the cvxpy reference inside:\n\n"
            + markdown_table(rows) + f"\n\n**Speed-up {t_c / t_s:.0f}x** (goal >= 50x); relative objective "
            f"difference {diff:.1e} (goal <= 1e-6).\n")
    print(text)
    return text


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", default="magic")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--small", type=int, default=1000, help="points of part 2 (0: skip it)")
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--no-plain", action="store_true", help="skip the one fit of plain MM (accelerate=False)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs",
                                                  "results", "glsvc-magic.md"),
                    help="results page of part 1 ('' for none)")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return 0
    parts = []
    if not args.skip_large:
        parts.append("## GLSVC() against SVC()\n\n" + large(args.set, args.repeats, not args.no_plain))
    if args.small > 0:
        parts.append("## MM with the SMO against MM with cvxpy\n\n" + small(args.set, args.small, SMALL_GAMMA_S_REL))
    if args.out and parts:
        from glopt.experiments.report import write_results_page

        command = ("python benchmarks/bench_glsvc.py" + (f" --set {args.set}" if args.set != "magic" else "")
                   + f" --repeats {args.repeats} --small {args.small}" + (" --skip-large" if args.skip_large else "")
                   + (" --no-plain" if args.no_plain else ""))
        print("wrote", os.path.relpath(write_results_page(args.out, f"GLSVC on KEEL {args.set}", command,
                                                          "\n".join(parts))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
