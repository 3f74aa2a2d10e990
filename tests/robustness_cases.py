"""Bad and edge-case inputs for every public entry point, and the runner that tries each one in a
child process of its own (``python tests/robustness_cases.py``; used by test_robustness.py).

A case is a callable that builds its inputs and calls one entry point, with what must happen:

- ``bad(...)``: an exception of the allowed types (ValueError or TypeError unless said otherwise)
  whose message matches ``match`` (it names the argument or the property at fault);
- ``ok(...)``: the call returns, and ``check(value)`` (run in the child) holds: a finite answer,
  checked (certified, compared, or equal to what it must be).

The runner forks one child per case from a process that has imported glopt and its dependencies
but run nothing (no OpenMP or BLAS thread pool exists before the fork), so a segfault, a hang
(timeout) or an internal error in one case is recorded for that case and the others go on.
"""
from __future__ import annotations

import json
import os
import re
import select
import signal
import sys
import time
import traceback
import warnings

import numpy as np

CASES: dict = {}
VT = (ValueError, TypeError)


def bad(name, fn, match, types=VT):
    if name in CASES:
        raise KeyError(f"duplicate case {name}")
    CASES[name] = dict(fn=fn, kind="bad", match=match, types=types)


def ok(name, fn, check=None):
    if name in CASES:
        raise KeyError(f"duplicate case {name}")
    CASES[name] = dict(fn=fn, kind="ok", check=check)


# --------------------------------------------------------------------------------------------
# data (built inside the child)
# --------------------------------------------------------------------------------------------
def toy(n=40, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.where(X @ rng.normal(size=d) + 0.3 * rng.normal(size=n) > 0, 1.0, -1.0)
    return X, y


def toyr(n=40, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, X @ rng.normal(size=d) + 0.1 * rng.normal(size=n)


def toy3(n=60, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, np.argmax(X @ rng.normal(size=(d, 3)), axis=1)


def with_nan(X):
    X = np.array(X, dtype=float)
    X.flat[1] = np.nan
    return X


def with_inf(X):
    X = np.array(X, dtype=float)
    X.flat[2] = np.inf
    return X


def sparse(X):
    import scipy.sparse as sp

    return sp.csr_matrix(X)


def problem(task="svc", **kw):
    from glopt.kernels import Kernel
    from glopt.problem import SVMProblem

    X, y = toy() if task == "svc" else toyr()
    kw.setdefault("kernel", Kernel("rbf", gamma=0.5))
    return SVMProblem(X, y, task=task, **kw)


def indefinite_gram(n=30):
    X, y = toy(n)
    K = X @ X.T
    K -= 3.0 * np.eye(n) * np.abs(np.linalg.eigvalsh(K)).max()
    return K, y


# --------------------------------------------------------------------------------------------
# checks (run in the child on the returned value)
# --------------------------------------------------------------------------------------------
def finite(value):
    arrays = value if isinstance(value, tuple) else (value,)
    return all(np.all(np.isfinite(np.asarray(a, dtype=float))) for a in arrays)


def certified(tol=1e-6):
    def check(res):
        from glopt.certify import certify

        pr = res.extra["_problem"]
        cert = certify(res, pr)
        assert res.status == "optimal", res.status
        assert finite((res.a, res.coef, res.b, res.dual_objective)), "not finite"
        assert cert.ok(tol), str(cert)
        return True
    return check


def fitted_ok(X_eval=None):
    """A fitted glopt estimator: finite predictions, and its own promise (certified_) kept."""
    def check(est):
        import glopt.estimators as E

        X = X_eval if X_eval is not None else est._robust_X
        out = est.predict(X)
        assert out.shape[0] == X.shape[0]
        if hasattr(est, "decision_function"):
            assert finite(est.decision_function(X))
        if isinstance(est, (E.GLSVC, E.GLSVR)):
            assert all(np.all(np.isfinite([c.primal, c.dual, c.kkt_violation])) for c in est.certificate_)
            assert np.all(est.certified_) or est._robust_warned, "uncertified without a warning"
        return True
    return check


def solve_with_problem(solver, pr, **kw):
    res = solver(pr, **kw)
    res.extra["_problem"] = pr
    return res


def fit_recording(est, X, y=None, **kw):
    """est.fit(X, y) recording whether a ConvergenceWarning was raised (for fitted_ok)."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        est.fit(X, y, **kw) if y is not None else est.fit(X, **kw)
    est._robust_warned = any(issubclass(x.category, ConvergenceWarning) for x in w)
    est._robust_X = X
    return est


# --------------------------------------------------------------------------------------------
# SVMProblem
# --------------------------------------------------------------------------------------------
def _sparse_gram_problem():
    from glopt.kernels import Kernel
    from glopt.problem import SVMProblem

    X, y = toy()
    return SVMProblem(sparse(X @ X.T), y, Kernel("precomputed"))


def _problem_cases():
    from_x = {
        "nan": (with_nan, r"X .*NaN"), "inf": (with_inf, r"X .*(NaN|infinity)"),
        "complex": (lambda X: X + 1j, r"X .*(complex|real)"),
        "strings": (lambda X: X.astype(str).astype(object) + "a", r"X .*numeric"),
        "none": (lambda X: None, r"X "), "1d": (lambda X: X[:, 0], r"X .*2-dimensional"),
        "3d": (lambda X: X[:, :, None], r"X .*2-dimensional"), "empty": (lambda X: X[:0], r"X .*empty"),
        "huge": (lambda X: X * 1e300, r"X .*(overflow|scale)"),
        "object_lists": (lambda X: [[1, "a", 2]] * X.shape[0], r"X .*numeric"),
    }
    for key, (f, m) in from_x.items():
        bad(f"problem/X-{key}", lambda f=f: problem_from(X=f), m)
    # sparse inputs are kernel data (CSR); a sparse Gram matrix is not
    ok("problem/X-sparse", lambda: problem_from(X=sparse), lambda pr: pr.X.format == "csr")
    bad("problem/X-sparse-gram", lambda: _sparse_gram_problem(), r"(sparse|precomputed)",
        types=(TypeError, ValueError))
    from_y = {
        "nan": (lambda y: np.where(np.arange(y.size) == 3, np.nan, y), r"y .*NaN"),
        "01": (lambda y: (y > 0).astype(float), r"y .*\{-1, \+1\}"),
        "three": (lambda y: np.arange(y.size) % 3 - 1.0, r"y .*\{-1, \+1\}"),
        "single": (lambda y: np.ones_like(y), r"y .*single class"),
        "short": (lambda y: y[:-1], r"y .*rows"), "complex": (lambda y: y + 0j, r"y .*(complex|real)"),
        "strings": (lambda y: np.where(y > 0, "a", "b"), r"y .*numeric"),
        "2d": (lambda y: y[:, None], r"y .*1-dimensional"),
    }
    for key, (f, m) in from_y.items():
        bad(f"problem/y-{key}", lambda f=f: problem_from(y=f), m)
    for key, C in {"zero": 0.0, "neg": -1.0, "nan": np.nan, "inf": np.inf, "str": "1", "bool": True,
                   "none": None, "complex": 1 + 1j}.items():
        bad(f"problem/C-{key}", lambda C=C: problem(C=C), r"\bC\b")
    for key, e in {"neg": -0.1, "nan": np.nan, "str": "0.1"}.items():
        bad(f"problem/epsilon-{key}", lambda e=e: problem("svr", epsilon=e), r"epsilon")
    n = 40
    for key, w in {"zero": np.r_[0.0, np.ones(n - 1)], "neg": -np.ones(n), "nan": np.full(n, np.nan),
                   "short": np.ones(n - 2), "2d": np.ones((n, 2))}.items():
        bad(f"problem/weights-{key}", lambda w=w: problem(weights=w), r"weights")
    for key, p in {"three": 3, "str": "1", "bool": True, "float": 1.5}.items():
        bad(f"problem/p-{key}", lambda p=p: problem(p=p), r"\bp\b")
    bad("problem/task-bad", lambda: problem(task="svm"), r"task")
    bad("problem/kernel-string", lambda: problem(kernel="rbf"), r"kernel")
    bad("problem/S-with-p1", lambda: problem(S=np.eye(40)), r"S .*p=2")
    bad("problem/S-not-psd", lambda: problem(p=2, S=np.ones((40, 40)) - 2 * np.eye(40)),
        r"S .*positive semi-definite")
    bad("problem/S-shape", lambda: problem(p=2, S=np.eye(39)), r"S .*samples")
    bad("problem/S-nan", lambda: problem(p=2, S=with_nan(np.eye(40))), r"S .*NaN")
    bad("problem/S-complex", lambda: problem(p=2, S=np.eye(40) + 0j), r"S .*(complex|real)")
    bad("problem/S-asym", lambda: problem(p=2, S=np.eye(40) + np.triu(np.full((40, 40), 0.1), 1)),
        r"S .*symmetric")
    bad("problem/poly-degree-400", lambda: problem(kernel=kernel("poly", gamma=1.0, degree=400, coef0=1.0)),
        r"(X|kernel).*(overflow|scale)")
    bad("problem/precomputed-not-square", lambda: problem_from(X=lambda X: X @ X.T[:, :-1], kernel=kernel("precomputed")),
        r"X .*square")
    bad("problem/precomputed-asym", lambda: problem_from(X=lambda X: X @ X.T + np.triu(np.ones((40, 40)), 1),
                                                         kernel=kernel("precomputed")), r"X .*symmetric")
    bad("problem/precomputed-indefinite", lambda: precomputed_problem(indefinite_gram(40)[0]),
        r"X .*positive semi-definite")
    ok("problem/tiny-scale", lambda: solve_with_problem(smo_solve, problem_from(X=lambda X: X * 1e-300)),
       certified())
    ok("problem/float32-fortran", lambda: solve_with_problem(
        smo_solve, problem_from(X=lambda X: np.asfortranarray(X.astype(np.float32)))), certified())
    ok("problem/int-X", lambda: solve_with_problem(smo_solve, problem_from(X=lambda X: np.round(3 * X).astype(int))),
       certified())


def kernel(name="rbf", **kw):
    from glopt.kernels import Kernel

    return Kernel(name, **kw)


def problem_from(X=None, y=None, task="svc", **kw):
    from glopt.problem import SVMProblem

    X0, y0 = toy() if task == "svc" else toyr()
    kw.setdefault("kernel", kernel("rbf", gamma=0.5))
    return SVMProblem(X0 if X is None else X(X0), y0 if y is None else y(y0), task=task, **kw)


def precomputed_problem(K, task="svc"):
    from glopt.problem import SVMProblem

    _, y = toy(K.shape[0])
    return SVMProblem(K, y, kernel("precomputed"), task)


def smo_solve(pr, **kw):
    from glopt import smo

    kw.setdefault("tol", 1e-8)
    return smo.solve(pr, **kw)


# --------------------------------------------------------------------------------------------
# kernels and correlations
# --------------------------------------------------------------------------------------------
def _kernel_cases():
    for key, kw in {"name": dict(name="laplacian"), "gamma-zero": dict(gamma=0.0), "gamma-neg": dict(gamma=-1.0),
                    "gamma-nan": dict(gamma=np.nan), "gamma-inf": dict(gamma=np.inf), "gamma-str": dict(gamma="1"),
                    "gamma-bool": dict(gamma=True), "degree-zero": dict(name="poly", degree=0),
                    "degree-float": dict(name="poly", degree=1.5), "degree-bool": dict(name="poly", degree=True),
                    "degree-str": dict(name="poly", degree="3"), "coef0-nan": dict(coef0=np.nan),
                    "coef0-str": dict(coef0="1"), "coef0-complex": dict(coef0=1j), "name-none": dict(name=None)}.items():
        arg = key.split("-")[0]
        bad(f"kernel/{key}", lambda kw=kw: kernel(**kw), rf"\b{'kernel' if arg == 'name' else arg}\b")
    bad("kernel/call-1d", lambda: kernel()(np.ones(3)), r"X .*2-dimensional")
    bad("kernel/call-strings", lambda: kernel()(np.array([["a", "b"]])), r"X .*numeric")
    bad("kernel/call-Z-features", lambda: kernel()(np.ones((4, 3)), np.ones((2, 2))), r"Z .*features")
    bad("kernel/call-nan", lambda: kernel()(with_nan(np.ones((4, 3)))), r"X .*NaN")
    bad("kernel/call-huge", lambda: kernel("linear")(np.ones((4, 3)) * 1e300), r"X .*(overflow|scale)")
    bad("kernel/matvec-length", lambda: kernel().matvec(np.ones((4, 3)), np.ones(5)), r"v must have one entry")
    bad("kernel/matvec-nan", lambda: kernel().matvec(np.ones((4, 3)), np.array([1.0, np.nan, 0, 0])), r"v .*NaN")
    bad("kernel/matvec-Z-features", lambda: kernel().matvec(np.ones((4, 3)), np.ones(4), Z=np.ones((2, 5))),
        r"Z .*features")
    bad("kernel/diag-1d", lambda: kernel().diag(np.ones(3)), r"X .*2-dimensional")
    bad("kernel/precomputed-Z-range", lambda: kernel("precomputed")(np.eye(4), np.array([0, 7])), r"Z .*(range|index)")
    bad("kernel/precomputed-Z-float", lambda: kernel("precomputed")(np.eye(4), np.array([0.5])), r"Z .*(integer|index)")

    def unit_diag(K):
        assert np.all(np.diag(K) == 1.0), np.diag(K)[:5]
        return True
    ok("kernel/rbf-huge-gamma-diag", lambda: kernel("rbf", gamma=1e13)(toy(30, 7)[0] * 3.7), unit_diag)
    ok("kernel/rbf-matvec-huge-gamma", lambda: kernel("rbf", gamma=1e13).matvec(toy(30, 7)[0] * 3.7, np.ones(30)),
       lambda v: bool(np.all(v == 1.0)))

    from_x = {"nan": (with_nan, r"X .*NaN"), "inf": (with_inf, r"X .*(NaN|infinity)"),
              "complex": (lambda X: X + 1j, r"X .*(complex|real)"), "huge": (lambda X: X * 1e300, r"X .*(overflow|scale)"),
              "1d": (lambda X: X[:, 0], r"X .*2-dimensional")}
    for key, (f, m) in from_x.items():
        bad(f"correlation/X-{key}", lambda f=f: correlation(X=f(toy()[0])), m)
    ok("correlation/X-sparse", lambda: correlation(X=sparse(toy()[0])).dense(),
       lambda S: bool(np.all(np.diag(S) == 1.0)))
    for key, kw in {"s_kernel": dict(s_kernel="X"), "gamma_s-zero": dict(gamma_s=0.0),
                    "gamma_s-neg": dict(gamma_s=-1.0), "gamma_s-nan": dict(gamma_s=np.nan),
                    "gamma_s-str": dict(gamma_s="scale"), "nu": dict(s_kernel="M", nu=1.0),
                    "alpha": dict(s_kernel="Q", alpha=0.0), "max_bytes-zero": dict(max_bytes=0),
                    "max_bytes-nan": dict(max_bytes=np.nan), "n_jobs-zero": dict(n_jobs=0),
                    "n_jobs-float": dict(n_jobs=1.5), "n_jobs-str": dict(n_jobs="2"), "n_jobs-bool": dict(n_jobs=True),
                    "y-nan": dict(y=np.where(np.arange(40) == 2, np.nan, 1.0)), "y-short": dict(y=np.ones(39)),
                    "y-2d": dict(y=np.ones((40, 2)))}.items():
        arg = key.split("-")[0]
        bad(f"correlation/{key}", lambda kw=kw: correlation(**kw), rf"\b{arg}\b")
    bad("correlation/matmul-length", lambda: correlation() @ np.ones(39), r"(v|vector) .*length|cannot multiply")
    bad("correlation/matmul-nan", lambda: correlation() @ np.full(40, np.nan), r"v .*NaN")
    bad("correlation/matmul-strings", lambda: correlation() @ np.array(["a"] * 40), r"v .*numeric")
    bad("correlation/block-range", lambda: correlation().block(np.array([0, 99])), r"rows .*range")
    ok("correlation/n_jobs-huge", lambda: (correlation(n_jobs=100000) @ np.ones(40), correlation().dense().sum(1)),
       lambda v: bool(np.allclose(v[0], v[1], rtol=1e-12)))
    ok("correlation/identity-ones", lambda: correlation(s_kernel="I") @ np.ones(40),
       lambda v: bool(np.all(v == 1.0)))
    ok("correlation/duplicates-unit", lambda: correlation(X=np.repeat(toy(5, 6)[0] * 3.3, 8, axis=0), gamma_s=1e12).dense(),
       lambda S: bool(np.all(S[np.repeat(np.arange(5), 8)[:, None] == np.repeat(np.arange(5), 8)[None, :]] == 1.0)))
    ok("correlation/mask-agrees", lambda: mask_agreement(), lambda v: bool(v))

    for key, kw in {"n_components-zero": dict(n_components=0), "n_components-float": dict(n_components=1.5),
                    "n_components-bool": dict(n_components=True), "s_kernel": dict(s_kernel="I"),
                    "random_state": dict(random_state="seed")}.items():
        arg = key.split("-")[0]
        bad(f"rff/{key}", lambda kw=kw: rff(**kw), rf"\b{arg}\b")
    bad("rff/X-nan", lambda: rff(X=with_nan(toy()[0])), r"X .*NaN")
    bad("median/one-row", lambda: median(np.ones((1, 3))), r"X .*(two|distinct)")
    bad("median/all-equal", lambda: median(np.ones((5, 3))), r"X .*distinct")
    bad("median/max_samples", lambda: median(toy()[0], max_samples=0), r"max_samples")
    bad("median/nan", lambda: median(with_nan(toy()[0])), r"X .*NaN")
    bad("check_S/psd_tol-nan", lambda: check_S(np.eye(3) - 2 * np.diag([0, 0, 1]), psd_tol=np.nan), r"psd_tol")
    bad("check_S/psd_tol-neg", lambda: check_S(np.eye(3), psd_tol=-1.0), r"psd_tol")
    bad("check_S/complex", lambda: check_S(np.eye(3) + 0.5j), r"S .*(complex|real)")
    bad("check_S/not-psd", lambda: check_S(np.ones((3, 3)) - 2 * np.eye(3)), r"S .*positive semi-definite")
    bad("check_S/strings", lambda: check_S(np.array([["a"]])), r"S .*numeric")
    bad("correlation_matrix/nan", lambda: corr_matrix(with_nan(toy()[0])), r"X .*NaN")
    bad("psd_factor/nan", lambda: psd_fac(with_nan(np.eye(3))), r"M .*NaN")
    bad("psd_factor/shape", lambda: psd_fac(np.ones((2, 3))), r"M .*square")
    bad("squared_distances/shape", lambda: sqdist(np.ones((3, 2)), np.ones((3, 4))), r"Z .*features")


def correlation(X=None, s_kernel="G", gamma_s=0.5, **kw):
    from glopt.kernels import Correlation

    return Correlation(toy()[0] if X is None else X, s_kernel, gamma_s, **kw)


def mask_agreement():
    from glopt.kernels import Correlation

    X = toy()[0]
    y = np.array(["a", "b"] * 20, dtype=object)
    S = Correlation(X, "G", 0.5, y=y)
    return np.allclose(S.dense() @ np.arange(40.0), S @ np.arange(40.0), rtol=1e-12)


def rff(X=None, s_kernel="G", **kw):
    from glopt.kernels import RandomFeatureCorrelation

    return RandomFeatureCorrelation(toy()[0] if X is None else X, s_kernel, 0.5, **kw)


def median(X, **kw):
    from glopt.kernels import median_sq_distance

    return median_sq_distance(X, **kw)


def check_S(S, **kw):
    from glopt.kernels import check_correlation_matrix

    return check_correlation_matrix(S, **kw)


def corr_matrix(X):
    from glopt.kernels import correlation_matrix

    return correlation_matrix(X, "G", 0.5)


def psd_fac(M):
    from glopt.kernels import psd_factor

    return psd_factor(M)


def sqdist(X, Z):
    from glopt.kernels import squared_distances

    return squared_distances(X, Z)


# --------------------------------------------------------------------------------------------
# losses (numpy)
# --------------------------------------------------------------------------------------------
def _loss_cases():
    def gl(xi, S=None, **kw):
        from glopt.losses import generalized_loss

        return generalized_loss(xi, np.eye(4) if S is None else S, **kw)

    def mw(xi, S=None, **kw):
        from glopt.losses import mm_weights

        return mm_weights(xi, np.eye(4) if S is None else S, **kw)

    def grad(xi, S=None, **kw):
        from glopt.losses import generalized_loss_grad

        return generalized_loss_grad(xi, np.eye(4) if S is None else S, **kw)

    bad("losses/xi-negative", lambda: gl(np.array([1.0, -1, 0, 0])), r"xi .*nonnegative")
    bad("losses/xi-nan", lambda: gl(np.array([1.0, np.nan, 0, 0])), r"xi .*NaN")
    bad("losses/S-shape", lambda: gl(np.ones(4), np.eye(3)), r"S .*shape")
    bad("losses/S-list", lambda: gl(np.ones(4), [[1.0]]), r"\bS\b")
    bad("losses/p-three", lambda: gl(np.ones(4), p=3), r"\bp\b")
    bad("losses/eps-neg", lambda: gl(np.ones(4), eps=-1.0), r"eps")
    bad("losses/weights-eps-zero", lambda: mw(np.ones(4), eps=0.0), r"eps")
    bad("losses/grad-xi-2d", lambda: grad(np.ones((4, 1))), r"xi .*1-dimensional")
    ok("losses/zero-slack-p1-grad", lambda: grad(np.zeros(4), p=1), lambda g: bool(np.all(np.isinf(g))))
    ok("losses/identity-is-sum", lambda: gl(np.array([1.0, 2, 0, 3])), lambda v: v == 6.0)


# --------------------------------------------------------------------------------------------
# the SMO
# --------------------------------------------------------------------------------------------
def svc(X=None, y=None, C=1.0, **kw):
    from glopt.smo import solve_svc

    X0, y0 = toy()
    kw.setdefault("kernel", kernel("rbf", gamma=0.5))
    return solve_svc(X0 if X is None else X, y0 if y is None else y, C, **kw)


def svc_checked(X=None, y=None, C=1.0, **kw):
    from glopt.problem import SVMProblem

    X0, y0 = toy()
    X, y = (X0 if X is None else X), (y0 if y is None else y)
    kw.setdefault("kernel", kernel("rbf", gamma=0.5))
    kw.setdefault("tol", 1e-8)
    res = svc(X, y, C, **kw)
    res.extra["_problem"] = SVMProblem(X, y, kw["kernel"], "svc", C=C, weights=kw.get("weights"))
    return res


def _smo_cases():
    for key, kw in {"n_jobs-zero": dict(n_jobs=0), "n_jobs-bool": dict(n_jobs=True), "n_jobs-str": dict(n_jobs="2"),
                    "n_jobs-float": dict(n_jobs=1.5), "tol-zero": dict(tol=0.0), "tol-neg": dict(tol=-1e-3),
                    "tol-nan": dict(tol=np.nan), "tol-tiny": dict(tol=1e-300), "tol-subeps": dict(tol=1e-17),
                    "tol-bool": dict(tol=True), "wss-two": dict(wss=2), "wss-bool": dict(wss=True),
                    "shrinking-str": dict(shrinking="no"), "shrinking-int": dict(shrinking=2),
                    "shrinking-none": dict(shrinking=None), "cache_size-zero": dict(cache_size=0),
                    "cache_size-nan": dict(cache_size=np.nan), "cache_size-bool": dict(cache_size=True),
                    "max_iter-zero": dict(max_iter=0), "max_iter-float": dict(max_iter=1.5),
                    "max_iter-bool": dict(max_iter=True), "max_iter-neg": dict(max_iter=-5),
                    "callback-str": dict(callback="print"), "callback_every-zero": dict(callback_every=0),
                    "precision-half": dict(precision="half"), "a0-length": dict(a0=np.zeros(5)),
                    "a0-nan": dict(a0=np.full(40, np.nan)), "grad0-alone": dict(grad0=np.zeros(40)),
                    "grad0-length": dict(a0=np.zeros(40), grad0=np.zeros(3)), "weights-zero": dict(weights=np.zeros(40)),
                    "kernel-str": dict(kernel="rbf"), "verbose-str": dict(verbose="yes")}.items():
        arg = key.split("-")[0]
        bad(f"smo/{key}", lambda kw=kw: svc(**kw), rf"\b{arg}\b")
    ok("smo/X-sparse", lambda: svc(X=sparse(toy()[0])), lambda r: r.status == "optimal")
    bad("smo/X-huge", lambda: svc(X=toy()[0] * 1e300), r"X .*(overflow|scale)")
    bad("smo/X-huge-linear", lambda: svc(X=toy()[0] * 1e160, kernel=kernel("linear")), r"X .*(overflow|scale)")
    bad("smo/poly-overflow", lambda: svc(kernel=kernel("poly", gamma=10.0, degree=400, coef0=1.0)),
        r"(X|kernel).*(overflow|scale)")
    bad("smo/X-nan", lambda: svc(X=with_nan(toy()[0])), r"X .*NaN")
    bad("smo/y-01", lambda: svc(y=(toy()[1] > 0).astype(float)), r"y .*\{-1, \+1\}")
    bad("smo/precomputed-indefinite", lambda: svc(*indefinite_gram(40), kernel=kernel("precomputed")),
        r"X .*positive semi-definite")
    bad("smo/solve-not-problem", lambda: smo_solve({"X": 1}), r"problem")
    bad("smo/solve-unknown-option", lambda: smo_solve(problem(), foo=1), r"foo")
    bad("smo/solve-p2", lambda: smo_solve(problem(p=2)), r"p=2|p = 2|\bp\b")
    bad("smo/svr-epsilon-neg", lambda: svr(epsilon=-1.0), r"epsilon")
    bad("smo/svr-y-nan", lambda: svr(y=with_nan(toyr()[1])), r"y .*NaN")
    bad("smo/svr-X-huge", lambda: svr(X=toyr()[0] * 1e300), r"X .*(overflow|scale)")
    ok("smo/n_jobs-huge", lambda: svc_checked(n_jobs=100000), certified())
    ok("smo/n_jobs-minus-huge", lambda: svc_checked(n_jobs=-100000), certified())
    ok("smo/rbf-gamma-1e13-single", lambda: svc_checked(kernel=kernel("rbf", gamma=1e13), tol=1e-8), certified(1e-7))
    ok("smo/rbf-gamma-1e13-double", lambda: svc_checked(kernel=kernel("rbf", gamma=1e13), tol=1e-8, precision="double"),
       certified(1e-7))
    ok("smo/rbf-gamma-1e13-scaled-X", lambda: svc_checked(X=toy(40, 7)[0] * 37.0, kernel=kernel("rbf", gamma=1e13), tol=1e-8),
       certified(1e-7))
    ok("smo/huge-C", lambda: svc_checked(C=1e8, tol=1e-6), lambda r: finite((r.a, r.b)) and r.status in ("optimal", "max_iter"))
    ok("smo/tiny-C", lambda: svc_checked(C=1e-12), certified())
    ok("smo/two-samples", lambda: svc_checked(X=np.array([[0.0], [1.0]]), y=np.array([-1.0, 1.0])), certified())
    ok("smo/duplicates-opposite-labels", lambda: svc_checked(X=np.zeros((6, 2)), y=np.array([1.0, -1] * 3)), certified())
    ok("smo/tiny-X", lambda: svc_checked(X=toy()[0] * 1e-300), certified())
    ok("smo/one-vs-many", lambda: svc_checked(y=np.r_[1.0, -np.ones(39)]), certified())
    ok("smo/precomputed-psd", lambda: svc_checked(X=toy()[0] @ toy()[0].T, kernel=kernel("precomputed")), certified())
    ok("smo/poly", lambda: svc_checked(kernel=kernel("poly", gamma=0.3, degree=3, coef0=1.0)), certified())
    ok("smo/linear", lambda: svc_checked(kernel=kernel("linear")), certified())
    ok("smo/list-input", lambda: svc_checked(X=toy()[0].tolist(), y=toy()[1].tolist()), certified())
    _dc_cases()


def dc_checked(X=None, y=None, **kw):
    from glopt.problem import SVMProblem
    from glopt.smo import solve_dc

    X0, y0 = toy()
    pr = SVMProblem(X0 if X is None else X, y0 if y is None else y, kernel("rbf", gamma=0.5), "svc")
    kw.setdefault("tol", 1e-8)
    res = solve_dc(pr, **kw)
    res.extra["_problem"] = pr
    return res


def _dc_cases():
    from glopt.smo import solve_dc

    bad("dc/not-problem", lambda: solve_dc({"X": 1}), r"problem")
    bad("dc/unknown-option", lambda: solve_dc(problem(), foo=1), r"foo")
    bad("dc/a0", lambda: solve_dc(problem(), a0=np.zeros(40)), r"a0")
    bad("dc/tol-neg", lambda: solve_dc(problem(), tol=-1.0), r"\btol\b")
    for key, kw in {"n_clusters-zero": dict(n_clusters=0), "n_clusters-float": dict(n_clusters=2.0),
                    "n_clusters-bool": dict(n_clusters=True), "n_clusters-huge": dict(n_clusters=10**9),
                    "sample_size-one": dict(n_clusters=2, sample_size=1), "random_state-none": dict(random_state=None),
                    "cluster_jobs-zero": dict(cluster_jobs=0), "cluster_jobs-str": dict(cluster_jobs="2")}.items():
        bad(f"dc/{key}", lambda kw=kw: solve_dc(problem(), **kw), rf"\b{key.split('-')[0]}\b")
    bad("dc/precomputed", lambda: solve_dc(precomputed_problem(toy()[0] @ toy()[0].T), n_clusters=2),
        r"precomputed")
    ok("dc/duplicates", lambda: dc_checked(X=np.zeros((6, 2)), y=np.array([1.0, -1] * 3), n_clusters=3), certified())
    ok("dc/one-sample-clusters", lambda: dc_checked(n_clusters=40), certified())
    ok("dc/clusters", lambda: dc_checked(n_clusters=3), certified())


def svr(X=None, y=None, C=1.0, **kw):
    from glopt.smo import solve_svr

    X0, y0 = toyr()
    kw.setdefault("kernel", kernel("rbf", gamma=0.5))
    return solve_svr(X0 if X is None else X, y0 if y is None else y, C, **kw)


# --------------------------------------------------------------------------------------------
# MM, p = 2, the paper's scheme, the reference layer, the certifier
# --------------------------------------------------------------------------------------------
def mm(pr=None, S=None, inner=None, **kw):
    from glopt.mm import SMOInner, solve_mm

    pr = problem() if pr is None else pr
    S = correlation(X=pr.X) if S is None else S
    return solve_mm(pr, S, SMOInner(tol=1e-6) if inner is None else inner, **kw)


def _solver_cases():
    bad("mm/S-shape", lambda: mm(S=np.eye(5)), r"S .*shape")
    bad("mm/S-string", lambda: mm(S="identity"), r"\bS\b")
    bad("mm/inner-not-callable", lambda: mm(inner=3), r"inner")
    bad("mm/eps-zero", lambda: mm(eps=0.0), r"eps")
    bad("mm/tol-nan", lambda: mm(tol=np.nan), r"tol")
    bad("mm/weight_tol-neg", lambda: mm(weight_tol=-1.0), r"weight_tol")
    bad("mm/max_iter-zero", lambda: mm(max_iter=0), r"max_iter")
    bad("mm/max_iter-bool", lambda: mm(max_iter=True), r"max_iter")
    bad("mm/callback-str", lambda: mm(callback="x"), r"callback")
    bad("mm/loose_tol-neg", lambda: mm(inexact=True, loose_tol=-1.0), r"loose_tol")
    bad("mm/inner-loose", lambda: mm(inner=smo_inner(1e-3)), r"tol")
    bad("mm/p2", lambda: mm(pr=problem(p=2)), r"\bp\b")
    bad("mm/not-problem", lambda: mm(pr="problem", S=np.eye(40)), r"problem")
    ok("mm/duplicates", lambda: mm_checked(np.repeat(toy(7, 3)[0], 20, axis=0)), lambda r: r)
    ok("mm/rbf-gamma-1e13", lambda: mm_checked(toy()[0], gamma=1e13), lambda r: r)

    def quad(pr=None, **kw):
        from glopt.quadratic import solve_quadratic

        return solve_quadratic(problem(p=2, S=np.eye(40)) if pr is None else pr, **kw)

    bad("quadratic/p1", lambda: quad(problem()), r"\bp\b")
    bad("quadratic/tol-zero", lambda: quad(tol=0.0), r"tol")
    bad("quadratic/tol-nan", lambda: quad(tol=np.nan), r"tol")
    bad("quadratic/max_iter-zero", lambda: quad(max_iter=0), r"max_iter")
    bad("quadratic/not-problem", lambda: quad("x"), r"problem")
    ok("quadratic/identity", lambda: solve_with_problem(lambda p: quad(p), problem(p=2, S=np.eye(40))), certified(1e-8))

    def paper(pr=None, S=None, **kw):
        from glopt.paper import solve_paper

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return solve_paper(problem() if pr is None else pr, np.eye(40) if S is None else S, **kw)

    bad("paper/eps-zero", lambda: paper(eps=0.0), r"eps")
    bad("paper/tol-neg", lambda: paper(tol=-1.0), r"tol")
    bad("paper/S-shape", lambda: paper(S=np.eye(3)), r"S .*")
    bad("paper/not-problem", lambda: paper(pr=42), r"problem")
    bad("paper/max_iter-zero", lambda: paper(max_iter=0), r"max_iter")

    def ref(pr=None, **kw):
        from glopt.cvx import solve_reference

        return solve_reference(problem() if pr is None else pr, **kw)

    bad("reference/not-problem", lambda: ref("x"), r"problem")
    bad("reference/unknown-option", lambda: ref(bogus_option=1), r"bogus_option|option")
    ok("reference/extreme-C", lambda: ref_outcome(problem(C=1e12)), lambda v: v)
    ok("reference/tiny-C", lambda: ref_outcome(problem(C=1e-12)), lambda v: v)
    bad("reference/solve-C-neg", lambda: ref_solve(C=-1.0), r"\bC\b")
    bad("reference/solve-weights-short", lambda: ref_solve(weights=np.ones(3)), r"weights")
    ok("reference/small", lambda: solve_with_problem(lambda p: ref(p), problem()), certified(1e-6))

    def cert(result=None, pr=None, **kw):
        from glopt.certify import certify

        pr = problem() if pr is None else pr
        return certify(svc_result() if result is None else result, pr, **kw)

    bad("certify/result-dict", lambda: cert(result={"a": 1}), r"result")
    bad("certify/problem-dict", lambda: cert(pr={"X": 1}), r"problem")
    bad("certify/a-shape", lambda: cert(result=svc_result(a=np.zeros(3))), r"result.a .*shape")
    bad("certify/a-nan", lambda: cert(result=svc_result(a=np.full(40, np.nan))), r"NaN")
    bad("certify/b-nan", lambda: cert(result=svc_result(b=np.nan)), r"NaN|bias")
    bad("certify/Kcoef-shape", lambda: cert(Kcoef=np.zeros(3)), r"Kcoef")
    bad("certify/Kcoef-nan", lambda: cert(Kcoef=np.full(40, np.nan)), r"Kcoef")
    bad("certify/ok-tol-neg", lambda: cert().ok(-1.0), r"tol")
    bad("certify/ok-tol-nan", lambda: cert().ok(np.nan), r"tol")
    ok("certify/own-answer", lambda: cert(), lambda c: c.ok(1e-6))

    from_sk = {"NuSVC": "NuSVC", "OneClassSVM": "OneClassSVM", "LinearSVC": "LinearSVC", "NuSVR": "NuSVR",
               "LogisticRegression": "LogisticRegression"}
    for key, cls in from_sk.items():
        bad(f"from_sklearn/{key}", lambda cls=cls: from_sklearn(cls), rf"{cls}", types=(TypeError,))
    bad("from_sklearn/not-estimator", lambda: from_sklearn_raw("svc"), r"str", types=(TypeError,))
    bad("from_sklearn/multiclass", lambda: from_sklearn("SVC", multiclass=True), r"(classes|multi-class|one-vs-one)")
    bad("from_sklearn/unfitted", lambda: from_sklearn("SVC", fit=False), r"(fitted|fit)")
    bad("from_sklearn/C-mismatch", lambda: from_sklearn("SVC", problem_kw=dict(C=2.0)), r"\bC\b")
    bad("from_sklearn/gamma-mismatch", lambda: from_sklearn("SVC", problem_kw=dict(kernel=kernel("rbf", gamma=3.0))),
        r"gamma")
    bad("from_sklearn/kernel-mismatch", lambda: from_sklearn("SVC", problem_kw=dict(kernel=kernel("linear"))),
        r"kernel")
    bad("from_sklearn/epsilon-mismatch", lambda: from_sklearn("SVR", problem_kw=dict(epsilon=0.5)), r"epsilon")
    ok("from_sklearn/svc-01-labels", lambda: from_sklearn("SVC", labels01=True), lambda c: c.ok(1e-5))
    ok("from_sklearn/svc", lambda: from_sklearn("SVC"), lambda c: c.ok(1e-5))
    ok("from_sklearn/svr", lambda: from_sklearn("SVR"), lambda c: c.ok(1e-5))


def smo_inner(tol):
    from glopt.mm import SMOInner

    return SMOInner(tol=tol)


def mm_checked(X, gamma=0.5):
    """MM on X: finite, its taken path monotone, the result the last taken step."""
    from glopt.problem import SVMProblem

    rng = np.random.default_rng(1)
    y = np.where(rng.normal(size=X.shape[0]) + X[:, 0] > 0, 1.0, -1.0)
    pr = SVMProblem(X, y, kernel("rbf", gamma=gamma), "svc")
    res = mm(pr=pr, S=correlation(X=X, gamma_s=0.5))
    steps = res.extra["history"].steps
    taken = [s.objective for s in steps if s.taken]
    assert finite((res.coef, res.b, res.objective))
    assert all(b <= a * (1 + 1e-10) for a, b in zip(taken, taken[1:]))
    assert res.extra["smoothed_objective"] == taken[-1]
    return True


def ref_outcome(pr):
    """solve_reference either certifies or raises its own clear error (never another exception)."""
    from glopt.certify import certify
    from glopt.cvx import ReferenceSolveError, solve_reference

    try:
        res = solve_reference(pr)
    except ReferenceSolveError as exc:
        assert "Clarabel" in str(exc)
        return True
    assert finite((res.a, res.b)) and certify(res, pr).ok(1e-5)
    return True


def ref_solve(**kw):
    from glopt.cvx import Reference

    return Reference(problem()).solve(**kw)


def svc_result(**kw):
    from dataclasses import replace

    res = svc(tol=1e-8)
    return replace(res, **kw)


def from_sklearn_raw(est):
    from glopt.certify import result_from_sklearn

    return result_from_sklearn(est, problem())


def from_sklearn(cls, multiclass=False, fit=True, problem_kw=None, labels01=False):
    import sklearn.linear_model
    import sklearn.svm

    from glopt.certify import certify, result_from_sklearn

    task = "svr" if cls in ("SVR", "NuSVR") else "svc"
    X, y = toyr() if task == "svr" else toy()
    if multiclass:
        y = np.arange(y.size) % 3
    module = sklearn.linear_model if cls == "LogisticRegression" else sklearn.svm
    est = getattr(module, cls)()
    if cls in ("SVC", "SVR"):
        est.set_params(gamma=0.5, tol=1e-8)
    labels = (y > 0).astype(int) if labels01 else y
    if fit:
        est.fit(X, labels) if cls != "OneClassSVM" else est.fit(X)
    kw = {"kernel": kernel("rbf", gamma=0.5), **(problem_kw or {})}
    from glopt.problem import SVMProblem

    pr = SVMProblem(X, y if task == "svr" or multiclass else np.where(y > 0, 1.0, -1.0), task=task,
                    **{k: v for k, v in kw.items()}) if not multiclass else None
    if multiclass:
        pr = SVMProblem(X, np.where(y == 0, 1.0, -1.0), kernel("rbf", gamma=0.5))
    return certify(result_from_sklearn(est, pr), pr)


# --------------------------------------------------------------------------------------------
# estimators
# --------------------------------------------------------------------------------------------
def glsvc(X=None, y=None, sample_weight=None, **params):
    from glopt import GLSVC

    X0, y0 = toy()
    return fit_recording(GLSVC(**params), X0 if X is None else X, y0 if y is None else y,
                         sample_weight=sample_weight)


def glsvr(X=None, y=None, sample_weight=None, **params):
    from glopt import GLSVR

    X0, y0 = toyr()
    return fit_recording(GLSVR(**params), X0 if X is None else X, y0 if y is None else y,
                         sample_weight=sample_weight)


GL_BAD_PARAMS = {
    "C-zero": dict(C=0.0), "C-neg": dict(C=-1.0), "C-nan": dict(C=np.nan), "C-str": dict(C="1"), "C-none": dict(C=None),
    "kernel-sigmoid": dict(kernel="sigmoid"), "kernel-none": dict(kernel=None), "gamma-neg": dict(gamma=-1.0),
    "gamma-str": dict(gamma="median"), "gamma-zero": dict(gamma=0.0), "degree-zero": dict(degree=0),
    "degree-float": dict(degree=1.5), "degree-bool": dict(degree=True), "coef0-nan": dict(coef0=np.nan),
    "coef0-str": dict(coef0="x"), "s_kernel-X": dict(s_kernel="X"), "gamma_s-zero": dict(gamma_s=0.0),
    "gamma_s-auto": dict(gamma_s="auto"), "matern_nu-one": dict(matern_nu=1.0), "rq_alpha-zero": dict(rq_alpha=0.0),
    "p-three": dict(p=3), "p-bool": dict(p=True), "eps-zero": dict(eps=0.0), "solver-x": dict(solver="x"),
    "tol-zero": dict(tol=0.0), "tol-tiny": dict(tol=1e-300), "mm_tol-nan": dict(mm_tol=np.nan),
    "max_iter-zero": dict(max_iter=0), "max_iter-float": dict(max_iter=1.5), "cache_size-zero": dict(cache_size=0),
    "shrinking-str": dict(shrinking="no"), "n_jobs-zero": dict(n_jobs=0), "n_jobs-str": dict(n_jobs="2"),
    "s_approx-x": dict(s_approx="x"), "n_components-zero": dict(n_components=0),
    "random_state-str": dict(random_state="seed"), "verbose-str": dict(verbose="yes"),
    "cert_tol-zero": dict(cert_tol=0.0), "cert_tol-nan": dict(cert_tol=np.nan),
}


def _estimator_cases():
    for key, kw in GL_BAD_PARAMS.items():
        arg = key.rsplit("-", 1)[0]
        bad(f"GLSVC/param-{key}", lambda kw=kw: glsvc(**kw), rf"\b{arg}\b")
    for key, kw in list(GL_BAD_PARAMS.items())[::3]:
        arg = key.rsplit("-", 1)[0]
        bad(f"GLSVR/param-{key}", lambda kw=kw: glsvr(**kw), rf"\b{arg}\b")
    bad("GLSVC/param-class_mask-str", lambda: glsvc(class_mask="yes"), r"class_mask")
    bad("GLSVC/param-decision_function_shape", lambda: glsvc(decision_function_shape="ovx"), r"decision_function_shape")
    bad("GLSVC/param-paper-p2", lambda: glsvc(solver="paper", p=2), r"paper")
    bad("GLSVC/param-rff-I", lambda: glsvc(s_approx="rff", s_kernel="I"), r"s_approx")
    bad("GLSVC/param-precomputed-G", lambda: glsvc(X=toy()[0] @ toy()[0].T, kernel="precomputed"), r"precomputed")
    bad("GLSVR/param-epsilon-neg", lambda: glsvr(epsilon=-1.0), r"epsilon")
    for name, fit in (("GLSVC", glsvc), ("GLSVR", glsvr)):
        X0 = toy()[0]
        bad(f"{name}/X-nan", lambda fit=fit: fit(X=with_nan(X0)), r"(X|Input).*(NaN|nan)")
        bad(f"{name}/X-inf", lambda fit=fit: fit(X=with_inf(X0)), r"(X|Input).*(inf|infinity)")
        bad(f"{name}/X-complex", lambda fit=fit: fit(X=X0 + 1j), r"[Cc]omplex")
        bad(f"{name}/X-strings", lambda fit=fit: fit(X=np.full((40, 3), "a")), r"(X|string|float)")
        ok(f"{name}/X-sparse", lambda fit=fit: fit(X=sparse(X0)).predict(sparse(X0)), lambda p: p.shape == (40,))
        bad(f"{name}/X-1d", lambda fit=fit: fit(X=X0[:, 0]), r"2D|2-dimensional")
        bad(f"{name}/X-empty", lambda fit=fit: fit(X=X0[:0], y=np.zeros(0)), r"(0 sample|empty|minimum)")
        bad(f"{name}/X-huge", lambda fit=fit: fit(X=X0 * 1e300), r"X .*(overflow|scale)")
        bad(f"{name}/y-short", lambda fit=fit: fit(y=np.ones(39)), r"(inconsistent|samples|length)")
        bad(f"{name}/sample_weight-neg", lambda fit=fit: fit(sample_weight=-np.ones(40)), r"sample_weight")
        bad(f"{name}/sample_weight-nan", lambda fit=fit: fit(sample_weight=np.full(40, np.nan)),
            r"(sample_weight|Input).*(NaN|nan)")
        bad(f"{name}/sample_weight-short", lambda fit=fit: fit(sample_weight=np.ones(3)), r"sample_weight")
        bad(f"{name}/sample_weight-zero", lambda fit=fit: fit(sample_weight=np.zeros(40)), r"[Ss]ample.weight")
        bad(f"{name}/predict-unfitted", lambda name=name: unfitted(name).predict(X0), r"not fitted")
        bad(f"{name}/predict-features", lambda fit=fit: fit().predict(np.ones((3, 5))), r"features")
        bad(f"{name}/predict-nan", lambda fit=fit: fit().predict(with_nan(X0)), r"(NaN|nan)")
        ok(f"{name}/tiny-X", lambda fit=fit: fit(X=X0 * 1e-300), fitted_ok())
        ok(f"{name}/gamma-1e13", lambda fit=fit: fit(gamma=1e13), fitted_ok())
        ok(f"{name}/duplicates", lambda fit=fit: fit(X=np.repeat(toy(8, 3)[0], 5, axis=0)), fitted_ok())
        ok(f"{name}/identity-loss", lambda fit=fit: fit(s_kernel="I"), fitted_ok())
        ok(f"{name}/p2", lambda fit=fit: fit(p=2), fitted_ok())
        ok(f"{name}/rff", lambda fit=fit: fit(s_approx="rff", gamma_s=0.05, n_components=200, random_state=0),
           fitted_ok())
        ok(f"{name}/n_jobs-huge", lambda fit=fit: fit(n_jobs=100000), fitted_ok())
        ok(f"{name}/huge-C", lambda fit=fit: fit(C=1e6), fitted_ok())
        ok(f"{name}/float32", lambda fit=fit: fit(X=X0.astype(np.float32)), fitted_ok())
    bad("GLSVC/y-single-class", lambda: glsvc(y=np.ones(40)), r"(one class|single class|1 class)")
    bad("GLSVC/y-continuous", lambda: glsvc(y=np.linspace(0, 1, 40)), r"(continuous|Unknown label)")
    bad("GLSVC/y-nan", lambda: glsvc(y=np.where(np.arange(40) == 0, np.nan, toy()[1])), r"(y|Input).*(NaN|nan)")
    bad("GLSVC/sample_weight-one-class-left", lambda: glsvc(sample_weight=(toy()[1] > 0).astype(float)),
        r"(sample_weight|one class)")
    bad("GLSVR/y-nan", lambda: glsvr(y=with_nan(toyr()[1])), r"(y|Input).*(NaN|nan)")
    bad("GLSVR/y-strings", lambda: glsvr(y=np.full(40, "a")), r"(y|string|float|numeric)")
    ok("GLSVC/string-labels", lambda: glsvc(y=np.where(toy()[1] > 0, "yes", "no")), fitted_ok())
    ok("GLSVC/three-classes", lambda: glsvc(*toy3()), fitted_ok())
    ok("GLSVC/two-samples", lambda: glsvc(X=np.array([[0.0, 1.0], [1.0, 0.0]]), y=np.array([0, 1])), fitted_ok())
    ok("GLSVC/class_mask", lambda: glsvc(class_mask=True), fitted_ok())
    ok("GLSVC/sample-weights", lambda: glsvc(sample_weight=np.linspace(0.1, 3, 40)), fitted_ok())
    ok("GLSVC/paper-solver", lambda: glsvc_paper(), lambda v: v)

    def m3(X=None, y=None, sample_weight=None, **params):
        from glopt import M3SVM

        X0, y0 = toy3()
        return M3SVM(**params).fit(X0 if X is None else X, y0 if y is None else y, sample_weight=sample_weight)

    for key, kw in {"alpha-neg": dict(alpha=-1.0), "alpha-nan": dict(alpha=np.nan), "alpha-str": dict(alpha="x"),
                    "p-half": dict(p=0.5), "p-bool": dict(p=True), "loss-x": dict(loss="x"), "delta-zero": dict(delta=0.0),
                    "solver-x": dict(solver="x"), "tol-zero": dict(tol=0.0), "max_iter-zero": dict(max_iter=0),
                    "max_iter-bool": dict(max_iter=True)}.items():
        arg = key.rsplit("-", 1)[0]
        bad(f"M3SVM/param-{key}", lambda kw=kw: m3(**kw), rf"\b{arg}\b")
    bad("M3SVM/param-hinge-lbfgs", lambda: m3(loss="hinge"), r"hinge")
    X3 = toy3()[0]
    bad("M3SVM/X-nan", lambda: m3(X=with_nan(X3)), r"(X|Input).*(NaN|nan)")
    bad("M3SVM/X-complex", lambda: m3(X=X3 + 1j), r"[Cc]omplex")
    bad("M3SVM/X-huge", lambda: m3(X=X3 * 1e300), r"X .*(overflow|scale)")
    ok("M3SVM/X-sparse", lambda: m3(X=sparse(X3)).predict(sparse(X3)), lambda p: p.shape == (60,))
    bad("M3SVM/y-single", lambda: m3(y=np.zeros(60)), r"(one class|single class)")
    bad("M3SVM/sample_weight-neg", lambda: m3(sample_weight=-np.ones(60)), r"sample_weight")
    bad("M3SVM/predict_proba-hinge", lambda: m3().predict_proba(X3), r"loss='logistic'", types=(AttributeError,))
    bad("M3SVM/predict-unfitted", lambda: unfitted("M3SVM").predict(X3), r"not fitted")
    bad("M3SVM/predict-features", lambda: m3().predict(np.ones((2, 9))), r"features")
    ok("M3SVM/logistic-proba", lambda: m3(loss="logistic").predict_proba(X3),
       lambda P: finite(P) and bool(np.allclose(P.sum(1), 1.0)))
    ok("M3SVM/tiny-X", lambda: m3(X=X3 * 1e-300).predict(X3 * 1e-300), lambda p: p.shape == (60,))
    ok("M3SVM/two-classes", lambda: m3(*toy()).decision_function(toy()[0]), finite)
    ok("M3SVM/string-labels", lambda: m3(y=np.array(["a", "b", "c"])[toy3()[1]]).predict(X3),
       lambda p: set(p) <= {"a", "b", "c"})


def glsvc_paper():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = glsvc(solver="paper")
    assert finite(est.decision_function(toy()[0]))
    return True


def unfitted(name):
    import glopt

    return getattr(glopt, name)()


# --------------------------------------------------------------------------------------------
# torch losses
# --------------------------------------------------------------------------------------------
def _torch_cases():
    def T(a, **kw):
        import torch

        return torch.as_tensor(np.asarray(a), **kw)

    def gl(input=None, target=None, features=None, **opts):
        import torch

        from glopt.nn import GeneralizedLoss

        g = torch.Generator().manual_seed(0)
        x = torch.randn(8, 3, generator=g, dtype=torch.float64) if features is None else features
        o = torch.randn(8, 1, generator=g, dtype=torch.float64) if input is None else input
        t = torch.randn(8, 1, generator=g, dtype=torch.float64) if target is None else target
        return GeneralizedLoss(**opts)(o, t, x)

    def glc(input=None, target=None, features=None, **opts):
        import torch

        from glopt.nn import GeneralizedLoss

        g = torch.Generator().manual_seed(0)
        x = torch.randn(8, 3, generator=g) if features is None else features
        o = torch.randn(8, generator=g) if input is None else input
        t = torch.where(torch.randn(8, generator=g) > 0, 1.0, -1.0) if target is None else target
        return GeneralizedLoss(task="classification", **opts)(o, t, x)

    for key, kw in {"p-three": dict(p=3), "p-str": dict(p="2"), "task-x": dict(task="x"), "s_kernel-X": dict(s_kernel="X"),
                    "gamma_s-neg": dict(gamma_s=-1.0), "gamma_s-str": dict(gamma_s="auto"), "nu-one": dict(s_kernel="M", nu=1.0),
                    "alpha-zero": dict(s_kernel="Q", alpha=0.0), "epsilon-neg": dict(epsilon=-1.0),
                    "eps-zero": dict(p=1, eps=0.0), "s_approx-x": dict(s_approx="x"),
                    "n_components-zero": dict(s_approx="rff", n_components=0), "reduction-x": dict(reduction="avg")}.items():
        arg = key.rsplit("-", 1)[0]
        bad(f"torch/GeneralizedLoss-{key}", lambda kw=kw: gl(**kw), rf"\b{arg}\b")
    bad("torch/input-not-tensor", lambda: gl(input=np.ones((8, 1))), r"input .*Tensor")
    bad("torch/input-complex", lambda: gl(input=T(np.ones((8, 1)) + 1j)), r"input .*(real|complex)")
    bad("torch/input-nan", lambda: gl(input=T(np.full((8, 1), np.nan)), validate_args=True), r"input .*NaN")
    bad("torch/input-int", lambda: gl(input=T(np.ones((8, 1), dtype=int)), target=T(np.ones((8, 1), dtype=int))),
        r"input .*floating")
    bad("torch/target-shape", lambda: gl(target=T(np.ones((7, 1)))), r"target")
    bad("torch/features-missing", lambda: gl_nofeatures(), r"features")
    bad("torch/features-batch", lambda: gl(features=T(np.ones((5, 3)))), r"features")
    bad("torch/empty-batch", lambda: gl(input=T(np.ones((0, 1))), target=T(np.ones((0, 1))), features=T(np.ones((0, 3)))),
        r"(empty|batch)")
    bad("torch/empty-batch-identity", lambda: gl(input=T(np.ones((0, 1))), target=T(np.ones((0, 1))),
                                                 features=T(np.ones((0, 3))), s_kernel="I"), r"(empty|batch)")
    bad("torch/devices", lambda: gl(features=T(np.ones((8, 3))).to("meta")), r"device")
    bad("torch/target-not-pm1", lambda: glc(target=T(np.arange(8.0)), validate_args=True), r"target .*-1")
    bad("torch/ovr-index-range", lambda: glc(input=T(np.ones((8, 3), dtype=np.float32)), target=T(np.arange(8)),
                                          validate_args=True),
        r"target .*class ind")
    bad("torch/ovr-float-index", lambda: glc(input=T(np.ones((8, 3), dtype=np.float32)), target=T(np.zeros(8))),
        r"target .*(integer|class ind)")
    ok("torch/batch-of-one-identity", lambda: gl(input=T(np.ones((1, 1))), target=T(np.zeros((1, 1))),
                                                 features=T(np.ones((1, 3))), s_kernel="I"),
       lambda v: float(v) == 1.0)
    ok("torch/batch-of-one-G", lambda: gl(input=T(np.full((1, 1), 2.0)), target=T(np.zeros((1, 1))),
                                          features=T(np.ones((1, 3)))), lambda v: float(v) == 4.0)
    ok("torch/identity-is-mse", lambda: gl_vs_mse(), lambda v: v)
    ok("torch/huge-gamma-diag", lambda: gl(gamma_s=1e13, features=T(np.repeat(np.random.default_rng(0).normal(size=(4, 5)) * 3.1, 2, axis=0))),
       lambda v: bool(np.isfinite(float(v))))

    def ovr(input=None, target=None, weight=None, **opts):
        from glopt.nn import OneVsRestSVMLoss

        return OneVsRestSVMLoss(**opts)(T(np.ones((4, 3), dtype=np.float32)) if input is None else input,
                                         T(np.array([0, 1, 2, 0])) if target is None else target, weight)

    bad("torch/ovr-C-zero", lambda: ovr(C=0.0), r"\bC\b")
    bad("torch/ovr-C-str", lambda: ovr(C="x"), r"\bC\b")
    bad("torch/ovr-reduction", lambda: ovr(reduction="x"), r"reduction")
    bad("torch/ovr-input-1d", lambda: ovr(input=T(np.ones(4, dtype=np.float32))), r"input .*\(B, K\)")
    bad("torch/ovr-K1", lambda: ovr(input=T(np.ones((4, 1), dtype=np.float32))), r"input .*K >= 2")
    bad("torch/ovr-target-float", lambda: ovr(target=T(np.zeros(4))), r"target .*integer")
    bad("torch/ovr-target-range", lambda: ovr(target=T(np.array([0, 1, 5, 0])), validate_args=True), r"target .*outside")
    ok("torch/ovr-ok", lambda: ovr(), lambda v: bool(np.isfinite(float(v))))

    def ism3(input=None, target=None, weight=None, **opts):
        from glopt.nn import ISM3Loss

        return ISM3Loss(**opts)(T(np.ones((4, 3), dtype=np.float32)) if input is None else input,
                                T(np.array([0, 1, 2, 0])) if target is None else target,
                                T(np.ones((3, 5), dtype=np.float32)) if weight is None else weight)

    bad("torch/ism3-lam-neg", lambda: ism3(lam=-1.0), r"lam")
    bad("torch/ism3-p-zero", lambda: ism3(p=0.0), r"\bp\b")
    bad("torch/ism3-reduction", lambda: ism3(reduction="x"), r"reduction")
    bad("torch/ism3-weight-rows", lambda: ism3(weight=T(np.ones((4, 5), dtype=np.float32))), r"weight")
    bad("torch/ism3-weight-1d", lambda: ism3(weight=T(np.ones(3, dtype=np.float32))), r"weight")
    bad("torch/ism3-weight-list", lambda: ism3(weight=[[1.0]]), r"weight")
    ok("torch/ism3-ok", lambda: ism3(), lambda v: bool(np.isfinite(float(v))))

    def penalty(w, p=2.0):
        from glopt.nn import margin_penalty

        return margin_penalty(w, p)

    bad("torch/margin_penalty-1d", lambda: penalty(T(np.ones(3))), r"weight")
    bad("torch/margin_penalty-p", lambda: penalty(T(np.ones((3, 2))), p=-1.0), r"\bp\b")

    def freqs(**kw):
        from glopt.nn import rff_frequencies

        kw.setdefault("s_kernel", "G")
        kw.setdefault("n_features", 3)
        kw.setdefault("n_components", 8)
        return rff_frequencies(**kw)

    bad("torch/rff_frequencies-I", lambda: freqs(s_kernel="I"), r"s_kernel")
    bad("torch/rff_frequencies-components", lambda: freqs(n_components=0), r"n_components")
    bad("torch/rff_frequencies-features", lambda: freqs(n_features=0), r"n_features")


def gl_nofeatures():
    import torch

    from glopt.nn import GeneralizedLoss

    return GeneralizedLoss()(torch.ones(4, 1), torch.zeros(4, 1))


def gl_vs_mse():
    import torch

    from glopt.nn import GeneralizedLoss

    o, t = torch.randn(6, 2, dtype=torch.float64), torch.randn(6, 2, dtype=torch.float64)
    return bool(torch.equal(GeneralizedLoss(s_kernel="I")(o, t), torch.nn.MSELoss()(o, t)))


# --------------------------------------------------------------------------------------------
# loaders and the command line
# --------------------------------------------------------------------------------------------
def keel(*args, **kw):
    from glopt.datasets import load_keel

    return load_keel(*args, **kw)


def cli(*argv, block=()):
    """(exit code, stderr) of ``glopt *argv``; modules in ``block`` fail to import."""
    import contextlib
    import io

    from glopt import cli as cli_module

    for mod in block:
        sys.modules[mod] = None
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = cli_module.main(list(argv))
        except SystemExit as exc:
            code = exc.code
    return code, err.getvalue()


def usage_error(result):
    code, err = result
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert code == 2, (code, err[-500:])
    assert "Traceback" not in err, err[-500:]
    assert lines and lines[-1].startswith("glopt"), err[-500:]
    return True


def _loader_and_cli_cases():
    bad("load_keel/unknown", lambda: keel("nope"), r"nope")
    bad("load_keel/int-name", lambda: keel(3), r"name")
    bad("load_keel/none-name", lambda: keel(None), r"name")
    bad("load_keel/positive-unknown", lambda: keel("sonar", positive="zzz"), r"positive")
    bad("load_keel/positive-multiclass", lambda: keel("iris", positive="x"), r"positive")
    bad("load_keel/return_X_y-str", lambda: keel("sonar", return_X_y="yes"), r"return_X_y")
    ok("load_keel/sonar", lambda: keel("sonar", return_X_y=True), lambda v: finite(v[0]) and set(v[1]) == {-1.0, 1.0})

    out_dir = "/proc/glopt-cannot-write-here"
    ok("cli/out-unwritable", lambda: cli("validate", "--only", "sweep", "--out", out_dir), usage_error)
    ok("cli/out-is-a-file", lambda: cli("validate", "--only", "sweep", "--out", "/etc/hostname"), usage_error)
    ok("cli/scheduler-unreachable", lambda: cli("validate", "--only", "sweep", "--out", "/tmp/glopt-robust",
                                                "--scheduler", "tcp://127.0.0.1:9"), usage_error)
    ok("cli/scheduler-garbage", lambda: cli("validate", "--only", "sweep", "--out", "/tmp/glopt-robust",
                                            "--scheduler", "not a url"), usage_error)
    ok("cli/seed-negative", lambda: cli("validate", "--seed", "-1", "--out", "/tmp/glopt-robust"), usage_error)
    ok("cli/seed-huge", lambda: cli("validate", "--seed", str(2 ** 40), "--out", "/tmp/glopt-robust"), usage_error)
    ok("cli/seed-text", lambda: cli("validate", "--seed", "abc"), usage_error)
    ok("cli/only-empty", lambda: cli("validate", "--only", "", "--out", "/tmp/glopt-robust"), usage_error)
    ok("cli/only-commas", lambda: cli("validate", "--only", ",,", "--out", "/tmp/glopt-robust"), usage_error)
    ok("cli/only-unknown", lambda: cli("validate", "--only", "binary,nope"), usage_error)
    ok("cli/n-jobs-zero", lambda: cli("validate", "--n-jobs", "0", "--out", "/tmp/glopt-robust"), usage_error)
    ok("cli/n-jobs-text", lambda: cli("validate", "--n-jobs", "many"), usage_error)
    ok("cli/unknown-command", lambda: cli("train"), usage_error)
    ok("cli/unknown-flag", lambda: cli("validate", "--fast"), usage_error)
    ok("cli/quick-and-full", lambda: cli("validate", "--quick", "--full"), usage_error)
    ok("cli/missing-matplotlib", lambda: cli("validate", "--only", "sweep", "--out", "/tmp/glopt-robust",
                                             block=("matplotlib",)), usage_error)
    ok("cli/missing-dask", lambda: cli("validate", "--only", "sweep", "--out", "/tmp/glopt-robust", "--dask",
                                       block=("dask", "dask.distributed", "distributed")), usage_error)
    ok("cli/version", lambda: cli("--version"), lambda r: r[0] == 0)
    ok("cli/help", lambda: cli(), lambda r: r[0] == 0)


for _group in (_problem_cases, _kernel_cases, _loss_cases, _smo_cases, _solver_cases, _estimator_cases,
               _torch_cases, _loader_and_cli_cases):
    _group()


# --------------------------------------------------------------------------------------------
# the runner
# --------------------------------------------------------------------------------------------
def _run_in_child(name: str) -> dict:
    case = CASES[name]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = case["fn"]()
            if case["kind"] == "ok":
                check = case["check"] or finite
                try:
                    passed = bool(check(value))
                    detail = ""
                except AssertionError as exc:
                    passed, detail = False, f"check failed: {exc}"
                return dict(outcome="returned", checked=passed, detail=detail[:2000])
        return dict(outcome="returned", checked=None, detail=repr(value)[:300])
    except BaseException as exc:  # noqa: BLE001 - everything is recorded for the parent
        # the message a user reads: the exception's, and that of its direct cause if it has one
        message = str(exc) + (f" (caused by: {exc.__cause__})" if exc.__cause__ is not None else "")
        return dict(outcome="raised", type=type(exc).__name__,
                    mro=[c.__name__ for c in type(exc).__mro__], message=message[:2000],
                    traceback=traceback.format_exc()[-3000:])


def run_all(names, timeout: float = 60.0, workers: int = 2) -> dict:
    """Run the named cases, each in a forked child, ``workers`` at a time; {name: record}."""
    results, pending, running = {}, list(names), {}
    while pending or running:
        while pending and len(running) < workers:
            name = pending.pop(0)
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child
                os.close(r)
                try:
                    rec = _run_in_child(name)
                    data = json.dumps(rec).encode()
                except BaseException:  # noqa: BLE001
                    data = json.dumps(dict(outcome="runner-error", message=traceback.format_exc()[-2000:])).encode()
                with os.fdopen(w, "wb") as f:
                    f.write(data)
                os._exit(0)
            os.close(w)
            running[name] = (pid, r, time.monotonic(), bytearray())
        fds = [v[1] for v in running.values()]
        ready, _, _ = select.select(fds, [], [], 0.05)
        for name, (pid, r, started, buf) in list(running.items()):
            if r in ready:
                chunk = os.read(r, 1 << 16)
                if chunk:
                    buf.extend(chunk)
                    continue
                os.close(r)
                _, status = os.waitpid(pid, 0)
                del running[name]
                if os.WIFSIGNALED(status):
                    results[name] = dict(outcome="crashed", signal=os.WTERMSIG(status))
                elif not buf:
                    results[name] = dict(outcome="crashed", signal=None, exit=os.WEXITSTATUS(status))
                else:
                    results[name] = json.loads(buf.decode())
            elif time.monotonic() - started > timeout:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                os.close(r)
                del running[name]
                results[name] = dict(outcome="hang", timeout=timeout)
    return results


def verdict(name: str, rec: dict) -> str:
    """'' when the case behaved as it must, else what went wrong."""
    case = CASES[name]
    if rec["outcome"] in ("crashed", "hang", "runner-error"):
        return f"{rec['outcome']}: {rec}"
    if case["kind"] == "bad":
        if rec["outcome"] != "raised":
            return f"accepted a bad input (returned {rec.get('detail')})"
        allowed = [t.__name__ for t in case["types"]]
        if not any(t in rec["mro"] for t in allowed):
            return f"raised {rec['type']} (not one of {allowed}): {rec['message']}\n{rec['traceback']}"
        if not re.search(case["match"], rec["message"]):
            return f"message does not match {case['match']!r}: {rec['type']}: {rec['message']}"
        return ""
    if rec["outcome"] != "returned":
        return f"raised {rec['type']}: {rec['message']}\n{rec.get('traceback', '')}"
    if not rec["checked"]:
        return f"returned an answer that fails its check: {rec['detail']}"
    return ""


def preload() -> None:
    """Import what the cases use, so that each fork starts warm (no thread pool is started)."""
    import cvxpy  # noqa: F401
    import scipy.sparse  # noqa: F401
    import sklearn.svm  # noqa: F401
    import torch  # noqa: F401

    import glopt.certify  # noqa: F401
    import glopt.cli  # noqa: F401
    import glopt.cvx  # noqa: F401
    import glopt.datasets  # noqa: F401
    import glopt.estimators  # noqa: F401
    import glopt.mm  # noqa: F401
    import glopt.multiclass  # noqa: F401
    import glopt.nn  # noqa: F401
    import glopt.paper  # noqa: F401
    import glopt.quadratic  # noqa: F401
    import glopt.smo  # noqa: F401


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="run the robustness cases, each in its own child process")
    parser.add_argument("--only", help="regular expression on case names")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", help="write the records here")
    args = parser.parse_args(argv)
    names = [n for n in CASES if args.only is None or re.search(args.only, n)]
    preload()
    results = run_all(names, args.timeout, args.workers)
    failed = {n: verdict(n, results[n]) for n in names if verdict(n, results[n])}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f)
    for n, why in failed.items():
        print(f"FAIL {n}: {why.splitlines()[0][:300]}")
    print(f"{len(names)} cases ({sum(CASES[n]['kind'] == 'bad' for n in names)} bad inputs, "
          f"{sum(CASES[n]['kind'] == 'ok' for n in names)} accepted edge cases), {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
