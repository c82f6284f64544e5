package io.licensebroker.loadtest;

import io.licensebroker.broker.app.LocalNode;
import io.licensebroker.broker.app.Setting;
import io.licensebroker.testkit.Scratch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code compare}: in one run on this machine, with the same driver and concurrency, measures the
 * gRPC floor, the broker on its embedded store, the broker on Redis and Redisson's semaphore.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Measure floor, broker-memory, broker-redis and redisson side by side; one op = acquire + release.")
final class CompareCommand implements Callable<Integer> {
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

    @Option(names = "--only", split = ",", description = "run only these: floor, broker-memory, broker-redis, redisson")
    List<String> only;

    @Option(names = "--fsync", defaultValue = "true", arity = "1",
            description = "broker-memory fsyncs its journal before answering (default ${DEFAULT-VALUE}, as the broker's own default)")
    boolean fsync;

    @Option(names = "--json", description = "write {\"runs\":[...]} to this file")
    Path json;

    @Override
    public Integer call() throws Exception {
        LoadDriver.Options options = new LoadDriver.Options(agents, duration, warmup, Duration.ZERO, false, false, 0);
        List<RunResult> runs = new ArrayList<>();
        if (wanted("floor")) {
            try (FloorServer floor = FloorServer.start();
                 BrokerTarget target = BrokerTarget.floor("127.0.0.1:" + floor.port(), agents, channels)) {
                runs.add(LoadDriver.run("floor", target, options, System.err));
            }
        }
        if (wanted("broker-memory")) {
            try (Scratch data = Scratch.directory("license-loadtest-");
                 LocalNode broker = LocalNode.start(Map.of(Setting.FSYNC, Boolean.toString(fsync), Setting.DATA_DIR, data.toString()));
                 BrokerTarget target = BrokerTarget.provision(broker.target(), broker.adminToken(), agents, agents, channels)) {
                runs.add(LoadDriver.run("broker-memory", target, options, System.err));
            }
        }
        runs.addAll(RedisRuns.run(this::wanted, options, channels, System.err));
        runs.forEach(r -> Report.printRun(r, System.out));
        Report.printComparison(runs, System.out);
        if (json != null) {
            Report.writeJson(runs, json);
        }
        return runs.stream().allMatch(r -> r.correct() && r.errorCount() == 0) ? 0 : 1;
    }

    private boolean wanted(String name) {
        return only == null || only.contains(name);
    }
}
