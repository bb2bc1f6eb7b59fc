package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.it.RedisGatewayFixture.Reply;
import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.FreePort;
import dev.sluice.testkit.ManagedProcess;
import dev.sluice.testkit.RedisServer;
import dev.sluice.testkit.RepoRoot;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice serve} as users run it — a separate JVM from the runnable jar (or
 * {@code dev.sluice.cli.Main} on this module's class path when only {@code test} ran, as in
 * {@link CliEndToEndTest}) — on {@code store.type: redis}, in front of Flask under gunicorn.
 */
class RedisGatewayServeTest {

    @Test
    void serveProcess_storeTypeRedis_admitsTheLimitThen429AndKeepsItsBucketInRedis(@TempDir Path dir) throws Exception {
        try (RedisServer redis = RedisServer.start(); FlaskApp flask = FlaskApp.start()) {
            int listen = FreePort.find();
            int admin = FreePort.find();
            Path file = dir.resolve("sluice.yaml");
            Files.writeString(file, "version: 1\n"
                    + "gateway:\n"
                    + "  listen: 127.0.0.1:" + listen + "\n"
                    + "  upstream: " + flask.uri() + "\n"
                    + "  admin: 127.0.0.1:" + admin + "\n"
                    + RedisGatewayFixture.store(redis, "deny", "250ms")
                    + RedisGatewayFixture.policy("items", "/api/items", "ip", "3/minute"));

            try (ManagedProcess serve = ManagedProcess.builder("sluice-serve-redis", command(file))
                    .readyWhenHttpOk(URI.create("http://127.0.0.1:" + admin + "/readyz"))
                    .startupTimeout(Duration.ofSeconds(60))
                    .start()) {
                URI items = URI.create("http://127.0.0.1:" + listen + "/api/items");
                for (int i = 0; i < 3; i++) {
                    Reply reply = RedisGatewayFixture.get(items);
                    assertThat(reply.status()).as("request %d: %s\n%s", i + 1, reply.body(), serve.logTail())
                            .isEqualTo(200);
                }
                Reply limited = RedisGatewayFixture.get(items);
                assertThat(limited.status()).as(serve.logTail()).isEqualTo(429);
                assertThat(limited.header("Retry-After")).isNotNull();
                assertThat(limited.header("Content-Type")).startsWith("application/problem+json");
                assertThat(flask.stats().hits("/api/items")).isEqualTo(3);
                // The memory store would pass the lines above too; the bucket must be in this Redis.
                assertThat(redis.call("KEYS", "sluice:v1:{items:*")).as("bucket keys in Redis")
                        .isNotNull().contains("items:ip:127.0.0.1");
            }
        }
    }

    private static List<String> command(Path file) {
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
        command.addAll(List.of("serve", "-c", file.toString()));
        return command;
    }
}
