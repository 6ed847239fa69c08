#!/usr/bin/env python3
"""scikit-learn logistic regression on the exported breast-cancer CSV.

Reads ``Sources/DescentProblems/Resources/breast_cancer.csv`` (the committed
file, so the Swift side sees exactly the same data), standardizes every
feature with the population standard deviation (ddof = 0, what
``StandardScaler`` does) and fits ``sklearn.linear_model.LogisticRegression``
(lbfgs, max_iter = 10000, tol = 1e-10).

Writes ``Tests/Fixtures/breast_cancer_logistic.json`` with

* ``unpenalized``: the fit asked for (no penalty). scikit-learn >= 1.8
  deprecates ``penalty=None``; the spelling it accepts is ``C=np.inf``.
  NOTE: the standardized breast-cancer data is *linearly separable*, so the
  unpenalized maximum-likelihood estimate does not exist: lbfgs drives the
  training NLL to ~1e-10 with coefficients of order 1e4 and 100 % training
  accuracy. Those coefficients are where lbfgs happened to stop, not a
  well-defined target; only the accuracy (1.0) and "NLL close to 0" are
  meaningful to compare against.
* ``l2``: well-posed L2-regularized fits (intercept not penalized) for
  C = 1.0 and C = 0.1. scikit-learn minimizes
  0.5 ||w||^2 + C sum_i loss_i, which equals m C times
  meanNLL + (lambda / 2) ||w||^2 with lambda = 1 / (C m); both C and lambda
  are recorded. These have unique solutions to compare coefficients with.
  lbfgs stops at a gradient of ~1e-8, so each entry also carries
  ``newtonPolished``: a few exact Newton steps (numpy) from sklearn's answer,
  the optimum to ~1e-15, plus its distance from sklearn's coefficients.
"""
from __future__ import annotations

import json
import os
import sys
import warnings

import numpy as np
import sklearn
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CSV = os.path.join(ROOT, "Sources", "DescentProblems", "Resources", "breast_cancer.csv")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "breast_cancer_logistic.json")


def load():
    with open(CSV) as fh:
        header = fh.readline().strip().split(",")
    data = np.loadtxt(CSV, delimiter=",", skiprows=1, dtype=np.float64)
    assert header[-1] == "target"
    X = data[:, :-1]
    y = data[:, -1].astype(int)
    return header[:-1], X, y


def mean_nll(Z, y, w, b):
    z = Z @ w + b
    return float(np.mean(np.logaddexp(0.0, z) - y * z)), z


def fit(Z, y, C):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # fail on deprecations / ConvergenceWarning
        model = LogisticRegression(C=C, max_iter=10000, tol=1e-10,
                                   solver="lbfgs").fit(Z, y)
    w = model.coef_.ravel().astype(np.float64)
    b = float(model.intercept_[0])
    m = Z.shape[0]
    nll, z = mean_nll(Z, y, w, b)
    p = expit(z)
    lam = 0.0 if np.isinf(C) else 1.0 / (C * m)
    grad_w = Z.T @ (p - y) / m + lam * w
    grad_b = float(np.mean(p - y))
    acc = float(np.mean(model.predict(Z) == y))
    assert acc == float(np.mean((z > 0) == (y == 1)))
    out = {
        "C": None if np.isinf(C) else C,
        "lambda": lam,
        "weights": w.tolist(),
        "intercept": b,
        "trainingAccuracy": acc,
        "meanNegLogLikelihood": nll,
        "objective": nll + 0.5 * lam * float(w @ w),
        "gradientMaxAbsAtFit": float(max(np.max(np.abs(grad_w)), abs(grad_b))),
        "iterations": int(model.n_iter_[0]),
    }
    if lam > 0:
        out["newtonPolished"] = newton_polish(Z, y, w, b, lam)
    return out


def newton_polish(Z, y, w, b, lam, steps=5):
    """A few exact Newton steps on meanNLL + lam/2 ||w||^2 from sklearn's fit.

    lbfgs stops with a gradient of ~1e-8 (mean scale), i.e. coefficients good
    to ~1e-6; the polished point is the optimum to ~1e-15 and tells how far
    sklearn's answer is from it.
    """
    m, d = Z.shape
    A = np.column_stack([Z, np.ones(m)])
    theta = np.append(w, b)
    reg = np.append(np.full(d, lam), 0.0)
    for _ in range(steps):
        p = expit(A @ theta)
        g = A.T @ (p - y) / m + reg * theta
        H = (A * (p * (1 - p))[:, None]).T @ A / m + np.diag(reg)
        theta = theta - np.linalg.solve(H, g)
    p = expit(A @ theta)
    g = A.T @ (p - y) / m + reg * theta
    nll, _ = mean_nll(Z, y, theta[:d], theta[d])
    return {
        "weights": theta[:d].tolist(),
        "intercept": float(theta[d]),
        "meanNegLogLikelihood": nll,
        "objective": nll + 0.5 * lam * float(theta[:d] @ theta[:d]),
        "gradientMaxAbs": float(np.max(np.abs(g))),
        "maxAbsDiffFromSklearn": float(np.max(np.abs(theta - np.append(w, b)))),
    }


def main() -> int:
    names, X, y = load()
    m, d = X.shape
    assert (m, d) == (569, 30)
    mu = X.mean(axis=0)
    sd = X.std(axis=0, ddof=0)
    Z = (X - mu) / sd
    sc = StandardScaler().fit(X)
    assert np.allclose(sc.mean_, mu, rtol=1e-15, atol=0) and np.allclose(sc.scale_, sd, rtol=1e-14, atol=0)
    Zs = sc.transform(X)
    assert np.max(np.abs(Zs - Z)) < 1e-12

    unpen = fit(Z, y, np.inf)
    unpen["note"] = ("standardized data is linearly separable: the unpenalized MLE does not exist; "
                     "coefficients are where lbfgs stopped. Compare only trainingAccuracy (1.0) "
                     "and that meanNegLogLikelihood is ~0.")
    l2 = [fit(Z, y, C) for C in (1.0, 0.1)]
    for r in l2:
        assert r["gradientMaxAbsAtFit"] < 1e-6, r["gradientMaxAbsAtFit"]
        assert r["newtonPolished"]["gradientMaxAbs"] < 1e-14, r["newtonPolished"]
        assert r["newtonPolished"]["maxAbsDiffFromSklearn"] < 1e-4, r["newtonPolished"]

    doc = {
        "source": f"scikit-learn {sklearn.__version__}, numpy {np.__version__}",
        "sklearnVersion": sklearn.__version__,
        "data": "Sources/DescentProblems/Resources/breast_cancer.csv",
        "m": m,
        "d": d,
        "featureNames": names,
        "standardization": "z = (x - mean) / std, std with ddof = 0 (population), per feature",
        "means": mu.tolist(),
        "stds": sd.tolist(),
        "solver": "lbfgs, max_iter=10000, tol=1e-10, fit_intercept=True",
        "objectiveDefinition": "meanNegLogLikelihood + (lambda/2)*||weights||^2, lambda = 1/(C*m), "
                               "intercept unpenalized; meanNegLogLikelihood = (1/m) sum_i "
                               "[log(1+exp(z_i)) - y_i z_i], z_i = weights.x_i + intercept",
        "unpenalized": unpen,
        "l2": l2,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as fh:
        json.dump(doc, fh, indent=1, allow_nan=False)
        fh.write("\n")
    print(f"wrote {os.path.relpath(OUT, ROOT)}: unpenalized acc {unpen['trainingAccuracy']} "
          f"nll {unpen['meanNegLogLikelihood']:.3g} max|w| {max(abs(v) for v in unpen['weights']):.3g}; "
          + "; ".join(f"C={r['C']} acc {r['trainingAccuracy']:.4f} nll {r['meanNegLogLikelihood']:.6f} "
                      f"grad {r['gradientMaxAbsAtFit']:.2g} polish-diff {r['newtonPolished']['maxAbsDiffFromSklearn']:.2g}"
                      for r in l2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
