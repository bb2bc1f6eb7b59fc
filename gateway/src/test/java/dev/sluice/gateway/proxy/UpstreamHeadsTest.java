package dev.sluice.gateway.proxy;

import static dev.sluice.gateway.response.Decisions.SECOND;
import static dev.sluice.gateway.response.Decisions.allowed;
import static dev.sluice.gateway.response.Decisions.decision;
import static dev.sluice.gateway.response.Decisions.login;
import static dev.sluice.gateway.response.Decisions.pd;
import static dev.sluice.gateway.response.Decisions.search;
import static dev.sluice.gateway.response.Decisions.status;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.HeaderStyle;
import dev.sluice.engine.Decision;
import dev.sluice.gateway.response.Decisions;
import dev.sluice.gateway.response.RateLimitHeaders;
import dev.sluice.gateway.tunnel.Upgrades;
import dev.sluice.identity.ClientAddress;
import dev.sluice.policy.Mode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The heads the gateway writes in wire form ({@link UpstreamRequestHead}, {@link ClientResponseHead})
 * and the bodies framed after them ({@link BodyFraming}) must be byte for byte what Netty's encoders
 * wrote for the request and response objects they replaced. The reference is that code, kept here
 * as the oracle: {@link ForwardingHeaders#upstreamRequest} plus the fields the exchange added,
 * through {@link HttpRequestEncoder}; {@link ForwardingHeaders#clientResponse} plus {@link
 * RateLimitHeaders#apply}, chunked framing and {@code Connection}, through {@link
 * HttpResponseEncoder}. The inputs are raw messages decoded by the gateway's own decoders, so the
 * header maps are what production sees (obs-fold joined, duplicates kept in order, non-ASCII bytes).
 */
class UpstreamHeadsTest {
  private static final String BIG = "x".repeat(BodyFraming.COPY_LIMIT + 977);
  private static final String AUTHORITY = "127.0.0.1:8080";

  /** Client requests the gateway accepts (each is checked to pass its validation first). */
  private static Map<String, String> requests() {
    Map<String, String> all = new LinkedHashMap<>();
    all.put("plain GET", "GET /api/items?id=7 HTTP/1.1\r\nHost: api.example\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n");
    all.put("duplicates in order", "GET /d HTTP/1.1\r\nHost: a\r\nAccept: text/html\r\nCookie: a=1\r\nAccept: text/plain\r\n"
        + "Cookie: b=2\r\nX-Same: 1\r\nx-same: 2\r\nX-SAME: 3\r\n\r\n");
    all.put("obs-fold", "GET /f HTTP/1.1\r\nHost: a\r\nX-Folded: first\r\n  second\r\n\tthird\r\nX-After: 1\r\n\r\n");
    all.put("hop-by-hop and listed", "GET /h HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Hop, x-other\r\nX-Hop: 1\r\n"
        + "Keep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: h2c\r\nProxy-Authorization: Basic eA==\r\n"
        + "Proxy-Connection: keep-alive\r\nX-Other: 2\r\nTrailer: X-T\r\nX-Kept: yes\r\n\r\n");
    all.put("connection close", "GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    all.put("forwarding claims", "GET /x HTTP/1.1\r\nHost: api.example:8443\r\nX-Forwarded-For: 1.2.3.4\r\n"
        + "X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\nForwarded: for=1.2.3.4\r\nX-Real-IP: 1.2.3.4\r\n"
        + "X-Forwarded-For: 5.6.7.8\r\n\r\n");
    all.put("claims named in Connection", "GET /x HTTP/1.1\r\nHost: a\r\nConnection: X-Forwarded-Proto, Host\r\n"
        + "X-Forwarded-Proto: https\r\n\r\n");
    all.put("HTTP/1.0 without Host", "GET /old HTTP/1.0\r\nAccept: */*\r\n\r\n");
    all.put("HTTP/1.0 keep-alive with Host", "GET /old HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n");
    all.put("absolute form", "GET http://api.example/a/b?c=d HTTP/1.1\r\nHost: api.example\r\n\r\n");
    all.put("extension method", "PURGE /cache HTTP/1.1\r\nHost: a\r\n\r\n");
    all.put("HEAD", "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n");
    all.put("non-ASCII value", "GET /n HTTP/1.1\r\nHost: a\r\nX-Name: caf\u00e9 \u00ff\r\n\r\n");
    all.put("mixed-case names", "GET /m HTTP/1.1\r\nhOsT: a\r\ncontent-TYPE: text/plain\r\nX-forwarded-FOR: 9.9.9.9\r\n\r\n");
    all.put("content-length body", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
    all.put("expect continue", "PUT /p HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc");
    all.put("chunked with trailers", "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "5\r\nhello\r\n" + Integer.toHexString(BIG.length()) + "\r\n" + BIG + "\r\n0\r\nX-Checksum: 42\r\nX-Two: 2\r\n\r\n");
    all.put("chunked, no trailers", "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    all.put("websocket upgrade", "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    return all;
  }

  @Test
  void upstreamRequest_everyCase_isByteForByteTheReferenceEncoding() throws Exception {
    int compared = 0;
    for (Map.Entry<String, String> c : requests().entrySet()) {
      for (boolean trusted : new boolean[] {false, true}) {
        for (boolean tls : new boolean[] {false, true}) {
          List<HttpObject> decoded = decodeRequest(c.getValue());
          HttpRequest request = (HttpRequest) decoded.get(0);
          assertThat(request.decoderResult().isSuccess()).as(c.getKey()).isTrue();
          assertThat(RequestConformance.refusal(request)).as(c.getKey()).isNull();
          assertThat(ClientHandler.framingProblem(request)).as(c.getKey()).isNull();
          RequestTarget target = RequestTarget.parse(request.uri());
          List<HttpObject> copies = duplicates(decoded);
          String expected = referenceRequest(request, target, trusted, tls, decoded);
          String actual = wireRequest(request, target, trusted, tls, copies);
          assertThat(actual).as("%s, trusted %s, tls %s", c.getKey(), trusted, tls).isEqualTo(expected);
          compared++;
        }
      }
    }
    assertThat(compared).isEqualTo(requests().size() * 4);
  }

  @Test
  void upstreamRequest_obsFold_isJoinedNotForwardedAsAFold() throws Exception {
    List<HttpObject> decoded = decodeRequest(requests().get("obs-fold"));
    HttpRequest request = (HttpRequest) decoded.get(0);

    String wire = wireRequest(request, RequestTarget.parse(request.uri()), false, false, decoded);

    assertThat(wire).contains("X-Folded: first second third\r\nX-After: 1\r\n").doesNotContain("\r\n ").doesNotContain("\r\n\t");
  }

  @Test
  void upstreamRequest_hopByHop_noneReachesTheUpstream() throws Exception {
    List<HttpObject> decoded = decodeRequest(requests().get("hop-by-hop and listed"));
    HttpRequest request = (HttpRequest) decoded.get(0);

    String wire = wireRequest(request, RequestTarget.parse(request.uri()), false, false, decoded).toLowerCase();

    assertThat(wire).startsWith("get /h http/1.1\r\nhost: a\r\nx-kept: yes\r\nx-forwarded-for: 203.0.113.7\r\n")
        .doesNotContain("connection").doesNotContain("keep-alive").doesNotContain("x-hop").doesNotContain("x-other")
        .doesNotContain("te:").doesNotContain("upgrade").doesNotContain("proxy-").doesNotContain("trailer");
  }

  /** Upstream responses as they come off the wire, and whether they answer a HEAD request. */
  private static Map<String, String> responses() {
    Map<String, String> all = new LinkedHashMap<>();
    all.put("static 200", "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n");
    all.put("other reason phrase", "HTTP/1.1 200 Fine\r\nContent-Length: 0\r\n\r\n");
    all.put("404 with body", "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nContent-Type: text/plain\r\n\r\nnot found");
    all.put("unknown status", "HTTP/1.1 599 Custom Thing\r\nContent-Length: 2\r\n\r\nno");
    all.put("chunked with trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n5\r\nhello\r\n"
        + Integer.toHexString(BIG.length()) + "\r\n" + BIG + "\r\n0\r\nX-T: 1\r\n\r\n");
    all.put("hop-by-hop and listed", "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Internal\r\nX-Internal: 1\r\n"
        + "Keep-Alive: timeout=5\r\nProxy-Authenticate: Basic\r\nUpgrade: h2c\r\nX-Kept: 1\r\nContent-Length: 1\r\n\r\nk");
    all.put("duplicates and forged rate-limit fields", "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nRateLimit: \"x\";r=9;t=0\r\n"
        + "Set-Cookie: b=2\r\nratelimit-policy: \"x\";q=9;w=1\r\nX-RateLimit-Limit: 9\r\nx-ratelimit-remaining: 9\r\n"
        + "X-RateLimit-Reset: 0\r\nContent-Length: 0\r\n\r\n");
    all.put("obs-fold", "HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n");
    all.put("no length, read to close", "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
    all.put("length named in Connection", "HTTP/1.1 200 OK\r\nConnection: Content-Length\r\nContent-Length: 2\r\n\r\nab");
    all.put("non-ASCII value", "HTTP/1.1 201 Created\r\nLocation: /caf\u00e9\r\nContent-Length: 0\r\n\r\n");
    return all;
  }

  private static Map<String, Decision> decisions() {
    Map<String, Decision> all = new LinkedHashMap<>();
    all.put("exempt", Decision.exempt(Decisions.client()));
    all.put("allowed, second of two limits", decision(pd(login(), allowed(status(4, 3 * SECOND / 2), status(2, 90 * SECOND)))));
    all.put("allowed, nothing reportable", decision(pd(search(Mode.SHADOW), allowed(status(3, SECOND)))));
    return all;
  }

  @Test
  void clientResponse_everyCase_isByteForByteTheReferenceEncoding() throws Exception {
    int compared = 0;
    for (Map.Entry<String, String> c : responses().entrySet()) {
      for (Map.Entry<String, Decision> d : decisions().entrySet()) {
        for (HeaderStyle style : HeaderStyle.values()) {
          for (boolean head : new boolean[] {false, true}) {
            for (boolean http11 : new boolean[] {true, false}) {
              for (boolean keepAlive : new boolean[] {true, false}) {
                String what = String.format("%s, %s, %s, head %s, http11 %s, keep-alive %s",
                    c.getKey(), d.getKey(), style, head, http11, keepAlive);
                List<HttpObject> decoded = decodeResponse(c.getValue(), head);
                HttpResponse response = (HttpResponse) decoded.get(0);
                assertThat(response.decoderResult().isSuccess()).as(what).isTrue();
                EncodedHead wire = ClientResponseHead.encode(PooledByteBufAllocator.DEFAULT, response, style,
                    d.getValue(), head, http11, keepAlive);
                assertThat(wire).as(what).isNotNull();
                List<HttpObject> body = decoded.subList(1, decoded.size());
                if (head) { // the exchange writes the end of a HEAD response as an empty last content
                  body.forEach(ReferenceCountUtil::release);
                  body = List.of(LastHttpContent.EMPTY_LAST_CONTENT);
                }
                List<HttpObject> copies = duplicates(body);
                String expected = referenceResponse(response, style, d.getValue(), head, http11, keepAlive, body);
                String actual = encode(new ResponseEncoder(), wire, copies);
                assertThat(actual).as(what).isEqualTo(expected);
                compared++;
              }
            }
          }
        }
      }
    }
    assertThat(compared).isEqualTo(responses().size() * decisions().size() * HeaderStyle.values().length * 8);
  }

  @Test
  void clientResponse_headsTheEncoderRewrites_areLeftToTheResponseObject() throws Exception {
    Decision d = decisions().get("exempt");
    for (String raw : List.of("HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 304 Not Modified\r\n\r\n",
        "HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")) {
      HttpResponse response = (HttpResponse) decodeResponse(raw, false).get(0);

      assertThat(ClientResponseHead.encode(PooledByteBufAllocator.DEFAULT, response, HeaderStyle.IETF, d, false, true, true))
          .as(raw).isNull();
    }
  }

  @Test
  void clientResponse_forgedRateLimitFields_areReplacedByTheGateways() throws Exception {
    HttpResponse response = (HttpResponse) decodeResponse(responses().get("duplicates and forged rate-limit fields"), false).get(0);

    EncodedHead wire = ClientResponseHead.encode(PooledByteBufAllocator.DEFAULT, response, HeaderStyle.BOTH,
        decisions().get("allowed, second of two limits"), false, true, true);
    String text = encode(new ResponseEncoder(), wire, List.<HttpObject>of(LastHttpContent.EMPTY_LAST_CONTENT));

    assertThat(text).doesNotContain("\"x\"").doesNotContain(": 9\r\n")
        .contains("Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n")
        .contains("RateLimit: \"login/2\";r=2;t=90\r\n");
  }

  @Test
  void clientResponse_whileDraining_getsConnectionCloseAsTheResponseObjectDid() throws Exception {
    Decision d = decisions().get("allowed, second of two limits");
    int compared = 0;
    for (String name : List.of("static 200", "chunked with trailers", "no length, read to close")) {
      for (boolean http11 : new boolean[] {true, false}) {
        for (boolean keepAlive : new boolean[] {true, false}) {
          List<HttpObject> decoded = decodeResponse(responses().get(name), false);
          HttpResponse response = (HttpResponse) decoded.get(0);
          List<HttpObject> body = decoded.subList(1, decoded.size());
          List<HttpObject> copies = duplicates(body);
          EncodedHead wire = ClientResponseHead.encode(PooledByteBufAllocator.DEFAULT, response, HeaderStyle.IETF, d,
              false, http11, keepAlive);
          List<Object> expectedMessages = new ArrayList<>();
          expectedMessages.add(referenceResponseObject(response, HeaderStyle.IETF, d, false, http11, keepAlive));
          expectedMessages.addAll(body);
          List<Object> actualMessages = new ArrayList<>();
          actualMessages.add(wire);
          actualMessages.addAll(copies);

          String expected = draining(new HttpResponseEncoder(), expectedMessages);
          String actual = draining(new ResponseEncoder(), actualMessages);

          assertThat(actual).as("%s, http11 %s, keep-alive %s", name, http11, keepAlive)
              .isEqualTo(expected).contains("connection: close\r\n\r\n");
          compared++;
        }
      }
    }
    assertThat(compared).isEqualTo(12);
  }

  /** What a connection whose exchange is in progress writes once the drain has started. */
  private static String draining(io.netty.channel.ChannelHandler encoder, List<Object> messages) {
    Drain drain = new Drain();
    EmbeddedChannel channel = new EmbeddedChannel(encoder, drain.tracker());
    channel.writeInbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, io.netty.handler.codec.http.HttpMethod.GET, "/"));
    ReferenceCountUtil.release(channel.readInbound());
    drain.start();
    channel.runPendingTasks();
    assertThat(channel.isOpen()).isTrue();
    return written(channel, messages);
  }

  // ---------------------------------------------------------------- the reference (the code replaced)

  private static String referenceRequest(HttpRequest request, RequestTarget target, boolean trusted, boolean tls,
      List<HttpObject> decoded) throws Exception {
    ClientAddress address = Decisions.client();
    HttpHeaders headers = ForwardingHeaders.upstreamRequest(request.headers(), address, trusted, tls);
    if (Upgrades.isWebSocket(request)) {
      Upgrades.keepUpgrade(request.headers(), headers);
    }
    if (HttpUtil.isTransferEncodingChunked(request)) {
      headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    if (!headers.contains(HttpHeaderNames.HOST)) {
      headers.set(HttpHeaderNames.HOST, AUTHORITY);
    }
    HttpRequest out = new DefaultHttpRequest(HttpVersion.HTTP_1_1, request.method(), target.originForm(), headers);
    List<Object> messages = new ArrayList<>();
    messages.add(out);
    messages.addAll(decoded.subList(1, decoded.size()));
    return encode(new HttpRequestEncoder(), messages);
  }

  private static String wireRequest(HttpRequest request, RequestTarget target, boolean trusted, boolean tls,
      List<HttpObject> decoded) {
    EncodedHead head = UpstreamRequestHead.encode(PooledByteBufAllocator.DEFAULT, request, target.originForm(),
        Decisions.client().forwardedFor(), trusted, tls, Upgrades.isWebSocket(request), AUTHORITY);
    List<Object> messages = new ArrayList<>();
    messages.add(head);
    messages.addAll(decoded.subList(1, decoded.size()));
    EmbeddedChannel channel = new EmbeddedChannel(new UpstreamCodec(new HttpDecoderConfig()));
    return written(channel, messages);
  }

  private static String referenceResponse(HttpResponse upstream, HeaderStyle style, Decision decision, boolean head,
      boolean http11, boolean keepAlive, List<HttpObject> body) throws Exception {
    List<Object> messages = new ArrayList<>();
    messages.add(referenceResponseObject(upstream, style, decision, head, http11, keepAlive));
    messages.addAll(body);
    return encode(new HttpResponseEncoder(), messages);
  }

  /** The response object the exchange wrote before its head was written in wire form. */
  private static HttpResponse referenceResponseObject(HttpResponse upstream, HeaderStyle style, Decision decision,
      boolean head, boolean http11, boolean keepAlive) {
    HttpHeaders copy = new DefaultHttpHeaders().add(upstream.headers());
    int status = upstream.status().code();
    HttpHeaders headers = ForwardingHeaders.clientResponse(copy);
    RateLimitHeaders.apply(style, decision, headers);
    HttpResponse out = new DefaultHttpResponse(HttpVersion.HTTP_1_1, upstream.status(), headers);
    boolean closeAfterResponse = false;
    boolean bodyless = head || status == 204 || status == 304;
    if (!bodyless && !headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
      if (http11) {
        HttpUtil.setTransferEncodingChunked(out, true);
      } else {
        closeAfterResponse = true;
      }
    }
    if (!keepAlive || closeAfterResponse) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (!http11) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    return out;
  }

  // ---------------------------------------------------------------- helpers

  private static List<HttpObject> decodeRequest(String raw) {
    EmbeddedChannel channel = new EmbeddedChannel(new StrictRequestDecoder(ProxyServer.decoderConfig()));
    channel.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1));
    List<HttpObject> out = new ArrayList<>();
    Object msg;
    while ((msg = channel.readInbound()) != null) {
      out.add((HttpObject) msg);
    }
    channel.finishAndReleaseAll();
    return out;
  }

  /** Decodes with the upstream codec, told first whether the request was a HEAD. */
  private static List<HttpObject> decodeResponse(String raw, boolean headRequest) {
    EmbeddedChannel channel = new EmbeddedChannel(new UpstreamCodec(new HttpDecoderConfig()));
    channel.writeOutbound(new EncodedHead(Unpooled.buffer(0), false, false, headRequest));
    releaseAll(channel.outboundMessages());
    channel.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1));
    channel.finish(); // a body read until the close ends here
    List<HttpObject> out = new ArrayList<>();
    Object msg;
    while ((msg = channel.readInbound()) != null) {
      out.add((HttpObject) msg);
    }
    return out;
  }

  /** A second, independent reference to each content (each encoder consumes its own). */
  private static List<HttpObject> duplicates(List<HttpObject> messages) {
    List<HttpObject> out = new ArrayList<>();
    for (HttpObject m : messages) {
      out.add(m instanceof HttpContent content && m != LastHttpContent.EMPTY_LAST_CONTENT ? content.retainedDuplicate() : m);
    }
    return out;
  }

  private static String encode(io.netty.channel.ChannelHandler encoder, EncodedHead head, List<HttpObject> body) {
    List<Object> messages = new ArrayList<>();
    messages.add(head);
    messages.addAll(body);
    return written(new EmbeddedChannel(encoder), messages);
  }

  private static String encode(io.netty.channel.ChannelHandler encoder, List<Object> messages) {
    return written(new EmbeddedChannel(encoder), messages);
  }

  private static String written(EmbeddedChannel channel, List<Object> messages) {
    for (Object m : messages) {
      channel.write(m);
    }
    channel.flush();
    StringBuilder out = new StringBuilder();
    Object msg;
    while ((msg = channel.readOutbound()) != null) {
      ByteBuf buf = (ByteBuf) msg;
      out.append(buf.toString(StandardCharsets.ISO_8859_1));
      buf.release();
    }
    channel.finishAndReleaseAll();
    return out.toString();
  }

  private static void releaseAll(java.util.Queue<Object> messages) {
    Object m;
    while ((m = messages.poll()) != null) {
      ReferenceCountUtil.release(m);
    }
  }
}
