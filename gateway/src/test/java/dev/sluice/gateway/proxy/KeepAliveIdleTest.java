package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class KeepAliveIdleTest {

  @Test
  void betweenRequests_theFirstIdleEventCloses() {
    KeepAliveIdle idle = new KeepAliveIdle();

    assertThat(idle.closes(false)).isTrue();
  }

  @Test
  void duringAnExchange_noIdleEventCloses() {
    KeepAliveIdle idle = new KeepAliveIdle();

    assertThat(idle.closes(true)).isFalse();
    assertThat(idle.closes(true)).isFalse();
  }

  @Test
  void afterAnExchangeThatOutlastedTheTimeout_theNextEventWaitsAndTheOneAfterCloses() {
    // The client's last byte came before a long answer: the reader-idle event fired during it.
    // The first event after the answer ended may come at once; the connection gets one more
    // timeout of idleness before it is closed.
    KeepAliveIdle idle = new KeepAliveIdle();
    idle.closes(true);

    assertThat(idle.closes(false)).isFalse();
    assertThat(idle.closes(false)).isTrue();
  }

  @Test
  void anExchangeAfterTheWaitingEvent_isRememberedAgain() {
    KeepAliveIdle idle = new KeepAliveIdle();
    idle.closes(true);
    idle.closes(false); // waited once

    assertThat(idle.closes(true)).isFalse();
    assertThat(idle.closes(false)).isFalse();
    assertThat(idle.closes(false)).isTrue();
  }
}
