package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.store.SeatStoreModelTest;
import io.licensebroker.broker.testing.ModelSeeds;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.LongStream;

/** The seat model on the durable embedded store (fsync off: the model checks rules, not the disk). */
class MemorySeatModelTest extends SeatStoreModelTest {
    @TempDir
    Path dir;
    private int opened;

    @Override
    protected LicenseStore newStore(MutableClock clock) {
        return MemoryStore.open(dir.resolve("run-" + opened++), false, Duration.ofMinutes(10), 64 << 10,
                clock.instant().plusSeconds(60));
    }

    @Override
    protected LongStream seeds() {
        return ModelSeeds.orReplay(LongStream.rangeClosed(1, 20));
    }
}
