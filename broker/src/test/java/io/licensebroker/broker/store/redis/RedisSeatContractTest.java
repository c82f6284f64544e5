package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.SeatStoreContractTest;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The seat contract, unchanged, on {@link RedisStore} against a real redis-server, with the callers' time. */
class RedisSeatContractTest extends SeatStoreContractTest {
    @RegisterExtension
    static final SharedRedis REDIS = new SharedRedis("redis-seat-contract");

    @Override
    protected LicenseStore newStore(MutableClock clock) {
        return RedisStore.connect(RedisStoreContractTest.options(REDIS.uri()));
    }
}
