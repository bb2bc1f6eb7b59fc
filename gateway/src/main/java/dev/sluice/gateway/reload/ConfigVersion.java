package dev.sluice.gateway.reload;

import dev.sluice.config.SluiceConfig;
import java.time.Instant;
import java.util.Objects;

/**
 * One good version of the policy file, as loaded.
 *
 * @param version 1 for the file read at start, then one more per successful reload
 * @param sha256 lowercase hex SHA-256 of the file's bytes as read
 * @param loadedAt when it was first loaded
 * @param file the policy file's path as given on the command line
 * @param config the validated configuration (its policies are what a rollback restores)
 */
public record ConfigVersion(int version, String sha256, Instant loadedAt, String file, SluiceConfig config) {
  public ConfigVersion {
    Objects.requireNonNull(sha256, "sha256");
    Objects.requireNonNull(loadedAt, "loadedAt");
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(config, "config");
  }
}
