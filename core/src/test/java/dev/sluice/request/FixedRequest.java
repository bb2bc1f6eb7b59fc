package dev.sluice.request;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A {@link RequestView} whose every part is fixed when it is made, for tests of whatever decides
 * on one (the engine, listeners, the gateway's renderers). At most one value per header, names
 * matched case-insensitively. Reading a request without headers allocates nothing, so
 * allocation tests (DecideNowAllocationTest) measure only the engine.
 *
 * <p>Other modules' tests get it through sluice-core's test-jar.
 *
 * @param headerValues one value per header name (any case); an empty map for none
 */
public record FixedRequest(String method, String path, String rawQuery, InetAddress peerAddress,
    Map<String, String> headerValues) implements RequestView {

  public FixedRequest {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(peerAddress, "peerAddress");
    Map<String, String> lower = new HashMap<>();
    headerValues.forEach((name, value) -> lower.put(name.toLowerCase(Locale.ROOT), value));
    headerValues = Map.copyOf(lower);
  }

  /** A {@code GET} of {@code path} from {@code peer}, without query or headers. */
  public static FixedRequest get(String path, InetAddress peer) {
    return new FixedRequest("GET", path, null, peer, Map.of());
  }

  @Override
  public List<String> headers(String name) {
    if (headerValues.isEmpty()) {
      return List.of();
    }
    String value = headerValues.get(name.toLowerCase(Locale.ROOT));
    return value == null ? List.of() : List.of(value);
  }
}
