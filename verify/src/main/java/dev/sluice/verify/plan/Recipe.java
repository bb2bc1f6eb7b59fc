package dev.sluice.verify.plan;

import java.util.List;
import java.util.Set;

/**
 * Which identities the requests of one check carry. Kinds in {@code constant} get one fresh value
 * for the whole check (the identity the policy must count by); kinds in {@code varying} get a new
 * fresh value on every request, so a deployment that counts by another identity than the file
 * says never refuses and the check fails. {@code fixedIp} / {@code fixedApiKey} replace the fresh
 * value with a given one (an exempt or blocked address or key).
 *
 * @param constant identity kinds (config names: {@code ip}, {@code api_key}, {@code user},
 *     {@code session}, {@code header:Name}) kept for the whole check
 * @param varying identity kinds changed on every request
 * @param fixedIp an address to send instead of a fresh one, or {@code null}
 * @param fixedApiKey an API key to send instead of a fresh one, or {@code null}
 */
public record Recipe(Set<String> constant, Set<String> varying, String fixedIp, String fixedApiKey) {
  public Recipe {
    constant = Set.copyOf(constant);
    varying = Set.copyOf(varying);
  }

  /** {@code api_key (constant); ip varies} for the plan print-out. */
  public String describe() {
    StringBuilder sb = new StringBuilder();
    sb.append(constant.isEmpty() ? "(none)" : String.join("+", List.copyOf(new java.util.TreeSet<>(constant))));
    if (fixedIp != null) {
      sb.append(" ip=").append(fixedIp);
    }
    if (fixedApiKey != null) {
      sb.append(" api_key=(from the file)");
    }
    if (!varying.isEmpty()) {
      sb.append("; fresh per request: ").append(String.join(", ", new java.util.TreeSet<>(varying)));
    }
    return sb.toString();
  }
}
