package dev.sluice.it;

import dev.sluice.testkit.ManagedProcess;
import dev.sluice.testkit.RepoRoot;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The {@code sluice} command as users run it: a separate JVM on the runnable jar the cli module
 * packaged earlier in the same reactor build ({@code -Dsluice.cli.jar}), or, when only {@code
 * test} ran and there is no jar, {@code dev.sluice.cli.Main} on this module's test class path (the
 * same code, still a real process).
 */
final class SluiceProcess {
    private SluiceProcess() {}

    /** The command line that runs {@code sluice ARGS}. */
    static List<String> command(String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Path jar = jar();
        if (Files.isRegularFile(jar)) {
            command.add("-jar");
            command.add(jar.toString());
        } else {
            command.add("-cp");
            command.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
            command.add("dev.sluice.cli.Main");
        }
        command.addAll(List.of(args));
        return command;
    }

    /** The runnable jar (it may not exist when only {@code test} ran). */
    static Path jar() {
        return Path.of(System.getProperty("sluice.cli.jar", RepoRoot.find().resolve("cli/target/sluice.jar").toString()));
    }

    /** What a finished command did. */
    record Result(int exitCode, String stdout, String stderr) {
        /** Both streams, for assertion messages. */
        String output() {
            return "stdout:\n" + stdout + "\nstderr:\n" + stderr;
        }
    }

    /** Runs {@code sluice ARGS} in {@code directory} with extra environment variables; 60 s at most. */
    static Result run(Path directory, Map<String, String> environment, String... args) throws Exception {
        Path logs = ManagedProcess.logDirectory();
        String id = "sluice-" + args[0] + "-" + System.nanoTime();
        Path stdout = logs.resolve(id + ".out");
        Path stderr = logs.resolve(id + ".err");
        ProcessBuilder builder = new ProcessBuilder(command(args))
                .directory(directory.toFile())
                .redirectOutput(stdout.toFile())
                .redirectError(stderr.toFile());
        builder.environment().putAll(environment);
        Process process = builder.start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("sluice " + String.join(" ", args) + " did not finish within 60 s");
        }
        return new Result(process.exitValue(), Files.readString(stdout, StandardCharsets.UTF_8),
                Files.readString(stderr, StandardCharsets.UTF_8));
    }
}
