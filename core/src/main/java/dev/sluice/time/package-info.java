/** Time as the engine sees it: an injectable monotonic nanosecond {@link dev.sluice.time.Clock}. */
package dev.sluice.time;
