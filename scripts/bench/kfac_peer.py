"""K-FAC per step: Descent (`descent bench --kind kfac`) against kfac-jax 0.0.8 in one run.

The same network (digits, standardized; MLP 64-256-256-10, tanh, softmax cross-entropy),
minibatches of 256, float32, sampled Fisher ("fisher_gradients" in kfac-jax: one target drawn
from the model per sample), factor decay 0.95, inverse (Cholesky/eigen) update every 10 steps,
fixed learning rate 0.1, damping 1e-3, no momentum, no adaptive anything. Rounds alternate
between the two; each round times `--kfac-steps` steps after a warm-up (kfac-jax: jit
compilation excluded). Prints one JSON line per measurement and a summary line.

With KFAC_PEER_MODE=steps it instead counts kfac-jax's steps to a full-data training loss
≤ 0.05 (the race target of `descent bench --kind kfac-race`; same network, data, batches and
initialization scheme), for fixed settings and for kfac-jax's own adaptive learning rate,
momentum and damping (Martens & Grosse 2015, §6.5 and §7): how few steps the reference K-FAC
needs on this problem. The loss is evaluated after every step, outside any timing.

Usage: DESCENT=.build/release/descent .venv-bench/bin/python scripts/bench/kfac_peer.py
       KFAC_PEER_MODE=steps .venv-kfac/bin/python scripts/bench/kfac_peer.py
"""
import csv
import json
import os
import statistics
import subprocess
import time

import jax
import jax.numpy as jnp
import numpy as np

import kfac_jax

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DESCENT = os.environ.get("DESCENT", os.path.join(ROOT, ".build", "release", "descent"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
STEPS = int(os.environ.get("KFAC_STEPS", "40"))
SIZES = [64, 256, 256, 10]
BATCH = 256


def digits():
    with open(os.path.join(ROOT, "Sources", "DescentProblems", "Resources", "digits.csv")) as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    t = header.index("target")
    x = np.array([[float(v) for i, v in enumerate(r) if i != t] for r in body])
    y = np.array([int(float(r[t])) for r in body])
    mean, std = x.mean(0), x.std(0)
    std[std == 0] = 1
    return ((x - mean) / std).astype(np.float32), y


def init(key):
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        key, sub = jax.random.split(key)
        limit = (6 / (fan_in + fan_out)) ** 0.5
        params.append((jax.random.uniform(sub, (fan_in, fan_out), jnp.float32, -limit, limit), jnp.zeros(fan_out, jnp.float32)))
    return params


def logits_of(params, x):
    a = x
    for i, (w, b) in enumerate(params):
        z = a @ w + b
        a = jnp.tanh(z) if i < len(params) - 1 else z
    return a


def loss_fn(params, batch):
    x, y = batch
    logits = logits_of(params, x)
    kfac_jax.register_softmax_cross_entropy_loss(logits, y)
    return jnp.mean(jax.nn.logsumexp(logits, axis=-1) - jnp.take_along_axis(logits, y[:, None], axis=-1)[:, 0])


def kfac_jax_round(x, y, steps):
    opt = kfac_jax.Optimizer(
        value_and_grad_func=jax.value_and_grad(loss_fn), l2_reg=0.0,
        use_adaptive_learning_rate=False, use_adaptive_momentum=False, use_adaptive_damping=False,
        estimation_mode="fisher_gradients", curvature_ema=0.95, inverse_update_period=10,
        num_burnin_steps=0, multi_device=False)
    rng = jax.random.PRNGKey(0)
    params = init(jax.random.PRNGKey(1))
    perm = np.random.default_rng(1).permutation(len(y))
    batches = [(jnp.asarray(x[perm[i:i + BATCH]]), jnp.asarray(y[perm[i:i + BATCH]]))
               for i in range(0, len(y) - BATCH + 1, BATCH)]
    state = opt.init(params, rng, batches[0])
    lr, mom, damp = jnp.asarray(0.1), jnp.asarray(0.0), jnp.asarray(1e-3)
    times, t = [], 0
    for k in range(10 + steps):  # 10 warm-up steps cover compilation of both step kinds
        rng, sub = jax.random.split(rng)
        batch = batches[k % len(batches)]
        c0 = time.perf_counter()
        params, state, stats = opt.step(params, state, sub, batch=batch, learning_rate=lr, momentum=mom, damping=damp,
                                        global_step_int=t)
        jax.block_until_ready(params)
        if k >= 10:
            times.append(time.perf_counter() - c0)
        t += 1
    return sum(times) / len(times)


def kfac_jax_steps_to(x, y, target, adaptive, lr=0.1, damping=1e-3, interval=10, max_steps=60):
    """Steps until the full-data loss is <= target (None if not within max_steps), and the losses."""
    opt = kfac_jax.Optimizer(
        value_and_grad_func=jax.value_and_grad(loss_fn), l2_reg=0.0,
        use_adaptive_learning_rate=adaptive, use_adaptive_momentum=adaptive, use_adaptive_damping=adaptive,
        initial_damping=damping, estimation_mode="fisher_gradients", curvature_ema=0.95,
        inverse_update_period=interval, num_burnin_steps=0, multi_device=False)
    rng = jax.random.PRNGKey(0)
    params = init(jax.random.PRNGKey(1))
    perm = np.random.default_rng(1).permutation(len(y))
    batches = [(jnp.asarray(x[perm[i:i + BATCH]]), jnp.asarray(y[perm[i:i + BATCH]]))
               for i in range(0, len(y) - BATCH + 1, BATCH)]
    xs, ys = jnp.asarray(x), jnp.asarray(y)
    state = opt.init(params, rng, batches[0])
    fixed = {} if adaptive else dict(learning_rate=jnp.asarray(lr), momentum=jnp.asarray(0.0), damping=jnp.asarray(damping))
    losses = []
    for k in range(max_steps):
        rng, sub = jax.random.split(rng)
        params, state, _ = opt.step(params, state, sub, batch=batches[k % len(batches)], global_step_int=k, **fixed)
        z = logits_of(params, xs)
        loss = float(jnp.mean(jax.nn.logsumexp(z, axis=-1) - jnp.take_along_axis(z, ys[:, None], axis=-1)[:, 0]))
        losses.append(loss)
        if not np.isfinite(loss):
            break
        if loss <= target:
            return k + 1, losses
    return None, losses


def steps_main(target=0.05):
    x, y = digits()
    settings = [dict(adaptive=True, damping=1e-3), dict(adaptive=True, damping=1e-2), dict(adaptive=True, damping=1e-3, interval=1),
                dict(adaptive=False, lr=0.1), dict(adaptive=False, lr=0.03)]
    for s in settings:
        steps, losses = kfac_jax_steps_to(x, y, target, **s)
        print(json.dumps({"kind": "kfac-jax-steps", "network": "64-256-256-10", "batch": BATCH, "target_loss": target,
                          "adaptive_lr_momentum_damping": s["adaptive"], "initial_damping": s.get("damping", 1e-3),
                          "learning_rate": None if s["adaptive"] else s["lr"], "inverse_interval": s.get("interval", 10),
                          "steps": steps, "losses": [round(v, 4) for v in losses[:20]],
                          "versions": f"kfac-jax {kfac_jax.__version__}, jax {jax.__version__}"}), flush=True)


def descent_round(steps):
    out = subprocess.run([DESCENT, "bench", "--kind", "kfac", "--precision", "float", "--kfac-fisher", "sampled",
                          "--kfac-steps", str(steps), "--json"], capture_output=True, text=True, check=True).stdout
    row = json.loads([l for l in out.splitlines() if l.startswith("{")][-1])
    return row["seconds_per_step"], row["adam_seconds_per_step"]


def main():
    x, y = digits()
    ours, theirs, adam = [], [], []
    for r in range(ROUNDS):
        d, a = descent_round(STEPS)
        j = kfac_jax_round(x, y, STEPS)
        ours.append(d), adam.append(a), theirs.append(j)
        print(json.dumps({"round": r, "descent_kfac_seconds_per_step": d, "descent_adam_seconds_per_step": a,
                          "kfac_jax_seconds_per_step": j}), flush=True)
    md, mj, ma = statistics.median(ours), statistics.median(theirs), statistics.median(adam)
    print(json.dumps({"kind": "kfac-peer", "network": "64-256-256-10", "batch": BATCH, "precision": "float32",
                      "fisher": "sampled", "inverse_interval": 10, "descent_kfac": md, "descent_adam": ma,
                      "kfac_jax": mj, "descent_over_kfac_jax": md / mj,
                      "versions": f"kfac-jax {kfac_jax.__version__}, jax {jax.__version__}, numpy {np.__version__}"}))


if __name__ == "__main__":
    steps_main() if os.environ.get("KFAC_PEER_MODE") == "steps" else main()
