package io.licensebroker.broker.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.licensebroker.broker.testing.Promtool;
import io.licensebroker.testkit.Await;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.licensebroker.broker.e2e.GrpcClients.withToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real Prometheus server (when installed) scrapes the running jar, with the documented alert
 * rules loaded, and answers the contract's metrics through its query API.
 */
class PrometheusIT {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void prometheusScrapesTheBrokerAndAnswersLicensePoolInUse() throws Exception {
        Path prometheus = Promtool.require("prometheus");
        try (BrokerProcess broker = BrokerProcess.start(dir.resolve("data"), "--demo")) {
            int metricsPort = Integer.parseInt(broker.awaitLine("metrics on ").substring("metrics on ".length()).trim());
            String apiKey = broker.awaitLine("demo api key").replaceAll(".*: ", "").trim();
            ManagedChannel channel = GrpcClients.channel(broker.port());
            String pool;
            try {
                pool = withToken(LicenseBrokerGrpc.newBlockingStub(channel), apiKey)
                        .acquireSession(AcquireSessionRequest.newBuilder().setMachineId("laptop-1").build()).getPoolId();
            } finally {
                channel.shutdownNow();
            }

            int webPort = freePort();
            Path config = Files.writeString(dir.resolve("prometheus.yml"), """
                    global:
                      scrape_interval: 1s
                      evaluation_interval: 1s
                    rule_files:
                      - %s
                    scrape_configs:
                      - job_name: license-broker
                        static_configs:
                          - targets: ['127.0.0.1:%d']
                    """.formatted(Path.of("..", "docs", "prometheus", "alerts.yml").toAbsolutePath().normalize(), metricsPort));
            Process server = new ProcessBuilder(prometheus.toString(), "--config.file=" + config,
                    "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + webPort)
                    .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
            try {
                String base = "http://127.0.0.1:" + webPort;
                String inUse = Await.answer(Duration.ofSeconds(60), Duration.ofMillis(250),
                        () -> value(base, "license_pool_in_use{account=\"demo\",pool=\"" + pool + "\",product=\"KRE\"}"));
                assertEquals("1", inUse);
                assertEquals("20", value(base, "license_pool_dedicated{pool=\"" + pool + "\"}").orElseThrow());
                assertEquals("1", value(base, "license_acquire_total{outcome=\"granted\",reason=\"ok\",fallback=\"false\"}").orElseThrow());
                assertEquals("1", value(base, "sum(license_acquire_seconds_count)").orElseThrow());
                assertEquals("1", value(base, "up{job=\"license-broker\"}").orElseThrow());

                JsonNode rules = get(base + "/api/v1/rules");
                Set<String> groups = new HashSet<>();
                rules.get("data").get("groups").forEach(g -> groups.add(g.get("name").asText()));
                assertEquals(Set.of("license-broker-pools", "license-broker-acquires", "license-broker-service"), groups,
                        "the documented rules load into a real Prometheus");
            } finally {
                server.destroy();
                if (!server.waitFor(30, TimeUnit.SECONDS)) {
                    server.destroyForcibly();
                }
            }
        }
    }

    /** The value of the query's single sample, or empty while Prometheus has none (not scraped yet). */
    private static Optional<String> value(String base, String query) throws IOException, InterruptedException {
        JsonNode result = get(base + "/api/v1/query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8)).get("data").get("result");
        if (result.size() != 1) {
            return Optional.empty();
        }
        return Optional.of(result.get(0).get("value").get(1).asText());
    }

    private static JsonNode get(String url) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        JsonNode json = JSON.readTree(response.body());
        assertTrue("success".equals(json.get("status").asText()), response.body());
        return json;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
