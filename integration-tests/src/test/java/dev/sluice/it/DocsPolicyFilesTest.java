package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.RepoRoot;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Executable documentation: every policy file the documentation shows is checked by the real
 * {@code sluice check} (the runnable jar, a separate process), one test per block, named by file and
 * line.
 *
 * <p><b>What counts as a policy file</b>: a fenced code block in {@code README.md},
 * {@code docs/*.md} or {@code examples/**}{@code /*.md} whose language is {@code yaml} (or none)
 * and that has a line {@code version: 1}; and every {@code *.yaml} file under {@code examples/}
 * and {@code docs/}. Fragments without {@code version: 1} are not whole files and are not checked.
 *
 * <p><b>What must hold</b>: exit 0, nothing on stderr, and no {@code warning:} line — unless the
 * block carries a marker:
 * <ul>
 *   <li>{@code <!-- counter-example -->} on the line right above the fence (in a {@code .yaml}
 *       file: a comment line {@code # counter-example} before {@code version:}): the block shows
 *       what not to do, so {@code check} must <i>catch</i> it — exit 2 or at least one warning. A
 *       counter-example that stops being caught fails this test.
 *   <li>{@code <!-- check-warns: TEXT -->} (in a {@code .yaml} file: {@code # check-warns: TEXT}):
 *       the block is valid and {@code check} warns on purpose; there must be exactly one warning
 *       per marker, each containing its TEXT, and no other. The page must say why next to it.
 * </ul>
 *
 * <p><b>Fixtures</b>, so a block that names outside inputs is checked honestly rather than
 * skipped: every environment variable a block names with {@code *_env: NAME} is set for the
 * {@code check} process to a random 32-character secret; every {@code keys_file:} or
 * {@code jwks_file:} a Markdown block names is created beside the extracted block (one key; an RSA
 * public key as JWKS). The {@code .yaml} files are checked where they are, so the files they name
 * must exist in the repository.
 */
class DocsPolicyFilesTest {
    private static final Pattern VERSION_1 = Pattern.compile("(?m)^version:\\s*1\\s*(#.*)?$");
    private static final Pattern ENV = Pattern.compile("(?m)^[^#\\n]*?\\b\\w*_env:\\s*([A-Za-z_][A-Za-z0-9_]*)");
    private static final Pattern REFERENCED = Pattern.compile("(?m)^[^#\\n]*?\\b(keys_file|jwks_file):\\s*([^\\s#,}]+)");
    private static final Pattern YAML_MARKER = Pattern.compile("(?m)^#\\s*(counter-example|check-warns:.*?)\\s*$");

    @TempDir static Path scratch;

    /** One policy file to check. */
    private record Source(String name, Path file, String text, List<String> markers, boolean extracted) {}

    static List<Source> sources() throws Exception {
        Path root = RepoRoot.find();
        List<Path> pages = new ArrayList<>();
        pages.add(root.resolve("README.md"));
        try (Stream<Path> docs = Files.list(root.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        try (Stream<Path> examples = Files.walk(root.resolve("examples"))) {
            examples.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        List<Source> sources = new ArrayList<>();
        for (Path page : pages) {
            String rel = root.relativize(page).toString();
            for (MarkdownBlocks.Block block : MarkdownBlocks.parse(Files.readString(page, StandardCharsets.UTF_8))) {
                boolean yaml = block.language().isEmpty() || block.language().equals("yaml") || block.language().equals("yml");
                if (yaml && VERSION_1.matcher(block.text()).find()) {
                    sources.add(new Source(rel + ":" + block.line(), null, block.text(), block.markers(), true));
                }
            }
        }
        List<Path> files = new ArrayList<>();
        for (String dir : List.of("examples", "docs")) {
            try (Stream<Path> walk = Files.walk(root.resolve(dir))) {
                walk.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().forEach(files::add);
            }
        }
        for (Path file : files) {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            if (!VERSION_1.matcher(text).find()) {
                continue; // e.g. a docker-compose file: not a policy file
            }
            List<String> markers = new ArrayList<>();
            String head = text.substring(0, VERSION_1.matcher(text).results().findFirst().orElseThrow().start());
            Matcher m = YAML_MARKER.matcher(head);
            while (m.find()) {
                markers.add(m.group(1));
            }
            sources.add(new Source(root.relativize(file).toString(), file, text, markers, false));
        }
        return sources;
    }

    /** How {@code check} prints a warning about the file's admin API on stderr. */
    private static final String STDERR_WARNING = "sluice check: WARNING: ";

    @Test
    void sources_includeTheReadmeQuickStartAndTheExamples() throws Exception {
        assertThat(sources()).extracting(Source::name)
                .anyMatch(n -> n.startsWith("README.md:"))
                .contains("examples/flask-api/sluice.yaml", "examples/flask-api/sluice-abuse.yaml",
                        "docs/sluice.reference.yaml");
    }

    @TestFactory
    Stream<DynamicTest> everyPolicyFileInTheDocs_passesSluiceCheck() throws Exception {
        return sources().stream().map(source -> DynamicTest.dynamicTest(source.name(), () -> check(source)));
    }

    private static void check(Source source) throws Exception {
        Path dir = Files.createDirectories(scratch.resolve(source.name().replaceAll("[^A-Za-z0-9.-]", "_")));
        Path file = source.file();
        if (source.extracted()) {
            file = dir.resolve("policy.yaml");
            Files.writeString(file, source.text(), StandardCharsets.UTF_8);
            createReferencedFiles(source.text(), dir);
        }
        Map<String, String> env = new LinkedHashMap<>();
        Matcher m = ENV.matcher(source.text());
        while (m.find()) {
            env.put(m.group(1), HexFormat.of().formatHex(randomBytes(16)));
        }

        SluiceProcess.Result result = SluiceProcess.run(dir, env, "check", "-c", file.toString());

        // Warnings are the matrix's "warning:" lines and check's own "WARNING:" lines on stderr
        // (an admin API without a token); anything else on stderr fails the block.
        List<String> warnings = java.util.stream.Stream.concat(
                result.stdout().lines().filter(l -> l.startsWith("warning: ")),
                result.stderr().lines().filter(l -> l.startsWith(STDERR_WARNING))).toList();
        String otherStderr = result.stderr().lines().filter(l -> !l.startsWith(STDERR_WARNING))
                .collect(java.util.stream.Collectors.joining("\n"));
        String context = source.name() + " (markers " + source.markers() + ", environment " + env.keySet() + ")\n"
                + result.output();
        if (source.markers().contains("counter-example")) {
            assertThat(result.exitCode() == 2 || !warnings.isEmpty())
                    .as("a counter-example must be caught by check (exit 2 or a warning): " + context).isTrue();
            return;
        }
        assertThat(result.exitCode()).as(context).isZero();
        assertThat(otherStderr).as(context).isEmpty();
        List<String> expected = source.markers().stream().filter(x -> x.startsWith("check-warns:"))
                .map(x -> x.substring("check-warns:".length()).strip()).toList();
        assertThat(warnings).as("warnings of " + context).hasSameSizeAs(expected);
        for (String text : expected) {
            assertThat(warnings).as("a warning containing \"" + text + "\" in " + context).anyMatch(w -> w.contains(text));
        }
    }

    /** The keys and JWKS files a Markdown block names, created beside the extracted block. */
    private static void createReferencedFiles(String text, Path dir) throws Exception {
        Matcher m = REFERENCED.matcher(text);
        while (m.find()) {
            Path target = dir.resolve(m.group(2).replaceAll("^[\"']|[\"']$", ""));
            Files.createDirectories(target.getParent());
            if (m.group(1).equals("keys_file")) {
                Files.writeString(target, "fixture-key-" + HexFormat.of().formatHex(randomBytes(8)) + "\n");
            } else {
                KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
                rsa.initialize(2048);
                RSAPublicKey key = (RSAPublicKey) rsa.generateKeyPair().getPublic();
                Files.writeString(target, "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"fixture\",\"alg\":\"RS256\",\"use\":\"sig\","
                        + "\"n\":\"" + base64Url(key.getModulus()) + "\",\"e\":\"" + base64Url(key.getPublicExponent()) + "\"}]}\n");
            }
        }
    }

    private static String base64Url(BigInteger value) {
        byte[] bytes = value.toByteArray();
        if (bytes.length > 1 && bytes[0] == 0) {
            bytes = java.util.Arrays.copyOfRange(bytes, 1, bytes.length);
        }
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        ThreadLocalRandom.current().nextBytes(bytes);
        return bytes;
    }
}
