package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.UsageHistoryContractTest;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The usage history contract on a 3-master Redis Cluster: every history key is in its account's slot. */
class RedisClusterUsageHistoryContractTest extends UsageHistoryContractTest {
    @RegisterExtension
    static final SharedCluster CLUSTER = new SharedCluster("redis-cluster-history-contract");

    @Override
    protected LicenseStore newStore(MutableClock clock) {
        CLUSTER.fixture().flushAll();
        return RedisStore.connect(RedisStoreContractTest.options(CLUSTER.fixture().seeds()));
    }

    @Override
    protected LicenseStore restarted() {
        store.close();
        return RedisStore.connect(RedisStoreContractTest.options(CLUSTER.fixture().seeds()));
    }
}
