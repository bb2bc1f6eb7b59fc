/**
 * Who a request is: the client address behind trusted proxies ({@link
 * dev.sluice.identity.ClientAddress}, {@link dev.sluice.identity.Cidr}, {@link
 * dev.sluice.identity.CidrSet}, {@link dev.sluice.identity.IpHeader}) and the identities policies
 * limit by ({@link dev.sluice.identity.IdentitySpec}, {@link dev.sluice.identity.Identity}), derived
 * by {@link dev.sluice.identity.IdentityResolver}.
 *
 * <p>Rules that hold everywhere here: client-supplied text is never resolved through DNS; secrets
 * and personal data (API keys, cookies, header values, body fields) only ever appear hashed in an {@code Identity}; a {@code user}
 * identity exists only for a verified, time-valid JWT; a {@code body:} identity only for a body
 * known to be complete and unambiguous. See {@code docs/identity.md}.
 */
package dev.sluice.identity;
