"""Golden values for ReduceLROnPlateau and early stopping.

Peer: PyTorch 2.13.0 `torch.optim.lr_scheduler.ReduceLROnPlateau(mode="min")` on an SGD
optimizer over one dummy parameter. For each case, a fixed sequence of metric values (written in
the fixture) is fed to `scheduler.step(metric)` and the learning rate after each call is
recorded, with the scheduler's `best`, `num_bad_epochs` and `cooldown_counter`.

Writes Tests/Fixtures/torch_plateau.json (float64 numbers round-trip exactly).
"""
import json
import math
import pathlib

import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]


def metrics(kind, n=60):
    # Deterministic sequences: a decreasing curve with plateaus, noise from a fixed formula,
    # ties, and a rise.
    out = []
    for i in range(n):
        if kind == "plateaus":
            v = 1.0 / (1 + i // 7) + 0.001 * math.sin(i * 1.7)
        elif kind == "noisy":
            v = math.exp(-0.05 * i) + 0.05 * math.sin(i * 2.3) * math.cos(i * 0.7)
        elif kind == "flat":
            v = 0.5 if i % 9 else 0.5 - 1e-5 * i
        else:  # rising after a minimum
            v = (i - 20) ** 2 / 400.0 + 0.1
        out.append(float(v))
    return out


CASES = [
    dict(name="default", metrics="plateaus", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8),
    dict(name="patience2-half", metrics="plateaus", factor=0.5, patience=2, threshold=1e-4, threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8),
    dict(name="abs-cooldown", metrics="noisy", factor=0.5, patience=1, threshold=1e-2, threshold_mode="abs", cooldown=3, min_lr=0.0, eps=1e-8),
    dict(name="rel-minlr", metrics="noisy", factor=0.3, patience=0, threshold=1e-3, threshold_mode="rel", cooldown=1, min_lr=0.002, eps=1e-8),
    dict(name="flat-eps", metrics="flat", factor=0.9, patience=3, threshold=0.0, threshold_mode="rel", cooldown=0, min_lr=0.05, eps=1e-3),
    dict(name="rising", metrics="rising", factor=0.2, patience=4, threshold=1e-4, threshold_mode="abs", cooldown=2, min_lr=1e-4, eps=1e-8),
]


def main():
    cases = []
    for c in CASES:
        p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        opt = torch.optim.SGD([p], lr=0.1)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="min", factor=c["factor"], patience=c["patience"], threshold=c["threshold"],
            threshold_mode=c["threshold_mode"], cooldown=c["cooldown"], min_lr=c["min_lr"], eps=c["eps"])
        ms = metrics(c["metrics"])
        lrs, best, bad, cool = [], [], [], []
        for m in ms:
            sched.step(m)
            lrs.append(float(opt.param_groups[0]["lr"]))
            best.append(float(sched.best))
            bad.append(int(sched.num_bad_epochs))
            cool.append(int(sched.cooldown_counter))
        case = {k: v for k, v in c.items() if k != "metrics"}
        case.update(initial_lr=0.1, metrics=ms, learning_rates=lrs, best=best, bad_epochs=bad, cooldown_counter=cool)
        cases.append(case)
    out = {"peer": f"torch {torch.__version__} ReduceLROnPlateau(mode='min')", "cases": cases}
    path = ROOT / "Tests" / "Fixtures" / "torch_plateau.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
