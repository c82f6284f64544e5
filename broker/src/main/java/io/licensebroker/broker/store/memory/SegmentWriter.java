package io.licensebroker.broker.store.memory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * The current log segment of a {@link FileJournal}, as its writer thread writes it: a buffer in
 * front of the file, forcing, switching to the next segment, and going back to the end of what
 * was durable after a failed write. Only the writer thread calls it (after {@link #start});
 * {@link #generation} and {@link #logBytes} may be read from any thread.
 */
final class SegmentWriter {
    // Under FileJournal's name: operators configure and read the journal's log as one.
    private static final System.Logger LOG = System.getLogger(FileJournal.class.getName());
    static final int WRITE_BUFFER_BYTES = 1 << 20;

    private final JournalDirectory directory;
    private FileChannel segment;
    private final ByteBuffer writeBuffer = ByteBuffer.allocateDirect(WRITE_BUFFER_BYTES);
    private volatile long generation;
    private volatile long logBytes;
    /** Where the last durable record of the current segment ends: what a retry goes back to. */
    private long durableBytes;

    SegmentWriter(JournalDirectory directory) {
        this.directory = directory;
    }

    /** Writes on {@code channel}, segment {@code gen}, positioned at {@code end} where its last durable record ends. */
    void start(FileChannel channel, long gen, long end) {
        segment = channel;
        generation = gen;
        logBytes = end;
        durableBytes = end;
    }

    /** The generation of the current log segment (and of the next snapshot's predecessor). */
    long generation() {
        return generation;
    }

    /** Bytes written to the current log segment. */
    long logBytes() {
        return logBytes;
    }

    /** Buffers {@code frame}, writing out first when it does not fit. */
    void append(byte[] frame) throws IOException {
        if (frame.length > writeBuffer.remaining()) {
            writeOut();
            if (frame.length > writeBuffer.capacity()) {
                writeFully(ByteBuffer.wrap(frame));
                return;
            }
        }
        writeBuffer.put(frame);
    }

    /** Writes what is buffered and forces it when asked: then it all counts as durable. */
    void flush(boolean force) throws IOException {
        writeOut();
        if (force) {
            segment.force(false);
        }
        durableBytes = logBytes;
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

    /** Switches to a new, durably created segment (call after a forcing {@link #flush}); returns its generation. */
    long startNextSegment() throws IOException {
        long next = generation + 1;
        FileChannel created = directory.createNextSegment(next);
        segment.close();
        segment = created;
        generation = next;
        logBytes = 0;
        durableBytes = 0;
        return next;
    }

    /**
     * Reopens the current segment and checks it before writing on: every durable record must read
     * back intact and end exactly where the last durable one did; whatever was written after it
     * (a partial record, unsynced bytes) is cut off, to be written again from memory.
     */
    void reopenAtDurableEnd() throws IOException {
        // A channel a failed write was interrupted in, or opened on a file system since remounted, is unusable.
        Thread.interrupted();
        JournalRecovery.closeQuietly(segment);
        segment = null;
        Path path = directory.segmentPath(generation);
        FileChannel channel = directory.openSegment(generation);
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
            JournalRecovery.closeQuietly(channel);
            throw e;
        }
        segment = channel;
        writeBuffer.clear();
        logBytes = durableBytes;
    }

    /** Closes the segment after the last forcing {@link #flush}. */
    void close() throws IOException {
        segment.close();
    }

    /** Closes the segment, if one is open, after the writer failed. */
    void closeAfterFailure() {
        try {
            if (segment != null) {
                segment.close();
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing the failed journal segment", e);
        }
    }
}
