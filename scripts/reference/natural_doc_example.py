#!/usr/bin/env python3
"""Golden values for the logistic-regression example of docs/natural-gradient.md:
statsmodels Logit MLE on its 8-row design. Writes Tests/Fixtures/natural_doc_example.json."""
import json
import pathlib

import numpy as np
import statsmodels
import statsmodels.api as sm

X = np.array([[0.5, 1.2, 1], [-1.0, 0.3, 1], [1.5, -0.7, 1], [0.2, 0.1, 1],
              [-0.4, -1.1, 1], [1.1, 0.9, 1], [-0.8, 0.6, 1], [0.9, -0.2, 1]])
y = np.array([1, 0, 1, 0, 0, 0, 1, 1.0])
fit = sm.Logit(y, X).fit(disp=0, tol=1e-14, maxiter=100)
out = {
    "source": f"statsmodels {statsmodels.__version__}, numpy {np.__version__}",
    "description": "Logit MLE, design rows (x1, x2, 1); params in design-column order",
    "X": X.tolist(), "y": y.tolist(), "params": fit.params.tolist(),
    "converged": bool(fit.mle_retvals["converged"]),
}
path = pathlib.Path(__file__).resolve().parents[2] / "Tests" / "Fixtures" / "natural_doc_example.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print(path, out["params"])
