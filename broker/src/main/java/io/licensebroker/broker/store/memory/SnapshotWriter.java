package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.LedgerEvent;
import io.licensebroker.broker.store.DurableFiles;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Writes a {@link FileJournal} snapshot: each account's events and a checkpoint of its seq, then
 * an end record naming the account count and generation, which recovery checks. The file appears
 * under its name only once complete and fsynced (see {@link DurableFiles#write}).
 */
final class SnapshotWriter {

    private SnapshotWriter() {
    }

    /** Writes snapshot {@code gen} of {@code source} to {@code path}; returns how many accounts it holds. */
    static long write(Path path, long gen, DurableJournal.SnapshotSource source) throws IOException {
        long[] accounts = {0};
        DurableFiles.write(path, false, channel -> accounts[0] = write(channel, gen, source));
        return accounts[0];
    }

    private static long write(FileChannel channel, long gen, DurableJournal.SnapshotSource source) throws IOException {
        long[] accounts = {0};
        // Not closed: DurableFiles forces and closes the channel.
        OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), SegmentWriter.WRITE_BUFFER_BYTES);
        try {
            source.forEachAccount(account -> {
                try {
                    // Snapshot events carry seq 0 (AccountLedger#replay applies those as they
                    // come); the checkpoint then restores the seq the account stood at.
                    for (LedgerEvent event : account.events()) {
                        out.write(JournalCodec.frame(JournalCodec.event(account.accountId(), 0, event)));
                    }
                    out.write(JournalCodec.frame(JournalCodec.checkpoint(account.accountId(), account.seq())));
                    accounts[0]++;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        out.write(JournalCodec.frame(JournalCodec.snapshotEnd(accounts[0], gen)));
        out.flush();
        return accounts[0];
    }
}
