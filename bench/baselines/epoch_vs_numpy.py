#!/usr/bin/env python3
"""Side-by-side epoch time of the JXLA MNIST demo and the NumPy baseline (issue 5's goal: a JXLA
epoch at most half NumPy's). The machine is shared and noisy, so the two run interleaved, round
after round, and each round reports the ratio of its own two medians.

Each round runs `jxla train --epochs E --device host` (through Maven; its start-up is outside the
timed epochs), then `mnist_mlp_numpy.py E`. The first `warm` epochs of each run are dropped (JVM
JIT and OpenBLAS warm-up); the median of the remaining epoch times is compared. A JXLA epoch time
is 125 steps over the epoch's average steps/s that the demo's progress bar prints at its last step
(the demo reads the loss and the predictions back every step, the NumPy baseline does not).

Usage: python3 bench/baselines/epoch_vs_numpy.py [rounds=3] [epochs=6] [warm=2] [extra demo args...]
Run from the project root after `mvn -q -DskipTests package`.
"""
import os, re, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")


def jxla_epochs(epochs, extra):
    args = "train --epochs %d --device host %s" % (epochs, " ".join(extra))
    out = subprocess.run(["mvn", "-q", "-DskipTests", "-Dskip.ctest", "exec:java@train", "-Dexec.args=" + args],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    times = []
    for line in out.split("\n"):
        last = line.split("\r")[-1]
        m = re.match(r"epoch\s+\d+/\d+ \[.*\]\s+(\d+)/(\d+) .* ([0-9.]+) steps/s", last)
        if m and m.group(1) == m.group(2):
            times.append(int(m.group(2)) / float(m.group(3)))
    if len(times) != epochs:
        raise SystemExit("could not parse %d epochs from the demo's output:\n%s" % (epochs, out[-2000:]))
    return times


def numpy_epochs(epochs):
    out = subprocess.run([sys.executable, os.path.join(HERE, "mnist_mlp_numpy.py"), str(epochs)],
                         capture_output=True, text=True, check=True).stdout
    return [float(t) for t in re.findall(r"epoch \d+: ([0-9.]+) s", out)]


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 6
    warm = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    extra = sys.argv[4:]
    if epochs <= warm:
        raise SystemExit("epochs must exceed warm")
    ratios = []
    for r in range(rounds):
        j = statistics.median(jxla_epochs(epochs, extra)[warm:])
        n = statistics.median(numpy_epochs(epochs)[warm:])
        load = os.getloadavg()[0]
        ratios.append(j / n)
        print("round %d: jxla %.3f s/epoch, numpy %.3f s/epoch, ratio %.2f (load %.2f)" % (r + 1, j, n, j / n, load),
              flush=True)
    print("median ratio jxla/numpy over %d rounds: %.2f (goal <= 0.50)" % (rounds, statistics.median(ratios)))


if __name__ == "__main__":
    main()
