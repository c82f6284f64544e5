package io.licensebroker.loadtest;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code run}: loads a running broker with virtual agents and checks it never oversubscribes. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Provision an account on a running broker, then loop N virtual agents: acquire, hold, [renew], release.")
final class RunCommand implements Callable<Integer> {
    @Option(names = "--target", required = true, description = "broker host:port")
    String target;

    @Option(names = "--admin-token", required = true, description = "SUPER_ADMIN token (to provision the test account)")
    String adminToken;

    @Option(names = "--agents", defaultValue = "64", description = "virtual agents (default ${DEFAULT-VALUE})")
    int agents;

    @Option(names = "--duration", defaultValue = "30s", converter = DurationConverter.class,
            description = "measured duration, e.g. 30s, 2m (default ${DEFAULT-VALUE})")
    Duration duration;

    @Option(names = "--warmup", defaultValue = "3s", converter = DurationConverter.class,
            description = "unmeasured warm-up before the duration (default ${DEFAULT-VALUE})")
    Duration warmup;

    @Option(names = "--licenses", description = "licenses bought by the test account (default: as many as agents)")
    Long licenses;

    @Option(names = "--hold", defaultValue = "0ms", converter = DurationConverter.class,
            description = "how long each agent holds a license (default ${DEFAULT-VALUE})")
    Duration hold;

    @Option(names = "--renew", description = "renew each session once before releasing it")
    boolean renew;

    @Option(names = "--open-loop", description = "issue operations at a fixed --rate instead of as fast as agents finish")
    boolean openLoop;

    @Option(names = "--rate", defaultValue = "1000", description = "open loop: operations per second (default ${DEFAULT-VALUE})")
    double rate;

    @Option(names = "--channels", defaultValue = "2", description = "gRPC connections (default ${DEFAULT-VALUE})")
    int channels;

    @Option(names = "--json", description = "also write the results as JSON to this file")
    Path json;

    @Override
    public Integer call() throws Exception {
        long quota = licenses == null ? agents : licenses;
        RunResult result;
        try (BrokerTarget broker = BrokerTarget.provision(target, adminToken, agents, quota, channels)) {
            result = LoadDriver.run("run", broker,
                    new LoadDriver.Options(agents, duration, warmup, hold, renew, openLoop, rate), System.err);
        }
        Report.printRun(result, System.out);
        if (json != null) {
            Report.writeJson(List.of(result), json);
        }
        if (!result.correct()) {
            System.out.println("oversubscribed");
            return 1;
        }
        return 0;
    }
}
