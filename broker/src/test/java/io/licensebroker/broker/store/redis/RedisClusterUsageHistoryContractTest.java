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
        return CLUSTER.emptyStore();
    }

    @Override
    protected LicenseStore restarted() {
        store.close();
        return CLUSTER.connect();
    }
}
