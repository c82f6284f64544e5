package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.ConcurrentAcquireTest;
import io.licensebroker.testkit.MutableClock;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

class VolatileConcurrentAcquireTest extends ConcurrentAcquireTest {
    @Override
    protected List<LicenseStore> openStores(Path dir, MutableClock clock) {
        return List.of(MemoryStore.volatileStore(Duration.ofMinutes(10)));
    }
}
