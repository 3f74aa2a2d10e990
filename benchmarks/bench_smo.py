"""Fit time of glopt's SMO engine against scikit-learn's SVC (LIBSVM) on KEEL data sets.

    python benchmarks/bench_smo.py [--sets sonar,magic] [--repeats 3] [--n-jobs 2]
                                   [--precision single|double] [--out docs/results/smo-keel.md]

Setting: C-SVC, RBF kernel, C = 1, gamma = "scale" = 1 / (d * X.var()) on standardized X,
tol = 1e-3, cache 200 MB for both, shrinking on, WSS3 (LIBSVM's defaults).

Method:

- every fit runs in a fresh subprocess (``--worker``), so that its peak memory can be measured:
  *peak memory* is the growth of the process's high-water mark of resident memory (VmHWM in
  /proc/self/status) from just before the fit (data loaded, libraries imported) to just after it.
  It sees every allocation, C mallocs of either library included (tracemalloc would not);
- the two solvers are timed alternately in the same run (sklearn, glopt, sklearn, glopt, ...) so
  that they share the machine's conditions, and each time is the median over the repeats; the
  time is that of the ``fit`` call / ``solve_svc`` call alone (wall clock, perf_counter);
- the dual objectives are recomputed from each solution by :func:`glopt.certify.certify` (the
  same function for both), once per set;
- glopt uses ``n_jobs`` OpenMP threads for kernel columns (default: all); it measures whether a
  parallel column is actually faster than a serial one on the machine at hand and falls back to
  one thread while it is not (a busy machine), which the column ``par`` reports (fraction of the
  eligible columns computed in parallel);
- glopt runs with ``precision`` (default "single": float32 cache columns as LIBSVM's, then the
  exact gradient and a double-precision finish; "double": double columns throughout).

Besides the console table, the run writes a results page (``--out``; '' for none) with the
command, the machine, the load average and the same table.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

SETS = ["sonar", "ionosphere", "wdbc", "german", "banana", "phoneme", "magic"]
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "results", "smo-keel.md")


def _vm_hwm_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def _load(name):
    import numpy as np
    from sklearn.preprocessing import StandardScaler

    from glopt.datasets import load_keel

    X, y = load_keel(name, return_X_y=True)
    X = StandardScaler().fit_transform(X)
    gamma = 1.0 / (X.shape[1] * X.var())
    return np.ascontiguousarray(X), y, float(gamma)


def worker(name: str, which: str, n_jobs, certify_dual: bool, precision: str = "single") -> dict:
    """One fit in this process; returns its measurements."""
    import numpy as np
    from sklearn.svm import SVC

    from glopt.certify import certify, result_from_sklearn
    from glopt.kernels import Kernel
    from glopt.problem import SVMProblem
    from glopt.smo import solve_svc

    X, y, gamma = _load(name)
    problem = SVMProblem(X, y, Kernel("rbf", gamma=gamma), "svc", C=1.0)
    out = {"n": int(X.shape[0]), "d": int(X.shape[1])}
    hwm0 = _vm_hwm_kb()
    if which == "sklearn":
        est = SVC(C=1.0, kernel="rbf", gamma=gamma, tol=1e-3, cache_size=200, shrinking=True)
        t0 = time.perf_counter()
        est.fit(X, y)
        out["time"] = time.perf_counter() - t0
        hwm1 = _vm_hwm_kb()
        out["iter"] = int(np.sum(est.n_iter_))
        out["n_sv"] = int(len(est.support_))
        result = result_from_sklearn(est, problem)
        out["par"] = None
    else:
        t0 = time.perf_counter()
        result = solve_svc(X, y, 1.0, kernel=Kernel("rbf", gamma=gamma), tol=1e-3, wss=3,
                           shrinking=True, cache_size=200, n_jobs=n_jobs, precision=precision)
        out["time"] = time.perf_counter() - t0
        hwm1 = _vm_hwm_kb()
        out["iter"] = int(result.n_iter)
        out["n_sv"] = int(result.extra["n_sv"])
        par, ser = result.extra["parallel_columns"], result.extra["serial_columns"]
        out["par"] = par / (par + ser) if par + ser else None
        out["threads"] = result.extra["n_threads"]
    out["peak_mb"] = (hwm1 - hwm0) / 1024.0
    out["dual"] = float(certify(result, problem).dual) if certify_dual else None
    return out


def _run_worker(name, which, n_jobs, certify_dual, precision):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", name, which,
           "--n-jobs", str(n_jobs), "--certify", str(int(certify_dual)), "--precision", precision]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {name}/{which} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated KEEL sets")
    ap.add_argument("--repeats", type=int, default=3, help="fits per solver and set (median)")
    ap.add_argument("--n-jobs", default="None", help="glopt OpenMP threads (None = all)")
    ap.add_argument("--precision", default="single", choices=["single", "double"],
                    help="glopt's kernel-cache precision (default single)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="results page to write ('' for none)")
    ap.add_argument("--worker", nargs=2, metavar=("SET", "SOLVER"), help=argparse.SUPPRESS)
    ap.add_argument("--certify", default="1", help=argparse.SUPPRESS)
    argv = sys.argv[1:] if argv is None else list(argv)
    args = ap.parse_args(argv)
    n_jobs = None if args.n_jobs in ("None", "none", "") else int(args.n_jobs)

    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1], n_jobs, args.certify == "1",
                                args.precision)))
        return 0

    sets = [s for s in args.sets.split(",") if s]
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")
    import numpy as np

    from glopt.smo import openmp_max_threads, resolve_n_jobs
    setting = (f"RBF, C=1, gamma=scale, tol=1e-3, cache 200 MB, "
               f"repeats={args.repeats} (median), glopt threads={resolve_n_jobs(n_jobs)} "
               f"(OpenMP max {openmp_max_threads()}), precision={args.precision}, cpus={os.cpu_count()}")
    load0 = ' '.join(f'{v:.2f}' for v in os.getloadavg())
    print(f"glopt SMO vs scikit-learn SVC: {setting}, load average {load0}")
    print("peak = growth of VmHWM during the fit in a fresh subprocess (MB); "
          "par = share of eligible kernel columns glopt computed in parallel")
    head = (f"{'set':<11}{'n':>6} {'sk s':>8} {'glopt s':>8} {'ratio':>6} {'sk it':>7} {'gl it':>7} "
            f"{'sk dual':>14} {'glopt dual':>14} {'sk SV':>6} {'gl SV':>6} {'sk MB':>7} {'gl MB':>7} {'par':>5}")
    print(head)
    print("-" * len(head))
    ratios = {}
    rows = []
    t_start = time.perf_counter()
    for name in sets:
        sk_runs, gl_runs = [], []
        for rep in range(args.repeats):
            sk_runs.append(_run_worker(name, "sklearn", n_jobs, rep == 0, args.precision))
            gl_runs.append(_run_worker(name, "glopt", n_jobs, rep == 0, args.precision))
        sk_t = statistics.median(r["time"] for r in sk_runs)
        gl_t = statistics.median(r["time"] for r in gl_runs)
        ratios[name] = gl_t / sk_t
        s0, g0 = sk_runs[0], gl_runs[0]
        par = statistics.median(r["par"] for r in gl_runs) if g0["par"] is not None else float("nan")
        print(f"{name:<11}{s0['n']:>6} {sk_t:>8.3f} {gl_t:>8.3f} {gl_t / sk_t:>6.2f} {s0['iter']:>7d} "
              f"{g0['iter']:>7d} {s0['dual']:>14.6f} {g0['dual']:>14.6f} {s0['n_sv']:>6d} {g0['n_sv']:>6d} "
              f"{max(r['peak_mb'] for r in sk_runs):>7.1f} {max(r['peak_mb'] for r in gl_runs):>7.1f} "
              f"{par:>5.2f}", flush=True)
        sk_mb, gl_mb = max(r["peak_mb"] for r in sk_runs), max(r["peak_mb"] for r in gl_runs)
        rows.append({"set": name, "n": s0["n"], "sklearn [s]": f"{sk_t:.4f}", "glopt [s]": f"{gl_t:.4f}",
                     "ratio": f"{gl_t / sk_t:.2f}", "sklearn iter": s0["iter"], "glopt iter": g0["iter"],
                     "sklearn dual": f"{s0['dual']:.6f}", "glopt dual": f"{g0['dual']:.6f}",
                     "SVs sk/gl": f"{s0['n_sv']}/{g0['n_sv']}", "peak MB sk/gl": f"{sk_mb:.1f}/{gl_mb:.1f}",
                     "par": "" if par != par else f"{par:.2f}"})
    med = float(np.median(list(ratios.values())))
    load1 = ' '.join(f'{v:.2f}' for v in os.getloadavg())
    print("-" * len(head))
    print(f"median ratio glopt/sklearn: {med:.2f}  (goal <= 1.0); load average at the end {load1}")
    summary = f"Median ratio glopt/sklearn: **{med:.2f}** (goal <= 1.0)"
    if "magic" in ratios:
        print(f"magic ratio: {ratios['magic']:.2f}  (goal <= 1.0)")
        summary += f"; magic: **{ratios['magic']:.2f}** (goal <= 1.0)"
    if args.out:
        from glopt.experiments.report import markdown_table, write_results_page

        body = (f"glopt's SMO engine (`solve_svc`) against scikit-learn's `SVC` (LIBSVM): {setting}. "
                "Standardized features; shrinking and WSS3 on both sides. Each fit runs in a fresh "
                "subprocess, the two solvers alternating; times are medians of the repeats. *peak MB* is "
                "the growth of the process's VmHWM during the fit (C allocations included); the dual "
                "objectives are recomputed from each solution by `glopt.certify.certify`; *par* is the "
                "share of eligible kernel columns glopt computed in parallel.\n\n"
                f"Load average {load0} at the start, {load1} at the end; wall time "
                f"{time.perf_counter() - t_start:.0f} s.\n\n"
                + markdown_table(rows) + f"\n\n{summary}.\n")
        command = "python benchmarks/bench_smo.py" + "".join(" " + shlex.quote(a) for a in argv)
        print("wrote", os.path.relpath(write_results_page(args.out, "glopt's SMO against scikit-learn's SVC",
                                                          command, body)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
