/**
 * A limit ({@code N/period burst B}) and its grammar.
 *
 * <p>{@link dev.sluice.limit.Limit} is the validated value; {@link dev.sluice.limit.LimitParser}
 * reads the policy-file syntax ({@code "100/minute"}, {@code "5 per second"}, {@code "10/15
 * minutes burst 20"}) and writes it back in canonical form. Syntax errors are {@link
 * dev.sluice.limit.LimitSyntaxException}s carrying the column of the offending token, so the
 * configuration layer can point at {@code file:line:column}. All messages of the package live in
 * one package-private class.
 */
package dev.sluice.limit;
