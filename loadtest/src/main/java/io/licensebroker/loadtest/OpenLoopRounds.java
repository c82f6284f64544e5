package io.licensebroker.loadtest;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The open-loop shape: each round first measures the floor's closed-loop capacity, then runs the
 * floor and every contender at half of it. A closed loop slows down with the server and hides
 * queueing; at a fixed rate measured from each op's intended start, a slower server shows up in
 * the tail, which is what a fleet of agents sees. The floor at the same rate is the yardstick.
 */
final class OpenLoopRounds {
    /** One round: the floor's closed-loop run, the rate derived from it, and the open-loop runs. */
    record Round(RunResult capacity, double rate, List<RunResult> runs) {
        Map<String, Double> ratios(double percentile) {
            Map<String, Double> out = new LinkedHashMap<>();
            RunResult floor = runs.stream().filter(r -> r.name().equals(Contenders.FLOOR)).findFirst().orElse(null);
            if (floor == null) {
                return out;
            }
            double base = floor.percentileMs(RunStats.Rpc.OP, percentile);
            for (RunResult r : runs) {
                // A run that completed no op has no latency: "no answer", not a ratio of 0.
                if (r != floor && base > 0 && r.ops() > 0) {
                    out.put(r.name(), r.percentileMs(RunStats.Rpc.OP, percentile) / base);
                }
            }
            return out;
        }
    }

    /** Half the floor's capacity: loaded, but not so close to saturation that only the queue is measured. */
    static double rateFor(RunResult capacity) {
        return Math.max(1, capacity.opsPerSec() / 2);
    }

    private OpenLoopRounds() {
    }

    static Map<String, Double> ratioMedians(List<Round> rounds, double percentile) {
        Map<String, List<Double>> all = new LinkedHashMap<>();
        rounds.forEach(r -> r.ratios(percentile).forEach((k, v) -> all.computeIfAbsent(k, x -> new ArrayList<>()).add(v)));
        Map<String, Double> out = new LinkedHashMap<>();
        all.forEach((k, v) -> out.put(k, Rounds.median(v)));
        return out;
    }

    private static List<List<RunResult>> runs(List<Round> rounds) {
        return rounds.stream().map(Round::runs).toList();
    }

    /** The runs that completed at least one op: only those have latencies to report. */
    private static List<List<RunResult>> answered(List<Round> rounds) {
        return rounds.stream().map(r -> r.runs().stream().filter(run -> run.ops() > 0).toList()).toList();
    }

    static void print(List<Round> rounds, PrintStream out) {
        out.printf(Locale.ROOT, "%nopen loop at half the floor's closed-loop capacity, %d round(s)%n", rounds.size());
        for (int i = 0; i < rounds.size(); i++) {
            Round round = rounds.get(i);
            out.printf(Locale.ROOT, "round %d: floor capacity %.0f ops/s, rate %.0f ops/s%n", i + 1, round.capacity().opsPerSec(), round.rate());
        }
        var p99 = Rounds.spread(answered(rounds), r -> r.percentileMs(RunStats.Rpc.OP, 99));
        var p999 = Rounds.spread(answered(rounds), r -> r.percentileMs(RunStats.Rpc.OP, 99.9));
        var ops = Rounds.opsPerSec(runs(rounds));
        var r99 = ratioMedians(rounds, 99);
        var r999 = ratioMedians(rounds, 99.9);
        out.printf(Locale.ROOT, "%-14s %9s %19s %11s %11s %12s %10s%n", "run", "ops/s", "op p99 ms (min-max)", "p99.9 ms",
                "p99 x floor", "p99.9 x fl.", "errors");
        ops.keySet().forEach(name -> {
            long errors = rounds.stream().flatMap(r -> r.runs().stream()).filter(r -> r.name().equals(name))
                    .mapToLong(r -> r.errorCount() + r.denied()).sum();
            Rounds.Spread s = p99.get(name);
            if (s == null) {
                out.printf(Locale.ROOT, "%-14s %9.0f %19s %11s %11s %12s %10d%n", name, ops.get(name).median(), "no op completed", "", "", "",
                        errors);
                return;
            }
            out.printf(Locale.ROOT, "%-14s %9.0f %7.3f (%.2f-%.2f) %11.3f %11s %12s %10d%n", name, ops.get(name).median(), s.median(), s.min(), s.max(),
                    p999.get(name).median(), fmt(r99.get(name)), fmt(r999.get(name)), errors);
        });
    }

    static Map<String, Object> json(List<Round> rounds) {
        Map<String, Object> open = new LinkedHashMap<>();
        List<Map<String, Object>> perRound = new ArrayList<>();
        for (int i = 0; i < rounds.size(); i++) {
            Round round = rounds.get(i);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("round", i + 1);
            m.put("floor_capacity", Report.runJson(round.capacity()));
            m.put("rate", Report.round(round.rate()));
            m.put("runs", round.runs().stream().map(Report::runJson).toList());
            m.put("p99_ratio_to_floor", Rounds.rounded(round.ratios(99)));
            m.put("p999_ratio_to_floor", Rounds.rounded(round.ratios(99.9)));
            perRound.add(m);
        }
        open.put("rounds", perRound);
        open.put("p99_ms_median", medians(rounds, 99));
        open.put("p999_ms_median", medians(rounds, 99.9));
        open.put("p99_ratio_median", Rounds.rounded(ratioMedians(rounds, 99)));
        open.put("p999_ratio_median", Rounds.rounded(ratioMedians(rounds, 99.9)));
        Map<String, Object> top = new LinkedHashMap<>();
        // The one-run key as before: each contender's open-loop run at the median p99.
        top.put("runs", Rounds.names(runs(rounds)).stream()
                .map(n -> Report.runJson(Rounds.medianRun(runs(rounds), n, r -> r.percentileMs(RunStats.Rpc.OP, 99)))).toList());
        top.put("open_loop", open);
        return top;
    }

    private static Map<String, Double> medians(List<Round> rounds, double percentile) {
        Map<String, Double> out = new LinkedHashMap<>();
        Rounds.spread(answered(rounds), r -> r.percentileMs(RunStats.Rpc.OP, percentile)).forEach((k, s) -> out.put(k, Report.round(s.median())));
        return out;
    }

    private static String fmt(Double v) {
        return v == null ? "" : String.format(Locale.ROOT, "%.2f", v);
    }
}
