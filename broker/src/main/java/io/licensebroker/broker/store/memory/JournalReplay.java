package io.licensebroker.broker.store.memory;

import com.google.protobuf.InvalidProtocolBufferException;
import io.licensebroker.broker.core.LedgerEvent;
import io.licensebroker.broker.store.DurableFiles;
import io.licensebroker.broker.store.memory.proto.JournalRecord;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reading {@link FileJournal}'s files back at recovery: a log segment (whose torn tail, and only
 * that, is repaired after keeping a copy) and a snapshot (which must be whole).
 */
final class JournalReplay {
    private static final System.Logger LOG = System.getLogger(FileJournal.class.getName());

    /** How an operator gets past a corrupt file, appended to the message that stops the start. */
    static final String RECOVER_HINT = "to recover, stop the broker, copy the data directory aside, then restore it from a backup"
            + " (or, accepting the loss of every change after that offset, truncate the file to that many bytes and start again)";

    private JournalReplay() {
    }

    record SegmentReplay(long records, long end) {
    }

    /** Replays one log segment; returns where its last good record ends. */
    static SegmentReplay segment(Path path, boolean last, DurableJournal.RecoveryVisitor visitor) throws IOException {
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
    static long snapshot(Path path, long gen, DurableJournal.RecoveryVisitor visitor) throws IOException {
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

    static String where(Path path, long offset) {
        return path + " at offset " + offset;
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

}
