"""Fixtures for OnnxExtraOpsTest (Einsum and Resize). Run from this directory: python3 gen_extra.py

Writes einsum.txt / resize.txt (one case per line, fields separated by '|') and the .npy inputs
and expected outputs they name. Einsum expectations are np.einsum on the inputs in float64.
Resize expectations follow the ONNX operator documentation's formulas, evaluated per output
element in float64 with the reference implementation's neighbour rule (the n nearest indices of
the edge-padded axis, ties to the smaller one) and its nearest/linear coefficients; the N-D
result is the sum over all 2^d neighbour corners (not a per-axis pass like the importer).
"""
import itertools
import numpy as np

rng = np.random.default_rng(20261130)


def save(name, a):
    np.save(name + ".npy", np.array(a, order="C"))  # C order, 0-d kept 0-d


# ----------------------------------------------------------------------------- Einsum
EINSUM = [  # name, equation, shapes, dtype
    ("bmm", "bij,bjk->bik", [(2, 3, 4), (2, 4, 5)], "f4"),
    ("transpose", "ij->ji", [(3, 4)], "f4"),
    ("diag", "ii->i", [(4, 4)], "f4"),
    ("trace", "ii", [(4, 4)], "f4"),
    ("dot", "i,i->", [(5,), (5,)], "f4"),
    ("attn", "bhqd,bhkd->bhqk", [(2, 3, 4, 8), (2, 3, 5, 8)], "f4"),
    ("matvec", "ij,j->i", [(3, 4), (4,)], "f4"),
    ("implicit_mm", "ij,jk", [(3, 4), (4, 5)], "f4"),
    ("implicit_ba", "ba", [(3, 4)], "f4"),
    ("ellipsis_mm", "...ij,...jk->...ik", [(2, 1, 3, 4), (3, 4, 5)], "f4"),
    ("implicit_ellipsis", "...ij,...jk", [(2, 3, 4), (4, 5)], "f4"),
    ("outer", "i,j->ij", [(3,), (4,)], "f4"),
    ("chain3", "ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)], "f4"),
    ("sum_all", "ij->", [(3, 4)], "f4"),
    ("row_sum", "ij->i", [(3, 4)], "f4"),
    ("batch_diag", "bii->bi", [(2, 3, 3)], "f4"),
    ("broadcast_label", "ij,ij->ij", [(2, 1), (2, 3)], "f4"),
    ("spaces", "b i j , b j k -> b k i", [(2, 3, 4), (2, 4, 5)], "f4"),
    ("mm_f64", "ij,jk->ik", [(3, 4), (4, 2)], "f8"),
    ("mm_i32", "ij,jk->ik", [(3, 4), (4, 2)], "i4"),
]
with open("einsum.txt", "w") as f:
    for name, eq, shapes, dt in EINSUM:
        ins = []
        for k, s in enumerate(shapes):
            if dt == "i4":
                a = rng.integers(-50, 50, size=s).astype(np.int32)
            else:
                a = rng.standard_normal(s).astype(dt)
            save(f"einsum_{name}_in{k}", a)
            ins.append(a)
        if dt == "i4":
            exp = np.einsum(eq, *[a.astype(np.int64) for a in ins]).astype(np.int32)
        else:
            exp = np.asarray(np.einsum(eq, *[a.astype(np.float64) for a in ins]))
        save(f"einsum_{name}_out", exp)
        f.write(f"{name}|{eq}|{len(shapes)}\n")


# ----------------------------------------------------------------------------- Resize
def source_coord(ctm, j, length, out_len, scale):
    if ctm == "asymmetric":
        return j / scale
    if ctm == "align_corners":
        return 0.0 if out_len == 1 else j * (length - 1) / (out_len - 1)
    if ctm == "pytorch_half_pixel":
        return (j + 0.5) / scale - 0.5 if out_len > 1 else 0.0
    if ctm == "half_pixel_symmetric":
        adjustment = out_len / (scale * length)
        offset = length / 2 * (1 - adjustment)
        return offset + (j + 0.5) / scale - 0.5
    assert ctm == "half_pixel"
    return (j + 0.5) / scale - 0.5


def neighbours(xo, length):
    """The 2 nearest indices of the edge-padded axis (ties to the smaller), clamped back."""
    padded = [i - 1 for i in range(length + 2)]
    idx = sorted(sorted(padded, key=lambda i: (abs(xo - i), i))[:2])
    return [min(max(i, 0), length - 1) for i in idx]


def coeffs(xo, mode, nearest_mode):
    ratio = 1.0 if float(xo).is_integer() else xo - np.floor(xo)
    if mode == "linear":
        return [1 - ratio, ratio]
    if ratio == 1.0:
        return [0, 1]
    return {"round_prefer_floor": [ratio <= 0.5, ratio > 0.5], "round_prefer_ceil": [ratio < 0.5, ratio >= 0.5],
            "floor": [1, 0], "ceil": [0, 1]}[nearest_mode]


def resize_ref(x, mode, ctm, nm, scales, sizes, axes):
    r = x.ndim
    axes = list(range(r)) if axes is None else [a % r for a in axes]
    full_scale, out_shape = [1.0] * r, list(x.shape)
    for k, ax in enumerate(axes):
        if scales is not None:
            full_scale[ax] = float(np.float32(scales[k]))
            out_shape[ax] = int(np.floor(x.shape[ax] * full_scale[ax]))
        else:
            out_shape[ax] = sizes[k]
            full_scale[ax] = sizes[k] / x.shape[ax]
    per_axis = []  # per axis, per output index: [(input index, weight), (input index, weight)]
    for ax in range(r):
        lst = []
        for j in range(out_shape[ax]):
            if ax not in axes:
                lst.append([(j, 1.0)])
                continue
            xo = source_coord(ctm, j, x.shape[ax], out_shape[ax], full_scale[ax])
            lst.append(list(zip(neighbours(xo, x.shape[ax]), coeffs(xo, mode, nm))))
        per_axis.append(lst)
    xd = x.astype(np.float64)
    out = np.zeros(out_shape)
    for o in itertools.product(*[range(n) for n in out_shape]):
        acc = 0.0
        for corner in itertools.product(*[per_axis[ax][o[ax]] for ax in range(r)]):
            w = np.prod([float(c[1]) for c in corner])
            if w != 0:
                acc += w * xd[tuple(c[0] for c in corner)]
        out[o] = acc
    return out


x4 = rng.standard_normal((1, 2, 4, 5)).astype(np.float32)
x3 = rng.standard_normal((2, 3, 4)).astype(np.float32)
xi = rng.integers(-100, 100, size=(1, 1, 3, 4)).astype(np.int64)
save("resize_x4", x4)
save("resize_x3", x3)
save("resize_xi", xi)
INPUTS = {"x4": x4, "x3": x3, "xi": xi}
CTMS = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric"]
NMS = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
RESIZE = []  # name, input, mode, ctm, nearest_mode, scales, sizes, axes, opset
for ctm in CTMS:
    for nm in NMS:
        # 2x and 1.5x up, 0.6x down: source coordinates hit ties (.5) and integers
        RESIZE.append((f"nearest_{ctm}_{nm}", "x4", "nearest", ctm, nm, [1, 1, 2, 1.5], None, None, 13))
        RESIZE.append((f"nearest_down_{ctm}_{nm}", "x4", "nearest", ctm, nm, [1, 1, 0.6, 0.7], None, None, 13))
        RESIZE.append((f"nearest_mixed_{ctm}_{nm}", "x4", "nearest", ctm, nm, [1, 1, 1.75, 0.5], None, None, 13))
    RESIZE.append((f"linear_{ctm}", "x4", "linear", ctm, "round_prefer_floor", [1, 1, 2, 1.5], None, None, 13))
    RESIZE.append((f"linear_down_{ctm}", "x4", "linear", ctm, "round_prefer_floor", [1, 1, 0.6, 0.7], None, None, 13))
    RESIZE.append((f"linear_sizes_{ctm}", "x4", "linear", ctm, "round_prefer_floor", None, [1, 2, 7, 3], None, 13))
    RESIZE.append((f"linear_to1_{ctm}", "x4", "linear", ctm, "round_prefer_floor", None, [1, 2, 1, 1], None, 13))
    RESIZE.append((f"linear3d_{ctm}", "x3", "linear", ctm, "round_prefer_floor", [1.5, 2, 0.75], None, None, 13))
RESIZE.append(("nearest_sizes_opset11", "x4", "nearest", "asymmetric", "floor", None, [1, 2, 8, 10], None, 11))
RESIZE.append(("linear_axes_opset18", "x4", "linear", "half_pixel", "round_prefer_floor", [3, 0.5], None, [-1, 2], 18))
RESIZE.append(("nearest_int64", "xi", "nearest", "half_pixel", "round_prefer_ceil", [1, 1, 2.5, 1.75], None, None, 13))
with open("resize.txt", "w") as f:
    for name, inp, mode, ctm, nm, scales, sizes, axes, opset in RESIZE:
        exp = resize_ref(INPUTS[inp], mode, ctm, nm, scales, sizes, axes)
        save("resize_" + name, exp.astype(np.int64) if inp == "xi" else exp)
        fmt = lambda v: "-" if v is None else ",".join(str(e) for e in v)
        f.write(f"{name}|{inp}|{mode}|{ctm}|{nm}|{fmt(scales)}|{fmt(sizes)}|{fmt(axes)}|{opset}\n")
