package io.licensebroker.broker.store.redis;

import org.junit.jupiter.api.extension.RegisterExtension;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.LicenseStoreContractTest;
import io.licensebroker.testkit.MutableClock;

/**
 * The store contract, unchanged, on a 3-master Redis Cluster: every script must touch one slot
 * (Redis refuses anything else), and accounts of one test land on different masters.
 */
class RedisClusterContractTest extends LicenseStoreContractTest {
    @RegisterExtension
    static final SharedCluster CLUSTER = new SharedCluster("redis-cluster-contract");


    @Override
    protected LicenseStore newStore(MutableClock clock) {
        return CLUSTER.emptyStore();
    }
}
