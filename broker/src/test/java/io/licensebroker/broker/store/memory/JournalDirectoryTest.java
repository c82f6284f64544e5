package io.licensebroker.broker.store.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The journal's file layout on a real directory: naming, listing, rotation's new file, cleanup. */
final class JournalDirectoryTest {

    @TempDir
    Path dir;

    @Test
    void filesAreNamedAndListedByGeneration() throws IOException {
        JournalDirectory files = new JournalDirectory(dir.resolve("data"), JournalFiles.REAL);
        assertEquals("journal-0000000007.log", files.segmentPath(7).getFileName().toString());
        assertEquals("snapshot-0000000007.snap", files.snapshotPath(7).getFileName().toString());
        Files.createFile(files.segmentPath(1));
        Files.createFile(files.segmentPath(3));
        Files.createFile(files.snapshotPath(3));
        Files.createFile(files.path().resolve("notes.txt"));

        assertEquals(List.of(1L, 3L), List.copyOf(files.segments().keySet()));
        assertEquals(List.of(3L), List.copyOf(files.snapshots().keySet()));
    }

    @Test
    void twoNamesForOneGenerationAreAnError() throws IOException {
        JournalDirectory files = new JournalDirectory(dir, JournalFiles.REAL);
        Files.createFile(files.segmentPath(1));
        Files.createFile(dir.resolve("journal-1.log"));

        IllegalStateException e = assertThrows(IllegalStateException.class, files::segments);
        assertTrue(e.getMessage().contains("journal-1.log") && e.getMessage().contains("journal-0000000001.log"), e.getMessage());
    }

    @Test
    void aRotationTakesOverAnEmptyLeftoverSegmentButNoOther() throws IOException {
        JournalDirectory files = new JournalDirectory(dir, JournalFiles.REAL);
        // What a rotation whose directory fsync failed leaves behind.
        Files.createFile(files.segmentPath(2));
        try (FileChannel taken = files.createNextSegment(2)) {
            taken.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
        }
        assertEquals(3, Files.size(files.segmentPath(2)));

        byte[] someoneElses = {9, 9, 9, 9};
        Files.write(files.segmentPath(3), someoneElses);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> files.createNextSegment(3));
        assertTrue(e.getMessage().contains("not empty"), e.getMessage());
        assertArrayEquals(someoneElses, Files.readAllBytes(files.segmentPath(3)));
    }

    @Test
    void aSnapshotDropsOnlyTheGenerationsItCovers() throws IOException {
        JournalDirectory files = new JournalDirectory(dir, JournalFiles.REAL);
        for (long gen = 1; gen <= 3; gen++) {
            Files.createFile(files.segmentPath(gen));
        }
        Files.createFile(files.snapshotPath(2));
        Files.createFile(files.snapshotPath(3));

        files.deleteGenerationsBefore(3);

        assertEquals(List.of(3L), List.copyOf(files.segments().keySet()));
        assertEquals(List.of(3L), List.copyOf(files.snapshots().keySet()));
    }

    @Test
    void unfinishedSnapshotsAreDeleted() throws IOException {
        JournalDirectory files = new JournalDirectory(dir, JournalFiles.REAL);
        Path unfinished = dir.resolve(files.snapshotPath(4).getFileName() + ".tmp");
        Files.createFile(unfinished);
        Files.createFile(files.snapshotPath(3));

        files.deleteTempFiles();

        assertFalse(Files.exists(unfinished));
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(files.snapshotPath(3)), left.toList());
        }
    }
}
