#!/usr/bin/env python3
"""Golden trajectories of PyTorch ``torch.optim`` with param groups and schedulers.

Writes ``Tests/Fixtures/torch_param_groups.json`` (peer: PyTorch ``torch.optim``
single-tensor implementations, ``foreach=False``; ``ATEN_CPU_CAPABILITY=default``
as in ``torch_optim.py``, so no fused multiply-adds).

Model
-----
A 4-3-1 tanh network as four tensors: ``W1`` (3x4), ``b1`` (3), ``w2`` (3),
``b2`` (1); flattened in that order into theta (19 numbers: W1 row-major at
0..<12, b1 at 12..<15, w2 at 15..<18, b2 at 18). Data: X (16x4) and y (16) from
``numpy.random.default_rng(0).standard_normal`` (X first, then y); the start
from ``default_rng(1).standard_normal(19) * 0.5``. Loss
L = (1 / (2 m)) sum_i (w2 . tanh(W1 x_i + b1) + b2 - y_i)^2, m = 16.

Groups: ``weights`` = [W1, w2] and ``biases`` = [b1, b2], each case with its
own overrides (``groups`` below, keys in the Descent command-line names).
A scheduler steps after every optimizer step; ``lr`` records the rate of
every group at each step (before the step).

Recorded per case: ``trajectory`` theta_0 ... theta_N, ``gradients`` g_0 ...
g_{N-1} (autograd, before torch adds weight decay), ``lr`` (N x groups),
``schedule`` ({"kind": "step", "every", "factor"} or {"kind":
"exponential", "factor"}). ``cases`` in float64, ``float_cases`` the same in
float32.

The two momentum cases keep their rates constant (a StepLR that never fires
within the 15 steps, an ExponentialLR with factor 1): Descent's ``Momentum``
keeps the lecture's (docs/lecture.md) buffer v <- mu v - lr g, which equals torch's b <- mu b + g,
theta <- theta - lr b only while lr is constant (documented in Momentum.swift);
the group rates' scaling by a schedule is checked with the other optimizers.
"""
import json
import os
import pathlib

os.environ.setdefault("ATEN_CPU_CAPABILITY", "default")
import numpy as np  # noqa: E402
import torch  # noqa: E402

STEPS = 15
ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "Fixtures" / "torch_param_groups.json"

# name, torch class, base kwargs (torch names), base options (Descent names),
# per-group (torch kwargs, Descent overrides) for weights and biases, schedule.
CASES = [
    ("sgd_momentum", torch.optim.SGD,
     dict(lr=0.05, momentum=0.9, weight_decay=0.01),
     {"optimizer": "momentum", "lr": 0.05, "momentum": 0.9, "weight-decay": 0.01},
     ({}, {}),
     ({"lr": 0.1, "weight_decay": 0.0, "momentum": 0.5}, {"lr": 0.1, "weight-decay": 0.0, "momentum": 0.5}),
     {"kind": "step", "every": 100, "factor": 0.5}),
    ("nesterov", torch.optim.SGD,
     dict(lr=0.05, momentum=0.9, nesterov=True),
     {"optimizer": "nesterov", "lr": 0.05, "momentum": 0.9},
     ({"weight_decay": 0.05}, {"weight-decay": 0.05}),
     ({"lr": 0.02}, {"lr": 0.02}),
     {"kind": "exponential", "factor": 1.0}),
    ("adam", torch.optim.Adam,
     dict(lr=0.01, weight_decay=0.01),
     {"optimizer": "adam", "lr": 0.01, "weight-decay": 0.01},
     ({"amsgrad": True}, {"amsgrad": True}),
     ({"weight_decay": 0.0, "betas": (0.8, 0.99), "eps": 1e-6}, {"weight-decay": 0.0, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6}),
     {"kind": "exponential", "factor": 0.9}),
    ("adamw", torch.optim.AdamW,
     dict(lr=0.01, weight_decay=0.1),
     {"optimizer": "adamw", "lr": 0.01, "weight-decay": 0.1},
     ({}, {}),
     ({"weight_decay": 0.0}, {"weight-decay": 0.0}),
     {"kind": "step", "every": 4, "factor": 0.5}),
    ("adagrad", torch.optim.Adagrad,
     dict(lr=0.1),
     {"optimizer": "adagrad", "lr": 0.1},
     ({"weight_decay": 0.01}, {"weight-decay": 0.01}),
     ({"lr": 0.05, "lr_decay": 0.01, "eps": 1e-6}, {"lr": 0.05, "lr-decay": 0.01, "eps": 1e-6}),
     {"kind": "exponential", "factor": 0.95}),
    ("rmsprop", torch.optim.RMSprop,
     dict(lr=0.01, alpha=0.9),
     {"optimizer": "rmsprop", "lr": 0.01, "rho": 0.9},
     ({"momentum": 0.9, "centered": True}, {"momentum": 0.9, "centered": True}),
     ({"weight_decay": 0.01}, {"weight-decay": 0.01}),
     {"kind": "step", "every": 5, "factor": 0.1}),
]


def data(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 4))
    y = rng.standard_normal(16)
    start = np.random.default_rng(1).standard_normal(19) * 0.5
    return (torch.tensor(x, dtype=dtype), torch.tensor(y, dtype=dtype), start)


def run(case, dtype):
    name, cls, base, base_swift, (gw, _), (gb, _), schedule = case
    x, y, start = data(dtype)
    theta = torch.tensor(start, dtype=dtype)
    W1 = theta[0:12].reshape(3, 4).clone().requires_grad_(True)
    b1 = theta[12:15].clone().requires_grad_(True)
    w2 = theta[15:18].clone().requires_grad_(True)
    b2 = theta[18:19].clone().requires_grad_(True)
    params = [W1, b1, w2, b2]
    kwargs = dict(base)
    kwargs["foreach"] = False
    opt = cls([dict(params=[W1, w2], **gw), dict(params=[b1, b2], **gb)], **kwargs)
    if schedule["kind"] == "step":
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=schedule["every"], gamma=schedule["factor"])
    else:
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=schedule["factor"])

    def flat():
        return torch.cat([p.detach().reshape(-1) for p in params]).tolist()

    def loss_fn():
        h = torch.tanh(x @ W1.T + b1)
        r = h @ w2 + b2 - y
        return (r * r).sum() / (2 * x.shape[0])

    traj, grads, lrs, losses = [flat()], [], [], []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        losses.append(loss.item())
        grads.append(torch.cat([p.grad.reshape(-1) for p in params]).tolist())
        lrs.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
        traj.append(flat())
    return {"name": name, "base": base_swift, "groups": {"weights": case[4][1], "biases": case[5][1]},
            "schedule": schedule, "trajectory": traj, "gradients": grads, "lr": lrs, "loss": losses}


def main():
    torch.set_num_threads(1)
    out = {
        "peer": f"torch {torch.__version__} torch.optim param groups, foreach=False",
        "layout": {"W1": [0, 12], "b1": [12, 15], "w2": [15, 18], "b2": [18, 19]},
        "cases": [run(c, torch.float64) for c in CASES],
        "float_cases": [run(c, torch.float32) for c in CASES],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f)
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
