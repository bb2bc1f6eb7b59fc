/**
 * Where bucket state lives: the {@link dev.sluice.store.Store} SPI and the bounded in-memory store.
 *
 * <p>A store decides one request against one bucket ({@link dev.sluice.store.BucketKey} + {@link
 * dev.sluice.store.BucketSpec}) atomically and reports a {@link dev.sluice.store.Consumption}.
 * {@link dev.sluice.store.MemoryStore} runs the algorithm steps in-process (a one-limit GCRA
 * bucket lock-free, {@code GcraCell}; others under their lock, {@code LockedBucket}) and never
 * holds more than {@code max_keys} buckets; shared backends (Redis) implement the same
 * SPI and pass the same contract test suite ({@code StoreContractTest} in the core test-jar).
 *
 * <p>For abuse control the SPI also refunds tokens, counts offences, keeps {@link
 * dev.sluice.store.Ban}s shared by every instance, and hands out concurrency permits with a lease.
 *
 * <p>Bounds never evict live state: the memory store drops only full buckets ({@code
 * BucketTable}), and bounds offence records ({@code OffenceTable}) and bans ({@code BanTable})
 * per policy, refusing new entries beyond a share ({@link dev.sluice.store.StoreFullException},
 * {@link dev.sluice.store.PenaltyRefusedException}) so that state one identity creates can never
 * push out state that constrains another.
 */
package dev.sluice.store;
