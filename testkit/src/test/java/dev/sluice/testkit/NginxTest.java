package dev.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NginxTest {

    @Test
    void reverseProxy_clientOnOtherLoopbackAddress_appendsClientToForwardedFor() throws Exception {
        try (FlaskApp app = FlaskApp.start(); Nginx nginx = Nginx.reverseProxy(app.address())) {
            InetAddress client = InetAddress.getByName("127.0.0.2");

            RawHttp.Response echo = RawHttp.request(nginx.address(), client, "POST", "/api/echo",
                    Map.of("X-Forwarded-For", "198.51.100.7"), "hello".getBytes());

            assertThat(echo.status()).isEqualTo(200);
            assertThat(echo.bodyText())
                    .contains("\"x_forwarded_for\":\"198.51.100.7, 127.0.0.2\"")
                    .contains("\"remote_addr\":\"127.0.0.2\"");
        }
    }

    @Test
    void start_invalidConfig_failsWithNginxError() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Nginx.start("no_such_directive on;"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("unknown directive \"no_such_directive\"");
    }
}
