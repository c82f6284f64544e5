package io.licensebroker.broker.store.memory;

import io.licensebroker.testkit.Await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A {@link RetryScheduler} whose "later" is whenever the test calls {@link #runDue}. */
final class ManualRetries implements RetryScheduler {
    private final List<Runnable> pending = new ArrayList<>();
    private final List<Duration> delays = new ArrayList<>();

    @Override
    public synchronized void schedule(Duration delay, Runnable retry) {
        delays.add(delay);
        pending.add(retry);
    }

    /** Runs the retries scheduled so far, once the writer has scheduled one. */
    void runDue() {
        Await.until(Duration.ofSeconds(10), this::hasPending, () -> "the journal scheduled a retry");
        List<Runnable> due;
        synchronized (this) {
            due = new ArrayList<>(pending);
            pending.clear();
        }
        due.forEach(Runnable::run);
    }

    synchronized boolean hasPending() {
        return !pending.isEmpty();
    }

    synchronized List<Duration> delays() {
        return List.copyOf(delays);
    }

    @Override
    public void close() {
        // nothing runs by itself
    }
}
