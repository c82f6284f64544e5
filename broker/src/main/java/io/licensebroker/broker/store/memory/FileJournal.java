package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.LedgerEvent;
import io.licensebroker.broker.core.StoreUnavailableException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link DurableJournal} in one directory: log segments {@code journal-<generation>.log} and
 * snapshots {@code snapshot-<generation>.snap}, all made of records framed by {@link JournalCodec}
 * (named and managed by {@link JournalDirectory}).
 *
 * <p>Snapshot {@code g} holds the whole state as of the moment segment {@code g} was started, so
 * recovery reads the newest snapshot, then segments {@code g, g+1, ...}. Without a snapshot it
 * reads every segment from generation 1 (see {@link JournalRecovery}).
 *
 * <p>{@link #record} only encodes and enqueues. One writer thread takes everything queued, writes
 * it with one write and (under {@link FsyncPolicy#ALWAYS}) one fdatasync, then completes the
 * {@link #whenDurable} futures the batch covers, on that thread. Rotation and close travel
 * through the same queue, so they split the stream of events exactly where they were requested
 * (see {@link GroupCommitWriter}).
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

    /** What a refused caller is told while the disk fails. */
    static final String UNWRITABLE = "the broker cannot write to its disk: changes are refused until it can"
            + " (reads still answer); retry later";

    private final JournalDirectory directory;
    private final DurabilityTracker tracker = new DurabilityTracker();
    private final SegmentWriter segment;
    private final GroupCommitWriter writer;
    private final ReentrantLock compactLock = new ReentrantLock();

    FileJournal(Path dataDir, FsyncPolicy fsync) {
        this(dataDir, fsync, JournalFiles.REAL, RetryScheduler.realTime());
    }

    FileJournal(Path dataDir, FsyncPolicy fsync, JournalFiles files, RetryScheduler retries) {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(fsync, "fsync");
        Objects.requireNonNull(files, "files");
        Objects.requireNonNull(retries, "retries");
        this.directory = new JournalDirectory(dataDir, files);
        this.segment = new SegmentWriter(directory);
        this.writer = new GroupCommitWriter(directory.path(), fsync, retries, tracker, segment);
    }

    // ---------------------------------------------------------------- recording

    @Override
    public void record(String accountId, long seq, LedgerEvent event) {
        // Encoding happens outside the lock: the only shared work is an append to a list.
        writer.record(JournalCodec.frame(JournalCodec.event(accountId, seq, event)));
    }

    @Override
    public long position() {
        return writer.position();
    }

    @Override
    public CompletableFuture<Void> whenDurable(long p) {
        if (p <= tracker.durable()) {
            return CompletableFuture.completedFuture(null);
        }
        long position = writer.position();
        if (p > position) {
            throw new IllegalArgumentException("position " + p + " was not recorded yet (last is " + position + ")");
        }
        return tracker.whenDurable(p);
    }

    /** Whether a change recorded now can be acknowledged: false while the disk fails, and once stopped. */
    boolean writable() {
        return tracker.writable();
    }

    /** Why changes cannot be acknowledged now, or null when they can. */
    StoreUnavailableException unwritable() {
        return tracker.unwritable();
    }

    /** {@code listener} runs, on the journal's writer thread, each time {@link #writable} may have changed. */
    void onWritableChange(Runnable listener) {
        tracker.onWritableChange(listener);
    }

    /** Bytes written to the current log segment; the store compacts when it grows too large. */
    long logBytes() {
        return segment.logBytes();
    }

    /** The generation of the current log segment (and of the next snapshot's predecessor). */
    long generation() {
        return segment.generation();
    }

    // ---------------------------------------------------------------- close

    @Override
    public void close() {
        writer.close();
    }

    // ---------------------------------------------------------------- compaction

    @Override
    public void compact(SnapshotSource source) {
        Objects.requireNonNull(source, "source");
        compactLock.lock();
        try {
            long started = System.nanoTime();
            long gen = writer.rotate();
            Path snapshot = directory.snapshotPath(gen);
            long accounts;
            try {
                accounts = SnapshotWriter.write(snapshot, gen, source);
            } catch (IOException e) {
                throw new UncheckedIOException("writing snapshot " + snapshot + " failed", e);
            }
            // The new snapshot covers everything older: drop it. A leftover is harmless (recovery ignores and deletes it).
            directory.deleteGenerationsBefore(gen);
            LOG.log(System.Logger.Level.INFO, "journal {0}: snapshot {1} of {2} accounts written in {3} ms",
                    directory.path(), String.valueOf(gen), String.valueOf(accounts),
                    String.valueOf((System.nanoTime() - started) / 1_000_000));
        } finally {
            compactLock.unlock();
        }
    }

    // ---------------------------------------------------------------- recovery

    @Override
    public void recover(RecoveryVisitor visitor) {
        Objects.requireNonNull(visitor, "visitor");
        writer.beginRecovery();
        long started = System.nanoTime();
        JournalRecovery.Recovered recovered = JournalRecovery.recover(directory, visitor);
        segment.start(recovered.segment(), recovered.generation(), recovered.end());
        try {
            writer.start();
        } catch (RuntimeException | Error e) {
            JournalRecovery.closeQuietly(recovered.segment());
            throw e;
        }
        recovered.log(directory.path(), started);
    }
}
