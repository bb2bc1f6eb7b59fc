package dev.sluice.store;

/**
 * A store that bounds offence records and penalty bans per policy and counts what the bound
 * refused ({@code sluice_penalties_refused_total}); both built-in stores implement it.
 */
public interface PenaltyBound {
  /**
   * Penalties not recorded because their policy's share of offence records or penalty bans was
   * full of live ones (each such request stayed an ordinary 429). Monotonic; thread-safe.
   */
  long penaltiesRefused();
}
