package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.LicenseStoreModelTest;
import io.licensebroker.broker.testing.MutableClock;
import io.licensebroker.broker.testing.RedisClusterFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.time.Duration;

/** The model on {@link RedisStore} against a real 3-master Redis Cluster, with the callers' time. */
class RedisClusterModelTest extends LicenseStoreModelTest {
    private static RedisClusterFixture cluster;

    @BeforeAll
    static void startCluster() {
        cluster = RedisClusterFixture.start(RedisStoreContractTest.tempDir("redis-cluster-model"), 3);
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
        RedisStore store = RedisStore.connect(RedisStoreContractTest.options(cluster.seeds())
                .withTombstoneRetention(Duration.ofMinutes(5)));
        if (!store.isCluster()) {
            store.close();
            throw new AssertionError("a comma list of seeds must connect in cluster mode");
        }
        return store;
    }

    @Override
    protected int seeds() {
        return 3;
    }
}
