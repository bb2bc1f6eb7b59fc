package dev.sluice.identity;

/** The kinds of identity a request can be limited by ({@code by:} in the policy file). */
public enum IdentityKind {
  IP("ip"),
  API_KEY("api_key"),
  USER("user"),
  SESSION("session"),
  /** {@code header:<Name>}: the value of a request header. */
  HEADER("header"),
  /** One shared bucket per policy. */
  GLOBAL("global"),
  /**
   * {@code body:<field>}: a top-level field of a JSON or form request body (SPEC §7), read from
   * {@link dev.sluice.request.RequestView#bodyPrefix()}; hashed like every client-chosen value.
   */
  BODY("body"),
  /**
   * Several identities joined with {@code +} ({@code ip+body:username}): present only when every
   * part is, see {@link IdentitySpec#parts()}. Written in a policy file as its parts joined with
   * {@code +}; {@code composite} is only its name in code and labels, not a valid {@code by} entry.
   */
  COMPOSITE("composite");

  private final String configName;

  IdentityKind(String configName) {
    this.configName = configName;
  }

  /** The name used in the policy file ({@code ip}, {@code header}, {@code body}; {@code composite} for composites). */
  public String configName() {
    return configName;
  }
}
