package io.licensebroker.broker.store.memory;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;

/**
 * Recovery of a {@link FileJournal} at start: replays the newest snapshot, then every segment from
 * its generation on (from generation 1 without a snapshot), checks no segment is missing, cuts a
 * torn tail off the last one (only that; see {@link JournalReplay}) and opens it to write on.
 * Files older than the snapshot are dropped.
 */
final class JournalRecovery {
    // Under FileJournal's name: operators configure and read the journal's log as one.
    private static final System.Logger LOG = System.getLogger(FileJournal.class.getName());

    /** The segment to write on, positioned after its last good record. */
    record Recovered(FileChannel segment, long generation, long end, long records, Long snapshotGeneration,
                     Set<Long> segments) {

        /** Says what was read, once the journal is open. */
        void log(Path dir, long startedNanos) {
            LOG.log(System.Logger.Level.INFO, "journal {0}: recovered {1} records (snapshot {2}, segments {3}) in {4} ms",
                    dir, String.valueOf(records), snapshotGeneration == null ? "none" : String.valueOf(snapshotGeneration),
                    segments, String.valueOf((System.nanoTime() - startedNanos) / 1_000_000));
        }
    }

    private JournalRecovery() {
    }

    /**
     * Replays {@code directory} into {@code visitor}. On failure nothing is left open; a
     * {@link CorruptJournalException} says which file and offset stopped it.
     */
    static Recovered recover(JournalDirectory directory, DurableJournal.RecoveryVisitor visitor) {
        Path dir = directory.path();
        FileChannel current = null;
        try {
            directory.deleteTempFiles();
            NavigableMap<Long, Path> snapshots = directory.snapshots();
            NavigableMap<Long, Path> segments = directory.segments();
            Long snapshotGen = snapshots.isEmpty() ? null : snapshots.lastKey();
            long records = 0;
            if (snapshotGen != null) {
                records += JournalReplay.snapshot(snapshots.get(snapshotGen), snapshotGen, visitor);
            }
            NavigableMap<Long, Path> live = snapshotGen == null ? segments : segments.tailMap(snapshotGen, true);
            long expected = snapshotGen == null ? JournalDirectory.FIRST_GENERATION : snapshotGen;
            for (long gen : live.keySet()) {
                if (gen != expected) {
                    throw new CorruptJournalException("journal " + dir + ": log segment " + directory.segmentPath(expected).getFileName()
                            + " is missing (found " + live.get(gen).getFileName() + ")");
                }
                expected++;
            }
            long currentGen = live.isEmpty()
                    ? (snapshotGen == null ? JournalDirectory.FIRST_GENERATION : snapshotGen) : live.lastKey();
            long end = 0;
            for (Map.Entry<Long, Path> e : live.entrySet()) {
                boolean last = e.getKey() == currentGen;
                JournalReplay.SegmentReplay replay = JournalReplay.segment(e.getValue(), last, visitor);
                records += replay.records();
                end = replay.end();
            }
            if (live.isEmpty()) {
                current = directory.createSegment(currentGen);
            } else {
                current = directory.openSegment(currentGen);
                if (current.size() > end) {
                    // Drop the torn tail so new records follow the last good one.
                    current.truncate(end);
                    current.force(true);
                }
                current.position(end);
            }
            if (snapshotGen != null) {
                directory.deleteGenerationsBefore(snapshotGen);
            }
            return new Recovered(current, currentGen, end, records, snapshotGen, live.keySet());
        } catch (IOException e) {
            closeQuietly(current);
            throw new UncheckedIOException("recovering journal " + dir + " failed", e);
        } catch (RuntimeException | Error e) {
            closeQuietly(current);
            throw e;
        }
    }

    static void closeQuietly(Closeable c) {
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
