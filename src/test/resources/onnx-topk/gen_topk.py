"""Fixtures for OnnxTopKTest. Run from this directory: python3 gen_topk.py

Writes topk.txt (one case per line: name|axis|k|largest) and <name>_x.npy, <name>_values.npy,
<name>_indices.npy. Expectations are an independent NumPy sort: np.lexsort (stable) with keys
(NaN flag, value) so that, as ONNX TopK / ONNX Runtime specify, equal values keep the lower index
first and NaN ranks above +inf (first for largest=1, last for largest=0). Values are drawn from a
few integers so that ties are common.
"""
import numpy as np

rng = np.random.default_rng(20261209)


def topk(x, axis, k, largest):
    xm = np.moveaxis(x, axis, -1)
    nan = np.isnan(xm) if xm.dtype.kind == "f" else np.zeros(xm.shape, bool)
    v = np.where(nan, 0, xm)
    idx = np.empty(xm.shape[:-1] + (k,), np.int64)
    for pos in np.ndindex(*xm.shape[:-1]):
        if largest:   # lexsort: last key is primary; NaN first, then descending value, stable
            order = np.lexsort((-v[pos], ~nan[pos]))
        else:         # non-NaN first, ascending value, stable
            order = np.lexsort((v[pos], nan[pos]))
        idx[pos] = order[:k]
    vals = np.take_along_axis(xm, idx, axis=-1)
    return np.moveaxis(vals, -1, axis), np.moveaxis(idx, -1, axis)


CASES = [  # name, shape, dtype, axis, k, largest, nan fraction
    ("f32_last", (3, 8), "f4", -1, 3, 1, 0.0),
    ("f32_axis0_smallest", (6, 4, 3), "f4", 0, 4, 0, 0.0),
    ("f32_mid_nan", (2, 7, 3), "f4", 1, 5, 1, 0.15),
    ("f32_nan_smallest", (4, 9), "f4", 1, 9, 0, 0.2),
    ("f32_k0", (3, 5), "f4", 1, 0, 1, 0.0),
    ("f64_full", (5, 6), "f8", 0, 5, 1, 0.1),
    ("i32_ties", (4, 10), "i4", 1, 6, 0, 0.0),
    ("i64_ties", (10, 3), "i8", 0, 7, 1, 0.0),
]
with open("topk.txt", "w") as f:
    for name, shape, dt, axis, k, largest, nanf in CASES:
        x = rng.integers(-3, 4, size=shape).astype(dt)
        if nanf:
            x[rng.random(shape) < nanf] = np.nan
        vals, idx = topk(x, axis, k, largest)
        np.save(f"{name}_x.npy", x)
        np.save(f"{name}_values.npy", np.ascontiguousarray(vals))
        np.save(f"{name}_indices.npy", np.ascontiguousarray(idx))
        f.write(f"{name}|{axis}|{k}|{largest}\n")
