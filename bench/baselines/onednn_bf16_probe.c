// onednn_bf16_probe.c - asks oneDNN (org.bytedeco:dnnl 3.11-1.5.13) whether it can run the MXU's
// bf16 pass on this CPU: bf16 x bf16 -> f32 and bf16 x bf16 -> bf16 matmuls, and for comparison
// f32 x f32 -> f32 with fpmath_mode=bf16 and plain f32. For each it prints the implementation
// oneDNN picks (or the status when none exists), the best of 5 runs and, for the f32 variants,
// how far the result is from the f64 dot of the raw operands and from the f64 dot of the
// bf16-rounded operands (this tells whether fpmath=bf16 really rounded to bf16).
// Not part of the build or of CI: a one-off probe, recorded in docs/tpu-model.md section 2b.
// Build and run (after `mvn dependency:get -Dartifact=org.bytedeco:dnnl:3.11-1.5.13:jar:linux-x86_64`):
//   J=~/.m2/repository/org/bytedeco/dnnl/3.11-1.5.13/dnnl-3.11-1.5.13-linux-x86_64.jar
//   mkdir -p /tmp/dnnl && unzip -q -o -d /tmp/dnnl $J 'org/bytedeco/dnnl/linux-x86_64/*'
//   L=/tmp/dnnl/org/bytedeco/dnnl/linux-x86_64
//   gcc -O2 onednn_bf16_probe.c -I$L/include -L$L -l:libdnnl.so.3 -Wl,-rpath,$L -lm -o probe
//   OMP_NUM_THREADS=2 ./probe 1024          (ONEDNN_VERBOSE=dispatch shows why each impl refused)
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "oneapi/dnnl/dnnl.h"

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

// f32 -> bf16 -> f32, round to nearest even (finite inputs only: the probe's data is in [-0.5, 0.5])
static float round_bf16(float x) {
  uint32_t u; memcpy(&u, &x, 4);
  u += 0x7fffu + ((u >> 16) & 1u);
  u &= 0xffff0000u;
  memcpy(&x, &u, 4);
  return x;
}

static void run(dnnl_engine_t eng, dnnl_stream_t st, const char* name, dnnl_data_type_t t_in,
                dnnl_data_type_t t_out, int fpmath_bf16, int64_t n) {
  dnnl_memory_desc_t ad, bd, cd;
  dnnl_dims_t d = {n, n};
  dnnl_memory_desc_create_with_tag(&ad, 2, d, t_in, dnnl_ab);
  dnnl_memory_desc_create_with_tag(&bd, 2, d, t_in, dnnl_ab);
  dnnl_memory_desc_create_with_tag(&cd, 2, d, t_out, dnnl_ab);
  dnnl_primitive_attr_t attr;
  dnnl_primitive_attr_create(&attr);
  if (fpmath_bf16) dnnl_primitive_attr_set_fpmath_mode(attr, dnnl_fpmath_mode_bf16);
  dnnl_primitive_desc_t pd;
  dnnl_status_t s = dnnl_matmul_primitive_desc_create(&pd, eng, ad, bd, NULL, cd, attr);
  if (s != dnnl_success) {
    printf("%s: dnnl_matmul_primitive_desc_create status %d%s\n", name, (int)s,
           s == dnnl_unimplemented ? " (dnnl_unimplemented)" : "");
    return;
  }
  const char* impl = "?";
  dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
  dnnl_primitive_t p;
  dnnl_primitive_create(&p, pd);
  // f32 storage is large enough for either dtype; only the f32 variants read the values back
  float* a = malloc((size_t)(n * n) * 4);
  float* b = malloc((size_t)(n * n) * 4);
  float* c = malloc((size_t)(n * n) * 4);
  srand(1);
  for (int64_t i = 0; i < n * n; ++i) {
    a[i] = (float)rand() / RAND_MAX - 0.5f;
    b[i] = (float)rand() / RAND_MAX - 0.5f;
  }
  dnnl_memory_t am, bm, cm;
  dnnl_memory_create(&am, ad, eng, a);
  dnnl_memory_create(&bm, bd, eng, b);
  dnnl_memory_create(&cm, cd, eng, c);
  dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}};
  double best = 1e30;
  for (int r = 0; r < 5; ++r) {
    double t0 = now();
    dnnl_primitive_execute(p, st, 3, args);
    dnnl_stream_wait(st);
    double t = now() - t0;
    if (t < best) best = t;
  }
  double e_raw = 0, e_bf16 = 0;
  if (t_in == dnnl_f32)
    for (int j = 0; j < 16; ++j) {  // row 0, first 16 columns
      double s_raw = 0, s_bf16 = 0;
      for (int64_t k = 0; k < n; ++k) {
        s_raw += (double)a[k] * b[k * n + j];
        s_bf16 += (double)round_bf16(a[k]) * round_bf16(b[k * n + j]);
      }
      e_raw = fmax(e_raw, fabs(c[j] - s_raw));
      e_bf16 = fmax(e_bf16, fabs(c[j] - s_bf16));
    }
  printf("%s: impl %s, best %.2f ms = %.1f GFLOP/s; max|c - raw dot| %.2e, max|c - bf16 dot| %.2e\n", name, impl,
         best * 1e3, 2.0 * n * n * n / best / 1e9, e_raw, e_bf16);
  dnnl_primitive_destroy(p);
  dnnl_primitive_desc_destroy(pd);
  dnnl_primitive_attr_destroy(attr);
  dnnl_memory_destroy(am);
  dnnl_memory_destroy(bm);
  dnnl_memory_destroy(cm);
  dnnl_memory_desc_destroy(ad);
  dnnl_memory_desc_destroy(bd);
  dnnl_memory_desc_destroy(cd);
  free(a);
  free(b);
  free(c);
}

int main(int argc, char** argv) {
  int64_t n = argc > 1 ? atoll(argv[1]) : 1024;
  dnnl_engine_t eng;
  dnnl_stream_t st;
  if (dnnl_engine_create(&eng, dnnl_cpu, 0) != dnnl_success) { printf("no cpu engine\n"); return 1; }
  dnnl_stream_create(&st, eng, dnnl_stream_default_flags);
  run(eng, st, "bf16 x bf16 -> f32", dnnl_bf16, dnnl_f32, 0, n);
  run(eng, st, "bf16 x bf16 -> bf16", dnnl_bf16, dnnl_bf16, 0, n);
  run(eng, st, "f32 x f32 -> f32, fpmath=bf16", dnnl_f32, dnnl_f32, 1, n);
  run(eng, st, "f32 x f32 -> f32", dnnl_f32, dnnl_f32, 0, n);
  dnnl_stream_destroy(st);
  dnnl_engine_destroy(eng);
  return 0;
}
