package io.licensebroker.broker.store.memory;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads the frames of one journal file in order. {@link #next} returns null at the clean end of
 * the file (or of the limit) or at the first bad frame, which {@link #problem} then describes;
 * {@link #offset} is where the last good frame ends.
 */
final class FrameReader implements Closeable {
    private static final int READ_BUFFER_BYTES = 1 << 16;
    /** One frame of the largest size and as much again: a crash mid-write cannot leave more after the last good record. */
    static final int MAX_TORN_BYTES = 2 * (JournalCodec.HEADER_BYTES + JournalCodec.MAX_PAYLOAD_BYTES);

    private final DataInputStream in;
    private final long size;
    private long offset;
    private long recordOffset;
    private String problem;
    /** The bad frame is a complete frame (header and whole payload in the file) whose CRC failed. */
    private boolean completeButBad;

    FrameReader(Path path) throws IOException {
        this(path, Long.MAX_VALUE);
    }

    /** Reads no further than {@code limit} bytes (the file's size when smaller). */
    FrameReader(Path path, long limit) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
        try {
            this.size = Math.min(limit, channel.size());
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        this.in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel), READ_BUFFER_BYTES));
    }

    byte[] next() throws IOException {
        long remaining = size - offset;
        if (remaining == 0 || problem != null) {
            return null;
        }
        if (remaining < JournalCodec.HEADER_BYTES) {
            return bad("torn header: " + remaining + " bytes left");
        }
        int length = in.readInt();
        int crc = in.readInt();
        // 0 is never a record (it has at least a kind): it is what a zero-filled tail reads as.
        if (length <= 0 || length > JournalCodec.MAX_PAYLOAD_BYTES) {
            return bad("bad record length " + length);
        }
        if (length > remaining - JournalCodec.HEADER_BYTES) {
            return bad("torn record: " + length + " bytes announced, " + (remaining - JournalCodec.HEADER_BYTES) + " left");
        }
        byte[] payload = new byte[length];
        in.readFully(payload);
        if (JournalCodec.crc(payload, 0, length) != crc) {
            completeButBad = offset + JournalCodec.HEADER_BYTES + length < size;
            return bad("CRC mismatch in a record of " + length + " bytes");
        }
        recordOffset = offset;
        offset += JournalCodec.HEADER_BYTES + length;
        return payload;
    }

    private byte[] bad(String why) {
        problem = why;
        return null;
    }

    long offset() {
        return offset;
    }

    long recordOffset() {
        return recordOffset;
    }

    long size() {
        return size;
    }

    String problem() {
        return problem;
    }

    /**
     * After {@link #next} stopped at a bad frame: where data that must not be dropped starts after
     * it, or -1 when there is none, i.e. when the bad bytes are a torn tail that only a crash
     * mid-write could have left.
     *
     * <p>The rule: a complete frame whose checksum fails and that is followed by bytes other than
     * zeros is corruption (its length field is intact, so what follows was written after it). Any
     * other bad frame (a short header, a length reaching past the end, a zero or garbage length, a
     * bad last frame) is torn only when no frame with a valid length and checksum starts at any
     * byte after it; a flipped byte in a length field thus cannot pass for a tear, because the
     * records after it still check out.
     */
    long dataAfterProblem(Path path) throws IOException {
        if (problem == null) {
            throw new IllegalStateException("no bad frame was read");
        }
        long start = offset;
        if (completeButBad) {
            long after = start + JournalCodec.HEADER_BYTES + ByteBuffer.wrap(readAt(path, start, JournalCodec.HEADER_BYTES)).getInt();
            // Zeros after it: the file grew but its last pages never reached the disk (a tear).
            return allZero(path, after) ? -1 : after;
        }
        long region = size - start;
        if (region > MAX_TORN_BYTES) {
            return start + MAX_TORN_BYTES; // more than one write can have torn: never repaired
        }
        byte[] bytes = readAt(path, start, (int) region);
        ByteBuffer view = ByteBuffer.wrap(bytes);
        for (int i = 1; i + JournalCodec.HEADER_BYTES <= bytes.length; i++) {
            int length = view.getInt(i);
            if (length <= 0 || length > JournalCodec.MAX_PAYLOAD_BYTES
                    || length > bytes.length - i - JournalCodec.HEADER_BYTES) {
                continue;
            }
            if (JournalCodec.crc(bytes, i + JournalCodec.HEADER_BYTES, length) == view.getInt(i + 4)) {
                return start + i;
            }
        }
        return -1;
    }

    private boolean allZero(Path path, long from) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(READ_BUFFER_BYTES);
            long at = from;
            while (at < size) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), size - at));
                int n = channel.read(buffer, at);
                if (n < 0) {
                    return true;
                }
                for (int i = 0; i < n; i++) {
                    if (buffer.get(i) != 0) {
                        return false;
                    }
                }
                at += n;
            }
            return true;
        }
    }

    private static byte[] readAt(Path path, long from, int length) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(length);
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, from + buffer.position()) < 0) {
                    break;
                }
            }
            return buffer.array();
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
