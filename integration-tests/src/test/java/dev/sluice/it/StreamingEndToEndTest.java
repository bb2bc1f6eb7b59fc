package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testkit.FlaskApp;
import java.io.ByteArrayInputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Large bodies pass through the gateway intact, in both directions, over kept-alive connections. */
class StreamingEndToEndTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String POLICIES = """
            defaults:
              by: ip
              limits: ["1000/minute"]
            """;

    private static FlaskApp app;
    private static GatewayUnderTest gateway;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();

    @BeforeAll
    static void start() {
        app = FlaskApp.start();
        gateway = GatewayUnderTest.start(app.uri(), "", POLICIES);
    }

    @AfterAll
    static void stop() {
        try {
            gateway.close();
        } finally {
            app.stop();
        }
    }

    @Test
    void oneMegabyteUpload_withContentLength_reachesUpstreamIntact() throws Exception {
        byte[] body = randomBytes(1024 * 1024, 1);

        JsonNode seen = echo(HttpRequest.BodyPublishers.ofByteArray(body));

        assertThat(seen.path("length").asLong()).isEqualTo(body.length);
        assertThat(seen.path("sha256").asText()).isEqualTo(sha256(body));
    }

    @Test
    void oneMegabyteUpload_chunked_reachesUpstreamIntact() throws Exception {
        byte[] body = randomBytes(1024 * 1024 + 17, 2);

        // An InputStream publisher has no known length, so the client sends it chunked.
        JsonNode seen = echo(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)));

        assertThat(seen.path("length").asLong()).isEqualTo(body.length);
        assertThat(seen.path("sha256").asText()).isEqualTo(sha256(body));
    }

    @Test
    void bigDownload_eightMegabytes_arrivesIntactWithUpstreamChecksum() throws Exception {
        int size = 8 * 1024 * 1024 + 3;
        HttpRequest request = HttpRequest.newBuilder(gateway.uri().resolve("/__big?bytes=" + size))
                .timeout(Duration.ofSeconds(30)).build();

        HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).hasSize(size);
        assertThat(sha256(response.body())).isEqualTo(response.headers().firstValue("X-Body-Sha256").orElseThrow());
    }

    private JsonNode echo(HttpRequest.BodyPublisher body) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(gateway.uri().resolve("/api/echo"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/octet-stream")
                .POST(body)
                .build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    private static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
