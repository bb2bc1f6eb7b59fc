package dev.sluice.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Finds a TCP port that is free on the loopback interface right now.
 *
 * <p>There is a race between closing the probe socket and the caller's process binding the port.
 * The ports come from below the kernel's ephemeral range ({@code ip_local_port_range}), chosen at
 * random: the connections the tests' processes open (to Redis, to an upstream) take their local
 * ports from that range, and one of them once took a port found free a moment earlier (a second
 * gateway's listen port, taken by the first one's Redis connection). A test's own listeners are
 * the only other users of the ports below it.
 */
public final class FreePort {

    /** The lowest port {@link #find} hands out: above the well-known and common service ports. */
    static final int LOWEST = 20000;

    private FreePort() {
    }

    /**
     * Returns a port that nothing listens on at {@code 127.0.0.1}.
     *
     * @throws UncheckedIOException if the kernel cannot hand out an ephemeral port
     */
    public static int find() {
        return find(InetAddress.getLoopbackAddress());
    }

    /**
     * Returns a port that nothing listens on at {@code address}.
     *
     * @throws UncheckedIOException if the kernel cannot hand out an ephemeral port
     */
    public static int find(InetAddress address) {
        return findWithCompanion(address, 0);
    }

    /**
     * Returns a port {@code p} on {@code 127.0.0.1} such that {@code p} and {@code p + offset} are
     * both free and, where the host leaves room, both below the ephemeral range. For a server that
     * opens a second listener at a fixed offset: a Redis Cluster node's bus listens on its port
     * plus 10000, and a bus port inside the ephemeral range was once taken by an outgoing
     * connection (the node exited with "Address already in use").
     *
     * @throws IllegalArgumentException if {@code offset} is negative or leaves no valid port
     * @throws UncheckedIOException if no such port can be found
     */
    public static int findWithCompanion(int offset) {
        return findWithCompanion(InetAddress.getLoopbackAddress(), offset);
    }

    private static int findWithCompanion(InetAddress address, int offset) {
        if (offset < 0 || offset > 65535 - 1024) {
            throw new IllegalArgumentException("companion offset " + offset + " out of range [0, 64511]");
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        int high = ephemeralLow() - 1 - offset;
        if (high - LOWEST >= 1000) {
            for (int attempt = 0; attempt < 200; attempt++) {
                int port = LOWEST + random.nextInt(high - LOWEST + 1);
                if (bindable(address, port) && (offset == 0 || bindable(address, port + offset))) {
                    return port;
                }
            }
        }
        // No room below the ephemeral range on this host (or all taken): any port the kernel gives,
        // as long as its companion is free too.
        for (int attempt = 0; attempt < 200; attempt++) {
            int port;
            try (ServerSocket socket = new ServerSocket()) {
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(address, 0));
                port = socket.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot find a free TCP port on " + address.getHostAddress(), e);
            }
            if (offset == 0 || (port + offset <= 65535 && bindable(address, port + offset))) {
                return port;
            }
        }
        throw new UncheckedIOException(new IOException("no free TCP port p on " + address.getHostAddress()
            + " with p + " + offset + " free too"));
    }

    /** The first port of the kernel's ephemeral range, Linux's default when it cannot be read. */
    static int ephemeralLow() {
        try {
            // Not Files.readString: a procfs file reports size 0, and it returned one character.
            String[] range = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0)
                .trim().split("\\s+");
            return Integer.parseInt(range[0]);
        } catch (IOException | RuntimeException e) {
            return 32768;
        }
    }

    private static boolean bindable(InetAddress address, int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(address, port));
            return true;
        } catch (IOException busy) {
            return false;
        }
    }

    /**
     * A loopback port nothing answers on, held for as long as the socket is open: bound, never
     * listening, so a connect to it is refused and nothing else can bind it. For "a dead upstream":
     * a port from {@link #find()} is released at once, and a listener bound to port 0 a moment
     * later (the gateway's own admin listener, once) may get it.
     *
     * @throws UncheckedIOException if the kernel cannot hand out an ephemeral port
     */
    public static Socket refusing() {
        Socket socket = new Socket();
        try {
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket;
        } catch (IOException e) {
            try {
                socket.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new UncheckedIOException("cannot bind a loopback port", e);
        }
    }

    /** Returns {@code 127.0.0.1:<free port>}, ready to put in a listen address. */
    public static InetSocketAddress loopbackAddress() {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        return new InetSocketAddress(loopback, find(loopback));
    }
}
