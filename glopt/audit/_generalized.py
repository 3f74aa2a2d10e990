"""Certificates of glopt's own models, recomputed from their fitted state: GLSVC, GLSVR and M3SVM.

GLSVC / GLSVR (the generalized loss, :mod:`glopt.estimators`). Each subproblem (one per pair of
classes for GLSVC, one-vs-one as the fit solved them; one for GLSVR) is rebuilt from the model's
hyperparameters, its fitted ``gamma_s_`` and kernel, and the training data restricted to the
subproblem's samples of positive weight (sample_weight times ``class_weight_``); the answer is the
model's ``dual_coef_`` (coef; dual variables a = y coef for GLSVC, [max(coef, 0), max(-coef, 0)]
for GLSVR) and ``intercept_``. The certificate is the one the fit computed
(:func:`glopt.generalized.solve_generalized`), by :func:`glopt.certify.certify`:

- p = 1, s_kernel 'I': the optimality certificate of the weighted C-SVC / epsilon-SVR;
- p = 1, S != I (non-convex): the stationarity certificate of :func:`glopt.mm.stationarity`, the
  certificate of the weighted SVM whose bounds C * w are recomputed at the answer's own slacks,
  w = :func:`glopt.mm.gl_weights` (eps-smoothed); its ``kkt_violation`` is the stationarity
  residual of the generalized-loss problem and its gap that of the weighted problem (0 at a
  stationary point; no global optimality is claimed);
- p = 2 (convex): the optimality certificate of the generalized quadratic loss with the dense S.

The problem dict also carries the model's generalized-loss objective J (``gl_objective``,
:func:`glopt.mm.gl_objective`, p = 1 with S != I) at the answer.

M3SVM (:mod:`glopt.multiclass`): one convex problem, J(W, b) = sum_i v_i ell_i + alpha R(W),
R(W) = sum_{k<l} ||w_k - w_l||^p, v = s / sum s (:mod:`glopt.multiclass.objective`), with the
model's centred class vectors (two classes: W = (-coef_ / 2, coef_ / 2)). Certificate:

- ``primal``: J at the model (:func:`glopt.multiclass.m3svm_objective`);
- ``dual``: the Fenchel dual at a dual point built from the model. Writing each loss through
  its conjugate, ell_i(F_i) >= <G_i, F_i> / v_i + c_i(G_i) with G_i = v_i (beta_ik for k != y_i,
  -sum_k beta_ik at y_i), beta_ik in [0, 1] (hinge losses, c_i = sum_k beta_ik + delta
  sqrt(beta_ik (1 - beta_ik)) for the smoothed hinge, without the root for the exact one), or
  G_i = v_i (P_i - e_{y_i}), P_i in the simplex (logistic, c_i = the entropy of P_i); then
  J >= sum_i v_i c_i - (alpha R)^*(-G^T X) when sum_i G_i = 0 (with an intercept), and
  (alpha R)^*(Z) <= sum_q (alpha ||.||^p)^*(Lambda_q) for every Lambda with E^T Lambda = Z (E the
  pair incidence matrix; (alpha ||.||^p)^*(l) = (p - 1) alpha (||l|| / (alpha p))^(p / (p - 1)),
  for p = 1 the indicator of ||l|| <= alpha). The point: beta (or P) is the loss derivative at
  the model (the exact hinge: 1 / 0 off a band |U| <= tau, the band's variables the bounded
  least-squares fit of the stationarity conditions, for each tau of ``BANDS``, the best one
  kept); it is shifted per class to make sum_i G_i = 0 exact and mixed with an interior point
  of that set where the shift leaves the box or the simplex; Lambda is the regularizer's
  gradient at the model plus the least-squares correction E (Z - E^T Lambda_0) / k; for p = 1
  G is scaled into ||Lambda_q|| <= alpha. Every step keeps the point feasible, so the dual is a
  lower bound on the optimal value; it is NaN where none is available (alpha = 0, or a class of
  zero total weight with an intercept);
- ``kkt_violation``: the largest absolute entry of the gradient of J at the model (the quantity
  M3SVM's ``tol`` bounds), for the exact hinge of the subgradient from the dual point, with the
  complementarity residual of its band (margin units);
- ``infeasibility``: ``max_k |sum_i G_ik|`` at the loss-derivative point, before the shift that
  makes it exact (the intercept's stationarity residual; 0 without an intercept).

With ``reference=True``: GLSVC / GLSVR re-solve each subproblem from scratch with
:func:`glopt.generalized.solve_generalized` at tighter tolerances (p = 1 with S != I is
non-convex: the reference is another stationary point, usually the same); M3SVM solves its
problem exactly by Clarabel (:func:`glopt.cvx.m3svm.solve_m3svm_reference`).
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..certify import Certificate, certify
from ..result import SVMResult
from ._libsvm import _check_labels
from ._report import SubproblemReport

#: Band widths tau (margin units) of the exact hinge's free dual variables (M3SVM, loss='hinge').
BANDS = (1e-10, 1e-8, 1e-6, 1e-4, 1e-2)


def certify_generalized(model, X, y=None, sample_weight=None, reference=False) -> list:
    """Certificates of a fitted GLSVC, GLSVR or M3SVM, one per subproblem it solved.

    Every number is recomputed from the model's fitted attributes, its hyperparameters and the
    training data; the fit's own ``certificate_`` is not read. The module docstring states
    which certificate each model gets.

    Parameters
    ----------
    model : glopt.GLSVC, glopt.GLSVR or glopt.multiclass.M3SVM
        The fitted model.
    X : {array-like, sparse matrix} of shape (n_samples, n_features), or (n_samples, n_samples)
        The training inputs the model was fitted on (the Gram matrix for kernel='precomputed').
    y : array-like of shape (n_samples,)
        The training labels (GLSVC, M3SVM) or targets (GLSVR).
    sample_weight : array-like of shape (n_samples,), optional
        The sample weights passed to ``fit`` (None: ones).
    reference : bool, default=False
        Also solve each problem again (module docstring) and report the distance to that answer:
        ``objective_diff`` (relative difference of the objectives: the generalized-loss J for
        GLSVC / GLSVR, J of M3SVM), ``max_decision_diff`` (largest difference of the decision
        values on the training inputs), ``prediction_mismatch`` (fraction of training samples
        predicted differently; NaN for GLSVR) and the reference's ``reference_rel_gap`` and
        ``reference_kkt_violation``.

    Returns
    -------
    list of SubproblemReport
        GLSVC: ``"binary"``, or ``"classes (a, b)"`` per pair; GLSVR: ``"regression"``; M3SVM:
        ``"binary"`` or ``"multi-class"``. Form ``"generalized"`` or ``"m3svm"``.

    Raises
    ------
    TypeError
        When ``model`` is none of these, or X is None.
    ValueError
        When y is None, or X, y or ``sample_weight`` does not match the fitted model (shape,
        features, labels, support vectors that are not rows of X, negative weights).
    """
    from sklearn.utils.validation import check_is_fitted

    from ..estimators import GLSVC, GLSVR
    from ..multiclass import M3SVM

    if isinstance(model, (GLSVC, GLSVR)):
        check_is_fitted(model, "dual_coef_")
        return _certify_gl(model, X, y, sample_weight, reference, isinstance(model, GLSVC))
    if isinstance(model, M3SVM):
        check_is_fitted(model, "coef_")
        return _certify_m3svm(model, X, y, sample_weight, reference)
    raise TypeError(f"model must be a fitted glopt GLSVC, GLSVR or M3SVM, got {type(model).__name__}")


# ------------------------------------------------------------------------------------------
# GLSVC / GLSVR
# ------------------------------------------------------------------------------------------
def _gl_data(model, X, y, sample_weight, is_svc):
    from sklearn.utils.validation import _check_sample_weight, validate_data

    if X is None:
        raise TypeError("X must be the training inputs the model was fitted on, got None")
    if y is None:
        raise ValueError("y is required: the training labels (targets) the model was fitted on")
    X = validate_data(model, X, reset=False, dtype=np.float64, order="C", accept_sparse=model._accept_sparse())
    X = model._validate_X(X)
    if X.shape[0] != model.shape_fit_[0]:
        raise ValueError(f"X has {X.shape[0]} samples but the model was fitted on {model.shape_fit_[0]}")
    if model.kernel != "precomputed" and model.support_.size:
        diff = X[model.support_] - model.support_vectors_
        if abs(diff).max() != 0:
            raise ValueError("X is not the training inputs: its rows at support_ differ from support_vectors_")
    if model.s_approx == "rff" and not isinstance(model.random_state, (int, np.integer)):
        raise ValueError("the model's S is random features drawn with random_state="
                         f"{model.random_state!r}: the same S cannot be drawn again (fit with an integer "
                         "random_state to certify it)")
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
    sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
    if np.any(sw < 0):
        raise ValueError("sample_weight must be nonnegative")
    return X, y, sw


def _gl_subproblems(model, X, y, sw, is_svc):
    """(label, rows, labels or targets, weights, coef, b, y_mask, samples before dropping zero weights)
    per subproblem, as the fit built them."""
    if not is_svc:
        target = np.asarray(y, dtype=np.float64)
        rows = np.flatnonzero(sw > 0)
        coef = np.zeros(rows.size)
        pos = np.searchsorted(rows, model.support_)
        if np.any(pos >= rows.size) or np.any(rows[np.minimum(pos, rows.size - 1)] != model.support_):
            raise ValueError("sample_weight does not match the fit: a support vector has weight 0")
        coef[pos] = model.dual_coef_[0]
        return [("regression", rows, target[rows], sw[rows], coef, float(model.intercept_[0]), None, X.shape[0])]
    classes = model.classes_
    _check_labels(y, classes)
    y_idx = np.searchsorted(classes, y)
    sw = sw * model.class_weight_[y_idx]
    k = classes.size
    full = np.zeros((max(k - 1, 1), X.shape[0]))
    full[:, model.support_] = model.dual_coef_
    out = []
    for t, (i, j) in enumerate(model._pairs):
        rows = np.flatnonzero(((y_idx == i) | (y_idx == j)) & (sw > 0))
        yy = np.where(y_idx[rows] == (j if k == 2 else i), 1.0, -1.0)
        if k == 2:
            coef = full[0, rows]
            label = "binary"
        else:
            # LIBSVM's layout: class i's coefficients in row j - 1, class j's in row i
            coef = np.where(y_idx[rows] == i, full[j - 1, rows], full[i, rows])
            label = f"classes ({_plain(classes[i])!r}, {_plain(classes[j])!r})"
        n_pair = int(np.count_nonzero((y_idx == i) | (y_idx == j)))
        out.append((label, rows, yy, sw[rows], coef, float(model.intercept_[t]), yy if model.class_mask else None,
                    n_pair))
    return out


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def _gl_problem(model, Xr, target, weights):
    from ..problem import SVMProblem

    return SVMProblem(Xr, target, model._kernel_, model._task, C=model.C, weights=weights,
                      epsilon=getattr(model, "epsilon", 0.1), p=model.p)


def _gl_result(problem, coef, b) -> SVMResult:
    if problem.task == "svc":
        a = problem.y * coef
    else:
        a = np.concatenate([np.maximum(coef, 0.0), np.maximum(-coef, 0.0)])
    return SVMResult(coef=coef, b=b, a=a, solver="fitted-model")


def _gl_certificate(model, problem, S, result):
    """The certificate glopt's fit computes (module docstring), and J for p = 1 with S != I."""
    from ..mm import gl_objective, gl_weights

    if problem.p == 2:
        dense = np.eye(problem.n) if S is None else (S.dense() if hasattr(S, "dense") else np.asarray(S))
        return certify(result, replace(problem, S=dense)), None
    if S is None:
        return certify(result, problem), None
    Kc = problem.kernel.matvec(problem.X, result.coef)
    xi = problem.slack(Kc + result.b)
    weighted = replace(problem, weights=gl_weights(problem, S, xi, model.eps))
    return certify(result, weighted, Kcoef=Kc), gl_objective(problem, S, result.coef, result.b, Kcoef=Kc)


def _gl_reference(model, problem, S, result, cert, J):
    from ..generalized import solve_generalized
    from ..mm import gl_objective

    ref = solve_generalized(problem, S, solver=model.solver, eps=model.eps, tol=min(model.tol, 1e-7),
                            mm_tol=min(model.mm_tol, 1e-9), mm_max_iter=max(model.mm_max_iter, 300),
                            accelerate=model.accelerate, cert_tol=min(model.cert_tol, 1e-6),
                            smo_options=model._smo_options())
    ref_cert = ref.extra["certificate"]
    f = problem.decision(result.coef, result.b)
    f_ref = problem.decision(ref.coef, ref.b)
    if J is not None:
        obj, obj_ref = J, gl_objective(problem, S, ref.coef, ref.b)
    else:
        obj, obj_ref = cert.primal, ref_cert.primal
    mismatch = float(np.mean((f > 0) != (f_ref > 0))) if problem.task == "svc" else None
    return {"solver": f"glopt.generalized.solve_generalized (solver={model.solver!r}, tighter tolerances)",
            "objective": float(obj_ref), "objective_diff": float(obj - obj_ref),
            "rel_objective_diff": float((obj - obj_ref) / max(1.0, abs(obj_ref))),
            "max_decision_diff": float(np.max(np.abs(f - f_ref))), "prediction_mismatch": mismatch,
            "reference_rel_gap": float(ref_cert.rel_gap), "reference_kkt_violation": float(ref_cert.kkt_violation)}


def _certify_gl(model, X, y, sample_weight, reference, is_svc) -> list:
    X, y, sw = _gl_data(model, X, y, sample_weight, is_svc)
    reports = []
    for label, rows, target, weights, coef, b, y_mask, n_pair in _gl_subproblems(model, X, y, sw, is_svc):
        Xr = model._kernel_.samples(X, rows)
        problem = _gl_problem(model, Xr, target, weights)
        S = model._correlation(Xr, y_mask)
        result = _gl_result(problem, coef, b)
        cert, J = _gl_certificate(model, problem, S, result)
        info = {"task": problem.task, "p": int(model.p), "C": float(model.C),
                "epsilon": float(problem.epsilon) if problem.task == "svr" else None,
                "kernel": model._kernel_.name, "gamma": float(model._kernel_.gamma),
                "degree": int(model._kernel_.degree), "coef0": float(model._kernel_.coef0),
                "s_kernel": model.s_kernel, "gamma_s": float(model.gamma_s_), "eps": float(model.eps),
                "s_approx": model.s_approx, "class_mask": bool(getattr(model, "class_mask", False)),
                "n_samples": int(problem.n), "weight_min": float(weights.min()), "weight_max": float(weights.max()),
                "certificate": ("stationarity" if (model.p == 1 and S is not None) else "optimality"),
                "gl_objective": None if J is None else float(J)}
        ref = _gl_reference(model, problem, S, result, cert, J) if reference else None
        if n_pair > rows.size:
            info["dropped_samples"] = int(n_pair - rows.size)
        reports.append(SubproblemReport(label=label, form="generalized", problem=info, certificate=cert,
                                        reference=ref))
    return reports


# ------------------------------------------------------------------------------------------
# M3SVM
# ------------------------------------------------------------------------------------------
def _m3svm_data(model, X, y, sample_weight):
    from sklearn.utils.validation import _check_sample_weight, validate_data

    from ..multiclass.objective import as_design_matrix

    if X is None:
        raise TypeError("X must be the training inputs the model was fitted on, got None")
    if y is None:
        raise ValueError("y is required: the training labels the model was fitted on")
    X = validate_data(model, X, reset=False, accept_sparse=("csr", "csc"), dtype=np.float64, order="C")
    X = as_design_matrix(X)
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
    _check_labels(y, model.classes_)
    y_idx = np.searchsorted(model.classes_, y)
    sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
    if np.any(sw < 0):
        raise ValueError("sample_weight must be nonnegative")
    sw = sw * model.class_weight_[y_idx]
    if not sw.sum() > 0:
        raise ValueError("sample_weight (times class_weight_) is zero everywhere")
    return X, y_idx, sw


def _class_vectors(model):
    """The centred class vectors (W, b) of the model (two classes: (-w/2, w/2))."""
    coef = np.asarray(model.coef_, dtype=np.float64)
    b = np.asarray(model.intercept_, dtype=np.float64).ravel()
    if model.classes_.size == 2:
        return np.vstack([-coef[0] / 2, coef[0] / 2]), np.array([-b[0] / 2, b[0] / 2])
    return coef, b


def _m3_pieces(model, X, y, W, b, sw):
    from ..multiclass.objective import pair_incidence

    F = np.asarray(X @ W.T) + (b if model.fit_intercept else 0.0)
    v = sw / sw.sum()
    return F, v, pair_incidence(W.shape[0])


def _loss_dual(loss, F, y, v, delta):
    """(beta or P, G) of the smooth losses at F: the loss derivative."""
    from scipy.special import softmax

    from ..multiclass.objective import smooth_hinge

    n, k = F.shape
    rows = np.arange(n)
    if loss == "logistic":
        P = softmax(F, axis=1)
        G = v[:, None] * P
        G[rows, y] -= v
        return P, G
    U = 1.0 + F - F[rows, y][:, None]
    _, beta = smooth_hinge(U, delta, derivative=True)
    beta[rows, y] = 0.0
    return beta, _hinge_G(beta, y, v)


def _hinge_G(beta, y, v):
    rows = np.arange(beta.shape[0])
    G = v[:, None] * beta
    G[rows, y] = -v * (beta.sum(axis=1) - beta[rows, y])
    return G


def _loss_const(loss, D, y, v, delta) -> float:
    """sum_i v_i c_i(D_i) of the conjugate bound of the loss (module docstring)."""
    rows = np.arange(D.shape[0])
    if loss == "logistic":
        with np.errstate(divide="ignore", invalid="ignore"):
            ent = -np.where(D > 0, D * np.log(D), 0.0).sum(axis=1)
        return float(v @ ent)
    mask = np.ones_like(D, dtype=bool)
    mask[rows, y] = False
    term = D.copy()
    if loss == "smooth_hinge":
        term = term + delta * np.sqrt(np.clip(D * (1.0 - D), 0.0, None))
    return float(v @ np.where(mask, term, 0.0).sum(axis=1))


def _feasible_intercept(loss, D, y, v, n_classes):
    """D shifted so that sum_i G_i = 0, mixed with an interior point where it leaves the domain;
    None where no interior point exists (a class of zero total weight)."""
    m = np.bincount(y, weights=v, minlength=n_classes)
    if np.any(m <= 0):
        return None
    rows = np.arange(D.shape[0])
    live = v > 0
    if loss == "logistic":
        c = v @ D - m                       # column sums of G
        shifted = D - c[None, :]
        interior = np.broadcast_to(m, D.shape)
        lo_ok = shifted >= 0
        need = np.where(lo_ok, 0.0, -shifted / (interior - shifted))
    else:
        G = _hinge_G(D, y, v)
        c = G.sum(axis=0)
        shifted = D - c[None, :]
        shifted[rows, y] = 0.0
        gamma = 0.5 / m.max()
        interior = np.broadcast_to(gamma * m, D.shape).copy()
        interior[rows, y] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            low = np.where(shifted < 0, -shifted / (interior - shifted), 0.0)
            high = np.where(shifted > 1, (shifted - 1.0) / (shifted - interior), 0.0)
        need = np.maximum(low, high)
        need[rows, y] = 0.0
    t = float(np.max(need[live], initial=0.0))
    t = min(1.0, t * (1.0 + 1e-12) if t > 0 else 0.0)
    return (1.0 - t) * shifted + t * interior


def _pair_duals(W, M, alpha, p, E) -> np.ndarray:
    """Lambda with E^T Lambda = -M: the regularizer's gradient at W plus E (Z - E^T Lambda_0) / k."""
    k = W.shape[0]
    Dq = E @ W
    N = np.sqrt(np.einsum("ij,ij->i", Dq, Dq))
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = np.where(N > 0, alpha * p * N ** (p - 1) / N, 0.0)
    Lam = coef[:, None] * Dq
    return Lam + E @ (-M - E.T @ Lam) / k


def _conjugate(Lam, alpha, p) -> float:
    """sum_q (alpha ||.||^p)^*(Lambda_q), an upper bound on (alpha R)^*(E^T Lambda)."""
    norms = np.sqrt(np.einsum("ij,ij->i", Lam, Lam))
    if p == 1:
        return 0.0 if norms.max(initial=0.0) <= alpha else math.inf
    return float(np.sum((p - 1.0) * alpha * (norms / (alpha * p)) ** (p / (p - 1.0))))


def _m3_dual(model, X, y, W, b, sw, D, loss):
    """The Fenchel dual bound at the dual point D (beta or P) of the model, and the intercept residual."""
    F, v, E = _m3_pieces(model, X, y, W, b, sw)
    k = W.shape[0]
    alpha, p, delta = float(model.alpha_), float(model.p), float(model.delta)
    G = _loss_G(loss, D, y, v)
    resid = float(np.max(np.abs(G.sum(axis=0)))) if model.fit_intercept else 0.0
    if not alpha > 0:
        return float("nan"), resid
    if model.fit_intercept:
        D = _feasible_intercept(loss, D, y, v, k)
        if D is None:
            return float("nan"), resid
    G = _loss_G(loss, D, y, v)
    Lam = _pair_duals(W, np.asarray(X.T @ G).T, alpha, p, E)   # M = G^T X, (k, d)
    top = float(np.sqrt(np.einsum("ij,ij->i", Lam, Lam)).max(initial=0.0))
    if p == 1 and top > alpha:
        # scale G (and with it Z and Lambda) into ||Lambda_q|| <= alpha; the box / simplex and
        # sum_i G_i = 0 are kept (logistic: P -> e_y + s (P - e_y))
        s = alpha / top
        if loss == "logistic":
            onehot = np.zeros_like(D)
            onehot[np.arange(D.shape[0]), y] = 1.0
            D = onehot + s * (D - onehot)
        else:
            D = s * D
        Lam = s * Lam * (1.0 - 1e-15)
    conj = _conjugate(Lam, alpha, p)
    return _loss_const(loss, D, y, v, delta) - conj, resid


def _loss_G(loss, D, y, v):
    if loss == "logistic":
        G = v[:, None] * D
        G[np.arange(D.shape[0]), y] -= v
        return G
    return _hinge_G(D, y, v)


def _hinge_band(model, X, y, W, b, sw, tau):
    """beta of the exact hinge: 1 where U > tau, 0 where U < -tau, the band's entries the bounded
    least-squares fit of the stationarity conditions (and sum_i G_i = 0 with an intercept)."""
    from scipy.optimize import lsq_linear

    from ..multiclass.objective import _regularizer

    F, v, E = _m3_pieces(model, X, y, W, b, sw)
    n, k = F.shape
    rows = np.arange(n)
    U = 1.0 + F - F[rows, y][:, None]
    off = np.ones((n, k), dtype=bool)
    off[rows, y] = False
    beta = np.where(off & (U > tau), 1.0, 0.0)
    band_i, band_k = np.nonzero(off & (np.abs(U) <= tau) & (v[:, None] > 0))
    if band_i.size == 0:
        return beta
    _, gR = _regularizer(W, float(model.p), E, grad=True)
    Xd = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
    # the residual [alpha gR + G^T X ; sum_i G] (the last block with an intercept) is affine in the
    # band's beta: entry (i, l) adds v_i x_i to row l and subtracts it from row y_i
    G = _hinge_G(beta, y, v)
    r0 = [(float(model.alpha_) * gR + G.T @ Xd).ravel()]
    d = Xd.shape[1]
    A = np.zeros((k * d + (k if model.fit_intercept else 0), band_i.size))
    vals = v[band_i][:, None] * Xd[band_i]                     # (m, d)
    cols = np.arange(band_i.size)
    for j in range(d):
        A[band_k * d + j, cols] += vals[:, j]
        A[y[band_i] * d + j, cols] -= vals[:, j]
    if model.fit_intercept:
        r0.append(G.sum(axis=0))
        A[k * d + band_k, cols] += v[band_i]
        A[k * d + y[band_i], cols] -= v[band_i]
    r0 = np.concatenate(r0)
    sol = lsq_linear(A, -r0, bounds=(0.0, 1.0), method="bvls", lsmr_tol="auto")
    beta[band_i, band_k] = np.clip(sol.x, 0.0, 1.0)
    return beta


def _m3_kkt(model, X, y, W, b, sw, D, loss):
    """Largest |gradient| (smooth losses) or |subgradient from D| with the band's complementarity (hinge)."""
    from ..multiclass.objective import _regularizer, m3svm_objective

    if loss != "hinge":
        _, gW, gb = m3svm_objective(W, b, X, y, alpha=model.alpha_, p=model.p, loss=loss, delta=model.delta,
                                    sample_weight=sw, return_grad=True)
        g = [np.abs(gW).max()] + ([np.abs(gb).max()] if model.fit_intercept else [])
        return float(max(g))
    F, v, E = _m3_pieces(model, X, y, W, b, sw)
    G = _hinge_G(D, y, v)
    _, gR = _regularizer(W, float(model.p), E, grad=True)
    stat = float(np.abs(model.alpha_ * gR + np.asarray(X.T @ G).T).max())
    if model.fit_intercept:
        stat = max(stat, float(np.abs(G.sum(axis=0)).max()))
    n = F.shape[0]
    rows = np.arange(n)
    U = 1.0 + F - F[rows, y][:, None]
    comp = np.where(D >= 1.0, np.maximum(0.0, -U), np.where(D <= 0.0, np.maximum(0.0, U), np.abs(U)))
    comp[rows, y] = 0.0
    comp[v == 0] = 0.0
    return max(stat, float(comp.max(initial=0.0)))


def _m3_certificate(model, X, y, W, b, sw) -> Certificate:
    from ..multiclass.objective import m3svm_objective

    loss = model.loss
    primal = float(m3svm_objective(W, b, X, y, alpha=model.alpha_, p=model.p, loss=loss, delta=model.delta,
                                   sample_weight=sw))
    if loss == "hinge":
        # every band gives a feasible dual point and a subgradient: the best of each is kept
        duals, kkts = [], []
        for tau in BANDS:
            D = _hinge_band(model, X, y, W, b, sw, tau)
            duals.append(_m3_dual(model, X, y, W, b, sw, D, loss))
            kkts.append(_m3_kkt(model, X, y, W, b, sw, D, loss))
        dual, resid = max(duals, key=lambda t: -math.inf if math.isnan(t[0]) else t[0])
        kkt = min(kkts)
    else:
        F, v, _ = _m3_pieces(model, X, y, W, b, sw)
        D, _ = _loss_dual(loss, F, y, v, float(model.delta))
        dual, resid = _m3_dual(model, X, y, W, b, sw, D, loss)
        kkt = _m3_kkt(model, X, y, W, b, sw, D, loss)
    gap = primal - dual
    scale = max(abs(primal), abs(dual) if not math.isnan(dual) else 0.0, np.finfo(float).tiny)
    return Certificate(primal=primal, dual=float(dual), gap=float(gap), rel_gap=abs(gap) / scale,
                       kkt_violation=kkt, infeasibility=resid)


def _m3_reference(model, X, y, W, b, sw, primal) -> dict:
    from ..cvx.m3svm import solve_m3svm_reference

    ref = solve_m3svm_reference(X, y, model.classes_.size, alpha=model.alpha_, p=model.p, loss=model.loss,
                                delta=model.delta, sample_weight=sw, fit_intercept=bool(model.fit_intercept))
    F = np.asarray(X @ W.T) + (b if model.fit_intercept else 0.0)
    F_ref = np.asarray(X @ ref.coef.T) + ref.intercept
    k = W.shape[0]
    if k == 2:
        dec, dec_ref = F[:, 1] - F[:, 0], F_ref[:, 1] - F_ref[:, 0]
    else:
        dec, dec_ref = F, F_ref
    return {"solver": f"cvxpy (Clarabel), glopt.cvx.m3svm (tolerance {ref.tol:g})",
            "objective": float(ref.objective), "objective_diff": float(primal - ref.objective),
            "rel_objective_diff": float((primal - ref.objective) / max(1.0, abs(ref.objective))),
            "max_decision_diff": float(np.max(np.abs(dec - dec_ref))),
            "prediction_mismatch": float(np.mean(np.argmax(F, axis=1) != np.argmax(F_ref, axis=1)))}


def _certify_m3svm(model, X, y, sample_weight, reference) -> list:
    X, y_idx, sw = _m3svm_data(model, X, y, sample_weight)
    W, b = _class_vectors(model)
    if W.shape[1] != X.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features but the model was fitted on {W.shape[1]}")
    cert = _m3_certificate(model, X, y_idx, W, b, sw)
    k = model.classes_.size
    info = {"loss": model.loss, "p": float(model.p), "alpha": float(model.alpha_), "delta": float(model.delta),
            "fit_intercept": bool(model.fit_intercept), "n_classes": int(k),
            "n_samples": int(np.count_nonzero(sw > 0)),
            "weight_min": float(sw[sw > 0].min()), "weight_max": float(sw.max())}
    ref = _m3_reference(model, X, y_idx, W, b, sw, cert.primal) if reference else None
    return [SubproblemReport(label="binary" if k == 2 else "multi-class", form="m3svm", problem=info,
                             certificate=cert, reference=ref)]
