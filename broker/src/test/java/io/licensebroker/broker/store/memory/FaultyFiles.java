package io.licensebroker.broker.store.memory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.FileSystemException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * A fault injector for the journal's files (not a mock: every call goes to the real file): on
 * demand, writes fail as on a full disk (after writing part of the buffer, as a real short write
 * does) or as on a file system remounted read-only (writes, fsync and opening for write fail).
 */
final class FaultyFiles implements JournalFiles {
    enum Fault { NONE, DISK_FULL, READ_ONLY }

    private volatile Fault fault = Fault.NONE;

    void inject(Fault f) {
        fault = f;
    }

    @Override
    public FileChannel open(Path path, OpenOption... options) throws IOException {
        if (fault == Fault.READ_ONLY && Arrays.asList(options).contains(StandardOpenOption.WRITE)) {
            throw new FileSystemException(path.toString(), null, "Read-only file system");
        }
        return new Channel(FileChannel.open(path, options), path);
    }

    private final class Channel extends FileChannel {
        private final FileChannel real;
        private final Path path;

        Channel(FileChannel real, Path path) {
            this.real = real;
            this.path = path;
        }

        private void check() throws IOException {
            if (fault == Fault.READ_ONLY) {
                throw new FileSystemException(path.toString(), null, "Read-only file system");
            }
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            check();
            if (fault == Fault.DISK_FULL) {
                // What fits is written, then the rest fails: a partial record is left behind.
                if (src.remaining() > 1) {
                    ByteBuffer part = src.duplicate();
                    part.limit(part.position() + Math.max(1, src.remaining() / 3));
                    src.position(src.position() + real.write(part));
                }
                throw new IOException("No space left on device");
            }
            return real.write(src);
        }

        @Override
        public void force(boolean metaData) throws IOException {
            check();
            real.force(metaData);
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            check();
            real.truncate(size);
            return this;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return real.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return real.read(dsts, offset, length);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            throw new UnsupportedOperationException("the journal does not gather-write");
        }

        @Override
        public long position() throws IOException {
            return real.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            real.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return real.size();
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return real.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            throw new UnsupportedOperationException("the journal does not transfer into its files");
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return real.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            throw new UnsupportedOperationException("the journal does not write at positions");
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            throw new UnsupportedOperationException("the journal does not map its files");
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return real.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return real.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            real.close();
        }
    }
}
