package dev.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

class FreePortTest {

    @Test
    void find_givesABindablePortBelowTheEphemeralRange_whichOutgoingConnectionsNeverTake() throws Exception {
        for (int i = 0; i < 20; i++) {
            int port = FreePort.find();

            assertThat(port).isBetween(FreePort.LOWEST, FreePort.ephemeralLow() - 1);
            try (ServerSocket socket = new ServerSocket()) {
                socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                assertThat(socket.getLocalPort()).isEqualTo(port);
            }
        }
    }

    @Test
    void find_skipsAPortSomethingListensOn() throws Exception {
        // Hold every port find() gives for a while: none is given twice while held.
        java.util.List<ServerSocket> held = new java.util.ArrayList<>();
        try {
            java.util.Set<Integer> seen = new java.util.HashSet<>();
            for (int i = 0; i < 50; i++) {
                int port = FreePort.find();
                assertThat(seen.add(port)).as("port %d given while held", port).isTrue();
                ServerSocket socket = new ServerSocket();
                socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                held.add(socket);
            }
        } finally {
            for (ServerSocket socket : held) {
                socket.close();
            }
        }
    }
}
