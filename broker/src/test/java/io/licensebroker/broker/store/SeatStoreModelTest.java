package io.licensebroker.broker.store;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.testing.ModelSeeds;
import io.licensebroker.broker.testing.SeatModel;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * The randomized {@link SeatModel} through the {@link LicenseStore} interface: each store
 * subclasses this with its factory and the seeds it can afford ({@value #STEPS} steps each).
 * Replay a failure with {@code -Dmodel.seed=N}.
 */
public abstract class SeatStoreModelTest {
    protected static final int STEPS = 1_500;

    protected abstract LicenseStore newStore(MutableClock clock);

    protected abstract LongStream seeds();

    @TestFactory
    Stream<DynamicTest> randomSeatStepsFollowTheModel() {
        return seeds().mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> {
            MutableClock clock = MutableClock.at("2030-01-01T00:00:00Z");
            try (LicenseStore store = newStore(clock)) {
                new SeatModel(store, clock, "AC-seats", seed).run(ModelSeeds.steps(STEPS));
            }
        }));
    }
}
