"""Adaptive K-FAC golden trajectories (peer: kfac-jax 0.0.8's `Optimizer`, jax 0.6.2, float64).

Writes Tests/Fixtures/kfac_adaptive.json. kfac-jax runs with
use_adaptive_learning_rate, use_adaptive_momentum and use_adaptive_damping (Martens & Grosse
2015, sections 6.5-7), no burn-in (num_burnin_steps = 0), no L2 term (l2_reg = 0), the exact
Fisher both for the Kronecker factors (estimation_mode "fisher_exact") and for the quadratic
model (the implicit exact Fisher-vector products kfac-jax derives from `value_and_grad`), on
the full batch of a small data set, with jax_enable_x64.

Each case is a perceptron with tanh hidden units and a softmax cross-entropy output,
L(theta) = mean_i (logsumexp(z_i) - z_{i,y_i}), the network of Descent's MultilayerPerceptron:
kfac-jax's layer l is `a @ W + b` with W of shape (in, out); Descent's theta holds, layer by
layer and unit by unit, the unit's weights (a column of W) then its bias. The fixture stores
the data (features, labels), the widths, the hyperparameters (in the Swift names) and, per
step t, theta_t before the step, the loss L(theta_t), the chosen learning rate alpha and
momentum mu (delta = -alpha * Delta + mu * delta_prev, Delta the preconditioned gradient),
the damping lambda used in the step, rho (NaN, written as null, on steps that do not adapt
lambda), and the final theta after the last step.

Usage: .venv-kfac/bin/python scripts/reference/kfac_adaptive_reference.py
(.venv-kfac: pip install jax==0.6.2 jaxlib==0.6.2 kfac-jax==0.0.8).
"""
import json
import math
import os

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import kfac_jax  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "kfac_adaptive.json")


def make_data(seed, samples, features, classes):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 1.5, size=(classes, features))
    y = np.arange(samples) % classes
    x = centers[y] + rng.normal(0, 1.0, size=(samples, features))
    return x, y


def init(seed, sizes):
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        limit = math.sqrt(6 / (fan_in + fan_out))
        params.append((rng.uniform(-limit, limit, size=(fan_in, fan_out)), rng.uniform(-0.1, 0.1, size=fan_out)))
    return params


def flatten(params):
    """Descent's layout: per layer, per unit (output), its weights then its bias."""
    theta = []
    for w, b in params:
        for o in range(w.shape[1]):
            theta.extend(float(v) for v in np.asarray(w[:, o]))
            theta.append(float(b[o]))
    return theta


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


def finite_or_none(v):
    v = float(v)
    return v if math.isfinite(v) else None


def run_case(name, sizes, samples, seed, steps, initial_damping, interval, decay, min_damping, max_damping, ema, inverse_period):
    x, y = make_data(seed, samples, sizes[0], sizes[-1])
    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in init(seed + 1, sizes)]
    opt = kfac_jax.Optimizer(
        value_and_grad_func=jax.value_and_grad(loss_fn), l2_reg=0.0,
        use_adaptive_learning_rate=True, use_adaptive_momentum=True, use_adaptive_damping=True,
        initial_damping=initial_damping, min_damping=min_damping, max_damping=max_damping,
        damping_adaptation_interval=interval, damping_adaptation_decay=decay,
        estimation_mode="fisher_exact", curvature_ema=ema, inverse_update_period=inverse_period,
        num_burnin_steps=0, multi_device=False)
    batch = (jnp.asarray(x), jnp.asarray(y))
    rng = jax.random.PRNGKey(0)
    state = opt.init(params, rng, batch)
    records = []
    for t in range(steps):
        theta = flatten(params)
        params, state, stats = opt.step(params, state, rng, batch=batch, global_step_int=t)
        records.append({"theta": theta, "loss": float(stats["loss"]), "learningRate": float(stats["learning_rate"]),
                        "momentum": float(stats["momentum"]), "damping": float(stats["damping"]),
                        "rho": finite_or_none(stats["rho"]), "quadraticChange": float(stats["quad_model_change"])})
    return {
        "name": name, "sizes": sizes,
        "features": [[float(v) for v in row] for row in x], "labels": [int(v) for v in y],
        "initialDamping": initial_damping, "dampingInterval": interval, "dampingDecay": decay,
        "minimumDamping": min_damping, "maximumDamping": max_damping if math.isfinite(max_damping) else None,
        "factorDecay": ema, "inverseUpdateInterval": inverse_period,
        "steps": records, "finalTheta": flatten(params),
    }


def main():
    cases = [
        # kfac-jax's defaults (decay 0.9 every 5 steps, inverses every 5, EMA 0.95), lambda0 = 1.
        run_case("defaults 4-6-3", [4, 6, 3], 24, 11, 20, 1.0, 5, 0.9, 1e-8, math.inf, 0.95, 5),
        # Fast adaptation: lambda every 2 steps by 0.5^2, inverses every 3, clamped to [1e-3, 2].
        run_case("fast adaptation 3-5-4-3", [3, 5, 4, 3], 18, 23, 16, 0.5, 2, 0.5, 1e-3, 2.0, 0.8, 3),
        # Inverses every step, lambda adapted every step, small lambda0.
        run_case("every step 5-4-2", [5, 4, 2], 16, 37, 14, 1e-2, 1, 0.95, 1e-6, 10.0, 0.9, 1),
    ]
    with open(OUT, "w") as f:
        json.dump({"peer": f"kfac-jax {kfac_jax.__version__}, jax {jax.__version__}, float64", "cases": cases}, f)
        f.write("\n")
    for c in cases:
        print(c["name"], [round(r["loss"], 6) for r in c["steps"]], [r["damping"] for r in c["steps"]][-1])


if __name__ == "__main__":
    main()
