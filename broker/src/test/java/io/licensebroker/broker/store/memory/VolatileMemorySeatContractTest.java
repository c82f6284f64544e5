package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.SeatStoreContractTest;
import io.licensebroker.testkit.MutableClock;

import java.time.Duration;

/** The seat contract on the embedded store that keeps nothing on disk. */
class VolatileMemorySeatContractTest extends SeatStoreContractTest {
    @Override
    protected LicenseStore newStore(MutableClock clock) {
        return MemoryStore.volatileStore(Duration.ofMinutes(10));
    }
}
