package dev.sluice.store.redis;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.lettuce.core.SslVerifyMode;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the store's URLs become Lettuce connections: credentials ({@code redis://user:pass@…} or the
 * user in the URL and the password from the environment), TLS for {@code rediss://} (the system
 * trust store or {@code store.tls.ca_file}; peer and host name verified unless
 * {@code insecure_skip_verify}), and the startup failure turned into one clear line.
 */
final class RedisConnections {
  private static final Logger log = LoggerFactory.getLogger(RedisConnections.class);

  private RedisConnections() {}

  /** One Lettuce URI per store URL, with the handshake timeout and the credentials. */
  static List<RedisURI> uris(RedisStoreOptions options, Duration connectTimeout) {
    RedisSecurity security = options.security();
    List<RedisURI> uris = new ArrayList<>();
    for (URI url : options.urls()) {
      RedisURI uri;
      if (security.password().isPresent()) {
        // The user info names only the ACL user here (RedisStoreOptions refuses a password too);
        // Lettuce alone would read "rediss://sluice@host" as the password "sluice".
        String user = url.getUserInfo();
        uri = RedisURI.create(withoutUserInfo(url));
        if (user == null || user.isEmpty()) {
          uri.setAuthentication(security.password().get().toCharArray());
        } else {
          uri.setAuthentication(user, security.password().get());
        }
      } else {
        uri = RedisURI.create(url);
      }
      uri.setTimeout(connectTimeout); // the handshake's; commands use their own timeouts
      if (uri.isSsl()) {
        // FULL = chain and host name (SNI is sent for host names); NONE only when asked by name.
        uri.setVerifyPeer(security.insecureSkipVerify() ? SslVerifyMode.NONE : SslVerifyMode.FULL);
      }
      uris.add(uri);
    }
    if (options.tls() && security.insecureSkipVerify()) {
      log.warn("store.tls.insecure_skip_verify is true: the certificate of the redis store at {} is NOT"
          + " verified (any certificate for any host name is accepted); anyone on the path can read"
          + " and change every decision. Use store.tls.ca_file instead.", target(options));
    }
    return uris;
  }

  /** The TLS options: the CA file's certificates when given, else the JDK's trust store. */
  static Optional<SslOptions> ssl(RedisStoreOptions options, Duration connectTimeout) {
    if (!options.tls()) {
      return Optional.empty();
    }
    SslOptions.Builder builder = SslOptions.builder().jdkSslProvider().handshakeTimeout(connectTimeout);
    options.security().caFile().ifPresent(ca -> builder.trustManager(ca.toFile()));
    return Optional.of(builder.build());
  }

  /** Every URL with its password masked, comma separated. */
  static String target(RedisStoreOptions options) {
    boolean userOnly = options.security().password().isPresent();
    return String.join(", ", options.urls().stream().map(u -> RedisMessages.redact(u, userOnly)).toList());
  }

  /**
   * Why connecting failed, in one line an operator acts on: credentials refused, a permission
   * missing, TLS handshake refused (with the JDK's reason), or Lettuce's own message with its
   * causes. The cluster client reports each seed's failure as a suppressed exception or in a
   * multi-line message; those are searched too.
   */
  static String why(Throwable failure) {
    List<Throwable> all = new ArrayList<>();
    collect(failure, all, 0);
    for (Throwable t : all) {
      String message = String.valueOf(t.getMessage()).strip();
      String upper = message.toUpperCase(Locale.ROOT);
      if (upper.startsWith("WRONGPASS") || upper.startsWith("NOAUTH") || upper.contains("INVALID PASSWORD")) {
        return "redis rejected the credentials (" + oneLine(message)
            + "); check the user in store.url and the password (store.password_env)";
      }
      if (upper.startsWith("NOPERM")) {
        return "the redis user lacks a permission Sluice needs (" + oneLine(message)
            + "); see docs/distributed.md for the ACL line";
      }
    }
    for (Throwable t : all) {
      if (t instanceof SSLException) {
        return tlsFailed(RedisMessages.describe(t));
      }
    }
    for (Throwable t : all) { // the cluster client folds each seed's failure into its message
      String message = String.valueOf(t.getMessage());
      for (String marker : TLS_MARKERS) {
        int at = message.indexOf(marker);
        if (at >= 0) {
          int eol = message.indexOf('\n', at);
          return tlsFailed(message.substring(at, eol < 0 ? message.length() : eol));
        }
      }
    }
    StringBuilder chain = new StringBuilder();
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (chain.length() > 0) {
        chain.append(": ");
      }
      chain.append(RedisMessages.describe(t));
    }
    return oneLine(chain.toString());
  }

  /** Texts of the JDK's handshake failures, as they appear inside the cluster client's messages. */
  private static final List<String> TLS_MARKERS = List.of(
      "PKIX path building failed", "No subject alternative", "No name matching", "handshake timed out",
      "Received fatal alert", "not an SSL/TLS record");

  private static String tlsFailed(String reason) {
    String hint = reason.contains("timed out")
        ? "is that port redis-server's --tls-port? a plain port never answers the handshake"
        : "check store.tls.ca_file and that the certificate names the host in store.url";
    return "TLS handshake failed (" + oneLine(reason) + "); " + hint;
  }

  private static void collect(Throwable t, List<Throwable> into, int depth) {
    if (t == null || depth > 8 || into.contains(t)) {
      return;
    }
    into.add(t);
    for (Throwable s : t.getSuppressed()) {
      collect(s, into, depth + 1);
    }
    collect(t.getCause(), into, depth + 1);
  }

  private static String oneLine(String text) {
    return text.replaceAll("\\s+", " ").strip();
  }

  private static URI withoutUserInfo(URI url) {
    try {
      return new URI(url.getScheme(), null, url.getHost(), url.getPort(), url.getRawPath() == null
          ? null : url.getPath(), url.getQuery(), url.getFragment());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("redis store url '" + RedisMessages.redact(url) + "': " + e.getMessage(), e);
    }
  }
}
