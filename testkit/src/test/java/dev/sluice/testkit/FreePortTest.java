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

    @Test
    void findWithCompanion_givesAPortWhoseCompanionIsFreeAndBelowTheEphemeralRangeToo() throws Exception {
        int offset = 10000;
        boolean room = FreePort.ephemeralLow() - 1 - offset - FreePort.LOWEST >= 1000;
        for (int i = 0; i < 20; i++) {
            int port = FreePort.findWithCompanion(offset);

            if (room) {
                assertThat(port + offset).isBetween(FreePort.LOWEST + offset, FreePort.ephemeralLow() - 1);
            }
            try (ServerSocket first = new ServerSocket(); ServerSocket companion = new ServerSocket()) {
                first.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                companion.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port + offset));
            }
        }
    }

    @Test
    void findWithCompanion_refusesAnOffsetThatLeavesNoPort() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> FreePort.findWithCompanion(-1))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out of range");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> FreePort.findWithCompanion(65000))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out of range");
    }
}
