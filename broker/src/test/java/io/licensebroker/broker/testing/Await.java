package io.licensebroker.broker.testing;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits for a condition with a deadline instead of sleeping: the condition is checked every few
 * milliseconds on a scheduler thread and the test continues the moment it holds.
 */
public final class Await {
    private static final ScheduledExecutorService CHECKS = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "await-checks");
        t.setDaemon(true);
        return t;
    });

    private Await() {
    }

    /** Returns once {@code condition} holds; fails the test with {@code what} after {@code timeout}. */
    public static void until(Duration timeout, BooleanSupplier condition, Supplier<String> what) {
        until(CHECKS, timeout, condition, what);
    }

    /**
     * Conditions may act (acquire a session with a request id, say), so once one has held it is never
     * checked again: on a loaded machine the waiting thread may wake and cancel the checks well after
     * the next 5 ms run. The scheduler is a parameter so a test can replay those extra runs.
     */
    static void until(ScheduledExecutorService scheduler, Duration timeout, BooleanSupplier condition, Supplier<String> what) {
        CompletableFuture<Void> met = new CompletableFuture<>();
        ScheduledFuture<?> checks = scheduler.scheduleWithFixedDelay(() -> {
            if (met.isDone()) {
                return;
            }
            try {
                if (condition.getAsBoolean()) {
                    met.complete(null);
                }
            } catch (RuntimeException | AssertionError e) {
                met.completeExceptionally(e);
            }
        }, 0, 5, TimeUnit.MILLISECONDS);
        try {
            met.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            met.cancel(false); // no check after the deadline either
            throw new AssertionError("not within " + timeout + ": " + what.get());
        } catch (ExecutionException e) {
            throw new AssertionError("checking failed: " + what.get(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for: " + what.get(), e);
        } finally {
            checks.cancel(false);
        }
    }
}
