#!/usr/bin/env python3
"""NumPy baseline for the JXLA MNIST demo: MLP 784-256-128-10 (ReLU), softmax cross-entropy,
Adam lr 1e-3 (PyTorch's update rule), batch 64, PyTorch-style uniform init, the same shipped
10,000 digits (first 8,000 train, last 2,000 test). Prints seconds per epoch and the test
accuracy, to compare with `jxla train` and bench/dev/jxla/bench/TrainStepBench.java.
Usage: python3 bench/baselines/mnist_mlp_numpy.py [epochs]"""
import gzip, os, sys, time
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "src", "main", "resources", "dev", "jxla", "data", "mnist-10k")

def idx(path, magic):
    with gzip.open(path, "rb") as f:
        b = f.read()
    m = int.from_bytes(b[0:4], "big")
    assert m == magic, hex(m)
    if magic == 0x803:
        n, r, c = (int.from_bytes(b[i:i + 4], "big") for i in (4, 8, 12))
        return np.frombuffer(b, np.uint8, offset=16).reshape(n, r * c).astype(np.float32) / 255
    return np.frombuffer(b, np.uint8, offset=8).astype(np.int64)

def main():
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    x = idx(os.path.join(DATA, "images-idx3-ubyte.gz"), 0x803)
    y = idx(os.path.join(DATA, "labels-idx1-ubyte.gz"), 0x801)
    xtr, ytr, xte, yte = x[:8000], y[:8000], x[8000:], y[8000:]
    rng = np.random.default_rng(42)
    sizes = [784, 256, 128, 10]
    params = []
    for i, o in zip(sizes[:-1], sizes[1:]):
        b = 1 / np.sqrt(i)
        params += [rng.uniform(-b, b, (i, o)).astype(np.float32), rng.uniform(-b, b, o).astype(np.float32)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = 0
    for ep in range(epochs):
        order = rng.permutation(8000)
        t0 = time.perf_counter()
        for s in range(8000 // 64):
            idxs = order[s * 64:(s + 1) * 64]
            h0 = xtr[idxs]
            z1 = h0 @ params[0] + params[1]; h1 = np.maximum(z1, 0)
            z2 = h1 @ params[2] + params[3]; h2 = np.maximum(z2, 0)
            z3 = h2 @ params[4] + params[5]
            z3 = z3 - z3.max(1, keepdims=True)
            p = np.exp(z3); p /= p.sum(1, keepdims=True)
            g3 = p; g3[np.arange(64), ytr[idxs]] -= 1; g3 /= 64
            g = [None] * 6
            g[4] = h2.T @ g3; g[5] = g3.sum(0)
            d2 = (g3 @ params[4].T) * (z2 > 0)
            g[2] = h1.T @ d2; g[3] = d2.sum(0)
            d1 = (d2 @ params[2].T) * (z1 > 0)
            g[0] = h0.T @ d1; g[1] = d1.sum(0)
            t += 1
            for i in range(6):
                m[i] = 0.9 * m[i] + 0.1 * g[i]
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                params[i] -= 1e-3 * (m[i] / (1 - 0.9 ** t)) / (np.sqrt(v[i] / (1 - 0.999 ** t)) + 1e-8)
        dt = time.perf_counter() - t0
        h = np.maximum(np.maximum(xte @ params[0] + params[1], 0) @ params[2] + params[3], 0) @ params[4] + params[5]
        acc = (h.argmax(1) == yte).mean()
        print(f"epoch {ep + 1}: {dt:.3f} s, test accuracy {100 * acc:.2f}%")

if __name__ == "__main__":
    main()
