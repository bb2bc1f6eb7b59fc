package dev.sluice.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sluice.gateway.transport.Transports.Kind;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Which transport {@code sluice.transport} and the machine pick. */
class TransportsTest {

  @Test
  void auto_isIoUring_thenEpoll_thenNio() {
    assertThat(Transports.choose("auto", true, true)).isEqualTo(Kind.IO_URING);
    assertThat(Transports.choose("auto", true, false)).isEqualTo(Kind.IO_URING);
    assertThat(Transports.choose("auto", false, true)).isEqualTo(Kind.EPOLL);
    assertThat(Transports.choose("auto", false, false)).isEqualTo(Kind.NIO);
  }

  @Test
  void anAvailableTransport_isTakenAsAsked_inAnyLetterCase() {
    assertThat(Transports.choose("epoll", true, true)).isEqualTo(Kind.EPOLL);
    assertThat(Transports.choose(" NIO ", true, true)).isEqualTo(Kind.NIO);
    assertThat(Transports.choose("IO_URING", true, false)).isEqualTo(Kind.IO_URING);
  }

  @Test
  void anUnavailableTransport_failsNamingTheProperty() {
    assertThatThrownBy(() -> Transports.choose("io_uring", false, true))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("sluice.transport=io_uring, but io_uring is not available here: ")
        .hasMessageEndingWith("; use epoll or auto");
    assertThatThrownBy(() -> Transports.choose("epoll", true, false))
        .hasMessageStartingWith("sluice.transport=epoll, but Netty's epoll transport is not available here: ");
  }

  @Test
  void anUnknownTransport_failsListingTheChoices() {
    assertThatThrownBy(() -> Transports.choose("kqueue", true, true))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("sluice.transport=kqueue is not a transport; expected auto, io_uring, epoll or nio");
  }

  @Test
  void thisMachine_getsTheBestTransportItOffers_andAGroupOfThatKind() {
    Kind expected = IoUring.isAvailable() ? Kind.IO_URING : Epoll.isAvailable() ? Kind.EPOLL : Kind.NIO;
    System.out.printf("transport here: %s (io_uring %s, epoll %s)%n", expected.label(),
        IoUring.isAvailable() ? "available" : IoUring.unavailabilityCause(),
        Epoll.isAvailable() ? "available" : Epoll.unavailabilityCause());
    assertThat(Transports.chosen()).isEqualTo(expected);
    EventLoopGroup group = Transports.newGroup(1, new DefaultThreadFactory("transports-test", true));
    try {
      assertThat(Transports.of(group)).isEqualTo(expected);
    } finally {
      group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  @Test
  void defaultGroup_hasOneLoopPerCpu_unlessNettysPropertySaysOtherwise() {
    EventLoopGroup group = Transports.newGroup(0, new DefaultThreadFactory("transports-test", true));
    try {
      int loops = 0;
      for (var ignored : group) {
        loops++;
      }
      assertThat(loops).isEqualTo(Runtime.getRuntime().availableProcessors());
    } finally {
      group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
    System.setProperty(Transports.THREADS_PROPERTY, "3");
    try {
      assertThat(Transports.defaultThreads()).isEqualTo(3);
    } finally {
      System.clearProperty(Transports.THREADS_PROPERTY);
    }
  }

  @Test
  void autoPickingIoUring_whoseLoopsCannotStart_fallsBackToTheNextTransport_butAnExplicitChoiceFails() {
    java.util.function.Function<Kind, io.netty.channel.IoHandlerFactory> ringRefused = kind -> {
      if (kind == Kind.IO_URING) {
        return executor -> {
          throw new IllegalStateException("io_uring_setup(...) failed: Cannot allocate memory");
        };
      }
      return kind == Kind.EPOLL ? io.netty.channel.epoll.EpollIoHandler.newFactory()
          : io.netty.channel.nio.NioIoHandler.newFactory();
    };
    DefaultThreadFactory threads = new DefaultThreadFactory("transports-test", true);
    EventLoopGroup group = Transports.newGroup(1, threads, Kind.IO_URING, true, ringRefused);
    try {
      assertThat(Transports.of(group)).isEqualTo(Epoll.isAvailable() ? Kind.EPOLL : Kind.NIO);
    } finally {
      assertThat(Transports.stop(group, 0, 0)).isTrue();
    }
    assertThatThrownBy(() -> Transports.newGroup(1, threads, Kind.IO_URING, false, ringRefused))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aTrackedGroupShutDownWithoutStop_isNoLongerTracked() {
    // The tracking is the same on every transport; NIO runs on every machine.
    EventLoopGroup group = Transports.newGroup(1, new DefaultThreadFactory("transports-test", true), Kind.NIO,
        false, kind -> io.netty.channel.nio.NioIoHandler.newFactory());
    Transports.track(group);
    assertThat(Transports.tracked(group)).isTrue();

    group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();

    // The termination future tells its listeners on Netty's global executor, just after.
    await().atMost(Duration.ofSeconds(5)).until(() -> !Transports.tracked(group));
  }
}
