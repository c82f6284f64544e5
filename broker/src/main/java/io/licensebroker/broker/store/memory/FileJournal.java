package io.licensebroker.broker.store.memory;

import com.google.protobuf.InvalidProtocolBufferException;
import io.licensebroker.broker.core.LedgerEvent;
import io.licensebroker.broker.core.StoreUnavailableException;
import io.licensebroker.broker.store.DurableFiles;
import io.licensebroker.broker.store.memory.proto.JournalRecord;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 * <p>Lifecycle: construct, {@link #recover} once, then record; {@link #close} at the end.
 */
final class FileJournal implements DurableJournal {

    private static final System.Logger LOG = System.getLogger(FileJournal.class.getName());

    private static final long FIRST_GENERATION = 1;
    private static final Pattern SEGMENT_NAME = Pattern.compile("journal-(\\d+)\\.log");
    private static final Pattern SNAPSHOT_NAME = Pattern.compile("snapshot-(\\d+)\\.snap");
    private static final String TEMP_SUFFIX = ".tmp";
    private static final int WRITE_BUFFER_BYTES = 1 << 20;
    /** How an operator gets past a corrupt file, appended to the message that stops the start. */
    static final String RECOVER_HINT = "to recover, stop the broker, copy the data directory aside, then restore it from a backup"
            + " (or, accepting the loss of every change after that offset, truncate the file to that many bytes and start again)";

    private enum State { NEW, RECOVERING, OPEN, CLOSED }

    /** Queue item: switch to a new segment after everything queued before it. */
    private record Rotation(CompletableFuture<Long> newGeneration) {
    }

    /** Queue item: flush, fsync and stop. */
    private static final Object CLOSE = new Object();

    private record Waiter(long position, CompletableFuture<Void> future) {
    }

    private final Path dir;
    private final FsyncPolicy fsync;

    private final ReentrantLock queueLock = new ReentrantLock();
    private final Condition queueNotEmpty = queueLock.newCondition();
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

    FileJournal(Path dataDir, FsyncPolicy fsync) {
        this.dir = Objects.requireNonNull(dataDir, "dataDir").toAbsolutePath();
        this.fsync = Objects.requireNonNull(fsync, "fsync");
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
            CompletableFuture<Void> future = new CompletableFuture<>();
            waiters.add(new Waiter(p, future));
            return future;
        }
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

    /** Writes one group commit; true when it ended with {@link #CLOSE}. */
    private boolean writeBatch(List<Object> batch) throws IOException {
        for (Object item : batch) {
            if (item instanceof byte[] frame) {
                append(frame);
                written++;
            } else if (item instanceof Rotation rotation) {
                // The old segment is complete and forced before the next starts: only the last
                // segment can ever have a torn tail, which is what recovery relies on.
                flush(true);
                rotation.newGeneration().complete(startNextSegment());
            } else if (item == CLOSE) {
                flush(true);
                segment.close();
                stop(new StoreUnavailableException("journal " + dir + " is closed", null));
                return true;
            } else {
                throw new IllegalStateException("unknown journal queue item " + item);
            }
        }
        flush(fsync == FsyncPolicy.ALWAYS);
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
        FileChannel created = FileChannel.open(segmentPath(next), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
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
        return next;
    }

    /** The writer failed: nothing more will be acknowledged, and everyone waiting hears why. */
    private void fail(Throwable cause, List<Object> batch) {
        LOG.log(System.Logger.Level.ERROR, "journal " + dir + " failed writing; no further change will be acknowledged", cause);
        StoreUnavailableException reason = new StoreUnavailableException("journal " + dir + " failed: " + cause, cause);
        stop(reason);
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
            w = writer;
        } finally {
            queueLock.unlock();
        }
        if (w == null) {
            stop(new StoreUnavailableException("journal " + dir + " is closed", null));
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
                records += replaySnapshot(snapshots.get(snapshotGen), snapshotGen, visitor);
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
                SegmentReplay replay = replaySegment(e.getValue(), last, visitor);
                records += replay.records();
                end = replay.end();
            }
            Path currentPath = segmentPath(currentGen);
            if (live.isEmpty()) {
                current = FileChannel.open(currentPath, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                fsyncDirectory();
            } else {
                current = FileChannel.open(currentPath, StandardOpenOption.READ, StandardOpenOption.WRITE);
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

    private record SegmentReplay(long records, long end) {
    }

    /** Replays one log segment; returns where its last good record ends. */
    private SegmentReplay replaySegment(Path path, boolean last, RecoveryVisitor visitor) throws IOException {
        long records = 0;
        try (FrameReader reader = new FrameReader(path)) {
            for (byte[] payload = reader.next(); payload != null; payload = reader.next()) {
                JournalRecord r = parse(payload, path, reader.recordOffset());
                if (!JournalCodec.isEvent(r)) {
                    throw new CorruptJournalException(where(path, reader.recordOffset()) + ": unexpected "
                            + r.getKindCase() + " record in a log segment (written by a newer version?)");
                }
                visitor.event(r.getAccountId(), r.getSeq(), decode(r, path, reader.recordOffset()));
                records++;
            }
            if (reader.problem() != null) {
                if (!last) {
                    throw new CorruptJournalException("corrupt journal segment " + where(path, reader.offset()) + ": "
                            + reader.problem() + " in a segment that was complete and fsynced; " + RECOVER_HINT);
                }
                long data = reader.dataAfterProblem(path);
                if (data >= 0) {
                    throw new CorruptJournalException("corrupt journal segment " + where(path, reader.offset()) + ": "
                            + reader.problem() + ", but data follows at offset " + data + ", so this is not a torn tail"
                            + " and the broker will not drop it (nothing was changed); " + RECOVER_HINT);
                }
                Path copy = keepCopy(path, reader.offset());
                LOG.log(System.Logger.Level.WARNING, "journal {0}: dropping {1} bytes of torn tail ({2}) after {3} records;"
                        + " the file as found is kept as {4}", where(path, reader.offset()),
                        String.valueOf(reader.size() - reader.offset()), reader.problem(), String.valueOf(records), copy);
            }
            return new SegmentReplay(records, reader.offset());
        }
    }

    /** Replays a snapshot, which must be complete: it was renamed into place only once fsynced. */
    private long replaySnapshot(Path path, long gen, RecoveryVisitor visitor) throws IOException {
        long records = 0;
        long checkpoints = 0;
        JournalRecord end = null;
        try (FrameReader reader = new FrameReader(path)) {
            for (byte[] payload = reader.next(); payload != null; payload = reader.next()) {
                long offset = reader.recordOffset();
                if (end != null) {
                    throw new CorruptJournalException("corrupt snapshot " + where(path, offset) + ": records after its end; " + RECOVER_HINT);
                }
                JournalRecord r = parse(payload, path, offset);
                switch (r.getKindCase()) {
                    case CHECKPOINT -> {
                        visitor.checkpoint(r.getAccountId(), r.getSeq());
                        checkpoints++;
                    }
                    case SNAPSHOT_END -> end = r;
                    case KIND_NOT_SET -> throw new CorruptJournalException(where(path, offset)
                            + ": record of unknown kind (written by a newer version?)");
                    default -> visitor.event(r.getAccountId(), r.getSeq(), decode(r, path, offset));
                }
                records++;
            }
            if (reader.problem() != null) {
                throw new CorruptJournalException("corrupt snapshot " + where(path, reader.offset()) + ": " + reader.problem()
                        + "; " + RECOVER_HINT);
            }
        }
        if (end == null) {
            throw new CorruptJournalException("incomplete snapshot " + path + ": no end record; " + RECOVER_HINT);
        }
        if (end.getSnapshotEnd().getAccounts() != checkpoints || end.getSnapshotEnd().getGeneration() != gen) {
            throw new CorruptJournalException("inconsistent snapshot " + path + ": its end names " + end.getSnapshotEnd().getAccounts()
                    + " accounts of generation " + end.getSnapshotEnd().getGeneration() + ", found " + checkpoints
                    + " of generation " + gen);
        }
        return records;
    }

    private static JournalRecord parse(byte[] payload, Path path, long offset) {
        try {
            return JournalRecord.parseFrom(payload);
        } catch (InvalidProtocolBufferException e) {
            throw new CorruptJournalException(where(path, offset) + ": undecodable record with a valid checksum; " + RECOVER_HINT, e);
        }
    }

    private static LedgerEvent decode(JournalRecord r, Path path, long offset) {
        try {
            return JournalCodec.event(r);
        } catch (IllegalArgumentException e) {
            throw new CorruptJournalException(where(path, offset) + ": " + e.getMessage() + "; " + RECOVER_HINT, e);
        }
    }

    private static String where(Path path, long offset) {
        return path + " at offset " + offset;
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

    /**
     * Before a torn tail is cut off: the file as found, durably, as {@code <segment>.torn-at-<offset>}
     * (numbered when that name is taken), so no byte is ever destroyed.
     */
    private static Path keepCopy(Path segment, long offset) throws IOException {
        Path copy = segment.resolveSibling(segment.getFileName() + ".torn-at-" + offset);
        for (int n = 2; Files.exists(copy); n++) {
            copy = segment.resolveSibling(segment.getFileName() + ".torn-at-" + offset + "." + n);
        }
        DurableFiles.copy(segment, copy);
        return copy;
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
