/**
 * Which requests a policy applies to: request-target normalisation ({@link
 * dev.sluice.match.PathNormalizer}), path patterns ({@link dev.sluice.match.PathPattern}) and the
 * method + paths matcher of a policy ({@link dev.sluice.match.RequestMatcher}).
 *
 * <p>Matching always runs on the normalised path, the same path the upstream framework routes, so
 * that encoded characters, dot-segments or doubled slashes cannot be used to slip past a policy.
 */
package dev.sluice.match;
