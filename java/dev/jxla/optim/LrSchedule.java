package dev.jxla.optim;

/**
 * A learning-rate schedule: the rate for a 0-based step. Apply with
 * {@code opt.setLr(schedule.lr(step))} before each step (a data scalar: no recompilation).
 */
@FunctionalInterface
public interface LrSchedule {
  /** The learning rate at {@code step} (0-based). */
  double lr(long step);

  /** lr = base * gamma^floor(step / stepSize) (PyTorch StepLR). */
  static LrSchedule step(double base, long stepSize, double gamma) {
    if (stepSize <= 0) {
      throw new IllegalArgumentException("step schedule: stepSize must be > 0, got " + stepSize);
    }
    return s -> base * Math.pow(gamma, Math.floorDiv(s, stepSize));
  }

  /**
   * Cosine annealing from base to min over totalSteps, then min
   * (PyTorch CosineAnnealingLR: min + (base - min) * (1 + cos(pi * step / total)) / 2).
   */
  static LrSchedule cosine(double base, long totalSteps, double min) {
    if (totalSteps <= 0) {
      throw new IllegalArgumentException("cosine schedule: totalSteps must be > 0, got " + totalSteps);
    }
    return s -> s >= totalSteps ? min : min + (base - min) * (1 + Math.cos(Math.PI * s / totalSteps)) / 2;
  }

  /**
   * Linear warm-up from 0 over warmupSteps (step s gets after(0) * (s + 1) / warmupSteps), then
   * {@code after} shifted so that it starts at step 0 when the warm-up ends.
   */
  static LrSchedule warmup(long warmupSteps, LrSchedule after) {
    if (warmupSteps < 0) {
      throw new IllegalArgumentException("warmup: warmupSteps must be >= 0, got " + warmupSteps);
    }
    return s -> s < warmupSteps ? after.lr(0) * (s + 1) / warmupSteps : after.lr(s - warmupSteps);
  }

  /** A constant rate. */
  static LrSchedule constant(double lr) {
    return s -> lr;
  }
}
