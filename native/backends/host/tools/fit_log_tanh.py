"""Fits the polynomials of fx_log and fx_tanh (fused_ops_impl.inc); run: python3 fit_log_tanh.py

Minimax in relative error by Lawson's algorithm (iteratively reweighted least squares): solve a
weighted least-squares fit on Chebyshev points, multiply each point's weight by its error, repeat.
Prints the max relative error of the fit (in double) and the coefficients rounded to f32, lowest
degree first, as pasted into fused_ops_impl.inc.
  tanh x = x + x^3 P(x^2) on |x| <= 0.625         (P degree 4)
  log1p f = f - f^2/2 + f^3 Q(f), f in [sqrt(1/2) - 1, sqrt(2) - 1]   (Q degree 7)
"""
import numpy as np


def lawson(xs, target, basis, weight, iters=30):
    a, t, w0 = basis(xs), target(xs), weight(xs)
    lw = np.ones_like(xs)
    for _ in range(iters):
        w = np.sqrt(lw) * w0
        c, *_ = np.linalg.lstsq(a * w[:, None], t * w, rcond=None)
        err = np.abs((a @ c - t) * w0)
        lw = lw * err
        lw /= lw.sum()
    return c, err.max()


def show(name, c, e):
    print(f"{name}: max relative error {e:.3g}")
    print("  " + ", ".join(repr(float(np.float32(v))) for v in c))


xs = np.cos(np.linspace(0, np.pi, 20001)) * 0.3125 + 0.3125 + 1e-9
c, e = lawson(xs, lambda x: (np.tanh(x) - x) / x**3, lambda x: np.vander(x * x, 5, increasing=True),
              lambda x: x**3 / np.tanh(x))
show("tanh P", c, e)

lo, hi = np.sqrt(0.5) - 1, np.sqrt(2) - 1
fs = np.cos(np.linspace(0, np.pi, 40001)) * (hi - lo) / 2 + (hi + lo) / 2
fs = fs[np.abs(fs) > 1e-6]
c, e = lawson(fs, lambda f: (np.log1p(f) - f + f * f / 2) / f**3, lambda f: np.vander(f, 8, increasing=True),
              lambda f: np.abs(f**3 / np.log1p(f)))
show("log Q", c, e)
