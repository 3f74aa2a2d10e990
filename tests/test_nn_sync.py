"""glopt.nn makes no host synchronization in forward or backward unless values are validated.

Every Python entry point through which a tensor's values reach the host is patched during the
call (glopt.nn._sync.count_host_syncs: Tensor.item, __bool__, __int__, __float__, __index__,
tolist, cpu, numpy, nonzero, masked indexing, torch.nonzero, unique, ...); where CUDA is present
the losses also run on the GPU under torch.cuda.set_sync_debug_mode("error"), which catches the
synchronizations inside torch's own kernels.
"""
import pytest

torch = pytest.importorskip("torch")

from glopt.nn import GeneralizedLoss, ISM3Loss, OneVsRestSVMLoss, generalized_loss  # noqa: E402
from glopt.nn import ism3_loss, margin_penalty, one_vs_rest_svm_loss  # noqa: E402
from glopt.nn._sync import count_host_syncs  # noqa: E402

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
REDUCTIONS = ["mean", "sum", "none"]
B, D, K = 12, 5, 3


def _data(device, dtype=torch.float32):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(B, D, generator=g, dtype=dtype)
    y = torch.randint(0, K, (B,), generator=g)
    y[:K] = torch.arange(K)
    yb = torch.where(y > 0, 1.0, -1.0).to(dtype)
    Wl = torch.randn(K, D, generator=g, dtype=dtype)
    reg = torch.randn(B, 2, generator=g, dtype=dtype)
    return [t.to(device) for t in (X, y, yb, Wl, reg)]


def _cases(device, reduction):
    """(name, module or functional call, inputs builder): every loss, task, S (exact, random
    features, I, class mask, gamma_s 'scale' and numeric) and both orders p."""
    X, y, yb, Wl, reg = _data(device)
    cw = torch.tensor([1.0, 2.0, 0.5], device=device)
    yi = y.clone()
    yi[1] = -100
    cases = []
    for s_approx in ("exact", "rff"):
        for p in (1, 2):
            kw = dict(p=p, s_approx=s_approx, n_components=32, reduction=reduction)
            cases += [
                (f"GL regression {s_approx} p={p}", GeneralizedLoss(**kw), lambda o: (o[:, :2], reg, X)),
                (f"GL regression {s_approx} p={p} gamma 0.5 Q", GeneralizedLoss(s_kernel="Q", gamma_s=0.5, **kw),
                 lambda o: (o[:, :2], reg, X)),
                (f"GL binary {s_approx} p={p} mask", GeneralizedLoss(task="classification", class_mask=True, **kw),
                 lambda o: (o[:, 0], yb, X)),
                (f"GL one-vs-rest {s_approx} p={p} M", GeneralizedLoss(task="classification", s_kernel="M", **kw),
                 lambda o: (o, y, X)),
                (f"GL one-vs-rest {s_approx} p={p} mask", GeneralizedLoss(task="classification", class_mask=True,
                                                                          **kw), lambda o: (o, y, X)),
                (f"GL global batch (one process) {s_approx} p={p}",
                 GeneralizedLoss(task="classification", global_batch=True, **kw), lambda o: (o, y, X)),
                (f"generalized_loss {s_approx} p={p}",
                 lambda o, t, x, kw=kw: generalized_loss(o, t, x, task="classification", **kw), lambda o: (o, y, X)),
            ]
    cases += [
        ("GL S = I", GeneralizedLoss(s_kernel="I", reduction=reduction), lambda o: (o, torch.zeros_like(o))),
        ("OneVsRestSVMLoss", OneVsRestSVMLoss(reduction=reduction), lambda o: (o, y, Wl)),
        ("OneVsRestSVMLoss weight ignore_index", OneVsRestSVMLoss(reduction=reduction, weight=cw),
         lambda o: (o, yi, Wl)),
        ("one_vs_rest_svm_loss", lambda o, t, w: one_vs_rest_svm_loss(o, t, w, reduction=reduction),
         lambda o: (o, y, Wl)),
        ("ISM3Loss", ISM3Loss(reduction=reduction), lambda o: (o, y, Wl)),
        ("ISM3Loss p=1.5 weight ignore_index", ISM3Loss(p=1.5, reduction=reduction, weight=cw),
         lambda o: (o, yi, Wl)),
        ("ism3_loss", lambda o, t, w: ism3_loss(o, t, w, reduction=reduction), lambda o: (o, y, Wl)),
        ("margin_penalty", lambda o, w: margin_penalty(w, 1.5) + o.sum(), lambda o: (o, Wl)),
    ]
    return cases


def _run(loss, inputs, device):
    out = torch.randn(B, K, device=device, requires_grad=True)
    args = inputs(out)
    if isinstance(loss, torch.nn.Module):
        loss = loss.to(device)
    loss(*args).sum().backward()                 # warm-up: the module draws its random features once
    out.grad = None
    with count_host_syncs() as forward:
        value = loss(*args)
        total = value.sum()
    with count_host_syncs() as backward:
        total.backward()
    return forward, backward, out


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_no_host_sync_in_forward_or_backward(device, reduction):
    counts = {}
    for name, loss, inputs in _cases(device, reduction):
        forward, backward, out = _run(loss, inputs, device)
        counts[name] = (list(forward), list(backward))
        assert out.grad is not None
    synced = {k: v for k, v in counts.items() if v != ([], [])}
    assert not synced, synced
    assert len(counts) == 36


@pytest.mark.parametrize("device", DEVICES)
def test_validation_is_what_synchronizes(device):
    """The counter sees the value checks: with validate_args=True each loss synchronizes (so the zero
    above is the absence of checks, not a blind counter)."""
    X, y, yb, Wl, reg = _data(device)
    o = torch.randn(B, K, device=device)
    calls = {
        "GL regression": lambda: GeneralizedLoss(validate_args=True)(o[:, :2], reg, X),
        "GL one-vs-rest": lambda: GeneralizedLoss(task="classification", validate_args=True)(o, y, X),
        "GL binary rff": lambda: GeneralizedLoss(task="classification", s_approx="rff",
                                                 validate_args=True)(o[:, 0], yb, X),
        "OneVsRestSVMLoss": lambda: OneVsRestSVMLoss(validate_args=True)(o, y),
        "ISM3Loss": lambda: ISM3Loss(validate_args=True)(o, y, Wl),
    }
    expected = {"GL regression": 4, "GL one-vs-rest": 4, "GL binary rff": 5, "OneVsRestSVMLoss": 2, "ISM3Loss": 3}
    if device == "cuda":
        for call in calls.values():
            with pytest.raises(RuntimeError):         # the sync debug mode catches the checks too
                with count_host_syncs():
                    call()
        return
    for name, call in calls.items():
        call()
        with count_host_syncs() as log:
            call()
        assert len(log) == expected[name], (name, log)


def test_the_counter_sees_each_kind_of_sync():
    x = torch.randn(6)
    before = {name: vars(torch.Tensor).get(name) for name in ("item", "__bool__", "__getitem__", "to")}
    probes = [lambda: x.sum().item(), lambda: bool(x.sum() > 0), lambda: x.tolist(), lambda: int(x[0] > 0),
              lambda: float(x[0]), lambda: [0, 1][x.argmax() % 2], lambda: x.numpy(), lambda: x[x > 0],
              lambda: torch.nonzero(x), lambda: x.nonzero(), lambda: torch.unique(x), lambda: x.masked_select(x > 0),
              lambda: f"{x[0]:.2f}", lambda: repr(x), lambda: torch.equal(x, x), lambda: x.cpu(),
              lambda: torch.where(x > 0), lambda: torch.repeat_interleave(torch.tensor([1, 2]))]
    for probe in probes:
        with count_host_syncs() as log:
            probe()
        assert len(log) == 1, (probe, log)
    with count_host_syncs() as log:
        y = torch.where(x > 0, x, -x) * 2 + x[torch.tensor([0, 2])].sum()
        z = x.to(torch.float64)
        z[x > 10] = 0.0
    assert [entry.split(" at ")[0] for entry in log] == ["Tensor.__setitem__"]
    assert y.shape == (6,)
    # the patches are removed afterwards
    assert {name: vars(torch.Tensor).get(name) for name in before} == before
    assert torch.nonzero is torch._C._VariableFunctions.nonzero
