# make_npy.py - writes the .npy fixtures of NpyTest with NumPy (python3 make_npy.py, numpy 2.x).
# The values are closed forms the test recomputes: arange-based, so any reader bug shows.
import numpy as np

np.save("f32_2x3.npy", (np.arange(6, dtype=np.float32) - 2.5).reshape(2, 3))
np.save("f64_scalar.npy", np.array(3.25, dtype=np.float64))
np.save("i64_4.npy", np.array([-2, 0, 7, 1 << 40], dtype=np.int64))
np.save("u8_3.npy", np.array([0, 128, 255], dtype=np.uint8))
np.save("i32_2x2.npy", np.array([[1, -2], [3, -4]], dtype=np.int32))
np.save("bool_3.npy", np.array([True, False, True]))
np.save("f16_2.npy", np.array([0.5, -1.25], dtype=np.float16))
np.save("fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save("mlp_x.npy", (np.arange(12, dtype=np.float32) / 10 - 0.5).reshape(2, 6))
