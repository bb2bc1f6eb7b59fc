package dev.sluice.store.redis;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Credentials and TLS verification for the Redis connection ({@code store.password_env} and
 * {@code store.tls} in the policy file). Immutable. {@link #toString()} never shows the password.
 *
 * @param password the password read from {@code store.password_env}; when present, the URLs'
 *     user info may only name the ACL user ({@code rediss://sluice@host:6380}), never a password
 * @param caFile CA certificates (PEM) a {@code rediss://} server's chain must lead to; empty = the
 *     JDK's system trust store
 * @param insecureSkipVerify accept any server certificate for any host name (logged loudly at
 *     every connect); contradicts {@code caFile}
 */
public record RedisSecurity(Optional<String> password, Optional<Path> caFile, boolean insecureSkipVerify) {

  /** No password beyond the URL's; verify against the system trust store. */
  public static final RedisSecurity DEFAULT = new RedisSecurity(Optional.empty(), Optional.empty(), false);

  public RedisSecurity {
    Objects.requireNonNull(password, "password");
    Objects.requireNonNull(caFile, "caFile");
    if (password.isPresent() && password.get().isEmpty()) {
      throw new IllegalArgumentException("the redis password must not be empty");
    }
    if (insecureSkipVerify && caFile.isPresent()) {
      throw new IllegalArgumentException(
          "redis tls: insecure_skip_verify contradicts ca_file (a CA is only used to verify)");
    }
  }

  /** This with {@code password} (from an environment variable, say). */
  public RedisSecurity withPassword(String password) {
    return new RedisSecurity(Optional.of(password), caFile, insecureSkipVerify);
  }

  /** This verifying servers against the CA certificates in {@code caFile} (PEM). */
  public RedisSecurity withCaFile(Path caFile) {
    return new RedisSecurity(password, Optional.of(caFile), insecureSkipVerify);
  }

  @Override
  public String toString() {
    return "RedisSecurity[password=" + (password.isPresent() ? "***" : "none") + ", caFile="
        + caFile.map(Path::toString).orElse("system trust store") + ", insecureSkipVerify="
        + insecureSkipVerify + "]";
  }
}
