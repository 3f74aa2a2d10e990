"""Certifying the peers: other SVM libraries' answers to one C-SVC, judged by :func:`glopt.audit.certify_model`.

Each peer fits the same RBF C-SVC (C = 1, gamma = 1 / d on standardized features) on binary KEEL
sets; its fitted model (an estimator, or the LIBSVM model file ``svm_save_model`` writes) is
certified with ``reference=True``: the relative duality gap and KKT violation of its answer, and
its distance to glopt's certified optimum of the same problem (glopt's SMO at tol 1e-8, certified).

Peers: scikit-learn's SVC (LIBSVM) at its default tol 1e-3 and at 1e-6, scikit-learn-intelex's
SVC, LIBSVM's own Python binding (``libsvm.svmutil``) and ThunderSVM. A peer that is not
importable is listed as "not installed", not counted as an error.

Verdicts: ERROR when a peer or the certification raises; FAIL when glopt's reference does not
certify (relative gap or KKT violation above ``REFERENCE_TOL``), or when a peer asked for a tol at
or below 1e-6 does not certify at ``CERT_TOL`` (LIBSVM's own default tolerance); a peer at its
default tol is measured, not judged.
"""
from __future__ import annotations

import os
import tempfile
import time

import numpy as np

from .cv import standardize
from .report import ERROR, FAIL

#: The binary KEEL sets of the full section; --quick uses a subset of the first.
SETS = ("sonar", "heart", "ionosphere", "wdbc")
#: Samples of the quick version's one set.
QUICK_SIZE = 60
#: Tolerance of glopt's reference certificate (relative gap and KKT violation).
REFERENCE_TOL = 1e-6
#: The tolerance a peer run at tol <= 1e-6 must certify at.
CERT_TOL = 1e-3
C = 1.0


def _sklearn(tol):
    def fit(X, y, gamma):
        from sklearn.svm import SVC

        return SVC(C=C, kernel="rbf", gamma=gamma, tol=tol).fit(X, y)
    return fit


def _sklearnex(X, y, gamma):
    from sklearnex.svm import SVC

    return SVC(C=C, kernel="rbf", gamma=gamma).fit(X, y)


def _libsvm(X, y, gamma, workdir):
    """LIBSVM's own binding: train, write the model file, read it back for certification."""
    from libsvm.svmutil import svm_save_model, svm_train

    from ..audit import read_libsvm_model

    model = svm_train(y.tolist(), [dict(enumerate(row.tolist(), start=1)) for row in X],
                      f"-s 0 -t 2 -c {C:.17g} -g {gamma:.17g} -e 0.001 -q")
    path = os.path.join(workdir, "libsvm.model")
    svm_save_model(path, model)
    return read_libsvm_model(path, C=C)


def _thundersvm(X, y, gamma, workdir):
    from thundersvm import SVC

    from ..audit import read_libsvm_model

    model = SVC(C=C, kernel="rbf", gamma=gamma).fit(X, y)
    path = os.path.join(workdir, "thundersvm.model")
    model.save_to_file(path)
    return read_libsvm_model(path, C=C)


def peers():
    """(name, tol asked for or None for the peer's default, module to import, fit(X, y, gamma, workdir))."""
    return [
        ("scikit-learn SVC (LIBSVM), tol 1e-3", None, "sklearn", lambda X, y, g, w: _sklearn(1e-3)(X, y, g)),
        ("scikit-learn SVC (LIBSVM), tol 1e-6", 1e-6, "sklearn", lambda X, y, g, w: _sklearn(1e-6)(X, y, g)),
        ("scikit-learn-intelex SVC", None, "sklearnex", lambda X, y, g, w: _sklearnex(X, y, g)),
        ("LIBSVM's own binding (libsvm.svmutil, -e 1e-3)", None, "libsvm.svmutil", _libsvm),
        ("ThunderSVM SVC", None, "thundersvm", _thundersvm),
    ]


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def datasets(seed: int, quick: bool):
    """(name, X, y): standardized binary KEEL sets (quick: a random subset of the first)."""
    from ..datasets import load_keel

    rng = np.random.default_rng(seed)
    for name in SETS[:1] if quick else SETS:
        X, y = load_keel(name, return_X_y=True)
        if quick:
            idx = np.sort(rng.permutation(X.shape[0])[:QUICK_SIZE])
            X, y = X[idx], y[idx]
        yield name, standardize(X), y


def certify_peer(set_name, X, y, peer, workdir) -> dict:
    """One row: the peer's fit, its certificate and its distance to glopt's certified optimum."""
    from ..audit import certify_model

    name, tol, module, fit = peer
    row = {"set": set_name, "n": int(X.shape[0]), "peer": name}
    empty = {"rel_gap": float("nan"), "kkt": float("nan"), "infeasibility": float("nan"),
             "rel_objective_diff": float("nan"), "max_decision_diff": float("nan"),
             "prediction_mismatch": float("nan"), "certified": "", "fit_time_s": float("nan")}
    if not _installed(module):
        return {**row, **empty, "verdict": "", "note": "not installed"}
    gamma = 1.0 / X.shape[1]
    try:
        t0 = time.perf_counter()
        model = fit(X, y, gamma, workdir)
        elapsed = time.perf_counter() - t0
        report = certify_model(model, X, y, reference=True)
    except Exception as exc:  # a peer's failure is a finding of the section, reported
        return {**row, **empty, "verdict": ERROR, "note": f"{type(exc).__name__}: {exc}"[:160]}
    subs = report.subproblems
    certs = [s.certificate for s in subs]
    refs = [s.reference or {} for s in subs]

    def worst(values):
        vals = [float(v) for v in values if v is not None]
        return max(vals) if vals else float("nan")

    ref_ok = all(r.get("reference_rel_gap", np.inf) <= REFERENCE_TOL
                 and r.get("reference_kkt_violation", np.inf) <= REFERENCE_TOL for r in refs)
    certified = report.ok(CERT_TOL)
    notes = []
    if not ref_ok:
        notes.append("glopt's reference does not certify")
    if tol is not None and not certified:
        notes.append(f"asked for tol {tol:g}, does not certify at {CERT_TOL:g}")
    return {**row,
            "rel_gap": worst(c.rel_gap for c in certs), "kkt": worst(c.kkt_violation for c in certs),
            "infeasibility": worst(c.infeasibility for c in certs),
            "rel_objective_diff": worst(abs(r.get("rel_objective_diff", np.nan)) for r in refs),
            "max_decision_diff": worst(r.get("max_decision_diff") for r in refs),
            "prediction_mismatch": worst(r.get("prediction_mismatch") for r in refs),
            "certified": "yes" if certified else "no", "fit_time_s": elapsed,
            "verdict": "ok" if not notes else FAIL, "note": "; ".join(notes)}


def run(report, seed: int, quick: bool) -> None:
    """The section: the table ``peers`` and a summary line.

    Parameters
    ----------
    report : glopt.experiments.report.Report
        Where the section, table and summary go.
    seed : int
        Seed of the quick version's subset.
    quick : bool
        One set of ``QUICK_SIZE`` samples (True) or the full sets of ``SETS``.
    """
    sets = list(datasets(seed, quick))
    rows = []
    with tempfile.TemporaryDirectory() as workdir, report.bar(len(sets) * len(peers()), "peers") as bar:
        for set_name, X, y in sets:
            for peer in peers():
                bar.set_postfix_str(f"{set_name}: {peer[0]}")
                rows.append(certify_peer(set_name, X, y, peer, workdir))
                bar.update()
    missing = sorted({r["peer"] for r in rows if r["note"] == "not installed"})
    report.section("Peers: certifying the peers", (
        f"Each library fits the same RBF C-SVC (C = {C:g}, gamma = 1/d on standardized features) on "
        f"binary KEEL sets ({', '.join(s for s, _, _ in sets)}"
        + (f", a random subset of {QUICK_SIZE} samples" if quick else "") + "), and its fitted model is "
        "certified by `glopt.audit.certify_model(..., reference=True)`: `rel_gap` and `kkt` are the "
        "relative duality gap and the KKT violation of the library's own answer (dual coefficients and "
        "intercept), `rel_objective_diff` (|primal - reference| / max(1, |reference|)), "
        "`max_decision_diff` and `prediction_mismatch` its distance to glopt's certified optimum of the "
        "same problem (glopt's SMO at tol 1e-8). LIBSVM's binding is certified from the model file "
        f"`svm_save_model` writes. `certified` is `report.ok({CERT_TOL:g})`. A row FAILs when glopt's "
        f"reference does not certify at {REFERENCE_TOL:g}, or when a peer asked for tol 1e-6 does not "
        f"certify at {CERT_TOL:g}; the peers at their default tol are measured, not judged."
        + (f" Not installed: {', '.join(missing)}." if missing else "")))
    report.table("peers", rows)
    measured = [r for r in rows if r["verdict"] in ("ok", FAIL)]
    n_bad = sum(r["verdict"] in (FAIL, ERROR) for r in rows)
    report.summary(f"peers: {len(measured)} answers certified from {len({r['peer'] for r in measured})} "
                   f"libraries, {n_bad} failures; not installed: {'; '.join(missing) or 'none'}")
