package dev.sluice.analysis.replay;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;

/** Renders a {@link ReplayReport} as text for people or as one JSON document for scripts. */
public final class ReplayPrinter {
  private ReplayPrinter() {}

  /** The report as lines of text, each ending with {@code \n}. */
  public static String text(ReplayReport r) {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "replayed %s (%s): %,d requests from %,d lines in %.2f s%n", r.log(),
        r.format(), r.requests(), r.lines(), r.seconds()));
    if (r.firstNanos() >= 0) {
      out.append("log time: ").append(time(r.firstNanos())).append(" … ").append(time(r.lastNanos())).append('\n');
    }
    if (r.malformed() > 0) {
      out.append(String.format(Locale.ROOT, "malformed lines skipped: %,d%n", r.malformed()));
      r.problems().forEach(p -> out.append("  ").append(p).append('\n'));
    }
    if (r.unreadableClients() > 0) {
      out.append(String.format(Locale.ROOT, "lines skipped, client address not an IP: %,d%n", r.unreadableClients()));
    }
    if (r.linesBehind() > 0) {
      out.append(String.format(Locale.ROOT, "lines older than the line before (decided at the later time): %,d%n",
          r.linesBehind()));
    }
    out.append("outcomes:");
    r.outcomes().entrySet().stream().sorted(Map.Entry.comparingByKey())
        .forEach(e -> out.append(String.format(Locale.ROOT, " %s %,d", e.getKey(), e.getValue())));
    out.append('\n');
    if (!r.changed().isEmpty()) {
      out.append("differs from the log:");
      r.changed().entrySet().stream().sorted(Map.Entry.comparingByKey())
          .forEach(e -> out.append(String.format(Locale.ROOT, " %s %,d", e.getKey(), e.getValue())));
      out.append('\n');
    }
    out.append('\n');
    out.append(String.format(Locale.ROOT, "%-20s %-10s %12s %12s %14s %8s  %s%n", "POLICY", "MODE", "REQUESTS",
        "LIMITED", "SHADOW_LIMITED", "SHARE", "FIRST LIMITED"));
    for (ReplayReport.PolicyReport p : r.policies()) {
      out.append(String.format(Locale.ROOT, "%-20s %-10s %,12d %,12d %,14d %7.2f%%  %s%n", p.name(), p.mode(),
          p.requests(), p.limited() + p.banned(), p.shadowLimited(), p.share() * 100,
          p.firstLimitedNanos() < 0 ? "-" : time(p.firstLimitedNanos())));
    }
    for (ReplayReport.PolicyReport p : r.policies()) {
      if (p.top().isEmpty()) {
        continue;
      }
      out.append('\n').append("top limited identities of ").append(p.name())
          .append(p.topApproximate() ? " (approximate: too many distinct identities to count exactly)" : "")
          .append(":\n");
      for (TopCounter.Top t : p.top()) {
        out.append(String.format(Locale.ROOT, "  %-40s %,10d  first %s%n", t.key(), t.count(), time(t.firstNanos())));
      }
    }
    return out.toString();
  }

  /** The report as one JSON object (times RFC 3339, shares as fractions). */
  public static String json(ReplayReport r) {
    StringWriter w = new StringWriter();
    try (JsonGenerator j = new JsonFactory().createGenerator(w)) {
      j.useDefaultPrettyPrinter();
      j.writeStartObject();
      j.writeStringField("log", r.log());
      j.writeStringField("format", r.format());
      j.writeNumberField("lines", r.lines());
      j.writeNumberField("requests", r.requests());
      j.writeNumberField("malformed", r.malformed());
      j.writeArrayFieldStart("problems");
      for (String p : r.problems()) {
        j.writeString(p);
      }
      j.writeEndArray();
      j.writeNumberField("unreadable_clients", r.unreadableClients());
      j.writeNumberField("lines_behind", r.linesBehind());
      j.writeStringField("first", r.firstNanos() < 0 ? null : time(r.firstNanos()));
      j.writeStringField("last", r.lastNanos() < 0 ? null : time(r.lastNanos()));
      j.writeNumberField("seconds", r.seconds());
      j.writeObjectFieldStart("outcomes");
      for (Map.Entry<String, Long> e : new java.util.TreeMap<>(r.outcomes()).entrySet()) {
        j.writeNumberField(e.getKey(), e.getValue());
      }
      j.writeEndObject();
      j.writeObjectFieldStart("changed");
      for (Map.Entry<String, Long> e : new java.util.TreeMap<>(r.changed()).entrySet()) {
        j.writeNumberField(e.getKey(), e.getValue());
      }
      j.writeEndObject();
      j.writeArrayFieldStart("policies");
      for (ReplayReport.PolicyReport p : r.policies()) {
        j.writeStartObject();
        j.writeStringField("name", p.name());
        j.writeStringField("mode", p.mode());
        j.writeNumberField("requests", p.requests());
        j.writeNumberField("limited", p.limited());
        j.writeNumberField("shadow_limited", p.shadowLimited());
        j.writeNumberField("banned", p.banned());
        j.writeNumberField("share", p.share());
        j.writeStringField("first_limited", p.firstLimitedNanos() < 0 ? null : time(p.firstLimitedNanos()));
        j.writeBooleanField("top_approximate", p.topApproximate());
        j.writeArrayFieldStart("top");
        for (TopCounter.Top t : p.top()) {
          j.writeStartObject();
          j.writeStringField("identity", t.key());
          j.writeNumberField("limited", t.count());
          j.writeStringField("first_limited", time(t.firstNanos()));
          j.writeEndObject();
        }
        j.writeEndArray();
        j.writeEndObject();
      }
      j.writeEndArray();
      j.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return w + "\n";
  }

  /** RFC 3339 UTC with milliseconds. */
  public static String time(long epochNanos) {
    Instant t = Instant.ofEpochSecond(Math.floorDiv(epochNanos, 1_000_000_000L), Math.floorMod(epochNanos, 1_000_000_000L));
    return java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
        .withZone(java.time.ZoneOffset.UTC).format(t);
  }
}
