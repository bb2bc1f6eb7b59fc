package dev.sluice.verify.report;

import dev.sluice.verify.run.Outcome;
import java.util.List;

/**
 * The verify report: one line per check ({@code PROVEN}, {@code FAILED} with the evidence,
 * {@code NOT PROVABLE} with the reason) and a summary; and the same as JUnit XML, where a not
 * provable check is {@code <skipped>} (never a pass) and a failed one a {@code <failure>}.
 */
public final class Report {
  private Report() {}

  /** The text report. */
  public static String text(String target, List<Outcome> outcomes, int sent, int bound) {
    StringBuilder sb = new StringBuilder();
    sb.append("sluice verify against ").append(target).append('\n');
    for (Outcome o : outcomes) {
      String status = switch (o.status()) {
        case PROVEN -> "PROVEN      ";
        case FAILED -> "FAILED      ";
        case NOT_PROVABLE -> "NOT PROVABLE";
      };
      sb.append(status).append("  ").append(String.format("%-28s", o.check().id())).append("  ")
          .append(o.detail()).append('\n');
    }
    long proven = count(outcomes, Outcome.Status.PROVEN);
    long failed = count(outcomes, Outcome.Status.FAILED);
    long notProvable = count(outcomes, Outcome.Status.NOT_PROVABLE);
    sb.append(outcomes.size()).append(" checks: ").append(proven).append(" proven, ").append(failed)
        .append(" failed, ").append(notProvable).append(" not provable (not counted as passed); ")
        .append(sent).append(" requests sent (bound ").append(bound).append(")\n");
    return sb.toString();
  }

  /** JUnit XML (the Ant/Surefire format CI tools read): one testsuite, one testcase per check. */
  public static String junit(String target, List<Outcome> outcomes) {
    double time = outcomes.stream().mapToDouble(Outcome::seconds).sum();
    StringBuilder sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    sb.append("<testsuites name=\"sluice verify\" tests=\"").append(outcomes.size())
        .append("\" failures=\"").append(count(outcomes, Outcome.Status.FAILED))
        .append("\" errors=\"0\" skipped=\"").append(count(outcomes, Outcome.Status.NOT_PROVABLE))
        .append("\" time=\"").append(seconds(time)).append("\">\n");
    sb.append("  <testsuite name=\"sluice verify ").append(xml(target)).append("\" tests=\"").append(outcomes.size())
        .append("\" failures=\"").append(count(outcomes, Outcome.Status.FAILED))
        .append("\" errors=\"0\" skipped=\"").append(count(outcomes, Outcome.Status.NOT_PROVABLE))
        .append("\" time=\"").append(seconds(time)).append("\">\n");
    for (Outcome o : outcomes) {
      sb.append("    <testcase classname=\"sluice.verify.").append(xml(o.check().policy())).append("\" name=\"")
          .append(xml(o.check().id())).append("\" time=\"").append(seconds(o.seconds())).append('"');
      switch (o.status()) {
        case PROVEN -> sb.append(">\n      <system-out>").append(xml(o.detail())).append("</system-out>\n    </testcase>\n");
        case FAILED -> sb.append(">\n      <failure message=\"").append(xml(o.detail())).append("\" type=\"drift\">")
            .append(xml(o.detail())).append("</failure>\n    </testcase>\n");
        case NOT_PROVABLE -> sb.append(">\n      <skipped message=\"not provable: ").append(xml(o.detail()))
            .append("\"/>\n    </testcase>\n");
      }
    }
    sb.append("  </testsuite>\n</testsuites>\n");
    return sb.toString();
  }

  private static long count(List<Outcome> outcomes, Outcome.Status status) {
    return outcomes.stream().filter(o -> o.status() == status).count();
  }

  private static String seconds(double s) {
    return String.format(java.util.Locale.ROOT, "%.3f", s);
  }

  static String xml(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '&' -> sb.append("&amp;");
        case '"' -> sb.append("&quot;");
        case '\'' -> sb.append("&apos;");
        default -> {
          if (ch < 0x20 && ch != '\n' && ch != '\t' && ch != '\r') {
            sb.append(' ');
          } else {
            sb.append(ch);
          }
        }
      }
    }
    return sb.toString();
  }
}
