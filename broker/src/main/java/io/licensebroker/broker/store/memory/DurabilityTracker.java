package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.StoreUnavailableException;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * What {@link FileJournal} can promise its callers: the last durable position, the futures
 * waiting for later ones, and its health, i.e. whether it acknowledges at all (not once stopped,
 * not while degraded because the disk fails). Only the writer thread advances or changes it.
 */
final class DurabilityTracker {
    // Under FileJournal's name: operators configure and read the journal's log as one.
    private static final System.Logger LOG = System.getLogger(FileJournal.class.getName());
    private static final String ACKS_THREAD = "journal-acks";

    private record Waiter(long position, CompletableFuture<Void> future) {
    }

    private final Object lock = new Object();
    /** Guarded by lock. */
    private final PriorityQueue<Waiter> waiters = new PriorityQueue<>(Comparator.comparingLong(Waiter::position));
    /** Last durable position; written under lock. */
    private volatile long durable;
    /** Why the journal stopped accepting work (failure or close); written under lock. */
    private volatile StoreUnavailableException stopped;
    /**
     * Why writes cannot be acknowledged right now (the disk failed; the writer retries); null
     * while writable. Written under lock.
     */
    private volatile StoreUnavailableException degraded;
    /** Told (on the writer thread) whenever {@link #writable} may have changed. */
    private volatile Runnable writableListener = () -> { };
    /**
     * Completes durability futures, i.e. runs the callers' continuations (which send the answers),
     * so that the writer goes on to the next write and fsync meanwhile: group commits pipeline.
     * One thread keeps completions in durability order.
     */
    private final ExecutorService acks = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, ACKS_THREAD);
        t.setDaemon(true);
        return t;
    });

    /** Last durable position. */
    long durable() {
        return durable;
    }

    /** Why the journal stopped, or null while it runs. */
    StoreUnavailableException stopped() {
        return stopped;
    }

    /** Why the journal cannot write now (its disk fails), or null. */
    StoreUnavailableException degraded() {
        return degraded;
    }

    /** Whether a change recorded now can be acknowledged: false while the disk fails, and once stopped. */
    boolean writable() {
        return stopped == null && degraded == null;
    }

    /** Why changes cannot be acknowledged now, or null when they can. */
    StoreUnavailableException unwritable() {
        StoreUnavailableException s = stopped;
        return s != null ? s : degraded;
    }

    /** {@code listener} runs, on the journal's writer thread, each time {@link #writable} may have changed. */
    void onWritableChange(Runnable listener) {
        writableListener = Objects.requireNonNull(listener, "listener");
    }

    /**
     * A future for position {@code p}, which the caller checked was recorded: complete when
     * durable already, failed when the journal stopped or is degraded.
     */
    CompletableFuture<Void> whenDurable(long p) {
        synchronized (lock) {
            // Re-checked under the lock the writer takes to advance it, so no waiter is missed.
            if (p <= durable) {
                return CompletableFuture.completedFuture(null);
            }
            if (stopped != null) {
                return CompletableFuture.failedFuture(stopped);
            }
            if (degraded != null) {
                return CompletableFuture.failedFuture(degraded);
            }
            CompletableFuture<Void> future = new CompletableFuture<>();
            waiters.add(new Waiter(p, future));
            return future;
        }
    }

    /** Everything up to {@code p} is durable: completes its waiters, off the writer thread. */
    void markDurable(long p) {
        List<Waiter> ready = null;
        synchronized (lock) {
            durable = p;
            while (!waiters.isEmpty() && waiters.peek().position() <= p) {
                if (ready == null) {
                    ready = new ArrayList<>();
                }
                ready.add(waiters.poll());
            }
        }
        // Outside the lock, and off the writer: completion runs the callers' continuations.
        if (ready != null) {
            List<Waiter> due = ready;
            try {
                acks.execute(() -> due.forEach(w -> w.future().complete(null)));
            } catch (RejectedExecutionException closed) {
                due.forEach(w -> w.future().complete(null));
            }
        }
    }

    /** Refuses every position not durable yet, now and later. */
    void stop(StoreUnavailableException reason) {
        List<Waiter> pending;
        synchronized (lock) {
            if (stopped == null) {
                stopped = reason;
            }
            pending = new ArrayList<>(waiters);
            waiters.clear();
        }
        for (Waiter w : pending) {
            w.future().completeExceptionally(stopped);
        }
    }

    /**
     * The disk failed: refuses every position not durable yet until {@link #resume}. Health is
     * told first, so that the callers of the failed write hear of it only once health says so.
     */
    void degrade(StoreUnavailableException reason) {
        List<Waiter> pending;
        synchronized (lock) {
            degraded = reason;
            pending = new ArrayList<>(waiters);
            waiters.clear();
        }
        tellListener();
        for (Waiter w : pending) {
            w.future().completeExceptionally(reason);
        }
    }

    /** A write succeeded after a failure: acknowledge again. Health is told by {@link #tellListener}. */
    void resume() {
        synchronized (lock) {
            degraded = null;
        }
    }

    /** Tells the listener that {@link #writable} may have changed; its failure is only logged. */
    void tellListener() {
        try {
            writableListener.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "journal writability listener failed", e);
        }
    }

    /**
     * Delivers the acknowledgements handed over so far and stops; returns false when interrupted.
     * It does not wait when called from an acknowledgement itself, which would wait for itself.
     */
    boolean shutdownAcks() {
        acks.shutdown();
        if (Thread.currentThread().getName().equals(ACKS_THREAD)) {
            return true;
        }
        try {
            acks.awaitTermination(30, TimeUnit.SECONDS);
            return true;
        } catch (InterruptedException e) {
            return false;
        }
    }
}
