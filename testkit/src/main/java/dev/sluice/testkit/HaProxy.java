package dev.sluice.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * HAProxy in the foreground ({@code -db}) as a TCP load balancer in front of one backend, with a
 * generated configuration in a fresh temporary directory, listening on a free {@code 127.0.0.1}
 * port. It connects to the backend from {@code 127.0.0.1}, optionally opening each connection
 * with a PROXY protocol header ({@code send-proxy} for v1, {@code send-proxy-v2} for v2) that
 * carries the client's address; test clients bind other loopback addresses ({@code 127.0.0.2}).
 */
public final class HaProxy implements AutoCloseable {

    /** What HAProxy tells the backend about the client. */
    public enum Mode {
        /** Plain TCP, no header. */
        PLAIN(""),
        /** {@code send-proxy}: PROXY protocol v1 (text). */
        PROXY_V1(" send-proxy"),
        /** {@code send-proxy-v2}: PROXY protocol v2 (binary). */
        PROXY_V2(" send-proxy-v2");

        private final String serverOption;

        Mode(String serverOption) {
            this.serverOption = serverOption;
        }
    }

    private final ManagedProcess process;
    private final int port;

    private HaProxy(ManagedProcess process, int port) {
        this.process = process;
        this.port = port;
    }

    /**
     * Starts HAProxy in TCP mode forwarding to {@code backend}.
     *
     * @throws IllegalStateException if haproxy is missing (naming the Debian package), rejects the
     *                               configuration, or does not listen within 15 s
     */
    public static HaProxy tcp(InetSocketAddress backend, Mode mode) {
        Path haproxy = Executables.require("haproxy", "haproxy", "/usr/sbin/haproxy");
        int port = FreePort.find();
        Path dir;
        try {
            dir = Files.createTempDirectory("sluice-haproxy-");
            String config = String.join("\n",
                    "global",
                    "    maxconn 512",
                    "defaults",
                    "    mode tcp",
                    "    timeout connect 5s",
                    "    timeout client 30s",
                    "    timeout server 30s",
                    "frontend clients",
                    "    bind 127.0.0.1:" + port,
                    "    default_backend sluice",
                    "backend sluice",
                    "    server gateway " + backend.getAddress().getHostAddress() + ":" + backend.getPort()
                            + mode.serverOption,
                    "");
            Files.writeString(dir.resolve("haproxy.cfg"), config, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the haproxy configuration", e);
        }
        ManagedProcess process = ManagedProcess.builder("haproxy", List.of(
                        haproxy.toString(), "-db", "-f", dir.resolve("haproxy.cfg").toString()))
                .readyWhenPortOpen(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
                .startupTimeout(Duration.ofSeconds(15))
                .start();
        return new HaProxy(process, port);
    }

    /** {@code 127.0.0.1:port}, where clients connect. */
    public InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    @Override
    public void close() {
        process.close();
    }
}
