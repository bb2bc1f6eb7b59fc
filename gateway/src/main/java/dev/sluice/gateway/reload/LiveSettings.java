package dev.sluice.gateway.reload;

import dev.sluice.config.SluiceConfig;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Which parts of a policy file a reload may change: the policies, defaults, exemptions, blocks and
 * client identity rules (everything in the engine's {@code PolicySet}). Everything else — listen
 * addresses, upstream, admin token, store type/url/timeout/on_error, headers, audit log, drain and
 * snapshot settings, and any section added later — is bound when the gateway starts, so a reload
 * that changes it is refused with a message saying a restart is needed.
 *
 * <p>Why reflection over {@link SluiceConfig}'s record components: a section added to the file
 * later is then "restart needed" by default, never silently ignored by a reload.
 */
final class LiveSettings {
  /** Components a reload applies (policies) or that carry no setting (source, warnings). */
  private static final Set<String> RELOADABLE = Set.of("source", "policies", "warnings");
  /** Component paths whose file key differs from the snake-cased component name. */
  private static final Map<String, String> FILE_KEYS = Map.of(
      "gateway.adminToken", "gateway.admin_token_env",
      "store.urls", "store.url",
      "lifecycle.drainGrace", "gateway.drain_grace",
      "lifecycle.shutdownTimeout", "gateway.shutdown_timeout",
      "lifecycle.snapshot", "store.snapshot",
      "auditLog", "audit_log");

  private LiveSettings() {}

  /** One sentence per changed setting that needs a restart; empty when the reload may proceed. */
  static List<String> restartNeeded(String file, SluiceConfig running, SluiceConfig next) {
    List<String> changed = new ArrayList<>();
    for (RecordComponent c : SluiceConfig.class.getRecordComponents()) {
      if (RELOADABLE.contains(c.getName())) {
        continue;
      }
      Object a = read(c, running);
      Object b = read(c, next);
      if (Objects.equals(a, b)) {
        continue;
      }
      if (a != null && a.getClass().isRecord() && b != null && a.getClass() == b.getClass()) {
        for (RecordComponent inner : a.getClass().getRecordComponents()) {
          if (!Objects.equals(read(inner, a), read(inner, b))) {
            changed.add(fileKey(c.getName() + "." + inner.getName()));
          }
        }
      } else {
        changed.add(fileKey(c.getName()));
      }
    }
    List<String> messages = new ArrayList<>();
    for (String key : changed) {
      messages.add(file + ": " + key + " changed, and it cannot change by a reload; restart sluice to apply it"
          + " (nothing was reloaded: the running policies stay)");
    }
    return messages;
  }

  private static Object read(RecordComponent c, Object record) {
    try {
      return c.getAccessor().invoke(record);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot read " + c.getName(), e);
    }
  }

  /** {@code gateway.upstreamTimeout} → {@code gateway.upstream_timeout}. */
  static String fileKey(String path) {
    String mapped = FILE_KEYS.get(path);
    if (mapped != null) {
      return mapped;
    }
    StringBuilder sb = new StringBuilder(path.length() + 4);
    for (char ch : path.toCharArray()) {
      if (Character.isUpperCase(ch)) {
        sb.append('_').append(Character.toLowerCase(ch));
      } else {
        sb.append(ch);
      }
    }
    return sb.toString();
  }
}
