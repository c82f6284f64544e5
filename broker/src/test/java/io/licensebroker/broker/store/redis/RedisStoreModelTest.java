package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.LicenseStoreModelTest;
import io.licensebroker.broker.testing.ModelSeeds;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.stream.LongStream;

/** The model on {@link RedisStore} against one real redis-server, with the callers' time. */
class RedisStoreModelTest extends LicenseStoreModelTest {
    @RegisterExtension
    static final SharedRedis REDIS = new SharedRedis("redis-model");

    /**
     * Twenty seeds of 2,000 steps: the 40,000 steps the issue asks of every store. Measured 35 s
     * for 24,000 steps on this 2-core machine when idle (about 1.45 ms a step: the verb plus usage,
     * sessions and often machines, each a round trip), so about a minute; the second pass of the
     * Redis tests runs a quarter of the seeds (see {@link ModelSeeds#onRedis}).
     */
    private static final int SEEDS = 20;

    @Override
    protected LicenseStore newStore(MutableClock clock) {
        REDIS.server().flushAll();
        return RedisStore.connect(RedisStoreContractTest.options(REDIS.uri()).toBuilder().tombstoneRetention(Duration.ofMinutes(5)).build());
    }

    @Override
    protected LongStream seeds() {
        return ModelSeeds.onRedis(SEEDS);
    }
}
