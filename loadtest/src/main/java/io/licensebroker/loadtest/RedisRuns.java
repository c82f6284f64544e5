package io.licensebroker.loadtest;

import io.licensebroker.broker.app.Setting;

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
            try (LocalRedis redis = LocalRedis.start();
                 InProcessBroker broker = InProcessBroker.start(Map.of(Setting.STORE, "redis", Setting.REDIS_URI, redis.uri()));
                 BrokerTarget target = BrokerTarget.provision(broker.target(), broker.adminToken(), options.agents(), options.agents(), channels)) {
                runs.add(LoadDriver.run("broker-redis", target, options, progress));
            }
        }
        if (wanted.test("redisson")) {
            try (LocalRedis redis = LocalRedis.start();
                 RedissonTarget target = RedissonTarget.start(redis.uri(), options.agents(), options.agents())) {
                runs.add(LoadDriver.run("redisson", target, options, progress));
            }
        }
        return runs;
    }
}
