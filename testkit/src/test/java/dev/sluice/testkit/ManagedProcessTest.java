package dev.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ManagedProcessTest {

    @Test
    void start_processExitsBeforeReady_failsWithStatusAndLogTail() {
        ManagedProcess.Builder builder = ManagedProcess.builder("early-exit",
                        List.of("/bin/sh", "-c", "echo boom-from-child; exit 3"))
                .readyWhenPortOpen(new InetSocketAddress("127.0.0.1", FreePort.find()));

        assertThatThrownBy(builder::start)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("early-exit exited with status 3 before it was ready")
                .hasMessageContaining("boom-from-child");
    }

    @Test
    void start_portNeverOpens_failsAfterTimeoutAndKillsProcess() {
        ManagedProcess.Builder builder = ManagedProcess.builder("sleeper", List.of("/bin/sleep", "30"))
                .readyWhenPortOpen(new InetSocketAddress("127.0.0.1", FreePort.find()))
                .startupTimeout(Duration.ofMillis(300));

        assertThatThrownBy(builder::start)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("sleeper was not ready within 300 ms")
                .hasMessageContaining("never accepted a connection");
    }

    @Test
    void stop_processWithChildren_terminatesWholeFamily() throws Exception {
        // The shell ignores SIGTERM, so the test also proves the SIGKILL fallback.
        ManagedProcess process = ManagedProcess.builder("family",
                List.of("/bin/sh", "-c", "trap '' TERM; /bin/sleep 60 & /bin/sleep 60 & wait")).start();
        ProcessHandle shell = ProcessHandle.of(process.pid()).orElseThrow();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> shell.descendants().count() == 2);
        List<ProcessHandle> children = shell.descendants().toList();

        process.stop(Duration.ofMillis(300));

        assertThat(process.isAlive()).isFalse();
        assertThat(children).noneMatch(ProcessHandle::isAlive);
    }

    @Test
    void signal_stopThenCont_pausesAndResumes() throws Exception {
        try (ManagedProcess process = ManagedProcess.builder("pausable", List.of("/bin/sleep", "60")).start()) {
            process.signal("STOP");
            assertThat(processState(process.pid())).isEqualTo("T");
            process.signal("CONT");
            assertThat(processState(process.pid())).isNotEqualTo("T");
        }
    }

    private static String processState(long pid) throws Exception {
        String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
        return stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    }
}
