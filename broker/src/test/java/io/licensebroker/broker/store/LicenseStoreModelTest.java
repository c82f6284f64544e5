package io.licensebroker.broker.store;

import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.testing.ReferenceModel;
import io.licensebroker.broker.testing.ModelSeeds;
import io.licensebroker.testkit.MutableClock;
import io.licensebroker.broker.testing.StoreTarget;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * The randomized {@link ReferenceModel} (the one {@code core.AccountLedgerModelTest} runs on the pure
 * ledger) through the {@link LicenseStore} interface: each store subclasses this with its factory
 * and how many seeds of {@value #STEPS} steps it can afford. After every step the model checks
 * {@code 0 <= in_use <= pool}, {@code allocated == sum of the children's dedicated} and
 * {@code in_use == the pool's listed sessions} from the store's own answers. Time moves only by
 * the test clock. A failure names its seed and step; replay it with {@code -Dmodel.seed=N}.
 */
public abstract class LicenseStoreModelTest {
    protected static final int STEPS = 2_000;

    /** A new, empty store; time comes from {@code clock} (the callers' times). */
    protected abstract LicenseStore newStore(MutableClock clock);

    /** The seeds to run (each a fresh store and {@value #STEPS} steps). */
    protected abstract LongStream seeds();

    @TestFactory
    Stream<DynamicTest> randomStepsFollowTheModel() {
        return seeds().mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> {
            MutableClock clock = MutableClock.at("2030-01-01T00:00:00Z");
            try (LicenseStore store = newStore(clock)) {
                new ReferenceModel(new StoreTarget(store, "AC-model", clock), seed).run(ModelSeeds.steps(STEPS));
            }
        }));
    }
}
