package io.licensebroker.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.licensebroker.broker.app.LocalNode;
import io.licensebroker.broker.app.Setting;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** A few seconds of real load against a real broker node, with the correctness checks on. */
class LoadTesterSmokeTest {
    @TempDir
    Path data;

    private LocalNode node() {
        return LocalNode.start(Map.of(Setting.DATA_DIR, data.toString()));
    }

    @Test
    void agentsContendingForFewerLicensesNeverOversubscribeAndLeaveNothingInUse() throws Exception {
        try (LocalNode broker = node();
             BrokerTarget target = BrokerTarget.provision(broker.target(), broker.adminToken(), 16, 5, 2)) {
            RunResult r = LoadDriver.run("smoke", target,
                    new LoadDriver.Options(16, Duration.ofSeconds(2), Duration.ofMillis(300), Duration.ofMillis(2), true, false, 0), null);
            assertTrue(r.ops() > 100, "ops " + r.ops());
            assertTrue(r.denied() > 0, "16 agents for 5 licenses are refused now and then");
            assertEquals(0, r.oversubscribed());
            assertTrue(r.maxHeld() <= 5, "held at most the quota: " + r.maxHeld());
            assertEquals(0, r.leaked(), "usage back to zero");
            assertEquals(Map.of(), r.errors());
            assertTrue(r.latencies().get(RunStats.Rpc.RENEW).getTotalCount() > 0);
        }
    }

    @Test
    void compareRunsEveryContenderWithTheSameDriver(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("compare.json");
        int exit = new CommandLine(new Main()).execute("compare", "--duration", "1s", "--warmup", "300ms",
                "--agents", "8", "--channels", "1", "--json", json.toString());
        assertEquals(0, exit, "all runs correct and error-free");
        var runs = JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonArray("runs");
        assertEquals(java.util.List.of("floor", "broker-memory", "broker-redis", "redisson"),
                runs.asList().stream().map(r -> r.getAsJsonObject().get("name").getAsString()).toList());
        for (var r : runs) {
            assertTrue(r.getAsJsonObject().get("ops_per_sec").getAsDouble() > 0, r.toString());
            assertEquals(0, r.getAsJsonObject().get("oversubscribed").getAsLong(), r.toString());
        }
    }

    @Test
    void openLoopKeepsItsRate() throws Exception {
        try (LocalNode broker = node();
             // Licenses to spare: on a busy machine more operations overlap, and a refusal is not an op.
             BrokerTarget target = BrokerTarget.provision(broker.target(), broker.adminToken(), 8, 1_000, 1)) {
            RunResult r = LoadDriver.run("open", target,
                    new LoadDriver.Options(8, Duration.ofSeconds(2), Duration.ofMillis(200), Duration.ZERO, false, true, 200), null);
            assertTrue(r.ops() >= 300 && r.ops() <= 420, "about 200 ops/s for 2 s: " + r.ops() + ", refused " + r.denied());
            assertEquals(0, r.denied());
            assertEquals(0, r.oversubscribed());
            assertEquals(0, r.leaked());
        }
    }

    @Test
    void runCommandProvisionsLoadsAndWritesJson(@TempDir Path dir) throws Exception {
        try (LocalNode broker = node()) {
            Path json = dir.resolve("run.json");
            int exit = new CommandLine(new Main()).execute("run", "--target", broker.target(), "--admin-token", broker.adminToken(),
                    "--agents", "8", "--duration", "1s", "--warmup", "200ms", "--json", json.toString());
            assertEquals(0, exit);
            JsonObject run = JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonArray("runs").get(0).getAsJsonObject();
            for (String key : new String[]{"name", "ops_per_sec", "p50_ms", "p99_ms", "p999_ms", "errors", "oversubscribed"}) {
                assertTrue(run.has(key), key);
            }
            assertTrue(run.get("ops_per_sec").getAsDouble() > 0);
            assertEquals(0, run.get("oversubscribed").getAsLong());
        }
    }

    @Test
    void aTokenThatIsNotSuperAdminIsOneLineNotAStackTrace() throws Exception {
        try (LocalNode broker = node()) {
            java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
            int exit = Main.run(new String[]{"run", "--target", broker.target(), "--admin-token", "lb_not_a_super_admin_token",
                    "--agents", "2", "--duration", "1s"}, new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
            String printed = err.toString(java.nio.charset.StandardCharsets.UTF_8).strip();
            assertEquals(1, exit, printed);
            assertEquals(1, printed.lines().count(), printed);
            assertTrue(printed.startsWith("error: cannot provision the load-test account at " + broker.target() + ": UNAUTHENTICATED")
                    && printed.contains("SUPER_ADMIN"), printed);
        }
    }
}
