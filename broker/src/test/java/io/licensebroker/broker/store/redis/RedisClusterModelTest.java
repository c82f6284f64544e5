package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.LicenseStoreModelTest;
import io.licensebroker.broker.testing.ModelSeeds;
import io.licensebroker.broker.testing.MutableClock;
import io.licensebroker.broker.testing.RedisClusterFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.time.Duration;
import java.util.stream.LongStream;

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

    /**
     * Eight seeds of 2,000 steps: measured 33 s for 16,000 steps with cluster start-up on this
     * 2-core machine when idle (about 1.9 ms a step: each step is the verb plus usage, sessions and often machines, each a round trip). Sized to stay
     * well under a minute, so the model, the differential test and the second pass of the Redis
     * tests (a quarter of the seeds, see {@link ModelSeeds#onRedis}) together add under 3 minutes.
     */
    private static final int SEEDS = 8;

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
    protected LongStream seeds() {
        return ModelSeeds.onRedis(SEEDS);
    }
}
