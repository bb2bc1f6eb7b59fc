package dev.sluice.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * nginx in the foreground ({@code -g 'daemon off;'}) with a generated configuration, its pid file,
 * error log, access log and temp folders in a fresh temporary directory, listening on a free
 * {@code 127.0.0.1} port.
 *
 * <p>nginx always connects to its upstream from {@code 127.0.0.1} here, so a gateway that trusts
 * exactly {@code 127.0.0.1/32} trusts this nginx, while test clients that bind other loopback
 * addresses ({@code 127.0.0.2}, {@code 127.0.0.3}) stay untrusted.
 */
public final class Nginx implements AutoCloseable {

    private final ManagedProcess process;
    private final int port;
    private final Path directory;

    private Nginx(ManagedProcess process, int port, Path directory) {
        this.process = process;
        this.port = port;
        this.directory = directory;
    }

    /**
     * Starts nginx as the production example does: a reverse proxy to {@code upstream} that
     * appends the client to {@code X-Forwarded-For} and streams bodies both ways.
     */
    public static Nginx reverseProxy(InetSocketAddress upstream) {
        return start(String.join("\n",
                "location / {",
                "    proxy_pass http://" + upstream.getAddress().getHostAddress() + ":" + upstream.getPort() + ";",
                "    proxy_http_version 1.1;",
                "    proxy_set_header Connection \"\";",
                "    proxy_set_header Host $host;",
                "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
                "    proxy_set_header X-Forwarded-Proto $scheme;",
                "    proxy_set_header X-Forwarded-Host $host;",
                "    proxy_request_buffering off;",
                "    proxy_buffering off;",
                "}"));
    }

    /**
     * Starts nginx with one {@code server} block whose body (locations and directives) is given;
     * the {@code listen} directive is added.
     *
     * @throws IllegalStateException if nginx is missing (naming the Debian package), rejects the
     *                               configuration, or does not listen within 15 s
     */
    public static Nginx start(String serverBody) {
        Path nginx = Executables.require("nginx", "nginx", "/usr/sbin/nginx");
        int port = FreePort.find();
        Path dir;
        try {
            dir = Files.createTempDirectory("sluice-nginx-");
            // Running as root, nginx would drop its workers to "nobody", who cannot use this
            // private directory; keep them as the current user instead.
            String user = "root".equals(System.getProperty("user.name")) ? "user root root;\n" : "";
            String config = user
                    + "worker_processes 1;\n"
                    + "pid " + dir.resolve("nginx.pid") + ";\n"
                    + "error_log " + dir.resolve("error.log") + " info;\n"
                    + "events { worker_connections 256; }\n"
                    + "http {\n"
                    + "    access_log " + dir.resolve("access.log") + ";\n"
                    + "    client_body_temp_path " + dir.resolve("client_body") + ";\n"
                    + "    proxy_temp_path " + dir.resolve("proxy") + ";\n"
                    + "    fastcgi_temp_path " + dir.resolve("fastcgi") + ";\n"
                    + "    uwsgi_temp_path " + dir.resolve("uwsgi") + ";\n"
                    + "    scgi_temp_path " + dir.resolve("scgi") + ";\n"
                    + "    client_max_body_size 64m;\n"
                    + "    server {\n"
                    + "        listen 127.0.0.1:" + port + ";\n"
                    + serverBody.indent(8)
                    + "    }\n"
                    + "}\n";
            Files.writeString(dir.resolve("nginx.conf"), config, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the nginx configuration", e);
        }
        ManagedProcess process = ManagedProcess.builder("nginx", List.of(
                        nginx.toString(),
                        "-p", dir.toString(),
                        "-e", dir.resolve("error.log").toString(),
                        "-c", dir.resolve("nginx.conf").toString(),
                        "-g", "daemon off;"))
                .diagnosticLog(dir.resolve("error.log"))
                .readyWhenPortOpen(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
                .startupTimeout(java.time.Duration.ofSeconds(15))
                .start();
        return new Nginx(process, port, dir);
    }

    /** The port nginx listens on at {@code 127.0.0.1}. */
    public int port() {
        return port;
    }

    /** {@code 127.0.0.1:port}. */
    public InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    /** {@code http://127.0.0.1:port}. */
    public URI uri() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** The folder with nginx.conf, error.log, access.log and the pid file. */
    public Path directory() {
        return directory;
    }

    /** The nginx master process. */
    public ManagedProcess process() {
        return process;
    }

    /** Stops nginx (SIGTERM to the master, then SIGKILL to whatever is left). */
    public void stop() {
        process.stop();
    }

    @Override
    public void close() {
        stop();
    }
}
