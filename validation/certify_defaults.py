"""Do GLSVC's fits certify at their defaults? Every fit, on the paper's seven data sets and ten
further KEEL sets, counted: certified at ``cert_tol``, or warned, never silently uncertified.

    python validation/certify_defaults.py [--folds 10] [--out docs/results/certification-defaults.md]

For each set: the raw KEEL features (categorical columns one-hot), stratified ``--folds``-fold
splits (seed 0); on each training part the features are standardized (the scaler fitted on that
part) and ``GLSVC()`` is fitted with every default. A fit *certifies* when every subproblem it
solved (one per pair of classes) has ``certified_`` True, i.e. ``certificate_[k].ok(cert_tol)``:
KKT (stationarity) residual, infeasibility and relative duality gap all <= cert_tol. A fit that
does not certify must have raised a ConvergenceWarning; one that neither certifies nor warns is
a *silent* failure. The same count is made for random problems of n = 120 (12 seeds, 3 Gaussian
features, noisy linear labels). Goal: at least 95% of the fits certify, zero silent failures.

The page it writes lists, per set, the fits, how many certify and how many warned, the worst
certificate quantities, and the median MM steps and fit time.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np

PAPER_SETS = ("sonar", "haberman", "breast", "wdbc", "ionosphere", "german", "heart")
FURTHER_SETS = ("titanic", "mammographic", "wisconsin", "australian", "pima", "bupa", "monk-2",
                "banana", "phoneme", "vehicle")


def fit_once(X, y):
    """Fit GLSVC() on (X, y); returns the fitted estimator, whether it warned, and the seconds."""
    from sklearn.exceptions import ConvergenceWarning

    from glopt import GLSVC

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        est = GLSVC().fit(X, y)
        seconds = time.perf_counter() - t0
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return est, warned, seconds


def summarize(name, n, k, fits) -> dict:
    """One table row from a list of (estimator, warned, seconds)."""
    certs = [c for est, _, _ in fits for c in est.certificate_]
    ok = [bool(np.all(est.certified_)) for est, _, _ in fits]
    warned = [w for _, w, _ in fits]
    return {"set": name, "n": n, "classes": k, "fits": len(fits), "certified": sum(ok),
            "warned": sum(warned), "silent": sum(1 for c, w in zip(ok, warned) if not c and not w),
            "worst KKT": max(c.kkt_violation for c in certs),
            "worst infeasibility": max(c.infeasibility for c in certs),
            "worst rel. gap": max(c.rel_gap for c in certs),
            "median MM steps": statistics.median(int(s) for est, _, _ in fits for s in est.n_iter_),
            "median fit [s]": statistics.median(t for _, _, t in fits)}


def keel_rows(sets, folds):
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    from glopt.datasets import load_keel

    for name in sets:
        X, y = load_keel(name, return_X_y=True)
        fits = []
        for train, _ in StratifiedKFold(folds, shuffle=True, random_state=0).split(X, y):
            Xt = StandardScaler().fit_transform(X[train])
            fits.append(fit_once(Xt, y[train]))
        row = summarize(name, X.shape[0], len(np.unique(y)), fits)
        print(f"  {name}: {row['certified']}/{row['fits']} certified, {row['warned']} warned", flush=True)
        yield row


def random_row(seeds=12, n=120):
    fits = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(n, 3))
        y = np.where(X @ rng.normal(size=3) + 0.5 * rng.normal(size=n) > 0, 1, -1)
        fits.append(fit_once(X, y))
    return summarize(f"random (n = {n}, {seeds} seeds)", n, 2, fits)


def main(argv=None) -> int:
    from glopt.estimators import CERT_TOL, GLSVC
    from glopt.experiments.report import markdown_table, write_results_page

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs", "results",
                                                  "certification-defaults.md"))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = list(keel_rows(PAPER_SETS + FURTHER_SETS, args.folds))
    rows.append(random_row())
    fits = sum(r["fits"] for r in rows)
    certified = sum(r["certified"] for r in rows)
    silent = sum(r["silent"] for r in rows)
    keel_fits = sum(r["fits"] for r in rows[:-1])
    keel_certified = sum(r["certified"] for r in rows[:-1])
    defaults = GLSVC().get_params()
    body = (
        f"`GLSVC()` with every default (cert_tol = {CERT_TOL:g}, tol = {defaults['tol']:g}, "
        f"eps = {defaults['eps']:g}, mm_tol = {defaults['mm_tol']:g}, max_iter = {defaults['max_iter']}, "
        f"accelerate = {defaults['accelerate']}, gamma_s = '{defaults['gamma_s']}') on standardized "
        f"training parts of {args.folds} stratified folds per KEEL set (the paper's seven sets first, "
        "then ten further ones), and on random problems. A fit certifies when every one of its "
        "subproblems meets cert_tol (KKT residual, infeasibility and relative gap); *silent* counts "
        "fits that neither certify nor raise a ConvergenceWarning.\n\n"
        f"**KEEL sets: {keel_certified} of {keel_fits} fits certify ({100.0 * keel_certified / keel_fits:.1f}%; "
        f"goal >= 95%); all fits: {certified} of {fits}; silent failures: {silent} (goal 0).** "
        f"Wall time {time.perf_counter() - t0:.0f} s.\n\n" + markdown_table(rows) + "\n")
    path = write_results_page(args.out, "GLSVC certifies at its defaults",
                              f"python validation/certify_defaults.py --folds {args.folds}", body)
    print(f"{keel_certified}/{keel_fits} KEEL fits certified, {certified}/{fits} in all, {silent} silent; {path}")
    return 0 if silent == 0 and keel_certified >= 0.95 * keel_fits else 1


if __name__ == "__main__":
    sys.exit(main())
