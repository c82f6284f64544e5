package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.UsageHistoryContractTest;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The usage history contract on Redis; a restart is a new node on the same Redis (what a broker
 * restart, or another node, reads).
 */
class RedisUsageHistoryContractTest extends UsageHistoryContractTest {
    @RegisterExtension
    static final SharedRedis REDIS = new SharedRedis("redis-history-contract");

    @Override
    protected LicenseStore newStore(MutableClock clock) {
        return RedisStore.connect(RedisStoreContractTest.options(REDIS.uri()));
    }

    @Override
    protected LicenseStore restarted() {
        store.close();
        return newStore(clock);
    }
}
