"""Cross-check of the p = 2 active-set solver (glopt.quadratic) against the cvxpy reference.

For each size and task: solve with both, certify both with glopt.certify, print the certificate
figures, the relative objective difference and the wall-clock times.

    python validation/quadratic_crosscheck.py [n ...]        (default: 100 400 1000)
"""
from __future__ import annotations

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


def main(sizes):
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


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 400, 1000])
