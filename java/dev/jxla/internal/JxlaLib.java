package dev.jxla.internal;

import java.nio.Buffer;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * Hand-written JavaCPP mapping of include/jxla/jxla.h (the one C ABI of the engine).
 *
 * <p>The JavaCPP Maven plugin (process-classes) generates and compiles the JNI library
 * {@code libjniJxlaLib.so} from this class, linking the static {@code libjxla.a} built by CMake
 * and OpenBLAS (inherited {@code openblas_nolapack} preset). This is the only package that
 * touches {@code Pointer}/JNI.
 */
@Properties(
    inherit = org.bytedeco.openblas.presets.openblas_nolapack.class,
    value = @Platform(include = "jxla/jxla.h", link = "jxla"))
public final class JxlaLib {
  static {
    // JavaCPP probes the process RSS on every deallocator registration while maxPhysicalBytes
    // > 0 (about 7 us per traced op, measured by TraceBench). Off unless the user set it;
    // TensorRef keeps a cheaper native-pressure check. Must run before Pointer initializes.
    if (System.getProperty("org.bytedeco.javacpp.maxPhysicalBytes") == null) {
      System.setProperty("org.bytedeco.javacpp.maxPhysicalBytes", "0");
    }
    Loader.load();
  }

  private JxlaLib() {}

  /** Forces this class's initializer (JavaCPP settings, then the native library). */
  static void load() {}

  /** ABI version of the engine. */
  public static native int jxla_version();

  /** Thread-local message of the last failed call (owned by the engine; do not free). */
  public static native @Cast("const char*") BytePointer jxla_last_error();

  public static native int jxla_op_count();

  public static native int jxla_op_name(int op, @Cast("char*") BytePointer buf, long cap, @Cast("int64_t*") LongPointer len);

  public static native int jxla_op_lookup(String name, IntPointer op);

  public static native int jxla_device_host(@Cast("jxla_device_t*") LongPointer out);

  public static native int jxla_device_tpu(String generation, int cores, long hbmBytes, @Cast("jxla_device_t*") LongPointer out);

  public static native int jxla_device_describe(@Cast("jxla_device_t") long dev, @Cast("char*") BytePointer buf, long cap,
      @Cast("int64_t*") LongPointer len);

  public static native int jxla_device_free(@Cast("jxla_device_t") long dev);

  public static native int jxla_tensor_from_data(@Cast("jxla_device_t") long dev, int dtype, @Cast("const int64_t*") long[] shape,
      int rank, @Cast("const void*") Buffer data, long nbytes, @Cast("jxla_tensor_t*") LongPointer out);

  // @CriticalRegion (trainfast): the array is pinned, not copied in and back out by JNI (a training
  // step uploads its batch every step; the engine copies it once into its own buffer, no JNI call-back)
  @CriticalRegion
  public static native int jxla_tensor_from_data(@Cast("jxla_device_t") long dev, int dtype, @Cast("const int64_t*") long[] shape,
      int rank, @Cast("const void*") float[] data, long nbytes, @Cast("jxla_tensor_t*") LongPointer out);

  public static native int jxla_tensor_from_data(@Cast("jxla_device_t") long dev, int dtype, @Cast("const int64_t*") long[] shape,
      int rank, @Cast("const void*") double[] data, long nbytes, @Cast("jxla_tensor_t*") LongPointer out);

  public static native int jxla_tensor_from_data(@Cast("jxla_device_t") long dev, int dtype, @Cast("const int64_t*") long[] shape,
      int rank, @Cast("const void*") int[] data, long nbytes, @Cast("jxla_tensor_t*") LongPointer out);

  public static native int jxla_tensor_from_data(@Cast("jxla_device_t") long dev, int dtype, @Cast("const int64_t*") long[] shape,
      int rank, @Cast("const void*") long[] data, long nbytes, @Cast("jxla_tensor_t*") LongPointer out);

  public static native int jxla_tensor_from_data(@Cast("jxla_device_t") long dev, int dtype, @Cast("const int64_t*") long[] shape,
      int rank, @Cast("const void*") byte[] data, long nbytes, @Cast("jxla_tensor_t*") LongPointer out);

  public static native int jxla_tensor_unary(int op, @Cast("jxla_tensor_t") long x, @Cast("jxla_tensor_t*") LongPointer out);

  public static native int jxla_tensor_binary(int op, @Cast("jxla_tensor_t") long a, @Cast("jxla_tensor_t") long b,
      @Cast("jxla_tensor_t*") LongPointer out);

  public static native int jxla_tensor_op(int op, @Cast("const jxla_tensor_t*") long[] inputs, int ninputs, String attrs,
      @Cast("jxla_device_t") long dev, @Cast("jxla_tensor_t*") LongPointer out);

  public static native int jxla_tensor_to_device(@Cast("jxla_tensor_t") long x, @Cast("jxla_device_t") long dev,
      @Cast("jxla_tensor_t*") LongPointer out);

  public static native int jxla_tensor_dtype(@Cast("jxla_tensor_t") long t, IntPointer dtype);

  public static native int jxla_tensor_rank(@Cast("jxla_tensor_t") long t, IntPointer rank);

  public static native int jxla_tensor_shape(@Cast("jxla_tensor_t") long t, @Cast("int64_t*") LongPointer dims, int cap);

  public static native int jxla_tensor_is_materialized(@Cast("jxla_tensor_t") long t, IntPointer yes);

  public static native int jxla_tensor_read(@Cast("jxla_tensor_t") long t, int dtype, @Cast("void*") Buffer dst, long nbytes);

  public static native int jxla_tensor_read(@Cast("jxla_tensor_t") long t, int dtype, @Cast("void*") float[] dst, long nbytes);

  public static native int jxla_tensor_read(@Cast("jxla_tensor_t") long t, int dtype, @Cast("void*") double[] dst, long nbytes);

  public static native int jxla_tensor_read(@Cast("jxla_tensor_t") long t, int dtype, @Cast("void*") int[] dst, long nbytes);

  public static native int jxla_tensor_read(@Cast("jxla_tensor_t") long t, int dtype, @Cast("void*") long[] dst, long nbytes);

  public static native int jxla_tensor_read(@Cast("jxla_tensor_t") long t, int dtype, @Cast("void*") byte[] dst, long nbytes);

  public static native int jxla_tensor_ir(@Cast("jxla_tensor_t") long t, @Cast("char*") BytePointer buf, long cap,
      @Cast("int64_t*") LongPointer len);

  public static native int jxla_tensor_free(@Cast("jxla_tensor_t") long t);

  public static native int jxla_sync();

  public static native int jxla_sync_tensors(@Cast("const jxla_tensor_t*") long[] ts, int n);

  public static native int jxla_ir_roundtrip(String text, @Cast("char*") BytePointer buf, long cap, @Cast("int64_t*") LongPointer len);

  public static native int jxla_metrics_report(int shortForm, @Cast("char*") BytePointer buf, long cap,
      @Cast("int64_t*") LongPointer len);

  public static native int jxla_metrics_clear();

  public static native int jxla_metrics_counter(String name, @Cast("int64_t*") LongPointer value);

  public static native int jxla_memory_live_bytes(@Cast("int64_t*") LongPointer bytes);

  public static native int jxla_memory_live_tensors(@Cast("int64_t*") LongPointer count);

  // ---- engine statistics (apitests) ----
  public static native int jxla_stats_get(String name, @Cast("int64_t*") LongPointer value);

  // ---- TPU emulator (issue 4) ----

  public static native int jxla_set_matmul_precision(int precision);

  public static native int jxla_get_matmul_precision(IntPointer precision);

  public static native int jxla_device_profile(@Cast("jxla_device_t") long dev, int clear, @Cast("char*") BytePointer buf, long cap,
      @Cast("int64_t*") LongPointer len);

  public static native int jxla_device_memory(@Cast("jxla_device_t") long dev, @Cast("int64_t*") LongPointer inUse,
      @Cast("int64_t*") LongPointer peak, @Cast("int64_t*") LongPointer limit);

  public static native int jxla_device_sim_time(@Cast("jxla_device_t") long dev, DoublePointer seconds);

  // ---- autodiff (training; see include/jxla/jxla.h "autodiff") ----

  public static native int jxla_tensor_grad(@Cast("jxla_tensor_t") long loss, @Cast("const jxla_tensor_t*") long[] wrt, int n,
      @Cast("jxla_tensor_t*") long[] gradsOut);

  public static native int jxla_tensor_vjp(@Cast("jxla_tensor_t") long y, @Cast("jxla_tensor_t") long cotangent,
      @Cast("const jxla_tensor_t*") long[] wrt, int n, @Cast("jxla_tensor_t*") long[] gradsOut);

  public static native int jxla_tensor_detach(@Cast("jxla_tensor_t") long x, @Cast("jxla_tensor_t*") LongPointer out);

  public static native int jxla_tensor_assign(@Cast("jxla_tensor_t") long dst, @Cast("jxla_tensor_t") long src);

  // ---- compiled functions (CompiledFunction; issue 6) ----

  public static native int jxla_function_create(@Cast("const jxla_tensor_t*") long[] params, int nparams,
      @Cast("const jxla_tensor_t*") long[] outputs, int nout, @Cast("jxla_function_t*") LongPointer out);

  public static native int jxla_function_call(@Cast("jxla_function_t") long fn, @Cast("const jxla_tensor_t*") long[] inputs,
      int n, @Cast("jxla_tensor_t*") LongPointer outputs);

  public static native int jxla_function_call_padded(@Cast("jxla_function_t") long fn,
      @Cast("const jxla_tensor_t*") long[] inputs, int n, @Cast("jxla_tensor_t*") LongPointer outputs);

  public static native int jxla_function_call_host(@Cast("jxla_function_t") long fn, int n,
      @Cast("const int32_t*") int[] dtypes, @Cast("const int32_t*") int[] ranks, @Cast("const int64_t*") long[] dims,
      @Cast("const void* const*") long[] data, int padded, int nout, @Cast("const int32_t*") int[] outDtypes,
      @Cast("void* const*") long[] out, @Cast("const int64_t*") long[] outCaps);

  public static native int jxla_function_arity(@Cast("jxla_function_t") long fn, IntPointer nparams, IntPointer nout);

  public static native int jxla_function_ir(@Cast("jxla_function_t") long fn, @Cast("char*") BytePointer buf, long cap,
      @Cast("int64_t*") LongPointer len);

  public static native int jxla_function_free(@Cast("jxla_function_t") long fn);

  public static native int jxla_device_core(@Cast("jxla_device_t") long dev, int index, @Cast("jxla_device_t*") LongPointer out);

  public static native int jxla_collective(String kind, @Cast("const jxla_tensor_t*") long[] inputs, int n, String attrs,
      @Cast("jxla_tensor_t*") long[] outs);

  public static native int jxla_device_trace(@Cast("jxla_device_t") long dev, @Cast("char*") BytePointer buf, long cap,
      @Cast("int64_t*") LongPointer len);

  // ---- fusion compiler (issue 3) ----
  public static native int jxla_last_kernel_count(@Cast("int64_t*") LongPointer count);

  public static native int jxla_fusion_set_enabled(int on);

  public static native int jxla_fusion_enabled(@Cast("int32_t*") IntPointer on);

  // ---- subnormals on the host (session 6) ----
  public static native int jxla_host_set_flush_denormals(int on);

  public static native int jxla_host_flush_denormals(@Cast("int32_t*") IntPointer on);

  // ---- TPU MXU fast path (issue 4, mxufast) ----
  public static native int jxla_tpu_fastpath_set_enabled(int on);

  public static native int jxla_tpu_fastpath_enabled(@Cast("int32_t*") IntPointer on);

  // ---- compiled functions on a target device (issue 6: ONNX on the emulated TPU) ----
  public static native int jxla_function_create_on(@Cast("const jxla_tensor_t*") long[] params, int nparams,
      @Cast("const jxla_tensor_t*") long[] outputs, int nout, @Cast("jxla_device_t") long device,
      @Cast("jxla_function_t*") LongPointer out);

  // ---- fused optimizer tracing (issue 5, trainfast) ----
  public static native int jxla_optim_adam_update(@Cast("jxla_tensor_t") long p, @Cast("jxla_tensor_t") long g,
      @Cast("jxla_tensor_t") long m, @Cast("jxla_tensor_t") long v, @Cast("const jxla_tensor_t*") long[] s);

  // ---- compiled training steps (issue 5, session 5: optim.TrainStep) ----
  public static native int jxla_function_call_update(@Cast("jxla_function_t") long fn,
      @Cast("const jxla_tensor_t*") long[] inputs, int n, @Cast("const jxla_tensor_t*") long[] targets, int ntargets,
      @Cast("jxla_tensor_t*") LongPointer outputs);

  public static native int jxla_trace_target_set(@Cast("jxla_device_t") long device, @Cast("jxla_device_t*") LongPointer previous);

  public static native int jxla_trace_guard_begin(String what);

  public static native int jxla_trace_guard_end();

  public static native int jxla_tensor_alias(@Cast("jxla_tensor_t") long x, @Cast("jxla_tensor_t*") LongPointer out);

  public static native int jxla_tensor_share(@Cast("jxla_tensor_t") long dst, @Cast("jxla_tensor_t") long src);

  // ---- benchmark diagnostics (issue 3 target (a)); not part of the tensor API ----
  public static native int jxla_bench_stream_triad(long n, float scalar, int flags, @Cast("double*") DoublePointer checksum,
      @Cast("int32_t*") IntPointer vectorBits);
}
