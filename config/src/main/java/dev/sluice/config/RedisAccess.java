package dev.sluice.config;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * How the Redis store authenticates and verifies its server: {@code store.password_env} and
 * {@code store.tls} ({@code ca_file}, {@code insecure_skip_verify}, as in
 * {@code gateway.upstream_tls}). {@link #toString()} never shows the password.
 *
 * @param passwordEnv the environment variable named by {@code password_env}, if written
 * @param password its value (under {@code sluice check} with the variable unset, a placeholder
 *     that is never served)
 * @param caFile CA certificates (PEM) the {@code rediss://} server's chain must lead to; empty =
 *     the system trust store
 * @param insecureSkipVerify accept any certificate for any host name (logged at every start)
 */
public record RedisAccess(
    Optional<String> passwordEnv, Optional<String> password, Optional<Path> caFile, boolean insecureSkipVerify) {

  /** No password beyond the URL's; verification against the system trust store. */
  public static final RedisAccess DEFAULT =
      new RedisAccess(Optional.empty(), Optional.empty(), Optional.empty(), false);

  public RedisAccess {
    Objects.requireNonNull(passwordEnv, "passwordEnv");
    Objects.requireNonNull(password, "password");
    Objects.requireNonNull(caFile, "caFile");
  }

  @Override
  public String toString() {
    return "RedisAccess[passwordEnv=" + passwordEnv.orElse("none") + ", password="
        + (password.isPresent() ? "***" : "none") + ", caFile=" + caFile.map(Path::toString).orElse("none")
        + ", insecureSkipVerify=" + insecureSkipVerify + "]";
  }
}
