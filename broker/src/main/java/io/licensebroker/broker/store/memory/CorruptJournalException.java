package io.licensebroker.broker.store.memory;

/**
 * The data directory holds a journal or snapshot the store will not read past without losing
 * acknowledged changes. Start-up stops; the message names the file, the byte offset and what to
 * do, on one line. Nothing was changed on disk.
 */
public final class CorruptJournalException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    CorruptJournalException(String message) {
        super(message);
    }

    CorruptJournalException(String message, Throwable cause) {
        super(message, cause);
    }
}
