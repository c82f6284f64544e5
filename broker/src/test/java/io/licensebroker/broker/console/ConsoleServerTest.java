package io.licensebroker.broker.console;

import io.licensebroker.broker.app.LocalNode;
import io.licensebroker.broker.app.Setting;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The console's HTTP port as a browser (or an attacker's page) meets it, on a node started as
 * {@code serve} starts it: the page with its security headers, and the JSON bridge answering the
 * LicenseAdmin service's own answers and refusals (code, message, ErrorInfo reason and field).
 */
final class ConsoleServerTest {
    private static final String API = "/api/licensebroker.v1.LicenseAdmin/";
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private LocalNode node;
    private String base;

    @BeforeEach
    void start(@TempDir Path dir) {
        node = LocalNode.start(Map.of(Setting.DATA_DIR, dir.toString(), Setting.FSYNC, "false"));
        base = "http://127.0.0.1:" + node.node().consolePort();
    }

    @AfterEach
    void stop() {
        node.close();
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String method, String json, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + API + method)).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(json));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> call(String method, String json) throws IOException, InterruptedException {
        return post(method, json, "Content-Type", "application/json", "Authorization", "Bearer " + node.adminToken());
    }

    @Test
    void thePageComesWithAStrictContentSecurityPolicyAndNoSniffing() throws Exception {
        for (String path : new String[] {"/", "/js/main.js", "/console.css", "/nowhere.html"}) {
            HttpResponse<String> page = get(path);
            String csp = page.headers().firstValue("Content-Security-Policy").orElse("");
            assertTrue(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), csp);
            assertEquals("nosniff", page.headers().firstValue("X-Content-Type-Options").orElse(""), path);
        }
        HttpResponse<String> index = get("/");
        assertEquals(200, index.statusCode());
        assertEquals("text/html; charset=utf-8", index.headers().firstValue("Content-Type").orElseThrow());
        assertTrue(index.body().contains("<script type=\"module\" src=\"/js/main.js\"></script>"), index.body());
        assertTrue(!index.body().contains("<script>") && !index.body().contains("style="), "no inline script or style");
        assertEquals("text/javascript; charset=utf-8", get("/js/api.js").headers().firstValue("Content-Type").orElseThrow());
    }

    @Test
    void onlyThePagesOwnFilesAreServed() throws Exception {
        for (String path : new String[] {"/nowhere.html", "/../index.html", "/js/../../META-INF/MANIFEST.MF", "/%2e%2e/index.html",
                "/logback.xml", "/.hidden.js", "/io/licensebroker/broker/console/ConsoleServer.class"}) {
            assertEquals(404, get(path).statusCode(), path);
        }
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(base + "/")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
    }

    @Test
    void theBridgeAnswersTheServicesResponseInProto3JsonWithTheContractsFieldNames() throws Exception {
        HttpResponse<String> created = call("CreateAccount", "{\"account_id\":\"acme\",\"name\":\"Acme\"}");
        assertEquals(200, created.statusCode(), created.body());
        assertEquals("{\"account_id\":\"acme\",\"name\":\"Acme\"}", created.body());
        assertEquals("no-store", created.headers().firstValue("Cache-Control").orElse(""));
        HttpResponse<String> usage = call("GetLicenseUsage", "{\"account_id\":\"acme\"}");
        assertEquals(200, usage.statusCode(), usage.body());
        assertTrue(usage.body().contains("\"pool_id\":\"acme\"") && usage.body().contains("\"in_use\":\"0\"")
                && usage.body().contains("\"license_model\":\"LICENSE_MODEL_SESSION\""), usage.body());
        HttpResponse<String> who = call("WhoAmI", "");
        assertEquals("{\"role\":\"ADMIN_ROLE_SUPER_ADMIN\",\"account_id\":\"\",\"org_id\":\"\"}", who.body());
    }

    @Test
    void aRefusalIsTheBrokersCodeMessageReasonAndField() throws Exception {
        call("CreateAccount", "{\"account_id\":\"acme\",\"name\":\"Acme\"}");
        HttpResponse<String> org = call("CreateOrganization", "{\"account_id\":\"acme\",\"name\":\"Eng\"}");
        String orgId = org.body().replaceAll(".*\"org_id\":\"([^\"]+)\".*", "$1");
        HttpResponse<String> refused = call("SetDedicatedLicenses", "{\"org_id\":\"" + orgId + "\",\"licenses\":5}");
        assertEquals(400, refused.statusCode(), refused.body());
        assertTrue(refused.body().startsWith("{\"code\":\"FAILED_PRECONDITION\",\"message\":\""), refused.body());
        assertTrue(refused.body().endsWith("\"reason\":\"INSUFFICIENT_LICENSES\",\"field\":\"licenses\"}"), refused.body());

        HttpResponse<String> invalid = call("GetLicenseUsage", "{\"account_id\":\"not an id!\"}");
        assertEquals(400, invalid.statusCode());
        assertTrue(invalid.body().contains("\"code\":\"INVALID_ARGUMENT\"") && invalid.body().contains("\"field\":\"account_id\""), invalid.body());
        assertEquals(404, call("GetLicenseUsage", "{\"account_id\":\"nobody\"}").statusCode());
        HttpResponse<String> unknownField = call("WhoAmI", "{\"colour\":\"blue\"}");
        assertEquals(400, unknownField.statusCode());
        assertTrue(unknownField.body().contains("\"field\":\"body\""), unknownField.body());
        HttpResponse<String> noMethod = call("DropEverything", "{}");
        assertEquals(501, noMethod.statusCode());
        assertTrue(noMethod.body().contains("\"code\":\"UNIMPLEMENTED\""), noMethod.body());
    }

    @Test
    void callsWithoutATokenWithABadOneOrFromAnotherOriginAreRefusedAndChangeNothing() throws Exception {
        String create = "{\"account_id\":\"acme\",\"name\":\"Acme\"}";
        HttpResponse<String> none = post("CreateAccount", create, "Content-Type", "application/json");
        assertEquals(401, none.statusCode());
        assertTrue(none.body().contains("\"reason\":\"UNAUTHENTICATED\""), none.body());
        HttpResponse<String> garbage = post("CreateAccount", create, "Content-Type", "application/json", "Authorization", "Bearer nope-nope-nope");
        assertEquals(401, garbage.statusCode());
        assertTrue(garbage.body().contains("\"code\":\"UNAUTHENTICATED\""), garbage.body());
        HttpResponse<String> foreign = post("CreateAccount", create, "Content-Type", "application/json",
                "Authorization", "Bearer " + node.adminToken(), "Origin", "http://evil.example");
        assertEquals(403, foreign.statusCode());
        assertTrue(foreign.body().contains("\"reason\":\"FOREIGN_ORIGIN\""), foreign.body());
        // A form post (what a cross-site page can send without asking) is not JSON.
        HttpResponse<String> form = post("CreateAccount", "account_id=acme&name=Acme", "Content-Type", "application/x-www-form-urlencoded",
                "Authorization", "Bearer " + node.adminToken());
        assertEquals(415, form.statusCode());
        HttpResponse<String> get = http.send(HttpRequest.newBuilder(URI.create(base + API + "ListAccounts")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(405, get.statusCode());
        assertEquals("{\"accounts\":[]}", call("ListAccounts", "{}").body(), "nothing was created");
        HttpResponse<String> sameOrigin = post("CreateAccount", create, "Content-Type", "application/json",
                "Authorization", "Bearer " + node.adminToken(), "Origin", base);
        assertEquals(200, sameOrigin.statusCode(), sameOrigin.body());
    }
}
