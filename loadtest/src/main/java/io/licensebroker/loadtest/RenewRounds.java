package io.licensebroker.loadtest;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The renew-heavy mix over rounds: renewals per second and their tail, next to the floor's. */
final class RenewRounds {
    private RenewRounds() {
    }

    static double renewsPerSec(RunResult r) {
        return r.latencies().get(RunStats.Rpc.RENEW).getTotalCount() / r.seconds();
    }

    static double renewP99(RunResult r) {
        return r.percentileMs(RunStats.Rpc.RENEW, 99);
    }

    /** Each contender's renew p99 over the floor's in the same round, median over the rounds. */
    static Map<String, Double> p99RatioMedians(List<List<RunResult>> rounds) {
        Map<String, List<Double>> all = new LinkedHashMap<>();
        for (List<RunResult> round : rounds) {
            RunResult floor = round.stream().filter(r -> r.name().equals(Contenders.FLOOR)).findFirst().orElse(null);
            for (RunResult r : round) {
                if (floor != null && r != floor && renewP99(floor) > 0) {
                    all.computeIfAbsent(r.name(), k -> new ArrayList<>()).add(renewP99(r) / renewP99(floor));
                }
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        all.forEach((k, v) -> out.put(k, Rounds.median(v)));
        return out;
    }

    static void print(List<List<RunResult>> rounds, RenewMix.Options o, PrintStream out) {
        out.printf(Locale.ROOT, "%nrenew mix: %,d live sessions, lease %d ms renewed every %d ms, churn %.0f acquire+release/s, %d round(s)%n",
                o.live(), o.leaseTtl().toMillis(), o.renewEvery().toMillis(), o.churnRate(), rounds.size());
        var renews = Rounds.spread(rounds, RenewRounds::renewsPerSec);
        var p99 = Rounds.spread(rounds, RenewRounds::renewP99);
        var p999 = Rounds.spread(rounds, r -> r.percentileMs(RunStats.Rpc.RENEW, 99.9));
        var churn = Rounds.spread(rounds, r -> r.percentileMs(RunStats.Rpc.OP, 99));
        var ratio = p99RatioMedians(rounds);
        out.printf(Locale.ROOT, "%-14s %10s %14s %12s %12s %14s %8s %7s %7s%n", "run", "renews/s", "renew p99 ms", "p99.9 ms",
                "p99 x floor", "churn p99 ms", "errors", "overs.", "in use");
        renews.forEach((name, s) -> {
            List<RunResult> runs = rounds.stream().flatMap(List::stream).filter(r -> r.name().equals(name)).toList();
            out.printf(Locale.ROOT, "%-14s %10.0f %14.3f %12.3f %12s %14.3f %8d %7d %7d%n", name, s.median(), p99.get(name).median(),
                    p999.get(name).median(), ratio.containsKey(name) ? String.format(Locale.ROOT, "%.2f", ratio.get(name)) : "",
                    churn.get(name).median(), runs.stream().mapToLong(RunResult::errorCount).sum(),
                    runs.stream().mapToLong(RunResult::oversubscribed).sum(), runs.stream().mapToLong(r -> Math.max(0, r.leaked())).sum());
        });
    }

    static Map<String, Object> json(List<List<RunResult>> rounds, RenewMix.Options o) {
        Map<String, Object> mix = new LinkedHashMap<>();
        mix.put("live", o.live());
        mix.put("lease_ttl_ms", o.leaseTtl().toMillis());
        mix.put("renew_every_ms", o.renewEvery().toMillis());
        mix.put("churn_rate", o.churnRate());
        List<Map<String, Object>> perRound = new ArrayList<>();
        for (int i = 0; i < rounds.size(); i++) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("round", i + 1);
            m.put("runs", rounds.get(i).stream().map(RenewRounds::runJson).toList());
            perRound.add(m);
        }
        mix.put("rounds", perRound);
        Map<String, Object> renews = new LinkedHashMap<>();
        Rounds.spread(rounds, RenewRounds::renewsPerSec).forEach((k, s) -> renews.put(k,
                Map.of("median", Report.round(s.median()), "min", Report.round(s.min()), "max", Report.round(s.max()))));
        mix.put("renew_ops_per_sec", renews);
        Map<String, Double> p99 = new LinkedHashMap<>();
        Rounds.spread(rounds, RenewRounds::renewP99).forEach((k, s) -> p99.put(k, Report.round(s.median())));
        mix.put("renew_p99_ms_median", p99);
        mix.put("renew_p99_ratio_median", Rounds.rounded(p99RatioMedians(rounds)));
        Map<String, Object> top = new LinkedHashMap<>();
        top.put("runs", Rounds.names(rounds).stream().map(n -> runJson(Rounds.medianRun(rounds, n, RenewRounds::renewsPerSec))).toList());
        top.put("renew_mix", mix);
        return top;
    }

    /** A run's usual keys (ops_per_sec is the churn's) plus the renewals'. */
    private static Map<String, Object> runJson(RunResult r) {
        Map<String, Object> m = Report.runJson(r);
        m.put("renew_ops_per_sec", Report.round(renewsPerSec(r)));
        m.put("renew_p99_ms", Report.round(renewP99(r)));
        m.put("renew_p999_ms", Report.round(r.percentileMs(RunStats.Rpc.RENEW, 99.9)));
        return m;
    }
}
