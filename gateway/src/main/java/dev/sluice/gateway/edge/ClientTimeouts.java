package dev.sluice.gateway.edge;

import dev.sluice.time.DurationText;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Deadlines for slow clients on one connection: the whole request head must arrive within {@code
 * gateway.header_timeout}, and a request body must not pause longer than {@code
 * gateway.body_timeout}. When one is missed, an {@link Expired} event goes down the pipeline; the
 * client handler answers {@code 408} (or closes, when a response has started) and closes the
 * connection.
 *
 * <p>Design. A trickling client resets any idle timer with every byte; a deadline measured from
 * the head's first byte does not. The head clock starts when the connection opens (for its first
 * request) or at the first byte read after the previous request ended, and stops when the decoder
 * produces the request head. The body clock measures the pause since the last byte read while a
 * body is expected. The request decoder drives it ({@link #read()} for every read, {@link
 * #decoded} for every message it produces): two handlers of their own around the decoder cost a
 * pipeline step for every read and every message under a keep-alive flood.
 *
 * <p>Timers. A timer is not scheduled and cancelled per request (under a keep-alive flood that
 * cost more than the rest of the bookkeeping): each deadline has at most one timer per
 * connection, left running across requests. Reads only record when a clock started; a timer that
 * fires early for the clock it finds (it was scheduled for an earlier request) schedules itself
 * for the time that clock has left, and one that finds no clock running stops until a clock starts
 * again. So a deadline is never missed early, and never later than its own length after it starts.
 *
 * <p>A deadline only counts time the gateway was reading: when it fires while reads are paused
 * (the gateway is deciding, connecting or waiting for the upstream to drain), the clock restarts.
 * So a slow upstream or store never makes a client "slow". Between requests with no byte at all,
 * the keep-alive idle timeout of the proxy applies instead.
 *
 * <p>Threading: one instance per channel; every method runs on the channel's event loop.
 */
public final class ClientTimeouts {
  /** Which deadline was missed: the {@code phase} label. */
  public enum Phase {
    /** The request head did not arrive within {@code header_timeout}. */
    HEAD("head"),
    /** The request body paused longer than {@code body_timeout}. */
    BODY("body");

    private final String label;

    Phase(String label) {
      this.label = label;
    }

    /** The metric label value. */
    public String label() {
      return label;
    }
  }

  /**
   * The user event fired when a deadline is missed.
   *
   * @param phase which deadline
   * @param detail a sentence for the {@code 408} problem body, naming the timeout as configured
   */
  public record Expired(Phase phase, String detail) {}

  private final long headNanos;
  private final long bodyNanos;
  private final String headText;
  private final String bodyText;
  private final EdgeMetrics metrics;
  private ChannelHandlerContext events;
  private boolean awaitingHead = true;
  /** Whether the head clock runs: from the head's first byte (or the connection's start) on. */
  private boolean headStarted;
  private long headStart;
  private boolean inBody;
  private long lastBodyRead;
  private ScheduledFuture<?> headTimer;
  private ScheduledFuture<?> bodyTimer;
  private boolean expired;

  /**
   * @param headerTimeout {@code gateway.header_timeout}
   * @param bodyTimeout {@code gateway.body_timeout}
   * @param metrics where expiries are counted; {@code null} for none
   */
  public ClientTimeouts(Duration headerTimeout, Duration bodyTimeout, EdgeMetrics metrics) {
    this.headNanos = headerTimeout.toNanos();
    this.bodyNanos = bodyTimeout.toNanos();
    this.headText = DurationText.format(headerTimeout);
    this.bodyText = DurationText.format(bodyTimeout);
    this.metrics = metrics;
  }

  /**
   * The connection became active; {@code ctx} is the request decoder's context, from which an
   * {@link Expired} event goes down the pipeline. Starts the first request's head clock.
   */
  public void active(ChannelHandlerContext ctx) {
    events = ctx;
    startHead();
  }

  /** Bytes were read from the client (called by the decoder before it decodes them). */
  public void read() {
    if (awaitingHead && !headStarted) {
      startHead();
    }
    if (inBody) {
      lastBodyRead = System.nanoTime();
    }
  }

  /** The decoder produced {@code msg}: a request head ends the head clock, a body starts its own. */
  public void decoded(Object msg) {
    if (msg instanceof HttpRequest) {
      awaitingHead = false;
      headStarted = false; // its timer, if any, finds no clock and stops
      if (!(msg instanceof LastHttpContent)) {
        inBody = true;
        lastBodyRead = System.nanoTime();
        if (bodyTimer == null && events != null) {
          bodyTimer = events.executor().schedule(this::bodyCheck, bodyNanos, TimeUnit.NANOSECONDS);
        }
      }
    }
    if (msg instanceof LastHttpContent) {
      inBody = false; // its timer, if any, finds no body and stops
      awaitingHead = true; // the next head's clock starts at its first byte
    }
  }

  /** The connection closed, or stopped speaking HTTP (a tunnel): no deadline applies any more. */
  public void stop() {
    expired = true;
    cancelHead();
    cancelBody();
  }

  private void startHead() {
    headStarted = true;
    headStart = System.nanoTime();
    if (headTimer == null && events != null && !expired) {
      headTimer = events.executor().schedule(this::headCheck, headNanos, TimeUnit.NANOSECONDS);
    }
  }

  private void headCheck() {
    headTimer = null;
    if (!awaitingHead || !headStarted || expired || events == null) {
      return;
    }
    long now = System.nanoTime();
    if (!events.channel().config().isAutoRead()) {
      // The gateway paused reads (a response still streams): not the client's time to spend.
      headStart = now;
    }
    long left = headStart + headNanos - now;
    if (left > 0) {
      headTimer = events.executor().schedule(this::headCheck, left, TimeUnit.NANOSECONDS);
      return;
    }
    expire(Phase.HEAD, "The request head (request line and headers) did not arrive within " + headText + ".");
  }

  private void bodyCheck() {
    bodyTimer = null;
    if (!inBody || expired || events == null) {
      return;
    }
    long now = System.nanoTime();
    if (!events.channel().config().isAutoRead()) {
      lastBodyRead = now; // reads paused by the gateway (deciding, backpressure): restart the clock
    }
    long idle = now - lastBodyRead;
    if (idle < bodyNanos) {
      bodyTimer = events.executor().schedule(this::bodyCheck, bodyNanos - idle, TimeUnit.NANOSECONDS);
      return;
    }
    expire(Phase.BODY, "The request body paused for longer than " + bodyText + ".");
  }

  private void expire(Phase phase, String detail) {
    stop();
    if (metrics != null) {
      metrics.timedOut(phase);
    }
    events.fireUserEventTriggered(new Expired(phase, detail));
  }

  private void cancelHead() {
    if (headTimer != null) {
      headTimer.cancel(false);
      headTimer = null;
    }
  }

  private void cancelBody() {
    if (bodyTimer != null) {
      bodyTimer.cancel(false);
      bodyTimer = null;
    }
  }
}
