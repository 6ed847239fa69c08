#!/usr/bin/env python3
"""Export scikit-learn's bundled breast-cancer and digits data sets as CSV.

Writes
  Sources/DescentProblems/Resources/breast_cancer.csv  (569 rows, 30 features + target)
  Sources/DescentProblems/Resources/digits.csv         (1797 rows, 64 features + target)
  Sources/DescentProblems/Resources/DATASETS.md        (attribution)

Header: feature names made CSV-safe (only [A-Za-z0-9_]), last column
``target`` (integer). Feature values are written with ``repr(float(v))`` so
they round-trip exactly to float64. No quoting is needed anywhere; lines end
with "\n".
"""
from __future__ import annotations

import os
import re
import sys

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer, load_digits

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RES = os.path.join(ROOT, "Sources", "DescentProblems", "Resources")


def safe_name(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "_", name.strip()).strip("_")
    if not s or s[0].isdigit():
        s = "f_" + s
    return s


def write_csv(path: str, header: list[str], X: np.ndarray, y: np.ndarray) -> None:
    assert len(set(header)) == len(header), "duplicate column names"
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", h) for h in header)
    with open(path, "w", newline="") as fh:
        fh.write(",".join(header + ["target"]) + "\n")
        for row, t in zip(X, y):
            fh.write(",".join(repr(float(v)) for v in row) + "," + str(int(t)) + "\n")


def main() -> int:
    os.makedirs(RES, exist_ok=True)

    bc = load_breast_cancer()
    bc_header = [safe_name(n) for n in bc.feature_names]
    assert bc.data.shape == (569, 30)
    write_csv(os.path.join(RES, "breast_cancer.csv"), bc_header, bc.data, bc.target)

    dg = load_digits()
    assert dg.data.shape == (1797, 64)
    # pixel_<row>_<col> on the 8x8 image, row-major (matches sklearn's own
    # "pixel_r_c" feature_names).
    dg_header = [f"pixel_{i // 8}_{i % 8}" for i in range(64)]
    write_csv(os.path.join(RES, "digits.csv"), dg_header, dg.data, dg.target)

    n_malignant = int((bc.target == 0).sum())
    n_benign = int((bc.target == 1).sum())
    counts = np.bincount(dg.target, minlength=10)
    md = f"""# Bundled data sets

Both files were exported by `scripts/reference/export_datasets.py` from the
copies bundled with scikit-learn {sklearn.__version__} (`sklearn.datasets.load_breast_cancer`
and `sklearn.datasets.load_digits`). Rerun with
`scripts/reference/setup-venv && scripts/reference/run-all`.

Format: comma-separated, one header row, no quoting, `\\n` line ends. Feature
values are written with Python's `repr(float)` so they parse back to the exact
float64 values; the last column, `target`, is an integer class label.

## breast_cancer.csv

- 569 rows x 30 real-valued features + `target`.
- `target`: 0 = malignant ({n_malignant} rows), 1 = benign ({n_benign} rows)
  (scikit-learn's encoding).
- Column names are scikit-learn's feature names with every run of characters
  other than letters and digits replaced by `_` (e.g. `mean radius` ->
  `mean_radius`).
- Source: Breast Cancer Wisconsin (Diagnostic) data set, UCI Machine Learning
  Repository, https://doi.org/10.24432/C5DW2B. Creators: William H. Wolberg,
  W. Nick Street, Olvi L. Mangasarian (University of Wisconsin), 1995.
  Licensed under Creative Commons Attribution 4.0 International (CC BY 4.0).
  Reference: W. N. Street, W. H. Wolberg, O. L. Mangasarian, "Nuclear feature
  extraction for breast tumor diagnosis", IS&T/SPIE 1993 International
  Symposium on Electronic Imaging, vol. 1905, pp. 861-870.

## digits.csv

- 1797 rows x 64 features + `target`.
- Features `pixel_<row>_<col>` are the 8x8 image, row-major; values are
  integer counts 0..16 (written as floats, e.g. `5.0`).
- `target`: digit 0..9; rows per class: {", ".join(f"{d}: {int(c)}" for d, c in enumerate(counts))}.
- Source: Optical Recognition of Handwritten Digits data set (test part, as
  bundled by scikit-learn), UCI Machine Learning Repository,
  https://doi.org/10.24432/C50P49
  (https://archive.ics.uci.edu/ml/datasets/Optical+Recognition+of+Handwritten+Digits). Creators: E. Alpaydin, C. Kaynak
  (Bogazici University), 1998. Licensed under Creative Commons Attribution
  4.0 International (CC BY 4.0).
"""
    with open(os.path.join(RES, "DATASETS.md"), "w") as fh:
        fh.write(md)

    print(f"wrote breast_cancer.csv {bc.data.shape}, digits.csv {dg.data.shape}, "
          f"DATASETS.md (sklearn {sklearn.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
