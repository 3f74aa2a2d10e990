"""Solver certification: the same problems solved by the SMO (or the p = 2 Newton method), the
cvxpy reference and LIBSVM, every answer judged by :func:`glopt.certify.certify`.

A row is FAIL when its certificate is over tolerance or its objective differs from the
reference's by more than the tolerance (relative); an exception in a solver is an ERROR row.
"""
from __future__ import annotations

import time

import numpy as np

from ..kernels import Correlation, Kernel, correlation_matrix, median_sq_distance
from ..problem import SVMProblem
from .cv import standardize
from .report import ERROR, FAIL

TOL = 1e-6
LIBSVM_TOL = 1e-5


def libsvm_tol(problem: SVMProblem) -> float:
    """LIBSVM caches Q in single precision: each entry carries a relative error up to 2^-24, so its
    gradients, and with them its KKT residual and gap relative to A = max |a|, are off by up to
    2^-24 * n * max |Q_ij|. It is judged at that bound, or LIBSVM_TOL if larger."""
    diag = problem.kernel.diag(problem.X)  # max |K_ij| <= max K_ii for a PSD kernel
    return max(LIBSVM_TOL, 2.0 ** -24 * problem.n * float(np.max(np.abs(diag))))


def random_problems(seed: int, quick: bool):
    """Random problems of every form: kernels, SVC/SVR, per-sample weights, p = 2 with S = G."""
    rng = np.random.default_rng(seed)
    sizes = (30, 60) if quick else (30, 60, 120, 200)
    kernels = {"rbf": lambda d: Kernel("rbf", gamma=1.0 / d), "linear": lambda d: Kernel("linear"),
               "poly": lambda d: Kernel("poly", gamma=0.5 / d, degree=3, coef0=1.0)}
    forms = [("svc", 1, "rbf"), ("svc", 1, "linear"), ("svr", 1, "poly"), ("svc", 2, "rbf"),
             ("svr", 2, "rbf"), ("svr", 1, "rbf")]
    for n in sizes:
        for task, p, kname in forms:
            d = int(rng.integers(2, 6))
            X = rng.normal(size=(n, d))
            score = X @ rng.normal(size=d) + 0.5 * rng.normal(size=n)
            y = np.where(score > np.median(score), 1.0, -1.0) if task == "svc" else score
            weights = rng.uniform(0.1, 5.0, size=n) if p == 1 else None
            S = correlation_matrix(X, "G", 1.0 / median_sq_distance(X)) if p == 2 else None
            C = float(10 ** rng.uniform(-1, 1.5))
            name = f"random {task} {kname} n={n}" + (" weighted" if p == 1 else " p=2 S=G")
            yield name, SVMProblem(X, y, kernels[kname](d), task, C=C, weights=weights, epsilon=0.2, p=p, S=S)


def keel_problems(seed: int, quick: bool):
    """Standardized subsets of KEEL sets, the standard and the p = 2 generalized problem."""
    from ..datasets import load_keel

    rng = np.random.default_rng(seed)
    sets = ("sonar",) if quick else ("sonar", "ionosphere", "heart", "wdbc")
    size = 80 if quick else 150
    for name in sets:
        X, y = load_keel(name, return_X_y=True)
        idx = rng.permutation(X.shape[0])[:size]
        X, y = standardize(X[idx]), y[idx]
        k = Kernel("rbf", gamma=1.0 / X.shape[1])
        S = correlation_matrix(X, "G", 1.0 / median_sq_distance(X))
        label = f"KEEL {name} ({size})"
        yield f"{label} C-SVC", SVMProblem(X, y, k, "svc", C=1.0)
        yield f"{label} weighted C-SVC", SVMProblem(X, y, k, "svc", C=1.0, weights=rng.uniform(0.5, 2.0, size))
        yield f"{label} GL p=2 S=G", SVMProblem(X, y, k, "svc", C=1.0, p=2, S=S)


def libsvm(problem: SVMProblem):
    """The same problem solved by scikit-learn's LIBSVM (standard p = 1 problems only)."""
    from sklearn.svm import SVC, SVR

    from ..certify import result_from_sklearn

    k = problem.kernel
    common = dict(C=problem.C, kernel=k.name, gamma=k.gamma, degree=k.degree, coef0=k.coef0, tol=1e-8)
    est = SVC(**common) if problem.task == "svc" else SVR(epsilon=problem.epsilon, **common)
    est.fit(problem.X, problem.y, sample_weight=problem.weights)
    return result_from_sklearn(est, problem)


def solvers(problem: SVMProblem):
    """(name, solve function, tolerance) of every solver of the problem."""
    from .. import smo
    from ..cvx import solve_reference

    yield "cvx", solve_reference, TOL
    if problem.p == 1:
        yield "smo", lambda pr: smo.solve(pr, tol=1e-9), TOL
        yield "libsvm", libsvm, libsvm_tol(problem)
    else:
        from ..quadratic import solve_quadratic

        yield "newton", solve_quadratic, TOL


def certify_problem(name: str, problem: SVMProblem) -> list[dict]:
    from ..certify import certify

    rows, reference = [], None
    for solver, solve, tol in solvers(problem):
        row = {"problem": name, "n": problem.n, "solver": solver}
        try:
            t0 = time.perf_counter()
            result = solve(problem)
            elapsed = time.perf_counter() - t0
            cert = certify(result, problem)
        except Exception as exc:  # a solver error is a result of the validation, not a crash of it
            rows.append({**row, "objective": float("nan"), "rel_obj_diff": float("nan"), "rel_gap": float("nan"),
                         "kkt": float("nan"), "infeasibility": float("nan"), "time_s": float("nan"),
                         "tol": tol, "verdict": ERROR, "note": f"{type(exc).__name__}: {exc}"[:120]})
            continue
        if reference is None:
            reference = cert.primal
        diff = abs(cert.primal - reference) / max(1.0, abs(reference))
        ok = cert.ok(tol) and diff <= tol
        rows.append({**row, "objective": cert.primal, "rel_obj_diff": diff, "rel_gap": cert.rel_gap,
                     "kkt": cert.kkt_violation, "infeasibility": cert.infeasibility, "time_s": elapsed,
                     "tol": tol, "verdict": "ok" if ok else FAIL, "note": ""})
    return rows


def mm_check(problem: SVMProblem, name: str) -> list[dict]:
    """MM for the p = 1 generalized loss with the SMO and with cvxpy inside: the same answer?"""
    from ..mm import CvxInner, SMOInner, solve_mm

    S = Correlation(problem.X, "G", 1.0 / median_sq_distance(problem.X))
    kw = dict(eps=1e-4, tol=1e-10, weight_tol=1e-7, max_iter=200)
    rows, runs = [], {}
    for inner, solver in (("smo", SMOInner(tol=1e-11)), ("cvx", CvxInner())):
        t0 = time.perf_counter()
        try:
            runs[inner] = solve_mm(problem, S, solver, **kw)
        except Exception as exc:
            rows.append({"problem": name, "inner": inner, "steps": 0, "objective": float("nan"),
                         "smoothed_objective": float("nan"), "stationarity": float("nan"),
                         "rel_diff": float("nan"), "time_s": float("nan"), "verdict": ERROR,
                         "note": f"{type(exc).__name__}: {exc}"[:120]})
            continue
        r = runs[inner]
        rows.append({"problem": name, "inner": inner, "steps": r.n_iter, "objective": r.objective,
                     "smoothed_objective": r.extra["smoothed_objective"], "stationarity": r.extra["stationarity"],
                     "rel_diff": float("nan"), "time_s": time.perf_counter() - t0, "verdict": "", "note": ""})
    if len(runs) == 2:
        a, b = runs["smo"].extra["smoothed_objective"], runs["cvx"].extra["smoothed_objective"]
        diff = abs(a - b) / abs(b)
        for row in rows:
            row["rel_diff"] = diff
            row["verdict"] = "ok" if diff <= TOL and row["stationarity"] <= TOL else FAIL
    return rows


def problems(seed: int, quick: bool) -> list:
    return list(keel_problems(seed, quick)) + list(random_problems(seed, quick))


def run(report, seed: int, quick: bool) -> None:
    problems_ = problems(seed, quick)
    rows = []
    with report.bar(len(problems_), "certification") as bar:
        for name, problem in problems_:
            bar.set_postfix_str(name)
            rows += certify_problem(name, problem)
            bar.update()
    n_fail = sum(r["verdict"] != "ok" for r in rows)
    report.section("1. Solver certification", (
        f"Every problem solved by the cvxpy reference (Clarabel), glopt's SMO (p = 1) or its p = 2 "
        f"Newton method, and LIBSVM (scikit-learn's SVC/SVR, standard p = 1 problems only). Each "
        f"answer is judged by `glopt.certify.certify` from its dual variables and the problem data. "
        f"`rel_obj_diff` is |primal objective - the reference's| / max(1, |reference|). Tolerance "
        f"{TOL:g}; LIBSVM, whose kernel cache is single precision, is judged at max({LIBSVM_TOL:g}, "
        f"2^-24 n max K_ii), the error that precision allows (column `tol`). "
        f"{len(problems_)} problems, {len(rows)} answers, {n_fail} over tolerance."))
    report.table("certification", rows)
    name, problem = next(keel_problems(seed, True))
    mm_rows = mm_check(problem, name.replace(" C-SVC", ""))
    report.text("The p = 1 generalized loss (not convex) by majorization-minimization with the SMO and with "
                "cvxpy as inner solvers (S = G, gamma_s = 1/median d^2): the two must reach the same "
                f"smoothed objective and be stationary, both to {TOL:g}.")
    report.table("certification_mm", mm_rows)
    worst = max((max(r["rel_obj_diff"], r["rel_gap"], r["kkt"]) for r in rows if r["verdict"] != ERROR), default=0.0)
    report.summary(f"certification: {len(rows)} answers to {len(problems_)} problems, {n_fail} over tolerance; "
                   f"MM smo vs cvx {'ok' if all(r['verdict'] == 'ok' for r in mm_rows) else 'FAIL'}; "
                   f"worst certified quantity {worst:.1e}")
    _plot(report, rows)


def _plot(report, rows):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    for j, solver in enumerate(dict.fromkeys(r["solver"] for r in rows)):
        mine = [r for r in rows if r["solver"] == solver and r["verdict"] != ERROR]
        for k, (key, marker) in enumerate((("kkt", "o"), ("rel_gap", "s"), ("rel_obj_diff", "^"))):
            vals = np.maximum([r[key] for r in mine], 1e-16)
            ax.scatter(np.full(len(vals), j) + (k - 1) * 0.2, vals, marker=marker, s=14, color=f"C{k}",
                       label=key if j == 0 else None)
    ax.axhline(TOL, color="k", lw=0.8, ls="--")
    ax.set_yscale("log")
    ax.set_xticks(range(len(dict.fromkeys(r["solver"] for r in rows))), list(dict.fromkeys(r["solver"] for r in rows)))
    ax.set_ylabel("certified quantity")
    ax.legend(fontsize=8)
    report.figure("certification", fig, f"KKT violation, relative duality gap and objective difference of every "
                  f"answer, by solver (dashed: tolerance {TOL:g}; values below 1e-16 drawn at 1e-16).")
