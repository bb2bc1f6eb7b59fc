package dev.sluice.config;

import dev.sluice.identity.IdentityKind;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.identity.IdentitySpec;
import java.util.ArrayList;
import java.util.List;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * The {@code by} entries of {@code defaults} and the policies, remembered with their nodes as they
 * are read, so that once {@code clients:} is built each can be checked against the identity
 * sources it configures ({@link IdentityResolver#supports}).
 */
final class IdentityUses {
  private final Walker w;
  private final List<Node> identityNodes = new ArrayList<>();
  private final List<IdentitySpec> identitySpecs = new ArrayList<>();
  private final List<String> identityPaths = new ArrayList<>();

  IdentityUses(Walker w) {
    this.w = w;
  }

  /** A {@code by} value: one identity or a fallback list; {@code null} after reporting a bad entry. */
  List<IdentitySpec> read(Node node, String path) {
    List<Node> items = w.oneOrMany(node, path);
    if (items == null) {
      return null;
    }
    List<IdentitySpec> out = new ArrayList<>();
    boolean ok = true;
    for (int i = 0; i < items.size(); i++) {
      String itemPath = items.size() == 1 && items.get(0) == node ? path : path + "[" + i + "]";
      String text = w.nonBlank(items.get(i), itemPath);
      if (text == null) {
        ok = false;
        continue;
      }
      try {
        IdentitySpec spec = IdentitySpec.parse(text);
        out.add(spec);
        identitySpecs.add(spec);
        identityNodes.add(items.get(i));
        identityPaths.add(itemPath);
      } catch (IllegalArgumentException e) {
        w.error(items.get(i), Messages.prefixed(itemPath, e.getMessage()));
        ok = false;
      }
    }
    return ok ? out : null;
  }

  /**
   * A {@code by} entry whose source is not configured would silently never identify anyone (the
   * chain would always move on), so it is an error, as are exempt API keys nobody can send.
   *
   * @param apiKeySource whether {@code clients.api_key} configured a header or query parameter
   */
  void check(Walker.Fields top, IdentityResolver identity, boolean apiKeySource) {
    for (int i = 0; i < identitySpecs.size(); i++) {
      IdentitySpec spec = identitySpecs.get(i);
      List<IdentitySpec> parts = spec.kind() == IdentityKind.COMPOSITE ? spec.parts() : List.of(spec);
      for (IdentitySpec part : parts) {
        if (identity.supports(part) || assertable(top, part.kind())) {
          continue;
        }
        IdentityKind kind = part.kind();
        String needed = switch (kind) {
          case API_KEY -> "clients.api_key (e.g. api_key: { header: X-API-Key })";
          case USER -> "clients.user.jwt (e.g. user: { jwt: { hs256_secret_env: SLUICE_JWT_SECRET } })";
          case SESSION -> "clients.session (e.g. session: { cookie: session })";
          default -> "clients." + kind.configName();
        };
        w.error(identityNodes.get(i), Messages.identityNotConfigured(identityPaths.get(i), kind.configName(), needed));
        break;
      }
    }
    for (String section : List.of("exempt", "block")) {
      Node parent = top.get(section);
      if (!apiKeySource && parent instanceof MappingNode) {
        Node keys = w.nodeFor(section + ".api_keys", null);
        if (keys instanceof SequenceNode seq && !seq.getValue().isEmpty()) {
          w.error(keys, Messages.identityNotConfigured(section + ".api_keys", "api_key",
              "clients.api_key (e.g. api_key: { header: X-API-Key })"));
        }
      }
    }
  }

  /**
   * With the decision API the application may assert {@code user}, {@code session} and {@code
   * api_key} identities itself (SPEC §8), so those need no source in {@code clients:}.
   */
  private static boolean assertable(Walker.Fields top, IdentityKind kind) {
    return top.has("decision")
        && (kind == IdentityKind.USER || kind == IdentityKind.SESSION || kind == IdentityKind.API_KEY);
  }
}
