package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.LedgerEvent;
import io.licensebroker.broker.core.StoreUnavailableException;
import io.licensebroker.broker.store.DurableFiles;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@link DurableJournal} in one directory: log segments {@code journal-<generation>.log} and
 * snapshots {@code snapshot-<generation>.snap}, all made of records framed by {@link JournalCodec}.
 *
 * <p>Snapshot {@code g} holds the whole state as of the moment segment {@code g} was started, so
 * recovery reads the newest snapshot, then segments {@code g, g+1, ...}. Without a snapshot it
 * reads every segment from generation 1.
 *
 * <p>{@link #record} only encodes and enqueues. One writer thread takes everything queued, writes
 * it with one write and (under {@link FsyncPolicy#ALWAYS}) one fdatasync, then completes the
 * {@link #whenDurable} futures the batch covers, on that thread. Rotation and close travel
 * through the same queue, so they split the stream of events exactly where they were requested.
 *
 * <p>When a write or fsync fails (disk full, file system read-only) the journal degrades rather
 * than dies: {@link #writable} turns false (the node reports NOT_SERVING), every durability
 * future not yet complete fails, and the writer retries with backoff on the injected
 * {@link RetryScheduler}. A retry reopens the segment, checks that every durable record reads
 * back and cuts off what was written after the last durable one, then writes the pending events
 * again from memory; the first write that succeeds makes the journal writable again.
 *
 * <p>Recovery repairs only a torn tail (see {@link FrameReader#dataAfterProblem}), after keeping
 * a copy of the file; anything else stops with a {@link CorruptJournalException}.
 *
 * <p>Lifecycle: construct, {@link #recover} once, then record; {@link #close} at the end.
 */
final class FileJournal implements DurableJournal {

    private static final System.Logger LOG = System.getLogger(FileJournal.class.getName());

    private static final long FIRST_GENERATION = 1;
    private static final Pattern SEGMENT_NAME = Pattern.compile("journal-(\\d+)\\.log");
    private static final Pattern SNAPSHOT_NAME = Pattern.compile("snapshot-(\\d+)\\.snap");
    private static final String TEMP_SUFFIX = ".tmp";
    private static final int WRITE_BUFFER_BYTES = 1 << 20;

    private enum State { NEW, RECOVERING, OPEN, CLOSED }

    /** Queue item: switch to a new segment after everything queued before it. */
    private record Rotation(CompletableFuture<Long> newGeneration) {
    }

    /** Queue item: flush, fsync and stop. */
    private static final Object CLOSE = new Object();

    private record Waiter(long position, CompletableFuture<Void> future) {
    }

    /** First wait before writing again after the disk failed; doubles up to {@link #RETRY_MAX}. */
    static final Duration RETRY_FIRST = Duration.ofMillis(100);
    static final Duration RETRY_MAX = Duration.ofSeconds(5);
    /** What a refused caller is told while the disk fails. */
    static final String UNWRITABLE = "the broker cannot write to its disk: changes are refused until it can"
            + " (reads still answer); retry later";

    private final Path dir;
    private final FsyncPolicy fsync;
    private final JournalFiles files;
    private final RetryScheduler retries;

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

    private final Object waitersLock = new Object();
    /** Guarded by waitersLock. */
    private final PriorityQueue<Waiter> waiters = new PriorityQueue<>(Comparator.comparingLong(Waiter::position));
    /** Last durable position; written under waitersLock. */
    private volatile long durable;
    /** Why the journal stopped accepting work (failure or close); written under waitersLock. */
    private volatile StoreUnavailableException stopped;
    /**
     * Why writes cannot be acknowledged right now (the disk failed; the writer retries); null
     * while writable. Written under waitersLock.
     */
    private volatile StoreUnavailableException degraded;
    /** Told (on the writer thread) whenever {@link #writable} may have changed. */
    private volatile Runnable writableListener = () -> { };

    private final ReentrantLock compactLock = new ReentrantLock();

    /** Set once recovery starts it; guarded by queueLock. */
    private Thread writer;
    /**
     * Completes durability futures, i.e. runs the callers' continuations (which send the answers),
     * so that the writer goes on to the next write and fsync meanwhile: group commits pipeline.
     * One thread keeps completions in durability order.
     */
    private final ExecutorService acks = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "journal-acks");
        t.setDaemon(true);
        return t;
    });

    // Owned by the writer thread once recovery has started it.
    private FileChannel segment;
    private final ByteBuffer writeBuffer = ByteBuffer.allocateDirect(WRITE_BUFFER_BYTES);
    /** Position of the last event in writeBuffer or on disk. */
    private long written;
    private volatile long generation;
    private volatile long logBytes;
    /** Where the last durable record of the current segment ends: what a retry goes back to. */
    private long durableBytes;
    /** Items of the current batch that are durable (or done): a retry redoes the rest. */
    private int batchDone;
    private Duration retryDelay = RETRY_FIRST;
    private long failedAttempts;
    /** The journal closed while degraded and its one last attempt was made. */
    private boolean lastAttemptMade;

    FileJournal(Path dataDir, FsyncPolicy fsync) {
        this(dataDir, fsync, JournalFiles.REAL, RetryScheduler.realTime());
    }

    FileJournal(Path dataDir, FsyncPolicy fsync, JournalFiles files, RetryScheduler retries) {
        this.dir = Objects.requireNonNull(dataDir, "dataDir").toAbsolutePath();
        this.fsync = Objects.requireNonNull(fsync, "fsync");
        this.files = Objects.requireNonNull(files, "files");
        this.retries = Objects.requireNonNull(retries, "retries");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create journal directory " + dir, e);
        }
    }

    // ---------------------------------------------------------------- recording

    @Override
    public void record(String accountId, long seq, LedgerEvent event) {
        // Encoding happens outside the lock: the only shared work is an append to a list.
        byte[] frame = JournalCodec.frame(JournalCodec.event(accountId, seq, event));
        queueLock.lock();
        try {
            if (state != State.OPEN) {
                throw new IllegalStateException(state == State.CLOSED
                        ? "journal " + dir + " is closed" : "recover() journal " + dir + " before recording");
            }
            position++;
            // After a failure nothing will be written, and whenDurable refuses every later position.
            if (stopped == null) {
                enqueue(frame);
            }
        } finally {
            queueLock.unlock();
        }
    }

    @Override
    public long position() {
        return position;
    }

    @Override
    public CompletableFuture<Void> whenDurable(long p) {
        if (p <= durable) {
            return CompletableFuture.completedFuture(null);
        }
        if (p > position) {
            throw new IllegalArgumentException("position " + p + " was not recorded yet (last is " + position + ")");
        }
        synchronized (waitersLock) {
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

    /** Bytes written to the current log segment; the store compacts when it grows too large. */
    long logBytes() {
        return logBytes;
    }

    /** The generation of the current log segment (and of the next snapshot's predecessor). */
    long generation() {
        return generation;
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
                append(frame);
                written++;
            } else if (item instanceof Rotation rotation) {
                // The old segment is complete and forced before the next starts: only the last
                // segment can ever have a torn tail, which is what recovery relies on.
                flush(true);
                batchDone = i; // all before it is durable: a retry must not write it again
                long next = startNextSegment();
                batchDone = i + 1;
                rotation.newGeneration().complete(next);
            } else if (item == CLOSE) {
                flush(true);
                batchDone = i;
                segment.close();
                stop(new StoreUnavailableException("journal " + dir + " is closed", null));
                return true;
            } else {
                throw new IllegalStateException("unknown journal queue item " + item);
            }
        }
        flush(fsync == FsyncPolicy.ALWAYS);
        batchDone = batch.size();
        return false;
    }

    private void append(byte[] frame) throws IOException {
        if (frame.length > writeBuffer.remaining()) {
            writeOut();
            if (frame.length > writeBuffer.capacity()) {
                writeFully(ByteBuffer.wrap(frame));
                return;
            }
        }
        writeBuffer.put(frame);
    }

    /** Writes what is buffered, forces it when asked, then completes the futures it covers. */
    private void flush(boolean force) throws IOException {
        writeOut();
        if (force) {
            segment.force(false);
        }
        durableBytes = logBytes;
        if (degraded != null) {
            resumed();
        }
        if (written > durable) {
            markDurable(written);
        }
    }

    private void writeOut() throws IOException {
        if (writeBuffer.position() > 0) {
            writeBuffer.flip();
            writeFully(writeBuffer);
            writeBuffer.clear();
        }
    }

    private void writeFully(ByteBuffer bytes) throws IOException {
        long total = logBytes;
        while (bytes.hasRemaining()) {
            total += segment.write(bytes);
        }
        logBytes = total;
    }

    private void markDurable(long p) {
        List<Waiter> ready = null;
        synchronized (waitersLock) {
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

    private long startNextSegment() throws IOException {
        long next = generation + 1;
        FileChannel created;
        try {
            created = files.open(segmentPath(next), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            // Left by a rotation whose directory fsync failed: empty, since nothing follows a
            // rotation before it completes. Anything else there is not ours to overwrite.
            if (Files.size(segmentPath(next)) != 0) {
                throw new IllegalStateException("journal " + dir + ": " + segmentPath(next).getFileName()
                        + " already exists and is not empty", e);
            }
            created = files.open(segmentPath(next), StandardOpenOption.WRITE);
        }
        try {
            fsyncDirectory();
        } catch (IOException e) {
            created.close();
            throw e;
        }
        segment.close();
        segment = created;
        generation = next;
        logBytes = 0;
        durableBytes = 0;
        return next;
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
                        + " acknowledged are not written", dir, String.valueOf(position - durable));
                fail(last, batch);
                return false;
            }
            lastAttemptMade = awaitRetry();
            failedAttempts++;
            // Whether the reopening or the writing after it fails, the next wait is longer.
            retryDelay = retryDelay.multipliedBy(2).compareTo(RETRY_MAX) > 0 ? RETRY_MAX : retryDelay.multipliedBy(2);
            try {
                reopenAtDurableEnd();
                return true;
            } catch (IOException e) {
                last = e;
                LOG.log(System.Logger.Level.DEBUG, "journal {0}: still cannot write ({1}); next try in {2}", dir, e, retryDelay);
            }
        }
    }

    private void degrade(IOException cause, List<Object> batch) {
        StoreUnavailableException reason = new StoreUnavailableException("journal " + dir + " cannot write (" + cause
                + "): changes are refused until the disk is writable again; reads still answer", UNWRITABLE, cause);
        // A compaction waiting for its rotation gives up; the old segment simply goes on.
        abandonRotations(batch, batchDone, reason);
        queueLock.lock();
        try {
            abandonRotations(queue, 0, reason);
        } finally {
            queueLock.unlock();
        }
        if (degraded != null) {
            return;
        }
        LOG.log(System.Logger.Level.ERROR, "journal " + dir + " cannot write: not serving, changes are refused and reads"
                + " still answer; writing is retried (every " + RETRY_MAX.toSeconds() + " s at most) and resumes by itself", cause);
        List<Waiter> pending;
        synchronized (waitersLock) {
            degraded = reason;
            pending = new ArrayList<>(waiters);
            waiters.clear();
        }
        // Health first, so that the callers of the failed write hear of it only once health says so.
        tellListener();
        for (Waiter w : pending) {
            w.future().completeExceptionally(reason);
        }
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
        synchronized (waitersLock) {
            degraded = null;
        }
        LOG.log(System.Logger.Level.WARNING, "journal {0}: writable again after {1} failed attempts; serving",
                dir, String.valueOf(failedAttempts));
        failedAttempts = 0;
        retryDelay = RETRY_FIRST;
        tellListener();
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

    /**
     * Reopens the current segment and checks it before writing on: every durable record must read
     * back intact and end exactly where the last durable one did; whatever was written after it
     * (a partial record, unsynced bytes) is cut off, to be written again from memory.
     */
    private void reopenAtDurableEnd() throws IOException {
        // A channel a failed write was interrupted in, or opened on a file system since remounted, is unusable.
        Thread.interrupted();
        closeQuietly(segment);
        segment = null;
        Path path = segmentPath(generation);
        FileChannel channel = files.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            long size = channel.size();
            if (size < durableBytes) {
                throw new CorruptJournalException("journal segment " + path + " is " + size + " bytes long, but "
                        + durableBytes + " were durable: the file changed under the broker; restart it, so that recovery checks the journal");
            }
            try (FrameReader reader = new FrameReader(path, durableBytes)) {
                while (reader.next() != null) {
                    // reading is the check
                }
                if (reader.problem() != null || reader.offset() != durableBytes) {
                    throw new CorruptJournalException("journal segment " + JournalReplay.where(path, reader.offset()) + " no longer reads back ("
                            + reader.problem() + ") although it was durable; restart the broker so that recovery checks it");
                }
            }
            if (size > durableBytes) {
                channel.truncate(durableBytes);
            }
            channel.position(durableBytes);
            channel.force(true);
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
        segment = channel;
        writeBuffer.clear();
        written = durable;
        logBytes = durableBytes;
    }

    private void tellListener() {
        try {
            writableListener.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "journal writability listener failed", e);
        }
    }

    /** The writer failed: nothing more will be acknowledged, and everyone waiting hears why. */
    private void fail(Throwable cause, List<Object> batch) {
        LOG.log(System.Logger.Level.ERROR, "journal " + dir + " failed writing; no further change will be acknowledged", cause);
        StoreUnavailableException reason = new StoreUnavailableException("journal " + dir + " failed: " + cause, cause);
        stop(reason);
        tellListener();
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
        try {
            if (segment != null) {
                segment.close();
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing the failed journal segment", e);
        }
    }

    /** Refuses every position not durable yet, now and later. */
    private void stop(StoreUnavailableException reason) {
        List<Waiter> pending;
        synchronized (waitersLock) {
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

    // ---------------------------------------------------------------- close

    @Override
    public void close() {
        Thread w;
        queueLock.lock();
        try {
            if (state == State.OPEN && stopped == null) {
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
            stop(new StoreUnavailableException("journal " + dir + " is closed", null));
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
        acks.shutdown();
        if (!Thread.currentThread().getName().equals("journal-acks")) {
            try {
                acks.awaitTermination(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- compaction

    @Override
    public void compact(SnapshotSource source) {
        Objects.requireNonNull(source, "source");
        compactLock.lock();
        try {
            long started = System.nanoTime();
            long gen = rotate();
            Path snapshot = snapshotPath(gen);
            long[] accounts = {0};
            try {
                DurableFiles.write(snapshot, false, channel -> accounts[0] = writeSnapshot(channel, gen, source));
            } catch (IOException e) {
                throw new UncheckedIOException("writing snapshot " + snapshot + " failed", e);
            }
            // The new snapshot covers everything older: drop it. A leftover is harmless (recovery ignores and deletes it).
            deleteGenerationsBefore(gen);
            LOG.log(System.Logger.Level.INFO, "journal {0}: snapshot {1} of {2} accounts written in {3} ms",
                    dir, String.valueOf(gen), String.valueOf(accounts[0]), String.valueOf((System.nanoTime() - started) / 1_000_000));
        } finally {
            compactLock.unlock();
        }
    }

    /** Switches the writer to a new segment after everything enqueued so far; returns its generation. */
    private long rotate() {
        CompletableFuture<Long> next = new CompletableFuture<>();
        queueLock.lock();
        try {
            if (state != State.OPEN) {
                throw new IllegalStateException(state == State.CLOSED
                        ? "journal " + dir + " is closed" : "recover() journal " + dir + " before compacting");
            }
            if (stopped != null) {
                throw new StoreUnavailableException("journal " + dir + " cannot compact", stopped);
            }
            if (degraded != null) {
                throw new StoreUnavailableException("journal " + dir + " cannot compact while its disk fails", degraded);
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

    private long writeSnapshot(FileChannel channel, long gen, SnapshotSource source) throws IOException {
        long[] accounts = {0};
        // Not closed: DurableFiles forces and closes the channel.
        OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), WRITE_BUFFER_BYTES);
        try {
            source.forEachAccount(account -> {
                try {
                    // Snapshot events carry seq 0 (AccountLedger#replay applies those as they
                    // come); the checkpoint then restores the seq the account stood at.
                    for (LedgerEvent event : account.events()) {
                        out.write(JournalCodec.frame(JournalCodec.event(account.accountId(), 0, event)));
                    }
                    out.write(JournalCodec.frame(JournalCodec.checkpoint(account.accountId(), account.seq())));
                    accounts[0]++;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        out.write(JournalCodec.frame(JournalCodec.snapshotEnd(accounts[0], gen)));
        out.flush();
        return accounts[0];
    }

    private void deleteGenerationsBefore(long gen) {
        boolean deleted = false;
        try {
            for (Map.Entry<Long, Path> e : list(SEGMENT_NAME).headMap(gen).entrySet()) {
                deleted |= Files.deleteIfExists(e.getValue());
            }
            for (Map.Entry<Long, Path> e : list(SNAPSHOT_NAME).headMap(gen).entrySet()) {
                deleted |= Files.deleteIfExists(e.getValue());
            }
            if (deleted) {
                fsyncDirectory();
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "journal " + dir + ": could not delete files older than generation " + gen, e);
        }
    }

    // ---------------------------------------------------------------- recovery

    @Override
    public void recover(RecoveryVisitor visitor) {
        Objects.requireNonNull(visitor, "visitor");
        queueLock.lock();
        try {
            if (state != State.NEW) {
                throw new IllegalStateException("journal " + dir + " was already recovered (or closed)");
            }
            state = State.RECOVERING;
        } finally {
            queueLock.unlock();
        }
        FileChannel current = null;
        try {
            long started = System.nanoTime();
            deleteTempFiles();
            NavigableMap<Long, Path> snapshots = list(SNAPSHOT_NAME);
            NavigableMap<Long, Path> segments = list(SEGMENT_NAME);
            Long snapshotGen = snapshots.isEmpty() ? null : snapshots.lastKey();
            long records = 0;
            if (snapshotGen != null) {
                records += JournalReplay.snapshot(snapshots.get(snapshotGen), snapshotGen, visitor);
            }
            NavigableMap<Long, Path> live = snapshotGen == null ? segments : segments.tailMap(snapshotGen, true);
            long expected = snapshotGen == null ? FIRST_GENERATION : snapshotGen;
            for (long gen : live.keySet()) {
                if (gen != expected) {
                    throw new CorruptJournalException("journal " + dir + ": log segment " + segmentPath(expected).getFileName()
                            + " is missing (found " + live.get(gen).getFileName() + ")");
                }
                expected++;
            }
            long currentGen = live.isEmpty() ? (snapshotGen == null ? FIRST_GENERATION : snapshotGen) : live.lastKey();
            long end = 0;
            for (Map.Entry<Long, Path> e : live.entrySet()) {
                boolean last = e.getKey() == currentGen;
                JournalReplay.SegmentReplay replay = JournalReplay.segment(e.getValue(), last, visitor);
                records += replay.records();
                end = replay.end();
            }
            Path currentPath = segmentPath(currentGen);
            if (live.isEmpty()) {
                current = files.open(currentPath, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                fsyncDirectory();
            } else {
                current = files.open(currentPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
                if (current.size() > end) {
                    // Drop the torn tail so new records follow the last good one.
                    current.truncate(end);
                    current.force(true);
                }
                current.position(end);
            }
            if (snapshotGen != null) {
                deleteGenerationsBefore(snapshotGen);
            }
            segment = current;
            generation = currentGen;
            logBytes = end;
            durableBytes = end;
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
            LOG.log(System.Logger.Level.INFO, "journal {0}: recovered {1} records (snapshot {2}, segments {3}) in {4} ms",
                    dir, String.valueOf(records), snapshotGen == null ? "none" : String.valueOf(snapshotGen), live.keySet(),
                    String.valueOf((System.nanoTime() - started) / 1_000_000));
        } catch (IOException e) {
            closeQuietly(current);
            throw new UncheckedIOException("recovering journal " + dir + " failed", e);
        } catch (RuntimeException | Error e) {
            closeQuietly(current);
            throw e;
        }
    }

    // ---------------------------------------------------------------- files

    private Path segmentPath(long gen) {
        return dir.resolve(String.format("journal-%010d.log", gen));
    }

    private Path snapshotPath(long gen) {
        return dir.resolve(String.format("snapshot-%010d.snap", gen));
    }

    private NavigableMap<Long, Path> list(Pattern name) throws IOException {
        NavigableMap<Long, Path> out = new TreeMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                Matcher m = name.matcher(f.getFileName().toString());
                if (m.matches()) {
                    Path clash = out.put(Long.parseLong(m.group(1)), f);
                    if (clash != null) {
                        throw new IllegalStateException("journal " + dir + ": " + clash.getFileName() + " and "
                                + f.getFileName() + " name the same generation");
                    }
                }
            }
        }
        return out;
    }

    /** Snapshots that were never renamed into place: a compaction died while writing them. */
    private void deleteTempFiles() throws IOException {
        // Older versions named them snapshot-N.snap.tmp.
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "snapshot-*.snap" + TEMP_SUFFIX)) {
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
        }
        DurableFiles.deleteLeftovers(dir);
    }

    /** Makes creations, renames and deletions in the directory durable. */
    private void fsyncDirectory() throws IOException {
        DurableFiles.fsyncDirectory(dir);
    }

    private static void closeQuietly(Closeable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing after a failed recovery", e);
        }
    }
}
