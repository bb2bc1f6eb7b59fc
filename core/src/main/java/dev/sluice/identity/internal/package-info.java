/**
 * Internals of the identity package that must cross a package boundary but are not Sluice API: a
 * strict JSON parser for JWT and JWKS documents. Nothing here may appear in a public signature of
 * another package; it may change without notice.
 */
package dev.sluice.identity.internal;
