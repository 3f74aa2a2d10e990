"""Fit time of glopt.svm's drop-ins against scikit-learn's SVMs (LIBSVM) and scikit-learn-intelex's.

    python benchmarks/bench_svm_family.py [--repeats 3] [--estimators SVC,NuSVC,...] [--quick]
                                          [--out docs/results/svm-family.md]

Setting: every estimator at its defaults (RBF kernel, gamma='scale', tol=1e-3, cache 200 MB,
shrinking), the same on every side; C-SVC, nu-SVC and the one-class SVM on binary KEEL sets,
epsilon-SVR and nu-SVR on scikit-learn's diabetes and Friedman #1 sets (seeded), all standardized
(regression targets too).

Method:

- every fit runs in a fresh subprocess (``--worker``), the implementations alternating (sklearn,
  glopt, sklearnex, sklearn, ...), so that they share the machine's conditions; each time is the
  median over the repeats of the ``fit`` call alone (wall clock);
- the dual objective of each fitted model is recomputed from its ``dual_coef_``, support vectors
  and intercept by the same function for every implementation (LIBSVM's scaled form for nu-SVC),
  and the predictions on the training set are compared with scikit-learn's;
- scikit-learn-intelex (oneDAL, multithreaded) is measured where it is installed (``bench``
  extra) and has the estimator; glopt uses all cores (n_jobs=None).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CLASSIFICATION_SETS = ["german", "banana", "phoneme", "magic"]
REGRESSION_SETS = ["diabetes", "friedman1-5000", "friedman1-20000"]
ESTIMATORS = {"SVC": CLASSIFICATION_SETS, "NuSVC": CLASSIFICATION_SETS, "OneClassSVM": CLASSIFICATION_SETS,
              "SVR": REGRESSION_SETS, "NuSVR": REGRESSION_SETS}
IMPLEMENTATIONS = ("sklearn", "glopt", "sklearnex")


def _load(name):
    import numpy as np
    from sklearn import datasets
    from sklearn.preprocessing import StandardScaler

    if name == "diabetes":
        X, y = datasets.load_diabetes(return_X_y=True)
    elif name.startswith("friedman1-"):
        X, y = datasets.make_friedman1(n_samples=int(name.split("-")[1]), noise=1.0, random_state=0)
    else:
        from glopt.datasets import load_keel

        X, y = load_keel(name, return_X_y=True)
    X = StandardScaler().fit_transform(X)
    if name in REGRESSION_SETS:
        y = (y - y.mean()) / y.std()
    return np.ascontiguousarray(X), np.asarray(y, dtype=float)


def _estimator_class(impl: str, name: str):
    if impl == "glopt":
        import glopt.svm as module
    elif impl == "sklearnex":
        import sklearnex.svm as module
    else:
        import sklearn.svm as module
    return getattr(module, name, None)


def dual_objective(model, X, y, name: str) -> float:
    """The dual objective of a fitted binary / regression / one-class model, from its attributes."""
    import numpy as np
    from sklearn.metrics.pairwise import rbf_kernel

    coef = np.asarray(model.dual_coef_, dtype=float).ravel()
    sv = np.asarray(model.support_vectors_, dtype=float)
    K = rbf_kernel(sv, sv, gamma=float(model._gamma))
    quad = float(coef @ K @ coef)
    if name == "SVC":
        return float(np.abs(coef).sum()) - 0.5 * quad
    if name == "SVR":
        y_sv = y[np.asarray(model.support_)]
        return float(y_sv @ coef) - model.epsilon * float(np.abs(coef).sum()) - 0.5 * quad
    if name == "NuSVR":
        return float(y[np.asarray(model.support_)] @ coef) - 0.5 * quad
    if name == "NuSVC":
        # LIBSVM's scaled form: each class of a = r |dual_coef| sums to nu n / 2
        r = model.nu * X.shape[0] / 2.0 / float(np.abs(coef[coef > 0]).sum())
        return -0.5 * r * r * quad
    return -0.5 * quad  # one-class


def worker(impl: str, name: str, set_name: str, pred_path: str) -> dict:
    import numpy as np

    X, y = _load(set_name)
    cls = _estimator_class(impl, name)
    model = cls()
    t0 = time.perf_counter()
    if name == "OneClassSVM":
        model.fit(X)
    else:
        model.fit(X, y)
    fit_time = time.perf_counter() - t0
    np.save(pred_path, model.predict(X))
    return {"time": fit_time, "dual": dual_objective(model, X, y, name), "n_sv": int(len(model.support_)),
            "n": int(X.shape[0])}


def _run_worker(impl, name, set_name) -> dict | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "pred.npy")
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", impl, name, set_name, path],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"  {impl} {name} {set_name} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
            return None
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        import numpy as np

        out["pred"] = np.load(path)
        return out


def _available(impl, name) -> bool:
    try:
        return _estimator_class(impl, name) is not None
    except ImportError:
        return False


def measure(name, set_name, repeats) -> dict:
    import numpy as np

    impls = [i for i in IMPLEMENTATIONS if _available(i, name)]
    runs = {i: [] for i in impls}
    for _ in range(repeats):
        for impl in impls:
            out = _run_worker(impl, name, set_name)
            if out is not None:
                runs[impl].append(out)
    row = {"estimator": name, "set": set_name}
    ref = runs.get("sklearn", [])
    for impl in IMPLEMENTATIONS:
        r = runs.get(impl, [])
        row[f"{impl} [s]"] = statistics.median(x["time"] for x in r) if r else float("nan")
    row["n"] = ref[0]["n"] if ref else float("nan")
    for impl in ("glopt", "sklearnex"):
        row[f"{impl} / sklearn"] = row[f"{impl} [s]"] / row["sklearn [s]"]
    if ref and runs.get("glopt"):
        d_sk, d_gl = ref[0]["dual"], runs["glopt"][0]["dual"]
        row["dual rel. diff (glopt - sklearn)"] = (d_gl - d_sk) / max(1.0, abs(d_sk))
        p_sk, p_gl = ref[0]["pred"], runs["glopt"][0]["pred"]
        if name in ("SVR", "NuSVR"):  # regression: the largest difference, relative to the targets' scale
            row["predictions: max diff"] = float(np.max(np.abs(p_gl - p_sk)) / max(1.0, np.max(np.abs(p_sk))))
        else:
            row["same predictions"] = float(np.mean(p_sk == p_gl))
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--estimators", default=",".join(ESTIMATORS))
    ap.add_argument("--quick", action="store_true", help="the smallest set of each kind only")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs",
                                                  "results", "svm-family.md"))
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return 0
    from glopt.experiments.report import machine, markdown_table, write_results_page

    rows = []
    for name in args.estimators.split(","):
        for set_name in ESTIMATORS[name][:1] if args.quick else ESTIMATORS[name]:
            row = measure(name, set_name, args.repeats)
            rows.append(row)
            print(f"{name:12s} {set_name:16s} " + "  ".join(
                f"{k} {v:.4g}" for k, v in row.items() if isinstance(v, float)), flush=True)
    import numpy as np

    summary = []
    for name in dict.fromkeys(r["estimator"] for r in rows):
        ratios = [r["glopt / sklearn"] for r in rows if r["estimator"] == name]
        ex = [r["glopt [s]"] / r["sklearnex [s]"] for r in rows if r["estimator"] == name
              and np.isfinite(r["sklearnex [s]"])]
        summary.append({"estimator": name, "median glopt / sklearn": float(np.median(ratios)),
                        "median glopt / sklearnex": float(np.median(ex)) if ex else float("nan")})
    command = "python benchmarks/bench_svm_family.py" + (f" --repeats {args.repeats}" if args.repeats != 3 else "") \
        + (" --quick" if args.quick else "") + (f" --estimators {args.estimators}"
                                                 if args.estimators != ",".join(ESTIMATORS) else "")
    body = ("Every estimator at its defaults on both sides; each fit in a fresh process, implementations "
            "alternating, medians of the repeats; dual objectives recomputed from each model's attributes.\n\n"
            + markdown_table(rows) + "\n\nMedian ratios per estimator (goal: glopt / sklearn <= 0.5):\n\n"
            + markdown_table(summary) + "\n")
    write_results_page(args.out, "glopt.svm against scikit-learn and scikit-learn-intelex", command, body)
    print(f"wrote {os.path.relpath(args.out)}")
    print(f"machine: {machine()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
