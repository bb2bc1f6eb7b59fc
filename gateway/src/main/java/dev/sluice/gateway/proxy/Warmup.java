package dev.sluice.gateway.proxy;

import dev.sluice.config.EdgeSettings;
import dev.sluice.config.HeaderStyle;
import dev.sluice.engine.Decision;
import dev.sluice.engine.Engine;
import dev.sluice.event.DecisionListener;
import dev.sluice.gateway.edge.ClientTimeouts;
import dev.sluice.gateway.metrics.GatewayMetrics;
import dev.sluice.gateway.upstreams.UpstreamSet;
import dev.sluice.identity.IdentityResolver;
import dev.sluice.identity.IdentitySpec;
import dev.sluice.limit.Limit;
import dev.sluice.match.EncodedSlashes;
import dev.sluice.policy.Policy;
import dev.sluice.policy.PolicySet;
import dev.sluice.store.MemoryStore;
import dev.sluice.time.Clock;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Start-up warm-up of the proxy's refusal path: a bounded number of synthetic requests through the
 * real client pipeline (decoder, timeouts, exchange handler, engine, 429 encoder), so that a flood
 * arriving right after start meets compiled code instead of the interpreter.
 *
 * <p>Design. The JIT compiles methods, not objects, so running the gateway's own classes on
 * throw-away instances warms the code every real request takes. Nothing real is touched:
 * <ul>
 *   <li>a scratch engine with its own policy set (one policy on every path by {@code ip}, one
 *       request per hour) and its own small memory store — never the gateway's buckets, bans or
 *       identity caches;
 *   <li>metrics and decision listeners the caller builds for the warm-up alone (a registry nobody
 *       scrapes), no audit log and no access log;
 *   <li>in-memory channels ({@link EmbeddedChannel}): no socket, no port; and no upstream: each
 *       synthetic client's one token is spent on the scratch engine before its first request, so
 *       every request is refused ({@code 429}) and nothing is ever forwarded.
 * </ul>
 * Bounded by a request count and a wall-clock budget, whichever ends first; it runs on the
 * calling thread. Turned off with {@code -Dsluice.warmup=off} ({@link #parse(String)}).
 */
public final class Warmup {
  /** Synthetic requests of {@link #DEFAULT}: enough for the refusal path's methods to reach C2. */
  public static final int DEFAULT_REQUESTS = 20_000;
  /** Wall-clock budget of {@link #DEFAULT}: a loaded host stops early rather than start late. */
  public static final Duration DEFAULT_BUDGET = Duration.ofMillis(400);
  /** No warm-up. */
  public static final Warmup NONE = new Warmup(0, Duration.ZERO);
  /** What {@code sluice serve} runs unless told otherwise. */
  public static final Warmup DEFAULT = new Warmup(DEFAULT_REQUESTS, DEFAULT_BUDGET);

  /** Requests written per channel read (pipelined, as a keep-alive flood sends them). */
  private static final int PIPELINED = 16;
  /** Synthetic clients (TEST-NET-2 addresses): a returning client and a client switch both occur. */
  private static final int CLIENTS = 4;
  private static final String PATH = "/warm-up";

  private final int requests;
  private final Duration budget;

  private Warmup(int requests, Duration budget) {
    this.requests = requests;
    this.budget = budget;
  }

  /**
   * A warm-up of at most {@code requests} requests and {@code budget} of wall-clock time.
   *
   * @throws IllegalArgumentException when {@code requests} is negative or {@code budget} negative
   */
  public static Warmup of(int requests, Duration budget) {
    Objects.requireNonNull(budget, "budget");
    if (requests < 0 || budget.isNegative()) {
      throw new IllegalArgumentException("warm-up needs requests >= 0 and a budget >= 0, got " + requests + ", " + budget);
    }
    return requests == 0 || budget.isZero() ? NONE : new Warmup(requests, budget);
  }

  /**
   * Reads the {@code sluice.warmup} setting: absent or blank = {@link #DEFAULT}; {@code off} (or
   * {@code 0}) = {@link #NONE}; a number = that many requests within the default budget.
   *
   * @throws IllegalArgumentException for anything else (the message says what is expected)
   */
  public static Warmup parse(String text) {
    if (text == null || text.isBlank()) {
      return DEFAULT;
    }
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.equals("off") || t.equals("false") || t.equals("0")) {
      return NONE;
    }
    try {
      return of(Integer.parseInt(t), DEFAULT_BUDGET);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "sluice.warmup: '" + text + "' is not a request count; expected off or a number of requests such as "
              + DEFAULT_REQUESTS);
    }
  }

  /** Whether this warm-up sends any request. */
  public boolean enabled() {
    return requests > 0;
  }

  /** The largest number of synthetic requests. */
  public int requests() {
    return requests;
  }

  /** The wall-clock budget. */
  public Duration budget() {
    return budget;
  }

  /**
   * What a warm-up did.
   *
   * @param requests synthetic requests sent
   * @param refused of them answered {@code 429} (all of them, unless something is wrong)
   * @param took wall-clock time
   */
  public record Report(int requests, int refused, Duration took) {}

  /**
   * Runs the warm-up on the calling thread.
   *
   * @param headerStyle the gateway's {@code headers:} style (its 429 fields are what gets encoded)
   * @param encodedSlashes the gateway's {@code encoded_slashes}
   * @param edge the gateway's slow-client settings (the same timeout handlers run)
   * @param metrics a {@link GatewayMetrics} on a registry of the warm-up's own, or null
   * @param listener the scratch engine's decision listener (the warm-up's own metrics and views),
   *     or null
   * @return what was done; {@code Report(0, 0, 0)} when not {@link #enabled()}
   */
  public Report run(HeaderStyle headerStyle, EncodedSlashes encodedSlashes, EdgeSettings edge, GatewayMetrics metrics,
      DecisionListener listener) {
    if (!enabled()) {
      return new Report(0, 0, Duration.ZERO);
    }
    long start = System.nanoTime();
    long deadline = start + budget.toNanos();
    Engine engine = scratchEngine(listener);
    InetSocketAddress upstream = new InetSocketAddress(InetAddress.getLoopbackAddress(), 9);
    UpstreamSet upstreams = new UpstreamSet(Map.of("http://127.0.0.1:9", upstream),
        metrics == null ? null : metrics.registry(), System::nanoTime);
    ProxyContext context = new ProxyContext(engine, headerStyle == null ? HeaderStyle.IETF : headerStyle,
        Duration.ofSeconds(30), metrics, upstreams, "http://127.0.0.1:9", ProxyServer.MAX_IDLE_PER_LOOP,
        InflightLimiter.UNLIMITED, encodedSlashes, Map.of(), false);
    Drain drain = new Drain();
    List<Client> clients = new ArrayList<>(CLIENTS);
    int sent = 0;
    int refused = 0;
    try {
      for (int i = 0; i < CLIENTS; i++) {
        InetSocketAddress peer = peer(i);
        spendToken(engine, peer);
        Client client = new Client(peer);
        ProxyServer.exchangeHandlers(client.pipeline(), new ClientTimeouts(edge.headerTimeout(), edge.bodyTimeout(), null),
            ProxyServer.decoderConfig(), drain, context);
        client.register();
        clients.add(client);
      }
      byte[] batch = batch();
      int i = 0;
      while (sent < requests && System.nanoTime() < deadline) {
        Client client = clients.get(i++ % CLIENTS);
        ByteBuf in = client.alloc().buffer(batch.length);
        in.writeBytes(batch);
        client.writeInbound(in);
        sent += PIPELINED;
        Object out;
        while ((out = client.readOutbound()) != null) {
          if (out instanceof ByteBuf bytes && isTooManyRequests(bytes)) {
            refused++;
          }
          ReferenceCountUtil.release(out);
        }
      }
    } catch (Exception e) {
      // A warm-up that fails costs nothing but its benefit; the gateway itself is untouched.
      throw new IllegalStateException("warm-up failed: " + e, e);
    } finally {
      for (Client client : clients) {
        client.finishAndReleaseAll();
      }
      context.closePools();
    }
    return new Report(sent, refused, Duration.ofNanos(System.nanoTime() - start));
  }

  /** One policy on every path by client address, one request an hour: after one, every request is refused. */
  private static Engine scratchEngine(DecisionListener listener) {
    Policy policy = Policy.builder("warm-up")
        .paths(List.of("/**"))
        .by(List.of(IdentitySpec.parse("ip")))
        .limits(List.of(Limit.of(1, Duration.ofHours(1))))
        .build();
    PolicySet policies = PolicySet.builder().identity(IdentityResolver.builder().build()).policy(policy).build();
    Engine.Builder builder = Engine.builder()
        .policies(policies)
        .store(new MemoryStore(Clock.system(), 1_024))
        .clock(Clock.system())
        .wallClock(InstantSource.system());
    if (listener != null) {
      builder.listener(listener);
    }
    return builder.build();
  }

  /** Spends the synthetic client's one token on the scratch engine, so that none of its requests is forwarded. */
  private static void spendToken(Engine engine, InetSocketAddress peer) {
    NettyRequestView view = new NettyRequestView(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, PATH),
        PATH, null, peer.getAddress());
    Decision first = engine.decideNow(view);
    if (first == null) {
      first = engine.decide(view).toCompletableFuture().join();
    }
    first.release();
  }

  private static InetSocketAddress peer(int i) {
    try {
      return new InetSocketAddress(InetAddress.getByAddress(new byte[] {(byte) 198, 51, 100, (byte) (i + 1)}), 40_000 + i);
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e); // four bytes are always an address
    }
  }

  /** {@value #PIPELINED} keep-alive requests as a load generator writes them. */
  private static byte[] batch() {
    String one = "GET " + PATH + " HTTP/1.1\r\nHost: warm-up.invalid\r\nUser-Agent: sluice-warm-up\r\nAccept: */*\r\n\r\n";
    return one.repeat(PIPELINED).getBytes(StandardCharsets.US_ASCII);
  }

  private static boolean isTooManyRequests(ByteBuf response) {
    // "HTTP/1.1 429 "
    int at = response.readerIndex();
    return response.readableBytes() > 12 && response.getByte(at + 9) == '4' && response.getByte(at + 10) == '2'
        && response.getByte(at + 11) == '9';
  }

  /** An in-memory connection whose peer is a client address, as a socket's is. */
  private static final class Client extends EmbeddedChannel {
    private final InetSocketAddress peer;

    Client(InetSocketAddress peer) {
      super(false, false);
      this.peer = peer;
    }

    @Override
    protected SocketAddress remoteAddress0() {
      return peer;
    }
  }
}
