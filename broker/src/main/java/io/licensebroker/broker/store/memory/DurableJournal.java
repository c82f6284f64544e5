package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.Journal;
import io.licensebroker.broker.core.LedgerEvent;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The embedded store's durable record of ledger events: an append-only log, compacted now and
 * then into a snapshot. {@link #record} is called while the caller holds an account's lock, so it
 * only enqueues; a single writer thread writes in batches (group commit) and completes
 * {@link #whenDurable} futures once a batch is on disk.
 */
interface DurableJournal extends Journal, AutoCloseable {

    /** Position of the last event recorded so far (0 before any). */
    long position();

    /**
     * Completes when every event up to {@code position} is durable (written, and fsynced when the
     * fsync policy says so); completes exceptionally if the journal failed or closed first.
     */
    CompletableFuture<Void> whenDurable(long position);

    /**
     * Replays the snapshot, then the log, in order: each (accountId, seq, event) once, as
     * recorded. A torn last record is dropped (and truncated away, after a copy of the file is
     * kept); a bad record followed by data is an error. Call once, before recording.
     */
    void recover(RecoveryVisitor visitor);

    /**
     * Writes a snapshot of the whole state and drops the log it replaces. The source is asked for
     * each account's state (taken under that account's lock) after the log was rotated, so that
     * events recorded meanwhile go to the new log and carry seq numbers above the snapshot's.
     */
    void compact(SnapshotSource source);

    /** Flushes what is pending, stops the writer, closes the files. */
    @Override
    void close();

    interface RecoveryVisitor {
        /** An event of the log or snapshot. Replaying must skip seq numbers the ledger already has. */
        void event(String accountId, long seq, LedgerEvent event);

        /** In a snapshot, after all events of an account: the seq the account's state stood at. */
        void checkpoint(String accountId, long seq);
    }

    interface SnapshotSource {
        /** Calls {@code account} once per account; each call gives that account's export and seq. */
        void forEachAccount(Consumer<AccountSnapshot> account);
    }

    /** One account's state as events (see AccountLedger#export) and the seq it stood at. */
    record AccountSnapshot(String accountId, long seq, java.util.List<LedgerEvent> events) {
    }
}
