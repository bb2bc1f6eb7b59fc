package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.testkit.FlaskApp;
import dev.sluice.testkit.RawHttp;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * The dashboard (SPEC §10) in a real headless Chromium (Debian {@code chromium} and
 * {@code chromium-driver}, driven through Selenium) against a real gateway in front of the real
 * example app, with traffic running: the token prompt, policy names and the limited identity
 * within 3 s, numbers that move, lifting a ban from the page (checked through the ban API), no
 * console errors, and screenshots at desktop and phone size (in {@code target/screenshots/}, the
 * ones docs/dashboard.md shows).
 */
class DashboardBrowserTest {
    private static final String CHROMIUM = "/usr/bin/chromium";
    private static final String CHROMEDRIVER = "/usr/bin/chromedriver";
    private static final String BANNED_IP = "192.0.2.77";
    private static final String POLICIES = """
            clients:
              api_key: { header: X-API-Key }
            policies:
              - name: search
                match: { paths: ["/api/search"] }
                by: ip
                limits: ["5/minute"]
              - name: items-by-key
                match: { paths: ["/api/items"] }
                by: api_key
                limits: ["3/minute"]
                mode: shadow
            """;

    @Test
    void dashboard_tokenPrompt_liveNumbers_liftBan_noConsoleErrors_screenshots() throws Exception {
        requireFile(CHROMIUM, "chromium");
        requireFile(CHROMEDRIVER, "chromium-driver");
        AtomicBoolean traffic = new AtomicBoolean(true);
        AtomicReference<Throwable> trafficError = new AtomicReference<>();
        try (FlaskApp app = FlaskApp.start();
             GatewayUnderTest gateway = GatewayUnderTest.start(AbuseGateways.parse(app.uri(),
                     "  admin_token_env: SLUICE_ADMIN_TOKEN\n", POLICIES))) {
            InetSocketAddress admin = gateway.adminAddress();
            String ban = "{\"identity\": {\"kind\": \"ip\", \"value\": \"" + BANNED_IP + "\"}, \"duration\": \"30m\","
                    + " \"policy\": \"search\"}";
            RawHttp.Response posted = adminCall(admin, "POST", "/v1/bans", ban);
            assertThat(posted.status()).as(posted.bodyText()).isIn(200, 201);

            Thread load = new Thread(() -> {
                int i = 0;
                while (traffic.get()) {
                    try {
                        RawHttp.get(gateway.address(), null, "/api/search?q=a", Map.of());
                        if (i++ % 3 == 0) {
                            RawHttp.get(gateway.address(), null, "/api/items", Map.of("X-API-Key", "dash-key-" + (i % 2)));
                        }
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    } catch (Throwable e) {
                        trafficError.compareAndSet(null, e);
                        return;
                    }
                }
            }, "dashboard-traffic");
            load.setDaemon(true);
            load.start();

            ChromeDriver browser = startBrowser();
            try {
                String base = "http://127.0.0.1:" + admin.getPort();
                browser.manage().window().setSize(new Dimension(1280, 1000));
                browser.get(base + "/dashboard");

                // The token prompt: a wrong token is refused and asked again, the right one opens the page.
                WebElement form = browser.findElement(By.id("token-form"));
                assertThat(form.isDisplayed()).as("the page asks for the admin token").isTrue();
                assertThat(browser.findElement(By.id("main")).isDisplayed()).isFalse();
                browser.findElement(By.id("token")).sendKeys("not-the-token");
                browser.findElement(By.id("token-submit")).click();
                await().atMost(Duration.ofSeconds(5)).until(() ->
                        browser.findElement(By.id("token-error")).getText().contains("refused"));
                List<LogEntry> wrongTokenLogs = severe(browser);
                assertThat(wrongTokenLogs).as("only the refused calls are logged")
                        .allSatisfy(e -> assertThat(e.getMessage()).contains("401"));
                assertThat(browser.findElement(By.id("token")).getAttribute("value")).as("the refused token is cleared").isEmpty();
                browser.findElement(By.id("token")).sendKeys(AbuseGateways.ADMIN_TOKEN);
                long submitted = System.nanoTime();
                browser.findElement(By.id("token-submit")).click();

                // Within 3 s: both policies, the limited identity, the ban.
                await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(100))
                        .conditionEvaluationListener(c -> {
                            if (c.getRemainingTimeInMS() <= 100 && !c.isSatisfied()) {
                                System.err.println("dashboard text: " + browser.findElement(By.tagName("body")).getText());
                            }
                        }).until(() ->
                        text(browser, "policies").contains("search") && text(browser, "policies").contains("items-by-key")
                                && text(browser, "top").contains("127.0.0.1") && text(browser, "bans").contains(BANNED_IP));
                assertThat(System.nanoTime() - submitted).isLessThan(Duration.ofSeconds(3).toNanos());
                assertThat(text(browser, "events")).contains("limited").contains("/api/search");
                assertThat(browser.findElement(By.id("store")).getText()).contains("memory").contains("up");

                // The numbers move: the search card's last-minute limited count grows while traffic runs.
                long before = lastMinuteLimited(browser);
                await().atMost(Duration.ofSeconds(8)).until(() -> lastMinuteLimited(browser) > before);
                assertThat(browser.findElements(By.cssSelector("#policies svg polyline"))).as("live charts drawn").isNotEmpty();

                screenshot(browser, "dashboard-desktop.png");
                browser.manage().window().setSize(new Dimension(390, 844));
                Thread.sleep(1500); // let one refresh render at the new size (the screenshot is the only use)
                Object overflow = ((JavascriptExecutor) browser).executeScript(
                        "return document.documentElement.scrollWidth - window.innerWidth;");
                assertThat(((Number) overflow).longValue()).as("no horizontal scrolling on a phone").isLessThanOrEqualTo(0);
                screenshot(browser, "dashboard-phone.png");
                browser.manage().window().setSize(new Dimension(1280, 1000));

                // Lift the ban from the page; the ban API no longer lists it.
                browser.findElement(By.cssSelector("#bans tr[data-ban-id] button.lift")).click();
                await().atMost(Duration.ofSeconds(5)).until(() -> !bansJson(admin).contains(BANNED_IP));
                await().atMost(Duration.ofSeconds(5)).until(() -> !text(browser, "bans").contains(BANNED_IP));

                assertThat(severe(browser)).as("no console errors after the token was accepted").isEmpty();
                assertThat(browser.findElement(By.id("error")).getText()).isEmpty();
            } finally {
                browser.quit();
            }
            traffic.set(false);
            load.join(5000);
            assertThat(trafficError.get()).as("the traffic thread").isNull();
        } finally {
            traffic.set(false);
        }
    }

    private static ChromeDriver startBrowser() {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-extensions", "--hide-scrollbars", "--force-device-scale-factor=1");
        if ("root".equals(System.getProperty("user.name"))) {
            options.addArguments("--no-sandbox");
        }
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER))
                .usingAnyFreePort()
                .build();
        return new ChromeDriver(service, options);
    }

    private static List<LogEntry> severe(ChromeDriver browser) {
        List<LogEntry> out = new ArrayList<>();
        for (LogEntry entry : browser.manage().logs().get(LogType.BROWSER)) {
            if (entry.getLevel().intValue() >= Level.WARNING.intValue()) {
                out.add(entry);
            }
        }
        return out;
    }

    private static String text(ChromeDriver browser, String id) {
        return browser.findElement(By.id(id)).getText();
    }

    private static long lastMinuteLimited(ChromeDriver browser) {
        // Found and read in one script: the page re-renders its cards every refresh, so an element
        // found first and read afterwards may already be gone (StaleElementReferenceException).
        Object value = browser.executeScript("const e = document.querySelector("
                + "\"#policies .card[data-policy='search'] span[data-outcome='limited']\");"
                + " return e ? e.getAttribute('data-last-minute') : null;");
        return value == null ? -1 : Long.parseLong(value.toString());
    }

    private static void screenshot(ChromeDriver browser, String name) throws IOException {
        Path dir = Path.of("target", "screenshots");
        Files.createDirectories(dir);
        File png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(png.toPath(), dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        assertThat(Files.size(dir.resolve(name))).isGreaterThan(1000);
    }

    private static String bansJson(InetSocketAddress admin) {
        RawHttp.Response listed = adminCall(admin, "GET", "/v1/bans", null);
        assertThat(listed.status()).isEqualTo(200);
        return listed.bodyText();
    }

    private static RawHttp.Response adminCall(InetSocketAddress admin, String method, String target, String json) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Authorization", "Bearer " + AbuseGateways.ADMIN_TOKEN);
        if (json != null) {
            headers.put("Content-Type", "application/json");
        }
        return RawHttp.request(admin, null, method, target, headers,
                json == null ? null : json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static void requireFile(String path, String debianPackage) {
        if (!new File(path).canExecute()) {
            throw new IllegalStateException(path + " is missing; install the Debian package: apt-get install -y "
                    + debianPackage + " (./scripts/test.sh installs every package the tests need)");
        }
    }
}
