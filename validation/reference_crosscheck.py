"""Cross-check of the cvxpy reference layer: primal vs dual on random problems, and vs LIBSVM.

    python validation/reference_crosscheck.py [--seeds 5]

Prints, per problem family, the worst relative duality gap, KKT violation and |margin duals - a|
over random problems (n = 12, 60, 200), then the agreement with scikit-learn's SVC / SVR.
"""
import argparse
import sys
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
                      f"{max(mds) if mds else float('nan'):11.1e}")


def libsvm_agreement():
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
    X, y = load_diabetes(return_X_y=True)
    X, y = (X - X.mean(0)) / X.std(0), (y - y.mean()) / y.std()
    pr = SVMProblem(X, y, Kernel("rbf", gamma=0.1), "svr", C=2.0, epsilon=0.1)
    ref = solve_reference(pr)
    sk = SVR(C=2.0, gamma=0.1, epsilon=0.1, tol=1e-10).fit(X, y)
    d_ref, d_lib = certify(ref, pr).dual, certify(result_from_sklearn(sk, pr), pr).dual
    fdiff = np.abs(pr.decision(ref.coef, ref.b) - sk.predict(X)).max()
    print(f"{'diabetes (SVR)':18s} {2.0:5.1f} {d_ref:14.8f} {d_lib:14.8f} {abs(d_ref - d_lib) / abs(d_lib):9.1e} {fdiff:12.1e}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    random_families(args.seeds)
    libsvm_agreement()
