package dev.sluice.gateway.transport;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.NettyRuntime;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which Netty transport the gateway's event loops use: Linux's io_uring where the kernel offers it,
 * else Linux's native epoll when Netty's native library loads, else the JDK's NIO. Channels are
 * chosen to match the group they are registered with, so callers (and tests) that bring their own
 * group keep working.
 *
 * <p>io_uring submits and reaps many connections' reads and writes per system call. In paired
 * runs on the reference machine (docs/benchmarks.md, §4 "io_uring") it cut the CPU per refusal by
 * 17% and per proxied request by 30% against epoll, and only with it does a flood's refusal rate
 * pass nginx's. Netty 4.2.18's io_uring channel can arm a read after its close began, which keeps
 * the socket open and an event loop from ever finishing its shutdown; {@link IoUringCloseGuard}
 * and {@link #stop} keep that from happening (both ways in that traces showed), and {@link #stop}
 * still bounds its wait for the loops.
 *
 * <p>{@value #PROPERTY} ({@code -Dsluice.transport=...}, e.g. in {@code SLUICE_JAVA_OPTS}) picks
 * one: {@code auto} (the default: io_uring, else epoll, else NIO), {@code io_uring}, {@code epoll}
 * or {@code nio}; asking for one that is not available fails at start, saying why (many container
 * runtimes' default seccomp profiles forbid io_uring, and {@code auto} then falls back to epoll).
 */
public final class Transports {
  /** Netty's system property for the number of event loops, honoured by {@link #defaultThreads()}. */
  static final String THREADS_PROPERTY = "io.netty.eventLoopThreads";

  /** The system property that picks the transport. */
  public static final String PROPERTY = "sluice.transport";

  /** A transport the gateway can run on. */
  public enum Kind {
    IO_URING("io_uring"),
    EPOLL("epoll"),
    NIO("nio");

    private final String label;

    Kind(String label) {
      this.label = label;
    }

    /** The name {@value #PROPERTY} and the start-up log use. */
    public String label() {
      return label;
    }
  }

  /** How long {@link #stop} waits for a group's loops. */
  static final int STOP_BOUND_SECONDS = 10;

  /** The open guarded channels of each io_uring group {@link #newGroup} made, until it shuts down. */
  private static final Map<EventLoopGroup, ChannelGroup> OPEN = new ConcurrentHashMap<>();

  private static final Logger log = LoggerFactory.getLogger(Transports.class);

  private Transports() {}

  /**
   * The transport {@link #newGroup} uses: {@value #PROPERTY}'s choice, or the best available.
   *
   * @throws IllegalStateException when the property names an unknown or unavailable transport
   */
  public static Kind chosen() {
    return choose(wanted(), IoUring.isAvailable(), Epoll.isAvailable());
  }

  private static String wanted() {
    return System.getProperty(PROPERTY, "auto");
  }

  private static boolean isAuto(String wanted) {
    return wanted.trim().toLowerCase(Locale.ROOT).equals("auto");
  }

  /** {@link #chosen()} for a property value and what this machine offers (tests drive it directly). */
  static Kind choose(String wanted, boolean ioUring, boolean epoll) {
    String value = wanted.trim().toLowerCase(Locale.ROOT);
    switch (value) {
      case "auto":
        return ioUring ? Kind.IO_URING : epoll ? Kind.EPOLL : Kind.NIO;
      case "io_uring":
        if (!ioUring) {
          throw new IllegalStateException(PROPERTY + "=io_uring, but io_uring is not available here: "
              + reason(IoUring.unavailabilityCause()) + "; use epoll or auto");
        }
        return Kind.IO_URING;
      case "epoll":
        if (!epoll) {
          throw new IllegalStateException(PROPERTY + "=epoll, but Netty's epoll transport is not available here: "
              + reason(Epoll.unavailabilityCause()) + "; use nio or auto");
        }
        return Kind.EPOLL;
      case "nio":
        return Kind.NIO;
      default:
        throw new IllegalStateException(PROPERTY + "=" + wanted + " is not a transport; expected auto, io_uring, epoll or nio");
    }
  }

  private static String reason(Throwable cause) {
    return cause == null || cause.getMessage() == null ? "unknown reason" : cause.getMessage();
  }

  /**
   * Event loops on {@link #chosen()}'s transport.
   *
   * @param threads 0 for {@link #defaultThreads()}
   */
  public static EventLoopGroup newGroup(int threads, ThreadFactory threadFactory) {
    String wanted = wanted();
    return newGroup(threads == 0 ? defaultThreads() : threads, threadFactory,
        choose(wanted, IoUring.isAvailable(), Epoll.isAvailable()), isAuto(wanted), Transports::handlers);
  }

  /**
   * {@link #newGroup(int, ThreadFactory)} with the choice made: when {@code auto} picked io_uring
   * but its loops cannot start (the kernel offers io_uring yet refuses a ring of the loops' size,
   * e.g. under a locked-memory limit on kernels before 5.12), the next transport takes over,
   * logged; a transport asked for by name fails the start instead.
   */
  static EventLoopGroup newGroup(int threads, ThreadFactory threadFactory, Kind kind, boolean auto,
      Function<Kind, IoHandlerFactory> handlers) {
    EventLoopGroup group;
    try {
      group = new MultiThreadIoEventLoopGroup(threads, threadFactory, handlers.apply(kind));
    } catch (RuntimeException e) {
      if (kind != Kind.IO_URING || !auto) {
        throw e;
      }
      Kind next = Epoll.isAvailable() ? Kind.EPOLL : Kind.NIO;
      Throwable cause = e;
      while (cause.getCause() != null) {
        cause = cause.getCause(); // Netty wraps the ring's own error
      }
      log.warn("io_uring is offered here but its event loops did not start ({}); using {} instead",
          reason(cause), next.label());
      kind = next;
      group = new MultiThreadIoEventLoopGroup(threads, threadFactory, handlers.apply(kind));
    }
    if (kind == Kind.IO_URING) {
      track(group);
    }
    return group;
  }

  /**
   * Keeps the set of {@code group}'s open guarded channels until the group terminates, however it
   * is shut down ({@link #stop} takes it earlier; a caller that shuts the group down itself would
   * otherwise leave the entry, and the group, in {@link #OPEN}).
   */
  static void track(EventLoopGroup group) {
    OPEN.put(group, new DefaultChannelGroup(GlobalEventExecutor.INSTANCE));
    group.terminationFuture().addListener(done -> OPEN.remove(group));
  }

  /** Whether {@code group}'s open channels are still tracked (for tests). */
  static boolean tracked(EventLoopGroup group) {
    return OPEN.containsKey(group);
  }

  /**
   * One event loop per CPU the JVM may use, not Netty's two: nothing on the loops blocks, so a
   * second loop per CPU only adds context switches. Paired on the reference machine (2 CPUs,
   * io_uring; docs/benchmarks.md, §4): a flood's refusals/s ×1.18 and CPU per refusal ×0.87,
   * proxied requests/s ×1.08 and CPU ×0.88. Netty's own {@value #THREADS_PROPERTY} still sets it.
   */
  static int defaultThreads() {
    return Math.max(1, Integer.getInteger(THREADS_PROPERTY, NettyRuntime.availableProcessors()));
  }

  private static IoHandlerFactory handlers(Kind kind) {
    return switch (kind) {
      case IO_URING -> IoUringIoHandler.newFactory();
      case EPOLL -> EpollIoHandler.newFactory();
      case NIO -> NioIoHandler.newFactory();
    };
  }

  /** The transport of {@code group} (an event loop is a group too). */
  public static Kind of(EventLoopGroup group) {
    if (group instanceof IoEventLoopGroup io) {
      if (io.isIoType(IoUringIoHandler.class)) {
        return Kind.IO_URING;
      }
      if (io.isIoType(EpollIoHandler.class)) {
        return Kind.EPOLL;
      }
    }
    return Kind.NIO;
  }

  /**
   * Puts the transport's own handlers first in a new channel's pipeline: on io_uring, {@link
   * IoUringCloseGuard}, and the channel joins its group's set of open channels (for {@link
   * #stop}); on epoll and NIO, nothing. Every pipeline the gateway builds calls this.
   */
  public static void guard(Channel channel) {
    if (of(channel.eventLoop()) == Kind.IO_URING) {
      channel.pipeline().addFirst("io-uring-close-guard", new IoUringCloseGuard());
      ChannelGroup open = OPEN.get(channel.eventLoop().parent());
      if (open != null) {
        open.add(channel);
      }
    }
  }

  /**
   * Stops a group and waits for it, at most {@value #STOP_BOUND_SECONDS} s: on io_uring its guarded
   * channels are first closed through their pipelines (at most {@code timeoutMillis}; see {@link
   * IoUringCloseGuard}), then the loops shut down as {@link EventLoopGroup#shutdownGracefully(long,
   * long, TimeUnit)} does. Bounded because an io_uring loop that meets a way into Netty 4.2.18's
   * close bug not guarded against would never finish; the loops' threads are daemons, so a
   * process that exits is not held by one. Logs when the loops did not stop in time.
   *
   * @return whether the loops stopped within the bound
   */
  public static boolean stop(EventLoopGroup group, long quietMillis, long timeoutMillis) {
    ChannelGroup open = OPEN.remove(group);
    if (open != null && !open.isEmpty()) {
      open.close().awaitUninterruptibly(timeoutMillis, TimeUnit.MILLISECONDS);
    }
    boolean stopped = group.shutdownGracefully(quietMillis, timeoutMillis, TimeUnit.MILLISECONDS)
        .awaitUninterruptibly(STOP_BOUND_SECONDS, TimeUnit.SECONDS);
    if (!stopped) {
      log.warn("the {} event loops did not stop within {} s; closing without them", of(group).label(),
          STOP_BOUND_SECONDS);
    }
    return stopped;
  }

  /** The listening channel type that fits {@code group}. */
  public static Class<? extends ServerChannel> serverChannel(EventLoopGroup group) {
    return switch (of(group)) {
      case IO_URING -> IoUringServerSocketChannel.class;
      case EPOLL -> EpollServerSocketChannel.class;
      case NIO -> NioServerSocketChannel.class;
    };
  }

  /** The outgoing (client) channel type that fits {@code group}. */
  public static Class<? extends Channel> socketChannel(EventLoopGroup group) {
    return switch (of(group)) {
      case IO_URING -> IoUringSocketChannel.class;
      case EPOLL -> EpollSocketChannel.class;
      case NIO -> NioSocketChannel.class;
    };
  }
}
