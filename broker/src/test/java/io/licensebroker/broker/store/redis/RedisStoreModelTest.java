package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.LicenseStoreModelTest;
import io.licensebroker.broker.testing.MutableClock;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

/** The model on {@link RedisStore} against one real redis-server, with the callers' time. */
class RedisStoreModelTest extends LicenseStoreModelTest {
    @RegisterExtension
    static final SharedRedis REDIS = new SharedRedis("redis-model");

    @Override
    protected LicenseStore newStore(MutableClock clock) {
        REDIS.server().flushAll();
        return RedisStore.connect(RedisStoreContractTest.options(REDIS.uri()).withTombstoneRetention(Duration.ofMinutes(5)));
    }

    @Override
    protected int seeds() {
        return 3;
    }
}
