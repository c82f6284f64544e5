package io.licensebroker.broker.offline;

import io.licensebroker.broker.store.DurableFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The offline signing key on disk: written durably and atomically, never replaced behind the operator's back. */
final class SigningKeyFilesTest {
    @TempDir
    Path dir;

    @Test
    void leftoversOfAnAbortedWriteDoNotBreakTheStartAndTheKeyStaysTheSame() throws Exception {
        Ed25519Signer first = Ed25519Signer.loadOrCreate(dir);
        byte[] key = Files.readAllBytes(dir.resolve(Ed25519Signer.PRIVATE_KEY_FILE));
        // What a process killed mid-write leaves: an empty temporary file next to the key.
        Files.createFile(dir.resolve("." + Ed25519Signer.PRIVATE_KEY_FILE + ".tmp-4242"));
        Files.createFile(dir.resolve("." + Ed25519Signer.PUBLIC_KEY_FILE + ".tmp-4243"));

        Ed25519Signer again = Ed25519Signer.loadOrCreate(dir);

        assertEquals(first.encodeKeyPair(), again.encodeKeyPair());
        assertArrayEquals(key, Files.readAllBytes(dir.resolve(Ed25519Signer.PRIVATE_KEY_FILE)));
        assertEquals(List.of(Ed25519Signer.PRIVATE_KEY_FILE, Ed25519Signer.PUBLIC_KEY_FILE), fileNames(), "leftovers removed");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(Ed25519Signer.PRIVATE_KEY_FILE))));
    }

    @Test
    void aWriteThatFailsHalfWayLeavesTheOldFileWholeAndNoTemporaryFile() throws Exception {
        Path target = dir.resolve("file");
        DurableFiles.write(target, new byte[] {1, 2, 3}, false);

        assertThrows(IOException.class, () -> DurableFiles.write(target, false, channel -> {
            channel.write(ByteBuffer.wrap(new byte[] {9, 9}));
            throw new IOException("No space left on device");
        }));

        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(target));
        assertEquals(List.of("file"), fileNames());
    }

    @Test
    void emptyKeyFilesStopTheStartWithAClearMessageAndAreNotReplaced() throws Exception {
        // What the earlier, unsynced writes left after a file system abort.
        Files.createFile(dir.resolve(Ed25519Signer.PRIVATE_KEY_FILE));
        Files.createFile(dir.resolve(Ed25519Signer.PUBLIC_KEY_FILE));

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Ed25519Signer.loadOrCreate(dir));

        assertTrue(e.getMessage().contains(dir.resolve(Ed25519Signer.PRIVATE_KEY_FILE).toString()), e.getMessage());
        assertTrue(e.getMessage().contains("restore both files from a backup"), e.getMessage());
        assertEquals(0, Files.size(dir.resolve(Ed25519Signer.PRIVATE_KEY_FILE)), "a new key would invalidate every offline license");
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void aPrivateKeyWithoutItsPublicHalfIsNotReplaced() throws Exception {
        Ed25519Signer.loadOrCreate(dir);
        byte[] key = Files.readAllBytes(dir.resolve(Ed25519Signer.PRIVATE_KEY_FILE));
        Files.delete(dir.resolve(Ed25519Signer.PUBLIC_KEY_FILE));

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Ed25519Signer.loadOrCreate(dir));

        assertTrue(e.getMessage().contains("is missing: restore it from a backup"), e.getMessage());
        assertArrayEquals(key, Files.readAllBytes(dir.resolve(Ed25519Signer.PRIVATE_KEY_FILE)));
    }

    @Test
    void aFirstStartCutBetweenTheTwoFilesMakesTheKeyAgain() throws Exception {
        // The public file is written first: alone, it belongs to a key that never signed anything.
        Files.write(dir.resolve(Ed25519Signer.PUBLIC_KEY_FILE), new byte[] {1, 2, 3});

        Ed25519Signer made = Ed25519Signer.loadOrCreate(dir);

        assertEquals(made.encodeKeyPair(), Ed25519Signer.loadOrCreate(dir).encodeKeyPair());
    }

    private List<String> fileNames() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
