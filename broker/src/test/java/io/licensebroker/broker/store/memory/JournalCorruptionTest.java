package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.Decision;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The last journal segment on start: only a torn tail (what a crash mid-write leaves) is repaired,
 * after keeping a copy; anything followed by valid data stops the start and changes no byte.
 */
final class JournalCorruptionTest {
    private static final int ACCOUNTS = 100;
    private static final String SEGMENT = "journal-0000000001.log";

    @TempDir
    Path dir;

    @Test
    void aFlippedByteInTheMiddleOfTheLastSegmentStopsTheStartNamingFileAndOffsetAndChangesNothing() throws Exception {
        writeAccounts();
        Path segment = dir.resolve(SEGMENT);
        long at = Files.size(segment) / 2;
        flipByte(segment, at);
        byte[] before = Files.readAllBytes(segment);
        List<String> filesBefore = fileNames();

        CorruptJournalException e = assertThrows(CorruptJournalException.class, this::open);

        assertTrue(e.getMessage().contains(segment.toString()), e.getMessage());
        assertTrue(e.getMessage().matches(".* at offset \\d+: .*data follows at offset \\d+.*"), e.getMessage());
        long reported = Long.parseLong(e.getMessage().replaceAll(".* at offset (\\d+): .*", "$1"));
        assertTrue(reported <= at && at - reported < 200, "the offset of the record holding the flipped byte: " + e.getMessage());
        assertTrue(e.getMessage().contains("restore it from a backup"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
        assertArrayEquals(before, Files.readAllBytes(segment), "not a byte changed");
        assertEquals(filesBefore, fileNames(), "no file made or removed");
    }

    @Test
    void aFlippedLengthFieldDoesNotPassForATornTailBecauseValidRecordsFollow() throws Exception {
        writeAccounts();
        Path segment = dir.resolve(SEGMENT);
        // The first record's length now reaches past the end of the file, as a torn one would.
        flipByte(segment, 0);
        byte[] before = Files.readAllBytes(segment);

        CorruptJournalException e = assertThrows(CorruptJournalException.class, this::open);

        assertTrue(e.getMessage().contains(segment + " at offset 0: bad record length"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(segment));
    }

    @Test
    void aRecordTruncatedMidWayIsATornTailRepairedAfterKeepingACopy() throws Exception {
        writeAccounts();
        Path segment = dir.resolve(SEGMENT);
        long full = Files.size(segment);
        try (var channel = java.nio.channels.FileChannel.open(segment, StandardOpenOption.WRITE)) {
            channel.truncate(full - 5);
        }
        byte[] torn = Files.readAllBytes(segment);

        try (MemoryStore store = open()) {
            assertEquals(ACCOUNTS - 1, store.accounts().toCompletableFuture().get(10, TimeUnit.SECONDS).size(),
                    "only the torn last record is dropped");
            assertEquals(granted(store.createAccount(new Account("after", "After"))).id(), "after");
        }
        Path copy = dir.resolve(SEGMENT + ".torn-at-" + lastRecordStart(torn));
        assertArrayEquals(torn, Files.readAllBytes(copy), "the file as found is kept");
        try (MemoryStore store = open()) {
            assertEquals(ACCOUNTS, store.accounts().toCompletableFuture().get(10, TimeUnit.SECONDS).size());
        }
    }

    @Test
    void aZeroFilledTailIsTornButDataAfterTheZerosIsCorruption() throws Exception {
        writeAccounts();
        Path segment = dir.resolve(SEGMENT);
        long good = Files.size(segment);
        Files.write(segment, new byte[8192], StandardOpenOption.APPEND);
        try (MemoryStore store = open()) {
            assertEquals(ACCOUNTS, store.accounts().toCompletableFuture().get(10, TimeUnit.SECONDS).size());
        }
        assertEquals(good, Files.size(segment));
        assertTrue(Files.exists(dir.resolve(SEGMENT + ".torn-at-" + good)));

        // Zeros, then a valid record: something was written after the zeros.
        byte[] valid = Arrays.copyOfRange(Files.readAllBytes(segment), 0, firstRecordLength(segment));
        Files.write(segment, new byte[64], StandardOpenOption.APPEND);
        Files.write(segment, valid, StandardOpenOption.APPEND);
        CorruptJournalException e = assertThrows(CorruptJournalException.class, this::open);
        assertTrue(e.getMessage().contains("at offset " + good + ": bad record length 0, but data follows at offset " + (good + 64)),
                e.getMessage());
    }

    @Test
    void aBadChecksumInACompleteRecordFollowedByZerosIsTorn() throws Exception {
        writeAccounts();
        Path segment = dir.resolve(SEGMENT);
        long size = Files.size(segment);
        flipByte(segment, size - 1);
        Files.write(segment, new byte[100], StandardOpenOption.APPEND);
        try (MemoryStore store = open()) {
            assertEquals(ACCOUNTS - 1, store.accounts().toCompletableFuture().get(10, TimeUnit.SECONDS).size());
        }
    }

    // ---------------------------------------------------------------- helpers

    private MemoryStore open() {
        return MemoryStore.open(dir, true, Duration.ofMinutes(10), Long.MAX_VALUE, Instant.parse("2030-01-01T00:00:00Z"));
    }

    private void writeAccounts() throws Exception {
        try (MemoryStore store = open()) {
            for (int i = 0; i < ACCOUNTS; i++) {
                granted(store.createAccount(new Account(String.format("acct-%03d", i), "Account " + i)));
            }
        }
    }

    private static <T> T granted(java.util.concurrent.CompletionStage<Decision<T>> stage) throws Exception {
        Decision<T> d = stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertTrue(d.isGranted(), d.toString());
        return d.value();
    }

    private static long lastRecordStart(byte[] file) {
        long at = 0;
        ByteBuffer b = ByteBuffer.wrap(file);
        while (at + JournalCodec.HEADER_BYTES <= file.length) {
            int length = b.getInt((int) at);
            if (at + JournalCodec.HEADER_BYTES + length > file.length) {
                return at;
            }
            at += JournalCodec.HEADER_BYTES + length;
        }
        return at;
    }

    private static int firstRecordLength(Path segment) throws IOException {
        return JournalCodec.HEADER_BYTES + ByteBuffer.wrap(Files.readAllBytes(segment)).getInt(0);
    }

    private List<String> fileNames() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static void flipByte(Path file, long offset) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[(int) offset] ^= 0x5A;
        Files.write(file, bytes);
    }
}
