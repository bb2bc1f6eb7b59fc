package dev.sluice.config;

import java.util.List;
import java.util.function.Function;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Secrets the policy file names by environment variable ({@code gateway.admin_token_env},
 * {@code clients.user.jwt.hs256_secret_env}, {@code store.password_env}). An unset variable is an
 * error for {@code serve} and {@code reload}, a warning for {@code check} (see {@code strict}).
 */
final class EnvSecrets implements StoreAccessSection.Secrets {
  /** What {@code check} validates in place of a secret whose variable is unset (not {@code strict}). */
  private static final String CHECK_PLACEHOLDER_SECRET = "sluice-check-placeholder-secret-not-for-serving";

  private final Walker w;
  private final Function<String, String> env;
  private final boolean strict;
  private final List<String> warnings;

  /**
   * @param strict whether an unset variable is an error ({@code serve}) or a warning ({@code check})
   * @param warnings where {@code check}'s warnings go
   */
  EnvSecrets(Walker w, Function<String, String> env, boolean strict, List<String> warnings) {
    this.w = w;
    this.env = env;
    this.strict = strict;
    this.warnings = warnings;
  }

  /**
   * The value of the environment variable named at {@code node}, or {@code null} after reporting a
   * bad name, an unset or an empty variable.
   */
  @Override
  public String fromEnv(Node node, String path, String what) {
    String name = w.nonBlank(node, path);
    if (name == null) {
      return null;
    }
    if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
      w.error(node, Messages.badEnvName(path, name));
      return null;
    }
    String secret = env.apply(name);
    if (secret == null && !strict) {
      // sluice check runs where production secrets are not (a CI job): validate the rest, warn.
      // The placeholder is never served: serve loads strictly and fails on the unset variable.
      warnings.add(Messages.envNotSet(path, name, what) + "; serve fails without it");
      return CHECK_PLACEHOLDER_SECRET;
    }
    if (secret == null) {
      w.error(node, Messages.envNotSet(path, name, what));
    } else if (secret.isEmpty()) {
      w.error(node, Messages.envEmpty(path, name, what));
    } else {
      return secret;
    }
    return null;
  }
}
