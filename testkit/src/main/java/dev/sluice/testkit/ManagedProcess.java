package dev.sluice.testkit;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An external process started for a test: output captured to a log file, readiness awaited,
 * stopped by PID.
 *
 * <p>Design: the process and every descendant it spawned (gunicorn's workers, nginx's workers)
 * are remembered at stop time, the main process gets {@code SIGTERM}, and whatever is still alive
 * after the grace period gets {@code SIGKILL}. Descendants are captured <em>before</em> the parent
 * is signalled because once it dies they are re-parented and can no longer be found through it.
 * A single JVM shutdown hook kills everything still registered, so an aborted test run does not
 * leave servers holding ports. Only processes started here are ever signalled.
 *
 * <p>Thread-safety: {@link #stop()}, {@link #kill()} and {@link #close()} may be called from any
 * thread and more than once.
 */
public final class ManagedProcess implements AutoCloseable {

    private static final Set<ManagedProcess> LIVE = ConcurrentHashMap.newKeySet();
    private static final AtomicLong SEQUENCE = new AtomicLong();
    private static final int LOG_TAIL_LINES = 40;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (ManagedProcess process : LIVE) {
                process.terminate(Duration.ofSeconds(2));
            }
        }, "sluice-testkit-reaper"));
    }

    private final String name;
    private final List<String> command;
    private final Path logFile;
    private final Path diagnosticLog;
    private final Process process;
    private volatile boolean stopped;
    private volatile boolean paused;

    private ManagedProcess(Builder builder, Process process, Path logFile) {
        this.name = builder.name;
        this.command = List.copyOf(builder.command);
        this.diagnosticLog = builder.diagnosticLog;
        this.logFile = logFile;
        this.process = process;
    }

    /**
     * Starts describing a process.
     *
     * @param name    short name used in log file names and error messages, e.g. {@code gunicorn}
     * @param command the program and its arguments; no shell is involved
     */
    public static Builder builder(String name, List<String> command) {
        return new Builder(name, command);
    }

    /**
     * Where process logs go: the system property {@code sluice.testkit.logDir} (the build sets it to
     * {@code <build dir>/process-logs}), else {@code target/process-logs} below the working
     * directory.
     */
    public static Path logDirectory() {
        String configured = System.getProperty("sluice.testkit.logDir");
        Path dir = configured != null && !configured.isBlank()
                ? Path.of(configured)
                : Path.of(System.getProperty("user.dir"), "target", "process-logs");
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the process log directory " + dir, e);
        }
    }

    /** The operating-system process id. */
    public long pid() {
        return process.pid();
    }

    /** The file receiving the process's standard output and standard error. */
    public Path logFile() {
        return logFile;
    }

    /** Whether the main process is still running. */
    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Waits up to {@code timeout} for the process to exit by itself; its exit status, or empty
     * when it is still running.
     */
    public java.util.OptionalInt awaitExit(Duration timeout) throws InterruptedException {
        if (process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            return java.util.OptionalInt.of(process.exitValue());
        }
        return java.util.OptionalInt.empty();
    }

    /** The short name given to the builder. */
    public String name() {
        return name;
    }

    /**
     * Sends a signal by name (e.g. {@code STOP}, {@code CONT}, {@code HUP}) to the main process.
     * {@code STOP} and {@code CONT} return once the kernel reports the process stopped or running.
     *
     * @throws IllegalStateException if the process is gone or {@code kill} fails
     */
    public void signal(String signal) {
        if (!process.isAlive()) {
            throw new IllegalStateException("cannot send SIG" + signal + " to " + name + " (pid " + pid()
                    + "): it has already exited with status " + process.exitValue() + "\n" + logTail());
        }
        Path kill = Executables.require("kill", "procps", "/bin/kill", "/usr/bin/kill");
        try {
            Process sender = new ProcessBuilder(kill.toString(), "-" + signal, Long.toString(pid()))
                    .redirectErrorStream(true).start();
            String output = new String(sender.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!sender.waitFor(10, TimeUnit.SECONDS) || sender.exitValue() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + pid() + " (" + name + ") failed: " + output);
            }
            // kill(1) returns once the signal is queued; the target stops (or resumes) when it is
            // next scheduled. Callers pause a server to test what happens while it is paused, so
            // wait until the kernel reports the new state.
            if (signal.equals("STOP")) {
                awaitStopped(true);
                paused = true;
            } else if (signal.equals("CONT")) {
                awaitStopped(false);
                paused = false;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + kill + " to signal " + name, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while signalling " + name, e);
        }
    }

    private void awaitStopped(boolean stopped) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (isStopped() != stopped) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(name + " (pid " + pid() + ") is "
                        + (stopped ? "still running" : "still stopped") + " 5 s after the signal");
            }
            Thread.sleep(1); // polling the kernel's view of a process: there is no event to wait on
        }
    }

    /** {@code T} (stopped by a signal) in the state field of /proc/PID/stat. */
    private boolean isStopped() {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid() + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) == 'T';
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the state of " + name + " (pid " + pid() + ")", e);
        }
    }

    /**
     * Stops gracefully: {@code SIGTERM}, up to 5 seconds for the process and its children to exit,
     * then {@code SIGKILL}. Returns once everything is gone. Idempotent.
     */
    public void stop() {
        stop(Duration.ofSeconds(5));
    }

    /**
     * Stops gracefully with a custom grace period before {@code SIGKILL}. Idempotent.
     *
     * @param grace how long to wait after {@code SIGTERM}; zero means {@code SIGKILL} at once
     */
    public void stop(Duration grace) {
        terminate(grace);
    }

    /** Kills at once with {@code SIGKILL} (a crash, as far as clients can tell). Idempotent. */
    public void kill() {
        terminate(Duration.ZERO);
    }

    /** Same as {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }

    /**
     * The last lines of the process log (and of the diagnostic log, if one was given), for error
     * messages.
     */
    public String logTail() {
        StringBuilder text = new StringBuilder();
        text.append("--- last lines of ").append(logFile).append(" ---\n").append(tail(logFile));
        if (diagnosticLog != null) {
            text.append("\n--- last lines of ").append(diagnosticLog).append(" ---\n").append(tail(diagnosticLog));
        }
        return text.toString();
    }

    private synchronized void terminate(Duration grace) {
        if (stopped) {
            return;
        }
        List<ProcessHandle> family = new ArrayList<>();
        family.add(process.toHandle());
        process.descendants().forEach(family::add);
        // A stopped (SIGSTOP) process cannot act on SIGTERM; let it run so it can exit cleanly.
        if (paused && !grace.isZero() && process.isAlive()) {
            try {
                signal("CONT");
            } catch (RuntimeException ignored) {
                // Exited in between: nothing to resume.
            }
        }
        if (!grace.isZero()) {
            process.destroy(); // SIGTERM
            long deadline = System.nanoTime() + grace.toNanos();
            for (ProcessHandle handle : family) {
                long left = deadline - System.nanoTime();
                if (left > 0) {
                    try {
                        handle.onExit().get(left, TimeUnit.NANOSECONDS);
                    } catch (Exception timedOutOrInterrupted) {
                        break;
                    }
                }
            }
        }
        for (ProcessHandle handle : family) {
            if (handle.isAlive()) {
                handle.destroyForcibly(); // SIGKILL
            }
        }
        for (ProcessHandle handle : family) {
            try {
                handle.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                // Reported below through isAlive; nothing more can be done than SIGKILL.
            }
        }
        stopped = true;
        LIVE.remove(this);
    }

    private static String tail(Path file) {
        if (file == null || !Files.exists(file)) {
            return "(no log file)";
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            long length = raf.length();
            long from = Math.max(0, length - 16 * 1024);
            byte[] bytes = new byte[(int) (length - from)];
            raf.seek(from);
            raf.readFully(bytes);
            String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\n", -1);
            int start = Math.max(0, lines.length - LOG_TAIL_LINES);
            return String.join("\n", java.util.Arrays.asList(lines).subList(start, lines.length));
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }

    @Override
    public String toString() {
        return name + "(pid " + process.pid() + ", log " + logFile + ")";
    }

    /** Describes a process to start; see {@link ManagedProcess#builder(String, List)}. */
    public static final class Builder {
        private final String name;
        private final List<String> command;
        private final Map<String, String> environment = new LinkedHashMap<>();
        private Path directory;
        private Path logFile;
        private Path diagnosticLog;
        private InetSocketAddress readyPort;
        private URI readyUrl;
        private Duration timeout = Duration.ofSeconds(30);

        private Builder(String name, List<String> command) {
            this.name = Objects.requireNonNull(name, "name");
            if (command.isEmpty()) {
                throw new IllegalArgumentException("command for " + name + " is empty; expected a program and its arguments");
            }
            this.command = List.copyOf(command);
        }

        /** Working directory of the process (default: the JVM's). */
        public Builder directory(Path directory) {
            this.directory = directory;
            return this;
        }

        /** Adds an environment variable on top of the JVM's environment. */
        public Builder environment(String key, String value) {
            environment.put(key, value);
            return this;
        }

        /** Log file for stdout and stderr (default: a new file in {@link #logDirectory()}). */
        public Builder logFile(Path logFile) {
            this.logFile = logFile;
            return this;
        }

        /** Another log the program writes itself (e.g. nginx's error log), shown in failures too. */
        public Builder diagnosticLog(Path diagnosticLog) {
            this.diagnosticLog = diagnosticLog;
            return this;
        }

        /** Ready once a TCP connection to {@code address} succeeds. */
        public Builder readyWhenPortOpen(InetSocketAddress address) {
            this.readyPort = address;
            return this;
        }

        /** Ready once {@code GET url} answers with a 2xx status. */
        public Builder readyWhenHttpOk(URI url) {
            this.readyUrl = url;
            return this;
        }

        /** How long to wait for readiness (default 30 s). */
        public Builder startupTimeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /**
         * Starts the process and waits until it is ready.
         *
         * @throws IllegalStateException if it exits early or is not ready in time; the message
         *                               has the command, the reason and the log tail, and the
         *                               process has been killed
         */
        public ManagedProcess start() {
            Path log = logFile != null ? logFile
                    : logDirectory().resolve(name + "-" + System.currentTimeMillis() + "-"
                            + SEQUENCE.incrementAndGet() + ".log");
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(nullDevice()));
            if (directory != null) {
                builder.directory(directory.toFile());
            }
            builder.environment().putAll(environment);
            Process process;
            try {
                process = builder.start();
            } catch (IOException e) {
                throw new IllegalStateException("cannot start " + name + " " + command + ": " + e.getMessage(), e);
            }
            ManagedProcess managed = new ManagedProcess(this, process, log);
            LIVE.add(managed);
            try {
                awaitReady(managed);
            } catch (RuntimeException e) {
                managed.kill();
                throw e;
            }
            return managed;
        }

        private static java.io.File nullDevice() {
            return new java.io.File("/dev/null");
        }

        private void awaitReady(ManagedProcess managed) {
            if (readyPort == null && readyUrl == null) {
                return;
            }
            String what = readyUrl != null ? "GET " + readyUrl + " never answered 2xx"
                    : "port " + readyPort.getHostString() + ":" + readyPort.getPort() + " never accepted a connection";
            long deadline = System.nanoTime() + timeout.toNanos();
            String lastProblem = "not tried";
            while (System.nanoTime() < deadline) {
                if (!managed.process.isAlive()) {
                    throw new IllegalStateException(name + " exited with status " + managed.process.exitValue()
                            + " before it was ready (" + what + ")\ncommand: " + command + "\n" + managed.logTail());
                }
                lastProblem = readyUrl != null ? probeHttp(readyUrl) : probePort(readyPort);
                if (lastProblem == null) {
                    return;
                }
                try {
                    Thread.sleep(50); // polling an external process: there is no event to wait on
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for " + name, e);
                }
            }
            throw new IllegalStateException(name + " was not ready within " + timeout.toMillis() + " ms: " + what
                    + " (last attempt: " + lastProblem + ")\ncommand: " + command + "\n" + managed.logTail());
        }

        private static String probePort(InetSocketAddress address) {
            try (Socket socket = new Socket()) {
                socket.connect(address, 250);
                return null;
            } catch (IOException e) {
                return e.toString();
            }
        }

        private static String probeHttp(URI url) {
            try {
                HttpURLConnection connection = (HttpURLConnection) url.toURL().openConnection();
                connection.setConnectTimeout(250);
                connection.setReadTimeout(2000);
                int status = connection.getResponseCode();
                connection.disconnect();
                return status / 100 == 2 ? null : "status " + status;
            } catch (IOException e) {
                return e.toString();
            }
        }
    }
}
