package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.Executables;
import dev.sluice.testkit.RepoRoot;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code deploy/prometheus/sluice-alerts.yaml} through the real {@code promtool} (Debian package
 * {@code prometheus}): {@code check rules}, and {@code test rules} with the unit-test file that
 * fires alerts on synthetic series; every alert has a summary and a runbook link to a heading of
 * {@code docs/operations.md} that exists. (The metric names are checked against a live
 * {@code /metrics} in {@link ObservabilityEndToEndTest}.)
 */
class PrometheusAlertRulesTest {
    private static final Path ROOT = RepoRoot.find();
    private static final Path RULES = ROOT.resolve("deploy/prometheus/sluice-alerts.yaml");
    private static final Path TESTS = ROOT.resolve("deploy/prometheus/sluice-alerts.test.yaml");

    private static String promtool(String... args) throws Exception {
        Path promtool = Executables.require("promtool", "prometheus", "/usr/bin/promtool");
        List<String> command = new ArrayList<>(List.of(promtool.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(RULES.getParent().toFile()).redirectErrorStream(true).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("promtool finished").isTrue();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(String.join(" ", args) + ":\n" + output).isZero();
        return output;
    }

    @Test
    void promtoolCheckRules_passes() throws Exception {
        assertThat(promtool("check", "rules", RULES.toString())).contains("SUCCESS");
    }

    @Test
    void promtoolTestRules_firesAlertsOnSyntheticSeries() throws Exception {
        String tests = Files.readString(TESTS);
        Set<String> fired = new HashSet<>();
        Matcher m = Pattern.compile("alertname: (\\w+)\\n\\s+exp_alerts:\\n\\s+- exp_labels").matcher(tests);
        while (m.find()) {
            fired.add(m.group(1));
        }
        assertThat(fired).as("alerts the unit tests expect to fire").hasSizeGreaterThanOrEqualTo(3);
        assertThat(promtool("test", "rules", TESTS.toString())).contains("SUCCESS");
    }

    @Test
    void everyAlert_hasASummaryAndARunbookAnchorThatExistsInOperationsMd() throws Exception {
        String rules = Files.readString(RULES);
        Set<String> anchors = new HashSet<>();
        for (String line : Files.readAllLines(ROOT.resolve("docs/operations.md"))) {
            if (line.startsWith("#")) {
                // GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
                anchors.add(line.replaceFirst("^#+\\s*", "").trim().toLowerCase(Locale.ROOT)
                        .replaceAll("[^a-z0-9 _-]", "").replace(' ', '-'));
            }
        }
        String[] alerts = rules.split("\\n\\s+- alert: ");
        assertThat(alerts.length - 1).isGreaterThanOrEqualTo(7);
        List<String> required = new ArrayList<>(List.of("SluiceDown", "SluiceLimitedShareJump", "SluiceStoreErrors",
                "SluiceStoreCircuitOpen", "SluiceReloadFailed", "SluiceUpstream5xxShare", "SluiceBanBurst"));
        for (int i = 1; i < alerts.length; i++) {
            String alert = alerts[i];
            String name = alert.substring(0, alert.indexOf('\n')).trim();
            required.remove(name);
            assertThat(alert).as(name).contains("summary: ");
            Matcher runbook = Pattern.compile("runbook_url: \"docs/operations\\.md#([a-z0-9-]+)\"").matcher(alert);
            assertThat(runbook.find()).as(name + " has a runbook_url into docs/operations.md").isTrue();
            assertThat(anchors).as(name + "'s runbook anchor").contains(runbook.group(1));
        }
        assertThat(required).as("alerts the issue asks for").isEmpty();
    }
}
