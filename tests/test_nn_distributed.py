"""GeneralizedLoss(global_batch=True) across 2 CPU processes (gloo on loopback) equals the
single-process loss on the concatenated batch: values, and the gradients of each rank's samples,
also when a rank holds no sample; its only host synchronization is the collective's exchange of
the batch sizes."""
import datetime
import inspect
import os
import socket

import numpy as np
import pytest

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")

pytestmark = pytest.mark.skipif(not (dist.is_available() and dist.is_gloo_available()),
                                reason="torch.distributed with the gloo backend is not available")

SIZES = (5, 3)          # unequal local batches: the gather pads and trims
CASES = [
    dict(task="regression", p=2, s_kernel="G", gamma_s=0.4, reduction="mean"),
    dict(task="regression", p=1, s_kernel="Q", alpha=0.7, gamma_s="scale", epsilon=0.2, reduction="sum"),
    dict(task="classification", p=1, s_kernel="M", nu=0.5, gamma_s=0.3, class_mask=True, reduction="none"),
    dict(task="classification", p=2, s_kernel="G", gamma_s=0.3, class_mask=True, s_approx="rff",
         n_components=40, random_state=7, reduction="none"),
    dict(task="classification", p=2, s_kernel="M", gamma_s=0.3, s_approx="rff", n_components=40,
         random_state=7, reduction="mean", binary=True),
]


def _full_batch(case, n):
    """The concatenated batch, the same on every rank (seeded)."""
    rng = np.random.default_rng(42)
    X = torch.tensor(rng.normal(size=(n, 3)))
    if case["task"] == "regression":
        return torch.tensor(rng.normal(size=(n, 2))), torch.tensor(rng.normal(size=(n, 2))), X
    if case.get("binary"):
        return torch.tensor(rng.normal(size=n)), torch.tensor(rng.choice([-1.0, 1.0], size=n)), X
    return torch.tensor(rng.normal(size=(n, 3))), torch.tensor(rng.integers(0, 3, size=n)), X


def _loss(o, t, X, case, **extra):
    from glopt.nn import generalized_loss

    kw = {k: v for k, v in case.items() if k != "binary"}
    out = generalized_loss(o, t, X, **kw, **extra)
    if out.dim():      # 'none': reduce with fixed weights so the gradient sees every entry differently
        w = torch.linspace(0.5, 1.5, out.numel(), dtype=out.dtype).reshape(out.shape)
        return out, (out * w).sum()
    return out, out


def _worker(rank, world, port):
    from glopt.nn import functional

    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=30))
    try:
        # unequal local batches, and a rank without samples (the global batch is not empty)
        for sizes, cases in ((SIZES, CASES), ((sum(SIZES), 0), CASES[1:4])):
            n = sum(sizes)
            lo = sum(sizes[:rank])
            local = slice(lo, lo + sizes[rank])
            for case in cases:
                o, t, X = _full_batch(case, n)
                # single process: the concatenated batch, no process-group collectives
                o1, X1 = o.clone().requires_grad_(), X.clone().requires_grad_()
                value1, scalar1 = _loss(o1, t, X1, case)
                scalar1.backward()
                # this rank: its own slice, global batch
                o2, X2 = o[local].clone().requires_grad_(), X[local].clone().requires_grad_()
                value2, scalar2 = _loss(o2, t[local], X2, case, global_batch=True)
                scalar2.backward()
                msg = f"rank {rank}, sizes {sizes}, case {case}"
                torch.testing.assert_close(value2, value1, rtol=1e-13, atol=1e-15, msg=msg)
                torch.testing.assert_close(o2.grad, o1.grad[local], rtol=1e-12, atol=1e-14, msg=msg)
                torch.testing.assert_close(X2.grad, X1.grad[local], rtol=1e-12, atol=1e-14, msg=msg)
                assert sizes[rank] == 0 or torch.count_nonzero(o2.grad) > 0, msg
        from glopt.nn import GeneralizedLoss, generalized_loss
        from glopt.nn._sync import count_host_syncs

        # host synchronizations: the only one is the collective's exchange of the batch sizes
        exchange = next(i for i, line in enumerate(inspect.getsource(functional).splitlines(), 1)
                        if "torch.stack(shapes).tolist()" in line)
        for kw in (dict(task="regression"), dict(task="classification", class_mask=True, s_approx="rff")):
            case = dict(kw, binary=True) if kw["task"] == "classification" else kw
            o, t, X = _full_batch(case, sum(SIZES))
            local = slice(sum(SIZES[:rank]), sum(SIZES[:rank + 1]))
            loss = GeneralizedLoss(global_batch=True, **kw)
            o2 = o[local].clone().requires_grad_()
            loss(o2, t[local], X[local]).backward()                 # warm-up (random features drawn)
            with count_host_syncs() as forward:
                value = loss(o2, t[local], X[local])
            with count_host_syncs() as backward:
                value.backward()
            assert list(forward) == [f"Tensor.tolist at functional.py:{exchange}"], (kw, list(forward))
            assert not backward, list(backward)
        # feature widths that differ between ranks: every rank raises, none is left waiting
        Xbad = torch.randn(SIZES[rank], 3 + rank, dtype=torch.float64)
        with pytest.raises(ValueError, match="differ between ranks"):
            generalized_loss(torch.randn(SIZES[rank], dtype=torch.float64), torch.randn(SIZES[rank], dtype=torch.float64),
                             Xbad, gamma_s=0.5, global_batch=True)
        # no sample on any rank: every rank raises
        with pytest.raises(ValueError, match="global batch is empty"):
            generalized_loss(torch.zeros(0), torch.zeros(0), torch.zeros(0, 3), global_batch=True)
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_global_batch_matches_concatenated_batch():
    torch.multiprocessing.spawn(_worker, args=(2, _free_port()), nprocs=2, join=True)
