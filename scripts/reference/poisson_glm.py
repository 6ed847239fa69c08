"""Poisson GLM (log link) fixture: data and the statsmodels MLE.

Descent's natural gradient with the Poisson output's exact Fisher (Λ = μ) is Fisher scoring,
i.e. IRLS, so it must land on statsmodels' GLM(family=Poisson()) maximum-likelihood estimate.
Parameters are laid out as Descent's linear models: θ = (w₁ … w_d, b), intercept last.
Writes Tests/Fixtures/poisson_glm.json.
"""
import json
import os

import numpy as np
import statsmodels.api as sm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    rng = np.random.default_rng(20261130)
    m, d = 120, 3
    x = rng.normal(0.0, 0.6, (m, d))
    w = np.array([0.4, -0.7, 0.25])
    b = 0.3
    y = rng.poisson(np.exp(x @ w + b)).astype(float)
    design = np.hstack([x, np.ones((m, 1))])          # intercept last, as θ = (w, b)
    fit = sm.GLM(y, design, family=sm.families.Poisson()).fit(tol=1e-14, maxiter=100)
    mu = fit.mu
    # The Fisher at the MLE, (1/m) Σ μᵢ xᵢxᵢᵀ, as a second check of the Poisson form.
    fisher = (design * mu[:, None]).T @ design / m
    out = {
        "source": f"statsmodels {sm.__version__} GLM(family=Poisson()) on seeded data (numpy {np.__version__})",
        "m": m, "d": d,
        "X": x.tolist(), "y": y.tolist(),
        "params": fit.params.tolist(),
        "fisher_at_mle": fisher.tolist(),
        "mean_loss_at_mle": float(np.mean(mu - y * np.log(mu))),
    }
    path = os.path.join(ROOT, "Tests/Fixtures/poisson_glm.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {path}: params {fit.params}")


if __name__ == "__main__":
    main()
