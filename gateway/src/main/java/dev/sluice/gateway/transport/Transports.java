package dev.sluice.gateway.transport;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.concurrent.ThreadFactory;

/**
 * Which Netty transport the gateway's event loops use: Linux's native epoll when Netty's native
 * library loads (fewer system calls and no selector garbage per wake-up: measurably less CPU per
 * request under a flood), else the JDK's NIO. Channels are chosen to match the group they are
 * registered with, so callers (and tests) that bring their own NIO group keep working.
 */
public final class Transports {
  private Transports() {}

  /** Whether the native epoll transport is usable on this machine. */
  public static boolean nativeAvailable() {
    return Epoll.isAvailable();
  }

  /**
   * Event loops on the best available transport.
   *
   * @param threads 0 for Netty's default (twice the cores)
   */
  public static EventLoopGroup newGroup(int threads, ThreadFactory threadFactory) {
    return new MultiThreadIoEventLoopGroup(threads, threadFactory,
        nativeAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
  }

  /** The listening channel type that fits {@code group} (an event loop is a group too). */
  public static Class<? extends ServerChannel> serverChannel(EventLoopGroup group) {
    return isEpoll(group) ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  /** The outgoing (client) channel type that fits {@code group}. */
  public static Class<? extends Channel> socketChannel(EventLoopGroup group) {
    return isEpoll(group) ? EpollSocketChannel.class : NioSocketChannel.class;
  }

  private static boolean isEpoll(EventLoopGroup group) {
    return group instanceof IoEventLoopGroup io && io.isIoType(EpollIoHandler.class);
  }
}
