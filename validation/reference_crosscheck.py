"""Cross-check of the cvxpy reference layer: primal vs dual on random problems, and vs LIBSVM.

    python validation/reference_crosscheck.py [--seeds 5] [--out docs/results/reference-crosscheck.md]

Prints, per problem family, the worst relative duality gap, KKT violation and |margin duals - a|
over random problems (n = 12, 60, 200), then the agreement with scikit-learn's SVC / SVR, and
writes both tables to a results page (``--out``; '' for none) with the command and the machine.
"""
import argparse
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.svm import SVC, SVR

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import random_problem  # noqa: E402

from glopt.certify import certify, result_from_sklearn  # noqa: E402
from glopt.cvx import solve_reference  # noqa: E402
from glopt.datasets import load_keel  # noqa: E402
from glopt.kernels import Kernel  # noqa: E402
from glopt.problem import SVMProblem  # noqa: E402


def random_families(seeds):
    """Prints the per-family table; returns its rows."""
    rows = []
    print(f"{'family':24s} {'problems':>8s} {'max rel gap':>12s} {'max KKT':>10s} {'max |md-a|':>11s}")
    for task in ("svc", "svr"):
        for p in (1, 2):
            for kernel in ("rbf", "linear", "poly"):
                gaps, kkts, mds = [], [], []
                for seed in range(seeds):
                    for n in (12, 60, 200):
                        d = 5 if kernel != "linear" or n > 20 else n + 2
                        pr = random_problem(seed, n=n, d=d, task=task, kernel=kernel, p=p)
                        c = certify(solve_reference(pr), pr)
                        gaps.append(c.rel_gap)
                        kkts.append(c.kkt_violation)
                        if kernel != "linear" or d > n:
                            mds.append(c.margin_dual_error)
                print(f"{task} p={p} {kernel:10s}       {len(gaps):8d} {max(gaps):12.1e} {max(kkts):10.1e} "
                      f"{max(mds) if mds else float('nan'):11.1e}", flush=True)
                rows.append({"problem family": f"{task} p={p} {kernel}", "problems": len(gaps),
                             "max relative gap": f"{max(gaps):.1e}", "max KKT violation": f"{max(kkts):.1e}",
                             "max abs(margin duals - a) / A": f"{max(mds):.1e}" if mds else ""})
    return rows


def libsvm_agreement():
    """Prints the agreement table; returns its rows."""
    rows = []
    print(f"\n{'data set':18s} {'C':>5s} {'dual (cvx)':>14s} {'dual (LIBSVM)':>14s} {'rel diff':>9s} {'max |f diff|':>12s}")
    for name in ("sonar", "ionosphere"):
        X, y = load_keel(name, return_X_y=True)
        X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)
        gamma = 1.0 / (X.shape[1] * X.var())
        for C in (0.5, 10.0):
            pr = SVMProblem(X, y, Kernel("rbf", gamma=gamma), "svc", C=C)
            ref = solve_reference(pr)
            sk = SVC(C=C, gamma=gamma, tol=1e-10).fit(X, y)
            d_ref, d_lib = certify(ref, pr).dual, certify(result_from_sklearn(sk, pr), pr).dual
            fdiff = np.abs(pr.decision(ref.coef, ref.b) - sk.decision_function(X)).max()
            print(f"{name:18s} {C:5.1f} {d_ref:14.8f} {d_lib:14.8f} {abs(d_ref - d_lib) / abs(d_lib):9.1e} {fdiff:12.1e}")
            rows.append(_agreement_row(name, C, d_ref, d_lib, fdiff))
    X, y = load_diabetes(return_X_y=True)
    X, y = (X - X.mean(0)) / X.std(0), (y - y.mean()) / y.std()
    pr = SVMProblem(X, y, Kernel("rbf", gamma=0.1), "svr", C=2.0, epsilon=0.1)
    ref = solve_reference(pr)
    sk = SVR(C=2.0, gamma=0.1, epsilon=0.1, tol=1e-10).fit(X, y)
    d_ref, d_lib = certify(ref, pr).dual, certify(result_from_sklearn(sk, pr), pr).dual
    fdiff = np.abs(pr.decision(ref.coef, ref.b) - sk.predict(X)).max()
    print(f"{'diabetes (SVR)':18s} {2.0:5.1f} {d_ref:14.8f} {d_lib:14.8f} {abs(d_ref - d_lib) / abs(d_lib):9.1e} {fdiff:12.1e}")
    rows.append(_agreement_row("diabetes (SVR)", 2.0, d_ref, d_lib, fdiff))
    return rows


def _agreement_row(name, C, d_ref, d_lib, fdiff):
    return {"data set": name, "C": f"{C:.1f}", "dual objective (cvx)": f"{d_ref:.8f}",
            "dual objective (LIBSVM)": f"{d_lib:.8f}", "relative difference": f"{abs(d_ref - d_lib) / abs(d_lib):.1e}",
            "max abs(f_cvx - f_LIBSVM)": f"{fdiff:.1e}"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs",
                                                      "results", "reference-crosscheck.md"),
                        help="results page to write ('' for none)")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    families = random_families(args.seeds)
    agreement = libsvm_agreement()
    if args.out:
        from glopt.experiments.report import markdown_table, write_results_page

        body = ("The cvxpy reference layer (`glopt.cvx.solve_reference`, Clarabel) judged by "
                "`glopt.certify.certify`.\n\n"
                f"Wall time {time.perf_counter() - t0:.0f} s.\n\n"
                "## Primal against dual on random problems\n\n"
                f"Random problems (tests/conftest.py's `random_problem`, {args.seeds} seeds x n = 12, 60, 200; "
                "random per-sample weights) of every family: the worst relative duality gap, KKT "
                "violation and difference between the primal's margin-constraint duals and the dual "
                "solution a (relative to A = max(1, max abs(a)); for the linear kernel only on the "
                "problems with d > n).\n\n" + markdown_table(families) + "\n\n"
                "## Agreement with LIBSVM\n\n"
                "scikit-learn's `SVC` / `SVR` at `tol=1e-10` against the reference on the same problem: "
                "RBF kernel, gamma = 1/(d var X) on standardized KEEL sonar and ionosphere, gamma = 0.1 "
                "on scikit-learn's diabetes (standardized features and target, epsilon = 0.1); dual "
                "objectives recomputed from each solution by `certify`, and the largest difference of "
                "the decision values on the training points.\n\n" + markdown_table(agreement) + "\n")
        command = "python validation/reference_crosscheck.py" + "".join(" " + shlex.quote(a) for a in argv)
        print("wrote", os.path.relpath(write_results_page(args.out, "The reference layer cross-checked",
                                                          command, body)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
