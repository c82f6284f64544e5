package io.licensebroker.broker.store.redis;

import io.licensebroker.testkit.RedisServer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One real redis-server for a test class: started before its first test, emptied before each test,
 * stopped after the last. Register as a static {@code @RegisterExtension} field.
 */
final class SharedRedis implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback {
    private final String name;
    private RedisServer server;

    SharedRedis(String name) {
        this.name = name;
    }

    RedisServer server() {
        return server;
    }

    String uri() {
        return server.uri();
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        server = RedisServer.start(RedisStoreContractTest.tempDir(name));
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        server.flushAll();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (server != null) {
            server.close();
        }
    }
}
