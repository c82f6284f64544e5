package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.LicenseStoreContractTest;
import io.licensebroker.testkit.MutableClock;

import java.time.Duration;

/** The store contract on the embedded store that keeps nothing on disk. */
class VolatileMemoryStoreContractTest extends LicenseStoreContractTest {
    @Override
    protected LicenseStore newStore(MutableClock clock) {
        return MemoryStore.volatileStore(Duration.ofMinutes(10));
    }
}
