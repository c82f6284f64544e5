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
        CLUSTER.fixture().flushAll();
        RedisStore store = RedisStore.connect(RedisStoreContractTest.options(CLUSTER.fixture().seeds()));
        if (!store.isCluster()) {
            store.close();
            throw new AssertionError("a comma list of seeds must connect in cluster mode");
        }
        return store;
    }
}
