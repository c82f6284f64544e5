package io.licensebroker.broker.core;

/**
 * Where an {@link AccountLedger} reports each event it applies, in order, while its owner holds
 * the account's lock. {@code seq} grows by one per event of that account, so a replay can skip
 * what a snapshot already contains.
 */
@FunctionalInterface
public interface Journal {
    Journal NONE = (accountId, seq, event) -> { };

    void record(String accountId, long seq, LedgerEvent event);
}
