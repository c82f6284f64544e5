package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.LicenseStoreModelTest;
import io.licensebroker.broker.testing.ModelSeeds;
import io.licensebroker.broker.testing.MutableClock;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.stream.LongStream;

/** The model on {@link RedisStore} against one real redis-server, with the callers' time. */
class RedisStoreModelTest extends LicenseStoreModelTest {
    @RegisterExtension
    static final SharedRedis REDIS = new SharedRedis("redis-model");

    /**
     * Twelve seeds of 2,000 steps: measured 35 s for 24,000 steps on this 2-core machine when idle
     * (about 1.45 ms a step: each step is the verb plus usage, sessions and often machines, each a round trip). Sized to stay
     * well under a minute, so the model, the differential test and the second pass of the Redis
     * tests (a quarter of the seeds, see {@link ModelSeeds#onRedis}) together add under 3 minutes.
     */
    private static final int SEEDS = 12;

    @Override
    protected LicenseStore newStore(MutableClock clock) {
        REDIS.server().flushAll();
        return RedisStore.connect(RedisStoreContractTest.options(REDIS.uri()).withTombstoneRetention(Duration.ofMinutes(5)));
    }

    @Override
    protected LongStream seeds() {
        return ModelSeeds.onRedis(SEEDS);
    }
}
