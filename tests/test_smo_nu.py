"""The SMO engine's nu mode (LIBSVM's Solver_NU) and the sigmoid kernel.

nu-SVC and nu-SVR are set up here as LIBSVM (and scikit-learn's fork of it, with per-sample
bounds) sets them up: the variables, signs, linear term, bounds and start point of solve_nu_svc and
solve_nu_svr, solved by :class:`glopt.smo.SMOEngine` with ``nu=True``, then LIBSVM's rescaling
(nu-SVC: coef = y a / r, intercept = -rho / r; nu-SVR: coef = a - a*, intercept = -rho,
epsilon = -r).

Tolerances. scikit-learn iterates on kernel columns rounded to float, glopt (by default) on the
exact ones: at tol = 1e-8 the two answers solve problems whose Q differ by ~6e-8 relative, and
their coefficients differ by up to ~4e-6 (nu-SVC) and ~2e-5 (nu-SVR) of the largest (measured;
glopt's single-precision iterations without the finish give scikit-learn's coefficients exactly,
so the gap is the rounding of Q), the intercepts by ~5e-7; so coefficients are compared at 5e-5
of the largest, intercepts at 1e-6, and the exact-Q objective of glopt's answer must not exceed
that of scikit-learn's. With single-precision columns and no double-precision finish on LIBSVM's
order of the samples, the engine retraces LIBSVM step by step: the same iteration count and
coefficients to rounding.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from glopt.kernels import Kernel
from glopt.problem import SVMProblem
from glopt.smo import SMOEngine, solve_svc
from glopt.smo._api import _solve_problem

CACHE = 200 * 2.0 ** 20
KERNELS = {"rbf": ("rbf", 0.25, 3, 0.0), "poly": ("poly", 0.2, 2, 1.0),
           "linear": ("linear", 1.0, 3, 0.0), "sigmoid": ("sigmoid", 0.02, 3, 0.0)}


# --------------------------------------------------------------------------------------
# LIBSVM's nu-SVC and nu-SVR set-ups
# --------------------------------------------------------------------------------------
def _classes(seed, n=200, d=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.where(X @ rng.normal(size=d) + 0.7 * rng.normal(size=n) > 0, 1.0, -1.0)
    return X, y


def _targets(seed, n=150, d=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    t = np.sin(X[:, 0]) + 0.5 * X[:, 1] + 0.2 * rng.normal(size=n)
    return X, t


def _libsvm_order(y):
    """LIBSVM's order of a binary problem: the samples of scikit-learn's first class (-1), which
    LIBSVM signs +1, then the others, each group in its original order."""
    return np.r_[np.flatnonzero(y < 0), np.flatnonzero(y > 0)]


def _nu_svc_start(s, C, nu):
    """solve_nu_svc's start: nu sum(C) / 2 in each class, alpha_i = min(C_i, what is left) in
    order (the sum accumulated term by term as LIBSVM does, so that the start is LIBSVM's to the
    last bit)."""
    nu_l = 0.0
    for c in C:
        nu_l += nu * c
    left = {1.0: nu_l / 2, -1.0: nu_l / 2}
    a = np.zeros(len(s))
    for i in range(len(s)):
        a[i] = min(C[i], left[s[i]])
        left[s[i]] -= a[i]
    return a


def _nu_svr_start(C, nu):
    """solve_nu_svr's start: alpha_i = alpha*_i = min(C_i, what is left of C nu sum / 2)."""
    total = 0.0
    for c in C:
        total += c * nu
    total /= 2
    a = np.zeros(len(C))
    for i in range(len(C)):
        a[i] = min(total, C[i])
        total -= a[i]
    return np.r_[a, a]


def _drive(engine, polish=True, chunk=1000):
    """Run to the end (with the double-precision finish after single precision unless
    ``polish`` is False) and return finish()'s dict and the final status."""
    status = engine.run(chunk)
    while status == "running":
        status = engine.run(chunk)
    if polish:
        engine.to_double()
        status = engine.run(chunk)
        while status == "running":
            status = engine.run(chunk)
    out = engine.finish()
    out["status"] = status
    return out


def _kernel_args(kernel):
    return KERNELS[kernel] if isinstance(kernel, str) else kernel


def nu_svc(X, y, nu, *, kernel="rbf", weights=None, tol=1e-8, wss=3, shrinking=True, single=False,
           polish=True, n_threads=1, mode="auto", a=None, grad_ref=None, a_ref=None, max_iter=10**7,
           **kw):
    """LIBSVM's solve_nu_svc on the engine: l = n variables, y = labels, p = 0, u = C_i (the
    sample weights, 1 without), LIBSVM's start. Returns (coef, intercept, finish dict, engine
    arguments)."""
    n = len(y)
    s = np.where(y > 0, 1.0, -1.0)
    C = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    a = _nu_svc_start(s, C, nu) if a is None else a
    name, gamma, degree, coef0 = _kernel_args(kernel)
    engine = SMOEngine(X, name, gamma, degree, coef0, np.arange(n, dtype=np.int32), s, np.zeros(n),
                       C, a, tol, wss, shrinking, CACHE, n_threads, max_iter, grad_ref=grad_ref,
                       a_ref=a_ref, mode=mode, single=single, nu=True, **kw)
    fin = _drive(engine, polish=polish and single)
    r = fin["r"]
    return s * fin["a"] / r, -fin["rho"] / r, fin, (s, C, a)


def nu_svr(X, t, nu, C, *, kernel="rbf", weights=None, tol=1e-8, wss=3, shrinking=True,
           single=False, polish=True, n_threads=1, a=None, grad_ref=None, a_ref=None, **kw):
    """LIBSVM's solve_nu_svr on the engine: 2n variables on the n rows, y = [+1, -1], p = [-t, t],
    u = C_i on both halves, LIBSVM's start. Returns (coef, intercept, epsilon, finish dict)."""
    n = len(t)
    Cw = C * (np.ones(n) if weights is None else np.asarray(weights, dtype=float))
    a = _nu_svr_start(Cw, nu) if a is None else a
    name, gamma, degree, coef0 = _kernel_args(kernel)
    engine = SMOEngine(X, name, gamma, degree, coef0, np.r_[np.arange(n), np.arange(n)].astype(np.int32),
                       np.r_[np.ones(n), -np.ones(n)], np.r_[-t, t], np.r_[Cw, Cw], a, tol, wss,
                       shrinking, CACHE, n_threads, 10**7, grad_ref=grad_ref, a_ref=a_ref,
                       single=single, nu=True, **kw)
    fin = _drive(engine, polish=polish and single)
    return fin["a"][:n] - fin["a"][n:], -fin["rho"], -fin["r"], fin


def _sk_coef(model, n):
    coef = np.zeros(n)
    coef[model.support_] = model.dual_coef_[0]
    return coef


def _gram(X, kernel):
    name, gamma, degree, coef0 = _kernel_args(kernel)
    return Kernel(name, gamma=gamma, degree=degree, coef0=coef0)(X)


# --------------------------------------------------------------------------------------
# nu-SVC against scikit-learn
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kernel", ["rbf", "poly"])
@pytest.mark.parametrize("single", [False, True])
def test_nu_svc_matches_sklearn(seed, kernel, single):
    from sklearn.svm import NuSVC
    X, y = _classes(seed)
    nu = 0.3
    name, gamma, degree, coef0 = KERNELS[kernel]
    sk = NuSVC(nu=nu, kernel=name, gamma=gamma, degree=degree, coef0=coef0, tol=1e-8).fit(X, y)
    coef, b, fin, (s, C, a0) = nu_svc(X, y, nu, kernel=kernel, tol=1e-8, single=single)
    assert fin["status"] == "optimal" and fin["violation"] <= 1e-8
    # the two equalities of the nu form held by every step
    for c in (1.0, -1.0):
        assert abs(fin["a"][s == c].sum() - a0[s == c].sum()) <= 1e-12 * nu * len(y)
    coef_sk = _sk_coef(sk, len(y))
    assert np.max(np.abs(coef - coef_sk)) <= 5e-5 * np.max(np.abs(coef_sk))
    assert abs(b - sk.intercept_[0]) <= 1e-6
    np.testing.assert_array_equal(coef != 0, coef_sk != 0)
    K = _gram(X, kernel)
    np.testing.assert_array_equal(np.where(K @ coef + b > 0, 1.0, -1.0), sk.predict(X))
    # both answers are feasible for the same constraints: glopt's has the lower exact objective
    # (in LIBSVM's unscaled variables, sum(a) = nu l)
    a_sk = np.abs(coef_sk) * (nu * len(y)) / np.abs(coef_sk).sum()
    obj = 0.5 * (s * fin["a"]) @ K @ (s * fin["a"])
    obj_sk = 0.5 * (s * a_sk) @ K @ (s * a_sk)
    assert obj <= obj_sk + 1e-12 * abs(obj_sk)
    assert abs(fin["obj"] - obj) <= 1e-10 * abs(obj)


def test_nu_svc_weighted_matches_sklearn():
    """Per-sample bounds: scikit-learn's fork gives nu-SVC the sample weights as bounds C_i and
    starts from nu sum(C) / 2 per class."""
    from sklearn.svm import NuSVC
    X, y = _classes(3)
    w = np.random.default_rng(30).uniform(0.3, 3.0, size=len(y))
    nu = 0.5      # 1 / r = 2.4: a small nu makes 1 / r large and the problem ill-conditioned
    sk = NuSVC(nu=nu, gamma=0.25, tol=1e-8).fit(X, y, sample_weight=w)
    coef, b, fin, (s, C, _) = nu_svc(X, y, nu, weights=w, tol=1e-8)
    coef_sk = _sk_coef(sk, len(y))
    assert np.max(np.abs(coef - coef_sk)) <= 5e-5 * np.max(np.abs(coef_sk))
    assert abs(b - sk.intercept_[0]) <= 1e-6
    np.testing.assert_array_equal(np.sign(_gram(X, "rbf") @ coef + b), sk.predict(X))
    assert np.all(fin["a"] <= C)
    # LIBSVM's iterations one for one with the weighted bounds and start
    sk = NuSVC(nu=nu, gamma=0.25, tol=1e-3).fit(X, y, sample_weight=w)
    order = _libsvm_order(y)
    coef, b, fin, _ = nu_svc(X[order], -y[order], nu, weights=w[order], tol=1e-3, single=True,
                             polish=False)
    assert fin["n_iter"] == sk.n_iter_[0]
    np.testing.assert_allclose(-coef, _sk_coef(sk, len(y))[order], rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("tol", [1e-3, 1e-5])
def test_nu_svc_iterations_one_for_one(seed, tol):
    """Single-precision columns, no double-precision finish, LIBSVM's order of the samples and
    its start: LIBSVM's iterations one for one (the runs at 1e-5 shrink twice; seed 3 takes
    2,547 and 17,184 iterations, with gradient reconstructions after shrinking)."""
    from sklearn.svm import NuSVC
    X, y = _classes(seed)
    sk = NuSVC(nu=0.3, gamma=0.25, tol=tol).fit(X, y)
    order = _libsvm_order(y)
    coef, b, fin, _ = nu_svc(X[order], -y[order], 0.3, tol=tol, single=True, polish=False)
    assert fin["n_iter"] == sk.n_iter_[0]
    assert fin["precision"] == "single"
    np.testing.assert_allclose(-coef, _sk_coef(sk, len(y))[order], rtol=0, atol=1e-12)
    assert abs(-b - sk.intercept_[0]) <= 1e-12


# --------------------------------------------------------------------------------------
# nu-SVR against scikit-learn
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("single", [False, True])
def test_nu_svr_matches_sklearn(seed, single):
    from sklearn.svm import NuSVR
    X, t = _targets(seed)
    w = np.random.default_rng(seed + 40).uniform(0.5, 2.0, size=len(t)) if seed == 2 else None
    nu, C = 0.4, 2.0
    sk = NuSVR(nu=nu, C=C, gamma=0.25, tol=1e-8).fit(X, t, sample_weight=w)
    coef, b, eps, fin = nu_svr(X, t, nu, C, weights=w, tol=1e-8, single=single)
    assert fin["status"] == "optimal" and fin["violation"] <= 1e-8
    n = len(t)
    a = fin["a"]
    assert abs(a[:n].sum() - a[n:].sum()) <= 1e-12 * C * n      # the two class sums stay equal
    coef_sk = _sk_coef(sk, n)
    assert np.max(np.abs(coef - coef_sk)) <= 5e-5 * np.max(np.abs(coef_sk))
    assert abs(b - sk.intercept_[0]) <= 1e-6
    np.testing.assert_array_equal(coef != 0, coef_sk != 0)
    K = _gram(X, "rbf")
    f = K @ coef + b
    np.testing.assert_allclose(f, sk.predict(X), rtol=0, atol=1e-5)
    obj = 0.5 * coef @ K @ coef - t @ coef         # the exact objective (p = [-t, t])
    assert obj <= 0.5 * coef_sk @ K @ coef_sk - t @ coef_sk + 1e-12 * abs(obj)
    # epsilon = -r is the tube's half width: the free variables lie on its edges
    u = C * (np.ones(n) if w is None else w)
    free = ((a[:n] > 0) & (a[:n] < u)) | ((a[n:] > 0) & (a[n:] < u))
    assert eps > 0 and free.any()
    np.testing.assert_allclose(np.abs(t[free] - f[free]), eps, rtol=0, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("tol", [1e-3, 1e-6])
def test_nu_svr_iterations_one_for_one(seed, tol):
    """nu-SVR's 2n variables in the gather cache (LIBSVM's SVR_Q), single precision without the
    finish: LIBSVM's iterations one for one."""
    from sklearn.svm import NuSVR
    X, t = _targets(seed)
    sk = NuSVR(nu=0.4, C=2.0, gamma=0.25, tol=tol).fit(X, t)
    coef, b, _, fin = nu_svr(X, t, 0.4, 2.0, tol=tol, single=True, polish=False)
    assert fin["cache_mode"] == "gather"
    assert fin["n_iter"] == np.ravel(sk.n_iter_)[0]
    np.testing.assert_allclose(coef, _sk_coef(sk, len(t)), rtol=0, atol=1e-12)
    assert abs(b - sk.intercept_[0]) <= 1e-12


# --------------------------------------------------------------------------------------
# the engine's options in nu mode
# --------------------------------------------------------------------------------------
OPTIONS = [dict(wss=wss, shrinking=shr, single=single) for wss in (1, 3) for shr in (True, False)
           for single in (False, True)]


@pytest.mark.parametrize("task", ["svc", "svr"])
def test_options_reach_the_same_optimum(task):
    """Working-set selection (WSS1: the maximal violating pair within a class), shrinking and
    the precision of the columns change the path, not the optimum."""
    if task == "svc":
        X, y = _classes(5, n=300)
        runs = [nu_svc(X, y, 0.4, tol=1e-9, **o) for o in OPTIONS]
        results = [(fin, fin["rho"], fin["r"]) for _, _, fin, _ in runs]
    else:
        X, t = _targets(5, n=200)
        runs = [nu_svr(X, t, 0.3, 3.0, tol=1e-9, **o) for o in OPTIONS]
        results = [(fin, fin["rho"], fin["r"]) for _, _, _, fin in runs]
    ref, rho, r = results[OPTIONS.index(dict(wss=3, shrinking=True, single=False))]
    for (fin, rho_o, r_o), o in zip(results, OPTIONS):
        assert fin["status"] == "optimal" and fin["violation"] <= 1e-9, o
        assert abs(fin["obj"] - ref["obj"]) <= 1e-10 * abs(ref["obj"]), o
        assert abs(rho_o - rho) <= 1e-6 * max(1.0, abs(rho)) and abs(r_o - r) <= 1e-6 * abs(r), o
        np.testing.assert_allclose(fin["a"], ref["a"], rtol=0, atol=1e-5 * ref["a"].max())
    shrunk = [fin["n_shrink"] for (fin, _, _), o in zip(results, OPTIONS) if o["shrinking"]]
    assert min(shrunk) > 0


@pytest.mark.parametrize("task", ["svc", "svr"])
def test_threads_and_cache_mode_do_not_change_the_path(task):
    X, y = _classes(6, n=600) if task == "svc" else _targets(6, n=400)
    solver = (lambda **kw: nu_svc(X, y, 0.3, tol=1e-6, **kw)[2]) if task == "svc" else \
        (lambda **kw: nu_svr(X, y, 0.3, 2.0, tol=1e-6, **kw)[3])
    one = solver()
    # the parallel path forced even on short columns (blocks of 256 entries per thread)
    two = solver(n_threads=2, adaptive_threads=False, par_min=16)
    assert two["parallel_columns"] > 0 and two["parallel_scans"] > 0
    assert two["kernel_evals"] == one["kernel_evals"]    # the same cache contents throughout
    variants = [two]
    if task == "svc":
        gather = solver(mode="gather")
        assert gather["cache_mode"] == "gather" and one["cache_mode"] == "permuted"
        variants.append(gather)
    for other in variants:
        np.testing.assert_array_equal(other["a"], one["a"])
        assert other["rho"] == one["rho"] and other["r"] == one["r"]
        assert other["n_iter"] == one["n_iter"] and other["obj"] == one["obj"]


def test_small_cache_does_not_change_the_path():
    X, y = _classes(7, n=300)
    s = np.where(y > 0, 1.0, -1.0)
    a0 = _nu_svc_start(s, np.ones(len(y)), 0.3)
    outs = []
    for cache in (CACHE, 1.0):       # 1 byte: the two full columns kept at least
        eng = SMOEngine(X, "rbf", 0.25, 3, 0.0, np.arange(len(y), dtype=np.int32), s, np.zeros(len(y)),
                        np.ones(len(y)), a0, 1e-6, 3, True, cache, 1, 10**7, nu=True)
        outs.append(_drive(eng, polish=False))
    assert outs[1]["kernel_evals"] > outs[0]["kernel_evals"]
    np.testing.assert_array_equal(outs[0]["a"], outs[1]["a"])
    assert outs[0]["n_iter"] == outs[1]["n_iter"] and outs[0]["rho"] == outs[1]["rho"]


@pytest.mark.parametrize("task", ["svc", "svr"])
@pytest.mark.parametrize("with_grad", [True, False])
def test_warm_start_from_the_answer(task, with_grad):
    """Restarted from its answer (with its gradient: only the two columns of the first
    selection; without: the gradient summed from the columns), the engine stops at once with the
    same answer, rho and r."""
    if task == "svc":
        X, y = _classes(8)
        _, _, fin, _ = nu_svc(X, y, 0.3, tol=1e-6)
        kw = dict(a=fin["a"], grad_ref=fin["grad"] if with_grad else None,
                  a_ref=fin["a"] if with_grad else None)
        _, _, warm, _ = nu_svc(X, y, 0.3, tol=1e-6, **kw)
    else:
        X, t = _targets(8)
        _, _, _, fin = nu_svr(X, t, 0.3, 2.0, tol=1e-6)
        kw = dict(a=fin["a"], grad_ref=fin["grad"] if with_grad else None,
                  a_ref=fin["a"] if with_grad else None)
        _, _, _, warm = nu_svr(X, t, 0.3, 2.0, tol=1e-6, **kw)
    assert warm["status"] == "optimal"
    assert warm["n_iter"] <= (0 if with_grad else 3)
    if with_grad:
        assert warm["kernel_evals"] <= 2 * len(X)
        np.testing.assert_array_equal(warm["a"], fin["a"])
        # (the sums over the free variables run in the shrinking permutation: the last bit moves)
        assert abs(warm["rho"] - fin["rho"]) <= 1e-14 and abs(warm["r"] - fin["r"]) <= 1e-14
    else:
        np.testing.assert_allclose(warm["a"], fin["a"], rtol=0, atol=1e-9)
        assert abs(warm["rho"] - fin["rho"]) <= 1e-9 and abs(warm["r"] - fin["r"]) <= 1e-9


def test_warm_start_far_from_the_reference():
    """A warm start whose gradient is mostly recomputed (the blocked pass over the support
    vectors) reaches the cold start's optimum."""
    X, t = _targets(9, n=200)
    _, _, _, cold = nu_svr(X, t, 0.3, 2.0, tol=1e-8)
    _, _, _, loose = nu_svr(X, t, 0.3, 2.0, tol=1e-1)
    # a_ref = 0 and grad_ref = p: every support vector moved
    n = len(t)
    _, _, _, warm = nu_svr(X, t, 0.3, 2.0, tol=1e-8, a=loose["a"], grad_ref=np.r_[-t, t],
                           a_ref=np.zeros(2 * n))
    assert warm["status"] == "optimal" and warm["violation"] <= 1e-8
    assert abs(warm["obj"] - cold["obj"]) <= 1e-10 * abs(cold["obj"])
    assert abs(warm["rho"] - cold["rho"]) <= 1e-6 and abs(warm["r"] - cold["r"]) <= 1e-6


def test_run_in_steps_and_progress():
    """run(k) resumes where it stopped (the path does not depend on the chunks), progress()
    reports the nu stopping quantity, and max_iter stops the solve."""
    X, y = _classes(10, n=300)
    s = np.where(y > 0, 1.0, -1.0)
    a0 = _nu_svc_start(s, np.ones(len(y)), 0.3)

    def engine(max_iter=10**7):
        return SMOEngine(X, "rbf", 0.25, 3, 0.0, np.arange(len(y), dtype=np.int32), s,
                         np.zeros(len(y)), np.ones(len(y)), a0, 1e-6, 3, True, CACHE, 1, max_iter,
                         nu=True)

    whole = _drive(engine(), polish=False)
    eng = engine()
    seen = []
    while eng.run(7) == "running":
        info = eng.progress()
        seen.append(info["violation"])
        assert info["iteration"] % 7 == 0 and info["active_size"] <= len(y)
    steps = eng.finish()
    np.testing.assert_array_equal(steps["a"], whole["a"])
    assert steps["n_iter"] == whole["n_iter"] and steps["rho"] == whole["rho"]
    assert seen[0] > 1e-6 and all(v > 0 for v in seen)
    # the violation is the larger of the classes' m(a) - M(a) (here from finish's gradient)
    G, a = whole["grad"], whole["a"]
    viol = []
    for c in (1.0, -1.0):
        m = s == c
        up = m & ((a < 1.0) if c > 0 else (a > 0.0))
        low = m & ((a > 0.0) if c > 0 else (a < 1.0))
        viol.append(np.max(-s[up] * G[up]) + np.max(s[low] * G[low]))
    assert whole["violation"] == max(max(viol), 0.0)
    capped = engine(max_iter=20)
    assert capped.run(1000) == "max_iter" and capped.n_iter == 20


def test_nu_false_is_the_c_svc_solver():
    """nu=False (the default) is LIBSVM's Solver, bit for bit, with r = NaN."""
    X, y = _classes(11)
    n = len(y)
    args = (X, "rbf", 0.25, 3, 0.0, np.arange(n, dtype=np.int32), y, -np.ones(n), np.ones(n),
            np.zeros(n), 1e-6, 3, True, CACHE, 1, 10**7)
    default = _drive(SMOEngine(*args), polish=False)
    explicit = _drive(SMOEngine(*args, nu=False), polish=False)
    assert np.isnan(default["r"]) and np.isnan(explicit["r"])
    np.testing.assert_array_equal(default["a"], explicit["a"])
    assert default["rho"] == explicit["rho"] and default["n_iter"] == explicit["n_iter"]
    res = solve_svc(X, y, 1.0, kernel=Kernel("rbf", gamma=0.25), tol=1e-6, precision="double")
    np.testing.assert_array_equal(res.a, default["a"])
    assert res.b == -default["rho"]


def test_nu_svc_equals_c_svc_at_c_equal_one_over_r():
    """LIBSVM's theorem: the nu-SVC answer rescaled by 1/r solves C-SVC with C = 1/r."""
    X, y = _classes(12)
    coef, b, fin, _ = nu_svc(X, y, 0.35, tol=1e-10)
    res = solve_svc(X, y, 1.0 / fin["r"], kernel=Kernel("rbf", gamma=0.25), tol=1e-10)
    np.testing.assert_allclose(res.coef, coef, rtol=0, atol=1e-6 * np.abs(coef).max())
    assert abs(res.b - b) <= 1e-6


# --------------------------------------------------------------------------------------
# the sigmoid kernel
# --------------------------------------------------------------------------------------
def test_sigmoid_kernel_values():
    from sklearn.metrics.pairwise import sigmoid_kernel
    rng = np.random.default_rng(13)
    X, Z = rng.normal(size=(40, 5)), rng.normal(size=(9, 5))
    k = Kernel("sigmoid", gamma=0.3, coef0=-0.5)
    np.testing.assert_allclose(k(X), sigmoid_kernel(X, gamma=0.3, coef0=-0.5), rtol=0, atol=1e-15)
    np.testing.assert_allclose(k(X, Z), sigmoid_kernel(Z, X, gamma=0.3, coef0=-0.5), rtol=0, atol=1e-15)
    np.testing.assert_allclose(k.diag(X), np.diag(sigmoid_kernel(X, gamma=0.3, coef0=-0.5)), rtol=0,
                               atol=1e-15)
    v = rng.normal(size=40)
    np.testing.assert_allclose(k.matvec(X, v), sigmoid_kernel(X, gamma=0.3, coef0=-0.5) @ v,
                               rtol=0, atol=1e-13)
    np.testing.assert_allclose(k.matvec(X, v, Z), sigmoid_kernel(Z, X, gamma=0.3, coef0=-0.5) @ v,
                               rtol=0, atol=1e-13)
    # values stay in [-1, 1] where gamma <x, z> leaves the float range
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = Kernel("sigmoid", gamma=1e300)(X * 1e5)
    assert np.all(np.abs(big) <= 1.0)
    assert "sigmoid" in repr(k)


@pytest.mark.parametrize("nu", [False, True])
def test_sigmoid_engine_gradient_equals_the_gram_matrix(nu):
    """The engine's sigmoid kernel values are Kernel("sigmoid")'s: the start gradient Q a + p,
    from the blocked pass over the support vectors (nu=False, a start without reference) or
    from the kernel columns (nu=True), equals the one from the Gram matrix; and the solve on
    the Gram matrix given as precomputed reaches the same optimum."""
    X, y = _classes(14)
    n = len(y)
    K = Kernel("sigmoid", gamma=0.3, coef0=0.1)(X)
    a = _nu_svc_start(y, np.ones(n), 0.4)
    args = (np.arange(n, dtype=np.int32), y, -np.ones(n), np.ones(n), a, 1e-8, 3, True, CACHE, 1)
    fin = SMOEngine(X, "sigmoid", 0.3, 3, 0.1, *args, 10**7, nu=nu).finish()
    np.testing.assert_allclose(fin["grad"], y * (K @ (y * a)) - 1.0, rtol=0, atol=1e-12 * n)
    outs = [_drive(SMOEngine(data, name, 0.3, 3, 0.1, *args, 10**7, nu=nu), polish=False)
            for data, name in ((X, "sigmoid"), (K, "precomputed"))]
    assert outs[0]["status"] == outs[1]["status"] == "optimal"
    assert abs(outs[0]["obj"] - outs[1]["obj"]) <= 1e-10 * abs(outs[1]["obj"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sigmoid_svc_matches_sklearn(seed):
    """C-SVC with the sigmoid kernel (nearly positive semi-definite at this gamma): the dual
    objective and the predictions of scikit-learn's SVC(kernel="sigmoid")."""
    from sklearn.svm import SVC
    X, y = _classes(seed)
    k = Kernel("sigmoid", gamma=0.02, coef0=0.0)
    sk = SVC(kernel="sigmoid", gamma=0.02, coef0=0.0, C=1.0, tol=1e-6).fit(X, y)
    res = solve_svc(X, y, 1.0, kernel=k, tol=1e-6)
    assert res.status == "optimal"
    K = k(X)
    a_sk = np.zeros(len(y))
    a_sk[sk.support_] = np.abs(sk.dual_coef_[0])

    def dual(a):
        return a.sum() - 0.5 * (y * a) @ K @ (y * a)

    assert abs(dual(res.a) - dual(a_sk)) <= 1e-9 * abs(dual(a_sk))
    assert abs(res.dual_objective - dual(res.a)) <= 1e-10 * abs(dual(res.a))
    np.testing.assert_array_equal(np.sign(K @ res.coef + res.b), sk.predict(X))
    assert abs(res.b - sk.intercept_[0]) <= 1e-5


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("coef0", [0.0, -0.2])
def test_sigmoid_iterations_one_for_one(seed, coef0):
    """Sigmoid columns in single precision on LIBSVM's order: LIBSVM's iterations, also where the
    kernel is far from positive semi-definite (coef0 < 0, gamma larger: the tau guard)."""
    from sklearn.svm import SVC
    X, y = _classes(seed)
    gamma = 0.02 if coef0 == 0.0 else 0.05
    k = Kernel("sigmoid", gamma=gamma, coef0=coef0)
    sk = SVC(kernel="sigmoid", gamma=gamma, coef0=coef0, C=1.0, tol=1e-3).fit(X, y)
    order = _libsvm_order(y)
    res = _solve_problem(SVMProblem(X[order], -y[order], k, "svc", C=1.0), tol=1e-3, _qfloat=True)
    assert res.n_iter == sk.n_iter_[0]
    np.testing.assert_allclose(-res.coef, _sk_coef(sk, len(y))[order], rtol=0, atol=1e-10)
    assert abs(-res.b - sk.intercept_[0]) <= 1e-10


def test_sigmoid_nu_svc_matches_sklearn():
    from sklearn.svm import NuSVC
    X, y = _classes(15)
    sk = NuSVC(nu=0.3, kernel="sigmoid", gamma=0.02, coef0=0.0, tol=1e-3).fit(X, y)
    order = _libsvm_order(y)
    coef, b, fin, _ = nu_svc(X[order], -y[order], 0.3, kernel="sigmoid", tol=1e-3, single=True,
                             polish=False)
    assert fin["n_iter"] == sk.n_iter_[0]
    coef_sk = _sk_coef(sk, len(y))[order]       # 1 / r ~ 1e4 at this small gamma
    np.testing.assert_allclose(-coef, coef_sk, rtol=0, atol=1e-12 * np.abs(coef_sk).max())
    assert abs(-b - sk.intercept_[0]) <= 1e-12 * max(1.0, abs(sk.intercept_[0])) * np.abs(coef_sk).max()
