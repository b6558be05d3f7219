package dev.jxla.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jxla.DType;
import dev.jxla.Jxla;
import dev.jxla.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

/** The GC fallback's configuration and its native-memory pressure check. */
class TensorRefTest {
  @Test
  void javaCppRssProbeIsOffByDefault() {
    Tensor.scalar(1f).close();
    assertEquals(0, Pointer.maxPhysicalBytes(), "JxlaLib must configure JavaCPP before Pointer initializes");
  }

  @Test
  void droppedTensorsUnderNativePressureTriggerACollection() throws InterruptedException {
    Jxla.sync();
    long base = Jxla.liveBytes();
    long gcs = TensorRef.pressureGcCount();
    long old = TensorRef.gcThresholdBytes(base + (8L << 20));  // 8 MB of tensor data above now
    try {
      // 16 KB each from one direct buffer (no Java heap garbage that would trigger GCs by
      // itself), 16 * CHECK_EVERY of them (256 MB if nothing were freed), never closed, and no
      // System.gc() here: only the pressure check can get them collected
      FloatBuffer data = ByteBuffer.allocateDirect(16384).order(ByteOrder.nativeOrder()).asFloatBuffer();
      long peak = 0;
      for (int i = 0; i < 16 * TensorRef.CHECK_EVERY; i++) {
        Tensor.of(data, DType.F32, 4096);
        peak = Math.max(peak, Jxla.liveBytes() - base);
      }
      assertTrue(TensorRef.pressureGcCount() > gcs, "the pressure check requested a GC");
      // one check interval is 16 MB of new tensors: without the check the peak is 256 MB
      assertTrue(peak < (128L << 20), "peak live bytes " + (peak >> 20) + " MB");
    } finally {
      TensorRef.gcThresholdBytes(old);
    }
  }
}
