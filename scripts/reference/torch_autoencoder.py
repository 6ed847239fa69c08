"""Golden values for the deep autoencoder: loss, gradient and Fisher-vector product.

Peer: PyTorch 2.13.0 (CPU, float64). The network is Descent's `Autoencoder`: encoder widths
4, 3, 2 on d = 6 inputs, the decoder mirrored (6-4-3-2-3-4-6), hidden units tanh or sigmoid,
the code layer (width 2) linear, logits out; θ in Descent's layout (layer by layer the row-major
out × (in + 1) matrix [W | b]). The loss is
`binary_cross_entropy_with_logits(z, x, reduction="sum") / m` (sigmoid cross-entropy against the
input, summed over the outputs, mean over the samples). The gradient is autograd's; F v is the
Gauss–Newton product Jᵀ H J v / m with J v from `torch.func.jvp`, H = diag(σ(z)(1 − σ(z))),
and Jᵀ(·) from `torch.func.vjp`. Inputs, θ and v are fixed formulas written into the fixture.

Writes Tests/Fixtures/torch_autoencoder.json (float64 numbers round-trip exactly).
"""
import json
import math
import pathlib

import torch
from torch.func import jvp, vjp

ROOT = pathlib.Path(__file__).resolve().parents[2]
D, WIDTHS, M = 6, [4, 3, 2], 5


def sizes():
    return [D] + WIDTHS + WIDTHS[:-1][::-1] + [D]


def forward(theta, x, activation):
    s = sizes()
    code = len(WIDTHS)
    h = torch.tanh if activation == "tanh" else torch.sigmoid
    a, off = x, 0
    for l in range(1, len(s)):
        i, o = s[l - 1], s[l]
        block = theta[off:off + o * (i + 1)].reshape(o, i + 1)
        off += o * (i + 1)
        z = a @ block[:, :i].T + block[:, i]
        a = z if (l == code or l == len(s) - 1) else h(z)
    return a


def main():
    s = sizes()
    n = sum(s[l] * (s[l - 1] + 1) for l in range(1, len(s)))
    # Inputs in [0, 1] with exact 0s and 1s, θ and v from fixed formulas.
    x = [[0.0 if (i + j) % 5 == 0 else 1.0 if (i * j) % 7 == 3 else 0.5 + 0.45 * math.sin(1.7 * i + 0.9 * j + 0.3)
          for j in range(D)] for i in range(M)]
    theta = [0.6 * math.sin(0.37 * k + 0.1) + 0.1 * math.cos(1.3 * k) for k in range(n)]
    vector = [math.cos(0.71 * k + 0.5) for k in range(n)]
    X = torch.tensor(x, dtype=torch.float64)
    T = torch.tensor(theta, dtype=torch.float64)
    V = torch.tensor(vector, dtype=torch.float64)
    cases = []
    for activation in ["tanh", "sigmoid"]:
        for batch in [None, [3, 0, 3, 1]]:
            xb = X if batch is None else X[batch]
            m = xb.shape[0]
            t = T.clone().requires_grad_(True)
            z = forward(t, xb, activation)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(z, xb, reduction="sum") / m
            (grad,) = torch.autograd.grad(loss, t)
            f = lambda th: forward(th, xb, activation)
            z0, jv = jvp(f, (T,), (V,))
            p = torch.sigmoid(z0)
            _, pullback = vjp(f, T)
            (fv,) = pullback(p * (1 - p) * jv / m)
            cases.append(dict(activation=activation, batch=batch, loss=float(loss.detach()), gradient=grad.tolist(),
                              fisher_vector_product=fv.tolist()))
    out = {"peer": f"torch {torch.__version__} autograd and torch.func.jvp/vjp, float64",
           "encoder_widths": WIDTHS, "inputs": x, "theta": theta, "vector": vector, "cases": cases}
    path = ROOT / "Tests" / "Fixtures" / "torch_autoencoder.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
