package io.licensebroker.broker.docs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.licensebroker.broker.testing.Exposition;
import io.licensebroker.broker.testing.InProcessBroker;
import io.licensebroker.broker.testing.Promtool;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.GrantLicenseRequest;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import com.google.protobuf.Timestamp;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operations docs hold: the alert rules are well-formed, pass promtool's check and their own
 * unit tests, the example Prometheus config is valid, and the rules and the Grafana dashboard
 * query only metrics the broker really exposes.
 */
final class OperationsDocsTest {
    private static final Path DOCS = Path.of("..", "docs");
    private static final Path ALERTS = DOCS.resolve("prometheus/alerts.yml");
    private static final Path ALERT_TESTS = DOCS.resolve("prometheus/alerts_test.yml");
    private static final Path PROMETHEUS = DOCS.resolve("prometheus/prometheus.yml");
    private static final Path DASHBOARD = DOCS.resolve("grafana/license-broker.json");
    private static final Path OPERATIONS = DOCS.resolve("operations.md");
    private static final List<String> CONTRACT = List.of("license_pool_dedicated", "license_pool_in_use", "license_pool_available",
            "license_acquire_total", "license_acquire_seconds", "license_sessions_expired_total");
    /** The seat metrics (CONTRACT.md section 5's issue): documented like the contract's. */
    private static final List<String> SEATS = List.of("license_seats_granted_total", "license_activations_total");
    /** Metric names of ours or of the binders we use, as they appear in PromQL (label names never start like this). */
    private static final Pattern METRIC = Pattern.compile("\\b((?:license|broker|grpc_server|jvm|process|system)_[a-zA-Z0-9_]+)\\s*[{\\[)]");
    private static final Pattern DURATION = Pattern.compile("\\d+[smhdwy]");

    /** Every sample name a real broker exposes, after enough traffic for every series to exist. */
    private static Set<String> exposed;

    @BeforeAll
    static void scrapeARealBroker() {
        try (InProcessBroker broker = new InProcessBroker(100)) {
            broker.root().createAccount(CreateAccountRequest.newBuilder().setAccountId("a").setName("a").build());
            broker.root().setSubscription(SetSubscriptionRequest.newBuilder().setAccountId("a").setLicenses(1).setMachineQuota(1)
                    .setExpiresAt(Timestamp.newBuilder().setSeconds(broker.clock.instant().plus(Duration.ofDays(1)).getEpochSecond())).build());
            broker.root().upsertUser(UpsertUserRequest.newBuilder().setAccountId("a").setUserId("u").build());
            String key = broker.root().createApiKey(CreateApiKeyRequest.newBuilder().setAccountId("a").setUserId("u").build()).getApiKey();
            broker.agent(key).acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m").build());
            // A seat product and one seat: license_seats_granted_total exists from the first grant.
            broker.root().setSubscription(SetSubscriptionRequest.newBuilder().setAccountId("a").setProduct("KSE").setLicenses(1)
                    .setMachineQuota(1).setLicenseModel(LicenseModel.LICENSE_MODEL_FLOATING)
                    .setExpiresAt(Timestamp.newBuilder().setSeconds(broker.clock.instant().plus(Duration.ofDays(1)).getEpochSecond())).build());
            broker.root().grantLicense(GrantLicenseRequest.newBuilder().setAccountId("a").setProduct("KSE").setUserId("u").build());
            // What only the Redis store reports (its meters are registered on first use), as it reports it.
            broker.metrics.storeObserver().stateLost("a", 1);
            broker.metrics.storeObserver().sessionReadmitted();
            exposed = new HashSet<>();
            Exposition.parse(broker.metrics.scrape()).samples().forEach(s -> exposed.add(s.name()));
        }
        assertTrue(exposed.containsAll(List.of("license_acquire_seconds_bucket", "license_pool_in_use", "broker_store_errors_total")), exposed.toString());
    }

    @Test
    @SuppressWarnings("unchecked")
    void alertRulesAreWellFormedAndCoverExhaustionAndFallbackSpikes() throws IOException {
        Map<String, Object> file = (Map<String, Object>) yaml(ALERTS);
        List<Map<String, Object>> groups = (List<Map<String, Object>>) file.get("groups");
        assertFalse(groups.isEmpty());
        List<String> names = new ArrayList<>();
        List<String> exprs = new ArrayList<>();
        for (Map<String, Object> group : groups) {
            assertTrue(group.get("name") instanceof String, "group name");
            for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
                String name = (String) rule.get("alert");
                assertTrue(name != null && name.matches("[A-Z][A-Za-z]+"), "alert name " + name);
                String expr = (String) rule.get("expr");
                assertTrue(expr != null && !expr.isBlank(), name + ": expr");
                assertTrue(DURATION.matcher(String.valueOf(rule.get("for"))).matches(), name + ": for");
                Map<String, Object> labels = (Map<String, Object>) rule.get("labels");
                assertTrue(Set.of("critical", "warning", "info").contains(labels.get("severity")), name + ": severity");
                Map<String, Object> annotations = (Map<String, Object>) rule.get("annotations");
                assertTrue(annotations.get("summary") instanceof String && annotations.get("description") instanceof String, name + ": annotations");
                assertOnlyExposedMetrics(name, expr);
                names.add(name);
                exprs.add(expr);
            }
        }
        assertEquals(names.size(), new HashSet<>(names).size(), "alert names are unique");
        assertTrue(exprs.stream().anyMatch(e -> e.contains("license_pool_available") && e.contains("== 0")), "a pool exhaustion alert");
        assertTrue(exprs.stream().anyMatch(e -> e.contains("license_acquire_total{outcome=\"granted\", fallback=\"true\"}") && e.contains("rate(")),
                "a fallback spike alert");
        String operations = Files.readString(OPERATIONS);
        names.forEach(n -> assertTrue(operations.contains("`" + n + "`"), "operations.md documents " + n));
        CONTRACT.forEach(m -> assertTrue(operations.contains("`" + m + "`"), "operations.md documents " + m));
        SEATS.forEach(m -> assertTrue(operations.contains("`" + m + "`") && exposed.contains(m), "operations.md documents " + m));
    }

    @Test
    void promtoolAcceptsTheRulesTheirUnitTestsAndTheExampleConfig() throws Exception {
        Promtool.Result rules = Promtool.run(null, "check", "rules", ALERTS.toString());
        assertEquals(0, rules.exitCode(), rules.output());
        Promtool.Result tests = Promtool.run(null, "test", "rules", ALERT_TESTS.toString());
        assertEquals(0, tests.exitCode(), tests.output());
        Promtool.Result config = Promtool.run(null, "check", "config", PROMETHEUS.toString());
        assertEquals(0, config.exitCode(), config.output());
    }

    @Test
    void theExampleConfigScrapesTheMetricsPathAndLoadsTheRules() throws IOException {
        @SuppressWarnings("unchecked")
        Map<String, Object> config = (Map<String, Object>) yaml(PROMETHEUS);
        assertEquals(List.of("alerts.yml"), config.get("rule_files"));
        String text = Files.readString(PROMETHEUS);
        assertTrue(text.contains("metrics_path: /metrics") && text.contains(":9464"), text);
    }

    @Test
    void theDashboardIsValidAndQueriesOnlyExposedMetrics() throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
        assertEquals("license-broker", dashboard.get("uid").asText());
        Set<String> variables = new TreeSet<>();
        dashboard.get("templating").get("list").forEach(v -> variables.add(v.get("name").asText()));
        assertEquals(Set.of("datasource", "account", "product"), variables);
        Set<String> ids = new HashSet<>();
        StringBuilder all = new StringBuilder();
        int queries = 0;
        for (JsonNode panel : dashboard.get("panels")) {
            assertTrue(ids.add(panel.get("id").asText()), "panel ids are unique");
            assertTrue(panel.has("gridPos") && panel.has("title"), panel.toString());
            if (panel.has("targets")) {
                for (JsonNode target : panel.get("targets")) {
                    String expr = target.get("expr").asText();
                    assertOnlyExposedMetrics(panel.get("title").asText(), expr);
                    all.append(expr).append('\n');
                    queries++;
                }
            }
        }
        assertTrue(queries >= 10, "queries: " + queries);
        for (String metric : CONTRACT) {
            assertTrue(all.toString().contains(metric), "the dashboard shows " + metric);
        }
    }

    private static void assertOnlyExposedMetrics(String where, String expr) {
        Matcher m = METRIC.matcher(expr);
        int found = 0;
        while (m.find()) {
            found++;
            assertTrue(exposed.contains(m.group(1)), where + " queries " + m.group(1) + ", which the broker does not expose");
        }
        assertTrue(found > 0 || expr.contains("up{"), where + " queries no broker metric: " + expr);
    }

    private static Object yaml(Path file) throws IOException {
        return new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
    }
}
