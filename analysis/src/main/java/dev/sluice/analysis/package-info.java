/**
 * Offline analysis of access logs over the real engine: {@code sluice replay} ({@link
 * dev.sluice.analysis.replay}) and {@code sluice tune} ({@link dev.sluice.analysis.tune}), reading
 * logs through {@link dev.sluice.analysis.logs} and drawing with {@link dev.sluice.analysis.plot}.
 */
package dev.sluice.analysis;
