package dev.sluice.benchmarks.floor;

import dev.sluice.gateway.transport.Transports;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;

/**
 * The floor of a Netty gateway: the cheapest Netty server doing a gateway's job with no rate
 * limiting, no metrics and no header logic, measured beside nginx and Sluice by bench/harness.py
 * ({@code --floor}). If this is slower than nginx, no Netty gateway can match nginx on that box.
 *
 * <pre>
 *   java -cp benchmarks.jar dev.sluice.benchmarks.floor.NettyFloor --port P --mode refuse
 *   java -cp benchmarks.jar dev.sluice.benchmarks.floor.NettyFloor --port P --mode proxy --upstream PORT
 * </pre>
 *
 * <p>refuse: every request gets the same constant 429 ({@link RefuseHandler}); proxy: a keep-alive
 * reverse proxy to 127.0.0.1:PORT, one upstream connection per client connection ({@link
 * FloorProxy}). The transport and socket options are the gateway's (ProxyServer, Transports,
 * Gateway): the gateway's own transport choice ({@link Transports}: epoll, else NIO, or what
 * {@code -Dsluice.transport} asks for); Netty's default number of event loops
 * (twice the cores), daemon threads; backlog 1024; TCP_NODELAY; Netty's default allocator; no
 * SO_REUSEADDR (the gateway's listener does not set it). SIGTERM closes the listener and the loops
 * through a shutdown hook, as the gateway's does.
 */
public final class NettyFloor implements AutoCloseable {
  /** What the server does with each request. */
  public enum Mode { REFUSE, PROXY }

  private final EventLoopGroup group;
  private final Channel server;

  private NettyFloor(EventLoopGroup group, Channel server) {
    this.group = group;
    this.server = server;
  }

  /**
   * Binds {@code host:port} (0 = a free port) and serves.
   *
   * @param upstreamPort the upstream on 127.0.0.1 (proxy mode only; ignored in refuse mode)
   * @throws IllegalStateException when the address cannot be bound
   */
  public static NettyFloor start(String host, int port, Mode mode, int upstreamPort) {
    // The gateway's own choice of transport (Gateway uses Transports.newGroup(0, ...) too).
    EventLoopGroup group = Transports.newGroup(0, new DefaultThreadFactory("floor", true));
    Class<? extends ServerChannel> serverChannel = Transports.serverChannel(group);
    InetSocketAddress upstream = mode == Mode.PROXY ? new InetSocketAddress("127.0.0.1", upstreamPort) : null;
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(group)
        .channel(serverChannel)
        .option(ChannelOption.SO_BACKLOG, 1024)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            Transports.guard(ch); // as every gateway pipeline (the io_uring close guard)
            if (mode == Mode.REFUSE) {
              // Sluice parses with these limits and checks too (ProxyServer.decoderConfig()).
              ch.pipeline().addLast("decoder", new HttpRequestDecoder(decoderConfig()))
                  .addLast("refuse", new RefuseHandler());
            } else {
              ch.pipeline().addLast("codec", new HttpServerCodec(decoderConfig()))
                  .addLast("proxy", new FloorProxy(upstream));
            }
          }
        });
    try {
      Channel bound = bootstrap.bind(host, port).syncUninterruptibly().channel();
      return new NettyFloor(group, bound);
    } catch (RuntimeException e) {
      Transports.stop(group, 0, 1_000);
      throw new IllegalStateException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
    }
  }

  /** The request parsing limits of Sluice's gateway (ProxyServer.decoderConfig()). */
  static HttpDecoderConfig decoderConfig() {
    return new HttpDecoderConfig()
        .setMaxInitialLineLength(8192)
        .setMaxHeaderSize(16384)
        .setMaxChunkSize(65536)
        .setAllowDuplicateContentLengths(false)
        .setStrictLineParsing(true)
        .setValidateHeaders(true);
  }

  /** The bound port. */
  public int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /** Closes the listener and the event loops (open connections end with them). Idempotent. */
  @Override
  public void close() {
    server.close().awaitUninterruptibly();
    Transports.stop(group, 0, 2_000); // bounded like Gateway.close
  }

  public static void main(String[] args) throws InterruptedException {
    String host = "127.0.0.1";
    int port = -1;
    int upstream = -1;
    Mode mode = null;
    for (int i = 0; i + 1 < args.length; i += 2) {
      String value = args[i + 1];
      switch (args[i]) {
        case "--host" -> host = value;
        case "--port" -> port = Integer.parseInt(value);
        case "--upstream" -> upstream = Integer.parseInt(value);
        case "--mode" -> mode = Mode.valueOf(value.toUpperCase(java.util.Locale.ROOT));
        default -> usage("unknown option " + args[i]);
      }
    }
    if (args.length % 2 != 0 || port < 0 || mode == null || (mode == Mode.PROXY) != (upstream > 0)) {
      usage("need --port P --mode refuse, or --port P --mode proxy --upstream PORT");
    }
    NettyFloor floor = start(host, port, mode, upstream);
    CountDownLatch stopped = new CountDownLatch(1);
    // The loops' threads are daemons (as the gateway's): main waits until SIGTERM's hook has run.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      floor.close();
      stopped.countDown();
    }, "floor-shutdown"));
    System.out.println("Netty floor (" + mode.name().toLowerCase(java.util.Locale.ROOT) + ", "
        + Transports.of(floor.group).label() + ") listening on " + host + ":" + floor.port()
        + (mode == Mode.PROXY ? ", upstream 127.0.0.1:" + upstream : ""));
    stopped.await();
  }

  private static void usage(String problem) {
    System.err.println("NettyFloor: " + problem);
    System.exit(2);
  }
}
