package io.licensebroker.loadtest;

import com.google.gson.GsonBuilder;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Human tables and the JSON file of runs. */
final class Report {
    private Report() {
    }

    static void printRun(RunResult r, PrintStream out) {
        out.printf(Locale.ROOT, "%n%s: %d agents, %.0f s, %,d ops (acquire + release), %.0f ops/s%n",
                r.name(), r.agents(), r.seconds(), r.ops(), r.opsPerSec());
        out.printf(Locale.ROOT, "%-8s %10s %9s %9s %9s %9s %9s%n", "rpc", "count", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms");
        for (RunStats.Rpc rpc : RunStats.Rpc.values()) {
            long count = r.latencies().get(rpc).getTotalCount();
            if (count == 0) {
                continue;
            }
            out.printf(Locale.ROOT, "%-8s %,10d %9.3f %9.3f %9.3f %9.3f %9.3f%n", rpc.name().toLowerCase(Locale.ROOT), count,
                    r.percentileMs(rpc, 50), r.percentileMs(rpc, 90), r.percentileMs(rpc, 99), r.percentileMs(rpc, 99.9), r.maxMs(rpc));
        }
        out.printf(Locale.ROOT, "denied (no license): %,d   errors: %s   max held: %d   oversubscribed: %d   in use after: %s%n",
                r.denied(), r.errors().isEmpty() ? "0" : r.errors(), r.maxHeld(), r.oversubscribed(),
                r.leaked() < 0 ? "n/a" : Long.toString(r.leaked()));
        out.println(r.correct() ? "checks: OK" : "checks: FAILED (oversubscribed or leaked)");
    }

    /** The compare table: each run against the floor, and the Redis broker against Redisson. */
    static void printComparison(List<RunResult> runs, PrintStream out) {
        out.printf(Locale.ROOT, "%n%-14s %10s %9s %9s %9s %7s %7s  %s%n", "run", "ops/s", "p50 ms", "p99 ms", "p99.9 ms", "errors", "overs.", "ratio");
        RunResult floor = find(runs, "floor");
        RunResult redisson = find(runs, "redisson");
        for (RunResult r : runs) {
            String ratio = "";
            if (floor != null && r != floor && !r.name().equals("redisson")) {
                ratio = String.format(Locale.ROOT, "%.2f x floor", r.opsPerSec() / floor.opsPerSec());
            }
            if (redisson != null && r.name().equals("broker-redis")) {
                ratio += String.format(Locale.ROOT, "%s%.2f x redisson", ratio.isEmpty() ? "" : ", ", r.opsPerSec() / redisson.opsPerSec());
            }
            out.printf(Locale.ROOT, "%-14s %10.0f %9.3f %9.3f %9.3f %7d %7d  %s%n", r.name(), r.opsPerSec(),
                    r.percentileMs(RunStats.Rpc.OP, 50), r.percentileMs(RunStats.Rpc.OP, 99), r.percentileMs(RunStats.Rpc.OP, 99.9),
                    r.errorCount(), r.oversubscribed(), ratio);
        }
    }

    static void writeJson(List<RunResult> runs, Path file) throws IOException {
        Map<String, Object> top = new LinkedHashMap<>();
        top.put("runs", runs.stream().map(Report::runJson).toList());
        writeJson(top, file);
    }

    /** Writes {@code top} as pretty JSON; its values are maps, lists, strings and numbers. */
    static void writeJson(Map<String, Object> top, Path file) throws IOException {
        Files.writeString(file, new GsonBuilder().setPrettyPrinting().create().toJson(top) + "\n");
    }

    /** One run as the JSON files have always had it (benchmarks/*.json); compare's rounds reuse it. */
    static Map<String, Object> runJson(RunResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.name());
        m.put("ops_per_sec", round(r.opsPerSec()));
        m.put("p50_ms", round(r.percentileMs(RunStats.Rpc.OP, 50)));
        m.put("p99_ms", round(r.percentileMs(RunStats.Rpc.OP, 99)));
        m.put("p999_ms", round(r.percentileMs(RunStats.Rpc.OP, 99.9)));
        m.put("errors", r.errorCount());
        m.put("oversubscribed", r.oversubscribed());
        m.put("agents", r.agents());
        m.put("seconds", r.seconds());
        m.put("ops", r.ops());
        m.put("denied", r.denied());
        m.put("in_use_after", r.leaked());
        Map<String, Object> rpcs = new LinkedHashMap<>();
        for (RunStats.Rpc rpc : RunStats.Rpc.values()) {
            if (r.latencies().get(rpc).getTotalCount() > 0) {
                rpcs.put(rpc.name().toLowerCase(Locale.ROOT), ordered(
                        "count", r.latencies().get(rpc).getTotalCount(),
                        "p50_ms", round(r.percentileMs(rpc, 50)), "p90_ms", round(r.percentileMs(rpc, 90)),
                        "p99_ms", round(r.percentileMs(rpc, 99)), "p999_ms", round(r.percentileMs(rpc, 99.9)),
                        "max_ms", round(r.maxMs(rpc))));
            }
        }
        m.put("rpcs", rpcs);
        m.put("error_statuses", r.errors());
        return m;
    }

    private static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    private static RunResult find(List<RunResult> runs, String name) {
        return runs.stream().filter(r -> r.name().equals(name)).findFirst().orElse(null);
    }

    static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
