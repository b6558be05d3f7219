/*
 * jxla.h - the ONE C ABI of the JXLA engine. JavaCPP maps exactly this header.
 *
 * Invariants:
 *  - Every function returns jxla_status (0 = ok); on failure jxla_last_error() returns a
 *    thread-local message naming the op, the shapes and the argument at fault.
 *  - Handles are opaque. No C++ type or exception crosses this boundary.
 *  - Out-parameters are written only on success.
 *  - Strings returned through (buf, cap, len) are copied into buf (truncated to cap-1 bytes,
 *    always NUL-terminated when cap > 0); *len receives the full length without the NUL so
 *    the caller can retry with a larger buffer.
 *  - Tensor data is row-major, native byte order (little-endian on x86-64).
 */
#ifndef JXLA_JXLA_H
#define JXLA_JXLA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t jxla_status;

#define JXLA_OK 0
#define JXLA_ERR_INVALID_ARGUMENT 1   /* shape, dtype, axis, attribute errors */
#define JXLA_ERR_STATE 2              /* use of a freed or invalid handle */
#define JXLA_ERR_INTERNAL 3           /* engine failure */
#define JXLA_ERR_RESOURCE_EXHAUSTED 4 /* device memory exhausted */
#define JXLA_ERR_UNIMPLEMENTED 5      /* op/dtype combination not supported */

/* dtypes (the order is part of the ABI) */
#define JXLA_F32 0
#define JXLA_BF16 1
#define JXLA_F16 2
#define JXLA_F64 3
#define JXLA_S32 4
#define JXLA_S64 5
#define JXLA_BOOL 6

#define JXLA_MAX_RANK 8

typedef struct jxla_tensor* jxla_tensor_t;
typedef struct jxla_device* jxla_device_t;

/* ---- library ---- */
int32_t jxla_version(void);
const char* jxla_last_error(void);

/* ---- op table (the single source of op ids; Java resolves names at class init) ---- */
int32_t jxla_op_count(void);
/* name of op id into buf */
jxla_status jxla_op_name(int32_t op, char* buf, int64_t cap, int64_t* len);
jxla_status jxla_op_lookup(const char* name, int32_t* op);

/* ---- devices ---- */
jxla_status jxla_device_host(jxla_device_t* out);
/* generation: "v4", "v5e", "v5p", "v6e"; cores >= 1; hbm_bytes <= 0 means the chip's capacity */
jxla_status jxla_device_tpu(const char* generation, int32_t cores, int64_t hbm_bytes,
                            jxla_device_t* out);
jxla_status jxla_device_describe(jxla_device_t dev, char* buf, int64_t cap, int64_t* len);
jxla_status jxla_device_free(jxla_device_t dev);

/* ---- tensors ---- */
/* Copies nbytes of row-major data (nbytes must equal numel * sizeof(dtype)). */
jxla_status jxla_tensor_from_data(jxla_device_t dev, int32_t dtype, const int64_t* shape,
                                  int32_t rank, const void* data, int64_t nbytes,
                                  jxla_tensor_t* out);
/* Element-wise ops with NumPy broadcasting and dtype promotion. */
jxla_status jxla_tensor_unary(int32_t op, jxla_tensor_t x, jxla_tensor_t* out);
jxla_status jxla_tensor_binary(int32_t op, jxla_tensor_t a, jxla_tensor_t b, jxla_tensor_t* out);
/* Any op. attrs uses the text-IR attribute syntax, e.g. "axes=[0,1], keepdims=1". dev is used
 * only by ops without inputs (full, iota); may be NULL for the host. */
jxla_status jxla_tensor_op(int32_t op, const jxla_tensor_t* inputs, int32_t ninputs,
                           const char* attrs, jxla_device_t dev, jxla_tensor_t* out);
jxla_status jxla_tensor_to_device(jxla_tensor_t x, jxla_device_t dev, jxla_tensor_t* out);
jxla_status jxla_tensor_dtype(jxla_tensor_t t, int32_t* dtype);
jxla_status jxla_tensor_rank(jxla_tensor_t t, int32_t* rank);
/* writes min(rank, cap) dims */
jxla_status jxla_tensor_shape(jxla_tensor_t t, int64_t* dims, int32_t cap);
/* 1 if the tensor holds device data, 0 if it is a pending (lazy) computation */
jxla_status jxla_tensor_is_materialized(jxla_tensor_t t, int32_t* yes);
/* Materializes t if needed (one graph with the calling thread's pending tensors it depends
 * on) and copies its elements converted to dst_dtype into dst (nbytes must match). */
jxla_status jxla_tensor_read(jxla_tensor_t t, int32_t dst_dtype, void* dst, int64_t nbytes);
/* Text IR of the pending computation of t (debugging). */
jxla_status jxla_tensor_ir(jxla_tensor_t t, char* buf, int64_t cap, int64_t* len);
/* Frees the handle. Freeing NULL is a no-op. */
jxla_status jxla_tensor_free(jxla_tensor_t t);

/* ---- execution ---- */
/* Materializes every pending tensor created by the calling thread as ONE graph. */
jxla_status jxla_sync(void);
/* Materializes the given tensors as one graph. */
jxla_status jxla_sync_tensors(const jxla_tensor_t* ts, int32_t n);

/* ---- text IR (parse -> verify -> print), used by tools and tests ---- */
jxla_status jxla_ir_roundtrip(const char* text, char* buf, int64_t cap, int64_t* len);

/* ---- metrics and memory ---- */
jxla_status jxla_metrics_report(int32_t short_form, char* buf, int64_t cap, int64_t* len);
jxla_status jxla_metrics_clear(void);
/* value of a counter (0 if absent) */
jxla_status jxla_metrics_counter(const char* name, int64_t* value);
/* bytes of tensor data currently allocated by the engine (all devices) */
jxla_status jxla_memory_live_bytes(int64_t* bytes);
/* number of live tensor handles (leak checks) */
jxla_status jxla_memory_live_tensors(int64_t* count);

/* ---- engine statistics (leak and growth checks; c_api/c_api_stats.cpp) ---- */
/* name: "live_tensors", "live_bytes", "live_nodes" (IR nodes alive), "compile_cache_entries",
 * "pending_tensors" (the calling thread's registry). Unknown names are INVALID_ARGUMENT. */
jxla_status jxla_stats_get(const char* name, int64_t* value);

/* ---- TPU emulator (issue 4): precision, simulated profile, HBM statistics ---- */
/* Global MXU precision of f32 dots/convs without a precision attribute:
 * 0 = DEFAULT (1 bf16 pass), 1 = HIGH (bf16_3x), 2 = HIGHEST (bf16_6x). */
jxla_status jxla_set_matmul_precision(int32_t precision);
jxla_status jxla_get_matmul_precision(int32_t* precision);
/* Per-kernel simulated profile of a TPU device as text (one line per kernel/transfer:
 * start_us sim_us kernel type flops bytes bound mxu_util); clear != 0 empties it afterwards. */
jxla_status jxla_device_profile(jxla_device_t dev, int32_t clear, char* buf, int64_t cap, int64_t* len);
/* The simulated timeline of every core of the TPU pod as Chrome trace JSON (Perfetto). */
jxla_status jxla_device_trace(jxla_device_t dev, char* buf, int64_t cap, int64_t* len);
/* HBM bytes of a TPU device in the tiled layout: in use, peak since the last profile clear, limit.
 * Any out pointer may be NULL. */
jxla_status jxla_device_memory(jxla_device_t dev, int64_t* in_use, int64_t* peak, int64_t* limit);
/* The device's simulated clock (seconds of modelled device time since creation). */
jxla_status jxla_device_sim_time(jxla_device_t dev, double* seconds);
/* Core `index` of a multi-core TPU (core 0 is dev itself); each core has its own HBM and clock. */
jxla_status jxla_device_core(jxla_device_t dev, int32_t index, jxla_device_t* out);
/* A collective across the cores of a TPU pod: inputs[i] must live on core i, n = the pod's cores.
 * kind: "all_reduce" (attrs "op=sum|mean|max"), "all_gather" ("axis=k"), "reduce_scatter"
 * ("axis=k, op=sum|mean|max"). Writes n new tensors, outs[i] on core i. */
jxla_status jxla_collective(const char* kind, const jxla_tensor_t* inputs, int32_t n, const char* attrs,
                            jxla_tensor_t* outs);

/* ---- autodiff (training; native/autodiff) ----
 * Gradients are new PENDING tensors (lazy IR), so forward + backward + update run as one graph.
 * grads_out[i] is set to NULL when loss does not depend on wrt[i] (nothing to accumulate). */
/* Gradient of a floating-point loss with exactly one element with respect to each wrt tensor. */
jxla_status jxla_tensor_grad(jxla_tensor_t loss, const jxla_tensor_t* wrt, int32_t n,
                             jxla_tensor_t* grads_out);
/* Vector-Jacobian product: gradient of sum(y * cotangent) (cotangent has y's shape and dtype). */
jxla_status jxla_tensor_vjp(jxla_tensor_t y, jxla_tensor_t cotangent, const jxla_tensor_t* wrt,
                            int32_t n, jxla_tensor_t* grads_out);
/* Same value, no gradient flows through it (data is shared, not copied). */
jxla_status jxla_tensor_detach(jxla_tensor_t x, jxla_tensor_t* out);
/* In-place update of a handle: dst now holds src's value (lazily, src's pending IR). dtype,
 * shape and device must match. src stays valid. */
jxla_status jxla_tensor_assign(jxla_tensor_t dst, jxla_tensor_t src);

/* ---- compiled functions (Jxla.compile / CompiledFunction; native/runtime/function.h) ----
 * A function is built once from traced IR: params are placeholder DATA tensors (in call order),
 * outputs are tensors computed from them. Every other data tensor reachable from the outputs
 * (weights) is captured as a constant the function keeps alive. The handles passed in stay
 * owned by the caller. A function is immutable: calls may run from many threads at once. */
typedef struct jxla_function* jxla_function_t;
jxla_status jxla_function_create(const jxla_tensor_t* params, int32_t nparams, const jxla_tensor_t* outputs,
                                 int32_t nout, jxla_function_t* out);
/* inputs must match the parameters' dtypes and shapes; writes nout NEW data tensors to outputs */
jxla_status jxla_function_call(jxla_function_t fn, const jxla_tensor_t* inputs, int32_t n, jxla_tensor_t* outputs);
/* Batch padding: inputs may have a smaller leading dimension b (the same for all inputs); they are
 * zero-padded to the parameters' leading dimension B and every output whose leading dimension is
 * B is sliced back to b rows. Counts BucketedCall when b < B. */
jxla_status jxla_function_call_padded(jxla_function_t fn, const jxla_tensor_t* inputs, int32_t n,
                                      jxla_tensor_t* outputs);
/* Zero-copy call for host callers (session 8; CompiledFunction's direct-buffer call): input i is
 * read IN PLACE from data[i] (row-major dtypes[i]; its ranks[i] dims come next in dims, input
 * after input) for the duration of the call only: the engine neither writes it nor keeps it after
 * returning (a TPU function transfers it as usual). Output j is converted to out_dtypes[j] and
 * copied to out[j], which must hold out_caps[j] >= numel * sizeof bytes (out[j] NULL: dropped).
 * padded != 0 pads the batch as jxla_function_call_padded. No tensor handles are created.
 * Counter InPlaceCall. */
jxla_status jxla_function_call_host(jxla_function_t fn, int32_t n, const int32_t* dtypes, const int32_t* ranks,
                                    const int64_t* dims, const void* const* data, int32_t padded, int32_t nout,
                                    const int32_t* out_dtypes, void* const* out, const int64_t* out_caps);
jxla_status jxla_function_arity(jxla_function_t fn, int32_t* nparams, int32_t* nout);
/* text IR of the compiled graph (parameters first, then the captured constants) */
jxla_status jxla_function_ir(jxla_function_t fn, char* buf, int64_t cap, int64_t* len);
/* Frees the function (its executable and captured constants). Freeing NULL is a no-op. */
jxla_status jxla_function_free(jxla_function_t fn);

/* ---- fusion compiler (issue 3) ---- */
/* kernel count of the last executable the calling thread ran (-1 before the first run) */
jxla_status jxla_last_kernel_count(int64_t* count);
/* process-wide fusion switch (initially env JXLA_FUSION, default on); changing it clears the
   compile cache. on = 0 runs one kernel per op. */
jxla_status jxla_fusion_set_enabled(int32_t on);
jxla_status jxla_fusion_enabled(int32_t* on);

/* ---- subnormals on the host (session 6) ---- */
/* Process-wide: on = 1 flushes subnormal f32/f64 operands and results to zero in host executables
   (MXCSR FTZ+DAZ for each run, the caller's mode restored after; torch.set_flush_denormal's
   switch), faster when values decay towards zero (Adam moments). Initially env JXLA_FTZ=1, default
   off: IEEE subnormals, the op set's specification. Compiled executables pick it up at their next
   run. */
jxla_status jxla_host_set_flush_denormals(int32_t on);
jxla_status jxla_host_flush_denormals(int32_t* on);

/* ---- TPU MXU fast path (issue 4, mxufast) ---- */
/* Process-wide switch of the emulated MXU's blocked kernel (initially on where the CPU has AVX2,
   off with env JXLA_TPU_FASTPATH=0). Off runs the scalar reference; results are bit-identical
   either way (NaN payloads aside). enabled reports the effective state (0 without AVX2). */
jxla_status jxla_tpu_fastpath_set_enabled(int32_t on);
jxla_status jxla_tpu_fastpath_enabled(int32_t* on);

/* ---- compiled functions on a target device (issue 6, ONNX on the emulated TPU) ----
 * Like jxla_function_create, but the function runs on `device` (NULL: the trace device, as
 * jxla_function_create). Tracing is device-independent: a function traced on the host is compiled
 * for the target; captured host constants are uploaded to it once (shared across functions while
 * the host buffer lives; counter FunctionConstantUpload). Calls accept inputs on the target or on
 * the host (transferred); outputs live on the target. */
jxla_status jxla_function_create_on(const jxla_tensor_t* params, int32_t nparams, const jxla_tensor_t* outputs,
                                    int32_t nout, jxla_device_t device, jxla_function_t* out);

/* ---- fused optimizer tracing (issue 5, trainfast) ----
 * Traces Adam's update of parameter p in ONE call (the ops optim.Adam traces one by one, built
 * the same way: same graph, same results) and assigns p, m and v in place (lazily):
 *   m = m*s[0] + g*s[1];  v = v*s[3] + (g*g)*s[4];  p = p - ((m*s[2]) / (sqrt(v*s[5]) + s[6]))*s[7]
 * s: 8 one-element tensors of p's dtype: beta1, 1-beta1, 1/bias_correction1, beta2, 1-beta2,
 * 1/bias_correction2, eps, lr. g, m, v must match p's dtype, shape and device; on error nothing
 * is assigned. */
jxla_status jxla_optim_adam_update(jxla_tensor_t p, jxla_tensor_t g, jxla_tensor_t m, jxla_tensor_t v, const jxla_tensor_t* s);

/* Trace target of the calling thread (session 9): while it is a device T, ops may mix operands on
 * the host and on T (host placeholders with weights already resident on T; the node is on the
 * host, the trace device), so a function traced on the host and created with
 * jxla_function_create_on(..., T) captures T's buffers in place (no upload) and may have outputs
 * on T. Operands on any other device are still refused, naming both devices. Eager execution of
 * a value that mixes devices fails with JXLA_ERR_STATE. NULL clears (the default); the host as
 * target changes nothing. previous (may be NULL) receives the target set before (NULL: none), to
 * restore it after a nested trace. Thread-local: other threads never see it. */
jxla_status jxla_trace_target_set(jxla_device_t device, jxla_device_t* previous);

/* ---- compiled training steps (issue 5, session 5: dev.jxla.optim.TrainStep) ----
 * jxla_function_call_update calls fn on inputs like jxla_function_call, but the LAST ntargets
 * outputs become the new values of the tensors `targets` in place (they keep their handles; each
 * must match its output's dtype and shape and live on the function's device), and only the first
 * (outputs - ntargets) outputs are returned as new handles in `outputs`. An input that is also a
 * target and that nothing else can read (no other handle, no pending IR built on it) may have its
 * buffer overwritten by the update (buffer donation; counter DonatedBuffers; off with
 * JXLA_DONATE=0). On error no target changes.
 * jxla_trace_guard_begin/end bracket a trace that must not run: while a guard is open on the
 * calling thread, a sync or data read that would materialize a pending tensor fails with
 * JXLA_ERR_STATE naming `what`. Guards nest. */
jxla_status jxla_function_call_update(jxla_function_t fn, const jxla_tensor_t* inputs, int32_t n, const jxla_tensor_t* targets,
                                      int32_t ntargets, jxla_tensor_t* outputs);
jxla_status jxla_trace_guard_begin(const char* what);
jxla_status jxla_trace_guard_end(void);
/* Placeholders of a traced step: jxla_tensor_alias returns a second handle on the SAME data leaf
 * as x (one autodiff variable, unlike detach/assign, which make a fresh leaf); jxla_tensor_share
 * makes dst hold src's data leaf itself (dtype, shape and device must match). Data only. */
jxla_status jxla_tensor_alias(jxla_tensor_t x, jxla_tensor_t* out);
jxla_status jxla_tensor_share(jxla_tensor_t dst, jxla_tensor_t src);

/* ---- benchmark diagnostics (issue 3 target (a)) -- NOT part of the tensor API ----
 * A native STREAM triad, a[i] = b[i] + scalar * c[i] over n f32 elements, parallel on the
 * host thread pool (JXLA_NUM_THREADS), AVX-512 / AVX2 / SSE2 chosen at run time: the memory-
 * bandwidth baseline the fused element-wise engine is measured against (docs/fusion.md). The
 * three arrays belong to the library: allocated (64-byte aligned) and first-touched in parallel
 * on the first call with this n, kept until a call with another n; n = 0 frees them.
 * b[i] = 1 + (i % 7), c[i] = 2 - 0.25 * (i % 5). flags bit 0: non-temporal (streaming) stores.
 * checksum (may be NULL) receives the sum of a in double (an extra pass; for tests);
 * vector_bits (may be NULL) the vector width used (512, 256 or 128; 0 when n = 0). */
jxla_status jxla_bench_stream_triad(int64_t n, float scalar, int32_t flags, double* checksum, int32_t* vector_bits);

#ifdef __cplusplus
}
#endif

#endif /* JXLA_JXLA_H */
