#!/usr/bin/env python3
"""Golden trajectories of PyTorch's element-wise ``torch.optim`` optimizers NAdam,
RAdam, Adamax, Rprop and ASGD.

Writes ``Tests/Fixtures/torch_optim_elementwise.json``.

Every case runs the *single-tensor* torch implementation (``foreach=False``) on
CPU, in float64 (``cases``) and again in float32 (``float_cases``: gradients,
trajectory and loss all float32, exactly as torch holds them). The default
dtype is set to the run's dtype, so the scalar state torch keeps in tensors of
the default dtype (NAdam's ``mu_product``, ASGD's ``eta`` and ``mu``, every
``step``) is in that dtype too, as in a float32 model under torch's defaults.

CPU capability
--------------
``ATEN_CPU_CAPABILITY=default`` is pinned before torch is imported, as in
``torch_optim.py``: the default kernels round every operation of the formula
separately (no fused multiply-adds), so the trajectories are the formula's own
values and do not depend on the machine.

Problems
--------
* ``rosenbrock``: f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, start (1.5, 1.5),
  100 steps.
* ``beale``: f(x, y) = (1.5 - x + x y)^2 + (2.25 - x + x y^2)^2
  + (2.625 - x + x y^3)^2, start (2, 0.2), 100 steps.
* ``least_squares``: the 10x5 problem of ``torch_optim.py`` (A and b from
  ``numpy.random.default_rng(0).standard_normal``, A first), start zeros(5),
  L(x) = (1 / (2 m)) * sum_i (a_i^T x - b_i)^2, 20 steps.

Recorded per case
-----------------
``trajectory``: theta_0 ... theta_N, ``gradients``: the raw autograd gradient
at theta_t (before torch adds weight decay or negates it for ``maximize``),
``loss``: the loss at theta_0 ... theta_N, and for ASGD ``averages``: torch's
``ax`` after steps 1 ... N.

Options and learning rates
--------------------------
Options are written in the Swift names. Every option of every optimizer is
switched on in some case:

* nadam:  lr 1e-2 (the 2e-3 default barely moves on Rosenbrock; a defaults
          case runs on least_squares), coupled and decoupled weight decay 0.1,
          momentum_decay 1e-2 with betas (0.8, 0.99) and eps 1e-3, maximize.
* radam:  lr 1e-2 (5e-4 on rosenbrock: its first steps, before the
          rectification, are plain momentum steps of size lr * |g|, and
          |g| = 451 at the start), coupled and decoupled weight decay 0.1, beta2 0.9 (rho_inf
          = 19: the rectification starts at step 3 instead of 6) with beta1 0.5
          and eps 1e-3,
          maximize, torch defaults on least_squares (20 steps: 5 unrectified,
          15 rectified).
* adamax: lr 1e-2 (default 2e-3 on least_squares), weight decay 0.1,
          betas (0.8, 0.99), eps 1e-3 (so that |g| + eps wins the maximum
          somewhere), maximize.
* rprop:  torch defaults (lr 1e-2, etas (0.5, 1.2), step sizes (1e-6, 50)),
          etas (0.3, 1.5) with lr 1e-3, step sizes (1e-3, 0.05) (both bounds
          bite), maximize (10 steps).
* asgd:   rosenbrock lr 2e-4, beale lr 1e-2, least_squares lr 0.1 (the SGD
          rates of ``torch_optim.py``); defaults otherwise (t0 = 1e6: no
          averaging), t0 = 5 with lambd 1e-2 and alpha 0.5 (averaging from
          step 6, step sizes decaying visibly), weight decay 0.1, maximize
          (10 steps on rosenbrock, at lr 1e-5 as SGD's maximize case, and beale,
          5 on least_squares).
"""
from __future__ import annotations

import json
import math
import os
import sys

os.environ["ATEN_CPU_CAPABILITY"] = "default"

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "torch_optim_elementwise.json")

ROSEN_X0 = [1.5, 1.5]
BEALE_X0 = [2.0, 0.2]
LS_M, LS_N = 10, 5
_rng = np.random.default_rng(0)
LS_A = _rng.standard_normal((LS_M, LS_N))
LS_B = _rng.standard_normal(LS_M)
LS_X0 = [0.0] * LS_N


def rosenbrock(theta):
    x, y = theta[0], theta[1]
    return (1.0 - x) ** 2 + 100.0 * (y - x ** 2) ** 2


def beale(theta):
    x, y = theta[0], theta[1]
    return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
            + (2.625 - x + x * y ** 3) ** 2)


def least_squares(theta):
    A = torch.tensor(LS_A, dtype=theta.dtype)
    b = torch.tensor(LS_B, dtype=theta.dtype)
    r = A @ theta - b
    return (r * r).sum() / (2.0 * LS_M)


PROBLEMS = {
    "rosenbrock": (rosenbrock, ROSEN_X0, 100),
    "beale": (beale, BEALE_X0, 100),
    "least_squares": (least_squares, LS_X0, 20),
}


def make(optimizer, o, params):
    if optimizer == "nadam":
        return torch.optim.NAdam(params, lr=o["learningRate"], betas=(o["beta1"], o["beta2"]),
                                 eps=o["epsilon"], weight_decay=o["weightDecay"],
                                 momentum_decay=o["momentumDecay"],
                                 decoupled_weight_decay=o["decoupledWeightDecay"],
                                 foreach=False, maximize=o["maximize"])
    if optimizer == "radam":
        return torch.optim.RAdam(params, lr=o["learningRate"], betas=(o["beta1"], o["beta2"]),
                                 eps=o["epsilon"], weight_decay=o["weightDecay"],
                                 decoupled_weight_decay=o["decoupledWeightDecay"],
                                 foreach=False, maximize=o["maximize"])
    if optimizer == "adamax":
        return torch.optim.Adamax(params, lr=o["learningRate"], betas=(o["beta1"], o["beta2"]),
                                  eps=o["epsilon"], weight_decay=o["weightDecay"],
                                  foreach=False, maximize=o["maximize"])
    if optimizer == "rprop":
        return torch.optim.Rprop(params, lr=o["learningRate"], etas=(o["etaMinus"], o["etaPlus"]),
                                 step_sizes=(o["minimumStepSize"], o["maximumStepSize"]),
                                 foreach=False, maximize=o["maximize"])
    if optimizer == "asgd":
        return torch.optim.ASGD(params, lr=o["learningRate"], lambd=o["lambda"], alpha=o["alpha"],
                                t0=o["averagingStart"], weight_decay=o["weightDecay"],
                                foreach=False, maximize=o["maximize"])
    raise ValueError(optimizer)


def nadam(lr=2e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, weightDecay=0.0, momentumDecay=4e-3,
          decoupledWeightDecay=False, maximize=False):
    return dict(learningRate=lr, beta1=beta1, beta2=beta2, epsilon=epsilon, weightDecay=weightDecay,
                momentumDecay=momentumDecay, decoupledWeightDecay=decoupledWeightDecay, maximize=maximize)


def radam(lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, weightDecay=0.0, decoupledWeightDecay=False,
          maximize=False):
    return dict(learningRate=lr, beta1=beta1, beta2=beta2, epsilon=epsilon, weightDecay=weightDecay,
                decoupledWeightDecay=decoupledWeightDecay, maximize=maximize)


def adamax(lr=2e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, weightDecay=0.0, maximize=False):
    return dict(learningRate=lr, beta1=beta1, beta2=beta2, epsilon=epsilon, weightDecay=weightDecay,
                maximize=maximize)


def rprop(lr=1e-2, etaMinus=0.5, etaPlus=1.2, minimumStepSize=1e-6, maximumStepSize=50.0, maximize=False):
    return dict(learningRate=lr, etaMinus=etaMinus, etaPlus=etaPlus, minimumStepSize=minimumStepSize,
                maximumStepSize=maximumStepSize, maximize=maximize)


def asgd(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weightDecay=0.0, maximize=False):
    return dict(learningRate=lr, **{"lambda": lambd}, alpha=alpha, averagingStart=t0,
                weightDecay=weightDecay, maximize=maximize)


WD = 0.1
CASES = []


def add(suffix, optimizer, opts, problem, steps=None):
    CASES.append((f"{optimizer}_{suffix}_{problem}", optimizer, opts, problem,
                  steps if steps is not None else PROBLEMS[problem][2]))


for p, lr_radam, lr_asgd in [("rosenbrock", 5e-4, 2e-4), ("beale", 1e-2, 1e-2), ("least_squares", 1e-2, 0.1)]:
    short = 5 if p == "least_squares" else 10
    # NAdam
    if p == "least_squares":
        add("defaults", "nadam", nadam(), p)
    add("lr", "nadam", nadam(1e-2), p)
    add("weight_decay", "nadam", nadam(1e-2, weightDecay=WD), p)
    add("decoupled_weight_decay", "nadam", nadam(1e-2, weightDecay=WD, decoupledWeightDecay=True), p)
    add("momentum_decay_betas_eps", "nadam", nadam(1e-2, beta1=0.8, beta2=0.99, epsilon=1e-3, momentumDecay=1e-2), p)
    add("maximize", "nadam", nadam(1e-2, maximize=True), p)
    # RAdam
    if p == "least_squares":
        add("defaults", "radam", radam(), p)
    add("lr", "radam", radam(lr_radam), p)
    add("weight_decay", "radam", radam(lr_radam, weightDecay=WD), p)
    add("decoupled_weight_decay", "radam", radam(lr_radam, weightDecay=WD, decoupledWeightDecay=True), p)
    add("betas_eps", "radam", radam(lr_radam, beta1=0.5, beta2=0.9, epsilon=1e-3), p)
    add("maximize", "radam", radam(lr_radam, maximize=True), p)
    # Adamax
    if p == "least_squares":
        add("defaults", "adamax", adamax(), p)
    add("lr", "adamax", adamax(1e-2), p)
    add("weight_decay", "adamax", adamax(1e-2, weightDecay=WD), p)
    add("betas_eps", "adamax", adamax(1e-2, beta1=0.8, beta2=0.99, epsilon=1e-3), p)
    add("maximize", "adamax", adamax(1e-2, maximize=True), p)
    # Rprop
    add("defaults", "rprop", rprop(), p)
    add("etas", "rprop", rprop(1e-3, etaMinus=0.3, etaPlus=1.5), p)
    add("step_sizes", "rprop", rprop(minimumStepSize=1e-3, maximumStepSize=0.05), p)
    add("maximize", "rprop", rprop(maximize=True), p, steps=short)
    # ASGD
    add("lr", "asgd", asgd(lr_asgd), p)
    add("averaging", "asgd", asgd(lr_asgd, lambd=1e-2, alpha=0.5, t0=5.0), p)
    add("weight_decay", "asgd", asgd(lr_asgd, t0=5.0, weightDecay=WD), p)
    add("maximize", "asgd", asgd(1e-5 if p == "rosenbrock" else lr_asgd, maximize=True), p, steps=short)


def run_case(optimizer, opts, problem, steps, dtype):
    torch.set_default_dtype(dtype)
    loss_fn, x0, _ = PROBLEMS[problem]
    theta = torch.tensor(x0, dtype=dtype, requires_grad=True)
    opt = make(optimizer, opts, [theta])
    trajectory, gradients, losses, averages = [], [], [], []
    for _ in range(steps):
        trajectory.append([float(v) for v in theta.detach()])
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(theta)
        loss.backward()
        losses.append(float(loss.detach()))
        gradients.append([float(v) for v in theta.grad.detach()])
        opt.step()
        if optimizer == "asgd":
            averages.append([float(v) for v in opt.state[theta]["ax"]])
    state = opt.state[theta]
    for key in ("mu_product", "eta", "mu", "step"):
        if key in state and state[key].dtype != dtype:
            raise SystemExit(f"{optimizer}: state {key} is {state[key].dtype}, expected {dtype}")
    trajectory.append([float(v) for v in theta.detach()])
    with torch.no_grad():
        losses.append(float(loss_fn(theta.detach())))
    return trajectory, gradients, losses, averages


def record(dtype):
    cases = []
    for name, optimizer, opts, problem, steps in CASES:
        traj, grads, losses, averages = run_case(optimizer, opts, problem, steps, dtype)
        flat = [v for row in traj + grads + averages for v in row] + losses
        if not all(math.isfinite(v) for v in flat):
            raise SystemExit(f"non-finite values in case {name} ({dtype})")
        if traj[0] == traj[-1]:
            raise SystemExit(f"case {name} did not move ({dtype})")
        case = {"name": name, "optimizer": optimizer, "options": opts, "problem": problem,
                "steps": steps, "trajectory": traj, "gradients": grads, "loss": losses}
        if optimizer == "asgd":
            case["averages"] = averages
        cases.append(case)
    return cases


def main() -> int:
    if torch.backends.cpu.get_cpu_capability() != "DEFAULT":
        raise SystemExit("ATEN_CPU_CAPABILITY=default did not take effect")
    cases = record(torch.float64)
    float_cases = record(torch.float32)
    doc = {
        "source": f"torch {torch.__version__}, float64 (cases) and float32 (float_cases), default dtype = "
                  "the run's dtype, foreach=False, ATEN_CPU_CAPABILITY=default",
        "problems": {
            "rosenbrock": {"description": "f(x,y) = (1-x)^2 + 100 (y - x^2)^2", "x0": ROSEN_X0},
            "beale": {"description": "f(x,y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
                      "x0": BEALE_X0},
            "least_squares": {
                "description": "L(x) = (1/(2m)) sum_i (a_i^T x - b_i)^2; "
                               "A, b from numpy default_rng(0).standard_normal (A then b)",
                "A": [[float(v) for v in row] for row in LS_A],
                "b": [float(v) for v in LS_B],
                "x0": LS_X0,
            },
        },
        "cases": cases,
        "float_cases": float_cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    tmp = OUT + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(doc, fh, indent=1, allow_nan=False)
        fh.write("\n")
    os.replace(tmp, OUT)
    print(f"wrote {os.path.relpath(OUT, ROOT)}: {len(cases)} float64 and {len(float_cases)} float32 cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
