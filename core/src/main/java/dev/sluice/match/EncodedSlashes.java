package dev.sluice.match;

/**
 * What an encoded slash ({@code %2F} or {@code %2f}) in a request path means for matching
 * ({@code gateway.encoded_slashes}, SPEC §2). Policies must match the path the upstream will route,
 * so the right value is the one that describes the upstream; see {@code docs/security.md}.
 */
public enum EncodedSlashes {
  /**
   * {@code %2F} is a path separator, as in every WSGI server (gunicorn, Werkzeug's dev server,
   * uWSGI): they decode the whole path into {@code PATH_INFO} before the framework routes it, so
   * {@code /auth%2Flogin} reaches the view of {@code /auth/login}. The default.
   */
  DECODE("decode"),
  /**
   * A target whose path contains {@code %2F} is refused ({@code 400}) before any policy runs. Safe
   * in front of any upstream; what Tomcat and Jetty do by default.
   */
  REJECT("reject"),
  /**
   * {@code %2F} is a literal character inside its segment ({@code /a%2Fb} is one segment), for
   * upstreams that route on the still-encoded path and never treat {@code %2F} as a separator.
   * Wrong in front of a WSGI app: there it lets {@code /auth%2Flogin} skip the policies of
   * {@code /auth/login}.
   */
  KEEP("keep");

  private final String configName;

  EncodedSlashes(String configName) {
    this.configName = configName;
  }

  /** The name used in the policy file: {@code decode}, {@code reject} or {@code keep}. */
  public String configName() {
    return configName;
  }
}
