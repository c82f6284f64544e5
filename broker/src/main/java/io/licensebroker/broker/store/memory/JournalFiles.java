package io.licensebroker.broker.store.memory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/**
 * How {@link FileJournal} opens its segments and its directory (for fsync): the file system, or
 * in tests a fault injector that makes writes fail as a full or read-only disk does.
 */
@FunctionalInterface
interface JournalFiles {
    JournalFiles REAL = FileChannel::open;

    FileChannel open(Path path, OpenOption... options) throws IOException;
}
