package dev.sluice.it;

import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.gateway.Gateway;
import dev.sluice.store.MemoryStore;
import dev.sluice.store.Store;
import dev.sluice.time.Clock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The real gateway, started in-process exactly as {@code sluice serve} would: YAML text through
 * {@link ConfigLoader#parse(String, String)}, the memory store on the system clock, and
 * {@link Gateway#start}. Both listeners use port 0, so the kernel picks free ports.
 */
final class GatewayUnderTest implements AutoCloseable {

    private static final HttpClient ADMIN = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Gateway gateway;
    private final Store store;

    private GatewayUnderTest(Gateway gateway, Store store) {
        this.gateway = gateway;
        this.store = store;
    }

    /**
     * Starts a gateway in front of {@code upstream}.
     *
     * @param gatewayExtras extra lines for the {@code gateway:} section (indented by two spaces)
     *                      such as {@code "  upstream_timeout: 1s\n"}, or empty
     * @param rest          the rest of the policy file after the {@code gateway:} section
     */
    static GatewayUnderTest start(URI upstream, String gatewayExtras, String rest) {
        return start(parse(upstream, gatewayExtras, rest));
    }

    /** Parses a policy file built like {@link #start(URI, String, String)} does, without starting. */
    static SluiceConfig parse(URI upstream, String gatewayExtras, String rest) {
        String yaml = "version: 1\n"
                + "gateway:\n"
                + "  listen: 127.0.0.1:0\n"
                + "  upstream: " + upstream + "\n"
                + "  admin: 127.0.0.1:0\n"
                + gatewayExtras
                + rest;
        SluiceConfig config;
        try {
            config = ConfigLoader.parse(yaml, "e2e.yaml");
        } catch (ConfigException e) {
            throw new AssertionError("the test's policy file is invalid: " + e.errors() + "\n" + yaml, e);
        }
        return config;
    }

    /** Starts a gateway from an already parsed configuration. */
    static GatewayUnderTest start(SluiceConfig config) {
        return start(config, new MemoryStore(Clock.system(), MemoryStore.DEFAULT_MAX_KEYS));
    }

    /** Starts a gateway on the given store, which it closes when closed. */
    static GatewayUnderTest start(SluiceConfig config, Store store) {
        try {
            return new GatewayUnderTest(Gateway.start(config, store, Clock.system()), store);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** Where clients connect. */
    InetSocketAddress address() {
        return gateway.address();
    }

    /** Where the admin listener is bound. */
    InetSocketAddress adminAddress() {
        return gateway.adminAddress();
    }

    /** {@code http://127.0.0.1:<port>} of the proxy listener. */
    URI uri() {
        return URI.create("http://" + address().getAddress().getHostAddress() + ":" + address().getPort());
    }

    /** Client connections open now from {@code address}, as {@code max_connections_per_ip} counts them. */
    int openConnections(java.net.InetAddress address) {
        return gateway.openConnections(address);
    }

    /** The Prometheus text from the admin listener's {@code /metrics}. */
    Metrics metrics() {
        InetSocketAddress admin = gateway.adminAddress();
        URI uri = URI.create("http://" + admin.getAddress().getHostAddress() + ":" + admin.getPort() + "/metrics");
        try {
            HttpResponse<String> response = ADMIN.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("GET " + uri + " answered " + response.statusCode() + ": " + response.body());
            }
            return new Metrics(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + uri + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        try {
            gateway.close();
        } finally {
            store.close();
        }
    }
}
