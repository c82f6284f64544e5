package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.SeatStoreContractTest;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The seat contract, unchanged, on a 3-master Redis Cluster: every seat script touches one slot. */
class RedisClusterSeatContractTest extends SeatStoreContractTest {
    @RegisterExtension
    static final SharedCluster CLUSTER = new SharedCluster("redis-cluster-seat-contract");

    @Override
    protected LicenseStore newStore(MutableClock clock) {
        return CLUSTER.emptyStore();
    }
}
