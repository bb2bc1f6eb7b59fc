package dev.sluice.gateway.decision;

import dev.sluice.identity.IdentityKind;
import dev.sluice.request.RequestView;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * One parsed {@code POST /v1/decide} body, as the engine reads a request: the method, the path
 * normalised exactly as the gateway normalises a request target, the application's {@code peer}
 * (its WSGI {@code REMOTE_ADDR}) and {@code headers} for the trusted-proxy walk and header
 * identities, the {@code identities} it asserts, and its {@code body} fields for {@code
 * body:<field>} identities.
 *
 * <p>The {@code body} object is handed to the engine as the JSON bytes the application sent, with
 * {@code Content-Type: application/json} and a {@code Content-Length} of their length, so {@code
 * body:} identities are read by the same code, with the same rules, as a body the gateway buffered
 * (a body longer than {@link RequestView#BODY_PREFIX_LIMIT} gives no body identity).
 *
 * <p>Built by {@link DecideParser}; read by one thread at a time, like every {@link RequestView}.
 */
final class DecideRequest implements RequestView {
  final String method;
  final String path;
  final String rawQuery;
  final InetAddress peer;
  private final String[] headerNames;
  private final String[] headerValues;
  private final int headerCount;
  private final String user;
  private final String session;
  private final String apiKey;
  /** Asserted {@code header:<Name>} identities: names (as written) and values, parallel. */
  private final String[] assertedNames;
  private final String[] assertedValues;
  private final int assertedCount;
  private final byte[] body;
  private final int bodyLength;

  DecideRequest(String method, String path, String rawQuery, InetAddress peer,
      String[] headerNames, String[] headerValues, int headerCount,
      String user, String session, String apiKey,
      String[] assertedNames, String[] assertedValues, int assertedCount,
      byte[] body, int bodyLength) {
    this.method = method;
    this.path = path;
    this.rawQuery = rawQuery;
    this.peer = peer;
    this.headerNames = headerNames;
    this.headerValues = headerValues;
    this.headerCount = headerCount;
    this.user = user;
    this.session = session;
    this.apiKey = apiKey;
    this.assertedNames = assertedNames;
    this.assertedValues = assertedValues;
    this.assertedCount = assertedCount;
    this.body = body;
    this.bodyLength = bodyLength;
  }

  @Override
  public String method() {
    return method;
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public String rawQuery() {
    return rawQuery;
  }

  @Override
  public InetAddress peerAddress() {
    return peer;
  }

  @Override
  public List<String> headers(String name) {
    if (body != null) {
      // The body is the JSON the application sent in "body"; these describe it, not the app's request.
      if (name.equalsIgnoreCase("Content-Type")) {
        return List.of("application/json");
      }
      if (name.equalsIgnoreCase("Content-Length")) {
        return List.of(Integer.toString(bodyLength));
      }
      if (name.equalsIgnoreCase("Content-Encoding") || name.equalsIgnoreCase("Transfer-Encoding")) {
        return List.of();
      }
    }
    List<String> found = null;
    for (int i = 0; i < headerCount; i++) {
      if (headerNames[i].equalsIgnoreCase(name)) {
        if (found == null) {
          found = new ArrayList<>(2);
        }
        found.add(headerValues[i]);
      }
    }
    return found == null ? List.of() : found;
  }

  @Override
  public String header(String name) {
    if (body != null) {
      List<String> values = headers(name);
      return values.isEmpty() ? null : values.get(0);
    }
    for (int i = 0; i < headerCount; i++) {
      if (headerNames[i].equalsIgnoreCase(name)) {
        return headerValues[i];
      }
    }
    return null;
  }

  @Override
  public byte[] bodyPrefix() {
    return body;
  }

  @Override
  public String assertedIdentity(IdentityKind kind, String parameter) {
    return switch (kind) {
      case USER -> user;
      case SESSION -> session;
      case API_KEY -> apiKey;
      case HEADER -> {
        for (int i = 0; i < assertedCount; i++) {
          if (assertedNames[i].equalsIgnoreCase(parameter)) {
            yield assertedValues[i];
          }
        }
        yield null;
      }
      default -> null;
    };
  }

  @Override
  public String via() {
    return "decision";
  }

  @Override
  public String toString() {
    return method + " " + path;
  }
}
