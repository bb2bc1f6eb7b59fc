package dev.sluice.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Throw-away certificates made with the {@code openssl} CLI at test time: a self-signed CA and
 * leaf certificates it signs, with the subject alternative names a test asks for. Everything is
 * written into one folder as {@code NAME.crt} / {@code NAME.key} (PEM, unencrypted key).
 */
public final class TestCertificates {
    private final Path dir;
    private int serial = 1;

    private TestCertificates(Path dir) {
        this.dir = dir;
    }

    /** Certificates in {@code dir} (a test's temporary folder). */
    public static TestCertificates in(Path dir) {
        return new TestCertificates(dir);
    }

    /** A self-signed CA {@code name} (valid two days); returns its certificate file. */
    public Path ca(String name) {
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-keyout", name + ".key", "-out", name + ".crt", "-subj", "/CN=Sluice test " + name);
        return cert(name);
    }

    /**
     * A leaf certificate {@code name} signed by CA {@code ca} for {@code san} (e.g.
     * {@code IP:127.0.0.1,DNS:localhost}); returns its certificate file.
     */
    public Path leaf(String name, String ca, String san) {
        try {
            Files.writeString(dir.resolve(name + ".ext"), "subjectAltName=" + san + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", "/CN=" + name);
        run("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
                "-set_serial", String.valueOf(serial++), "-days", "2", "-out", name + ".crt",
                "-extfile", name + ".ext");
        return cert(name);
    }

    /** {@code NAME.crt}. */
    public Path cert(String name) {
        return dir.resolve(name + ".crt");
    }

    /** {@code NAME.key}. */
    public Path key(String name) {
        return dir.resolve(name + ".key");
    }

    private void run(String... args) {
        Path openssl = Executables.require("openssl", "openssl", "/usr/bin/openssl");
        List<String> command = new java.util.ArrayList<>();
        command.add(openssl.toString());
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish within 60s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed:\n" + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
