package dev.jxla.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** Writes the training loss curve (per step, and the per-epoch mean) as a PNG with JFreeChart. */
final class LossPlot {
  private LossPlot() {}

  static void write(Path file, List<Double> stepLoss, List<Double> epochLoss, int stepsPerEpoch) throws IOException {
    System.setProperty("java.awt.headless", "true");
    XYSeries steps = new XYSeries("loss per step");
    for (int i = 0; i < stepLoss.size(); i++) {
      steps.add(i + 1, stepLoss.get(i));
    }
    XYSeries epochs = new XYSeries("mean loss per epoch");
    for (int e = 0; e < epochLoss.size(); e++) {
      epochs.add((e + 1) * (double) stepsPerEpoch, epochLoss.get(e));
    }
    XYSeriesCollection ds = new XYSeriesCollection();
    ds.addSeries(steps);
    ds.addSeries(epochs);
    JFreeChart chart = ChartFactory.createXYLineChart("JXLA MNIST training loss", "step", "cross-entropy loss", ds,
        PlotOrientation.VERTICAL, true, false, false);
    ChartUtils.saveChartAsPNG(file.toFile(), chart, 900, 500);
  }
}
