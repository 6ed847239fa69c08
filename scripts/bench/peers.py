"""Interleaved benchmark of `descent bench` against PyTorch, optax and NumPy (first-order
optimizers) and SciPy/PyTorch (Cholesky solves). Run by scripts/bench-peers; prints a
side-by-side table and writes docs/benchmarks.md. Every implementation runs once per round,
rounds alternate, and the reported value is the median over rounds, so ratios hold on a
noisy machine."""
import json, os, platform, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DESCENT = os.environ.get("DESCENT", os.path.join(ROOT, ".build-bench/release/descent"))
# The same sources built with `-Xswiftc -target-cpu -Xswiftc native` (AVX-512 on this machine);
# Swift's default x86-64 target is SSE2. Optional: the column is left out when unset.
DESCENT_NATIVE = os.environ.get("DESCENT_NATIVE")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BUDGET = float(os.environ.get("BENCH_SECONDS", "1.0"))

import numpy as np
import torch
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
import optax
import scipy, scipy.linalg

# The same cases as `descent bench` (library defaults = PyTorch defaults).
CASES = [("adam", "double", 20_000_000), ("adam", "float", 20_000_000), ("momentum", "double", 20_000_000),
         ("rmsprop", "float", 20_000_000), ("adam", "double", 1000), ("momentum", "double", 1000)]
CHOLESKY = [(1024, 256), (4096, 256)]
LAMBDA = 1e-3


def arrays(n, dtype):
    u = (np.arange(n) % 977) / 977
    p = (u - 0.5).astype(dtype)
    g0 = (np.where(np.arange(n) & 1 == 0, 1, -1) * (0.1 + u)).astype(dtype)
    g1 = (np.where(np.arange(n) & 2 == 0, 1, -1) * (1.1 - u)).astype(dtype)
    return p, g0, g1


def timed(step, n):
    """Median seconds per step: a warm-up, then batches of ≥ 2 ms for ~BUDGET seconds."""
    for _ in range(3):
        step()
    t = time.perf_counter(); step(); single = time.perf_counter() - t
    k = max(1, min(100_000, int(2e-3 / max(single, 1e-9))))
    times, start = [], time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < BUDGET and len(times) < 1000):
        t = time.perf_counter()
        for _ in range(k):
            step()
        times.append((time.perf_counter() - t) / k)
    return statistics.median(times)


def torch_case(name, precision, n, mode):
    dtype = torch.float64 if precision == "double" else torch.float32
    p, g0, g1 = (torch.from_numpy(a) for a in arrays(n, np.float64 if precision == "double" else np.float32))
    param = torch.nn.Parameter(p.to(dtype))
    grads = [g0.to(dtype), g1.to(dtype)]
    kw = {"foreach": False} if mode == "for-loop" else {"foreach": True} if mode == "foreach" else {"fused": True}
    if name == "adam":
        opt = torch.optim.Adam([param], **kw)
    elif name == "momentum":
        if mode == "fused":
            kw = {"fused": True}
        opt = torch.optim.SGD([param], lr=1e-2, momentum=0.9, **kw)
    elif name == "rmsprop":
        if mode == "fused":
            return None  # torch.optim.RMSprop has no fused implementation
        opt = torch.optim.RMSprop([param], **kw)
    state = {"i": 0}

    def step():
        param.grad = grads[state["i"] & 1]
        state["i"] += 1
        opt.step()
    with torch.no_grad():
        return timed(step, n)


def optax_case(name, precision, n):
    dtype = jnp.float64 if precision == "double" else jnp.float32
    p, g0, g1 = (jnp.asarray(a, dtype=dtype) for a in arrays(n, np.float64 if precision == "double" else np.float32))
    tx = {"adam": lambda: optax.adam(1e-3), "momentum": lambda: optax.sgd(1e-2, momentum=0.9),
          "rmsprop": lambda: optax.rmsprop(1e-2, decay=0.99, eps=1e-8)}[name]()
    state = tx.init(p)

    @jax.jit
    def update(params, st, g):
        u, st = tx.update(g, st, params)
        return optax.apply_updates(params, u), st
    update = jax.jit(update.__wrapped__ if hasattr(update, "__wrapped__") else update, donate_argnums=(0, 1))
    box = {"p": p, "s": state, "i": 0}
    grads = [g0, g1]

    def step():
        box["p"], box["s"] = update(box["p"], box["s"], grads[box["i"] & 1])
        box["i"] += 1
        box["p"].block_until_ready()
    return timed(step, n)


def numpy_case(name, precision, n):
    dtype = np.float64 if precision == "double" else np.float32
    p, g0, g1 = arrays(n, dtype)
    grads = [g0, g1]
    m = np.zeros_like(p); v = np.zeros_like(p)
    st = {"t": 0}

    def step():
        g = grads[st["t"] & 1]
        st["t"] += 1
        t = st["t"]
        if name == "adam":
            m[:] = 0.9 * m + 0.1 * g
            v[:] = 0.999 * v + 0.001 * g * g
            p[:] -= (1e-3 / (1 - 0.9 ** t)) * m / (np.sqrt(v) / np.sqrt(1 - 0.999 ** t) + 1e-8)
        elif name == "momentum":
            m[:] = 0.9 * m + g if t > 1 else g
            p[:] -= 1e-2 * m
        else:  # rmsprop
            v[:] = 0.99 * v + 0.01 * g * g
            p[:] -= 1e-2 * g / (np.sqrt(v) + 1e-8)
    return timed(step, n)


def descent_case(name, precision, n, binary=DESCENT):
    out = subprocess.run([binary, "bench", "--optimizer", name, "--sizes", str(n), "--precision", precision,
                          "--json", "--seconds", str(BUDGET)], check=True, capture_output=True, text=True).stdout
    rows = [json.loads(l) for l in out.splitlines() if l.strip()]
    assert len(rows) == 1, out
    return rows[0]


def cholesky_peers(n, m):
    rng = np.random.default_rng(0)
    s = rng.uniform(-1, 1, (m, n))
    g = rng.uniform(-1, 1, n)
    st = torch.from_numpy(s); gt = torch.from_numpy(g)

    def scipy_step():
        f = s.T @ s / m + LAMBDA * np.eye(n)
        c = scipy.linalg.cho_factor(f, overwrite_a=True, check_finite=False)
        return scipy.linalg.cho_solve(c, g, check_finite=False)

    def torch_step():
        f = st.T @ st / m
        f.diagonal().add_(LAMBDA)
        l = torch.linalg.cholesky(f)
        return torch.cholesky_solve(gt.unsqueeze(1), l)

    def once(fn):
        fn()
        times = []
        for _ in range(3):
            t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
        return statistics.median(times)
    return once(scipy_step), once(torch_step)


def descent_natural(n, m):
    out = subprocess.run([DESCENT, "bench", "--kind", "natural", "--cholesky-sizes", str(n), "--cholesky-samples", str(m),
                          "--woodbury-sizes", "1", "--json", "--rounds", "3", "--seconds", "0.5"],
                         check=True, capture_output=True, text=True).stdout
    rows = [json.loads(l) for l in out.splitlines() if l.strip()]
    double = next(r for r in rows if r.get("precision") == "double")
    mixed = next((r for r in rows if r.get("precision") == "mixed"), None)
    return double, mixed


def main():
    impls = ["descent", "descent-checked"] + (["descent-native"] if DESCENT_NATIVE else []) + ["torch-for-loop", "torch-foreach", "torch-fused", "optax", "numpy"]
    results = {(c, i): [] for c in CASES for i in impls}
    chol = {(c, i): [] for c in CHOLESKY for i in ["descent-step", "descent-raw", "descent-mixed", "scipy", "torch"]}
    for r in range(ROUNDS):
        for case in CASES:
            name, precision, n = case
            print(f"round {r + 1}/{ROUNDS}: {name} {precision} n={n}", file=sys.stderr, flush=True)
            row = descent_case(*case)
            results[(case, "descent")].append(row["ns_per_element"])
            results[(case, "descent-checked")].append(row["checked_ns_per_element"])
            results[(case, "descent-limit")] = results.get((case, "descent-limit"), []) + [row["limit_ns_per_element"]]
            if DESCENT_NATIVE:
                results[(case, "descent-native")].append(descent_case(*case, binary=DESCENT_NATIVE)["ns_per_element"])
            for mode in ["for-loop", "foreach", "fused"]:
                s = torch_case(name, precision, n, mode)
                if s is not None:
                    results[(case, "torch-" + mode)].append(s / n * 1e9)
            results[(case, "optax")].append(optax_case(name, precision, n) / n * 1e9)
            results[(case, "numpy")].append(numpy_case(name, precision, n) / n * 1e9)
        for case in CHOLESKY:
            print(f"round {r + 1}/{ROUNDS}: cholesky n={case[0]} m={case[1]}", file=sys.stderr, flush=True)
            row, mixed = descent_natural(*case)
            chol[(case, "descent-step")].append(row["seconds"]); chol[(case, "descent-raw")].append(row["raw_seconds"])
            if mixed:
                chol[(case, "descent-mixed")].append(mixed["seconds"])
            sp, tt = cholesky_peers(*case)
            chol[(case, "scipy")].append(sp); chol[(case, "torch")].append(tt)
    med = {k: statistics.median(v) for k, v in results.items() if v}
    cmed = {k: statistics.median(v) for k, v in chol.items() if v}
    report(med, cmed, impls)


def fmt(x):
    return f"{x:.3f}" if x is not None else "–"


def machine():
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((l.split(":", 1)[1].strip() for l in lscpu.splitlines() if l.startswith("Model name")), "?")
    cores = os.cpu_count()
    mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
    blas = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libopenblas0-pthread"], capture_output=True, text=True).stdout
    env = {k: os.environ.get(k, "(unset)") for k in ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"]}
    return [f"- CPU: {model}, {cores} cores (KVM guest), {int(mem) / 2**20:.1f} GiB memory, {platform.platform()}",
            f"- BLAS for descent: Debian OpenBLAS {blas} (pthread); " + ", ".join(f"{k}={v}" for k, v in env.items()) + " (as found, not changed)",
            f"- Peers: torch {torch.__version__} (CPU wheel, {torch.get_num_threads()} threads), jax {jax.__version__}, optax {optax.__version__}, numpy {np.__version__}, scipy {scipy.__version__} (their bundled BLAS)"]


def report(med, cmed, impls):
    native = "descent-native" in impls
    lines = ["| case | " + " | ".join(impls) + " | stream limit | descent / torch fused | / optax | / numpy | / torch foreach | descent / stream"
             + (" | native / torch fused | native / stream |" if native else " |"),
             "|" + "---|" * (len(impls) + 7 + (2 if native else 0))]
    for case in CASES:
        name, precision, n = case
        v = {i: med.get((case, i)) for i in impls}
        d = v["descent"]
        limit = med.get((case, "descent-limit"))
        def ratio(i, x=d):
            return f"{x / v[i]:.2f}" if v.get(i) and x else "–"
        def share(x):
            return f"{limit / x:.0%}" if x and limit else "–"
        extra = f" {ratio('torch-fused', v['descent-native'])} | {share(v['descent-native'])} |" if native else ""
        lines.append(f"| {name} {precision} n={n:.0e} | " + " | ".join(fmt(v[i]) for i in impls) +
                     f" | {fmt(limit)} | {ratio('torch-fused')} | {ratio('optax')} | {ratio('numpy')} | {ratio('torch-foreach')} | {share(d)} |" + extra)
    chol_lines = ["| n | m | descent step | raw syrk+potrf+potrs | step / raw | descent mixed precision | SciPy | PyTorch float64 | descent / SciPy | descent / PyTorch | mixed / PyTorch |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (n, m) in CHOLESKY:
        s, r, sp, tt = (cmed[((n, m), k)] for k in ["descent-step", "descent-raw", "scipy", "torch"])
        mx = cmed.get(((n, m), "descent-mixed"))
        mixed = f"{mx:.4f} s" if mx else "–"
        mixed_ratio = f"{mx / tt:.2f}" if mx else "–"
        chol_lines.append(f"| {n} | {m} | {s:.4f} s | {r:.4f} s | {s / r:.3f} | {mixed} | {sp:.4f} s | {tt:.4f} s | {s / sp:.2f} | {s / tt:.2f} | {mixed_ratio} |")
    table = "\n".join(lines) + "\n\n" + "\n".join(chol_lines)
    print(table)
    stamp = time.strftime("%Y-%m-%d %H:%M")
    path = os.path.join(ROOT, "docs/benchmarks.md")
    text = open(path).read() if os.path.exists(path) else ""
    begin, end = "<!-- bench-peers:begin -->", "<!-- bench-peers:end -->"
    block = (f"{begin}\nMeasured by `scripts/bench-peers` on {stamp}, {ROUNDS} interleaved rounds, medians; "
             "ns per element per step (lower is better); `descent` = `.unchecked` policy, `descent-checked` = the default `.throwError`"
             + (", `descent-native` = `.unchecked` built with `-Xswiftc -target-cpu -Xswiftc native` (AVX-512 here; the default build targets SSE2)" if DESCENT_NATIVE else "")
             + "; `descent / stream` = the stream kernel's time over descent's (share of the memory limit).\n\n"
             + "\n".join(machine()) + "\n\n" + table + f"\n{end}")
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text += "\n" + block + "\n"
    open(path, "w").write(text)


if __name__ == "__main__":
    main()
