package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.AccountLedger;
import io.licensebroker.broker.core.Credential;
import io.licensebroker.broker.core.Journal;
import io.licensebroker.broker.core.LedgerEvent;
import io.licensebroker.broker.core.Organization;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The embedded store's accounts: every account's {@link AccountLedger} behind its own lock (the
 * monitor of its {@link Slot}), so accounts never contend, and the indexes that span accounts
 * (credentials by lookup id, the account of each organization, organization numbering). Also
 * what runs over every account: recovery into them, snapshots, lease expiry, invariant checks.
 */
final class AccountSlots {
    /** Pseudo-account that holds SUPER_ADMIN credentials, which belong to no account. */
    static final String GLOBAL = "";
    private static final int EXPIRY_BATCH = 1_000;
    // Under MemoryStore's name: this was part of it, and operators read its log as one.
    private static final System.Logger LOG = System.getLogger(MemoryStore.class.getName());

    /** One account's ledger; its monitor is the account's lock. */
    static final class Slot {
        final AccountLedger ledger;

        Slot(AccountLedger ledger) {
            this.ledger = ledger;
        }
    }

    private final ConcurrentHashMap<String, Slot> slots = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Credential> credentialsByLookup = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, String> accountByOrg = new ConcurrentHashMap<>();
    private final AtomicLong nextOrgNumber = new AtomicLong(1);
    private final Journal ledgerJournal;
    private final Duration tombstoneRetention;

    /** With the {@link #GLOBAL} slot; every ledger records its changes to {@code ledgerJournal}. */
    AccountSlots(Journal ledgerJournal, Duration tombstoneRetention) {
        this.ledgerJournal = ledgerJournal;
        this.tombstoneRetention = tombstoneRetention;
        slots.put(GLOBAL, newSlot(GLOBAL));
    }

    private Slot newSlot(String accountId) {
        return new Slot(new AccountLedger(accountId, ledgerJournal, tombstoneRetention));
    }

    /** The account's slot, or null when there is none. */
    Slot get(String accountId) {
        return slots.get(accountId);
    }

    /** The account's slot, created (with an empty ledger) when there is none. */
    Slot getOrCreate(String accountId) {
        return slots.computeIfAbsent(accountId, this::newSlot);
    }

    Collection<Slot> all() {
        return slots.values();
    }

    // ---------------------------------------------------------------- cross-account indexes

    Credential credential(String lookupId) {
        return credentialsByLookup.get(lookupId);
    }

    void indexCredential(Credential credential) {
        credentialsByLookup.put(credential.lookupId(), credential);
    }

    void unindexCredential(String lookupId) {
        credentialsByLookup.remove(lookupId);
    }

    /** A new organization id, never handed out before (recovery continues the numbering). */
    String nextOrgId() {
        return "OG-" + nextOrgNumber.getAndIncrement();
    }

    void indexOrganization(String orgId, String accountId) {
        accountByOrg.put(orgId, accountId);
    }

    String accountOfOrganization(String orgId) {
        return accountByOrg.get(orgId);
    }

    // ---------------------------------------------------------------- over every account

    /** Replays the journal into the ledgers, creating each account's slot on its first record. */
    DurableJournal.RecoveryVisitor recoveryVisitor() {
        return new DurableJournal.RecoveryVisitor() {
            @Override
            public void event(String accountId, long seq, LedgerEvent event) {
                getOrCreate(accountId).ledger.replay(seq, event);
            }

            @Override
            public void checkpoint(String accountId, long seq) {
                getOrCreate(accountId).ledger.restoreSeq(seq);
            }
        };
    }

    /**
     * After recovery: gives every recovered session a lease until {@code recoveredLeaseUntil}
     * (renewals are not journaled) and rebuilds the indexes from the ledgers.
     */
    void recovered(Instant recoveredLeaseUntil) {
        long maxOrg = 0;
        for (Slot slot : slots.values()) {
            slot.ledger.extendLeases(recoveredLeaseUntil);
            slot.ledger.credentials().forEach(c -> credentialsByLookup.put(c.lookupId(), c));
            for (Organization org : slot.ledger.organizations()) {
                accountByOrg.put(org.id(), slot.ledger.accountId());
                maxOrg = Math.max(maxOrg, orgNumber(org.id()));
            }
        }
        nextOrgNumber.set(maxOrg + 1);
    }

    /** Every account's state for a snapshot, each taken under its account's lock. */
    DurableJournal.SnapshotSource snapshotSource() {
        return sink -> {
            for (Slot slot : slots.values()) {
                List<LedgerEvent> events = new ArrayList<>();
                long seq;
                synchronized (slot) {
                    slot.ledger.export(events::add);
                    seq = slot.ledger.seq();
                }
                sink.accept(new DurableJournal.AccountSnapshot(slot.ledger.accountId(), seq, events));
            }
        };
    }

    /** The result of {@link #expireLeases}: how many expired, and the journal position to wait for. */
    record Expired(int count, long position) {
    }

    /** Ends every lease due at {@code now}, account by account; {@code position} is read under each account's lock. */
    Expired expireLeases(Instant now, LongSupplier position) {
        int expired = 0;
        long last = 0;
        for (Slot slot : slots.values()) {
            int batch;
            do {
                // In batches, releasing the account's lock in between so acquires are not held up.
                synchronized (slot) {
                    Instant next = slot.ledger.nextExpiry();
                    boolean due = next != null && !now.isBefore(next);
                    batch = slot.ledger.expire(now, due ? EXPIRY_BATCH : 0);
                    expired += batch;
                    last = Math.max(last, position.getAsLong());
                }
            } while (batch == EXPIRY_BATCH);
        }
        return new Expired(expired, last);
    }

    /** Journals every account's minute in progress of its usage history (before a clean close). */
    void flushHistory() {
        for (Slot slot : slots.values()) {
            synchronized (slot) {
                slot.ledger.history().flush();
            }
        }
    }

    /** Every broken invariant of every account (empty when all hold). */
    List<String> invariantViolations() {
        List<String> out = new ArrayList<>();
        for (Slot slot : slots.values()) {
            synchronized (slot) {
                slot.ledger.invariantViolations().forEach(v -> out.add(slot.ledger.accountId() + ": " + v));
            }
        }
        return out;
    }

    private static long orgNumber(String orgId) {
        try {
            return Long.parseLong(orgId.substring(3));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "unexpected organization id {0}", orgId);
            return 0;
        }
    }
}
