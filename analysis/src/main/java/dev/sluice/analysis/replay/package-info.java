/**
 * {@code sluice replay}: an access log through the real {@link dev.sluice.engine.Engine} of a
 * policy file, on a virtual clock set to each line's time and a fresh memory store, with no
 * network; per policy what would have been limited.
 */
package dev.sluice.analysis.replay;
