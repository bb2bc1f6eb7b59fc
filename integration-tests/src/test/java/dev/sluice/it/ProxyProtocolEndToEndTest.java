package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.HaProxy;
import dev.sluice.testkit.RawHttp;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * {@code gateway.proxy_protocol: true} behind a real HAProxy ({@code send-proxy} and {@code
 * send-proxy-v2}). HAProxy connects from 127.0.0.1, the only trusted address; clients bind
 * 127.0.0.2 and 127.0.0.3, so the PROXY header is the only way Sluice can tell them apart.
 */
class ProxyProtocolEndToEndTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GATEWAY = "  proxy_protocol: true\n  max_connections_per_ip: 2\n  max_connections: 50\n";
    private static final String REST = """
            clients:
              trusted_proxies: [127.0.0.1/32]
              ip_header: x-forwarded-for
            policies:
              - name: echo
                match: { methods: [POST], paths: ["/api/echo"] }
                by: ip
                limits: ["2/minute"]
            """;

    @ParameterizedTest
    @EnumSource(value = HaProxy.Mode.class, names = {"PROXY_V1", "PROXY_V2"})
    void clientsBehindHaProxy_areTheAddressesThePROXYHeaderCarries(HaProxy.Mode mode) throws Exception {
        InetAddress alice = InetAddress.getByName("127.0.0.2");
        InetAddress bob = InetAddress.getByName("127.0.0.3");
        try (FlaskApp app = FlaskApp.start();
             GatewayUnderTest gateway = GatewayUnderTest.start(app.uri(), GATEWAY, REST);
             HaProxy haproxy = HaProxy.tcp(gateway.address(), mode)) {

            RawHttp.Response alice1 = echo(haproxy.address(), alice, null);
            // A forged X-Forwarded-For from a client that is not a trusted proxy is ignored.
            RawHttp.Response alice2 = echo(haproxy.address(), alice, "127.0.0.9");
            RawHttp.Response alice3 = echo(haproxy.address(), alice, "127.0.0.10");
            RawHttp.Response bob1 = echo(haproxy.address(), bob, null);

            assertThat(alice1.status()).isEqualTo(200);
            assertThat(alice2.status()).isEqualTo(200);
            assertThat(alice3.status()).as("alice's own bucket is empty").isEqualTo(429);
            assertThat(bob1.status()).as("bob has his own bucket behind the same HAProxy").isEqualTo(200);
            // The upstream sees the client from the PROXY header, not HAProxy, and no forged entry.
            assertThat(JSON.readTree(bob1.body()).path("x_forwarded_for").asText()).isEqualTo("127.0.0.3");
            assertThat(JSON.readTree(alice1.body()).path("x_forwarded_for").asText()).isEqualTo("127.0.0.2");
            assertThat(app.stats().hits("/api/echo")).isEqualTo(3);
        }
    }

    @Test
    void maxConnectionsPerIp_countsTheAddressThePROXYHeaderCarries() throws Exception {
        InetAddress alice = InetAddress.getByName("127.0.0.2");
        InetAddress bob = InetAddress.getByName("127.0.0.3");
        try (FlaskApp app = FlaskApp.start();
             GatewayUnderTest gateway = GatewayUnderTest.start(app.uri(), GATEWAY, REST);
             HaProxy haproxy = HaProxy.tcp(gateway.address(), HaProxy.Mode.PROXY_V2);
             Socket a1 = open(haproxy.address(), alice);
             Socket a2 = open(haproxy.address(), alice)) {
            // Two idle connections from alice hold her cap of 2 (all arrive from HAProxy's address).
            partialRequest(a1);
            partialRequest(a2);
            awaitOpen(gateway, 2);
            assertThatThrownBy(() -> RawHttp.get(haproxy.address(), alice, "/api/ping", Map.of()))
                    .as("alice's third connection is closed at her per-address cap")
                    .isInstanceOf(UncheckedIOException.class);
            assertThat(RawHttp.get(haproxy.address(), bob, "/healthz", Map.of()).status())
                    .as("bob, behind the same HAProxy, is not affected").isEqualTo(200);
        }
    }

    @Test
    void aPROXYHeaderFromAnUntrustedPeer_closesTheConnection() throws Exception {
        InetAddress mallory = InetAddress.getByName("127.0.0.2");
        try (FlaskApp app = FlaskApp.start();
             GatewayUnderTest gateway = GatewayUnderTest.start(app.uri(), GATEWAY, REST)) {
            byte[] request = ("POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            byte[] v1 = concat("PROXY TCP4 203.0.113.7 127.0.0.1 4000 80\r\n".getBytes(StandardCharsets.US_ASCII),
                    request);
            byte[] v2 = concat(v2Header(new byte[] {(byte) 203, 0, 113, 7}), request);

            assertThat(exchange(gateway.address(), mallory, v1)).as("v1 header from 127.0.0.2").isEmpty();
            assertThat(exchange(gateway.address(), mallory, v2)).as("v2 header from 127.0.0.2").isEmpty();
            // The two closed connections no longer count against mallory's cap of 2: the client
            // sees the close before the gateway's loop gives the count back.
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
                    .until(() -> gateway.openConnections(mallory) == 0);
            // The same client without a header is served directly (it is simply the client).
            assertThat(echo(gateway.address(), mallory, null).status()).isEqualTo(200);
            // A trusted peer must send the header while proxy_protocol is on.
            assertThat(exchange(gateway.address(), InetAddress.getByName("127.0.0.1"), request))
                    .as("plain HTTP from the trusted proxy's address").isEmpty();
            assertThat(app.stats().hits("/api/echo")).as("only the plain request reached Flask").isEqualTo(1);
            assertThat(gateway.metrics().sum("sluice_connections_refused_total", Map.of("reason", "proxy_protocol")))
                    .isEqualTo(3.0);
        }
    }

    private static RawHttp.Response echo(InetSocketAddress to, InetAddress from, String spoofed) {
        Map<String, String> headers = spoofed == null ? Map.of() : Map.of("X-Forwarded-For", spoofed);
        return RawHttp.request(to, from, "POST", "/api/echo", headers, "ping".getBytes(StandardCharsets.US_ASCII));
    }

    private static Socket open(InetSocketAddress to, InetAddress from) throws Exception {
        Socket socket = new Socket();
        socket.bind(new InetSocketAddress(from, 0));
        socket.connect(to, 5000);
        return socket;
    }

    private static void partialRequest(Socket socket) throws Exception {
        socket.getOutputStream().write("GET /api/ping HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
    }

    private static void awaitOpen(GatewayUnderTest gateway, int atLeast) {
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .untilAsserted(() -> assertThat(open(gateway)).isGreaterThanOrEqualTo(atLeast));
    }

    private static double open(GatewayUnderTest gateway) {
        return gateway.metrics().sum("sluice_connections_open", Map.of());
    }

    /** Sends raw bytes and returns everything read until the server closes (empty: closed unanswered). */
    private static String exchange(InetSocketAddress to, InetAddress from, byte[] bytes) throws Exception {
        try (Socket socket = open(to, from)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(bytes);
            socket.getOutputStream().flush();
            ByteArrayOutputStream read = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            try {
                in.transferTo(read);
            } catch (java.net.SocketException reset) {
                // a reset is a close too
            }
            return read.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /** A PROXY v2 header: PROXY command, TCP over IPv4, from {@code source}:4000 to 127.0.0.1:80. */
    private static byte[] v2Header(byte[] source) {
        byte[] header = new byte[16 + 12];
        byte[] signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
        System.arraycopy(signature, 0, header, 0, 12);
        header[12] = 0x21; // version 2, PROXY
        header[13] = 0x11; // AF_INET, STREAM
        header[14] = 0;
        header[15] = 12;
        System.arraycopy(source, 0, header, 16, 4);
        header[20] = 127;
        header[23] = 1;
        header[24] = 0x0F;
        header[25] = (byte) 0xA0;
        header[27] = 80;
        return header;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = new byte[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
