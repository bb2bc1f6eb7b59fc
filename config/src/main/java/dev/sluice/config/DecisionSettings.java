package dev.sluice.config;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * The {@code decision:} section (SPEC §8): the decision API that a Flask middleware (or any
 * application) asks before handling a request.
 *
 * @param listen where the decision API listens ({@code decision.listen}); keep it private
 *     (loopback or a private network): it has no token
 * @param ticketLease how long a ticket waits for its {@code /v1/settle} ({@code
 *     decision.ticket_lease}, default {@link #DEFAULT_TICKET_LEASE}); an unsettled ticket then
 *     expires: its concurrency permits are released and its {@code count:} tokens refunded, as
 *     when the gateway's exchange ends without an upstream answer
 */
public record DecisionSettings(InetSocketAddress listen, Duration ticketLease) {
  /** Default {@code decision.ticket_lease}: longer than any request a gunicorn worker serves by default (30 s). */
  public static final Duration DEFAULT_TICKET_LEASE = Duration.ofSeconds(60);
  /** Shortest {@code decision.ticket_lease}. */
  public static final Duration MIN_TICKET_LEASE = Duration.ofSeconds(1);
  /** Longest {@code decision.ticket_lease}. */
  public static final Duration MAX_TICKET_LEASE = Duration.ofHours(24);

  /**
   * @throws IllegalArgumentException when the lease is outside {@link #MIN_TICKET_LEASE}..{@link
   *     #MAX_TICKET_LEASE}
   */
  public DecisionSettings {
    Objects.requireNonNull(listen, "listen");
    Objects.requireNonNull(ticketLease, "ticketLease");
    if (ticketLease.compareTo(MIN_TICKET_LEASE) < 0 || ticketLease.compareTo(MAX_TICKET_LEASE) > 0) {
      throw new IllegalArgumentException("decision.ticket_lease must be between 1s and 24h, got "
          + dev.sluice.time.DurationText.format(ticketLease));
    }
  }

  /** Settings listening on {@code listen} with the default ticket lease. */
  public DecisionSettings(InetSocketAddress listen) {
    this(listen, DEFAULT_TICKET_LEASE);
  }
}
