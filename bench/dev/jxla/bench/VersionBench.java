package dev.jxla.bench;

import dev.jxla.internal.JxlaLib;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;

/** Cost of one trivial JNI call into the engine (proves the bench pipeline). */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class VersionBench {
  @Benchmark
  public int version() {
    return JxlaLib.jxla_version();
  }
}
