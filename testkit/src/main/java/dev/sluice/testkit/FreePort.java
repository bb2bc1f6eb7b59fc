package dev.sluice.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

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

    /** Returns {@code 127.0.0.1:<free port>}, ready to put in a listen address. */
    public static InetSocketAddress loopbackAddress() {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        return new InetSocketAddress(loopback, find(loopback));
    }
}
