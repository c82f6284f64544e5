package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.ConcurrentAcquireTest;
import io.licensebroker.testkit.MutableClock;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** With the journal fsyncing every group commit: durability must not open a race. */
class DurableConcurrentAcquireTest extends ConcurrentAcquireTest {
    @Override
    protected List<LicenseStore> openStores(Path dir, MutableClock clock) {
        return List.of(MemoryStore.open(dir, true, Duration.ofMinutes(10), Long.MAX_VALUE, clock.instant().plus(TTL)));
    }
}
