package dev.sluice.config;

import dev.sluice.policy.OnError;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads the {@code store:} section into {@link StoreSettings}: the type, its URLs, {@code
 * on_error}, {@code timeout} and {@code max_keys}; the Redis credentials and TLS through {@link
 * StoreAccessSection}. Keys that apply to one store type only are errors on the other.
 */
final class StoreSection {
  static final List<String> FIELDS =
      List.of("type", "url", "on_error", "timeout", "max_keys", "snapshot", "password_env", "tls");
  private static final Map<String, StoreType> STORE_TYPES = Walker.byName(StoreType.values(), StoreType::configName);
  private static final Map<String, OnError> ON_ERRORS = Walker.byName(OnError.values(), OnError::configName);

  private StoreSection() {}

  /**
   * The settings ({@link StoreSettings#defaults()} when the section is absent), or null after
   * reporting an error.
   *
   * @param strictEnv whether an unset variable or absent file is an error ({@code serve}) or a
   *     warning ({@code check})
   * @param warnings where the section's warnings go
   */
  static StoreSettings read(Walker w, Node node, Path baseDir, boolean strictEnv, List<String> warnings,
      StoreAccessSection.Secrets secrets) {
    if (node == null) {
      return StoreSettings.defaults();
    }
    Walker.Fields f = w.fields(node, "store", FIELDS);
    if (f == null) {
      return null;
    }
    int before = w.errors().size();
    StoreType type = f.has("type") ? w.choice(f.get("type"), "store.type", STORE_TYPES) : StoreType.MEMORY;
    OnError onError = f.has("on_error") ? w.choice(f.get("on_error"), "store.on_error", ON_ERRORS) : OnError.ALLOW;
    Duration timeout = f.has("timeout")
        ? w.duration(f.get("timeout"), "store.timeout", StoreSettings.MAX_TIMEOUT) : StoreSettings.DEFAULT_TIMEOUT;
    long maxKeys = StoreSettings.DEFAULT_MAX_KEYS;
    if (f.has("max_keys")) {
      Long n = w.integer(f.get("max_keys"), "store.max_keys", 1, Long.MAX_VALUE);
      maxKeys = n == null ? maxKeys : n;
    }
    List<URI> urls = new ArrayList<>();
    List<Node> urlNodes = new ArrayList<>();
    if (f.has("url")) {
      List<Node> items = w.oneOrMany(f.get("url"), "store.url");
      if (items != null) {
        if (items.isEmpty()) {
          w.error(f.get("url"), Messages.emptyList("store.url", "redis://127.0.0.1:6379"));
        }
        for (int i = 0; i < items.size(); i++) {
          URI uri = w.url(items.get(i), items.size() == 1 ? "store.url" : "store.url[" + i + "]",
              Set.of("redis", "rediss"), "a redis:// or rediss:// URL such as redis://127.0.0.1:6379", true);
          if (uri != null) {
            urls.add(uri);
            urlNodes.add(items.get(i));
          }
        }
      }
    }
    if (type == StoreType.MEMORY && f.has("url")) {
      w.error(f.get("url"), Messages.onlyForRedis("store.url", "memory"));
    }
    if (type == StoreType.REDIS && !f.has("url")) {
      w.error(node, Messages.missing("store.url", "url: redis://127.0.0.1:6379"));
    }
    if (type == StoreType.REDIS && f.has("max_keys")) {
      w.error(f.get("max_keys"), Messages.onlyForMemory("store.max_keys"));
    }
    RedisAccess access = StoreAccessSection.read(w, f, type != StoreType.MEMORY, urls, urlNodes, baseDir,
        strictEnv, warnings, secrets);
    if (w.errors().size() != before || type == null || onError == null || timeout == null || access == null) {
      return null;
    }
    return new StoreSettings(type, urls, onError, timeout, maxKeys, access);
  }
}
