"""PyTorch's time for the autoencoder's evaluations, beside `descent bench --kind autoencoder`.

The same network and data as Descent's bench: 784-w1-…-wc-…-w1-784 (default 256,64,16), tanh
hidden units, linear code layer, logits out, loss = sigmoid cross-entropy summed over the
outputs, mean over the samples, on the first N Fashion-MNIST training images (pixels / 255,
Debian's dataset-fashion-mnist), float32 on the CPU, full batch. Rows (median milliseconds
over the timed rounds after one warm-up):

- loss+gradient: forward and `backward()` through `torch.nn.functional` layers;
- fisher-vector product: J v by `torch.func.jvp`, times diag(p(1 − p))/m, then Jᵀ(·) by the
  `torch.func.vjp` pullback (forward pass included, as in Descent's F·v).

Usage: .venv-reference/bin/python scripts/bench/autoencoder_torch.py [--hidden 256,64,16]
       [--samples 2000] [--rounds 20] [--json]
"""
import argparse
import gzip
import json
import statistics
import time

import numpy as np
import torch
from torch.func import jvp, vjp

IMAGES = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


def load(samples):
    with gzip.open(IMAGES, "rb") as f:
        data = f.read(16 + samples * 784)
    assert int.from_bytes(data[:4], "big") == 0x803, "not an IDX image file"
    pixels = np.frombuffer(data[16:], dtype=np.uint8).reshape(samples, 784)
    return torch.tensor(pixels.astype(np.float64) / 255.0, dtype=torch.float32)


def sizes(widths):
    return [784] + widths + widths[:-1][::-1] + [784]


def forward(params, x, code):
    a = x
    last = len(params) - 1
    for l, (w, b) in enumerate(params):
        z = torch.nn.functional.linear(a, w, b)
        a = z if (l == last or l + 1 == code) else torch.tanh(z)
    return a


def median_ms(body, rounds):
    body()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        body()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hidden", default="256,64,16")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    widths = [int(w) for w in args.hidden.split(",")]
    s = sizes(widths)
    x = load(args.samples)
    torch.manual_seed(0)
    params = []
    for i, o in zip(s, s[1:]):
        limit = (6 / (i + o)) ** 0.5
        params.append((torch.empty(o, i).uniform_(-limit, limit).requires_grad_(True), torch.zeros(o, requires_grad=True)))
    code = len(widths)
    m = x.shape[0]

    def loss_and_gradient():
        for w, b in params:
            w.grad = None
            b.grad = None
        z = forward(params, x, code)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, x, reduction="sum") / m
        loss.backward()

    flat = [t.detach() for pair in params for t in pair]
    direction = [torch.randn_like(t) for t in flat]

    def f(*tensors):
        return forward(list(zip(tensors[0::2], tensors[1::2])), x, code)

    def fisher_vector_product():
        z, jv = jvp(f, tuple(flat), tuple(direction))
        p = torch.sigmoid(z)
        _, pullback = vjp(f, *flat)
        return pullback(p * (1 - p) * jv / m)

    label = "-".join(map(str, s))
    rows = [
        dict(benchmark="autoencoder", peer=f"torch {torch.__version__}", threads=torch.get_num_threads(), network=label,
             samples=m, precision="float", operation="loss+gradient", milliseconds=median_ms(loss_and_gradient, args.rounds)),
        dict(benchmark="autoencoder", peer=f"torch {torch.__version__}", threads=torch.get_num_threads(), network=label,
             samples=m, precision="float", operation="fisher-vector product",
             milliseconds=median_ms(fisher_vector_product, args.rounds)),
    ]
    for r in rows:
        print(json.dumps(r, sort_keys=True) if args.json else
              f"{r['network']}  {r['samples']}  torch float  {r['operation']:<24} {r['milliseconds']:.2f} ms")


if __name__ == "__main__":
    main()
