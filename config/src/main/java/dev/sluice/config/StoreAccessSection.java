package dev.sluice.config;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads {@code store.password_env} and {@code store.tls} into {@link RedisAccess} (for {@link
 * StoreSection}, which reads the rest of {@code store:}). An unset {@code password_env} variable
 * is an error for {@code serve} and a warning for {@code check}, like every other {@code *_env}
 * secret; an absent {@code tls.ca_file} likewise (serve reads it when it connects).
 */
final class StoreAccessSection {
  static final List<String> KEYS = List.of("password_env", "tls");
  private static final List<String> TLS = List.of("ca_file", "insecure_skip_verify");
  private static final String EXAMPLE_ENV = "password_env: SLUICE_REDIS_PASSWORD";

  /** {@link EnvSecrets#fromEnv}: the variable's value, a check placeholder, or null after an error. */
  interface Secrets {
    String fromEnv(Node node, String path, String what);
  }

  private StoreAccessSection() {}

  /**
   * The access settings; {@link RedisAccess#DEFAULT} when neither key is written, {@code null}
   * after reporting an error.
   *
   * @param redis whether the store is Redis (both keys apply only to it)
   * @param urls the store URLs read so far, with their nodes (for the checks that relate them)
   */
  static RedisAccess read(Walker w, Walker.Fields f, boolean redis, List<URI> urls, List<Node> urlNodes,
      Path baseDir, boolean strict, List<String> warnings, Secrets secrets) {
    int before = w.errors().size();
    for (String key : KEYS) {
      if (f.has(key) && !redis) {
        w.error(f.get(key), Messages.onlyForRedis("store." + key, "memory"));
      }
    }
    if (!redis) {
      return w.errors().size() == before ? RedisAccess.DEFAULT : null;
    }
    Optional<String> passwordEnv = Optional.empty();
    Optional<String> password = Optional.empty();
    if (f.has("password_env")) {
      String value = secrets.fromEnv(f.get("password_env"), "store.password_env", "the redis password");
      if (value != null) {
        password = Optional.of(value);
        passwordEnv = Optional.ofNullable(w.string(f.get("password_env"), "store.password_env"));
      }
      for (int i = 0; i < urls.size(); i++) {
        String userInfo = urls.get(i).getRawUserInfo();
        if (userInfo != null && userInfo.contains(":")) {
          w.error(urlNodes.get(i), "store.url carries a password and store.password_env gives one too;"
              + " expected only the user name in the url, e.g. rediss://sluice@redis.internal:6380");
        }
      }
    } else {
      for (int i = 0; i < urls.size(); i++) {
        String userInfo = urls.get(i).getRawUserInfo();
        if (userInfo != null && userInfo.indexOf(':') >= 0 && userInfo.indexOf(':') < userInfo.length() - 1
            && !written(urlNodes.get(i)).contains("${")) {
          warnings.add("store.url carries a password written in the policy file: whoever reads the file or"
              + " its history has it; expected the user in the url and the password in an environment"
              + " variable (" + EXAMPLE_ENV + ")");
          break;
        }
      }
    }
    Optional<Path> ca = Optional.empty();
    boolean insecure = false;
    if (f.has("tls")) {
      Walker.Fields t = w.fields(f.get("tls"), "store.tls", TLS);
      if (t != null) {
        if (t.has("ca_file")) {
          ca = GatewayTls.file(w, t.get("ca_file"), "store.tls.ca_file", baseDir, strict, warnings);
        }
        if (t.has("insecure_skip_verify")) {
          Boolean b = w.choice(t.get("insecure_skip_verify"), "store.tls.insecure_skip_verify",
              Map.of("true", true, "false", false));
          insecure = Boolean.TRUE.equals(b);
          if (insecure && t.has("ca_file")) {
            w.error(t.get("insecure_skip_verify"), "store.tls: insecure_skip_verify: true contradicts"
                + " ca_file (a CA is only used to verify); expected one of them");
          }
        }
        boolean anyTls = urls.stream().anyMatch(u -> "rediss".equalsIgnoreCase(u.getScheme()));
        if (!anyTls && !urls.isEmpty()) {
          w.error(f.get("tls"), "store.tls applies only to rediss:// urls and store.url has none;"
              + " expected rediss://host:port (TLS) or no store.tls");
        }
      }
    }
    if (w.errors().size() != before) {
      return null;
    }
    return new RedisAccess(passwordEnv, password, ca, insecure);
  }

  /** The value as written in the file, before ${VAR} substitution (same marks, see EnvSubstitution). */
  private static String written(Node node) {
    Mark start = node.getStartMark();
    Mark end = node.getEndMark();
    if (start == null || end == null || start.getBuffer() == null) {
      return "";
    }
    int[] buffer = start.getBuffer();
    int from = Math.max(0, start.getIndex());
    int to = Math.min(buffer.length, end.getIndex());
    return from < to ? new String(buffer, from, to - from) : "";
  }
}
