package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.SeatStoreModelTest;
import io.licensebroker.broker.testing.ModelSeeds;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.stream.LongStream;

/** The seat model on {@link RedisStore} against one real redis-server, with the callers' time. */
class RedisSeatModelTest extends SeatStoreModelTest {
    @RegisterExtension
    static final SharedRedis REDIS = new SharedRedis("redis-seat-model");

    @Override
    protected LicenseStore newStore(MutableClock clock) {
        REDIS.server().flushAll();
        return RedisStore.connect(RedisStoreContractTest.options(REDIS.uri()).toBuilder().tombstoneRetention(Duration.ofMinutes(5)).build());
    }

    @Override
    protected LongStream seeds() {
        return ModelSeeds.onRedis(8);
    }
}
