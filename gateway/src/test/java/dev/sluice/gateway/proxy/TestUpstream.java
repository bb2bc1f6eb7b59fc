package dev.sluice.gateway.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The upstream of the proxy tests: a small Netty HTTP server on a free loopback port that records
 * every request it receives and counts its connections.
 *
 * <p>Routes: {@code /hang} never answers; {@code /big} streams {@link #BIG_SIZE} bytes
 * (chunked) with their sha256 in {@code X-Body-Sha256}; {@code /abort} promises 1000 bytes,
 * sends 10 and closes; {@code /drop-once} closes the connection without answering the first time
 * it is asked, then answers like any other path; anything else answers 200 with the received body's sha256 and length in
 * {@code X-Body-Sha256} / {@code X-Body-Length}.
 */
final class TestUpstream implements AutoCloseable {
  static final int BIG_SIZE = 1024 * 1024;
  static final byte[] BIG = bytes(BIG_SIZE, 42);

  record Received(String method, String uri, HttpHeaders headers, int bodyLength, String bodySha256) {}

  private final EventLoopGroup group;
  private final Channel server;
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicBoolean dropped = new AtomicBoolean();
  private final List<Received> received = new CopyOnWriteArrayList<>();

  private TestUpstream() {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    server =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    connections.incrementAndGet();
                    ch.pipeline()
                        .addLast(new HttpServerCodec())
                        .addLast(new HttpObjectAggregator(8 * 1024 * 1024))
                        .addLast(new Handler());
                  }
                })
            .bind(new InetSocketAddress("127.0.0.1", 0))
            .syncUninterruptibly()
            .channel();
  }

  static TestUpstream start() {
    return new TestUpstream();
  }

  int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  /** Connections accepted so far. */
  int connections() {
    return connections.get();
  }

  List<Received> received() {
    return List.copyOf(received);
  }

  List<String> uris() {
    return received.stream().map(Received::uri).toList();
  }

  static byte[] bytes(int size, long seed) {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return data;
  }

  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      byte[] body = ByteBufUtil.getBytes(request.content());
      received.add(
          new Received(
              request.method().name(),
              request.uri(),
              new DefaultHttpHeaders().add(request.headers()),
              body.length,
              sha256(body)));
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      String path = request.uri().split("\\?", 2)[0];
      switch (path) {
        case "/hang" -> {
          // never answers
        }
        case "/big" -> {
          HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
          HttpUtil.setTransferEncodingChunked(head, true);
          head.headers().set("X-Body-Sha256", sha256(BIG));
          ctx.write(head);
          for (int offset = 0; offset < BIG.length; offset += 50_000) {
            int length = Math.min(50_000, BIG.length - offset);
            ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(BIG, offset, length)));
          }
          ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        }
        case "/abort" -> {
          HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
          head.headers().set(HttpHeaderNames.CONTENT_LENGTH, 1000);
          ctx.write(head);
          ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[10])))
              .addListener(ChannelFutureListener.CLOSE);
        }
        case "/drop-once" -> {
          if (dropped.compareAndSet(false, true)) {
            ctx.close();
          } else {
            answer(ctx, request.uri(), body, keepAlive);
          }
        }
        case "/slow" -> ctx.executor().schedule(() -> answer(ctx, request.uri(), body, keepAlive), 200, TimeUnit.MILLISECONDS);
        default -> answer(ctx, request.uri(), body, keepAlive);
      }
    }

    private void answer(ChannelHandlerContext ctx, String uri, byte[] body, boolean keepAlive) {
      byte[] text = ("seen " + uri + "\n").getBytes(StandardCharsets.UTF_8);
      FullHttpResponse response =
          new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(text));
      response.headers().set(HttpHeaderNames.CONTENT_LENGTH, text.length);
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
      response.headers().set("X-Body-Sha256", sha256(body));
      response.headers().set("X-Body-Length", body.length);
      if (!keepAlive) {
        response.headers().set(HttpHeaderNames.CONNECTION, "close");
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
      } else {
        ctx.writeAndFlush(response);
      }
    }
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
