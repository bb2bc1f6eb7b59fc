package dev.sluice.testkit;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the repository root, so tests can use files outside their module ({@code examples/},
 * {@code cli/target/sluice.jar}).
 */
public final class RepoRoot {

    private RepoRoot() {
    }

    /**
     * The system property {@code sluice.repo.root} if set, else the nearest folder at or above the
     * working directory that contains {@code examples/}.
     *
     * @throws IllegalStateException if no such folder exists
     */
    public static Path find() {
        String configured = System.getProperty("sluice.repo.root");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        Path start = Path.of(System.getProperty("user.dir")).toAbsolutePath().normalize();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("examples"))) {
                return dir;
            }
        }
        throw new IllegalStateException("cannot find the Sluice repository root: no folder at or above " + start
                + " contains examples/ (set -Dsluice.repo.root=<path> when running from elsewhere)");
    }
}
