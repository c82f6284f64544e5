package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.LedgerEvent;
import io.licensebroker.broker.store.memory.proto.JournalRecord;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Ledger events as bytes, in the journal's own framing ({@link JournalCodec}): one encoding of an
 * account's configuration for every store, so the embedded store's files and the Redis store's
 * configuration value can never disagree on what a field means.
 */
public final class EventEncoding {
    private EventEncoding() {
    }

    public static byte[] encode(String accountId, List<LedgerEvent> events) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 * events.size() + 16);
        for (LedgerEvent event : events) {
            out.writeBytes(JournalCodec.frame(JournalCodec.event(accountId, 0, event)));
        }
        return out.toByteArray();
    }

    /** The events of {@link #encode}; {@link IllegalArgumentException} when the bytes are damaged. */
    public static List<LedgerEvent> decode(byte[] bytes) {
        List<LedgerEvent> out = new ArrayList<>();
        ByteBuffer in = ByteBuffer.wrap(bytes);
        while (in.hasRemaining()) {
            if (in.remaining() < JournalCodec.HEADER_BYTES) {
                throw new IllegalArgumentException("truncated event header at byte " + in.position());
            }
            int length = in.getInt();
            int crc = in.getInt();
            if (length < 0 || length > in.remaining() || JournalCodec.crc(bytes, in.position(), length) != crc) {
                throw new IllegalArgumentException("damaged event at byte " + (in.position() - JournalCodec.HEADER_BYTES));
            }
            try {
                out.add(JournalCodec.event(JournalRecord.parseFrom(ByteBuffer.wrap(bytes, in.position(), length))));
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new IllegalArgumentException("undecodable event at byte " + in.position(), e);
            }
            in.position(in.position() + length);
        }
        return out;
    }
}
