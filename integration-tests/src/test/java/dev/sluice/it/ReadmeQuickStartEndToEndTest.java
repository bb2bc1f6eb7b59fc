package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.FreePort;
import dev.sluice.testkit.ManagedProcess;
import dev.sluice.testkit.RepoRoot;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command and its quick start, run as written.
 *
 * <p>The quick start's {@code python} block is saved as {@code app.py} and its {@code yaml} block as
 * {@code sluice.yaml} in a fresh folder, and each line of its {@code bash} block runs there in
 * {@code bash}, in order: {@code gunicorn … &} and {@code ./sluice serve … &} start as background
 * processes (the test waits until they answer), every other line runs to completion. Only two things
 * are substituted, both stated here: the README's ports (5000, 8080, 9090) become free ones, since
 * tests never use fixed ports; and {@code ./sluice} becomes {@code java -jar <the jar this build
 * packaged>}, which is what the launcher runs once built.
 *
 * <p>The page's comments are the assertions: a comment line {@code # → TEXT} right after a command
 * is its exact output (trimmed); {@code # → … TEXT} means the output contains TEXT; {@code curl -i}
 * is compared with the {@code http} block that follows the commands (same status line, every header
 * shown present with the same value, the body the same — numbers, which count down, may differ);
 * {@code check} must exit 0 without warnings. Inline {@code ./sluice …} commands in the section's
 * prose must exit 0.
 */
class ReadmeQuickStartEndToEndTest {
    private static final Pattern EXPECT = Pattern.compile("^#\\s*→\\s*(…\\s*)?(.*)$");

    @TempDir Path dir;

    @Test
    void readmeQuickStart_asWritten_limitsTheSixthSearchAndShowsThe429AndMetrics() throws Exception {
        String readme = Files.readString(RepoRoot.find().resolve("README.md"), StandardCharsets.UTF_8);
        String section = section(readme, "## Quick start");
        List<MarkdownBlocks.Block> blocks = MarkdownBlocks.parse(section);
        String app = only(blocks, "python").text();
        String yaml = only(blocks, "yaml").text();
        List<String> script = only(blocks, "bash").text().lines().toList();
        String shown429 = only(blocks, "http").text();
        assertThat(app).startsWith("# app.py\n");
        assertThat(yaml).startsWith("# sluice.yaml\n");

        int appPort = FreePort.find();
        int gatewayPort = FreePort.find();
        int adminPort = FreePort.find();
        Map<String, String> ports = new LinkedHashMap<>();
        ports.put("127.0.0.1:5000", "127.0.0.1:" + appPort);
        ports.put("127.0.0.1:8080", "127.0.0.1:" + gatewayPort);
        ports.put("127.0.0.1:9090", "127.0.0.1:" + adminPort);
        for (String readmePort : ports.keySet()) {
            assertThat(yaml + String.join("\n", script)).as("the quick start uses " + readmePort).contains(readmePort);
        }
        Files.writeString(dir.resolve("app.py"), app);
        Files.writeString(dir.resolve("sluice.yaml"), substitute(yaml, ports));

        List<ManagedProcess> background = new ArrayList<>();
        try {
            String lastOutput = null;
            String lastCommand = null;
            boolean checked = false;
            boolean curledI = false;
            int expectations = 0;
            for (String raw : script) {
                String line = raw.strip();
                Matcher expect = EXPECT.matcher(line);
                if (expect.matches()) {
                    assertThat(lastOutput).as("an expectation needs a command before it").isNotNull();
                    String expected = expect.group(2).strip();
                    if (expect.group(1) != null) {
                        assertThat(lastOutput).as(lastCommand).contains(expected);
                    } else {
                        assertThat(lastOutput.strip()).as(lastCommand).isEqualTo(expected);
                    }
                    expectations++;
                    continue;
                }
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                String command = substitute(stripComment(line), ports);
                if (command.endsWith("&")) {
                    String foreground = command.substring(0, command.length() - 1).strip();
                    ManagedProcess.Builder builder = ManagedProcess.builder(
                                    foreground.contains(" serve ") ? "quickstart-sluice" : "quickstart-app",
                                    List.of("bash", "-c", "exec " + foreground))
                            .directory(dir)
                            .startupTimeout(Duration.ofSeconds(60));
                    if (foreground.contains(" serve ")) {
                        builder.readyWhenHttpOk(URI.create("http://127.0.0.1:" + adminPort + "/readyz"));
                    } else {
                        builder.readyWhenPortOpen(new InetSocketAddress("127.0.0.1", appPort));
                    }
                    background.add(builder.start());
                    lastOutput = null;
                    continue;
                }
                SluiceProcess.Result result = bash(command);
                lastCommand = command;
                lastOutput = result.stdout();
                assertThat(result.exitCode()).as(command + "\n" + result.output()).isZero();
                if (command.contains(" check ")) {
                    checked = true;
                    assertThat(result.stdout()).as(result.output()).contains(": valid;").doesNotContain("warning:");
                }
                if (command.startsWith("curl -i ")) {
                    curledI = true;
                    assertSameResponse(shown429, result.stdout());
                }
            }
            assertThat(background).as("the app and the gateway ran in the background").hasSize(2);
            assertThat(checked).as("the quick start runs check").isTrue();
            assertThat(curledI).as("the quick start shows a curl -i").isTrue();
            assertThat(expectations).as("expectations checked").isGreaterThanOrEqualTo(2);

            // Inline commands in the prose, e.g. `./sluice explain …`.
            Matcher inline = Pattern.compile("`(\\./sluice [^`]+)`").matcher(prose(section));
            int inlineRun = 0;
            while (inline.find()) {
                SluiceProcess.Result result = bash(substitute(inline.group(1), ports));
                assertThat(result.exitCode()).as(inline.group(1) + "\n" + result.output()).isZero();
                inlineRun++;
            }
            assertThat(inlineRun).isPositive();
        } finally {
            for (int i = background.size() - 1; i >= 0; i--) {
                background.get(i).close();
            }
        }
    }

    @Test
    void readmeFirstCommand_sluiceDemo_printsCurlLinesThatWork() throws Exception {
        String readme = Files.readString(RepoRoot.find().resolve("README.md"), StandardCharsets.UTF_8);
        String first = MarkdownBlocks.parse(readme).get(0).text().lines().findFirst().orElseThrow();
        assertThat(stripComment(first)).isEqualTo("./sluice demo");
        int port = FreePort.find();
        List<String> command = new ArrayList<>(SluiceProcess.command("demo", "--port", Integer.toString(port)));
        try (ManagedProcess demo = ManagedProcess.builder("readme-demo", command)
                .directory(dir)
                .readyWhenPortOpen(new InetSocketAddress("127.0.0.1", port))
                .startupTimeout(Duration.ofSeconds(60))
                .start()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!demo.logTail().contains("Press Ctrl-C")) {
                assertThat(System.nanoTime()).as("demo prints its intro").isLessThan(deadline);
                Thread.sleep(50);
            }
            String loop = demo.logTail().lines().map(String::strip).filter(l -> l.startsWith("for i in"))
                    .findFirst().orElseThrow();
            SluiceProcess.Result result = bash(loop);

            assertThat(result.stdout().strip().split("\\s+")).containsExactly("200", "200", "200", "200", "200", "429");
        }
    }

    private SluiceProcess.Result bash(String command) throws Exception {
        Path out = dir.resolve("out-" + System.nanoTime());
        Path err = dir.resolve("err-" + System.nanoTime());
        Process process = new ProcessBuilder("bash", "-c", command)
                .directory(dir.toFile())
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(command + " did not finish within 60 s");
        }
        return new SluiceProcess.Result(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** {@code ./sluice} → the jar; README ports → free ports. */
    private static String substitute(String text, Map<String, String> ports) {
        String result = text;
        for (Map.Entry<String, String> port : ports.entrySet()) {
            result = result.replace(port.getKey(), port.getValue());
        }
        String sluice = String.join(" ", SluiceProcess.command().stream().map(a -> "'" + a + "'").toList());
        return result.replaceAll("(^|\\s)\\./sluice(?=\\s)", "$1" + Matcher.quoteReplacement(sluice));
    }

    /** A trailing shell comment ({@code  # …} after white space) removed. */
    private static String stripComment(String line) {
        return line.replaceFirst("\\s+#\\s.*$", "").strip();
    }

    private static void assertSameResponse(String shown, String actual) {
        String[] shownParts = shown.replace("\r", "").split("\n\n", 2);
        String[] actualParts = actual.replace("\r", "").split("\n\n", 2);
        List<String> shownHead = shownParts[0].lines().toList();
        List<String> actualHead = actualParts[0].lines().toList();
        assertThat(actualHead.get(0)).isEqualTo(shownHead.get(0));
        for (String header : shownHead.subList(1, shownHead.size())) {
            int colon = header.indexOf(':');
            String name = header.substring(0, colon).toLowerCase(Locale.ROOT);
            String value = header.substring(colon + 1).strip();
            assertThat(actualHead).as("header " + header + " in\n" + actual)
                    .anyMatch(a -> a.toLowerCase(Locale.ROOT).startsWith(name + ":")
                            && a.substring(colon + 1).strip().matches(numbersFree(value)));
        }
        assertThat(actualParts).hasSize(2);
        assertThat(actualParts[1].strip()).matches(numbersFree(shownParts[1].strip()));
    }

    /** A regex matching {@code text} with any whole numbers in place of its numbers. */
    private static String numbersFree(String text) {
        StringBuilder regex = new StringBuilder();
        Matcher number = Pattern.compile("\\d+").matcher(text);
        int at = 0;
        while (number.find()) {
            regex.append(Pattern.quote(text.substring(at, number.start()))).append("\\d+");
            at = number.end();
        }
        return regex.append(Pattern.quote(text.substring(at))).toString();
    }

    private static MarkdownBlocks.Block only(List<MarkdownBlocks.Block> blocks, String language) {
        List<MarkdownBlocks.Block> found = blocks.stream().filter(b -> b.language().equals(language)).toList();
        assertThat(found).as("one " + language + " block in the quick start").hasSize(1);
        return found.get(0);
    }

    private static String section(String markdown, String heading) {
        int start = markdown.indexOf("\n" + heading + "\n");
        assertThat(start).as(heading).isNotNegative();
        int end = markdown.indexOf("\n## ", start + heading.length() + 2);
        return markdown.substring(start + 1, end < 0 ? markdown.length() : end);
    }

    /** The section without its code blocks. */
    private static String prose(String section) {
        return section.replaceAll("(?s)```.*?```", "");
    }
}
