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
  GLOBAL("global");

  private final String configName;

  IdentityKind(String configName) {
    this.configName = configName;
  }

  public String configName() {
    return configName;
  }
}
