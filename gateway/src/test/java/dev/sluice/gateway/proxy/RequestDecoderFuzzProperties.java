package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.match.EncodedSlashes;
import dev.sluice.match.MalformedTargetException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Issue 16, point 7: a fuzz target for the request head checks the gateway runs
 * ({@link StrictRequestDecoder} with the gateway's settings, then {@link ClientHandler#framingProblem}
 * and {@link RequestConformance#refusal}) and the target parser and path normaliser behind them, driven by jqwik: valid requests mutated byte-wise and with the spellings
 * smuggling attacks use, fed in arbitrary splits.
 *
 * <p>What must hold for every input: nothing escapes the pipeline as an exception; a request head
 * the gateway accepts has exactly one framing (never both {@code Content-Length} and
 * {@code Transfer-Encoding}, at most one {@code Content-Length}, a {@code Transfer-Encoding} that is
 * exactly {@code chunked}) and no control characters in its header section; its target either
 * parses into a normalised path or is refused with {@link MalformedTargetException}; and the
 * decoded messages do not depend on how the bytes were split into reads (a streaming parser whose
 * state leaks across reads is the classic source of desyncs).
 *
 * <p>The test command runs jqwik's default 1,000 tries per property (a few seconds); run longer on
 * demand with {@code ./scripts/test.sh -pl gateway -am -Dtest=RequestDecoderFuzzProperties
 * -Dsurefire.failIfNoSpecifiedTests=false -Djqwik.tries.default=1000000} (docs/security.md).
 */
class RequestDecoderFuzzProperties {

  private static final String[] FRAGMENTS = {
    "\r\n", "\n", "\r", " ", "\t", ":", "\u0000", "\u000b", ",", ";", "\"", "%2F", "%2e%2e", "/../", "//",
    "Content-Length: 5\r\n", "Content-Length: 0\r\n", "Content-Length: +5\r\n", "Content-Length: 5, 5\r\n",
    "Transfer-Encoding: chunked\r\n", "Transfer-Encoding: xchunked\r\n", "Transfer-Encoding : chunked\r\n",
    "Transfer-Encoding: chunked, identity\r\n", " Transfer-Encoding: chunked\r\n", "Host: b\r\n",
    "0\r\n\r\n", "5\r\nhello\r\n", "FFFFFFFFFFFFFFFF\r\n", "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
    "http://evil.example/x", "Expect: 100-continue\r\n", "Connection: close\r\n", "\u00ff"
  };

  private static final String[] SEEDS = {
    "GET /api/search?q=1 HTTP/1.1\r\nHost: a\r\n\r\n",
    "POST /auth/login HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    "POST /auth/login HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "GET /a%2Fb/../c HTTP/1.0\r\n\r\n",
    "PUT http://a/x/y HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
  };

  @Provide
  Arbitrary<byte[]> mutatedRequests() {
    Arbitrary<String> seed = Arbitraries.of(SEEDS);
    Arbitrary<List<Mutation>> mutations = mutation().list().ofMaxSize(6);
    return Combinators.combine(seed, mutations).as((text, list) -> {
      StringBuilder bytes = new StringBuilder(text);
      for (Mutation m : list) {
        m.apply(bytes);
      }
      return bytes.toString().getBytes(StandardCharsets.ISO_8859_1);
    });
  }

  /** One edit of the request text at a relative position. */
  record Mutation(int kind, double where, String fragment, char flipped) {
    void apply(StringBuilder text) {
      if (text.length() == 0) {
        text.append(fragment);
        return;
      }
      int at = Math.min(text.length() - 1, (int) (where * text.length()));
      switch (kind) {
        case 0 -> text.insert(at, fragment);
        case 1 -> text.deleteCharAt(at);
        case 2 -> text.setCharAt(at, flipped);
        default -> text.replace(at, Math.min(text.length(), at + fragment.length()), fragment);
      }
    }
  }

  private Arbitrary<Mutation> mutation() {
    return Combinators.combine(
            Arbitraries.integers().between(0, 3),
            Arbitraries.doubles().between(0, 1),
            Arbitraries.of(FRAGMENTS),
            Arbitraries.chars().range((char) 0, (char) 255))
        .as(Mutation::new);
  }

  @Property
  void decoder_anyMutatedRequest_hasOneFramingNoControlBytesAndAParsedOrRefusedTarget(
      @ForAll("mutatedRequests") byte[] input) {
    List<String> decoded = decode(input, List.of(input.length));
    // Checked inside decode(): no escaping exception, framing and target invariants per request.
    assertThat(decoded).isNotNull();
  }

  @Property
  void decoder_decodedMessages_doNotDependOnHowTheBytesWereSplit(
      @ForAll("mutatedRequests") byte[] input,
      @ForAll("splits") List<Integer> splits) {
    assertThat(decode(input, splits)).isEqualTo(decode(input, List.of(input.length)));
  }

  @Provide
  Arbitrary<List<Integer>> splits() {
    return Arbitraries.integers().between(1, 40).list().ofMinSize(1).ofMaxSize(12);
  }

  /**
   * Feeds the bytes to a fresh decoder in reads of the given sizes (the last size repeats) and
   * describes every decoded message, checking the invariants on the way.
   */
  private static List<String> decode(byte[] input, List<Integer> reads) {
    EmbeddedChannel channel = new EmbeddedChannel(new StrictRequestDecoder(gatewayDecoderConfig()));
    List<String> described = new ArrayList<>();
    int offset = 0;
    int read = 0;
    try {
      while (offset < input.length) {
        int size = Math.min(input.length - offset, reads.get(Math.min(read++, reads.size() - 1)));
        ByteBuf chunk = Unpooled.wrappedBuffer(input, offset, size);
        offset += size;
        channel.writeInbound(chunk);
        channel.checkException();
        drain(channel, described);
      }
      channel.finish();
      drain(channel, described);
    } finally {
      channel.finishAndReleaseAll();
    }
    return joinBodies(described);
  }

  /** A body arrives in as many pieces as reads; only its bytes and where it ends are compared. */
  private static List<String> joinBodies(List<String> described) {
    List<String> joined = new ArrayList<>();
    StringBuilder body = new StringBuilder();
    for (String entry : described) {
      if (entry.startsWith("content ")) {
        body.append(entry, "content ".length(), entry.length());
      } else if (entry.startsWith("last ")) {
        joined.add("body " + body + entry.substring("last ".length()));
        body.setLength(0);
      } else {
        if (body.length() > 0) {
          joined.add("partial body " + body);
          body.setLength(0);
        }
        joined.add(entry);
      }
    }
    if (body.length() > 0) {
      joined.add("partial body " + body);
    }
    return joined;
  }

  private static void drain(EmbeddedChannel channel, List<String> described) {
    for (Object message; (message = channel.readInbound()) != null; ) {
      try {
        described.add(describe((HttpObject) message));
      } finally {
        ReferenceCountUtil.release(message);
      }
    }
  }

  private static String describe(HttpObject message) {
    DecoderResult result = message.decoderResult();
    if (result.isFailure()) {
      return "failure";
    }
    if (message instanceof HttpRequest request) {
      // What the gateway answers before deciding: the decoder's checks are only the first layer.
      if (ClientHandler.framingProblem(request) != null || RequestConformance.refusal(request) != null) {
        return "refused head";
      }
      checkHeaders(request);
      String target = describeTarget(request.uri());
      return "request " + request.method() + " " + target + " " + request.protocolVersion() + " "
          + request.headers().entries();
    }
    if (message instanceof HttpContent content) {
      String body = content.content().toString(StandardCharsets.ISO_8859_1);
      return (message instanceof LastHttpContent ? "last " : "content ") + body;
    }
    return message.toString();
  }

  private static void checkHeaders(HttpRequest request) {
    List<String> lengths = request.headers().getAll(HttpHeaderNames.CONTENT_LENGTH);
    List<String> codings = request.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING);
    assertThat(lengths.size()).as("Content-Length fields of an accepted request").isLessThanOrEqualTo(1);
    assertThat(lengths.isEmpty() || codings.isEmpty()).as("an accepted request with two framings").isTrue();
    for (String coding : codings) {
      assertThat(coding).as("the Transfer-Encoding of an accepted request").isEqualToIgnoringCase("chunked");
    }
    for (Map.Entry<String, String> field : request.headers()) {
      assertThat(field.getKey()).as("a header name").doesNotContainPattern("[\\x00-\\x20\\x7f:]");
      assertThat(field.getValue()).as("the value of " + field.getKey()).doesNotContainPattern("[\\x00\\r\\n]");
    }
  }

  private static String describeTarget(String uri) {
    try {
      RequestTarget target = RequestTarget.parse(uri, EncodedSlashes.DECODE);
      assertThat(target.path()).as("a parsed path").startsWith("/").doesNotContain("//").doesNotContain("/../");
      return target.path();
    } catch (MalformedTargetException refused) {
      return "refused target";
    }
  }

  /** The decoder settings of {@link ProxyServer}. */
  private static HttpDecoderConfig gatewayDecoderConfig() {
    return ProxyServer.decoderConfig();
  }
}
