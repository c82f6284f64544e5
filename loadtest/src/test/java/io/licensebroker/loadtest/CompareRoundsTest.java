package io.licensebroker.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** compare's rounds, open loop and renew mix: short real runs, and the arithmetic on made-up runs. */
class CompareRoundsTest {
    private static RunResult run(String name, long ops) {
        return new RunResult(name, 8, 1.0, ops, new RunStats(8).totals(), Map.of(), 0, 0, 0, 0);
    }

    /** A run whose ops all took {@code ms}. */
    private static RunResult timed(String name, long ops, long ms) {
        RunStats stats = new RunStats(8);
        for (long i = 0; i < ops; i++) {
            stats.record(RunStats.Rpc.OP, ms * 1_000_000);
        }
        return new RunResult(name, 8, 1.0, ops, stats.totals(), Map.of(), 0, 0, 0, 0);
    }

    @Test
    void anOpenLoopRunThatCompletedNothingHasNoLatencyAndNoRatio() {
        List<OpenLoopRounds.Round> rounds = List.of(
                new OpenLoopRounds.Round(run("floor", 1000), 500, List.of(timed("floor", 10, 2), timed("broker-memory", 10, 8),
                        run("broker-redis", 0))),
                new OpenLoopRounds.Round(run("floor", 1000), 500, List.of(timed("floor", 10, 4), timed("broker-memory", 10, 8),
                        timed("broker-redis", 10, 40))));
        assertEquals(Map.of("broker-memory", 4.0), rounds.get(0).ratios(99).entrySet().stream()
                .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> Math.rint(e.getValue()))), "no ratio for broker-redis");
        Map<String, Double> medians = OpenLoopRounds.ratioMedians(rounds, 99);
        assertEquals(10.0, medians.get("broker-redis"), 0.1, "only the round that answered counts");
        assertEquals(3.0, medians.get("broker-memory"), 0.1, "median of 4 and 2");
        java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
        OpenLoopRounds.print(List.of(rounds.get(0)), new java.io.PrintStream(printed, true, java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(printed.toString(java.nio.charset.StandardCharsets.UTF_8).contains("no op completed"), printed::toString);
    }

    @Test
    void ratiosAreTakenWithinARoundAndTheirMedianIsReported() {
        List<List<RunResult>> rounds = List.of(
                List.of(run("floor", 1000), run("broker-memory", 500), run("broker-redis", 300), run("redisson", 600)),
                List.of(run("floor", 2000), run("broker-memory", 1800), run("broker-redis", 400), run("redisson", 400)),
                List.of(run("floor", 1000), run("broker-memory", 700), run("broker-redis", 100), run("redisson", 1000)));
        Map<String, Double> medians = Rounds.ratioMedians(rounds);
        assertEquals(0.7, medians.get("broker-memory"), 1e-9, "median of 0.5, 0.9, 0.7");
        assertEquals(0.2, medians.get("broker-redis"), 1e-9, "median of 0.3, 0.2, 0.1");
        assertEquals(0.6, medians.get("redisson"), 1e-9, "median of 0.6, 0.2, 1.0");
        assertEquals(0.5, medians.get(Rounds.REDIS_VS_REDISSON), 1e-9, "median of 0.5, 1.0, 0.1");
        Rounds.Spread floor = Rounds.opsPerSec(rounds).get("floor");
        assertEquals(new Rounds.Spread(1000, 1000, 2000), floor);
        assertEquals(700, Rounds.medianRun(rounds, "broker-memory", RunResult::opsPerSec).ops());
        assertEquals(500, Rounds.medianRun(rounds.subList(0, 2), "broker-memory", RunResult::opsPerSec).ops(),
                "an even count takes the lower middle run");
        assertEquals(2.5, Rounds.median(List.of(4.0, 1.0, 2.0, 3.0)), 1e-9);
    }

    @Test
    void roundsInterleaveTheContendersAndTheJsonKeepsTheOldKeys(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("rounds.json");
        int exit = new CommandLine(new Main()).execute("compare", "--rounds", "2", "--only", "floor,broker-memory",
                "--duration", "800ms", "--warmup", "400ms", "--agents", "4", "--channels", "1", "--json", json.toString());
        assertEquals(0, exit);
        JsonObject top = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
        assertEquals(List.of("floor", "broker-memory"), names(top.getAsJsonArray("runs")));
        for (JsonElement r : top.getAsJsonArray("runs")) {
            for (String key : new String[]{"name", "ops_per_sec", "p50_ms", "p99_ms", "p999_ms", "errors", "oversubscribed", "rpcs"}) {
                assertTrue(r.getAsJsonObject().has(key), key);
            }
        }
        JsonArray rounds = top.getAsJsonArray("rounds");
        assertEquals(2, rounds.size());
        List<Double> ratios = new ArrayList<>();
        for (JsonElement round : rounds) {
            JsonArray runs = round.getAsJsonObject().getAsJsonArray("runs");
            assertEquals(List.of("floor", "broker-memory"), names(runs));
            JsonObject roundRatios = round.getAsJsonObject().getAsJsonObject("ratios");
            if (ops(runs.get(0)) == 0) {
                // A cold JVM on a loaded machine can measure nothing in so short a run: no ratio then, not infinity.
                assertTrue(!roundRatios.has("broker-memory"), roundRatios.toString());
                continue;
            }
            double ratio = ops(runs.get(1)) / ops(runs.get(0));
            assertEquals(ratio, roundRatios.get("broker-memory").getAsDouble(), 0.002 * Math.max(1, ratio));
            ratios.add(ratio);
        }
        assertTrue(!ratios.isEmpty(), "the floor measured something in at least one round");
        assertEquals(Rounds.median(ratios), top.getAsJsonObject("ratio_median").get("broker-memory").getAsDouble(),
                0.002 * Math.max(1, Rounds.median(ratios)), "the median of the per-round ratios");
        JsonObject spread = top.getAsJsonObject("ops_per_sec").getAsJsonObject("floor");
        assertEquals(Math.min(ops(rounds.get(0), 0), ops(rounds.get(1), 0)), spread.get("min").getAsDouble(), 0.002);
        assertEquals(Math.max(ops(rounds.get(0), 0), ops(rounds.get(1), 0)), spread.get("max").getAsDouble(), 0.002);
    }

    @Test
    void openLoopRunsEveryoneAtHalfTheFloorsCapacityAndComparesTails(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("open.json");
        int exit = new CommandLine(new Main()).execute("compare", "--open-loop", "--only", "broker-memory",
                "--duration", "800ms", "--warmup", "200ms", "--agents", "4", "--channels", "1", "--json", json.toString());
        assertEquals(0, exit);
        JsonObject open = JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonObject("open_loop");
        JsonObject round = open.getAsJsonArray("rounds").get(0).getAsJsonObject();
        double capacity = round.getAsJsonObject("floor_capacity").get("ops_per_sec").getAsDouble();
        assertEquals(capacity / 2, round.get("rate").getAsDouble(), 0.01);
        JsonArray runs = round.getAsJsonArray("runs");
        assertEquals(List.of("floor", "broker-memory"), names(runs), "the floor runs open loop too, though --only left it out");
        double p99Floor = runs.get(0).getAsJsonObject().get("p99_ms").getAsDouble();
        double p99Broker = runs.get(1).getAsJsonObject().get("p99_ms").getAsDouble();
        assertEquals(p99Broker / p99Floor, round.getAsJsonObject("p99_ratio_to_floor").get("broker-memory").getAsDouble(), 0.01);
        assertEquals(round.getAsJsonObject("p99_ratio_to_floor").get("broker-memory").getAsDouble(),
                open.getAsJsonObject("p99_ratio_median").get("broker-memory").getAsDouble(), 1e-9, "one round: its own ratio");
        assertTrue(open.getAsJsonObject("p999_ratio_median").has("broker-memory"));
        for (JsonElement r : runs) {
            assertTrue(r.getAsJsonObject().get("ops").getAsLong() > 0, r.toString());
        }
    }

    @Test
    void renewMixKeepsEverySessionAliveAndGivesThemAllBack(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("renew.json");
        // 300 sessions on a 2 s lease: each is renewed every 667 ms, so 1.5 s measures about 675 renewals.
        int exit = new CommandLine(new Main()).execute("compare", "--mix", "renew", "--live", "300", "--lease-ttl", "2s",
                "--churn-rate", "50", "--only", "floor,broker-memory,broker-redis", "--duration", "1500ms", "--warmup", "500ms",
                "--agents", "4", "--channels", "1", "--json", json.toString());
        assertEquals(0, exit, "no renewal failed, nothing oversubscribed or left in use");
        JsonObject mix = JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonObject("renew_mix");
        assertEquals(300, mix.get("live").getAsInt());
        assertEquals(666, mix.get("renew_every_ms").getAsLong());
        JsonArray runs = mix.getAsJsonArray("rounds").get(0).getAsJsonObject().getAsJsonArray("runs");
        assertEquals(List.of("floor", "broker-memory", "broker-redis"), names(runs));
        for (JsonElement e : runs) {
            JsonObject r = e.getAsJsonObject();
            long renews = r.getAsJsonObject("rpcs").getAsJsonObject("renew").get("count").getAsLong();
            assertTrue(renews >= 600 && renews <= 700, "every session renewed on schedule: " + renews + " in " + r);
            assertEquals(renews / 1.5, r.get("renew_ops_per_sec").getAsDouble(), 0.01);
            assertTrue(r.get("ops").getAsLong() > 0, "churn ran: " + r);
            assertEquals(0, r.get("errors").getAsLong(), r.toString());
            assertEquals(0, r.get("oversubscribed").getAsLong(), r.toString());
            assertTrue(r.get("in_use_after").getAsLong() <= 0, "all given back: " + r);
        }
        assertTrue(mix.getAsJsonObject("renew_p99_ratio_median").has("broker-redis"));
    }

    @Test
    void roundsBelowOneAreRefused() {
        assertEquals(2, new CommandLine(new Main()).execute("compare", "--rounds", "0"));
        assertEquals(2, new CommandLine(new Main()).execute("compare", "--only", "nope"));
    }

    private static List<String> names(JsonArray runs) {
        return runs.asList().stream().map(r -> r.getAsJsonObject().get("name").getAsString()).toList();
    }

    private static double ops(JsonElement run) {
        return run.getAsJsonObject().get("ops_per_sec").getAsDouble();
    }

    private static double ops(JsonElement round, int run) {
        return ops(round.getAsJsonObject().getAsJsonArray("runs").get(run));
    }
}
