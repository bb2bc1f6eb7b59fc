/**
 * The rate-limiting algorithms as pure step functions over explicit state and time.
 *
 * <p>{@link dev.sluice.algorithm.Gcra} keeps one timestamp per limit and key and allows bursts;
 * {@link dev.sluice.algorithm.SlidingWindow} keeps the last N admission times and guarantees at
 * most N in any window. Both work in integer nanoseconds (no {@code double}), take {@code now} as
 * an argument instead of reading a clock, and offer an all-or-none step over several limits
 * ({@code consumeAll}) returning an {@link dev.sluice.algorithm.Admission}. Stores (memory, and
 * the Redis script that mirrors them) own the state and its locking.
 */
package dev.sluice.algorithm;
