package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.store.DurableFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The files of one {@link FileJournal} directory: log segments {@code journal-<generation>.log}
 * and snapshots {@code snapshot-<generation>.snap}, how they are named, listed, created and
 * dropped, and the directory fsync that makes creations, renames and deletions durable.
 */
final class JournalDirectory {
    // Under FileJournal's name: operators configure and read the journal's log as one.
    private static final System.Logger LOG = System.getLogger(FileJournal.class.getName());

    static final long FIRST_GENERATION = 1;
    private static final Pattern SEGMENT_NAME = Pattern.compile("journal-(\\d+)\\.log");
    private static final Pattern SNAPSHOT_NAME = Pattern.compile("snapshot-(\\d+)\\.snap");
    private static final String TEMP_SUFFIX = ".tmp";

    private final Path dir;
    private final JournalFiles files;

    /** Creates {@code dataDir} when it does not exist yet. */
    JournalDirectory(Path dataDir, JournalFiles files) {
        this.dir = Objects.requireNonNull(dataDir, "dataDir").toAbsolutePath();
        this.files = Objects.requireNonNull(files, "files");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create journal directory " + dir, e);
        }
    }

    /** The directory, absolute; messages name it. */
    Path path() {
        return dir;
    }

    Path segmentPath(long gen) {
        return dir.resolve(String.format("journal-%010d.log", gen));
    }

    Path snapshotPath(long gen) {
        return dir.resolve(String.format("snapshot-%010d.snap", gen));
    }

    /** The log segments by generation. */
    NavigableMap<Long, Path> segments() throws IOException {
        return list(SEGMENT_NAME);
    }

    /** The snapshots by generation. */
    NavigableMap<Long, Path> snapshots() throws IOException {
        return list(SNAPSHOT_NAME);
    }

    /** Opens an existing segment for reading it back and writing on. */
    FileChannel openSegment(long gen) throws IOException {
        return files.open(segmentPath(gen), StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    /** Creates the first segment of an empty (or fully snapshotted) journal, durably. */
    FileChannel createSegment(long gen) throws IOException {
        return durablyCreated(files.open(segmentPath(gen), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
    }

    /**
     * Creates the segment a rotation switches to, durably. An empty file of that name is taken
     * over: a rotation whose directory fsync failed left it, and nothing follows a rotation
     * before it completes.
     */
    FileChannel createNextSegment(long gen) throws IOException {
        Path path = segmentPath(gen);
        FileChannel created;
        try {
            created = files.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            // Anything else there is not ours to overwrite.
            if (Files.size(path) != 0) {
                throw new IllegalStateException("journal " + dir + ": " + path.getFileName()
                        + " already exists and is not empty", e);
            }
            created = files.open(path, StandardOpenOption.WRITE);
        }
        return durablyCreated(created);
    }

    /** A new file's name is durable once the directory is: fsync it, or close the file and fail. */
    private FileChannel durablyCreated(FileChannel created) throws IOException {
        try {
            fsync();
        } catch (IOException e) {
            created.close();
            throw e;
        }
        return created;
    }

    /** Drops the segments and snapshots a snapshot of {@code gen} covers; a failure only leaves them behind. */
    void deleteGenerationsBefore(long gen) {
        boolean deleted = false;
        try {
            for (Map.Entry<Long, Path> e : segments().headMap(gen).entrySet()) {
                deleted |= Files.deleteIfExists(e.getValue());
            }
            for (Map.Entry<Long, Path> e : snapshots().headMap(gen).entrySet()) {
                deleted |= Files.deleteIfExists(e.getValue());
            }
            if (deleted) {
                fsync();
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "journal " + dir + ": could not delete files older than generation " + gen, e);
        }
    }

    /** Snapshots that were never renamed into place: a compaction died while writing them. */
    void deleteTempFiles() throws IOException {
        // Older versions named them snapshot-N.snap.tmp.
        try (DirectoryStream<Path> found = Files.newDirectoryStream(dir, "snapshot-*.snap" + TEMP_SUFFIX)) {
            for (Path f : found) {
                Files.deleteIfExists(f);
            }
        }
        DurableFiles.deleteLeftovers(dir);
    }

    /** Makes creations, renames and deletions in the directory durable. */
    void fsync() throws IOException {
        DurableFiles.fsyncDirectory(dir);
    }

    private NavigableMap<Long, Path> list(Pattern name) throws IOException {
        NavigableMap<Long, Path> out = new TreeMap<>();
        try (DirectoryStream<Path> found = Files.newDirectoryStream(dir)) {
            for (Path f : found) {
                Matcher m = name.matcher(f.getFileName().toString());
                if (m.matches()) {
                    Path clash = out.put(Long.parseLong(m.group(1)), f);
                    if (clash != null) {
                        throw new IllegalStateException("journal " + dir + ": " + clash.getFileName() + " and "
                                + f.getFileName() + " name the same generation");
                    }
                }
            }
        }
        return out;
    }
}
