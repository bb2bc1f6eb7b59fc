package dev.sluice.testkit;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Locates the external programs the test kit runs, failing with the package that provides them.
 *
 * <p>Tests never skip when a program is missing: the message tells the developer exactly what to
 * install, and {@code ./scripts/test.sh} installs it automatically.
 */
public final class Executables {

    private Executables() {
    }

    /**
     * Returns the first executable among {@code candidates} (absolute paths) or, failing that,
     * {@code name} found on {@code PATH}.
     *
     * @param name           program name, e.g. {@code redis-server}
     * @param debianPackage  the Debian package that installs it, named in the error
     * @param candidates     absolute paths to try first (Debian's locations)
     * @throws IllegalStateException naming the program, where it looked and the package to install
     */
    public static Path require(String name, String debianPackage, String... candidates) {
        List<String> looked = new ArrayList<>();
        for (String candidate : candidates) {
            Path path = Path.of(candidate);
            looked.add(candidate);
            if (Files.isExecutable(path)) {
                return path;
            }
        }
        String pathVariable = System.getenv().getOrDefault("PATH", "");
        for (String dir : pathVariable.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path path = Path.of(dir, name);
            if (Files.isExecutable(path)) {
                return path;
            }
        }
        looked.add("$PATH (" + pathVariable + ")");
        throw new IllegalStateException(name + " is not installed (looked in " + String.join(", ", looked)
                + "); install the Debian package: apt-get install -y " + debianPackage
                + " (./scripts/test.sh installs every package the tests need)");
    }
}
