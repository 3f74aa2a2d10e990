"""GLSVC (p = 1, S = G) against scikit-learn's SVC, and MM with the SMO against MM with cvxpy.

    python benchmarks/bench_glsvc.py [--set magic] [--repeats 3] [--small 1000]

Part 1, at scale (default KEEL magic, n = 19,020): fit time and peak memory of
GLSVC(C=1, gamma='scale', s_kernel='G', gamma_s=100/median d^2) against SVC(C=1, gamma='scale',
tol=1e-3) on standardized features; each fit in a fresh subprocess, peak memory = growth of
VmHWM during the fit (C allocations included), alternating the two, median of the repeats.
Goal: GLSVC <= 5x SVC's time, peak < 2 GB (no n x n array: S is applied in row blocks).

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


def worker(name: str, which: str, rel: float) -> dict:
    from sklearn.svm import SVC

    from glopt.estimators import GLSVC
    from glopt.kernels import median_sq_distance

    X, y, gamma = _load(name)
    est = SVC(C=1.0, gamma=gamma, tol=1e-3, cache_size=200) if which == "svc" else \
        GLSVC(C=1.0, gamma=gamma, s_kernel="G", gamma_s=rel / median_sq_distance(X), cache_size=200)
    hwm0 = _vm_hwm_kb()
    t0 = time.perf_counter()
    est.fit(X, y)
    out = {"time": time.perf_counter() - t0, "peak_mb": (_vm_hwm_kb() - hwm0) / 1024.0,
           "n": int(X.shape[0]), "n_sv": int(len(est.support_)),
           "acc": float(est.score(X, y))}
    if which == "glsvc":
        out["mm_steps"] = int(est.n_iter_[0])
        out["stationarity"] = float(est.certificate_[0].kkt_violation)
        out["objective"] = _gl_objective(est, X, y, rel)
    return out


def _gl_objective(est, X, y, rel):
    """The p = 1 objective J (eps = 0) of the fitted binary GLSVC, recomputed from its dual
    coefficients (after the timed fit), so that runs that take different MM paths compare."""
    import numpy as np

    from glopt.kernels import Correlation, Kernel, median_sq_distance
    from glopt.mm import gl_objective
    from glopt.problem import SVMProblem

    yy = np.where(y == est.classes_[1], 1.0, -1.0)
    coef = np.zeros(X.shape[0])
    coef[est.support_] = est.dual_coef_[0]
    problem = SVMProblem(X, yy, Kernel("rbf", gamma=est._gamma), "svc", C=est.C)
    S = Correlation(X, "G", rel / median_sq_distance(X))
    return float(gl_objective(problem, S, coef, float(est.intercept_[0])))


def _run(name, which, rel):
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", name, which, str(rel)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {name}/{which} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def small(name: str, n: int, rel: float):
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
    print(f"\nMM on {n} points of {name} (S = G, gamma_s = {rel:g}/median d^2, eps = 1e-4, tol = 1e-6):")
    print(f"  {'inner':6s} {'time [s]':>9s} {'steps':>5s} {'objective J':>16s} {'stationarity':>12s}")
    for label, (t, r) in runs.items():
        print(f"  {label:6s} {t:9.2f} {r.n_iter:5d} {r.objective:16.9f} {r.extra['stationarity']:12.2e}")
    print(f"  speed-up {t_c / t_s:.0f}x (goal >= 50x); relative objective difference {diff:.1e} (goal <= 1e-6)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", default="magic")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--small", type=int, default=1000, help="points of part 2 (0: skip it)")
    ap.add_argument("--gamma-s-rel", type=float, default=100.0,
                    help="gamma_s = this / median squared distance (default 100: mean row sum of S "
                         "about 2.7 on magic; 1/median gives row sums in the thousands there)")
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1], float(args.worker[2]))))
        return 0
    if not args.skip_large:
        runs = {"svc": [], "glsvc": []}
        for _ in range(args.repeats):
            for which in runs:
                runs[which].append(_run(args.set, which, args.gamma_s_rel))
        t = {k: statistics.median(r["time"] for r in v) for k, v in runs.items()}
        mem = {k: max(r["peak_mb"] for r in v) for k, v in runs.items()}
        g = runs["glsvc"][0]
        print(f"{args.set} (n = {g['n']}), median of {args.repeats} fits each, fresh subprocess per fit")
        print(f"  {'estimator':8s} {'time [s]':>9s} {'peak [MB]':>10s} {'SVs':>6s} {'train acc':>9s}")
        for k in runs:
            r = runs[k][0]
            print(f"  {k:8s} {t[k]:9.2f} {mem[k]:10.1f} {r['n_sv']:6d} {r['acc']:9.4f}")
        print(f"  GLSVC / SVC time: {t['glsvc'] / t['svc']:.2f}x (goal <= 5x); MM steps {g['mm_steps']}, "
              f"objective J {g['objective']:.6f}, stationarity {g['stationarity']:.1e}; "
              f"GLSVC peak {mem['glsvc']:.0f} MB (goal < 2048)")
        print(f"  times [s]: svc {[round(r['time'], 2) for r in runs['svc']]}, "
              f"glsvc {[round(r['time'], 2) for r in runs['glsvc']]}; load average {os.getloadavg()}")
    if args.small > 0:
        small(args.set, args.small, args.gamma_s_rel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
