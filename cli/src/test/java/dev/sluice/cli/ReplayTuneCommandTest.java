package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The replay and tune commands on the shipped example (examples/tuning): exit codes, output, plot. */
class ReplayTuneCommandTest {
  @TempDir Path dir;

  private record Run(int exit, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int exit = cli.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  private static Path example(String name) {
    Path p = Path.of("..", "examples", "tuning", name);
    assertThat(p).exists();
    return p;
  }

  @Test
  void replay_onTheExample_printsPerPolicyCounts_andJsonForScripts() {
    Run text = run("replay", "-c", example("sluice.yaml").toString(), "--log", example("access-sample.jsonl.gz").toString());
    assertThat(text.exit()).as(text.err()).isZero();
    assertThat(text.out()).contains("replayed access-sample.jsonl.gz (sluice): 20,000 requests from 20,000 lines")
        .contains("POLICY", "login", "search", "api", "default");
    Run json = run("replay", "-c", example("sluice.yaml").toString(), "--log", example("access-sample.jsonl.gz").toString(),
        "--json");
    assertThat(json.exit()).isZero();
    assertThat(json.out()).contains("\"requests\" : 20000", "\"name\" : \"login\"", "\"shadow_limited\"");
  }

  @Test
  void tune_onTheExample_printsYaml_andWritesThePlot() throws Exception {
    Path png = dir.resolve("demand.png");
    Run r = run("tune", "-c", example("sluice.yaml").toString(), "--log", example("access-sample.jsonl.gz").toString(),
        "--quantile", "0.99", "--plot", png.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("# suggested by sluice tune (quantile 0.99, headroom 1.5)", "policies:", "  - name: login");
    assertThat(ImageIO.read(png.toFile()).getHeight()).isEqualTo(320 * 6);
  }

  @Test
  void badFormatOrField_exitsTwo_withAMessage() {
    Run format = run("replay", "-c", example("sluice.yaml").toString(), "--log", "x", "--format", "w3c");
    assertThat(format.exit()).isEqualTo(2);
    assertThat(format.err()).contains("--format w3c: expected sluice, combined or json");
    Run field = run("replay", "-c", example("sluice.yaml").toString(), "--log", "x", "--field", "time=ts");
    assertThat(field.exit()).isEqualTo(2);
    assertThat(field.err()).contains("--field applies to --format json only");
    Run missing = run("replay", "-c", example("sluice.yaml").toString(), "--log", dir.resolve("none.log").toString());
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.err()).contains("sluice replay: cannot read");
  }
}
