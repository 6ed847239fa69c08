"""Interleaved benchmark of `descent bench` against PyTorch 2.13 (for-loop and foreach) for the
element-wise optimizers NAdam, RAdam, Adamax, Rprop and ASGD at n = 2e7, Float and Double.

Each round runs every implementation of a case once (Descent's step with the `unchecked`
policy, as torch does not check the gradient); the reported value is the median over rounds,
so the ratios hold on a shared machine. Library defaults on both sides (Descent's are torch's).
Usage: DESCENT=.build-release/release/descent python scripts/bench/elementwise_peers.py
(torch from scripts/reference/setup-venv or scripts/bench-peers; BENCH_ROUNDS=3,
BENCH_SECONDS=1.0, BENCH_N=20000000)."""
import json, os, statistics, subprocess, sys, time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DESCENT = os.environ.get("DESCENT", os.path.join(ROOT, ".build-release/release/descent"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BUDGET = float(os.environ.get("BENCH_SECONDS", "1.0"))
N = int(os.environ.get("BENCH_N", "20000000"))
OPTIMIZERS = {"nadam": torch.optim.NAdam, "radam": torch.optim.RAdam, "adamax": torch.optim.Adamax,
              "rprop": torch.optim.Rprop, "asgd": torch.optim.ASGD}


def arrays(n, dtype):
    u = (np.arange(n) % 977) / 977
    p = (u - 0.5).astype(dtype)
    g0 = (np.where(np.arange(n) & 1 == 0, 1, -1) * (0.1 + u)).astype(dtype)
    g1 = (np.where(np.arange(n) & 2 == 0, 1, -1) * (1.1 - u)).astype(dtype)
    return p, g0, g1


def timed(step):
    for _ in range(3):
        step()
    times, start = [], time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < BUDGET and len(times) < 1000):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def torch_case(name, precision, foreach):
    dtype = np.float64 if precision == "double" else np.float32
    p, g0, g1 = (torch.from_numpy(a) for a in arrays(N, dtype))
    param = torch.nn.Parameter(p)
    opt = OPTIMIZERS[name]([param], foreach=foreach)
    grads, state = [g0, g1], {"i": 0}

    def step():
        param.grad = grads[state["i"] & 1]
        state["i"] += 1
        opt.step()
    with torch.no_grad():
        return timed(step)


def descent_case(name, precision):
    out = subprocess.run([DESCENT, "bench", "--optimizer", name, "--sizes", str(N), "--precision", precision,
                          "--json", "--seconds", str(BUDGET)], check=True, capture_output=True, text=True).stdout
    rows = [json.loads(l) for l in out.splitlines() if l.strip()]
    assert len(rows) == 1, out
    return rows[0]


def main():
    results = {}
    for r in range(ROUNDS):
        for name in OPTIMIZERS:
            for precision in ("float", "double"):
                row = descent_case(name, precision)
                key = (name, precision)
                results.setdefault((key, "descent"), []).append(row["seconds_per_step"])
                allocations = row.get("allocations_per_step")
                results.setdefault((key, "allocations"), []).append(float("nan") if allocations is None else allocations)
                results.setdefault((key, "torch for-loop"), []).append(torch_case(name, precision, False))
                results.setdefault((key, "torch foreach"), []).append(torch_case(name, precision, True))
        print(f"round {r + 1} of {ROUNDS} done", file=sys.stderr)
    print(f"n = {N}, torch {torch.__version__}, {torch.get_num_threads()} threads, medians of {ROUNDS} interleaved rounds")
    print("| optimizer | precision | Descent ms/step | torch for-loop | torch foreach | Descent / fastest torch | allocations/step |")
    print("|---|---|---|---|---|---|---|")
    for name in OPTIMIZERS:
        for precision in ("float", "double"):
            key = (name, precision)
            d, loop, fe = (statistics.median(results[(key, k)]) for k in ("descent", "torch for-loop", "torch foreach"))
            alloc = max(results[(key, "allocations")])
            print(f"| {name} | {precision} | {d * 1e3:.1f} | {loop * 1e3:.1f} | {fe * 1e3:.1f} | {d / min(loop, fe):.2f} | {alloc:g} |")


if __name__ == "__main__":
    main()
