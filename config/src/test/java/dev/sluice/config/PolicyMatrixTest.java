package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PolicyMatrixTest {
  private static final Map<String, String> ENV = Map.of("SLUICE_JWT_SECRET", "0123456789abcdef0123456789abcdef");

  @Test
  void specExample_rendersEveryPolicyDefaultsExemptAndWarnings() throws Exception {
    SluiceConfig c = ConfigLoader.parse(ConfigErrorsTest.resource("valid/spec-example.yaml"), "sluice.yaml", ENV::get);

    assertThat(PolicyMatrix.render(c)).isEqualTo("""
        sluice.yaml: valid; 3 policies + defaults; store memory (on_error allow, timeout 50ms); headers ietf
        gateway: listen 127.0.0.1:8080 -> upstream http://127.0.0.1:5000; admin 127.0.0.1:9090

        POLICY   ROUTE                 METHODS  IDENTITY           LIMITS                  ALGORITHM  COST  MODE     ON_ERROR
        -------  --------------------  -------  -----------------  ----------------------  ---------  ----  -------  -------------
        login    /auth/login           POST     ip                 5/minute (burst 5)      gcra       1     enforce  allow (store)
                                                                   20/hour (burst 20)
        search   /api/search           any      api_key > ip       10/second (burst 20)    gcra       1     enforce  allow (store)
                 /api/search/**                                    1000/hour (burst 1000)
        reports  /api/reports/**       any      api_key (else ip)  60/minute (burst 60)    gcra       5     shadow   allow (store)
        default  (no enforced policy)  any      ip                 100/minute (burst 100)  gcra       1     enforce  allow (store)

        reports: shadow for every identity (decided and counted, never refused); requests no enforced policy covers stay under the defaults

        exempt: ips 10.0.0.0/8; 1 api key
        warning: policy "search" identifies clients by api_key without a keys_file and no ip limit covers /api/search, /api/search/**: any invented value gets fresh buckets; add clients.api_key.keys_file or an ip limit on the same route
        warning: policy "reports" identifies clients by api_key without a keys_file and no ip limit covers /api/reports/**: any invented value gets fresh buckets; add clients.api_key.keys_file or an ip limit on the same route
        """);
  }

  @Test
  void warnings_ipPolicyCoveringTheRoute_silencesThem() throws Exception {
    String yaml = """
        version: 1
        gateway: { upstream: http://127.0.0.1:5000 }
        clients: { api_key: { header: X-API-Key }, session: { cookie: sid } }
        policies:
          - name: search
            match: { methods: [GET], paths: ["/api/search/**"] }
            by: [api_key, session]
            limits: ["10/second"]
          - name: per-ip
            match: { paths: ["/api/**"] }
            by: ip
            limits: ["100/second"]
        """;

    assertThat(ConfigLoader.parse(yaml, "w.yaml", ENV::get).warnings()).isEmpty();
  }

  @Test
  void warnings_ipPolicyOnNarrowerRouteOrOtherMethod_doesNotSilenceThem() throws Exception {
    String yaml = """
        version: 1
        gateway: { upstream: http://127.0.0.1:5000 }
        clients: { session: { cookie: sid } }
        policies:
          - name: cart
            match: { paths: ["/cart/**"] }
            by: session
            limits: ["10/second"]
          - name: cart-items
            match: { paths: ["/cart/*"] }
            by: ip
            limits: ["100/second"]
          - name: cart-post
            match: { methods: [POST], paths: ["/cart/**"] }
            by: ip
            limits: ["100/second"]
        """;

    assertThat(ConfigLoader.parse(yaml, "w.yaml", ENV::get).warnings()).containsExactly(
        "policy \"cart\" identifies clients by session without a keys_file and no ip limit covers"
            + " /cart/**: any invented value gets fresh buckets; add clients.session.keys_file or an ip limit on the same route");
  }

  @Test
  void noPolicies_saysSo() throws Exception {
    SluiceConfig c = ConfigLoader.parse("version: 1\ngateway: { upstream: http://h:5000 }\n", "n.yaml", ENV::get);

    assertThat(PolicyMatrix.render(c)).contains("(no policies)\n")
        .contains("defaults: none (requests that match no policy are not limited)\n");
  }
}
