package dev.sluice.gateway.proxy;

/**
 * When a client connection that sent no byte for {@value ProxyServer#CLIENT_IDLE_SECONDS} s is
 * closed as idle: the rule behind the client pipeline's reader-idle events.
 *
 * <p>Why reader idle, and this rule. Netty's all-idle timer also watches writes, and to see them it
 * turns every write's void promise back into a real promise with a listener that reads the clock
 * when the write completes: about 4% of the CPU of a refused request under a flood (docs/
 * benchmarks.md G2). A reader-idle timer leaves writes alone, but counts from the client's last
 * byte, not from the end of the gateway's answer. Between short requests the two are the same;
 * after an exchange that outlasted the timeout (a long download) the connection would be closed
 * sooner than the keep-alive timeout after the answer ended. So an event that arrives during an
 * exchange is remembered, and the first event between requests after it does not close: the
 * timer fires again a full timeout later. A connection idle between requests is thus closed after
 * the timeout, and after an exchange that outlasted it, within twice the timeout.
 *
 * <p>Not thread-safe: one per connection, used on its event loop.
 */
final class KeepAliveIdle {
  private boolean firedDuringExchange;

  /**
   * A reader-idle event arrived: whether to close the connection now.
   *
   * @param exchangeInProgress whether an exchange is under way (the gateway is deciding, or the
   *     upstream is answering), which its own timeouts bound
   */
  boolean closes(boolean exchangeInProgress) {
    if (exchangeInProgress) {
      firedDuringExchange = true;
      return false;
    }
    if (firedDuringExchange) {
      firedDuringExchange = false;
      return false;
    }
    return true;
  }
}
