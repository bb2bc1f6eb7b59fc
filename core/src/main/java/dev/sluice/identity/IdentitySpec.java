package dev.sluice.identity;

/**
 * One entry of a {@code by:} chain: a kind, plus the header name for {@code header:<Name>}.
 *
 * @param kind the identity kind
 * @param parameter the header name for {@link IdentityKind#HEADER}, else {@code null}
 */
public record IdentitySpec(IdentityKind kind, String parameter) {

  /** Parses {@code ip}, {@code api_key}, {@code user}, {@code session}, {@code global}, {@code header:<Name>}. */
  public static IdentitySpec parse(String text) {
    throw new IllegalStateException("IdentitySpec.parse is being implemented");
  }

  /** The spec as written in a policy file, e.g. {@code header:X-Tenant}. */
  @Override
  public String toString() {
    return parameter == null ? kind.configName() : kind.configName() + ":" + parameter;
  }
}
