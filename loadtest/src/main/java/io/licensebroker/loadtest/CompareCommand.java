package io.licensebroker.loadtest;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

/**
 * {@code compare}: in one run on this machine, with the same driver and concurrency, measures the
 * gRPC floor, the broker on its embedded store, the broker on Redis and Redisson's semaphore.
 * With {@code --rounds} they run interleaved (floor, broker-memory, broker-redis, redisson, again),
 * because on a shared machine a single run swings by 2x and only same-round ratios are fair.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Measure floor, broker-memory, broker-redis and redisson side by side, interleaved over --rounds.",
                "Load shapes: closed loop, one op = acquire + release (default); --open-loop: the floor's closed-loop capacity,"
                        + " then every contender at half of that rate, tails compared with the floor's;"
                        + " --mix renew: --live sessions renewed every third of --lease-ttl plus --churn-rate acquire + release/s."})
final class CompareCommand implements Callable<Integer> {
    /** Open loop grants more at once than one license per agent: a refusal would not be a latency. */
    static final long OPEN_LOOP_LICENSES = 20_000;
    /** Licenses beyond the live sessions in the renew mix, for the churn. */
    static final long CHURN_HEADROOM = 10_000;

    enum Mix { acquire_release, renew }

    @Spec
    CommandSpec spec;

    @Option(names = "--duration", defaultValue = "20s", converter = DurationConverter.class,
            description = "measured duration of each run (default ${DEFAULT-VALUE})")
    Duration duration;

    @Option(names = "--warmup", defaultValue = "5s", converter = DurationConverter.class,
            description = "unmeasured warm-up of each run (default ${DEFAULT-VALUE})")
    Duration warmup;

    @Option(names = "--agents", defaultValue = "64", description = "concurrent agents in every run (default ${DEFAULT-VALUE})")
    int agents;

    @Option(names = "--channels", defaultValue = "2", description = "gRPC connections (default ${DEFAULT-VALUE})")
    int channels;

    @Option(names = "--only", split = ",", description = "run only these: floor, broker-memory, broker-redis, redisson"
            + " (--open-loop always runs the floor too: it is the yardstick)")
    List<String> only;

    @Option(names = "--fsync", defaultValue = "true", arity = "1",
            description = "broker-memory fsyncs its journal before answering (default ${DEFAULT-VALUE}, as the broker's own default)")
    boolean fsync;

    @Option(names = "--rounds", defaultValue = "1",
            description = "run every contender this many times, interleaved; report medians, spread and the median of per-round ratios (default ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--open-loop", description = "per round: measure the floor's closed-loop capacity, then run the floor and every"
            + " contender open loop at half of it; compare op p99 and p99.9 with the floor's at the same rate")
    boolean openLoop;

    @Option(names = "--mix", defaultValue = "acquire_release", converter = MixConverter.class,
            description = "acquire-release (default: one op = acquire + release) or renew: --live sessions held and renewed every"
                    + " third of --lease-ttl, plus --churn-rate acquire + release per second; contenders floor, broker-memory and"
                    + " broker-redis (redisson only when --only names it)")
    Mix mix;

    @Option(names = "--live", defaultValue = "100000", description = "--mix renew: sessions held at once (default ${DEFAULT-VALUE})")
    int live;

    @Option(names = "--lease-ttl", defaultValue = "30s", converter = DurationConverter.class,
            description = "--mix renew: the brokers' lease, renewed every third of it (default ${DEFAULT-VALUE}, shorter than the broker's 60s so renewals dominate)")
    Duration leaseTtl;

    @Option(names = "--churn-rate", defaultValue = "500", description = "--mix renew: acquire + release per second besides the renewals (default ${DEFAULT-VALUE})")
    double churnRate;

    @Option(names = "--prime", converter = DurationConverter.class,
            description = "before round 1, load the floor this long, unrecorded, so the JVM (driver, gRPC) is compiled before anything"
                    + " counts; default --warmup + --duration when --rounds > 1, none for one round (as before)")
    Duration prime;

    @Option(names = "--json", description = "write the runs to this file: {\"runs\": [...], \"rounds\": [...], \"ratio_median\": {...}, ...}")
    Path json;

    @Override
    public Integer call() throws Exception {
        if (rounds < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--rounds must be at least 1: " + rounds);
        }
        if (only != null && !Contenders.ALL.containsAll(only)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--only names one of " + Contenders.ALL + ", not " + only);
        }
        if (openLoop && mix == Mix.renew) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--mix renew is open loop already; drop --open-loop");
        }
        LoadDriver.Options closed = new LoadDriver.Options(agents, duration, warmup, Duration.ZERO, false, false, 0);
        Contenders.Setup setup = new Contenders.Setup(agents, channels, fsync, agents, null);
        prime(setup);
        List<RunResult> all = new ArrayList<>();
        Map<String, Object> out;
        if (mix == Mix.renew) {
            out = renewMix(all);
        } else if (openLoop) {
            out = openLoop(closed, setup, all);
        } else {
            out = closedLoop(closed, setup, all);
        }
        if (json != null) {
            Report.writeJson(out, json);
        }
        // Non-zero when any run of any round failed a check or saw an error, as with one round.
        return all.stream().allMatch(r -> r.correct() && r.errorCount() == 0) ? 0 : 1;
    }

    private Map<String, Object> closedLoop(LoadDriver.Options options, Contenders.Setup setup, List<RunResult> all) throws Exception {
        List<List<RunResult>> done = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            List<RunResult> runs = runEach(this::wanted, setup, (name, t) -> LoadDriver.run(name, t, options, System.err));
            header(round);
            runs.forEach(r -> Report.printRun(r, System.out));
            Report.printComparison(runs, System.out);
            done.add(runs);
            all.addAll(runs);
        }
        Rounds.print(done, System.out);
        return Rounds.json(done);
    }

    private Map<String, Object> openLoop(LoadDriver.Options closed, Contenders.Setup setup, List<RunResult> all) throws Exception {
        Contenders.Setup roomy = new Contenders.Setup(agents, channels, fsync, OPEN_LOOP_LICENSES, null);
        List<OpenLoopRounds.Round> done = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            RunResult capacity = Contenders.with(Contenders.FLOOR, setup, t -> LoadDriver.run("floor-capacity", t, closed, System.err));
            double rate = OpenLoopRounds.rateFor(capacity);
            LoadDriver.Options open = new LoadDriver.Options(agents, duration, warmup, Duration.ZERO, false, true, rate);
            List<RunResult> runs = runEach(name -> name.equals(Contenders.FLOOR) || wanted(name), roomy,
                    (name, t) -> LoadDriver.run(name, t, open, System.err));
            header(round);
            Report.printRun(capacity, System.out);
            runs.forEach(r -> Report.printRun(r, System.out));
            done.add(new OpenLoopRounds.Round(capacity, rate, runs));
            all.add(capacity);
            all.addAll(runs);
        }
        OpenLoopRounds.print(done, System.out);
        return OpenLoopRounds.json(done);
    }

    private Map<String, Object> renewMix(List<RunResult> all) throws Exception {
        RenewMix.Options options = new RenewMix.Options(live, leaseTtl, churnRate, agents, duration, warmup);
        Contenders.Setup setup = new Contenders.Setup(agents, channels, fsync, live + CHURN_HEADROOM, leaseTtl);
        List<List<RunResult>> done = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            List<RunResult> runs = runEach(name -> only != null ? only.contains(name) : !name.equals(Contenders.REDISSON), setup,
                    (name, t) -> RenewMix.run(name, t, options, System.err));
            header(round);
            runs.forEach(r -> Report.printRun(r, System.out));
            done.add(runs);
            all.addAll(runs);
        }
        RenewRounds.print(done, options, System.out);
        return RenewRounds.json(done, options);
    }

    /**
     * Round 1's first run otherwise pays for compiling the driver's and gRPC's code: on this machine
     * the cold floor measured 437 ops/s against 11k-28k in later rounds, a ratio of 4 x floor for
     * the contenders after it. Its result is thrown away.
     */
    private void prime(Contenders.Setup setup) throws Exception {
        Duration length = prime != null ? prime : rounds > 1 ? warmup.plus(duration) : Duration.ZERO;
        if (length.isZero() || length.isNegative()) {
            return;
        }
        LoadDriver.Options options = new LoadDriver.Options(agents, length, Duration.ZERO, Duration.ZERO, false, false, 0);
        Contenders.with(Contenders.FLOOR, setup, t -> LoadDriver.run("prime", t, options, System.err));
    }

    /** One measurement of a started contender. */
    private interface Measure {
        RunResult on(String name, LoadTarget target) throws Exception;
    }

    /** One round: every contender {@code in} takes, in the order of {@link Contenders#ALL}, each started fresh. */
    private static List<RunResult> runEach(Predicate<String> in, Contenders.Setup setup, Measure measure) throws Exception {
        List<RunResult> runs = new ArrayList<>();
        for (String name : Contenders.ALL) {
            if (in.test(name)) {
                runs.add(Contenders.with(name, setup, t -> measure.on(name, t)));
            }
        }
        return runs;
    }

    private void header(int round) {
        if (rounds > 1) {
            System.out.printf("%n=== round %d of %d ===%n", round, rounds);
        }
    }

    private boolean wanted(String name) {
        return only == null || only.contains(name);
    }

    /** {@code acquire-release} or {@code renew}, as typed on the command line. */
    static final class MixConverter implements CommandLine.ITypeConverter<Mix> {
        @Override
        public Mix convert(String value) {
            return Mix.valueOf(value.replace('-', '_'));
        }
    }
}
