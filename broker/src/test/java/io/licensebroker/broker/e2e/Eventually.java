package io.licensebroker.broker.e2e;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/** Polls an outside system (a Prometheus server) until it answers what the test waits for, or gives up. */
final class Eventually {
    private Eventually() {
    }

    /** The first present answer of {@code probe}, asked every {@code every}; fails after {@code timeout} with the last answer or error. */
    static <T> T get(Duration timeout, Duration every, Callable<Optional<T>> probe) throws Exception {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        CompletableFuture<T> result = new CompletableFuture<>();
        AtomicReference<Exception> lastError = new AtomicReference<>();
        try {
            scheduler.scheduleWithFixedDelay(() -> {
                try {
                    probe.call().ifPresent(result::complete);
                } catch (Exception e) {
                    lastError.set(e);
                }
            }, 0, every.toMillis(), TimeUnit.MILLISECONDS);
            return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("no answer within " + timeout + (lastError.get() == null ? "" : "; last error: " + lastError.get()), e);
        } finally {
            scheduler.shutdownNow();
        }
    }
}
