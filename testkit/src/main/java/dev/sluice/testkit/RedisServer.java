package dev.sluice.testkit;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A throw-away {@code redis-server} on a free {@code 127.0.0.1} port, without persistence
 * ({@code --save '' --appendonly no}), that tests can stop, kill, freeze and bring back on the
 * same port to exercise the Redis store's failure handling.
 *
 * <p>Not thread-safe: one test drives one server.
 */
public final class RedisServer implements AutoCloseable {

    private final Path redisServer;
    private final int port;
    private final Path dataDir;
    /** The TLS port, or 0 when the server speaks plain RESP only. */
    private final int tlsPort;
    private final List<String> tlsArgs;
    private ManagedProcess process;

    private RedisServer(Path redisServer, int port, Path dataDir) {
        this(redisServer, port, dataDir, 0, List.of());
    }

    private RedisServer(Path redisServer, int port, Path dataDir, int tlsPort, List<String> tlsArgs) {
        this.redisServer = redisServer;
        this.port = port;
        this.dataDir = dataDir;
        this.tlsPort = tlsPort;
        this.tlsArgs = List.copyOf(tlsArgs);
    }

    /**
     * Starts a server on a free port and waits until it answers {@code PING}.
     *
     * @throws IllegalStateException if redis-server is missing (naming the Debian package) or does
     *                               not come up within 15 s
     */
    public static RedisServer start() {
        Path binary = Executables.require("redis-server", "redis-server", "/usr/bin/redis-server");
        try {
            RedisServer server = new RedisServer(binary, FreePort.find(),
                    Files.createTempDirectory("sluice-redis-"));
            server.launch();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a data directory for redis-server", e);
        }
    }

    /**
     * Starts a server that also listens with TLS ({@code --tls-port}) on a second free port, with
     * the given PEM certificate chain and key; clients are not asked for certificates
     * ({@code --tls-auth-clients no}). The plain port stays open on {@code 127.0.0.1} for the
     * test's own {@link #call} (setup, {@code ACL SETUSER}, assertions); the code under test uses
     * {@link #tlsUri()}. Debian's redis-server is built with TLS.
     *
     * @param caFile the CA file redis-server requires even when it does not verify clients
     */
    public static RedisServer startTls(Path certFile, Path keyFile, Path caFile) {
        Path binary = Executables.require("redis-server", "redis-server", "/usr/bin/redis-server");
        try {
            int plain = FreePort.find();
            int tls = FreePort.find();
            while (tls == plain) {
                tls = FreePort.find();
            }
            RedisServer server = new RedisServer(binary, plain, Files.createTempDirectory("sluice-redis-"), tls,
                    List.of("--tls-port", Integer.toString(tls),
                            "--tls-cert-file", certFile.toString(),
                            "--tls-key-file", keyFile.toString(),
                            "--tls-ca-cert-file", caFile.toString(),
                            "--tls-auth-clients", "no"));
            server.launch();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a data directory for redis-server", e);
        }
    }

    /** The TLS port of a server started by {@link #startTls}; 0 otherwise. */
    public int tlsPort() {
        return tlsPort;
    }

    /** {@code rediss://127.0.0.1:tlsPort} of a server started by {@link #startTls}. */
    public URI tlsUri() {
        if (tlsPort == 0) {
            throw new IllegalStateException("this redis-server was not started with TLS (use startTls)");
        }
        return URI.create("rediss://127.0.0.1:" + tlsPort);
    }

    /** The port; it stays the same across {@link #restart()}. */
    public int port() {
        return port;
    }

    /** {@code 127.0.0.1:port}. */
    public InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    /** {@code redis://127.0.0.1:port}, as written in {@code store.url}. */
    public URI uri() {
        return URI.create("redis://127.0.0.1:" + port);
    }

    /** The current process; changes on {@link #restart()}. */
    public ManagedProcess process() {
        return process;
    }

    /** Whether the server process is running (a paused server is running). */
    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Shuts the server down gracefully (SIGTERM). Clients then get "connection refused". */
    public void stop() {
        if (process != null) {
            process.stop();
        }
    }

    /** Kills the server (SIGKILL), as a crash would. */
    public void kill() {
        if (process != null) {
            process.kill();
        }
    }

    /**
     * Freezes the server (SIGSTOP): connections stay open but nothing answers, as with a server
     * stuck or a network black hole. Always {@link #resume()} or stop it afterwards.
     */
    public void pause() {
        process.signal("STOP");
    }

    /** Lets a {@link #pause() paused} server run again (SIGCONT). */
    public void resume() {
        process.signal("CONT");
    }

    /**
     * Stops the server if it runs and starts a fresh, empty one on the same port.
     *
     * @throws IllegalStateException if it does not come back within 15 s
     */
    public void restart() {
        stop();
        launch();
    }

    /** Deletes every key. */
    public void flushAll() {
        call("FLUSHALL");
    }

    /** The number of keys in database 0. */
    public long dbSize() {
        return Long.parseLong(call("DBSIZE"));
    }

    /**
     * Sends one command and returns the reply as text: a status or bulk string as is, an integer
     * in decimal, {@code null} for a nil reply, an array as its elements joined by newlines.
     *
     * @throws IllegalStateException with Redis's message when it replies with an error
     * @throws UncheckedIOException  when the server cannot be reached
     */
    public String call(String... command) {
        try (Socket socket = new Socket()) {
            socket.connect(address(), 1000);
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            ByteArrayOutputStream request = new ByteArrayOutputStream();
            request.writeBytes(("*" + command.length + "\r\n").getBytes(StandardCharsets.UTF_8));
            for (String part : command) {
                byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
                request.writeBytes(("$" + bytes.length + "\r\n").getBytes(StandardCharsets.UTF_8));
                request.writeBytes(bytes);
                request.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
            }
            out.write(request.toByteArray());
            out.flush();
            return readReply(new BufferedInputStream(socket.getInputStream()), String.join(" ", command));
        } catch (IOException e) {
            throw new UncheckedIOException("redis " + String.join(" ", command) + " to " + uri() + " failed", e);
        }
    }

    @Override
    public void close() {
        stop();
    }

    private void launch() {
        List<String> command = new ArrayList<>(List.of(
                        redisServer.toString(),
                        "--port", Integer.toString(port),
                        "--bind", "127.0.0.1",
                        "--save", "",
                        "--appendonly", "no",
                        "--dir", dataDir.toString(),
                        "--daemonize", "no",
                        "--loglevel", "notice"));
        command.addAll(tlsArgs);
        process = ManagedProcess.builder("redis-server", command)
                .readyWhenPortOpen(address())
                .startupTimeout(java.time.Duration.ofSeconds(15))
                .start();
        String pong = call("PING");
        if (!"PONG".equals(pong)) {
            throw new IllegalStateException("redis-server on " + uri() + " answered PING with " + pong
                    + " (expected PONG)\n" + process.logTail());
        }
    }

    private static String readReply(InputStream in, String command) throws IOException {
        String line = readLine(in);
        if (line.isEmpty()) {
            throw new IOException("empty reply to " + command);
        }
        char type = line.charAt(0);
        String rest = line.substring(1);
        switch (type) {
            case '+':
            case ':':
                return rest;
            case '-':
                throw new IllegalStateException("redis " + command + " failed: " + rest);
            case '$': {
                int length = Integer.parseInt(rest);
                if (length < 0) {
                    return null;
                }
                byte[] bytes = in.readNBytes(length + 2);
                return new String(bytes, 0, length, StandardCharsets.UTF_8);
            }
            case '*': {
                int count = Integer.parseInt(rest);
                if (count < 0) {
                    return null;
                }
                List<String> items = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    items.add(readReply(in, command));
                }
                return String.join("\n", items);
            }
            default:
                throw new IOException("unexpected reply to " + command + ": " + line);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int previous = -1;
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed in the middle of a reply");
            }
            if (previous == '\r' && b == '\n') {
                byte[] bytes = line.toByteArray();
                return new String(bytes, 0, bytes.length - 1, StandardCharsets.UTF_8);
            }
            line.write(b);
            previous = b;
        }
    }
}
