package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.StoreUnavailableException;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The queue and the writer thread of a {@link FileJournal}: group commit, rotation, close, and
 * what happens when the disk fails.
 *
 * <p>{@link #record} only enqueues. One writer thread takes everything queued, writes it with one
 * write and (under {@link FsyncPolicy#ALWAYS}) one fdatasync, then marks the batch durable in the
 * {@link DurabilityTracker}. Rotation and close travel through the same queue, so they split the
 * stream of events exactly where they were requested.
 *
 * <p>When a write or fsync fails (disk full, file system read-only) the journal degrades rather
 * than dies: the tracker stops acknowledging (health says NOT_SERVING), and the writer retries
 * with backoff on the injected {@link RetryScheduler}. A retry reopens the segment at the end of
 * what was durable ({@link SegmentWriter#reopenAtDurableEnd}), then writes the pending events
 * again from memory; the first write that succeeds makes the journal writable again.
 */
final class GroupCommitWriter {
    // Under FileJournal's name: operators configure and read the journal's log as one.
    private static final System.Logger LOG = System.getLogger(FileJournal.class.getName());

    private enum State { NEW, RECOVERING, OPEN, CLOSED }

    /** Queue item: switch to a new segment after everything queued before it. */
    private record Rotation(CompletableFuture<Long> newGeneration) {
    }

    /** Queue item: flush, fsync and stop. */
    private static final Object CLOSE = new Object();

    /** First wait before writing again after the disk failed; doubles up to {@link #RETRY_MAX}. */
    static final Duration RETRY_FIRST = Duration.ofMillis(100);
    static final Duration RETRY_MAX = Duration.ofSeconds(5);

    private final Path dir;
    private final FsyncPolicy fsync;
    private final RetryScheduler retries;
    private final DurabilityTracker tracker;
    private final SegmentWriter segment;

    private final ReentrantLock queueLock = new ReentrantLock();
    private final Condition queueNotEmpty = queueLock.newCondition();
    /** Signalled when a retry is due or the journal closes; with queueLock. */
    private final Condition retrySignal = queueLock.newCondition();
    /** Guarded by queueLock. */
    private boolean retryDue;
    /** Framed events (byte[]), {@link Rotation}s and {@link #CLOSE}, in position order. Guarded by queueLock. */
    private ArrayList<Object> queue = new ArrayList<>();
    /** Guarded by queueLock. */
    private State state = State.NEW;
    /** Last position handed out; written under queueLock. */
    private volatile long position;
    /** Set once recovery starts it; guarded by queueLock. */
    private Thread writer;

    // Owned by the writer thread once started.
    /** Position of the last event in the segment's buffer or on disk. */
    private long written;
    /** Items of the current batch that are durable (or done): a retry redoes the rest. */
    private int batchDone;
    private Duration retryDelay = RETRY_FIRST;
    private long failedAttempts;
    /** The journal closed while degraded and its one last attempt was made. */
    private boolean lastAttemptMade;

    GroupCommitWriter(Path dir, FsyncPolicy fsync, RetryScheduler retries, DurabilityTracker tracker, SegmentWriter segment) {
        this.dir = dir;
        this.fsync = fsync;
        this.retries = retries;
        this.tracker = tracker;
        this.segment = segment;
    }

    // ---------------------------------------------------------------- lifecycle

    /** Before recovery reads the files: only once, and not after close. */
    void beginRecovery() {
        queueLock.lock();
        try {
            if (state != State.NEW) {
                throw new IllegalStateException("journal " + dir + " was already recovered (or closed)");
            }
            state = State.RECOVERING;
        } finally {
            queueLock.unlock();
        }
    }

    /** After recovery started the segment: starts the writer thread, unless the journal closed meanwhile. */
    void start() {
        Thread thread = new Thread(this::writeLoop, "journal-writer");
        thread.setDaemon(true);
        queueLock.lock();
        try {
            if (state != State.RECOVERING) {
                throw new IllegalStateException("journal " + dir + " was closed during recovery");
            }
            writer = thread;
            state = State.OPEN;
        } finally {
            queueLock.unlock();
        }
        thread.start();
    }

    // ---------------------------------------------------------------- callers

    /** Hands out the next position and enqueues {@code frame} for it. */
    void record(byte[] frame) {
        queueLock.lock();
        try {
            if (state != State.OPEN) {
                throw new IllegalStateException(state == State.CLOSED
                        ? "journal " + dir + " is closed" : "recover() journal " + dir + " before recording");
            }
            position++;
            // After a failure nothing will be written, and whenDurable refuses every later position.
            if (tracker.stopped() == null) {
                enqueue(frame);
            }
        } finally {
            queueLock.unlock();
        }
    }

    /** Last position handed out. */
    long position() {
        return position;
    }

    /** Switches the writer to a new segment after everything enqueued so far; returns its generation. */
    long rotate() {
        CompletableFuture<Long> next = new CompletableFuture<>();
        queueLock.lock();
        try {
            if (state != State.OPEN) {
                throw new IllegalStateException(state == State.CLOSED
                        ? "journal " + dir + " is closed" : "recover() journal " + dir + " before compacting");
            }
            if (tracker.stopped() != null) {
                throw new StoreUnavailableException("journal " + dir + " cannot compact", tracker.stopped());
            }
            if (tracker.degraded() != null) {
                throw new StoreUnavailableException("journal " + dir + " cannot compact while its disk fails", tracker.degraded());
            }
            enqueue(new Rotation(next));
        } finally {
            queueLock.unlock();
        }
        try {
            return next.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /** Flushes what is pending, stops the writer and waits for it (unless called on it) and for the acknowledgements. */
    void close() {
        Thread w;
        queueLock.lock();
        try {
            if (state == State.OPEN && tracker.stopped() == null) {
                enqueue(CLOSE);
            }
            state = State.CLOSED;
            // A writer waiting to retry a failed disk makes its last attempt now.
            retrySignal.signalAll();
            w = writer;
        } finally {
            queueLock.unlock();
        }
        if (w == null) {
            tracker.stop(new StoreUnavailableException("journal " + dir + " is closed", null));
            retries.close();
            return;
        }
        if (w == Thread.currentThread()) {
            // Called from a continuation of a durability future: the writer closes after this batch.
            return;
        }
        boolean interrupted = false;
        while (w.isAlive()) {
            try {
                w.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        retries.close();
        // Every acknowledgement is delivered before close returns (unless close runs inside one).
        if (!tracker.shutdownAcks()) {
            interrupted = true;
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void enqueue(Object item) {
        queue.add(item);
        if (queue.size() == 1) {
            // The writer only sleeps on an empty queue.
            queueNotEmpty.signal();
        }
    }

    // ---------------------------------------------------------------- the writer thread

    private void writeLoop() {
        ArrayList<Object> batch = new ArrayList<>();
        while (true) {
            queueLock.lock();
            try {
                while (queue.isEmpty()) {
                    queueNotEmpty.awaitUninterruptibly();
                }
                ArrayList<Object> taken = queue;
                queue = batch;
                batch = taken;
            } finally {
                queueLock.unlock();
            }
            boolean closing;
            try {
                closing = writeBatch(batch);
            } catch (Throwable e) {
                fail(e, batch);
                return;
            }
            batch.clear();
            if (closing) {
                return;
            }
        }
    }

    /**
     * Writes one group commit; true when the writer is done (it ended with {@link #CLOSE}, or the
     * journal closed while the disk kept failing). A failed write or fsync does not stop the
     * journal: it degrades (nothing more is acknowledged, health says so) and retries, going back
     * to the end of what was durable, until the batch is written.
     */
    private boolean writeBatch(List<Object> batch) throws IOException {
        batchDone = 0;
        while (true) {
            try {
                return writeItems(batch);
            } catch (IOException e) {
                if (!retryAfter(e, batch)) {
                    return true;
                }
            }
        }
    }

    private boolean writeItems(List<Object> batch) throws IOException {
        for (int i = batchDone; i < batch.size(); i++) {
            Object item = batch.get(i);
            if (item == null) {
                continue; // a rotation given up on while the disk failed
            } else if (item instanceof byte[] frame) {
                segment.append(frame);
                written++;
            } else if (item instanceof Rotation rotation) {
                // The old segment is complete and forced before the next starts: only the last
                // segment can ever have a torn tail, which is what recovery relies on.
                flush(true);
                batchDone = i; // all before it is durable: a retry must not write it again
                long next = segment.startNextSegment();
                batchDone = i + 1;
                rotation.newGeneration().complete(next);
            } else if (item == CLOSE) {
                flush(true);
                batchDone = i;
                segment.close();
                tracker.stop(new StoreUnavailableException("journal " + dir + " is closed", null));
                return true;
            } else {
                throw new IllegalStateException("unknown journal queue item " + item);
            }
        }
        flush(fsync == FsyncPolicy.ALWAYS);
        batchDone = batch.size();
        return false;
    }

    /** Writes what is buffered, forces it when asked, then completes the futures it covers. */
    private void flush(boolean force) throws IOException {
        segment.flush(force);
        if (tracker.degraded() != null) {
            resumed();
        }
        if (written > tracker.durable()) {
            tracker.markDurable(written);
        }
    }

    // ---------------------------------------------------------------- disk failures

    /**
     * A write or fsync failed (disk full, file system read-only, I/O error): degrade, then wait
     * with backoff and reopen the segment at the end of what was durable, checking it. True to
     * redo the rest of the batch; false when the journal closed meanwhile and its last attempt
     * failed too (the writer then stops, and what was never acknowledged is not written).
     */
    private boolean retryAfter(IOException cause, List<Object> batch) {
        degrade(cause, batch);
        IOException last = cause;
        while (true) {
            if (lastAttemptMade) {
                LOG.log(System.Logger.Level.ERROR, "journal {0} closed while its disk still failed: {1} changes that were never"
                        + " acknowledged are not written", dir, String.valueOf(position - tracker.durable()));
                fail(last, batch);
                return false;
            }
            lastAttemptMade = awaitRetry();
            failedAttempts++;
            // Whether the reopening or the writing after it fails, the next wait is longer.
            retryDelay = retryDelay.multipliedBy(2).compareTo(RETRY_MAX) > 0 ? RETRY_MAX : retryDelay.multipliedBy(2);
            try {
                segment.reopenAtDurableEnd();
                written = tracker.durable();
                return true;
            } catch (IOException e) {
                last = e;
                LOG.log(System.Logger.Level.DEBUG, "journal {0}: still cannot write ({1}); next try in {2}", dir, e, retryDelay);
            }
        }
    }

    private void degrade(IOException cause, List<Object> batch) {
        StoreUnavailableException reason = new StoreUnavailableException("journal " + dir + " cannot write (" + cause
                + "): changes are refused until the disk is writable again; reads still answer", FileJournal.UNWRITABLE, cause);
        // A compaction waiting for its rotation gives up; the old segment simply goes on.
        abandonRotations(batch, batchDone, reason);
        queueLock.lock();
        try {
            abandonRotations(queue, 0, reason);
        } finally {
            queueLock.unlock();
        }
        if (tracker.degraded() != null) {
            return;
        }
        LOG.log(System.Logger.Level.ERROR, "journal " + dir + " cannot write: not serving, changes are refused and reads"
                + " still answer; writing is retried (every " + RETRY_MAX.toSeconds() + " s at most) and resumes by itself", cause);
        tracker.degrade(reason);
    }

    private static void abandonRotations(List<Object> items, int from, StoreUnavailableException reason) {
        for (int i = from; i < items.size(); i++) {
            if (items.get(i) instanceof Rotation rotation) {
                rotation.newGeneration().completeExceptionally(reason);
                items.set(i, null);
            }
        }
    }

    /** A write and (when due) fsync succeeded after a failure: acknowledge again. */
    private void resumed() {
        tracker.resume();
        LOG.log(System.Logger.Level.WARNING, "journal {0}: writable again after {1} failed attempts; serving",
                dir, String.valueOf(failedAttempts));
        failedAttempts = 0;
        retryDelay = RETRY_FIRST;
        tracker.tellListener();
    }

    /** Waits until the scheduled retry is due or the journal closes; true when it closed. */
    private boolean awaitRetry() {
        queueLock.lock();
        try {
            retryDue = false;
            if (state != State.CLOSED) {
                retries.schedule(retryDelay, this::retryNow);
            }
            while (!retryDue && state != State.CLOSED) {
                retrySignal.awaitUninterruptibly();
            }
            return state == State.CLOSED;
        } finally {
            queueLock.unlock();
        }
    }

    private void retryNow() {
        queueLock.lock();
        try {
            retryDue = true;
            retrySignal.signalAll();
        } finally {
            queueLock.unlock();
        }
    }

    /** The writer failed: nothing more will be acknowledged, and everyone waiting hears why. */
    private void fail(Throwable cause, List<Object> batch) {
        LOG.log(System.Logger.Level.ERROR, "journal " + dir + " failed writing; no further change will be acknowledged", cause);
        StoreUnavailableException reason = new StoreUnavailableException("journal " + dir + " failed: " + cause, cause);
        tracker.stop(reason);
        tracker.tellListener();
        List<Object> abandoned = new ArrayList<>(batch);
        queueLock.lock();
        try {
            // Records see `stopped` from now on and stop enqueuing.
            abandoned.addAll(queue);
            queue = new ArrayList<>();
        } finally {
            queueLock.unlock();
        }
        for (Object item : abandoned) {
            if (item instanceof Rotation rotation) {
                rotation.newGeneration().completeExceptionally(reason);
            }
        }
        segment.closeAfterFailure();
    }
}
