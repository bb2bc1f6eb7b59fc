/**
 * The Redis store: bucket state shared by any number of gateway instances in one Redis (6+/7,
 * Valkey) or Redis Cluster, decided by one server-side script per request with the server's clock.
 * Abuse control (refunds, offence counts, bans, concurrency permits) runs the same way, through a
 * second script. Entry point:
 * {@link dev.sluice.store.redis.RedisStore#connect(RedisStoreOptions)}. Design and operations:
 * {@code docs/distributed.md}.
 */
package dev.sluice.store.redis;
