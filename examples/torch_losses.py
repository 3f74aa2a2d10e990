"""Train a small network on scikit-learn's digits with each glopt.nn loss; plot the curves to a PNG.

    python examples/torch_losses.py losses.png [--epochs 20]

S of the generalized losses: on the inputs (standardized pixels), class mask, gamma_s='scale'.
"""
import argparse

import matplotlib
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from torch import nn

from glopt.nn import GeneralizedLoss, ISM3Loss, OneVsRestSVMLoss

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the Agg backend)

ap = argparse.ArgumentParser()
ap.add_argument("out", help="PNG file to write")
ap.add_argument("--epochs", type=int, default=20)
args = ap.parse_args()
torch.set_num_threads(1)       # tiny matrices: threads only add synchronization

X, y = load_digits(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
scaler = StandardScaler().fit(Xtr)
Xtr, Xte = (torch.tensor(scaler.transform(a), dtype=torch.float32) for a in (Xtr, Xte))
ytr, yte = torch.tensor(ytr), torch.tensor(yte)
gl = dict(task="classification", class_mask=True)
LOSSES = {  # (outputs, class targets, inputs, last layer) -> loss
    "cross-entropy": lambda o, t, x, fc: nn.functional.cross_entropy(o, t),
    "one-vs-rest SVM (C=1)": lambda o, t, x, fc: OneVsRestSVMLoss(C=1.0)(o, t, fc.weight),
    "ISM3 (p=2, lam=1e-3)": lambda o, t, x, fc: ISM3Loss(lam=1e-3, p=2)(o, t, fc.weight),
    "generalized p=2, G exact": lambda o, t, x, fc, f=GeneralizedLoss(p=2, **gl): f(o, t, x),
    "generalized p=2, G RFF (R=256)": lambda o, t, x, fc, f=GeneralizedLoss(p=2, s_approx="rff", **gl): f(o, t, x),
    "generalized p=1, M exact": lambda o, t, x, fc, f=GeneralizedLoss(p=1, s_kernel="M", **gl): f(o, t, x),
}
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
for name, loss in LOSSES.items():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    curve, acc = [], []
    for epoch in range(args.epochs):
        total = 0.0
        for idx in torch.randperm(len(Xtr)).split(64)[:-1]:     # drop the last, short batch
            value = loss(net(Xtr[idx]), ytr[idx], Xtr[idx], net[-1])
            opt.zero_grad(), value.backward(), opt.step()
            total += value.item() / (len(Xtr) // 64)
        curve.append(total)
        with torch.no_grad():
            acc.append((net(Xte).argmax(1) == yte).float().mean().item())
    print(f"{name:32s} final training loss {curve[-1]:.4f}  test accuracy {acc[-1]:.4f}")
    ax_loss.plot(curve, label=name), ax_acc.plot(acc, label=name)
ax_loss.set(yscale="log", xlabel="epoch", ylabel="training loss (each on its own scale)")
ax_acc.set(xlabel="epoch", ylabel="test accuracy", ylim=(0.8, 1.0))
ax_acc.legend(fontsize=8)
fig.tight_layout()
fig.savefig(args.out, dpi=110)
