package dev.sluice.config;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads {@code gateway.tls} and {@code gateway.upstream_tls} into {@link TlsSettings} (for
 * {@link GatewaySection}, which reads the rest of {@code gateway:}).
 *
 * <p>The files are read by the gateway when it starts (and on {@code SIGHUP}), not here; here a
 * missing file is an error for {@code serve} (fail fast, with the position) and a warning for
 * {@code check}, which may run where the production certificates are not.
 */
final class GatewayTls {
  private static final List<String> TLS = List.of("cert_file", "key_file");
  private static final List<String> UPSTREAM_TLS = List.of("ca_file", "insecure_skip_verify");

  private GatewayTls() {}

  /**
   * The TLS settings, {@link TlsSettings#DEFAULT} when neither key is written; {@code null} after
   * reporting an error.
   *
   * @param strictFiles whether an absent file is an error ({@code serve}) or a warning ({@code check})
   * @param warnings where {@code check}'s warnings go
   */
  static TlsSettings read(Walker w, Walker.Fields f, Path baseDir, boolean strictFiles, List<String> warnings) {
    int before = w.errors().size();
    Optional<Path> cert = Optional.empty();
    Optional<Path> key = Optional.empty();
    if (f.has("tls")) {
      Walker.Fields t = w.fields(f.get("tls"), "gateway.tls", TLS);
      if (t != null) {
        if (!t.has("cert_file")) {
          w.error(t.node(), Messages.missing("gateway.tls.cert_file", "cert_file: /etc/sluice/tls.crt"));
        }
        if (!t.has("key_file")) {
          w.error(t.node(), Messages.missing("gateway.tls.key_file", "key_file: /etc/sluice/tls.key"));
        }
        if (t.has("cert_file")) {
          cert = file(w, t.get("cert_file"), "gateway.tls.cert_file", baseDir, strictFiles, warnings);
        }
        if (t.has("key_file")) {
          key = file(w, t.get("key_file"), "gateway.tls.key_file", baseDir, strictFiles, warnings);
        }
      }
    }
    Optional<Path> ca = Optional.empty();
    boolean insecure = false;
    if (f.has("upstream_tls")) {
      Walker.Fields u = w.fields(f.get("upstream_tls"), "gateway.upstream_tls", UPSTREAM_TLS);
      if (u != null) {
        if (u.has("ca_file")) {
          ca = file(w, u.get("ca_file"), "gateway.upstream_tls.ca_file", baseDir, strictFiles, warnings);
        }
        if (u.has("insecure_skip_verify")) {
          Boolean b = w.choice(u.get("insecure_skip_verify"), "gateway.upstream_tls.insecure_skip_verify",
              Map.of("true", true, "false", false));
          insecure = Boolean.TRUE.equals(b);
          if (insecure && u.has("ca_file")) {
            w.error(u.get("insecure_skip_verify"), "gateway.upstream_tls: insecure_skip_verify: true contradicts"
                + " ca_file (a CA is only used to verify); expected one of them");
          }
        }
      }
    }
    if (w.errors().size() != before) {
      return null;
    }
    return new TlsSettings(cert, key, ca, insecure);
  }

  /** The resolved file name; absent files are an error or (for {@code check}) a warning. */
  static Optional<Path> file(
      Walker w, Node node, String path, Path baseDir, boolean strictFiles, List<String> warnings) {
    String name = w.nonBlank(node, path);
    if (name == null) {
      return Optional.empty();
    }
    Path file;
    try {
      file = baseDir.resolve(name).normalize();
    } catch (InvalidPathException e) {
      w.error(node, Messages.cannotReadReferenced(path, name, "not a valid file name"));
      return Optional.empty();
    }
    if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
      String problem = Files.exists(file) ? "not a readable regular file" : "no such file (looked for " + file + ")";
      if (strictFiles) {
        w.error(node, Messages.cannotReadReferenced(path, name, problem));
      } else {
        warnings.add(Messages.cannotReadReferenced(path, name, problem)
            + "; serve reads it at start, so it must exist where sluice runs");
      }
    }
    return Optional.of(file);
  }
}
