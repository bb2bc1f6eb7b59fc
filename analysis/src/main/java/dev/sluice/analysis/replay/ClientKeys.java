package dev.sluice.analysis.replay;

import dev.sluice.config.SluiceConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * What replay and tune need of {@code clients.api_key} that the loaded policy set does not expose:
 * where a raw API key goes on a request (header or query parameter), and the keys of its {@code
 * keys_file} (partners) as the short hashes identities carry. Read from the policy file the
 * configuration was loaded from, which the loader has already validated; {@code ${VAR}}
 * substitution is not applied to these three values.
 *
 * @param header the API key header, or {@code null}
 * @param query the API key query parameter, or {@code null}
 * @param keysFile short hash (16 hex digits, as in identities) → where it is listed ({@code
 *     keys_file line N}); empty without a keys file
 */
public record ClientKeys(String header, String query, Map<String, String> keysFile) {

  /** No API key configuration: a JSON log's API keys are then ignored. */
  public static final ClientKeys NONE = new ClientKeys(null, null, Map.of());

  /**
   * Reads {@code clients.api_key} of the file {@code config} was loaded from.
   *
   * @throws IOException when the policy file or its keys file cannot be read
   */
  public static ClientKeys of(SluiceConfig config) throws IOException {
    Path source = config.source();
    if (!Files.isRegularFile(source)) {
      return NONE;
    }
    Object root;
    try (Reader in = Files.newBufferedReader(source, StandardCharsets.UTF_8)) {
      root = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
    }
    Object apiKey = get(get(root, "clients"), "api_key");
    if (!(apiKey instanceof Map<?, ?>)) {
      return NONE;
    }
    String header = text(get(apiKey, "header"));
    String query = text(get(apiKey, "query"));
    String keysFile = text(get(apiKey, "keys_file"));
    Map<String, String> keys = new LinkedHashMap<>();
    if (keysFile != null) {
      Path parent = source.toAbsolutePath().getParent();
      Path file = parent == null ? Path.of(keysFile) : parent.resolve(keysFile);
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i).strip();
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        String hash = line.matches("[0-9a-f]{64}") ? line.substring(0, 16) : config.policies().identity().secretValue(line);
        if (hash != null) {
          keys.putIfAbsent(hash, "keys_file line " + (i + 1));
        }
      }
    }
    return new ClientKeys(header, query, Map.copyOf(keys));
  }

  private static Object get(Object map, String key) {
    return map instanceof Map<?, ?> m ? m.get(key) : null;
  }

  private static String text(Object value) {
    return value instanceof String s && !s.isBlank() ? s.strip() : null;
  }
}
