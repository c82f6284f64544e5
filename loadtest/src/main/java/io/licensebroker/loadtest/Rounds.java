package io.licensebroker.loadtest;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * What several interleaved rounds of closed-loop runs add up to. Single runs swing by 2x on a
 * shared 2-core machine, so a contender is summed up by its median and spread, and a comparison by
 * the median of ratios taken within a round (both sides saw the same machine state), not by a
 * ratio of medians from different moments.
 */
final class Rounds {
    static final String REDIS_VS_REDISSON = Contenders.BROKER_REDIS + "/" + Contenders.REDISSON;

    record Spread(double median, double min, double max) {
    }

    private Rounds() {
    }

    static double median(List<Double> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("no values");
        }
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** Each contender's ops/s over the rounds, in the order they ran. */
    static Map<String, Spread> opsPerSec(List<List<RunResult>> rounds) {
        return spread(rounds, RunResult::opsPerSec);
    }

    static Map<String, Spread> spread(List<List<RunResult>> rounds, ToDoubleFunction<RunResult> value) {
        Map<String, List<Double>> values = new LinkedHashMap<>();
        for (List<RunResult> round : rounds) {
            for (RunResult r : round) {
                values.computeIfAbsent(r.name(), n -> new ArrayList<>()).add(value.applyAsDouble(r));
            }
        }
        Map<String, Spread> out = new LinkedHashMap<>();
        values.forEach((name, v) -> out.put(name, new Spread(median(v),
                v.stream().mapToDouble(Double::doubleValue).min().orElseThrow(),
                v.stream().mapToDouble(Double::doubleValue).max().orElseThrow())));
        return out;
    }

    /**
     * One round's ratios: every other contender's ops/s over the floor's, and broker-redis over
     * redisson; a ratio is left out when a side did not run or measured nothing.
     */
    static Map<String, Double> ratios(List<RunResult> round) {
        Map<String, Double> out = new LinkedHashMap<>();
        RunResult floor = find(round, Contenders.FLOOR);
        for (RunResult r : round) {
            if (floor != null && r != floor && floor.opsPerSec() > 0) {
                out.put(r.name(), r.opsPerSec() / floor.opsPerSec());
            }
        }
        RunResult redis = find(round, Contenders.BROKER_REDIS);
        RunResult redisson = find(round, Contenders.REDISSON);
        if (redis != null && redisson != null && redisson.opsPerSec() > 0) {
            out.put(REDIS_VS_REDISSON, redis.opsPerSec() / redisson.opsPerSec());
        }
        return out;
    }

    /** The median over the rounds of each per-round ratio. */
    static Map<String, Double> ratioMedians(List<List<RunResult>> rounds) {
        Map<String, List<Double>> all = new LinkedHashMap<>();
        for (List<RunResult> round : rounds) {
            ratios(round).forEach((k, v) -> all.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
        }
        Map<String, Double> out = new LinkedHashMap<>();
        all.forEach((k, v) -> out.put(k, median(v)));
        return out;
    }

    /**
     * The run of {@code name} at the median of {@code value} (the lower middle one for an even
     * count): what the one-run {@code runs} key of the JSON holds, so its keys stay as they were.
     */
    static RunResult medianRun(List<List<RunResult>> rounds, String name, ToDoubleFunction<RunResult> value) {
        List<RunResult> runs = new ArrayList<>();
        rounds.forEach(round -> round.stream().filter(r -> r.name().equals(name)).forEach(runs::add));
        runs.sort((a, b) -> Double.compare(value.applyAsDouble(a), value.applyAsDouble(b)));
        return runs.get((runs.size() - 1) / 2);
    }

    static List<String> names(List<List<RunResult>> rounds) {
        List<String> out = new ArrayList<>();
        rounds.forEach(round -> round.forEach(r -> {
            if (!out.contains(r.name())) {
                out.add(r.name());
            }
        }));
        return out;
    }

    static void print(List<List<RunResult>> rounds, PrintStream out) {
        Map<String, Spread> spread = opsPerSec(rounds);
        Map<String, Double> medians = ratioMedians(rounds);
        out.printf(Locale.ROOT, "%n%d round(s), interleaved; ops/s median (min-max) and the median of per-round ratios%n", rounds.size());
        out.printf(Locale.ROOT, "%-14s %10s %21s  %-16s %s%n", "run", "median", "min-max", "x floor", "per round");
        spread.forEach((name, s) -> {
            List<String> perRound = new ArrayList<>();
            rounds.forEach(round -> {
                Double ratio = ratios(round).get(name);
                perRound.add(ratio == null ? "-" : String.format(Locale.ROOT, "%.2f", ratio));
            });
            out.printf(Locale.ROOT, "%-14s %10.0f %10.0f-%-10.0f  %-16s %s%n", name, s.median(), s.min(), s.max(),
                    medians.containsKey(name) ? String.format(Locale.ROOT, "%.2f", medians.get(name)) : "",
                    medians.containsKey(name) ? String.join(" ", perRound) : "");
        });
        if (medians.containsKey(REDIS_VS_REDISSON)) {
            List<String> perRound = rounds.stream().map(Rounds::ratios).filter(m -> m.containsKey(REDIS_VS_REDISSON))
                    .map(m -> String.format(Locale.ROOT, "%.2f", m.get(REDIS_VS_REDISSON))).toList();
            out.printf(Locale.ROOT, "%-14s %.2f (median of %s)%n", REDIS_VS_REDISSON, medians.get(REDIS_VS_REDISSON), String.join(" ", perRound));
        }
    }

    /** The JSON of closed-loop rounds: the old {@code runs} (median runs) plus rounds, spread and ratio_median. */
    static Map<String, Object> json(List<List<RunResult>> rounds) {
        Map<String, Object> top = new LinkedHashMap<>();
        top.put("runs", names(rounds).stream().map(n -> Report.runJson(medianRun(rounds, n, RunResult::opsPerSec))).toList());
        top.put("rounds", roundsJson(rounds));
        Map<String, Object> spread = new LinkedHashMap<>();
        opsPerSec(rounds).forEach((name, s) -> spread.put(name, Map.of("median", Report.round(s.median()),
                "min", Report.round(s.min()), "max", Report.round(s.max()))));
        top.put("ops_per_sec", spread);
        top.put("ratio_median", rounded(ratioMedians(rounds)));
        return top;
    }

    static List<Map<String, Object>> roundsJson(List<List<RunResult>> rounds) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < rounds.size(); i++) {
            Map<String, Object> round = new LinkedHashMap<>();
            round.put("round", i + 1);
            round.put("runs", rounds.get(i).stream().map(Report::runJson).toList());
            round.put("ratios", rounded(ratios(rounds.get(i))));
            out.add(round);
        }
        return out;
    }

    static Map<String, Double> rounded(Map<String, Double> values) {
        Map<String, Double> out = new LinkedHashMap<>();
        values.forEach((k, v) -> out.put(k, Report.round(v)));
        return out;
    }

    private static RunResult find(List<RunResult> runs, String name) {
        return runs.stream().filter(r -> r.name().equals(name)).findFirst().orElse(null);
    }
}
