"""One certifier for every solver's answer: objectives, duality gap, KKT violation, feasibility.

It recomputes everything from the result's dual variables ``a`` and bias ``b`` and the problem
data; it trusts nothing the solver reports and knows no solver (neither :mod:`glopt.cvx` nor
:mod:`glopt.smo`). Kernel products are taken in row blocks, so it certifies large problems too.

Quantities (notation of :mod:`glopt.problem`, f = K coef + b on the training inputs):

- ``primal``: 0.5 coef^T K coef + loss(slack(f)), the primal objective of the solution
  w = sum_j coef_j phi(x_j) with the result's b and the optimal slacks for that (w, b); for
  p = 1 in the dual form's terms (:mod:`glopt.dual`), 0.5 ||w||^2 + u^T xi + d^T mu with the
  multipliers mu of the equalities (the bias b; for the nu formulations LIBSVM's rho and r,
  ``result.extra["r"]``), which covers LIBSVM's five formulations;
- ``dual``: the dual objective at a (p = 2: the Wolfe dual at u = R^T zeta, see
  :mod:`glopt.cvx.reference`);
- ``gap`` = primal - dual and ``rel_gap`` = ``|gap| / max(|primal|, |dual|)``;
- ``kkt_violation``: p = 1, the natural residual ``max_t |a_t - clip(a_t - g_t, 0, u_t)|`` (a and
  u divided by A, see below) of the dual QP  min 0.5 a^T Q a + q^T a, s.t. A a = d,
  0 <= a <= u (:mod:`glopt.dual`), with g = Q a + q + A^T mu the Lagrangian gradient (for the
  balance s^T a = 0, g = Q a + q + b s); it is at most the SMO stopping quantity m(a) - M(a) when b lies in
  [M(a), m(a)] (as LIBSVM's b does), and needs no rule for "at a bound". p = 2, the largest
  complementarity residual ``|min(a_t / A, s_t)|`` (s_t the slack of the constraint a_t belongs
  to, ``A = max(1, max |a|)``) and ``|min(mu_i / A, zeta_i)|``;
- ``infeasibility``: the largest violation of a's constraints (equalities, bounds; p = 2 also
  mu = 2 C S_w zeta - a_sum >= 0), relative to A;
- ``margin_dual_error``: ``max |margin duals - a| / max(1, max |a|)`` when the result carries
  the dual values of the primal margin constraints (a cvxpy primal solve), else NaN.

Dual-variable quantities are relative to ``A = max(1, max |a|)`` because a scales with C.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import as_float_array, positive_scalar
from .dual import dual_form
from .kernels import Kernel
from .problem import SVMProblem
from .result import SVMResult


@dataclass(frozen=True)
class Certificate:
    """The certificate of one answer: objectives, duality gap, KKT violation, feasibility.

    :func:`certify` computes it; the module docstring defines each quantity.

    Parameters
    ----------
    primal : float
        The primal objective of the solution.
    dual : float
        The dual objective at the result's dual variables a.
    gap : float
        The duality gap primal - dual.
    rel_gap : float
        The relative gap ``|gap| / max(|primal|, |dual|)``.
    kkt_violation : float
        The KKT residual, relative to ``A = max(1, max |a|)``: the natural residual of the dual QP
        (p = 1) or the largest complementarity residual (p = 2).
    infeasibility : float
        The largest violation of a's constraints (balance, bounds; p = 2 also mu >= 0), relative
        to A.
    margin_dual_error : float, default=nan
        ``max |margin duals - a| / A`` when the result carries the dual values of the primal
        margin constraints, else NaN.
    """

    primal: float
    dual: float
    gap: float
    rel_gap: float
    kkt_violation: float
    infeasibility: float
    margin_dual_error: float = float("nan")

    def ok(self, tol: float = 1e-6, gap_tol: float | None = None) -> bool:
        """Whether the certificate meets the tolerances; a NaN quantity never certifies.

        Parameters
        ----------
        tol : float > 0, default=1e-6
            Bound on the KKT violation, the infeasibility and the margin-dual error (a NaN
            margin-dual error, no margin duals, is not checked).
        gap_tol : float > 0, optional
            Bound on the relative gap (default ``tol``).

        Returns
        -------
        bool
            True when KKT violation, infeasibility and margin-dual error are <= tol and the
            relative gap is <= gap_tol.
        """
        tol = positive_scalar(tol, "tol")
        gap_tol = tol if gap_tol is None else positive_scalar(gap_tol, "gap_tol")
        margin_ok = np.isnan(self.margin_dual_error) or self.margin_dual_error <= tol
        return bool(self.rel_gap <= gap_tol and self.kkt_violation <= tol
                    and self.infeasibility <= tol and margin_ok)

    def __str__(self):
        rows = [("primal objective", self.primal), ("dual objective", self.dual),
                ("duality gap", self.gap), ("relative gap", self.rel_gap),
                ("KKT violation", self.kkt_violation), ("infeasibility", self.infeasibility),
                ("margin duals - a", self.margin_dual_error)]
        return "\n".join(f"{name:>18s}  {value: .3e}" for name, value in rows)


def max_violation(a, ysign, grad, upper) -> float:
    """Maximal violation m(a) - M(a), clipped at 0: the maximal violating pair of the box-and-balance QP.

    This is the SMO stopping quantity; it needs exact bounds (a_t == 0 or a_t == u_t), as an SMO
    answer has and an interior-point answer has not.

    Parameters
    ----------
    a : ndarray of shape (l,)
        The dual point.
    ysign : ndarray of shape (l,)
        The sign s_t in {-1, +1} of each variable in the balance constraint.
    grad : ndarray of shape (l,)
        The gradient Q a + q of the dual objective at a.
    upper : ndarray of shape (l,)
        The upper bounds u of the box 0 <= a <= u.

    Returns
    -------
    float
        max(0, m(a) - M(a)); 0 when one of the two index sets is empty.
    """
    pos = ysign > 0
    up = (pos & (a < upper)) | (~pos & (a > 0))
    low = (pos & (a > 0)) | (~pos & (a < upper))
    score = -ysign * grad
    if not up.any() or not low.any():
        return 0.0
    return max(0.0, float(score[up].max() - score[low].min()))


def natural_residual(a, upper, lagrangian_grad) -> float:
    """Natural residual ``max_t |a_t - clip(a_t - g_t, 0, u_t)|`` with g the gradient of the Lagrangian.

    Zero exactly at a KKT point; continuous in a, so an interior-point answer a hair inside its
    box is judged by how far it is from optimal, not by how it is classified.

    Parameters
    ----------
    a : ndarray of shape (l,)
        The dual point.
    upper : ndarray of shape (l,)
        The upper bounds u of the box 0 <= a <= u.
    lagrangian_grad : ndarray of shape (l,)
        The gradient g of the Lagrangian at a (Q a + q + b s for the balance multiplier b).

    Returns
    -------
    float
        The natural residual.
    """
    return float(np.max(np.abs(a - np.clip(a - lagrangian_grad, 0.0, upper))))


def certify(result: SVMResult, problem: SVMProblem, Kcoef=None) -> Certificate:
    """Certificate of ``result`` as a solution of ``problem`` (see the module docstring).

    Parameters
    ----------
    result : SVMResult
        The answer to certify: only its dual variables ``a``, bias ``b`` and, where present,
        ``extra["margin_duals"]`` are read.
    problem : SVMProblem
        The problem ``result`` claims to solve.
    Kcoef : ndarray of shape (n,), optional
        K @ coef on the training inputs, which may be passed when the caller has it already.

    Returns
    -------
    Certificate
        The objectives, duality gap, KKT violation and feasibility of ``result``.

    Raises
    ------
    TypeError
        When ``result`` is not an SVMResult or ``problem`` not an SVMProblem.
    ValueError
        When ``result.a`` or ``Kcoef`` has the wrong shape, or the result holds NaN or infinite
        values.
    """
    if not isinstance(result, SVMResult):
        raise TypeError(f"result must be a glopt.result.SVMResult, got {type(result).__name__}")
    if not isinstance(problem, SVMProblem):
        raise TypeError(f"problem must be a glopt.problem.SVMProblem, got {type(problem).__name__}")
    pr = problem
    form = dual_form(pr)
    a = np.asarray(result.a, dtype=np.float64)
    if a.shape != (form.size,):
        raise ValueError(f"result.a has shape {a.shape}; a {pr.task} problem with {pr.n} samples "
                         f"has {form.size} dual variables")
    if not np.all(np.isfinite(a)) or not np.isfinite(result.b):
        raise ValueError("result holds NaN or infinite dual variables or bias")
    coef = form.coef(a)
    if Kcoef is None:
        Kc = pr.kernel._matvec(pr.X, coef)
    else:
        Kc = as_float_array(Kcoef, "Kcoef", ndim=1)
        if Kc.shape != (pr.n,):
            raise ValueError(f"Kcoef must have shape ({pr.n},), got {Kc.shape}")
    reg = 0.5 * float(coef @ Kc)
    lin = form.linear_value(a)
    a_scale = max(1.0, float(np.abs(a).max()))

    if pr.p == 1:
        # the multipliers of A a = d (the bias, or LIBSVM's rho and r for the nu formulations)
        # complete the answer: G + A^T mu is the Lagrangian gradient, -min(0, it) the primal slack
        mu = form.multipliers(result.b, result.extra.get("r"))
        lagrangian_grad = form.gradient(Kc) + form.rows.T @ mu
        xi = np.maximum(0.0, -lagrangian_grad)
        primal = reg + float(form.upper @ xi) + float(form.rhs @ mu)
        dual = lin - reg
        upper = form.upper
        equality = float(np.max(np.abs(form.rows @ a - form.rhs)))
        infeas = max(equality, float(np.max(-a, initial=0.0)), float(np.max(a - upper, initial=0.0))) / a_scale
        kkt = natural_residual(a / a_scale, upper / a_scale, lagrangian_grad)
    else:
        f = Kc + result.b
        zeta = pr.slack(f)
        balance = abs(float(coef.sum()))
        Sz = pr.s_weighted() @ zeta
        loss = pr.C * float(zeta @ Sz)
        primal, dual = reg + loss, lin - reg - loss
        mu = 2.0 * pr.C * Sz - form.sample_sums(a)
        infeas = max(balance, float(np.max(-a, initial=0.0)), float(np.max(-mu, initial=0.0))) / a_scale
        slack = form.margin_slack(f, zeta)
        kkt = max(float(np.max(np.abs(np.minimum(a / a_scale, slack)))),
                  float(np.max(np.abs(np.minimum(mu / a_scale, zeta)))), infeas)

    gap = primal - dual
    scale = max(abs(primal), abs(dual), np.finfo(float).tiny)
    md = result.extra.get("margin_duals")
    md_err = float(np.max(np.abs(np.asarray(md) - a))) / a_scale if md is not None else float("nan")
    return Certificate(primal=primal, dual=dual, gap=gap, rel_gap=abs(gap) / scale,
                       kkt_violation=kkt, infeasibility=infeas, margin_dual_error=md_err)


def _libsvm_model(estimator):
    """The fitted scikit-learn SVC/SVR ``estimator``, or TypeError naming what it is instead."""
    try:
        from sklearn.svm import SVC, SVR
        from sklearn.utils.validation import check_is_fitted
    except ImportError:  # pragma: no cover - scikit-learn is a dependency
        raise TypeError("result_from_sklearn needs scikit-learn") from None
    if type(estimator) not in (SVC, SVR):
        raise TypeError(
            f"result_from_sklearn represents scikit-learn's SVC (binary C-SVC) and SVR (epsilon-SVR) "
            f"only, got {type(estimator).__name__}: its problem is not a C-SVC or epsilon-SVR with "
            "the same bounds, and certifying it as one would certify a different problem")
    check_is_fitted(estimator, "dual_coef_")
    if callable(estimator.kernel) or estimator.kernel not in ("linear", "rbf", "poly", "sigmoid", "precomputed"):
        raise TypeError(f"{type(estimator).__name__} with kernel={estimator.kernel!r} cannot be "
                        "represented: glopt's kernels are linear, rbf, poly, sigmoid and precomputed")
    if isinstance(estimator, SVC) and len(estimator.classes_) != 2:
        raise ValueError(f"the SVC has {len(estimator.classes_)} classes: LIBSVM solved one binary "
                         "problem per pair of classes (one-vs-one), which one SVMResult cannot represent")
    return estimator


def _model_kernel(est) -> Kernel:
    gamma = float(est._gamma) if est.kernel in ("rbf", "poly", "sigmoid") else 1.0
    return Kernel(est.kernel, gamma=gamma, degree=int(est.degree), coef0=float(est.coef0))


def problem_from_sklearn(estimator, X, y, sample_weight=None) -> SVMProblem:
    """The problem a fitted scikit-learn ``SVC`` (binary) or ``SVR`` solved on (X, y).

    Every hyperparameter is read from the fitted model: the kernel with the gamma resolved at fit
    time (``_gamma``, so 'scale' and 'auto' are as the model used them), degree, coef0, C, epsilon,
    and the per-sample bounds C * class_weight_[class] * sample_weight. For SVC the labels become
    +1 for ``classes_[1]`` and -1 for ``classes_[0]``, the sign of scikit-learn's ``dual_coef_``
    and ``decision_function``. ``sample_weight`` must be the one passed to ``fit``; zero weights
    are refused (LIBSVM keeps such samples with bound 0, an SVMProblem has positive bounds).

    Parameters
    ----------
    estimator : sklearn.svm.SVC or sklearn.svm.SVR
        The fitted model (a binary SVC, or an SVR) with a linear, rbf, poly or precomputed kernel.
    X : array-like of shape (n_samples, n_features), or (n_samples, n_samples)
        The training inputs the model was fitted on (the Gram matrix for kernel='precomputed').
    y : array-like of shape (n_samples,)
        The training labels (SVC) or targets (SVR) the model was fitted on.
    sample_weight : array-like of shape (n_samples,), optional
        The sample weights passed to ``fit`` (None: ones).

    Returns
    -------
    SVMProblem
        The problem the model solved, with the same kernel, C, epsilon and per-sample bounds.

    Raises
    ------
    TypeError
        When ``estimator`` is not a fitted SVC or SVR, or its kernel cannot be represented.
    ValueError
        When the SVC has more than two classes, X or y do not match the fitted model, or a
        sample's weight is not positive.
    """
    est = _libsvm_model(estimator)
    kernel = _model_kernel(est)
    task = "svr" if type(est).__name__ == "SVR" else "svc"
    X = kernel.check_data(X)
    if X.shape[0] != est.shape_fit_[0]:
        raise ValueError(f"X has {X.shape[0]} samples but the model was fitted on {est.shape_fit_[0]}")
    w = np.ones(X.shape[0]) if sample_weight is None else as_float_array(sample_weight, "sample_weight", ndim=1)
    if task == "svc":
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
        if not np.all(np.isin(y, est.classes_)):
            raise ValueError(f"y holds labels the model was not fitted on (its classes are {list(est.classes_)})")
        is_pos = y == est.classes_[1]
        w = w * np.where(is_pos, est.class_weight_[1], est.class_weight_[0])
        labels = np.where(is_pos, 1.0, -1.0)
    else:
        labels = y
    if np.any(w <= 0):
        raise ValueError("sample_weight (times class_weight_) has zeros or negative entries: an "
                         "SVMProblem needs positive per-sample bounds; drop those samples before fitting")
    return SVMProblem(X, labels, kernel, task, C=float(est.C), weights=None if np.all(w == 1.0) else w,
                      epsilon=float(getattr(est, "epsilon", 0.1)))


def result_from_sklearn(estimator, problem: SVMProblem) -> SVMResult:
    """An :class:`SVMResult` from a fitted scikit-learn ``SVC`` (binary) or ``SVR`` on ``problem``.

    ``problem`` must be the problem the model solved (:func:`problem_from_sklearn` builds it from
    the model): its kernel, C and epsilon are checked against the model's fitted hyperparameters,
    and its labels against the signs of the model's dual coefficients (+1 = ``classes_[1]``).
    Anything else scikit-learn fits (NuSVC, NuSVR, OneClassSVM, LinearSVC, ...) is refused with a
    TypeError naming its class, and a multi-class SVC with a ValueError: certifying such a model
    as a C-SVC would certify a different problem.

    Parameters
    ----------
    estimator : sklearn.svm.SVC or sklearn.svm.SVR
        The fitted model (a binary SVC, or an SVR).
    problem : SVMProblem
        The problem the model solved (:func:`problem_from_sklearn`).

    Returns
    -------
    SVMResult
        The model's answer: coef from ``dual_coef_``, b = ``intercept_``, the dual variables a
        (svr: LIBSVM's [alpha, alpha*]), n_iter and solver "libsvm".

    Raises
    ------
    TypeError
        When ``estimator`` is not a fitted SVC or SVR, its kernel cannot be represented, or
        ``problem`` is not an SVMProblem.
    ValueError
        When the model is a multi-class SVC, or ``problem`` does not match the model.
    """
    est = _libsvm_model(estimator)
    if not isinstance(problem, SVMProblem):
        raise TypeError(f"problem must be a glopt.problem.SVMProblem, got {type(problem).__name__}")
    task = "svr" if type(est).__name__ == "SVR" else "svc"
    if problem.task != task:
        raise ValueError(f"problem.task is {problem.task!r} but the model is a {type(est).__name__} ({task})")
    if problem.p != 1:
        raise ValueError("LIBSVM solves p = 1 problems (hinge / epsilon-insensitive loss); problem.p is 2")
    model_k, k = _model_kernel(est), problem.kernel
    if k.name != model_k.name:
        raise ValueError(f"problem.kernel is {k.name!r} but the model used kernel={model_k.name!r}")
    if k.name in ("rbf", "poly", "sigmoid") and not np.isclose(k.gamma, model_k.gamma, rtol=1e-12, atol=0):
        raise ValueError(f"problem.kernel has gamma={k.gamma:g} but the model used gamma={model_k.gamma:g}")
    if k.name == "sigmoid" and k.coef0 != model_k.coef0:
        raise ValueError(f"problem.kernel has coef0={k.coef0:g} but the model used coef0={model_k.coef0:g}")
    if k.name == "poly" and (k.degree != model_k.degree or k.coef0 != model_k.coef0):
        raise ValueError(f"problem.kernel has degree={k.degree}, coef0={k.coef0:g} but the model used "
                         f"degree={model_k.degree}, coef0={model_k.coef0:g}")
    if problem.C != float(est.C):
        raise ValueError(f"problem.C is {problem.C:g} but the model used C={float(est.C):g}")
    if task == "svr" and problem.epsilon != float(est.epsilon):
        raise ValueError(f"problem.epsilon is {problem.epsilon:g} but the model used epsilon={float(est.epsilon):g}")
    if problem.n != est.shape_fit_[0]:
        raise ValueError(f"problem has {problem.n} samples but the model was fitted on {est.shape_fit_[0]}")
    if task == "svc" and problem.weights is None and not np.all(est.class_weight_ == 1.0):
        raise ValueError(f"the model used class_weight_={list(est.class_weight_)}: pass the per-sample "
                         "weights (problem_from_sklearn builds them)")
    coef = np.zeros(problem.n)
    dual_coef = est.dual_coef_.toarray() if hasattr(est.dual_coef_, "toarray") else est.dual_coef_
    coef[est.support_] = np.asarray(dual_coef).ravel()
    if task == "svc":
        sv = est.support_
        if np.any(np.sign(coef[sv]) != problem.y[sv]):
            raise ValueError("problem.y does not match the model's labels: +1 must mark classes_[1] "
                             f"= {est.classes_[1]!r} (problem_from_sklearn builds the labels)")
        a = problem.y * coef
    else:
        a = np.concatenate([np.maximum(coef, 0.0), np.maximum(-coef, 0.0)])
    return SVMResult(coef=coef, b=float(np.ravel(est.intercept_)[0]), a=a,
                     n_iter=int(np.sum(est.n_iter_)), solver="libsvm")
