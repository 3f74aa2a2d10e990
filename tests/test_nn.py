"""glopt.nn: the torch losses against direct numpy formulas, torch's own losses, gradcheck, compile, autocast."""
import math
import os
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from glopt.kernels import RandomFeatureCorrelation, spectral_frequencies  # noqa: E402
from glopt.losses import generalized_loss as np_generalized_loss  # noqa: E402
from glopt.nn import (GeneralizedLoss, ISM3Loss, OneVsRestSVMLoss, generalized_loss,  # noqa: E402
                      get_default_validate_args, ism3_loss, margin_penalty, one_vs_rest_svm_loss,
                      set_default_validate_args)

D64 = torch.float64
KERNELS = [("G", 1.5, 1.0), ("Q", 1.5, 0.7), ("M", 0.5, 1.0), ("M", 1.5, 1.0), ("M", 2.5, 1.0)]


# --------------------------------------------------------------------------------------
# direct numpy reference (written out here, independently of glopt.kernels.s_from_sqdist)
# --------------------------------------------------------------------------------------
def np_S(X, s_kernel, gamma, nu=1.5, alpha=1.0):
    d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    if s_kernel == "I":
        return np.eye(len(X))
    if s_kernel == "G":
        return np.exp(-gamma * d2)
    if s_kernel == "Q":
        return (1 + gamma * d2 / alpha) ** -alpha
    r = np.sqrt(2 * gamma * d2)
    if nu == 0.5:
        return np.exp(-r)
    if nu == 1.5:
        return (1 + np.sqrt(3) * r) * np.exp(-np.sqrt(3) * r)
    return (1 + np.sqrt(5) * r + 5 * r**2 / 3) * np.exp(-np.sqrt(5) * r)


def np_slacks(o, t, task, epsilon=0.0):
    """xi (B, T) and class codes (B,) or None."""
    if task == "regression":
        return np.maximum(np.abs(t - o) - epsilon, 0).reshape(len(o), -1), None
    if o.ndim == 2 and t.ndim == 1:
        T = -np.ones_like(o)
        T[np.arange(len(t)), t] = 1
        return np.maximum(0, 1 - T * o), t
    return np.maximum(0, 1 - t * o).reshape(len(o), 1), (t.reshape(-1) > 0).astype(int)


def np_loss(o, t, X, task="regression", p=2, s_kernel="G", gamma=0.5, nu=1.5, alpha=1.0, mask=False,
            epsilon=0.0, eps=1e-4, reduction="mean"):
    xi, codes = np_slacks(o, t, task, epsilon)
    S = np_S(X.reshape(len(X), -1), s_kernel, gamma, nu, alpha)
    if mask:
        S = S * (codes[:, None] == codes[None, :])
    if s_kernel == "I":
        per = xi**p
    else:
        e = xi if p == 2 else np.sqrt(xi + eps)
        per = e * (S @ e) - (eps if p == 1 else 0.0)
    return {"none": per, "sum": per.sum(), "mean": per.mean()}[reduction]


def batch(seed, task, B=7, D=3, K=4, T=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(B, D))
    if task == "regression":
        o, t = rng.normal(size=(B, T)), rng.normal(size=(B, T))
        if T == 1:
            o, t = o[:, 0], t[:, 0]
    elif task == "binary":
        o, t = rng.normal(size=B), rng.choice([-1.0, 1.0], size=B)
        t[:2] = (-1, 1)
    else:
        o, t = rng.normal(size=(B, K)), rng.integers(0, K, size=B)
        t[:K] = np.arange(K)
    return o, t, X


def tens(*arrays, grad=False):
    out = []
    for a in arrays:
        t = torch.tensor(a, dtype=D64 if np.asarray(a).dtype.kind == "f" else torch.long)
        out.append(t.requires_grad_(grad) if t.is_floating_point() else t)
    return out


def task_of(kind):
    return "regression" if kind == "regression" else "classification"


# --------------------------------------------------------------------------------------
# exact formulas
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind,p,s_kernel,nu,alpha,mask", [
    (k, p, *s, m) for k in ("regression", "binary", "ovr") for p in (1, 2) for s in KERNELS + [("I", 1.5, 1.0)]
    for m in (False, True) if not (m and k == "regression")])
def test_exact_formula_matches_numpy(kind, p, s_kernel, nu, alpha, mask):
    o, t, X = batch(1, kind, T=2 if kind == "regression" else 1)
    ot, tt, Xt = tens(o, t, X)
    for reduction in ("none", "sum", "mean"):
        got = generalized_loss(ot, tt, Xt, task=task_of(kind), p=p, s_kernel=s_kernel, gamma_s=0.4, nu=nu,
                               alpha=alpha, class_mask=mask, epsilon=0.3 if kind == "regression" else 0.0,
                               reduction=reduction)
        want = np_loss(o, t, X, task_of(kind), p, s_kernel, 0.4, nu, alpha, mask,
                       epsilon=0.3 if kind == "regression" else 0.0, reduction=reduction)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-14)


def test_p1_is_the_smoothed_loss_of_glopt_losses():
    """p = 1 with S != I: the value is L_eps(xi) - B eps with glopt.losses' L_eps (same gradient)."""
    o, t, X = batch(2, "binary", B=9)
    ot, tt, Xt = tens(o, t, X)
    S = np_S(X, "G", 0.7)
    xi = np.maximum(0, 1 - t * o)
    got = generalized_loss(ot, tt, Xt, task="classification", p=1, gamma_s=0.7, eps=1e-3, reduction="sum")
    assert got.item() == pytest.approx(np_generalized_loss(xi, S, 1, 1e-3) - 9 * 1e-3, rel=1e-13)


def test_reductions_are_consistent_and_none_sums_to_sum():
    o, t, X = batch(3, "ovr", B=6, K=3)
    ot, tt, Xt = tens(o, t, X)
    kw = dict(task="classification", p=2, gamma_s=0.3)
    none = generalized_loss(ot, tt, Xt, reduction="none", **kw)
    assert none.shape == (6, 3)
    assert generalized_loss(ot, tt, Xt, reduction="sum", **kw).item() == pytest.approx(none.sum().item(), rel=1e-14)
    assert generalized_loss(ot, tt, Xt, reduction="mean", **kw).item() == pytest.approx(none.sum().item() / 18,
                                                                                      rel=1e-14)


def test_gamma_scale_is_inverse_median_squared_distance():
    o, t, X = batch(4, "regression", B=6)        # 15 pairs: the median is one of them (odd count)
    ot, tt, Xt = tens(o, t, X)
    d2 = ((X[:, None] - X[None]) ** 2).sum(-1)[np.triu_indices(6, 1)]
    gamma = 1 / np.median(d2)
    got = generalized_loss(ot, tt, Xt, gamma_s="scale", reduction="sum")
    assert got.item() == pytest.approx(np_loss(o, t, X, gamma=gamma, reduction="sum"), rel=1e-12)


# --------------------------------------------------------------------------------------
# S = I identities and limits
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(16,), (16, 3)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_identity_is_mse_and_l1_exactly(shape, reduction):
    g = torch.Generator().manual_seed(0)
    o, t = torch.randn(shape, generator=g), torch.randn(shape, generator=g)       # float32, as in training
    got = generalized_loss(o, t, s_kernel="I", p=2, reduction=reduction)
    want = torch.nn.MSELoss(reduction=reduction)(o, t)
    assert torch.equal(got.reshape(want.shape), want)
    got = generalized_loss(o, t, s_kernel="I", p=1, reduction=reduction)
    want = torch.nn.L1Loss(reduction=reduction)(o, t)
    assert torch.equal(got.reshape(want.shape), want)


def test_identity_is_hinge_and_squared_hinge():
    o, t, _ = batch(5, "binary", B=12)
    ot, tt = tens(o, t)
    h = torch.relu(1 - tt * ot)
    for p in (1, 2):
        got = generalized_loss(ot, tt, s_kernel="I", task="classification", p=p, reduction="sum")
        assert got.item() == pytest.approx((h**p).sum().item(), rel=1e-15)
    o, t, _ = batch(5, "ovr", B=12, K=5)
    ot, tt = tens(o, t)
    ovr = one_vs_rest_svm_loss(ot, tt, reduction="sum")
    got = generalized_loss(ot, tt, s_kernel="I", task="classification", p=2, reduction="sum")
    assert got.item() == pytest.approx(ovr.item(), rel=1e-14)


def test_large_gamma_tends_to_identity():
    o, t, X = batch(6, "regression", B=10)
    ot, tt, Xt = tens(o, t, X)
    ident = generalized_loss(ot, tt, s_kernel="I")
    # min pairwise d^2 here is > 0.05, so exp(-1e4 * 0.05) ~ 1e-217 off the diagonal
    assert generalized_loss(ot, tt, Xt, s_kernel="G", gamma_s=1e4).item() == pytest.approx(ident.item(), rel=1e-15)


# --------------------------------------------------------------------------------------
# class mask
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("s_approx", ["exact", "rff"])
@pytest.mark.parametrize("kind", ["binary", "ovr"])
def test_class_mask_is_the_sum_over_classes(s_approx, kind):
    """Masked loss over the batch == sum over classes of the unmasked loss on that class's samples:
    every cross-class term is zero (exactly, also for random features, which are split per class)."""
    o, t, X = batch(7, kind, B=12, K=3)
    ot, tt, Xt = tens(o, t, X)
    kw = dict(task="classification", p=2, gamma_s=0.2, s_approx=s_approx, n_components=64, random_state=3,
              reduction="sum")
    masked = generalized_loss(ot, tt, Xt, class_mask=True, **kw)
    codes = t if kind == "ovr" else (t > 0).astype(int)
    parts = 0.0
    for c in np.unique(codes):
        m = torch.from_numpy(codes == c)
        assert m.sum() >= 2        # (the loss of one class alone needs two samples)
        parts += generalized_loss(ot[m], tt[m], Xt[m], class_mask=False, **kw).item()
    assert masked.item() == pytest.approx(parts, rel=1e-12)
    assert masked.item() < generalized_loss(ot, tt, Xt, class_mask=False, **kw).item()


# --------------------------------------------------------------------------------------
# random Fourier features
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("s_kernel,nu,alpha", KERNELS)
def test_rff_is_glopt_random_feature_correlation(s_kernel, nu, alpha):
    """Same seed, same features as glopt.kernels.RandomFeatureCorrelation: one sampler, not a copy."""
    o, t, X = batch(8, "regression", B=9)
    ot, tt, Xt = tens(o, t, X)
    got = generalized_loss(ot, tt, Xt, s_kernel=s_kernel, gamma_s=0.6, nu=nu, alpha=alpha, s_approx="rff",
                           n_components=50, random_state=11, reduction="sum")
    Z = RandomFeatureCorrelation(X, s_kernel, 0.6, nu=nu, alpha=alpha, n_components=50, random_state=11)
    e = np.abs(t - o)
    assert got.item() == pytest.approx(e @ Z.dense() @ e, rel=1e-12)


@pytest.mark.parametrize("s_kernel,nu,alpha", [("G", 1.5, 1.0), ("Q", 1.5, 0.7), ("M", 1.5, 1.0)])
def test_rff_error_falls_at_the_monte_carlo_rate(s_kernel, nu, alpha):
    """||Z^T e||^2 is the mean of R i.i.d. terms Y_r = 2 (sum_i cos(w_r x_i + b_r) e_i)^2 with mean e^T S e,
    so its mean squared error is Var(Y) / R. Var(Y) is estimated from 20,000 independent draws of
    (w, b) made here with glopt.kernels.spectral_frequencies; over 40 seeds the mean squared error
    must lie within [0.4, 2] Var(Y) / R at every R (for Gaussian errors, 40 chi-square(1)/40 leaves
    these bounds with probability < 1e-3; the seeds are fixed, so the test is deterministic). A biased
    estimator fails the upper bound as R grows (its error stops falling at the bias)."""
    o, t, X = batch(9, "regression", B=12)
    ot, tt, Xt = tens(o, t, X)
    gamma = 0.5
    exact = generalized_loss(ot, tt, Xt, s_kernel=s_kernel, gamma_s=gamma, nu=nu, alpha=alpha, reduction="sum").item()
    e = np.abs(t - o)
    rng = np.random.default_rng(12345)
    W = spectral_frequencies(s_kernel, gamma, 3, 20000, rng, nu, alpha)
    b = rng.uniform(0, 2 * np.pi, 20000)
    Y = 2 * (np.cos(X @ W + b).T @ e) ** 2
    assert Y.mean() == pytest.approx(exact, rel=4 * Y.std() / math.sqrt(20000) / exact)   # unbiased
    var = Y.var()
    mses = []
    for R in (8, 32, 128, 512):
        errs = [generalized_loss(ot, tt, Xt, s_kernel=s_kernel, gamma_s=gamma, nu=nu, alpha=alpha, s_approx="rff",
                                 n_components=R, random_state=1000 + s, reduction="sum").item() - exact
                for s in range(40)]
        mse = float(np.mean(np.square(errs)))
        assert 0.4 * var / R <= mse <= 2.0 * var / R, (R, mse, var / R)
        # unbiased: the mean error over the 40 seeds is within 4 of its standard errors of 0
        # (this catches a feature scale off by 5%, which the MSE bound alone would not)
        assert abs(np.mean(errs)) <= 4 * math.sqrt(var / (R * 40)), (R, np.mean(errs))
        mses.append(mse)
    assert mses[-1] < mses[0] / 20          # 64 times more features: about 64 times smaller


def test_rff_module_draws_once_and_matches_functional():
    o, t, X = batch(10, "ovr", B=8)
    ot, tt, Xt = tens(o, t, X)
    kw = dict(task="classification", gamma_s=0.3, s_approx="rff", n_components=32, random_state=5)
    mod = GeneralizedLoss(**kw)
    a, b = mod(ot, tt, Xt), mod(ot, tt, Xt)
    assert a.item() == b.item() == generalized_loss(ot, tt, Xt, **kw).item()
    fresh = GeneralizedLoss(**dict(kw, random_state=None))
    assert fresh(ot, tt, Xt).item() == fresh(ot, tt, Xt).item()    # one draw, kept


# --------------------------------------------------------------------------------------
# gradients
# --------------------------------------------------------------------------------------
GRID = [(k, p, *s, a) for k in ("regression", "binary", "ovr") for p in (1, 2)
        for s in KERNELS + [("I", 1.5, 1.0)] for a in ("exact", "rff") if not (s[0] == "I" and a == "rff")]


@pytest.mark.parametrize("kind,p,s_kernel,nu,alpha,s_approx", GRID)
def test_gradcheck_generalized_loss(kind, p, s_kernel, nu, alpha, s_approx):
    """Every reduction, with and without class mask, in input and features (float64). The grid uses
    gradcheck's fast mode (the numerical and analytical Jacobians compared along random directions,
    which any wrong entry changes almost surely); the full Jacobian is compared for the G/M corners,
    where the fast mode costs 70 times less."""
    o, t, X = batch(11, kind, B=5, K=3)
    ot, tt, Xt = tens(o, t, X, grad=True)
    full = s_kernel in ("G", "M") and nu == 1.5 and kind == "ovr"
    for reduction in ("none", "sum", "mean"):
        for mask in ([False, True] if kind != "regression" else [False]):
            def f(a, x):
                return generalized_loss(a, tt, x, task=task_of(kind), p=p, s_kernel=s_kernel, gamma_s=0.5, nu=nu,
                                        alpha=alpha, class_mask=mask, s_approx=s_approx, n_components=16,
                                        random_state=0, reduction=reduction)
            assert torch.autograd.gradcheck(f, (ot, Xt), fast_mode=not full)


def test_gradcheck_gamma_scale():
    """gamma_s='scale' is a constant of the step (computed without gradient), so the check is in input."""
    o, t, X = batch(12, "regression", B=6)
    ot, tt, Xt = tens(o, t, X, grad=True)
    assert torch.autograd.gradcheck(lambda a: generalized_loss(a, tt, Xt, gamma_s="scale", p=1), (ot,))


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("s_kernel", ["G", "M", "I"])
def test_no_nan_gradient_at_zero_error(p, s_kernel):
    """Errors exactly zero (o = t, and hinge slacks zero) give finite gradients, also for p = 1."""
    o = torch.tensor([0.5, 0.5, -1.0, 2.0], dtype=D64, requires_grad=True)
    t = torch.tensor([0.5, 0.5, -1.0, 0.0], dtype=D64)
    X = torch.tensor([[0.0], [0.0], [1.0], [2.0]], dtype=D64, requires_grad=True)   # a duplicate row
    for kw in (dict(task="regression", s_kernel=s_kernel), dict(task="classification", s_kernel=s_kernel)):
        tt = t if kw["task"] == "regression" else torch.tensor([1.0, 1.0, -1.0, -1.0], dtype=D64)
        oo = o if kw["task"] == "regression" else torch.tensor([1.5, 1.0, -3.0, 0.2], dtype=D64, requires_grad=True)
        generalized_loss(oo, tt, X, p=p, gamma_s=0.5, nu=0.5, **kw).backward()
        assert torch.isfinite(oo.grad).all() and (X.grad is None or torch.isfinite(X.grad).all())
        X.grad = None


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_gradcheck_ovr_and_ism3(reduction):
    o, t, _ = batch(13, "ovr", B=6, K=3)
    ot, tt = tens(o, t, grad=True)
    W = torch.randn(3, 4, dtype=D64, generator=torch.Generator().manual_seed(1), requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, w: one_vs_rest_svm_loss(a, tt, w, C=0.7, reduction=reduction), (ot, W))
    for p in (1.0, 1.5, 2.0, 3.0):
        # full Jacobian at p = 1.5, fast mode (random directions) for the others
        assert torch.autograd.gradcheck(lambda a, w: ism3_loss(a, tt, w, lam=0.3, p=p, reduction=reduction), (ot, W),
                                        fast_mode=p != 1.5)


# --------------------------------------------------------------------------------------
# one-vs-rest SVM head, ISM3
# --------------------------------------------------------------------------------------
def test_ovr_svm_formula():
    o, t, _ = batch(14, "ovr", B=10, K=4)
    W = np.random.default_rng(0).normal(size=(4, 5))
    ot, tt, Wt = tens(o, t, W)
    T = -np.ones_like(o)
    T[np.arange(10), t] = 1
    data = 2.5 * (np.maximum(0, 1 - T * o) ** 2).sum()
    assert OneVsRestSVMLoss(C=2.5, reduction="sum")(ot, tt, Wt).item() == pytest.approx(data + 0.5 * (W**2).sum(),
                                                                                        rel=1e-14)
    assert OneVsRestSVMLoss(C=2.5)(ot, tt, Wt).item() == pytest.approx(data / 10 + 0.5 * (W**2).sum(), rel=1e-14)
    assert OneVsRestSVMLoss(C=2.5, reduction="none")(ot, tt).sum().item() == pytest.approx(data, rel=1e-14)


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 4.0])
def test_ism3_formula(p):
    o, t, _ = batch(15, "ovr", B=10, K=5)
    W = np.random.default_rng(1).normal(size=(5, 3))
    ot, tt, Wt = tens(o, t, W)
    pen = sum(np.linalg.norm(W[k] - W[l]) ** p for k in range(5) for l in range(k + 1, 5))
    ce = torch.nn.functional.cross_entropy(ot, tt).item()
    assert margin_penalty(Wt, p).item() == pytest.approx(pen, rel=1e-13)
    assert ISM3Loss(lam=0.2, p=p)(ot, tt, Wt).item() == pytest.approx(ce + 0.2 * pen, rel=1e-13)


@pytest.mark.parametrize("p", [1.0, 1.5])
def test_ism3_gradient_guard_at_coincident_rows(p):
    """Rows 0 and 1 coincide: ||w_0 - w_1||^p has no gradient there for p < 2; the guard gives 0
    for that pair (finite), and the other pairs keep their exact gradient."""
    W = torch.tensor([[1.0, 2.0], [1.0, 2.0], [-1.0, 0.5]], dtype=D64, requires_grad=True)
    margin_penalty(W, p).backward()
    assert torch.isfinite(W.grad).all()
    Wd = W.detach()
    want = torch.zeros_like(Wd)
    for k, l in ((0, 2), (1, 2)):
        d = Wd[k] - Wd[l]
        g = p * d.norm() ** (p - 2) * d
        want[k] += g
        want[l] -= g
    torch.testing.assert_close(W.grad, want, rtol=1e-13, atol=1e-15)


# --------------------------------------------------------------------------------------
# torch.compile, autocast
# --------------------------------------------------------------------------------------
def _compile_case(backend):
    """One training-step graph with all four losses, compiled with fullgraph=True: any graph break
    (a host sync, numpy on a traced value) fails the test. Values and gradients match eager."""
    torch._dynamo.reset()
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(16, 5, generator=g), torch.randint(0, 3, (16,), generator=g)
    net = torch.nn.Linear(5, 3)
    gl = GeneralizedLoss(task="classification", class_mask=True, p=1)
    rff = GeneralizedLoss(task="classification", s_approx="rff", n_components=32, s_kernel="M")
    ovr, ism3 = OneVsRestSVMLoss(), ISM3Loss(p=1.5)

    def step(x, t):
        out = net(x)
        return gl(out, t, x) + rff(out, t, x) + ovr(out, t, net.weight) + ism3(out, t, net.weight)

    eager = step(X, y)          # (also draws the random features once, outside the graph)
    eager.backward()
    g_eager = net.weight.grad.clone()
    net.zero_grad()
    comp = torch.compile(step, backend=backend, fullgraph=True)(X, y)
    comp.backward()
    torch.testing.assert_close(comp, eager, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(net.weight.grad, g_eager, rtol=1e-5, atol=1e-6)


def test_torch_compile_traces():
    """Dynamo + AOTAutograd (backend 'aot_eager'). The C++ inductor backend is exercised by the next
    test; its cold compile takes 45-120 s on this 2-core CPU, too long for every CI run."""
    _compile_case("aot_eager")


@pytest.mark.skipif(os.environ.get("GLOPT_TEST_INDUCTOR") != "1",
                    reason="inductor's cold C++ compile takes 45-120 s here; set GLOPT_TEST_INDUCTOR=1 to run it")
def test_torch_compile_inductor():
    from torch._inductor import cpp_builder

    if shutil.which(cpp_builder.get_cpp_compiler()) is None:
        pytest.skip("no C++ compiler for inductor's CPU backend")
    _compile_case("inductor")


@pytest.mark.parametrize("s_approx", ["exact", "rff"])
def test_autocast_bf16_accumulates_s_in_float32(s_approx):
    """Under autocast-bf16 the network's outputs are bf16, the loss float32: it equals the float64
    loss of the same bf16 values to float32 accuracy (a bf16 S or bf16 products would be off by ~1e-2)."""
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(64, 20, generator=g), torch.randint(0, 4, (64,), generator=g)
    net = torch.nn.Linear(20, 4)
    loss = GeneralizedLoss(task="classification", gamma_s=0.05, s_approx=s_approx, n_components=128)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = net(X)
        feats = X.to(torch.bfloat16)
        val = loss(out, y, feats)
    assert out.dtype == torch.bfloat16 and val.dtype == torch.float32
    ref = loss(out.detach().double(), y, feats.double())
    assert val.item() == pytest.approx(ref.item(), rel=2e-6)
    val.backward()
    assert torch.isfinite(net.weight.grad).all()


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------
def _bad_cases():
    """Errors found from metadata (types, shapes, devices, options): raised whether or not values
    are validated."""
    o, t, X = (torch.randn(6), torch.randn(6), torch.randn(6, 2))
    s, c = torch.randn(6, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    cls = dict(task="classification")
    return [
        ("same shape", lambda: generalized_loss(o, t[:5], X)),
        ("same shape", lambda: generalized_loss(o[:, None], t, X)),
        ("features must have shape", lambda: generalized_loss(o, t, X[:5])),
        ("integer tensor", lambda: generalized_loss(s, c.double(), X, **cls)),
        ("bool tensor", lambda: generalized_loss(o, t > 0, X, **cls)),
        ("empty", lambda: generalized_loss(o[:0], t[:0], X[:0])),
        ("empty", lambda: generalized_loss(o[:0], t[:0], X[:0], s_kernel="I")),
        ("empty", lambda: generalized_loss(s[:0], c[:0], X[:0], **cls)),
        ("empty", lambda: GeneralizedLoss(s_approx="rff")(o[:0], t[:0], X[:0])),
        ("empty", lambda: one_vs_rest_svm_loss(s[:0], c[:0])),
        ("empty", lambda: ism3_loss(s[:0], c[:0], torch.randn(3, 2))),
        ("device", lambda: generalized_loss(o, t, X.to("meta"))),
        ("device", lambda: one_vs_rest_svm_loss(s, c.to("meta"))),
        ("device", lambda: ism3_loss(s, c, torch.randn(3, 2, device="meta"))),
        ("device", lambda: OneVsRestSVMLoss(weight=torch.ones(3, device="meta"))(s, c)),
        (r"last_layer_weight must be a floating-point tensor \(K, D\)", lambda: ism3_loss(s, c, torch.randn(3))),
        (r"weight must be a floating-point tensor \(K, D\)", lambda: margin_penalty(torch.randn(3))),
        (r"per-class weight\) must be a floating-point tensor of shape \(K,\) = \(3,\)",
         lambda: OneVsRestSVMLoss(weight=torch.ones(4))(s, c)),
        (r"per-class weight\) must be a floating-point tensor of shape \(K,\)", lambda: ISM3Loss(weight=torch.ones(3, 1))),
        (r"per-class weight", lambda: ism3_loss(s, c, torch.randn(3, 2), weight=torch.ones(2))),
        ("needs last_layer_weight", lambda: ism3_loss(s, c)),
        ("ignore_index must be an integer", lambda: ISM3Loss(ignore_index=1.5)),
        ("validate_args must be", lambda: GeneralizedLoss(validate_args="yes")),
        ("validate_args must be", lambda: generalized_loss(o, t, X, validate_args=1)),
        ("features", lambda: generalized_loss(o, t)),
        ("reduction", lambda: generalized_loss(o, t, X, reduction="avg")),
        ("s_kernel", lambda: GeneralizedLoss(s_kernel="rbf")),
        ("task", lambda: GeneralizedLoss(task="ranking")),
        ("s_approx", lambda: GeneralizedLoss(s_approx="nystroem")),
        ("p must be 1 or 2", lambda: GeneralizedLoss(p=3)),
        ("nu", lambda: GeneralizedLoss(s_kernel="M", nu=2.0)),
        ("gamma_s", lambda: GeneralizedLoss(gamma_s="auto")),
        ("gamma_s", lambda: GeneralizedLoss(gamma_s=-1.0)),
        ("class_mask needs classes", lambda: GeneralizedLoss(class_mask=True)),
        ("n_components", lambda: GeneralizedLoss(s_approx="rff", n_components=0)),
        ("random_state", lambda: GeneralizedLoss(s_approx="rff", random_state="seed")),
        ("integer random_state", lambda: GeneralizedLoss(s_approx="rff", random_state=None, global_batch=True)),
        ("shape \\(B, K\\)", lambda: one_vs_rest_svm_loss(o, c)),
        ("target must have shape", lambda: ism3_loss(s, c[:4], torch.randn(3, 2))),
        ("last_layer_weight has 2 rows", lambda: ism3_loss(s, c, torch.randn(2, 2))),
        ("C must", lambda: OneVsRestSVMLoss(C=0)),
        ("lam must", lambda: ISM3Loss(lam=-1)),
        ("p must", lambda: ISM3Loss(p=0)),
        ("reduction", lambda: ISM3Loss(reduction="avg")),
    ]


def _value_cases():
    """Errors only the tensors' values show: raised when values are validated (validate_args)."""
    o, t, X = (torch.randn(6), torch.randn(6), torch.randn(6, 2))
    s, c = torch.randn(6, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    b = torch.tensor([1.0, -1, 1, -1, 1, -1])
    cls = dict(task="classification")
    nan = o.clone()
    nan[2] = float("nan")
    W = torch.randn(3, 2)
    return [
        ("-1 or \\+1", lambda v: generalized_loss(o, torch.tensor([1.0, 0, 1, -1, 1, -1]), X, **cls, validate_args=v)),
        ("-1 or \\+1", lambda v: generalized_loss(o, b * 2, X, **cls, validate_args=v)),
        ("outside \\[0, 2\\]", lambda v: generalized_loss(s, torch.tensor([0, 1, 3, 0, 1, 2]), X, **cls,
                                                           validate_args=v)),
        ("outside \\[0, 2\\]", lambda v: GeneralizedLoss(**cls, validate_args=v)(s, -c, X)),
        ("NaN or infinity", lambda v: generalized_loss(nan, t, X, validate_args=v)),
        ("NaN or infinity", lambda v: GeneralizedLoss(s_approx="rff", validate_args=v)(o, t, X / 0)),
        ("NaN or infinity", lambda v: ism3_loss(s, c, torch.full((3, 2), float("inf")), validate_args=v)),
        ("NaN or infinity", lambda v: margin_penalty(torch.full((3, 2), float("nan")), validate_args=v)),
        ("NaN or infinity", lambda v: OneVsRestSVMLoss(validate_args=v)(s / 0, c)),
        ("no two distinct rows", lambda v: generalized_loss(o, t, torch.ones(6, 2), validate_args=v)),
        ("no two distinct rows", lambda v: generalized_loss(o, t, torch.ones(6, 2), s_approx="rff", validate_args=v)),
        ("outside \\[0, 2\\]", lambda v: one_vs_rest_svm_loss(s, c + 1, validate_args=v)),
        ("other than ignore_index=-1", lambda v: ISM3Loss(ignore_index=-1, validate_args=v)(s, c - 2, W),
         IndexError),          # unvalidated: cross_entropy's own check on the CPU (a device assert on CUDA)
        ("must be >= 0", lambda v: OneVsRestSVMLoss(weight=torch.tensor([1.0, -1.0, 1.0]), validate_args=v)(s, c)),
    ]


@pytest.mark.parametrize("case", range(len(_bad_cases())))
def test_bad_input_raises_value_error(case):
    match, call = _bad_cases()[case]
    with pytest.raises(ValueError, match=match):
        call()


@pytest.fixture
def validating():
    """Value checks on by default for the test (and the default restored after it)."""
    previous = set_default_validate_args(True)
    yield
    set_default_validate_args(previous)


@pytest.mark.parametrize("case", range(len(_value_cases())))
def test_bad_values_raise_when_validated(case):
    match, call, *torch_error = _value_cases()[case]
    assert get_default_validate_args() is False             # off by default: no host sync
    with pytest.raises(ValueError, match=match):
        call(True)                                          # per call (or per module)
    with pytest.raises(ValueError, match=match):
        previous = set_default_validate_args(True)          # the module-level switch
        try:
            call(None)
        finally:
            set_default_validate_args(previous)
    assert get_default_validate_args() is False
    if torch_error:
        with pytest.raises(torch_error[0]):
            call(False)
    else:
        call(False)           # not validated: computed without a look at the values (no error raised)


def test_validation_switch_and_valid_input(validating):
    """Validation changes nothing for valid input; the switch takes bools only and returns the previous value."""
    o, t, X = batch(21, "ovr", B=8)
    ot, tt, Xt = tens(o, t, X)
    kw = dict(task="classification", gamma_s="scale")
    on = generalized_loss(ot, tt, Xt, **kw)
    assert on.item() == generalized_loss(ot, tt, Xt, validate_args=False, **kw).item()
    assert set_default_validate_args(False) is True
    assert set_default_validate_args(True) is False
    with pytest.raises(ValueError, match="True or False"):
        set_default_validate_args(1)


def test_scale_without_distinct_rows_unvalidated_is_finite():
    """gamma_s='scale' on features whose pairs mostly coincide (median distance 0) raises when validating;
    without validation the median is replaced by the smallest positive float: S = 1 between equal rows,
    0 between distinct ones, a finite loss with finite gradients."""
    X = torch.tensor([[0.0], [0.0], [0.0], [1.0]], dtype=D64)
    o = torch.tensor([0.5, -1.0, 2.0, 0.3], dtype=D64, requires_grad=True)
    t = torch.zeros(4, dtype=D64)
    got = generalized_loss(o, t, X, reduction="sum")
    got.backward()
    e = o.detach().abs()
    assert got.item() == pytest.approx(e[:3].sum().item() ** 2 + e[3].item() ** 2, rel=1e-14)
    assert torch.isfinite(o.grad).all()


@pytest.mark.parametrize("s_approx", ["exact", "rff"])
@pytest.mark.parametrize("kind", ["regression", "binary", "ovr"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("p", [1, 2])
def test_a_batch_of_one_sample_is_the_standard_loss(s_approx, kind, reduction, p):
    """S of one sample is [[1]] (also for random features, whose S_11 is only about 1): the loss is the
    standard one (MSELoss / L1Loss, the squared hinge / hinge), so a DataLoader's last batch of one needs
    no special handling."""
    g = torch.Generator().manual_seed(17)
    X = torch.randn(1, 4, generator=g, dtype=D64)
    if kind == "regression":
        o, t = torch.randn(1, 3, generator=g, dtype=D64), torch.randn(1, 3, generator=g, dtype=D64)
        xi = (o - t).abs()
    elif kind == "binary":
        o, t = torch.tensor([0.3], dtype=D64), torch.tensor([1.0], dtype=D64)
        xi = torch.relu(1 - t * o)[:, None]
    else:
        o, t = torch.tensor([[0.3, -2.0, 0.5]], dtype=D64), torch.tensor([2])
        xi = torch.relu(1 - torch.tensor([[-1.0, -1.0, 1.0]], dtype=D64) * o)
    for s_kernel in ("G", "Q", "M"):
        got = GeneralizedLoss(p=p, task=task_of(kind), s_kernel=s_kernel, s_approx=s_approx,
                              reduction=reduction)(o, t, X)
        ref = generalized_loss(o, t, task=task_of(kind), p=p, s_kernel="I", reduction=reduction)
        assert torch.equal(got, ref)
    want = {"none": xi ** p, "sum": (xi ** p).sum(), "mean": (xi ** p).mean()}[reduction]
    torch.testing.assert_close(ref, want, rtol=1e-15, atol=0)
    if kind == "regression":
        want = (torch.nn.MSELoss if p == 2 else torch.nn.L1Loss)(reduction=reduction)(o, t)
        assert torch.equal(ref.reshape(want.shape), want)


def test_heads_accept_a_batch_of_one():
    o, t = torch.randn(1, 4, dtype=D64), torch.tensor([2])
    W = torch.randn(4, 3, dtype=D64)
    torch.testing.assert_close(ism3_loss(o, t, W, lam=0.0), torch.nn.functional.cross_entropy(o, t))
    T = -torch.ones(1, 4, dtype=D64)
    T[0, 2] = 1
    assert one_vs_rest_svm_loss(o, t).item() == pytest.approx(torch.relu(1 - T * o).square().sum().item(), rel=1e-15)


def test_global_batch_without_process_group_is_the_ordinary_loss():
    o, t, X = batch(16, "ovr", B=8)
    ot, tt, Xt = tens(o, t, X)
    kw = dict(task="classification", gamma_s=0.5, class_mask=True)
    assert generalized_loss(ot, tt, Xt, global_batch=True, **kw).item() == generalized_loss(ot, tt, Xt, **kw).item()


# --------------------------------------------------------------------------------------
# torch's conventions: _Loss, per-class weight, ignore_index, the renamed last-layer weight
# --------------------------------------------------------------------------------------
def test_losses_are_torch_losses():
    from torch.nn.modules.loss import _Loss, _WeightedLoss

    for loss in (GeneralizedLoss(), OneVsRestSVMLoss(), ISM3Loss()):
        assert isinstance(loss, _Loss) and loss.reduction == "mean"
    assert isinstance(OneVsRestSVMLoss(), _WeightedLoss) and isinstance(ISM3Loss(), _WeightedLoss)
    # the per-class weight is a buffer: it moves with the module and is in the state dict
    w = torch.tensor([1.0, 2.0, 0.5])
    m = ISM3Loss(weight=w).double()
    assert m.weight.dtype == D64 and "weight" in m.state_dict()
    # reduction can be changed after construction, as for torch's losses
    o, t, X = batch(18, "ovr", B=6, K=3)
    ot, tt, Xt = tens(o, t, X)
    for loss, args in ((GeneralizedLoss(task="classification", gamma_s=0.5), (ot, tt, Xt)),
                       (OneVsRestSVMLoss(), (ot, tt)), (ISM3Loss(lam=0.0), (ot, tt))):
        loss.reduction = "none"
        per = loss(*args)
        loss.reduction = "sum"
        assert per.dim() >= 1 and loss(*args).item() == pytest.approx(per.sum().item(), rel=1e-14)
    gl = GeneralizedLoss(task="classification", gamma_s=0.5)
    gl.gamma_s = 2.0            # options can be changed too: checked again at the next call
    assert gl(ot, tt, Xt).item() == pytest.approx(generalized_loss(ot, tt, Xt, task="classification",
                                                                   gamma_s=2.0).item(), rel=1e-15)
    gl.gamma_s = -1.0
    with pytest.raises(ValueError, match="gamma_s"):
        gl(ot, tt, Xt)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ism3_with_lam_zero_is_cross_entropy_also_with_weight_and_ignore_index(reduction):
    g = torch.Generator().manual_seed(3)
    o, t = torch.randn(12, 4, generator=g), torch.randint(0, 4, (12,), generator=g)
    w = torch.rand(4, generator=g) + 0.2
    W = torch.randn(4, 5, generator=g)
    for kw in (dict(), dict(weight=w), dict(ignore_index=1), dict(weight=w, ignore_index=-100)):
        tt = t.clone()
        tt[[2, 7]] = kw.get("ignore_index", -100) if kw else 0
        want = torch.nn.CrossEntropyLoss(reduction=reduction, **kw)(o, tt)
        assert torch.equal(ISM3Loss(lam=0.0, reduction=reduction, **kw)(o, tt, W), want)
        assert torch.equal(ism3_loss(o, tt, W, lam=0.0, reduction=reduction, **kw), want)
        assert torch.equal(ISM3Loss(lam=0.0, reduction=reduction, **kw)(o, tt), want)     # no W needed
    # and with lam > 0 the penalty is added to that cross-entropy
    t[3] = -100
    ce = torch.nn.CrossEntropyLoss(weight=w.double())(o.double(), t)
    got = ISM3Loss(lam=0.3, p=1.5, weight=w)(o.double(), t, W.double())
    assert got.item() == pytest.approx(ce.item() + 0.3 * margin_penalty(W.double(), 1.5).item(), rel=1e-14)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ovr_weight_and_ignore_index_formula(reduction):
    """Per-class weight and ignore_index as CrossEntropyLoss: sample n's term times weight[y_n], ignored
    samples contribute 0, 'mean' divides by the sum of the kept samples' weights."""
    o, t, _ = batch(19, "ovr", B=10, K=4)
    t[3] = t[8] = -1
    w = np.array([0.5, 2.0, 1.0, 3.0])
    W = np.random.default_rng(2).normal(size=(4, 5))
    ot, tt, wt, Wt = tens(o, t, w, W)
    T = -np.ones_like(o)
    keep = t >= 0
    T[np.arange(10)[keep], t[keep]] = 1
    per = 1.5 * (np.maximum(0, 1 - T * o) ** 2).sum(1) * np.where(keep, w[np.maximum(t, 0)], 0)
    want = {"none": per, "sum": per.sum(), "mean": per.sum() / w[t[keep]].sum()}[reduction]
    got = OneVsRestSVMLoss(C=1.5, reduction=reduction, weight=wt, ignore_index=-1)(ot, tt)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-14)
    if reduction != "none":
        got = one_vs_rest_svm_loss(ot, tt, Wt, C=1.5, reduction=reduction, weight=wt, ignore_index=-1)
        assert got.item() == pytest.approx(want + 0.5 * (W ** 2).sum(), rel=1e-14)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_gradcheck_heads_with_weight_and_ignore_index(reduction):
    o, t, _ = batch(20, "ovr", B=7, K=3)
    t[4] = -100
    ot, tt = tens(o, t, grad=True)
    w = torch.tensor([0.5, 2.0, 1.3], dtype=D64)
    W = torch.randn(3, 4, dtype=D64, generator=torch.Generator().manual_seed(2), requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, m: one_vs_rest_svm_loss(a, tt, m, weight=w, C=0.7, reduction=reduction),
                                    (ot, W))
    assert torch.autograd.gradcheck(lambda a, m: ism3_loss(a, tt, m, weight=w, lam=0.3, p=1.5, reduction=reduction),
                                    (ot, W))


def test_old_weight_keyword_still_works_with_a_future_warning():
    o, t, _ = batch(22, "ovr", B=6, K=3)
    W = np.random.default_rng(4).normal(size=(3, 2))
    ot, tt, Wt = tens(o, t, W)
    for new, old in ((lambda: OneVsRestSVMLoss()(ot, tt, last_layer_weight=Wt),
                      lambda: OneVsRestSVMLoss()(ot, tt, weight=Wt)),
                     (lambda: ISM3Loss()(ot, tt, last_layer_weight=Wt), lambda: ISM3Loss()(ot, tt, weight=Wt)),
                     (lambda: one_vs_rest_svm_loss(ot, tt, last_layer_weight=Wt),
                      lambda: one_vs_rest_svm_loss(ot, tt, weight=Wt)),
                     (lambda: ism3_loss(ot, tt, last_layer_weight=Wt), lambda: ism3_loss(ot, tt, weight=Wt))):
        with pytest.warns(FutureWarning, match="last_layer_weight"):
            value = old()
        assert value.item() == new().item()
    with pytest.raises(ValueError, match="once"):
        ISM3Loss()(ot, tt, Wt, weight=Wt)


# --------------------------------------------------------------------------------------
# TorchScript, tracing, export; device and dtype
# --------------------------------------------------------------------------------------
def _export_cases():
    g = torch.Generator().manual_seed(5)
    X, y = torch.randn(10, 4, generator=g), torch.randint(0, 3, (10,), generator=g)
    o, W = torch.randn(10, 3, generator=g), torch.randn(3, 4, generator=g)
    w = torch.tensor([1.0, 0.5, 2.0])
    return [
        (GeneralizedLoss(task="classification", class_mask=True), (o, y, X)),
        (GeneralizedLoss(p=1, s_kernel="M", s_approx="rff", n_components=16), (o, o.flip(0), X)),
        (OneVsRestSVMLoss(weight=w), (o, y, W)),
        (ISM3Loss(p=1.5, weight=w), (o, y, W)),
    ]


@pytest.mark.parametrize("case", range(4))
def test_trace_and_export_match_eager(case):
    import warnings

    loss, args = _export_cases()[case]
    want = loss(*args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)      # torch 2.13 deprecates TorchScript's trace too
        traced = torch.jit.trace(loss, args)
    exported = torch.export.export(loss, args).module()
    # another batch of the same shapes (the graphs are shape-specialized, not value-specialized)
    new = tuple(a.flip(0) if a.dim() and a.shape[0] == 10 else a for a in args)
    for got in (traced(*args), exported(*args)):
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-7)
    for got in (traced(*new), exported(*new)):
        torch.testing.assert_close(got, loss(*new), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_torchscript_compiles_the_heads(reduction):
    """torch.jit.script (deprecated by torch, still supported) compiles OneVsRestSVMLoss and ISM3Loss;
    their scripted values and gradients equal eager ones, shape errors are raised in script too."""
    import warnings

    o, t, X = batch(23, "ovr", B=9, K=3)
    t[5] = -100
    W = np.random.default_rng(5).normal(size=(3, 4))
    ot, tt, Wt = tens(o, t, W, grad=True)
    for loss in (OneVsRestSVMLoss(C=0.5, reduction=reduction, weight=torch.tensor([1.0, 2.0, 0.5], dtype=D64)),
                 ISM3Loss(lam=0.2, p=1.5, reduction=reduction), ISM3Loss(lam=0.0, reduction=reduction)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            scripted = torch.jit.script(loss)
        a, b = loss(ot, tt, Wt), scripted(ot, tt, Wt)
        torch.testing.assert_close(b, a, rtol=1e-14, atol=0)
        ga = torch.autograd.grad(a.sum(), ot)[0]
        gb = torch.autograd.grad(b.sum(), ot)[0]
        torch.testing.assert_close(gb, ga, rtol=1e-14, atol=0)
        with pytest.raises(Exception, match=r"shape \(B, K\)"):
            scripted(ot[:, 0], tt, Wt)


@pytest.mark.parametrize("case", range(4))
def test_tensors_are_created_on_the_inputs_device(case):
    """Forward and backward on the meta device: a tensor created on another device (the CPU default)
    would fail the first operation that mixes them, as it would on a GPU."""
    loss, args = _export_cases()[case]
    loss = loss.to("meta")
    margs = [a.to("meta").requires_grad_(a.is_floating_point()) for a in args]
    out = loss(*margs)
    out.backward()
    assert out.device.type == "meta" and margs[0].grad.device.type == "meta"


@pytest.mark.parametrize("case", range(4))
def test_float64_stays_float64(case):
    loss, args = _export_cases()[case]
    args = [a.double() if a.is_floating_point() else a for a in args]
    assert loss.double()(*args).dtype == D64
