"""K-FAC golden values (peer: a NumPy transcription of the formulas; float64).

Writes Tests/Fixtures/kfac.json. For a small tanh perceptron 3-4-K with each
output layer (linear/Gaussian beta = 1, sigmoid/Bernoulli, softmax/categorical,
K = 3) and each estimation mode (exact, sampled, empirical), on a minibatch with
a repeated index:

- the Kronecker factors A_l = (1/m) sum a_bar a_bar^T (a_bar = [a; 1]) and
  G_l = (1/m) sum_i sum_s (B_i^T u_is)(B_i^T u_is)^T, where the output seeds u
  are: exact   -- Lambda = sum_s u u^T (Gaussian 1, sigmoid sqrt(p(1-p)),
                  softmax sqrt(p_c)(e_c - p) for every c);
       sampled -- grad of the loss w.r.t. the output at a target drawn from the
                  model (Gaussian y = z + eps, Bernoulli, categorical) with
                  SplitMix64 keyed by (seed, step, data index), as
                  `kroneckerSampleGenerator` in Swift;
       empirical -- grad of the loss at the observed target;
- one K-FAC step from a fresh state (eta, lambda, pi-adjusted damping,
  (G + sqrt(lam)/pi I)^-1 gradW (A + pi sqrt(lam) I)^-1), and
- a second step at the new point with the factors averaged with decay beta
  (the first factors initialize the average) and refactored (interval 1).

Layout of theta: layer by layer, row-major [W | b] (bias last), as Descent's
MultilayerPerceptron. Everything is written as Python floats (exact float64).
"""
import json
import math
import os

import numpy as np

MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53

    def normal(self):
        u1 = 1 - self.uniform()
        u2 = self.uniform()
        r = math.sqrt(-2 * math.log(u1))
        return r * math.cos(2 * math.pi * u2)


def sample_generator(seed, step, index):
    a = SplitMix64(seed)
    b = SplitMix64(a.next() ^ (step & MASK))
    c = SplitMix64(b.next() ^ (index & MASK))
    return SplitMix64(c.next())


def layers_of(theta, sizes):
    ws, off = [], 0
    for l in range(1, len(sizes)):
        o, i = sizes[l], sizes[l - 1] + 1
        ws.append(np.array(theta[off:off + o * i]).reshape(o, i))
        off += o * i
    return ws


def forward(ws, x):
    acts = [x]
    for l, w in enumerate(ws):
        z = w[:, :-1] @ acts[-1] + w[:, -1]
        acts.append(np.tanh(z) if l < len(ws) - 1 else z)
    return acts


def backward(ws, acts, u):
    deltas = [None] * len(ws)
    deltas[-1] = u
    for l in range(len(ws) - 1, 0, -1):
        deltas[l - 1] = (ws[l][:, :-1].T @ deltas[l]) * (1 - acts[l] ** 2)
    return deltas


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def sigmoid(z):
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def loss_grad_seed(output, z, y):
    """dl/dz at the observed target."""
    if output == "linear":
        return np.array([z[0] - y])
    if output == "sigmoid":
        return np.array([sigmoid(z[0]) - y])
    p = softmax(z)
    e = np.zeros_like(p)
    e[int(y)] = 1
    return p - e


def seeds(output, fisher, z, y, rng):
    if fisher == "empirical":
        return [loss_grad_seed(output, z, y)]
    if fisher == "sampled":
        if output == "linear":
            return [np.array([-rng.normal()])]
        if output == "sigmoid":
            q = sigmoid(z[0])
            return [np.array([q - (1.0 if rng.uniform() < q else 0.0)])]
        p = softmax(z)
        u = rng.uniform()
        label, cumulative = len(p) - 1, 0.0
        for c in range(len(p)):
            cumulative += p[c]
            if u < cumulative:
                label = c
                break
        e = np.zeros_like(p)
        e[label] = 1
        return [p - e]
    if output == "linear":
        return [np.array([1.0])]
    if output == "sigmoid":
        q = sigmoid(z[0])
        return [np.array([math.sqrt(q * (1 - q))])]
    p = softmax(z)
    return [math.sqrt(p[s]) * (np.eye(len(p))[s] - p) for s in range(len(p))]


def factors_and_gradient(theta, sizes, X, Y, batch, output, fisher, step, seed):
    ws = layers_of(theta, sizes)
    m = len(batch)
    A = [np.zeros((w.shape[1], w.shape[1])) for w in ws]
    G = [np.zeros((w.shape[0], w.shape[0])) for w in ws]
    grads = [np.zeros_like(w) for w in ws]
    for idx in batch:
        acts = forward(ws, X[idx])
        rng = sample_generator(seed, step, idx)
        for l in range(len(ws)):
            abar = np.append(acts[l], 1.0)
            A[l] += np.outer(abar, abar) / m
        for u in seeds(output, fisher, acts[-1], Y[idx], rng):
            deltas = backward(ws, acts, u)
            for l in range(len(ws)):
                G[l] += np.outer(deltas[l], deltas[l]) / m
        deltas = backward(ws, acts, loss_grad_seed(output, acts[-1], Y[idx]))
        for l in range(len(ws)):
            grads[l] += np.outer(deltas[l], np.append(acts[l], 1.0)) / m
    return A, G, grads


def kfac_step(theta, sizes, A, G, grads, lr, lam):
    out, off = np.array(theta, dtype=float), 0
    for a, g, gw in zip(A, G, grads):
        o, i = gw.shape
        pi = math.sqrt((np.trace(a) / i) / (np.trace(g) / o))
        ad = a + pi * math.sqrt(lam) * np.eye(i)
        gd = g + math.sqrt(lam) / pi * np.eye(o)
        x = np.linalg.solve(gd, gw)
        x = np.linalg.solve(ad, x.T).T
        out[off:off + o * i] -= lr * x.reshape(-1)
        off += o * i
    return out


def main():
    rng = np.random.default_rng(20261130)
    m, d, hidden, k = 6, 3, 4, 3
    X = rng.standard_normal((m, d))
    targets = {
        "linear": rng.standard_normal(m),
        "sigmoid": np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0]),
        "softmax": np.array([0.0, 2.0, 1.0, 2.0, 0.0, 1.0]),
    }
    batch = [4, 0, 2, 2, 5]
    step, seed = 3, 42
    lr, lam, beta = 0.5, 0.01, 0.9
    cases = []
    for output in ["linear", "sigmoid", "softmax"]:
        sizes = [d, hidden, 1 if output != "softmax" else k]
        n = sum(sizes[l] * (sizes[l - 1] + 1) for l in range(1, len(sizes)))
        theta = rng.uniform(-0.8, 0.8, n)
        for fisher in ["exact", "sampled", "empirical"]:
            Y = targets[output]
            A, G, grads = factors_and_gradient(theta, sizes, X, Y, batch, output, fisher, step, seed)
            theta1 = kfac_step(theta, sizes, A, G, grads, lr, lam)
            A2, G2, grads2 = factors_and_gradient(theta1, sizes, X, Y, batch, output, fisher, step + 1, seed)
            Aavg = [beta * a + (1 - beta) * b for a, b in zip(A, A2)]
            Gavg = [beta * a + (1 - beta) * b for a, b in zip(G, G2)]
            theta2 = kfac_step(theta1, sizes, Aavg, Gavg, grads2, lr, lam)
            cases.append({
                "output": output, "fisher": fisher, "layerSizes": sizes,
                "theta": [float(v) for v in theta],
                "A": [[float(v) for v in a.reshape(-1)] for a in A],
                "G": [[float(v) for v in g.reshape(-1)] for g in G],
                "theta1": [float(v) for v in theta1],
                "theta2": [float(v) for v in theta2],
            })
    out = {
        "peer": f"numpy {np.__version__} transcription of the K-FAC formulas (scripts/reference/kfac_reference.py)",
        "features": [[float(v) for v in row] for row in X],
        "targets": {key: [float(v) for v in val] for key, val in targets.items()},
        "hiddenActivation": "tanh",
        "batch": batch, "step": step, "seed": seed,
        "learningRate": lr, "damping": lam, "factorDecay": beta,
        "cases": cases,
    }
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.join(root, "Tests", "Fixtures", "kfac.json")
    with open(path + ".tmp", "w") as f:
        json.dump(out, f, indent=1)
    os.replace(path + ".tmp", path)
    print("wrote", path)


if __name__ == "__main__":
    main()
