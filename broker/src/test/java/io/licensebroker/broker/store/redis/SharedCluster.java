package io.licensebroker.broker.store.redis;

import io.licensebroker.testkit.RedisClusterFixture;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real three-master Redis Cluster for a test class: started before its first test, stopped
 * after the last. Register as a static {@code @RegisterExtension} field.
 */
final class SharedCluster implements BeforeAllCallback, AfterAllCallback {
    private final String name;
    private RedisClusterFixture cluster;

    SharedCluster(String name) {
        this.name = name;
    }

    RedisClusterFixture fixture() {
        return cluster;
    }

    /** A store on this cluster, emptied first, with the contract suites' options; fails unless it connected in cluster mode. */
    RedisStore emptyStore() {
        cluster.flushAll();
        return connect();
    }

    /** A store on this cluster as it is (another node, or a restarted one). */
    RedisStore connect() {
        RedisStore store = RedisStore.connect(RedisStoreContractTest.options(cluster.seeds()));
        if (!store.isCluster()) {
            store.close();
            throw new AssertionError("a comma list of seeds must connect in cluster mode");
        }
        return store;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        cluster = RedisClusterFixture.start(RedisStoreContractTest.tempDir(name), 3);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (cluster != null) {
            cluster.close();
        }
    }
}
