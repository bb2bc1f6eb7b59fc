package dev.sluice.analysis.plot;

import dev.sluice.analysis.tune.TuneReport;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * One PNG with a chart per policy limit, stacked: the cumulative distribution of the identities'
 * peak demand in the limit's window (x: requests × cost in the window; y: share of identities at
 * or below), with the current limit (red) and the suggested one (green) marked. Drawn headless.
 */
public final class DemandPlot {
  /** Width of the image in pixels. */
  public static final int WIDTH = 900;
  /** Height of one limit's chart in pixels. */
  public static final int CHART_HEIGHT = 320;
  /** Points drawn per distribution at most (a million identities need not be a million points). */
  private static final int MAX_POINTS = 400;

  private DemandPlot() {}

  /**
   * Writes the plot of {@code report} to {@code file} ({@link #WIDTH} × {@link #CHART_HEIGHT} per
   * limit; one empty chart when there is no limit).
   *
   * @throws IOException when the file cannot be written
   */
  public static void write(TuneReport report, Path file) throws IOException {
    System.setProperty("java.awt.headless", "true");
    int charts = Math.max(1, report.limits().size());
    BufferedImage image = new BufferedImage(WIDTH, CHART_HEIGHT * charts, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, image.getWidth(), image.getHeight());
    int y = 0;
    for (TuneReport.LimitReport limit : report.limits()) {
      chart(limit, report).draw(g, new Rectangle2D.Double(0, y, WIDTH, CHART_HEIGHT));
      y += CHART_HEIGHT;
    }
    g.dispose();
    if (!ImageIO.write(image, "png", file.toFile())) {
      throw new IOException("no PNG writer available");
    }
  }

  private static JFreeChart chart(TuneReport.LimitReport limit, TuneReport report) {
    XYSeries cdf = new XYSeries("identities at or below (share)");
    long[] peaks = limit.sortedPeaks();
    int n = peaks.length;
    if (n > 0) {
      int step = Math.max(1, n / MAX_POINTS);
      for (int i = 0; i < n; i += step) {
        cdf.add(peaks[i], (i + 1) / (double) n);
      }
      cdf.add(peaks[n - 1], 1.0);
    }
    String title = limit.policy() + " — " + limit.current() + " (" + limit.algorithm() + "): peak demand per identity, "
        + n + " identities";
    JFreeChart chart = ChartFactory.createXYLineChart(title, "peak requests in the limit's window (× cost)",
        "share of identities", new XYSeriesCollection(cdf), PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    plot.getRenderer().setSeriesPaint(0, new Color(0x1f, 0x77, 0xb4));
    plot.getRenderer().setSeriesStroke(0, new BasicStroke(2f));
    long current = quantity(limit.current());
    plot.addDomainMarker(marker(current, "current " + limit.current(), new Color(0xd6, 0x27, 0x28)));
    plot.addDomainMarker(marker(limit.suggestedQuantity(), "suggested " + limit.suggested()
        + " (p" + trim(report.quantile() * 100) + " × " + trim(report.headroom()) + ")", new Color(0x2c, 0xa0, 0x2c)));
    double upper = Math.max(Math.max(current, limit.suggestedQuantity()), n == 0 ? 1 : peaks[n - 1]) * 1.08;
    plot.getDomainAxis().setRange(0, upper);
    plot.getRangeAxis().setRange(0, 1.05);
    return chart;
  }

  private static ValueMarker marker(double x, String label, Color color) {
    ValueMarker m = new ValueMarker(x, color, new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
        new float[] {6f, 4f}, 0f));
    m.setLabel(label);
    m.setLabelPaint(color);
    m.setLabelAnchor(RectangleAnchor.BOTTOM_LEFT);
    m.setLabelTextAnchor(TextAnchor.BOTTOM_RIGHT);
    return m;
  }

  private static long quantity(String limitText) {
    int i = 0;
    while (i < limitText.length() && Character.isDigit(limitText.charAt(i))) {
      i++;
    }
    return i == 0 ? 0 : Long.parseLong(limitText.substring(0, i));
  }

  private static String trim(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }
}
