/**
 * Time as the engine sees it: an injectable monotonic nanosecond {@link dev.sluice.time.Clock},
 * and {@link dev.sluice.time.ManualClock} so tests move time explicitly instead of sleeping.
 */
package dev.sluice.time;
