"""Cross-check of the p = 2 active-set solver (glopt.quadratic) against the cvxpy reference.

For each size and task: solve with both, certify both with glopt.certify, print the certificate
figures, the relative objective difference and the wall-clock times.

    python validation/quadratic_crosscheck.py [n ...] [--threads 1]
                                              [--out docs/results/quadratic-crosscheck.md]
                                                             (default sizes: 100 400 1000)

Both solvers run with ``--threads`` BLAS and OpenMP threads (threadpoolctl; default 1: on a shared
machine a second thread makes the active-set method's small dense solves many times slower).

Besides the console table, the run writes a results page (``--out``; '' for none) with the
command, the machine and the same table.
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

import numpy as np

from glopt.certify import certify
from glopt.cvx import solve_reference
from glopt.kernels import Kernel, correlation_matrix
from glopt.problem import SVMProblem
from glopt.quadratic import solve_quadratic


def problem(n: int, task: str, seed: int = 0, d: int = 5) -> SVMProblem:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    score = X @ rng.normal(size=d) + 0.5 * rng.normal(size=n)
    y = np.where(score > np.median(score), 1.0, -1.0) if task == "svc" else score
    S = correlation_matrix(X, "G", 0.5)
    return SVMProblem(X, y, Kernel("rbf", gamma=1.0 / d), task, C=1.0, epsilon=0.2, p=2, S=S)


def crosscheck(sizes):
    """Prints the table; returns one dict per (size, task)."""
    rows = []
    print(f"{'task':4s} {'n':>5s} | {'newton s':>9s} {'iters':>5s} {'|A|':>5s} {'|E|':>5s} {'rel gap':>9s} "
          f"{'KKT':>9s} | {'cvxpy s':>8s} {'rel gap':>9s} {'KKT':>9s} | {'|dobj|/obj':>10s} {'speed-up':>8s}")
    for n in sizes:
        for task in ("svc", "svr"):
            pr = problem(n, task)
            t0 = time.perf_counter()
            res = solve_quadratic(pr)
            t_new = time.perf_counter() - t0
            c_new = certify(res, pr)
            t0 = time.perf_counter()
            ref = solve_reference(pr)
            t_ref = time.perf_counter() - t0
            c_ref = certify(ref, pr)
            rel = abs(res.objective - ref.objective) / abs(ref.objective)
            print(f"{task:4s} {n:5d} | {t_new:9.3f} {res.n_iter:5d} {res.extra['active_set_size']:5d} "
                  f"{res.extra['margin_set_size']:5d} {c_new.rel_gap:9.1e} {c_new.kkt_violation:9.1e} | "
                  f"{t_ref:8.2f} {c_ref.rel_gap:9.1e} {c_ref.kkt_violation:9.1e} | {rel:10.1e} "
                  f"{t_ref / t_new:7.0f}x", flush=True)
            rows.append({"task": task, "n": n, "active-set [s]": f"{t_new:.3f}", "steps": res.n_iter,
                         "active": res.extra["active_set_size"], "on margin": res.extra["margin_set_size"],
                         "rel. gap": f"{c_new.rel_gap:.1e}", "KKT": f"{c_new.kkt_violation:.1e}",
                         "cvxpy [s]": f"{t_ref:.2f}", "cvxpy rel. gap": f"{c_ref.rel_gap:.1e}",
                         "cvxpy KKT": f"{c_ref.kkt_violation:.1e}", "rel. objective diff": f"{rel:.1e}",
                         "speed-up": f"{t_ref / t_new:.0f}x"})
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sizes", type=int, nargs="*", default=[100, 400, 1000])
    ap.add_argument("--threads", type=int, default=1, help="BLAS and OpenMP threads of both solvers (default 1)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs",
                                                  "results", "quadratic-crosscheck.md"),
                    help="results page to write ('' for none)")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    t0 = time.perf_counter()
    with threadpool_limits(limits=args.threads):
        rows = crosscheck(args.sizes)
    if args.out:
        from glopt.experiments.report import markdown_table, write_results_page

        body = ("The p = 2 problem (generalized quadratic loss) on random data (5 Gaussian features; "
                "SVC labels: the sign of a noisy linear score about its median; SVR targets: the score), "
                "RBF kernel gamma = 1/d, C = 1, epsilon = 0.2, S = G with gamma_s = 0.5, solved by "
                "`glopt.quadratic.solve_quadratic` (the active-set method) and by the cvxpy reference "
                "(`glopt.cvx.solve_reference`, Clarabel). Both answers are judged by `glopt.certify.certify` "
                "(relative duality gap, KKT violation); *rel. objective diff* is the difference of the two "
                "objectives relative to cvxpy's; *active* / *on margin*: the points with positive slack / on the margin at the "
                f"end. Wall-clock times, {args.threads} BLAS and OpenMP thread(s) for both solvers.\n\n"
                f"Wall time {time.perf_counter() - t0:.0f} s.\n\n" + markdown_table(rows) + "\n")
        command = "python validation/quadratic_crosscheck.py" + "".join(" " + shlex.quote(a) for a in argv)
        print("wrote", os.path.relpath(write_results_page(args.out, "The p = 2 active-set solver against cvxpy",
                                                          command, body)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
