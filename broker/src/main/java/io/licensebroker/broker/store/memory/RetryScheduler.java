package io.licensebroker.broker.store.memory;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * When {@link FileJournal} tries writing again after its disk failed. Injected, so tests decide
 * when "later" is instead of waiting for it.
 */
interface RetryScheduler extends AutoCloseable {
    /** Runs {@code retry} once, {@code delay} from now. */
    void schedule(Duration delay, Runnable retry);

    @Override
    void close();

    /** A daemon thread that sleeps out each delay. */
    static RetryScheduler realTime() {
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "journal-retry");
            t.setDaemon(true);
            return t;
        });
        return new RetryScheduler() {
            @Override
            public void schedule(Duration delay, Runnable retry) {
                try {
                    executor.schedule(retry, delay.toNanos(), TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.RejectedExecutionException closed) {
                    retry.run(); // closing: let the writer make its last attempt now
                }
            }

            @Override
            public void close() {
                executor.shutdownNow();
            }
        };
    }
}
