package dev.sluice.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * Finds a TCP port that is free on the loopback interface right now.
 *
 * <p>There is an unavoidable race between closing the probe socket and the caller's process
 * binding the port; the kernel hands out ephemeral ports in a rotating sequence, so a port just
 * released is rarely handed out again within the seconds a test needs.
 */
public final class FreePort {

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
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(address, 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free TCP port on " + address.getHostAddress(), e);
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
