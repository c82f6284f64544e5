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
