package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.LicenseStoreContractTest;
import io.licensebroker.testkit.MutableClock;
import io.licensebroker.testkit.RedisClusterFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The store contract, unchanged, on a 3-master Redis Cluster: every script must touch one slot
 * (Redis refuses anything else), and accounts of one test land on different masters.
 */
class RedisClusterContractTest extends LicenseStoreContractTest {
    private static RedisClusterFixture cluster;

    @BeforeAll
    static void startCluster() {
        cluster = RedisClusterFixture.start(RedisStoreContractTest.tempDir("redis-cluster-contract"), 3);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Override
    protected LicenseStore newStore(MutableClock clock) {
        cluster.flushAll();
        RedisStore store = RedisStore.connect(RedisStoreContractTest.options(cluster.seeds()));
        if (!store.isCluster()) {
            store.close();
            throw new AssertionError("a comma list of seeds must connect in cluster mode");
        }
        return store;
    }
}
