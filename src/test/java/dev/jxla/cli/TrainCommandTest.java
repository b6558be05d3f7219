package dev.jxla.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The train command on a slice of the shipped digits (the full run is the README demo). */
class TrainCommandTest {
  @Test
  void shortRunLearnsAndReports(@TempDir Path dir) throws Exception {
    Path png = dir.resolve("loss.png");
    TrainCommand.Options o = TrainCommand.parse(new String[] {"--epochs", "1", "--train-limit", "1280", "--plot", png.toString()});
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    TrainCommand.Result r = TrainCommand.train(o, new PrintStream(buf, true, StandardCharsets.UTF_8));
    String out = buf.toString(StandardCharsets.UTF_8);
    // 20 Adam steps: far above chance (10 %) on the 2,000 test digits
    assertTrue(r.testAccuracy > 0.6, "test accuracy " + r.testAccuracy);
    assertTrue(r.stepLoss.get(19) < r.stepLoss.get(0), "loss " + r.stepLoss);
    assertTrue(out.contains("epoch  1/1 [") && out.contains("steps/s") && out.contains("test accuracy"), out);
    assertTrue(out.contains("UncachedCompile"), out);
    // the default device is the emulated TPU v5e
    assertTrue(out.contains("device tpu:v5e") && out.contains("simulated tpu:v5e time per step"), out);
    assertTrue(r.simSecondsPerStep > 0, "simulated step " + r.simSecondsPerStep);
    byte[] head = Files.readAllBytes(png);
    assertTrue(head.length > 1000 && head[1] == 'P' && head[2] == 'N' && head[3] == 'G');
  }

  @Test
  void dataParallelRunOverTwoReplicas() throws Exception {
    TrainCommand.Options o = TrainCommand.parse(new String[] {"--device", "host", "--epochs", "1", "--train-limit", "640", "--replicas", "2", "--quiet"});
    TrainCommand.Result r = TrainCommand.train(o, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    assertTrue(r.testAccuracy > 0.4, "test accuracy " + r.testAccuracy);
    assertTrue(r.stepLoss.get(9) < r.stepLoss.get(0), "loss " + r.stepLoss);
  }

  @Test
  void dataParallelOverTpuCoresReportsTheSimulatedSpeedup() throws Exception {
    TrainCommand.Options o = TrainCommand.parse(new String[] {"--device", "tpu:v4x2", "--epochs", "1", "--train-limit", "640"});
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    TrainCommand.Result r = TrainCommand.train(o, new PrintStream(buf, true, StandardCharsets.UTF_8));
    String out = buf.toString(StandardCharsets.UTF_8);
    assertTrue(r.testAccuracy > 0.4, "test accuracy " + r.testAccuracy);
    assertTrue(r.stepLoss.get(9) < r.stepLoss.get(0), "loss " + r.stepLoss);
    assertTrue(out.contains("data parallel over 2 replicas") && out.contains("speedup"), out);
    assertTrue(r.simSecondsPerStep > 0 && r.simSpeedup > 0 && Double.isFinite(r.simSpeedup), out);
  }

  @Test
  void compiledAndEagerStepsGiveTheSameLosses() throws Exception {
    TrainCommand.Result[] r = new TrainCommand.Result[2];
    String[] modes = {"eager", "compiled"};
    for (int i = 0; i < 2; i++) {
      TrainCommand.Options o = TrainCommand.parse(new String[] {"--device", "host", "--epochs", "1", "--train-limit", "640",
          "--step", modes[i], "--quiet"});
      r[i] = TrainCommand.train(o, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    }
    assertTrue(!r[0].compiled && r[1].compiled);
    // the compiled step is the eager step, bit for bit: every step's loss is the same double
    assertEquals(r[0].stepLoss, r[1].stepLoss);
    assertEquals(r[0].testAccuracy, r[1].testAccuracy);
  }

  @Test
  void theSubnormalModeIsFlushByDefaultAndRestoredAfterTheRun() throws Exception {
    assertEquals("flush", TrainCommand.parse(new String[0]).denormals);
    assertEquals("ieee", TrainCommand.parse(new String[] {"--denormals", "ieee"}).denormals);
    boolean before = dev.jxla.Jxla.flushDenormals();
    TrainCommand.Options o = TrainCommand.parse(new String[] {"--device", "host", "--epochs", "1", "--train-limit", "128", "--quiet"});
    TrainCommand.Result r = TrainCommand.train(o, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    assertEquals(2, r.stepLoss.size());
    assertEquals(before, dev.jxla.Jxla.flushDenormals());
  }

  @Test
  void badOptionsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> TrainCommand.parse(new String[] {"--step", "jit"}));
    assertThrows(IllegalArgumentException.class, () -> TrainCommand.parse(new String[] {"--denormals", "zero"}));
    assertThrows(IllegalArgumentException.class, () -> TrainCommand.parse(new String[] {"--replicas", "3"}));
    assertThrows(IllegalArgumentException.class, () -> TrainCommand.parse(new String[] {"--model", "rnn"}));
    assertThrows(IllegalArgumentException.class, () -> TrainCommand.parse(new String[] {"--epochs"}));
    assertThrows(IllegalArgumentException.class, () -> TrainCommand.parse(new String[] {"--lr", "x"}));
    assertThrows(IllegalArgumentException.class, () -> TrainCommand.device("gpu"));
  }
}
