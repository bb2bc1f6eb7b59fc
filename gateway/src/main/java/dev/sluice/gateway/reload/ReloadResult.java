package dev.sluice.gateway.reload;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a reload or rollback did.
 *
 * @param kind success, a file or change that was refused, or an unknown rollback version
 * @param version the version now in force (the old one after a refusal)
 * @param errors why it was refused: {@code file:line:column: message} lines, or sentences naming
 *     the settings that need a restart; empty on success
 * @param changed false when a reload found the same bytes as the version in force
 */
public record ReloadResult(Kind kind, ConfigVersion version, List<String> errors, boolean changed) {
  /** How a reload or rollback ended. */
  public enum Kind {
    SUCCESS,
    /** The file is invalid or changes settings that cannot change live: nothing changed (422). */
    INVALID,
    /** A rollback named a version that is not among the kept good versions (404). */
    UNKNOWN_VERSION
  }

  public ReloadResult {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(version, "version");
    errors = List.copyOf(errors);
  }

  public boolean ok() {
    return kind == Kind.SUCCESS;
  }

  static ReloadResult success(ConfigVersion version, boolean changed) {
    return new ReloadResult(Kind.SUCCESS, version, List.of(), changed);
  }

  static ReloadResult refused(Kind kind, ConfigVersion current, List<String> errors) {
    return new ReloadResult(kind, current, errors, false);
  }

  /** The first error line, for logs. */
  public Optional<String> firstError() {
    return errors.stream().findFirst();
  }
}
