package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.LicenseStoreContractTest;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The store contract, unchanged, on {@link RedisStore} against a real redis-server. The suite
 * drives time with its clock, so scripts use the caller's time here ({@link RedisStore.TimeSource#CALLER});
 * {@link RedisServerTimeTest} covers server time. The database is flushed before each test.
 */
class RedisStoreContractTest extends LicenseStoreContractTest {
    @RegisterExtension
    static final SharedRedis REDIS = new SharedRedis("redis-contract");

    @Override
    protected LicenseStore newStore(MutableClock clock) {
        return RedisStore.connect(options(REDIS.uri()));
    }

    static RedisStoreOptions options(String uri) {
        return RedisStoreOptions.builder(uri)
                .timeSource(RedisStore.TimeSource.CALLER)
                // generous: a slow CI machine must not turn into UNAVAILABLE answers
                .commandTimeout(Duration.ofSeconds(5)).build();
    }

    static Path tempDir(String name) {
        try {
            return Files.createTempDirectory(name);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
