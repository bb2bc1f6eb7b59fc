package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.ManagedProcess;
import dev.sluice.testkit.RepoRoot;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice check} as a user runs it: a separate JVM. It uses the runnable jar the cli module
 * packaged earlier in the same reactor build ({@code cli/<build dir>/sluice.jar}); when only
 * {@code test} ran, so no jar exists yet, it runs {@code dev.sluice.cli.Main} from this module's
 * test class path instead (same code, still a real process).
 */
class CliEndToEndTest {

    @Test
    void check_exampleFile_exitsZeroAndPrintsPolicyMatrix() throws Exception {
        Path example = RepoRoot.find().resolve("examples/flask-api/sluice.yaml");

        Result result = sluice("check", "-c", example.toString());

        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output()).contains("login", "search", "reports", "5/minute", "60/minute");
    }

    @Test
    void check_invalidLimit_exitsTwoWithFileLineColumnError(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, """
                version: 1
                policies:
                  - name: login
                    match: { paths: ["/auth/login"] }
                    by: ip
                    limits: ["5/fortnight"]
                """);

        Result result = sluice("check", "-c", bad.toString());

        assertThat(result.exitCode()).as(result.output()).isEqualTo(2);
        assertThat(result.output()).containsPattern("bad\\.yaml:6:\\d+: ").contains("fortnight");
    }

    private record Result(int exitCode, String output) {
    }

    private static Result sluice(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Path jar = Path.of(System.getProperty("sluice.cli.jar",
                RepoRoot.find().resolve("cli/target/sluice.jar").toString()));
        if (Files.isRegularFile(jar)) {
            command.add("-jar");
            command.add(jar.toString());
        } else {
            command.add("-cp");
            command.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
            command.add("dev.sluice.cli.Main");
        }
        command.addAll(List.of(args));
        Path log = ManagedProcess.logDirectory().resolve("sluice-cli-" + System.nanoTime() + ".log");
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("sluice " + String.join(" ", args) + " did not finish within 60 s; output:\n"
                    + Files.readString(log, StandardCharsets.UTF_8));
        }
        // The command heads the output so a failure message says which way sluice was run.
        return new Result(process.exitValue(),
                "$ " + String.join(" ", command) + "\n" + Files.readString(log, StandardCharsets.UTF_8));
    }
}
