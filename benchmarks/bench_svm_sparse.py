"""Fit time of glopt.svm.SVC on sparse input against scikit-learn's and scikit-learn-intelex's SVC
and LIBSVM's own binding.

    python benchmarks/bench_svm_sparse.py [--repeats 3] [--docs 10000] [--terms 50000]
                                          [--density 0.003] [--out docs/results/svm-sparse.md]

Two sets, both passed as scipy.sparse CSR matrices:

- "bag of words": a synthetic document-term matrix (seeded): ``--docs`` rows, ``--terms`` columns,
  each row with density x terms distinct terms drawn with Zipf-like frequencies, tf-idf weighted
  and L2-normalized rows; the label is the sign of a sparse linear score plus 10% label noise;
- "magic (CSR)": KEEL magic, standardized, a dense set stored sparse.

Every fit runs in a fresh subprocess, the implementations alternating; SVC at its defaults
(RBF, gamma='scale', C = 1, tol 1e-3, cache 200 MB) on every side (LIBSVM's binding,
``libsvm-official``: ``svm_train`` with ``-s 0 -t 2 -c 1 -g gamma -e 0.001 -m 200`` on the CSR
matrix, the time without building its problem, certified through the model file
``svm_save_model`` writes); times are medians of the
repeats of the ``fit`` call alone, and each first fit's answer is certified against the exact
problem by ``glopt.certify_model`` (its dual objective and KKT violation).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

IMPLEMENTATIONS = ("sklearn", "glopt", "sklearnex", "libsvm")


def bag_of_words(docs: int, terms: int, density: float, seed: int = 0):
    """The synthetic tf-idf document-term matrix (CSR) and its labels in {-1, +1}."""
    import numpy as np
    import scipy.sparse as sp
    from sklearn.preprocessing import normalize

    rng = np.random.default_rng(seed)
    per_row = max(1, int(round(density * terms)))
    freq = 1.0 / np.arange(1, terms + 1) ** 1.1
    freq /= freq.sum()
    rows = np.repeat(np.arange(docs), per_row)
    cols = rng.choice(terms, size=docs * per_row, p=freq)
    counts = rng.poisson(1.0, size=cols.size) + 1.0
    X = sp.csr_matrix((counts, (rows, cols)), shape=(docs, terms))
    X.sum_duplicates()
    df = np.bincount(X.indices, minlength=terms)
    X.data *= np.log((1.0 + docs) / (1.0 + df[X.indices])) + 1.0
    X = normalize(X)
    w = np.zeros(terms)
    active = rng.choice(terms, size=terms // 20, replace=False)
    w[active] = rng.normal(size=active.size)
    score = X @ w
    y = np.where(score > np.median(score), 1.0, -1.0)
    flip = rng.random(docs) < 0.1
    y[flip] = -y[flip]
    return X.astype(np.float64), y


def _load(name, docs, terms, density):
    import numpy as np
    import scipy.sparse as sp
    from sklearn.preprocessing import StandardScaler

    if name == "bag of words":
        return bag_of_words(docs, terms, density)
    from glopt.datasets import load_keel

    X, y = load_keel("magic", return_X_y=True)
    return sp.csr_matrix(np.ascontiguousarray(StandardScaler().fit_transform(X))), y


def _svc(impl):
    if impl == "libsvm":
        from libsvm import svmutil

        return svmutil
    if impl == "glopt":
        from glopt.svm import SVC
    elif impl == "sklearnex":
        from sklearnex.svm import SVC
    else:
        from sklearn.svm import SVC
    return SVC


def _fit_libsvm(X, y):
    """LIBSVM's own binding with SVC's defaults (gamma='scale' as scikit-learn computes it):
    the fit seconds (without building its problem) and the model, read back from the file
    ``svm_save_model`` writes."""
    import tempfile

    from libsvm import svmutil

    from glopt.audit._files import read_libsvm_model

    gamma = 1.0 / float(X.shape[1] * (X.multiply(X).mean() - X.mean() ** 2))
    prob = svmutil.svm_problem(y.tolist(), X)
    param = svmutil.svm_parameter(f"-s 0 -t 2 -c 1 -g {gamma!r} -e 0.001 -m 200 -q")
    t0 = time.perf_counter()
    model = svmutil.svm_train(prob, param)
    fit_time = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.txt")
        svmutil.svm_save_model(path, model)
        return fit_time, read_libsvm_model(path, C=1.0)


def worker(impl, name, docs, terms, density) -> dict:
    from glopt import certify_model

    X, y = _load(name, int(docs), int(terms), float(density))
    if impl == "libsvm":
        fit_time, model = _fit_libsvm(X, y)
    else:
        model = _svc(impl)()
        t0 = time.perf_counter()
        model.fit(X, y)
        fit_time = time.perf_counter() - t0
    cert = certify_model(model, X, y).subproblems[0].certificate
    return {"time": fit_time, "dual": float(cert.dual), "kkt": float(cert.kkt_violation),
            "n": int(X.shape[0]), "d": int(X.shape[1]), "nnz": int(X.nnz)}


def _run(impl, name, args):
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", impl, name, str(args.docs),
                           str(args.terms), str(args.density)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"  {impl} {name} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _available(impl) -> bool:
    try:
        _svc(impl)
        return True
    except ImportError:
        return False


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--terms", type=int, default=50_000)
    ap.add_argument("--density", type=float, default=0.003)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs",
                                                  "results", "svm-sparse.md"))
    ap.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return 0
    from glopt.experiments.report import markdown_table, write_results_page

    impls = [i for i in IMPLEMENTATIONS if _available(i)]
    rows = []
    for name in ("bag of words", "magic (CSR)"):
        runs = {i: [] for i in impls}
        for _ in range(args.repeats):
            for impl in impls:
                out = _run(impl, name, args)
                if out is not None:
                    runs[impl].append(out)
        ref = runs["sklearn"][0]
        row = {"set": name, "n": ref["n"], "d": ref["d"], "nnz": ref["nnz"]}
        for impl in IMPLEMENTATIONS:
            r = runs.get(impl, [])
            row[f"{impl} [s]"] = statistics.median(x["time"] for x in r) if r else float("nan")
        row["glopt / sklearn"] = row["glopt [s]"] / row["sklearn [s]"]
        row["glopt / sklearnex"] = row["glopt [s]"] / row["sklearnex [s]"]
        row["glopt / libsvm"] = row["glopt [s]"] / row["libsvm [s]"]
        for impl in IMPLEMENTATIONS:
            if runs.get(impl):
                first = runs[impl][0]
                row[f"{impl}: dual rel. diff, KKT"] = (f"{(first['dual'] - ref['dual']) / abs(ref['dual']):.1e}, "
                                                      f"{first['kkt']:.1e}")
        rows.append(row)
        print(row, flush=True)
    command = (f"python benchmarks/bench_svm_sparse.py --repeats {args.repeats} --docs {args.docs} "
               f"--terms {args.terms} --density {args.density}")
    body = ("SVC at its defaults on sparse CSR input, each fit in a fresh process, implementations "
            "alternating, medians of the repeats. *dual rel. diff* is each first fit's dual objective "
            "relative to scikit-learn's and *KKT* its violation, both from `glopt.certify_model` against "
            "the exact problem.\n\n"
            + markdown_table(rows) + "\n")
    write_results_page(args.out, "glopt.svm.SVC on sparse input", command, body)
    print(f"wrote {os.path.relpath(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
