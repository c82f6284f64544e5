package io.licensebroker.testkit;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits for a condition with a deadline instead of sleeping: the condition is checked every few
 * milliseconds on a scheduler thread and the caller continues the moment it holds.
 */
public final class Await {
    private static final Duration EVERY = Duration.ofMillis(5);
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
     * The first answer of {@code probe}, asked every {@code every}: for an outside system still coming
     * up (a Prometheus server), so an exception is "no answer yet", not a failure; after
     * {@code timeout} fails with the last one.
     */
    public static <T> T answer(Duration timeout, Duration every, Callable<Optional<T>> probe) {
        AtomicReference<Exception> lastError = new AtomicReference<>();
        return poll(CHECKS, timeout, every, () -> {
            try {
                return probe.call();
            } catch (Exception e) {
                lastError.set(e);
                return Optional.empty();
            }
        }, () -> "an answer" + (lastError.get() == null ? "" : "; last error: " + lastError.get()));
    }

    /**
     * Conditions may act (acquire a session with a request id, say), so once one has held it is never
     * checked again: on a loaded machine the waiting thread may wake and cancel the checks well after
     * the next 5 ms run. The scheduler is a parameter so a test can replay those extra runs.
     */
    static void until(ScheduledExecutorService scheduler, Duration timeout, BooleanSupplier condition, Supplier<String> what) {
        poll(scheduler, timeout, EVERY, () -> condition.getAsBoolean() ? Optional.of(Boolean.TRUE) : Optional.empty(), what);
    }

    /** Asks {@code probe} until it answers; what it throws fails the wait at once. */
    private static <T> T poll(ScheduledExecutorService scheduler, Duration timeout, Duration every, Supplier<Optional<T>> probe,
                              Supplier<String> what) {
        CompletableFuture<T> met = new CompletableFuture<>();
        ScheduledFuture<?> checks = scheduler.scheduleWithFixedDelay(() -> {
            if (met.isDone()) {
                return;
            }
            try {
                probe.get().ifPresent(met::complete);
            } catch (RuntimeException | AssertionError e) {
                met.completeExceptionally(e);
            }
        }, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        try {
            return met.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
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
