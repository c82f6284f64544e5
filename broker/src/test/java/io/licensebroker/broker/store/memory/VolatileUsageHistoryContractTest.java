package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.UsageHistoryContractTest;
import io.licensebroker.testkit.MutableClock;

import java.time.Duration;

/** The usage history contract on the embedded store that keeps nothing on disk. */
class VolatileUsageHistoryContractTest extends UsageHistoryContractTest {
    @Override
    protected LicenseStore newStore(MutableClock clock) {
        return MemoryStore.volatileStore(Duration.ofMinutes(10));
    }
}
