package dev.sluice.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A chunked body that turns malformed after the request was admitted and its head forwarded: the
 * upstream connection is aborted (reset), so the upstream never reads a request that ends cleanly.
 */
@Timeout(30)
class ChunkedAbortTest {
  private RecordingUpstream upstream;
  private GatewayFixture fixture;

  @BeforeEach
  void start() throws Exception {
    upstream = new RecordingUpstream();
    fixture = new GatewayFixture(upstream.port(), "5s");
  }

  @AfterEach
  void stop() throws Exception {
    fixture.close();
    upstream.close();
  }

  @Test
  void malformedChunkSize_afterForwardingStarted_abortsTheUpstreamConnection() throws Exception {
    try (RawConnection client = new RawConnection(fixture.address())) {
      client.send("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
      RecordingUpstream.Connection seen = upstream.awaitReceived("hello", Duration.ofSeconds(10));

      client.send("zz\r\n\r\n");
      RawConnection.Response response = client.read();

      assertThat(response.status()).isEqualTo(400);
      assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
      assertThat(response.text()).contains("\"detail\":\"malformed chunked body: a chunk size is not a hexadecimal"
          + " number; expected hex digits (e.g. \\\"1a\\\"), optional ;extensions, then CRLF\"");
      assertThat(client.closedByServer()).isTrue();
      assertThat(RecordingUpstream.awaitEnd(seen, Duration.ofSeconds(10))).isEqualTo("reset");
      assertThat(seen.text()).startsWith("POST /upload HTTP/1.1\r\n").doesNotContain("0\r\n\r\n");
    }
  }

  @Test
  void bodyShorterThanContentLength_clientGone_abortsTheUpstreamConnection() throws Exception {
    try (RawConnection client = new RawConnection(fixture.address())) {
      client.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nhello");
      RecordingUpstream.Connection seen = upstream.awaitReceived("hello", Duration.ofSeconds(10));
      client.close();

      // A FIN after 5 of 100 bytes would let a server that reads "until EOF" see a short body
      // that looks whole (gunicorn's length reader returns what it has); a reset cannot.
      assertThat(RecordingUpstream.awaitEnd(seen, Duration.ofSeconds(10))).isEqualTo("reset");
    }
  }
}
