package io.licensebroker.loadtest;

import java.util.List;
import java.util.function.Predicate;

/** The Redis half of compare: broker-redis and redisson, both against one local Redis. */
final class RedisRuns {
    private RedisRuns() {
    }

    static List<RunResult> run(Predicate<String> wanted, LoadDriver.Options options, int channels) {
        if (!wanted.test("broker-redis") && !wanted.test("redisson")) {
            return List.of();
        }
        throw new IllegalStateException("broker-redis and redisson need the Redis store; run with --only floor,broker-memory");
    }
}
