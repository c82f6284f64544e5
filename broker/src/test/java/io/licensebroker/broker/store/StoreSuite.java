package io.licensebroker.broker.store;

import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * What every store contract suite stands on: a fresh store per test from the subclass's factory,
 * a test clock, account ids unique per test (so a shared server can run the suites too), and the
 * calls that wait for a store's answer.
 */
public abstract class StoreSuite {
    protected static final Duration TTL = Duration.ofSeconds(60);
    protected static final SecureRandom RANDOM = new SecureRandom();

    protected MutableClock clock;
    protected LicenseStore store;
    /** Distinguishes this test's accounts from any other test's on a shared store. */
    protected final String run = Ids.random(RANDOM, 8).toUpperCase();

    /** A new, empty store reading time from {@code clock} where it needs time of its own. */
    protected abstract LicenseStore newStore(MutableClock clock);

    @BeforeEach
    void openStore() {
        clock = MutableClock.at("2030-01-01T00:00:00Z");
        store = newStore(clock);
    }

    @AfterEach
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    public static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("the store did not answer: " + e, e);
        }
    }

    public static <T> T ok(CompletionStage<Decision<T>> stage) {
        Decision<T> d = join(stage);
        if (!d.isGranted()) {
            fail("expected granted, got " + d);
        }
        return d.value();
    }

    public static Reason denied(CompletionStage<? extends Decision<?>> stage) {
        Decision<?> d = join(stage);
        if (d instanceof Decision.Denied<?> denied) {
            return denied.reason();
        }
        throw new AssertionError("expected a denial, got " + d);
    }
}
