package io.licensebroker.loadtest;

import io.licensebroker.broker.app.LocalNode;
import io.licensebroker.broker.app.Setting;
import io.licensebroker.testkit.RedisServer;
import io.licensebroker.testkit.Scratch;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** The Redis half of compare: broker-redis and redisson, each against a fresh local Redis. */
final class RedisRuns {
    private RedisRuns() {
    }

    static List<RunResult> run(Predicate<String> wanted, LoadDriver.Options options, int channels, PrintStream progress)
            throws Exception {
        List<RunResult> runs = new ArrayList<>();
        if (wanted.test("broker-redis")) {
            try (RedisServer redis = RedisServer.startTemporary();
                 Scratch data = Scratch.directory("license-loadtest-");
                 LocalNode broker = LocalNode.start(Map.of(Setting.STORE, "redis", Setting.REDIS_URI, redis.uri(),
                         Setting.DATA_DIR, data.toString()));
                 BrokerTarget target = BrokerTarget.provision(broker.target(), broker.adminToken(), options.agents(), options.agents(), channels)) {
                runs.add(LoadDriver.run("broker-redis", target, options, progress));
            }
        }
        if (wanted.test("redisson")) {
            try (RedisServer redis = RedisServer.startTemporary();
                 RedissonTarget target = RedissonTarget.start(redis.uri(), options.agents(), options.agents())) {
                runs.add(LoadDriver.run("redisson", target, options, progress));
            }
        }
        return runs;
    }
}
