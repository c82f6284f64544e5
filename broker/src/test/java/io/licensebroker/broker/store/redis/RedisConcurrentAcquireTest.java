package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.ConcurrentAcquireTest;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.util.List;

/**
 * The concurrency tests on Redis, with two stores (two nodes' connections) sharing one server:
 * callers spread over both, and every usage snapshot from either must be possible.
 */
class RedisConcurrentAcquireTest extends ConcurrentAcquireTest {
    @RegisterExtension
    static final SharedRedis REDIS = new SharedRedis("redis-concurrent");

    @Override
    protected List<LicenseStore> openStores(Path dir, MutableClock clock) {
        return List.of(RedisStore.connect(RedisStoreContractTest.options(REDIS.uri())),
                RedisStore.connect(RedisStoreContractTest.options(REDIS.uri())));
    }

    // Every call is a round trip to a real server: fewer rounds keep the suite quick.
    @Override
    protected int raceRounds() {
        return 5;
    }

    @Override
    protected int workers() {
        return 8;
    }

    @Override
    protected int opsPerWorker() {
        return 250;
    }
}
