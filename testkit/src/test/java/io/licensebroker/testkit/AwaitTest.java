package io.licensebroker.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

class AwaitTest {
    private final LoadedScheduler scheduler = new LoadedScheduler();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    /**
     * Regression: RedisClusterFailoverTest's condition acquires a session and records it; on a loaded
     * machine the check ran again (same request id, same session) before the test thread cancelled it,
     * so the test counted 38 sessions where the broker rightly had 22.
     */
    @Test
    void aConditionThatHeldIsNotCheckedAgainThoughTheSchedulerRunsBeforeTheWaiterWakes() {
        AtomicInteger checks = new AtomicInteger();
        Await.until(scheduler, Duration.ofSeconds(10), () -> {
            checks.incrementAndGet();
            return true;
        }, () -> "the condition holds");
        assertEquals(1, checks.get(), "checks of a condition that held at once");
    }

    @Test
    void aConditionIsCheckedUntilItHolds() {
        AtomicInteger checks = new AtomicInteger();
        Await.until(scheduler, Duration.ofSeconds(10), () -> checks.incrementAndGet() == 5, () -> "the fifth check");
        assertEquals(5, checks.get());
    }

    @Test
    void anAnswerIsAskedForUntilThereIsOneAndAnErrorOnlyMeansNotYet() {
        AtomicInteger asked = new AtomicInteger();
        String answer = Await.answer(Duration.ofSeconds(10), Duration.ofMillis(1), () -> switch (asked.incrementAndGet()) {
            case 1, 2 -> throw new IOException("still starting");
            case 3 -> Optional.empty();
            default -> Optional.of("ready");
        });
        assertEquals("ready", answer);
        assertEquals(4, asked.get(), "not asked again once answered");
    }

    @Test
    void noAnswerInTimeFailsWithTheLastError() {
        AssertionError e = assertThrows(AssertionError.class, () -> Await.answer(Duration.ofMillis(200), Duration.ofMillis(1),
                () -> {
                    throw new IOException("connection refused");
                }));
        assertTrue(e.getMessage().contains("connection refused"), e.getMessage());
    }

    /** Runs the checks a few times back to back before the waiting thread gets to cancel them, as a busy machine may. */
    private static final class LoadedScheduler extends ScheduledThreadPoolExecutor {
        LoadedScheduler() {
            super(1);
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
            for (int i = 0; i < 3; i++) {
                command.run();
            }
            return super.scheduleWithFixedDelay(command, initialDelay, delay, unit);
        }
    }
}
