#!/usr/bin/env python3
"""Reference maximum-likelihood fits by statsmodels / SciPy.

Writes ``Tests/Fixtures/logistic_mle.json`` with three seeded synthetic
problems:

* ``logistic``: m = 200, d = 3, ``numpy.random.default_rng(1)``:
  X ~ N(0, 1) (200x3), true weights (1.0, -2.0, 0.5), true intercept 0.3,
  y_i ~ Bernoulli(sigmoid(x_i . w + b)) drawn as ``rng.uniform() < p``.
  Fitted with ``statsmodels.api.Logit(y, [X, 1]).fit(method="newton",
  tol=1e-14)`` -- the constant column is appended LAST so the parameter
  vector is (w_1, ..., w_d, intercept).
* ``linear``: m = 50, d = 4, ``numpy.random.default_rng(2)``:
  X ~ N(0, 1), y = X w + b + 0.1 * N(0, 1) with w = (1.5, -0.5, 2.0, 0.0),
  b = -1.0. Solved with ``scipy.linalg.lstsq([X, 1], y)`` and cross-checked
  against ``statsmodels.api.OLS``.
* ``softmax``: m = 300, d = 3, K = 3 classes, ``numpy.random.default_rng(3)``,
  fitted with ``statsmodels.api.MNLogit`` (Newton). statsmodels pins class 0
  as the reference (its coefficients are zero); any model that adds the same
  vector to every class's coefficients has the same likelihood, so compare
  the NLL, the probabilities, or coefficient *differences* to class 0.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import scipy
import scipy.linalg
import statsmodels
import statsmodels.api as sm

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "logistic_mle.json")


def fl(a):
    """numpy array -> nested lists of Python floats."""
    return np.asarray(a, dtype=np.float64).tolist()


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def logistic_problem():
    m, d = 200, 3
    rng = np.random.default_rng(1)
    X = rng.standard_normal((m, d))
    w_true = np.array([1.0, -2.0, 0.5])
    b_true = 0.3
    p = sigmoid(X @ w_true + b_true)
    y = (rng.uniform(size=m) < p).astype(np.float64)

    Xc = np.column_stack([X, np.ones(m)])  # constant LAST
    res = sm.Logit(y, Xc).fit(method="newton", tol=1e-14, maxiter=100, disp=False)
    if not res.mle_retvals["converged"]:
        raise SystemExit("Logit did not converge")
    theta = res.params
    z = Xc @ theta
    # Mean NLL recomputed directly (stable form) as a cross-check of llf.
    nll = np.mean(np.logaddexp(0.0, z) - y * z)
    assert abs(nll - (-res.llf / m)) < 1e-12, (nll, -res.llf / m)
    grad = Xc.T @ (sigmoid(z) - y) / m
    gnorm = float(np.max(np.abs(grad)))
    assert gnorm < 1e-10, gnorm
    acc = float(np.mean((z > 0) == (y == 1)))
    assert 0.5 < acc < 1.0, "problem should be non-separable"
    return {
        "description": "y_i ~ Bernoulli(sigmoid(x_i.w + b)); params = weights then intercept; "
                       "meanNegLogLikelihood = (1/m) sum_i [log(1+exp(z_i)) - y_i z_i], z_i = x_i.w + b",
        "seed": "numpy default_rng(1): X = standard_normal((200,3)); y = uniform(200) < p",
        "m": m,
        "d": d,
        "X": fl(X),
        "y": fl(y),
        "trueWeights": fl(w_true),
        "trueIntercept": b_true,
        "weights": fl(theta[:d]),
        "intercept": float(theta[d]),
        "params": fl(theta),
        "logLikelihood": float(res.llf),
        "meanNegLogLikelihood": float(-res.llf / m),
        "gradientMaxAbsAtFit": gnorm,
        "trainingAccuracy": acc,
        "iterations": int(res.mle_retvals["iterations"]),
        "converged": bool(res.mle_retvals["converged"]),
    }


def linear_problem():
    m, d = 50, 4
    rng = np.random.default_rng(2)
    X = rng.standard_normal((m, d))
    w_true = np.array([1.5, -0.5, 2.0, 0.0])
    b_true = -1.0
    y = X @ w_true + b_true + 0.1 * rng.standard_normal(m)

    Xc = np.column_stack([X, np.ones(m)])  # constant LAST
    theta, _, rank, _ = scipy.linalg.lstsq(Xc, y)
    assert rank == d + 1
    ols = sm.OLS(y, Xc).fit()
    assert np.max(np.abs(ols.params - theta)) < 1e-12, (ols.params, theta)
    r = Xc @ theta - y
    rss = float(r @ r)
    grad = Xc.T @ r / m
    gnorm = float(np.max(np.abs(grad)))
    assert gnorm < 1e-12, gnorm
    return {
        "description": "least squares min ||[X 1] theta - y||^2; params = weights then intercept; "
                       "meanHalfSquaredError = (1/(2m)) * residualSumOfSquares",
        "seed": "numpy default_rng(2): X = standard_normal((50,4)); noise = 0.1*standard_normal(50)",
        "m": m,
        "d": d,
        "X": fl(X),
        "y": fl(y),
        "trueWeights": fl(w_true),
        "trueIntercept": b_true,
        "weights": fl(theta[:d]),
        "intercept": float(theta[d]),
        "params": fl(theta),
        "residualSumOfSquares": rss,
        "meanHalfSquaredError": rss / (2 * m),
        "gradientMaxAbsAtFit": gnorm,
    }


def softmax_problem():
    m, d, K = 300, 3, 3
    rng = np.random.default_rng(3)
    X = rng.standard_normal((m, d))
    W_true = np.array([[0.0, 0.0, 0.0],
                       [1.0, -1.0, 0.5],
                       [-0.5, 1.5, -1.0]])  # K x d
    b_true = np.array([0.0, 0.2, -0.3])
    logits = X @ W_true.T + b_true
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    u = rng.uniform(size=m)
    y = np.minimum((u[:, None] > np.cumsum(P, axis=1)).sum(axis=1), K - 1)

    Xc = np.column_stack([X, np.ones(m)])
    res = sm.MNLogit(y, Xc).fit(method="newton", tol=1e-14, maxiter=100, disp=False)
    if not res.mle_retvals["converged"]:
        raise SystemExit("MNLogit did not converge")
    # statsmodels params: (d+1) x (K-1), classes 1..K-1 vs reference class 0.
    Pk = np.asarray(res.params).T  # (K-1) x (d+1)
    coef = np.vstack([np.zeros(d + 1), Pk])  # K x (d+1): weights then intercept
    Z = Xc @ coef.T
    lse = np.log(np.exp(Z - Z.max(axis=1, keepdims=True)).sum(axis=1)) + Z.max(axis=1)
    nll = float(np.mean(lse - Z[np.arange(m), y]))
    assert abs(nll - (-res.llf / m)) < 1e-12, (nll, -res.llf / m)
    probs = np.exp(Z - lse[:, None])
    grad = (probs - np.eye(K)[y]).T @ Xc / m
    gnorm = float(np.max(np.abs(grad)))
    assert gnorm < 1e-10, gnorm
    acc = float(np.mean(Z.argmax(axis=1) == y))
    return {
        "description": "multinomial logistic regression, p(k|x) = softmax_k(W x + c); "
                       "coefficients[k] = (W_k1..W_kd, c_k) with class 0 pinned to zeros "
                       "(statsmodels MNLogit reference class); any common shift of all rows "
                       "gives the same likelihood",
        "seed": "numpy default_rng(3): X = standard_normal((300,3)); u = uniform(300); y = #{k: u > cumsum(P)_k}",
        "m": m,
        "d": d,
        "classes": K,
        "X": fl(X),
        "y": [int(v) for v in y],
        "coefficients": fl(coef),
        "logLikelihood": float(res.llf),
        "meanNegLogLikelihood": float(-res.llf / m),
        "gradientMaxAbsAtFit": gnorm,
        "trainingAccuracy": acc,
        "converged": bool(res.mle_retvals["converged"]),
    }


def main() -> int:
    doc = {
        "source": f"statsmodels {statsmodels.__version__}, scipy {scipy.__version__}, "
                  f"numpy {np.__version__}",
        "logistic": logistic_problem(),
        "linear": linear_problem(),
        "softmax": softmax_problem(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as fh:
        json.dump(doc, fh, indent=1, allow_nan=False)
        fh.write("\n")
    lg, ln, sx = doc["logistic"], doc["linear"], doc["softmax"]
    print(f"wrote {os.path.relpath(OUT, ROOT)}: logistic params {lg['params']} "
          f"meanNLL {lg['meanNegLogLikelihood']:.6f} acc {lg['trainingAccuracy']}; "
          f"linear params {ln['params']}; softmax meanNLL {sx['meanNegLogLikelihood']:.6f} "
          f"acc {sx['trainingAccuracy']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
