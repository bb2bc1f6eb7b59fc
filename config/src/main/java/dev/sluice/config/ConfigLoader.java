package dev.sluice.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * Loads a policy file ({@code sluice.yaml}, SPEC §2) into a {@link SluiceConfig}.
 *
 * <p>Every key is checked (unknown keys are errors with a "did you mean"), every value typed, and
 * every problem reported as {@code file:line:column: message}; all problems found are reported at
 * once, sorted by position. Semantic rules (cost versus capacity, duplicate names, limit grammar,
 * path patterns, identity names) are the core builders'; their errors are placed on the node they
 * concern.
 *
 * <p>Side inputs: {@code clients.user.jwt.hs256_secret_env} and {@code gateway.admin_token_env}
 * name environment variables read at load time; {@code keys_file} and {@code jwks_file} are read relative to the policy file's folder,
 * and a relative {@code audit_log} is resolved against it (the gateway opens it later).
 * Every file read is bounded (policy file 1 MiB, keys file 16 MiB, JWKS file 1 MiB) and must be a
 * regular file; every YAML value at most 4 KiB (see {@code YamlGuard}).
 *
 * <p>Stateless and thread-safe: every call reads afresh (a reload is just another {@code load}).
 */
public final class ConfigLoader {
  private ConfigLoader() {}

  /**
   * Loads the policy file at {@code file}, reading secrets from the process environment.
   *
   * @throws ConfigException when the file cannot be read or is invalid; a file that cannot be read
   *     gives one error with line 0 ({@code file: cannot read the policy file: ...})
   */
  public static SluiceConfig load(Path file) throws ConfigException {
    return load(file, System::getenv);
  }

  /**
   * Loads the policy file at {@code file}, looking environment variables up with {@code env}
   * (returns {@code null} for an unset variable), so tests need not touch the real environment.
   *
   * @throws ConfigException when the file cannot be read or is invalid
   */
  public static SluiceConfig load(Path file, Function<String, String> env) throws ConfigException {
    return load(file, env, true);
  }

  /**
   * Loads the policy file at {@code file} as {@code sluice check} does: a {@code ${VAR}} whose
   * variable is unset and has no default is a warning ({@link SluiceConfig#warnings()}), not an
   * error, since a file is often checked away from the environment it runs in.
   *
   * @throws ConfigException when the file cannot be read or is invalid
   */
  public static SluiceConfig loadForCheck(Path file, Function<String, String> env) throws ConfigException {
    return load(file, env, false);
  }

  /**
   * The policy file as read after environment substitution, secrets masked ({@code sluice check
   * --print-effective}); comments and layout kept. Unset variables stay as written.
   *
   * @throws ConfigException when the file cannot be read
   */
  public static String effective(Path file, Function<String, String> env) throws ConfigException {
    String text = readText(file);
    Path absolute = file.toAbsolutePath();
    Path dir = absolute.getParent() != null ? absolute.getParent() : absolute;
    PolicyFileReader reader = new PolicyFileReader(file.toString(), file, dir, env);
    reader.strictEnv = false;
    return reader.effective(text);
  }

  private static SluiceConfig load(Path file, Function<String, String> env, boolean strictEnv)
      throws ConfigException {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(env, "env");
    String text = readText(file);
    Path absolute = file.toAbsolutePath();
    Path dir = absolute.getParent() != null ? absolute.getParent() : absolute;
    PolicyFileReader reader = new PolicyFileReader(file.toString(), file, dir, env);
    reader.strictEnv = strictEnv;
    return reader.read(text);
  }

  /** The file's text, or a {@link ConfigException} with one line-0 error saying why not. */
  static String readText(Path file) throws ConfigException {
    String name = file.toString();
    String text;
    try {
      // Bounded, regular files only: -c /dev/zero or a FIFO is an error, not a hang or an OOM.
      text = BoundedFiles.readText(file, BoundedFiles.MAX_POLICY_BYTES);
    } catch (BoundedFiles.Unreadable e) {
      throw unreadable(name, e.getMessage());
    }
    return text;
  }

  /**
   * Parses policy-file text. {@code fileName} is used in error messages and as
   * {@link SluiceConfig#source()}; files it references are resolved relative to its folder.
   * Secrets are read from the process environment.
   *
   * @throws ConfigException when the text is not a valid policy file
   */
  public static SluiceConfig parse(String yaml, String fileName) throws ConfigException {
    return parse(yaml, fileName, System::getenv);
  }

  /**
   * Parses policy-file text, looking environment variables up with {@code env}.
   *
   * @throws ConfigException when the text is not a valid policy file
   */
  public static SluiceConfig parse(String yaml, String fileName, Function<String, String> env)
      throws ConfigException {
    Objects.requireNonNull(yaml, "yaml");
    Objects.requireNonNull(fileName, "fileName");
    Objects.requireNonNull(env, "env");
    Path source;
    try {
      source = Path.of(fileName);
    } catch (InvalidPathException e) {
      source = Path.of("policy.yaml");
    }
    Path absolute = source.toAbsolutePath();
    Path dir = absolute.getParent() != null ? absolute.getParent() : absolute;
    return new PolicyFileReader(fileName, source, dir, env).read(yaml);
  }

  private static ConfigException unreadable(String name, String problem) {
    return new ConfigException(List.of(new ConfigError(name, 0, 0, Messages.cannotRead(problem))));
  }
}
