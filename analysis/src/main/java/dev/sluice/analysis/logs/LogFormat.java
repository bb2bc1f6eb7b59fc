package dev.sluice.analysis.logs;

import dev.sluice.match.EncodedSlashes;
import java.util.Locale;
import java.util.Map;

/** The access log formats {@code --format} names. */
public enum LogFormat {
  /** Sluice's own {@code access_log} (SPEC §10). */
  SLUICE,
  /** nginx/Apache combined (or common). */
  COMBINED,
  /** JSON lines with configurable field names. */
  JSON;

  /** The name on the command line. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * A parser for this format.
   *
   * @param fields {@code --field} mapping (JSON lines only; must be empty otherwise)
   * @throws IllegalArgumentException for fields given to another format, or unknown fields
   */
  public LineParser parser(Map<String, String> fields, EncodedSlashes slashes) {
    if (this != JSON && !fields.isEmpty()) {
      throw new IllegalArgumentException("--field applies to --format json only");
    }
    return switch (this) {
      case SLUICE -> new SluiceLogParser();
      case COMBINED -> new CombinedLogParser(slashes);
      case JSON -> new JsonLogParser(fields, slashes);
    };
  }
}
