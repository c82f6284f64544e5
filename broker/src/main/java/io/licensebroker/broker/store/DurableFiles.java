package io.licensebroker.broker.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The one way the broker writes a whole file: into a temporary file in the same directory,
 * fsynced, renamed over the target atomically, then the directory fsynced. A crash at any moment
 * leaves either the old file or the new one, complete, never an empty or half-written one; what
 * it can leave is a temporary file ({@code .<name>.tmp-*}), which {@link #deleteLeftovers} removes.
 */
public final class DurableFiles {
    private static final boolean WINDOWS = System.getProperty("os.name", "").toLowerCase().startsWith("windows");
    private static final String TEMP_INFIX = ".tmp-";

    private DurableFiles() {
    }

    /** What goes into a file: written to the channel, which {@link #write} then forces. */
    @FunctionalInterface
    public interface Content {
        void writeTo(FileChannel channel) throws IOException;
    }

    /** Writes {@code bytes} as {@code target}, durably and atomically; {@code secret} makes it owner-only. */
    public static void write(Path target, byte[] bytes, boolean secret) throws IOException {
        write(target, secret, channel -> {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        });
    }

    /** Writes what {@code content} writes as {@code target}, durably and atomically. */
    public static void write(Path target, boolean secret, Content content) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + target.getFileName() + TEMP_INFIX, "");
        try {
            permissions(tmp, secret ? "rw-------" : "rw-r--r--");
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                content.writeTo(channel);
                channel.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            fsyncDirectory(dir);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Copies {@code source} to {@code target} (which must not exist), durably: before a repair touches the source. */
    public static void copy(Path source, Path target) throws IOException {
        Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
        try (FileChannel channel = FileChannel.open(target, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        fsyncDirectory(target.toAbsolutePath().getParent());
    }

    /** Deletes what {@link #write} left in {@code dir} when the process died mid-write. */
    public static void deleteLeftovers(Path dir) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, ".*" + TEMP_INFIX + "*")) {
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
        }
    }

    /** Makes creations, renames and deletions in {@code dir} durable. */
    public static void fsyncDirectory(Path dir) throws IOException {
        if (WINDOWS) {
            return; // directories cannot be opened there; NTFS journals its metadata itself
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    private static void permissions(Path file, String mode) throws IOException {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: rely on the directory's own permissions
        }
    }
}
