package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.RedisServer;
import dev.sluice.testkit.TestCertificates;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice serve} on {@code rediss://} with a Redis ACL user whose password comes from an
 * environment variable ({@code store.password_env}), against a real {@code redis-server
 * --tls-port} with certificates made by {@code openssl} at test time; {@code sluice check}
 * without that variable.
 */
class RedisTlsServeEndToEndTest {
    private static final String PASSWORD = "e2e-Redis-pw-41b9c";
    /** The ACL rule docs/distributed.md gives operators (kept equal to the redis module's test). */
    private static final String ACL_RULES = "~sluice:* resetchannels -@all"
            + " +evalsha +eval +script|load +ping"
            + " +time +get +set +del +exists +pexpire"
            + " +hget +hmget +hset +hdel +hincrby +hvals"
            + " +rpush +lpop +lindex +llen +lrange +ltrim"
            + " +zadd +zcard +zpopmin +zrange +zrangebyscore +zrem +zremrangebyscore +zscore";

    @TempDir
    static Path dir;
    private static RedisServer redis;
    private static FlaskApp flask;

    @BeforeAll
    static void start() {
        TestCertificates certs = TestCertificates.in(dir);
        certs.ca("redis-ca");
        certs.leaf("redis", "redis-ca", "IP:127.0.0.1");
        redis = RedisServer.startTls(certs.cert("redis"), certs.key("redis"), certs.cert("redis-ca"));
        assertThat(redis.call(("ACL SETUSER sluice reset on >" + PASSWORD + " " + ACL_RULES).split(" "))).isEqualTo("OK");
        flask = FlaskApp.start();
    }

    @AfterAll
    static void stop() {
        if (flask != null) {
            flask.close();
        }
        if (redis != null) {
            redis.stop();
        }
    }

    @BeforeEach
    void flush() {
        redis.flushAll();
    }

    private static Path policy(String name, int[] ports, String url) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, """
                version: 1
                gateway:
                  listen: 127.0.0.1:%d
                  admin: 127.0.0.1:%d
                  upstream: %s
                store:
                  type: redis
                  url: %s
                  password_env: SLUICE_REDIS_PASSWORD
                  tls: { ca_file: redis-ca.crt }
                  on_error: deny
                  timeout: 2s
                policies:
                  - name: items
                    match: { paths: ["/api/items"] }
                    by: ip
                    limits: ["3/minute"]
                """.formatted(ports[0], ports[1], flask.uri(), url));
        return file;
    }

    @Test
    void twoServeInstances_onRedissWithAnAclUser_shareTheBucket_andNeverLogThePassword() throws Exception {
        String url = "rediss://sluice@127.0.0.1:" + redis.tlsPort();
        int[] a = ServeProcess.ports();
        int[] b = ServeProcess.ports();
        Map<String, String> env = Map.of("SLUICE_REDIS_PASSWORD", PASSWORD);
        try (ServeProcess first = ServeProcess.start("sluice-rediss-a", policy("a.yaml", a, url), a[0], a[1], env);
                ServeProcess second = ServeProcess.start("sluice-rediss-b", policy("b.yaml", b, url), b[0], b[1], env)) {
            assertThat(first.get("/api/items").statusCode()).as(first.log()).isEqualTo(200);
            assertThat(second.get("/api/items").statusCode()).as(second.log()).isEqualTo(200);
            assertThat(first.get("/api/items").statusCode()).isEqualTo(200);
            HttpResponse<String> limited = second.get("/api/items");
            assertThat(limited.statusCode()).as("the 4th of 3/minute, counted across both instances")
                    .isEqualTo(429);
            assertThat(first.get("/api/items").statusCode()).isEqualTo(429);
            assertThat(redis.call("KEYS", "sluice:v1:{items:*")).contains("items:ip:127.0.0.1");
            for (ServeProcess p : new ServeProcess[] {first, second}) {
                assertThat(p.log()).doesNotContain(PASSWORD);
                assertThat(p.adminGet("/metrics").body()).doesNotContain(PASSWORD);
            }
        }
    }

    @Test
    void serve_insecureSkipVerify_acceptsAHostNameTheCertificateLacks_andSaysSoAtStart() throws Exception {
        // The certificate names IP:127.0.0.1 only; "localhost" would fail verification.
        int[] ports = ServeProcess.ports();
        Path file = dir.resolve("insecure.yaml");
        Files.writeString(file, Files.readString(policy("insecure-src.yaml", ports,
                "rediss://sluice@localhost:" + redis.tlsPort()))
                .replace("tls: { ca_file: redis-ca.crt }", "tls: { insecure_skip_verify: true }"));
        try (ServeProcess sluice = ServeProcess.start("sluice-rediss-insecure", file, ports[0], ports[1],
                Map.of("SLUICE_REDIS_PASSWORD", PASSWORD))) {
            assertThat(sluice.get("/api/items").statusCode()).as(sluice.log()).isEqualTo(200);
            assertThat(sluice.log()).contains("store.tls.insecure_skip_verify is true")
                    .contains("rediss://sluice@localhost:" + redis.tlsPort()).contains("NOT verified")
                    .doesNotContain(PASSWORD);
        }
        Path verified = policy("verified.yaml", ports, "rediss://sluice@localhost:" + redis.tlsPort());
        SluiceProcess.Result refused = SluiceProcess.run(dir, Map.of("SLUICE_REDIS_PASSWORD", PASSWORD),
                "serve", "-c", verified.toString());
        assertThat(refused.exitCode()).as(refused.output()).isEqualTo(1);
        assertThat(refused.stderr()).contains("TLS handshake failed (No name matching localhost found)");
    }

    @Test
    void serve_withAWrongPassword_failsFastWithOneLineNamingTheUrlWithoutThePassword() throws Exception {
        int[] ports = ServeProcess.ports();
        Path file = policy("wrong.yaml", ports, "rediss://sluice@127.0.0.1:" + redis.tlsPort());
        SluiceProcess.Result result = SluiceProcess.run(dir, Map.of("SLUICE_REDIS_PASSWORD", "wrong-" + PASSWORD),
                "serve", "-c", file.toString());
        assertThat(result.exitCode()).as(result.output()).isEqualTo(1);
        assertThat(result.stderr()).as(result.output()).contains(
                "sluice serve: cannot reach the store: cannot connect to the redis store at rediss://sluice@127.0.0.1:"
                        + redis.tlsPort() + ": redis rejected the credentials (WRONGPASS");
        assertThat(result.stdout() + result.stderr()).doesNotContain(PASSWORD);
    }

    @Test
    void check_withoutThePasswordVariable_warns_whileServeRefusesToStart() throws Exception {
        int[] ports = ServeProcess.ports();
        Path file = policy("check.yaml", ports, "rediss://sluice@127.0.0.1:" + redis.tlsPort());
        SluiceProcess.Result check = SluiceProcess.run(dir, Map.of(), "check", "-c", file.toString());
        assertThat(check.exitCode()).as(check.output()).isZero();
        assertThat(check.stdout()).contains("warning: store.password_env: environment variable SLUICE_REDIS_PASSWORD"
                + " is not set; expected it to hold the redis password; serve fails without it");
        SluiceProcess.Result serve = SluiceProcess.run(dir, Map.of(), "serve", "-c", file.toString());
        assertThat(serve.exitCode()).as(serve.output()).isEqualTo(2);
        assertThat(serve.stderr()).contains("store.password_env: environment variable SLUICE_REDIS_PASSWORD is not set");
    }

    @Test
    void checkJson_withAPasswordInTheUrl_warnsAndNeverPrintsIt() throws Exception {
        int[] ports = ServeProcess.ports();
        Path file = dir.resolve("inline.yaml");
        Files.writeString(file, Files.readString(policy("inline-src.yaml", ports,
                "rediss://sluice:" + PASSWORD + "@127.0.0.1:" + redis.tlsPort()))
                .replace("  password_env: SLUICE_REDIS_PASSWORD\n", ""));
        SluiceProcess.Result json = SluiceProcess.run(dir, Map.of(), "check", "--json", "-c", file.toString());
        assertThat(json.exitCode()).as(json.output()).isZero();
        assertThat(json.stdout()).contains("store.url carries a password written in the policy file");
        assertThat(json.stdout() + json.stderr()).doesNotContain(PASSWORD);
        SluiceProcess.Result effective = SluiceProcess.run(dir, Map.of(), "check", "--print-effective", "-c",
                file.toString());
        assertThat(effective.stdout() + effective.stderr()).as(effective.output()).doesNotContain(PASSWORD);
    }
}
