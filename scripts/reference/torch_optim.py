#!/usr/bin/env python3
"""Golden trajectories of PyTorch ``torch.optim`` for the Descent optimizers.

Writes ``Tests/Fixtures/torch_optim.json``.

Every case runs the *single-tensor* torch implementation (``foreach=False``,
and ``fused=False`` where the constructor accepts it) on CPU, in float64
(``cases``) and again in float32 (``float_cases``: gradients, trajectory and
loss all float32, rounded to float32 exactly as torch holds them).

CPU capability
--------------
The script pins ``ATEN_CPU_CAPABILITY=default`` before importing torch. With
the AVX2/AVX512 kernels torch contracts ``a + w * b`` into fused multiply-adds
(``add(alpha=)``, ``lerp``, ...), so its last bit depends on the machine; the
default kernels round every operation of the formula separately, which is the
formula's own value and what Descent's kernels compute (Swift does not contract
floating-point expressions). Descent's tests assert bit-for-bit equality with
these trajectories wherever its kernel uses torch's formula.

Problems
--------
* ``rosenbrock``: f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, start (1.5, 1.5),
  100 steps.
* ``least_squares``: A (10x5) and b (10) drawn with
  ``numpy.random.default_rng(0).standard_normal`` (A first, then b),
  start x0 = zeros(5), loss L(x) = (1 / (2 m)) * sum_i (a_i^T x - b_i)^2 with
  m = 10, 20 steps.

Recorded per case
-----------------
``trajectory``: theta_0 ... theta_N (N + 1 vectors), ``gradients``: the raw
autograd gradient of the loss at theta_t for t = 0 ... N-1 (i.e. *before*
torch adds weight decay or negates it for ``maximize``), ``loss``: loss at
theta_0 ... theta_N (N + 1 numbers).

Learning-rate choices (documented here and in ``LR_NOTES`` below)
-----------------------------------------------------------------
At (1.5, 1.5) the Rosenbrock gradient is (451, -150) and the Hessian's largest
eigenvalue is about 2.3e3, so plain gradient steps need lr well below 2/2300.
The least-squares problem is well conditioned (Hessian A^T A / m has
eigenvalues between ~0.2 and ~2.3), so larger rates are used there.

* sgd:       rosenbrock lr 2e-4; least_squares lr 0.1.
* momentum:  rosenbrock lr 5e-5 (momentum 0.9 multiplies the effective step
             by ~10); least_squares lr 0.05.
* adagrad:   lr 0.1 on rosenbrock (the 1e-2 default moves only ~0.1 in 100
             steps, so a "defaults" case with lr 1e-2 is kept *and* the other
             variants use 0.1); least_squares lr 0.1 (default-lr case at 1e-2).
* rmsprop:   lr 1e-3 on rosenbrock (the default 1e-2 makes RMSProp bounce
             across the valley with steps ~0.1); least_squares lr 1e-2
             (torch default).
* adadelta:  torch default lr 1.0 on both problems; the second variant uses
             lr 0.5 with rho 0.95.
* adam:      rosenbrock lr 1e-2 (the 1e-3 default barely moves);
             least_squares lr 1e-2 as well; one extra case at the exact
             torch defaults (lr 1e-3) on least_squares.
* adamw:     same lr as adam, weight_decay 1e-2 (torch default) and 0.1.
* amsgrad:   with the default beta2 = 0.999 the AMSGrad path differs from
             plain Adam by only ~1e-5 on these problems, so an extra case
             per optimizer uses beta2 = 0.9, where the running max matters.
* weight decay: 0.1 everywhere it is used (coupled L2 for all but AdamW).
* maximize:  sgd runs 10 steps on rosenbrock (lr 1e-5) and 5 on
             least_squares (lr 0.1), because gradient ascent diverges;
             adam's steps are bounded by lr, so it runs the full budget.
"""
from __future__ import annotations

import json
import math
import os
import sys

# Must be set before torch is imported (see "CPU capability" above).
os.environ["ATEN_CPU_CAPABILITY"] = "default"

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "torch_optim.json")

torch.set_default_dtype(torch.float64)
DTYPE = torch.float64

# --------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------

ROSEN_X0 = [1.5, 1.5]
ROSEN_STEPS = 100

LS_M, LS_N = 10, 5
_rng = np.random.default_rng(0)
LS_A = _rng.standard_normal((LS_M, LS_N))
LS_B = _rng.standard_normal(LS_M)
LS_X0 = [0.0] * LS_N
LS_STEPS = 20

_A_t = torch.tensor(LS_A, dtype=DTYPE)
_b_t = torch.tensor(LS_B, dtype=DTYPE)


def rosenbrock(theta: torch.Tensor) -> torch.Tensor:
    x, y = theta[0], theta[1]
    return (1.0 - x) ** 2 + 100.0 * (y - x ** 2) ** 2


def least_squares(theta: torch.Tensor) -> torch.Tensor:
    r = _A_t.to(theta.dtype) @ theta - _b_t.to(theta.dtype)
    return (r * r).sum() / (2.0 * LS_M)


PROBLEMS = {
    "rosenbrock": (rosenbrock, ROSEN_X0, ROSEN_STEPS),
    "least_squares": (least_squares, LS_X0, LS_STEPS),
}

# --------------------------------------------------------------------------
# Optimizers: Swift option names -> torch constructors
# --------------------------------------------------------------------------


def make_torch_optimizer(optimizer: str, opts: dict, params):
    """Build the torch optimizer for a Swift-named option set."""
    lr = opts["learningRate"]
    wd = opts["weightDecay"]
    mx = opts["maximize"]
    if optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.0, dampening=0.0,
                               weight_decay=wd, nesterov=False, maximize=mx,
                               foreach=False, fused=False)
    if optimizer == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=opts["momentum"],
                               dampening=0.0, weight_decay=wd,
                               nesterov=opts["nesterov"], maximize=mx,
                               foreach=False, fused=False)
    if optimizer == "adagrad":
        return torch.optim.Adagrad(params, lr=lr,
                                   lr_decay=opts["learningRateDecay"],
                                   weight_decay=wd,
                                   initial_accumulator_value=opts["initialAccumulatorValue"],
                                   eps=opts["epsilon"], foreach=False,
                                   maximize=mx, fused=False)
    if optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=opts["rho"],
                                   eps=opts["epsilon"], weight_decay=wd,
                                   momentum=opts["momentum"],
                                   centered=opts["centered"], foreach=False,
                                   maximize=mx)
    if optimizer == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, rho=opts["rho"],
                                    eps=opts["epsilon"], weight_decay=wd,
                                    foreach=False, maximize=mx)
    if optimizer == "adam":
        return torch.optim.Adam(params, lr=lr,
                                betas=(opts["beta1"], opts["beta2"]),
                                eps=opts["epsilon"], weight_decay=wd,
                                amsgrad=opts["amsgrad"], foreach=False,
                                maximize=mx, fused=False,
                                decoupled_weight_decay=False)
    if optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr,
                                 betas=(opts["beta1"], opts["beta2"]),
                                 eps=opts["epsilon"], weight_decay=wd,
                                 amsgrad=opts["amsgrad"], foreach=False,
                                 maximize=mx, fused=False)
    raise ValueError(optimizer)


# Full option sets (all keys written explicitly, torch defaults filled in).
def sgd(lr, weightDecay=0.0, maximize=False):
    return {"learningRate": lr, "weightDecay": weightDecay, "maximize": maximize}


def momentum(lr, momentum=0.9, nesterov=False, weightDecay=0.0, maximize=False):
    return {"learningRate": lr, "momentum": momentum, "nesterov": nesterov,
            "weightDecay": weightDecay, "maximize": maximize}


def adagrad(lr=1e-2, learningRateDecay=0.0, initialAccumulatorValue=0.0,
            epsilon=1e-10, weightDecay=0.0, maximize=False):
    return {"learningRate": lr, "learningRateDecay": learningRateDecay,
            "initialAccumulatorValue": initialAccumulatorValue,
            "epsilon": epsilon, "weightDecay": weightDecay,
            "maximize": maximize}


def rmsprop(lr=1e-2, rho=0.99, epsilon=1e-8, momentum=0.0, centered=False,
            weightDecay=0.0, maximize=False):
    return {"learningRate": lr, "rho": rho, "epsilon": epsilon,
            "momentum": momentum, "centered": centered,
            "weightDecay": weightDecay, "maximize": maximize}


def adadelta(lr=1.0, rho=0.9, epsilon=1e-6, weightDecay=0.0, maximize=False):
    return {"learningRate": lr, "rho": rho, "epsilon": epsilon,
            "weightDecay": weightDecay, "maximize": maximize}


def adam(lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, weightDecay=0.0,
         amsgrad=False, maximize=False):
    return {"learningRate": lr, "beta1": beta1, "beta2": beta2,
            "epsilon": epsilon, "weightDecay": weightDecay,
            "amsgrad": amsgrad, "maximize": maximize}


def adamw(lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, weightDecay=1e-2,
          amsgrad=False, maximize=False):
    return {"learningRate": lr, "beta1": beta1, "beta2": beta2,
            "epsilon": epsilon, "weightDecay": weightDecay,
            "amsgrad": amsgrad, "maximize": maximize}


WD = 0.1

# (case suffix, optimizer, options, problem, steps or None for default)
CASES = []


def add(suffix, optimizer, opts, problem, steps=None):
    CASES.append((f"{optimizer}_{suffix}_{problem}", optimizer, opts, problem,
                  steps if steps is not None else PROBLEMS[problem][2]))


for p, lr_sgd, lr_mom, lr_ada, lr_rms, lr_adam in [
    ("rosenbrock", 2e-4, 5e-5, 0.1, 1e-3, 1e-2),
    ("least_squares", 0.1, 0.05, 0.1, 1e-2, 1e-2),
]:
    # SGD
    add("plain", "sgd", sgd(lr_sgd), p)
    add("weight_decay", "sgd", sgd(lr_sgd, weightDecay=WD), p)
    if p == "rosenbrock":
        add("maximize", "sgd", sgd(1e-5, maximize=True), p, steps=10)
    else:
        add("maximize", "sgd", sgd(lr_sgd, maximize=True), p, steps=5)
    # Momentum (SGD with momentum, dampening 0)
    add("plain", "momentum", momentum(lr_mom), p)
    add("nesterov", "momentum", momentum(lr_mom, nesterov=True), p)
    add("weight_decay", "momentum", momentum(lr_mom, weightDecay=WD), p)
    # Adagrad
    add("defaults", "adagrad", adagrad(), p)
    add("lr_decay", "adagrad", adagrad(lr_ada, learningRateDecay=0.01), p)
    add("initial_accumulator", "adagrad",
        adagrad(lr_ada, initialAccumulatorValue=0.1), p)
    add("weight_decay", "adagrad", adagrad(lr_ada, weightDecay=WD), p)
    # RMSProp
    if p == "least_squares":
        add("defaults", "rmsprop", rmsprop(), p)
    else:
        add("defaults_lr", "rmsprop", rmsprop(lr_rms), p)
    add("centered", "rmsprop", rmsprop(lr_rms, centered=True), p)
    add("momentum", "rmsprop", rmsprop(lr_rms, momentum=0.9), p)
    add("centered_momentum", "rmsprop",
        rmsprop(lr_rms, momentum=0.9, centered=True), p)
    add("weight_decay", "rmsprop", rmsprop(lr_rms, weightDecay=WD), p)
    # Adadelta
    add("defaults", "adadelta", adadelta(), p)
    add("lr_rho", "adadelta", adadelta(0.5, rho=0.95), p)
    add("weight_decay", "adadelta", adadelta(weightDecay=WD), p)
    # Adam
    if p == "least_squares":
        add("defaults", "adam", adam(), p)
    add("defaults_lr", "adam", adam(lr_adam), p)
    add("amsgrad", "adam", adam(lr_adam, amsgrad=True), p)
    # With beta2 = 0.999 the second moment rarely decreases, so AMSGrad's
    # running max barely changes the path (~1e-5); beta2 = 0.9 makes it bite.
    add("amsgrad_beta2_0_9", "adam", adam(lr_adam, beta2=0.9, amsgrad=True), p)
    add("weight_decay", "adam", adam(lr_adam, weightDecay=WD), p)
    add("maximize", "adam", adam(lr_adam, maximize=True), p)
    # AdamW
    add("defaults_lr", "adamw", adamw(lr_adam), p)
    add("amsgrad", "adamw", adamw(lr_adam, amsgrad=True), p)
    add("amsgrad_beta2_0_9", "adamw",
        adamw(lr_adam, beta2=0.9, amsgrad=True), p)
    add("weight_decay", "adamw", adamw(lr_adam, weightDecay=WD), p)


def run_case(optimizer, opts, problem, steps, dtype=DTYPE):
    loss_fn, x0, _ = PROBLEMS[problem]
    theta = torch.tensor(x0, dtype=dtype, requires_grad=True)
    opt = make_torch_optimizer(optimizer, opts, [theta])
    trajectory, gradients, losses = [], [], []
    for _ in range(steps):
        trajectory.append([float(v) for v in theta.detach()])
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(theta)
        loss.backward()
        losses.append(float(loss.detach()))
        gradients.append([float(v) for v in theta.grad.detach()])
        opt.step()
    trajectory.append([float(v) for v in theta.detach()])
    with torch.no_grad():
        losses.append(float(loss_fn(theta.detach())))
    return trajectory, gradients, losses


def record(dtype):
    """Runs every case in `dtype`; float32 values are exact in the JSON (float64 holds them)."""
    cases = []
    for name, optimizer, opts, problem, steps in CASES:
        traj, grads, losses = run_case(optimizer, opts, problem, steps, dtype)
        flat = [v for row in traj for v in row] + [v for row in grads for v in row] + losses
        if not all(math.isfinite(v) for v in flat):
            raise SystemExit(f"non-finite values in case {name} ({dtype})")
        if traj[0] == traj[-1]:
            raise SystemExit(f"case {name} did not move ({dtype})")
        cases.append({
            "name": name,
            "optimizer": optimizer,
            "options": opts,
            "problem": problem,
            "steps": steps,
            "trajectory": traj,
            "gradients": grads,
            "loss": losses,
        })
    return cases


def main() -> int:
    if torch.backends.cpu.get_cpu_capability() != "DEFAULT":
        raise SystemExit("ATEN_CPU_CAPABILITY=default did not take effect")
    cases = record(DTYPE)
    float_cases = record(torch.float32)
    doc = {
        "source": f"torch {torch.__version__}, float64 (cases) and float32 (float_cases), "
                  "foreach=False, ATEN_CPU_CAPABILITY=default",
        "problems": {
            "rosenbrock": {
                "description": "f(x,y) = (1-x)^2 + 100 (y - x^2)^2",
                "dimension": 2,
                "x0": ROSEN_X0,
            },
            "least_squares": {
                "description": "L(x) = (1/(2m)) sum_i (a_i^T x - b_i)^2; "
                               "A, b from numpy default_rng(0).standard_normal (A then b)",
                "m": LS_M,
                "n": LS_N,
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
