package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.LicenseStoreModelTest;
import io.licensebroker.testkit.MutableClock;
import io.licensebroker.broker.testing.ModelSeeds;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.LongStream;

/**
 * The model on the durable embedded store, journal on disk as in production: 20 seeds of 2,000
 * steps (the 40,000 the pure ledger gets).
 */
class DurableMemoryStoreModelTest extends LicenseStoreModelTest {
    @TempDir
    Path root;
    private int opened;

    @Override
    protected LicenseStore newStore(MutableClock clock) {
        return MemoryStore.open(root.resolve("store-" + (++opened)), true, Duration.ofMinutes(5), Long.MAX_VALUE, clock.instant());
    }

    @Override
    protected LongStream seeds() {
        return ModelSeeds.orReplay(LongStream.rangeClosed(1, 20));
    }
}
