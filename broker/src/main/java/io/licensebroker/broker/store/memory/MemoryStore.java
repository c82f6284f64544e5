package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AccountLedger;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Activation;
import io.licensebroker.broker.core.ActivationRequest;
import io.licensebroker.broker.core.LicenseModel;
import io.licensebroker.broker.core.LicensedUser;
import io.licensebroker.broker.core.Page;
import io.licensebroker.broker.core.SeatQuery;
import io.licensebroker.broker.core.Credential;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.DenialQuery;
import io.licensebroker.broker.core.DenialRow;
import io.licensebroker.broker.core.HistoryQuery;
import io.licensebroker.broker.core.Journal;
import io.licensebroker.broker.core.LedgerEvent;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.Machine;
import io.licensebroker.broker.core.OfflineLicense;
import io.licensebroker.broker.core.Organization;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Refusals;
import io.licensebroker.broker.core.Role;
import io.licensebroker.broker.core.Seat;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.SessionPage;
import io.licensebroker.broker.core.SessionQuery;
import io.licensebroker.broker.core.StoreObserver;
import io.licensebroker.broker.core.StoreUnavailableException;
import io.licensebroker.broker.core.Subscription;
import io.licensebroker.broker.core.UsageSeries;
import io.licensebroker.broker.core.User;
import io.licensebroker.broker.store.memory.AccountSlots.Slot;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * The embedded store: every account's {@link AccountLedger} in memory behind its own lock, so
 * accounts never contend ({@link AccountSlots}), and every change journaled to local disk before
 * the call answers.
 */
public final class MemoryStore implements LicenseStore {
    /** Pseudo-account that holds SUPER_ADMIN credentials, which belong to no account. */
    private static final String GLOBAL = AccountSlots.GLOBAL;

    private final AccountSlots slots;
    private final DurableJournal journal;
    private final long compactAfterBytes;

    private MemoryStore(DurableJournal journal, Duration tombstoneRetention, long compactAfterBytes, StoreObserver observer) {
        this.journal = journal;
        this.slots = new AccountSlots(observing(journal == null ? Journal.NONE : journal, observer), tombstoneRetention);
        this.compactAfterBytes = compactAfterBytes;
    }

    /**
     * Every ledger change passes through the journal, so this is the one place that sees each
     * lease running out, whether the reaper, an acquire or a late renew noticed it. Replay at
     * recovery applies events without emitting them, so recovered history is not counted again.
     */
    private static Journal observing(Journal journal, StoreObserver observer) {
        if (observer == StoreObserver.NONE) {
            return journal;
        }
        return (accountId, seq, event) -> {
            journal.record(accountId, seq, event);
            if (event instanceof LedgerEvent.SessionEnded ended && ended.cause() == Reason.SESSION_EXPIRED) {
                observer.sessionsExpired(1);
            }
        };
    }

    /** A store that keeps nothing on disk (tests, benchmarks of the pure in-memory path). */
    public static MemoryStore volatileStore(Duration tombstoneRetention) {
        return volatileStore(tombstoneRetention, StoreObserver.NONE);
    }

    /** A store that keeps nothing on disk and reports to {@code observer}. */
    public static MemoryStore volatileStore(Duration tombstoneRetention, StoreObserver observer) {
        return new MemoryStore(null, tombstoneRetention, Long.MAX_VALUE, observer);
    }

    /**
     * Opens (or creates) the durable store in {@code dataDir}: replays snapshot and log, then gives
     * every recovered session a lease until {@code recoveredLeaseUntil} (renewals are not journaled).
     */
    public static MemoryStore open(Path dataDir, boolean fsync, Duration tombstoneRetention, long compactAfterBytes,
                                   Instant recoveredLeaseUntil) {
        return open(dataDir, fsync, tombstoneRetention, compactAfterBytes, recoveredLeaseUntil, StoreObserver.NONE);
    }

    /** {@link #open(Path, boolean, Duration, long, Instant)}, reporting to {@code observer}. */
    public static MemoryStore open(Path dataDir, boolean fsync, Duration tombstoneRetention, long compactAfterBytes,
                                   Instant recoveredLeaseUntil, StoreObserver observer) {
        return open(new FileJournal(dataDir, fsync ? FsyncPolicy.ALWAYS : FsyncPolicy.NEVER), tombstoneRetention,
                compactAfterBytes, recoveredLeaseUntil, observer);
    }

    /** Opens the store on {@code fileJournal} (not recovered yet); tests pass one with a fault injector. */
    static MemoryStore open(FileJournal fileJournal, Duration tombstoneRetention, long compactAfterBytes,
                            Instant recoveredLeaseUntil, StoreObserver observer) {
        MemoryStore store = new MemoryStore(fileJournal, tombstoneRetention, compactAfterBytes, observer);
        fileJournal.recover(store.slots.recoveryVisitor());
        store.slots.recovered(recoveredLeaseUntil);
        return store;
    }

    // ---------------------------------------------------------------- accounts and credentials

    @Override
    public CompletionStage<Decision<Account>> createAccount(Account account) {
        if (account.id().equals(GLOBAL)) {
            throw new IllegalArgumentException("account id cannot be empty");
        }
        StoreUnavailableException refused = refusal();
        if (refused != null) {
            return CompletableFuture.failedFuture(refused);
        }
        Slot slot = slots.getOrCreate(account.id());
        long position;
        synchronized (slot) {
            if (slot.ledger.account() != null) {
                return done(Refusals.accountExists(account.id()));
            }
            slot.ledger.create(account);
            position = position();
        }
        return durable(position, Decision.granted(account));
    }

    @Override
    public CompletionStage<Optional<Account>> account(String accountId) {
        Slot slot = slots.get(accountId);
        if (slot == null) {
            return done(Optional.empty());
        }
        synchronized (slot) {
            return done(Optional.ofNullable(slot.ledger.account()));
        }
    }

    @Override
    public CompletionStage<List<Account>> accounts() {
        List<Account> out = new ArrayList<>();
        for (Slot slot : slots.all()) {
            synchronized (slot) {
                if (slot.ledger.account() != null) {
                    out.add(slot.ledger.account());
                }
            }
        }
        out.sort(Comparator.comparing(Account::id));
        return done(out);
    }

    @Override
    public CompletionStage<Decision<Credential>> addCredential(Credential credential) {
        String owner = credential.role() == Role.SUPER_ADMIN ? GLOBAL : credential.accountId();
        return change(owner, ledger -> {
            ledger.addCredential(credential);
            slots.indexCredential(credential);
            return Decision.granted(credential);
        });
    }

    @Override
    public CompletionStage<Optional<Credential>> credential(String lookupId) {
        return done(Optional.ofNullable(slots.credential(lookupId)));
    }

    @Override
    public CompletionStage<Decision<Credential>> revokeCredential(String lookupId) {
        Credential known = slots.credential(lookupId);
        if (known == null) {
            return done(Refusals.credentialNotFound(lookupId));
        }
        String owner = known.role() == Role.SUPER_ADMIN ? GLOBAL : known.accountId();
        return inAccount(owner, ledger -> {
            // Journaled (CredentialRevoked) before it answers, so the revocation survives a restart.
            Decision<Credential> revoked = ledger.revokeCredential(lookupId);
            if (revoked.isGranted()) {
                slots.unindexCredential(lookupId);
            }
            return revoked;
        });
    }

    @Override
    public CompletionStage<Boolean> hasSuperAdmin() {
        Slot global = slots.get(GLOBAL);
        synchronized (global) {
            return done(global.ledger.everHadCredentials());
        }
    }

    // ---------------------------------------------------------------- configuration

    @Override
    public CompletionStage<Decision<Subscription>> setSubscription(String accountId, String product, long licenses,
                                                                   long machineQuota, Instant expiresAt, LicenseModel model, Instant now) {
        return change(accountId, ledger -> ledger.setSubscription(product, licenses, machineQuota, expiresAt, model, now));
    }

    @Override
    public CompletionStage<Decision<Subscription>> subscription(String accountId, String product) {
        return inAccount(accountId, ledger -> Decision.granted(ledger.subscription(product)));
    }

    @Override
    public CompletionStage<Decision<Organization>> createOrganization(String accountId, String parentId, String name) {
        return change(accountId, ledger -> {
            String orgId = slots.nextOrgId();
            Decision<Organization> created = ledger.createOrganization(orgId, parentId, name);
            if (created.isGranted()) {
                slots.indexOrganization(orgId, accountId);
            }
            return created;
        });
    }

    @Override
    public CompletionStage<Decision<List<Organization>>> organizations(String accountId) {
        return inAccount(accountId, ledger -> Decision.granted(ledger.organizations()));
    }

    @Override
    public CompletionStage<Optional<String>> accountOfOrganization(String orgId) {
        return done(Optional.ofNullable(slots.accountOfOrganization(orgId)));
    }

    @Override
    public CompletionStage<Decision<LicenseUsage>> setDedicated(String accountId, String orgId, String product, long licenses, Instant now) {
        return change(accountId, ledger -> ledger.setDedicated(orgId, product, licenses, now));
    }

    @Override
    public CompletionStage<Decision<User>> upsertUser(String accountId, String userId, String assignedOrgId, List<String> projectOrgIds) {
        return change(accountId, ledger -> ledger.upsertUser(userId, assignedOrgId, projectOrgIds));
    }

    @Override
    public CompletionStage<Decision<User>> user(String accountId, String userId) {
        return inAccount(accountId, ledger -> {
            User user = ledger.user(userId);
            return user == null
                    ? Refusals.userNotFound(accountId, userId)
                    : Decision.granted(user);
        });
    }

    @Override
    public CompletionStage<Decision<List<User>>> users(String accountId) {
        return inAccount(accountId, ledger -> Decision.granted(ledger.users()));
    }

    @Override
    public CompletionStage<Decision<PolicySettings>> setPolicy(String accountId, PolicySettings settings) {
        return change(accountId, ledger -> Decision.granted(ledger.setPolicy(settings)));
    }

    @Override
    public CompletionStage<Decision<PolicySettings>> policy(String accountId) {
        return inAccount(accountId, ledger -> Decision.granted(ledger.policy()));
    }

    @Override
    public CompletionStage<Decision<LicenseUsage>> usage(String accountId, String product, Instant now) {
        return inAccount(accountId, ledger -> Decision.granted(ledger.usage(product, now)));
    }

    @Override
    public CompletionStage<Set<String>> products(String accountId) {
        Slot slot = slots.get(accountId);
        if (slot == null || accountId.equals(GLOBAL)) {
            return done(Set.of());
        }
        synchronized (slot) {
            return done(slot.ledger.products());
        }
    }

    // ---------------------------------------------------------------- sessions

    @Override
    public CompletionStage<Decision<Session>> acquire(String accountId, AcquireRequest request) {
        return change(accountId, ledger -> ledger.acquire(request));
    }

    @Override
    public CompletionStage<Decision<Session>> renew(String accountId, String sessionId, String userId, Instant now, Instant newExpiry) {
        return inAccount(accountId, ledger -> ledger.renew(sessionId, userId, now, newExpiry));
    }

    @Override
    public CompletionStage<Decision<Boolean>> release(String accountId, String sessionId, String userId, Instant now) {
        return change(accountId, ledger -> ledger.release(sessionId, userId, now));
    }

    @Override
    public CompletionStage<Decision<Boolean>> terminate(String accountId, String sessionId, Instant now) {
        return change(accountId, ledger -> Decision.granted(ledger.terminate(sessionId, now)));
    }

    @Override
    public CompletionStage<Decision<SessionPage>> sessions(String accountId, SessionQuery query) {
        return inAccount(accountId, ledger -> Decision.granted(ledger.sessions(query)));
    }

    @Override
    public CompletionStage<Decision<Optional<Session>>> session(String accountId, String sessionId) {
        return inAccount(accountId, ledger -> Decision.granted(Optional.ofNullable(ledger.session(sessionId))));
    }

    @Override
    public CompletionStage<Decision<Optional<Seat>>> seat(String accountId, String product, String userId, Instant now) {
        return inAccount(accountId, ledger -> Decision.granted(Optional.ofNullable(ledger.seat(product, userId))));
    }

    @Override
    public CompletionStage<Decision<List<Machine>>> machines(String accountId, String product, Instant now) {
        return inAccount(accountId, ledger -> Decision.granted(ledger.machines(product, now)));
    }

    @Override
    public CompletionStage<Decision<Boolean>> deactivateMachine(String accountId, String product, String machineId, Instant now) {
        return change(accountId, ledger -> Decision.granted(ledger.deactivateMachine(product, machineId, now)));
    }

    @Override
    public CompletionStage<Decision<OfflineLicense>> issueOfflineLicense(String accountId, String product, String machineId,
                                                                         String userId, Instant expiresAt, Duration maxLength,
                                                                         Instant now) {
        return change(accountId, ledger -> ledger.issueOfflineLicense(product, machineId, userId, expiresAt, maxLength, now));
    }

    // ---------------------------------------------------------------- seats

    @Override
    public CompletionStage<Decision<LicensedUser>> grantLicense(String accountId, String product, String userId, String poolId, Instant now) {
        return change(accountId, ledger -> ledger.grantLicense(product, userId, poolId, now));
    }

    @Override
    public CompletionStage<Decision<Boolean>> removeLicense(String accountId, String product, String userId, Instant now) {
        return change(accountId, ledger -> ledger.removeLicense(product, userId, now));
    }

    @Override
    public CompletionStage<Decision<LicensedUser>> transferLicense(String accountId, String product, String fromUserId,
                                                                   String toUserId, String poolId, Instant now) {
        return change(accountId, ledger -> ledger.transferLicense(product, fromUserId, toUserId, poolId, now));
    }

    @Override
    public CompletionStage<Decision<Page<LicensedUser>>> licensedUsers(String accountId, SeatQuery query, Instant now) {
        return inAccount(accountId, ledger -> Decision.granted(ledger.licensedUsers(query, now)));
    }

    @Override
    public CompletionStage<Decision<Activation>> activate(String accountId, ActivationRequest request) {
        return change(accountId, ledger -> ledger.activate(request));
    }

    @Override
    public CompletionStage<Decision<Page<Activation>>> activations(String accountId, SeatQuery query, Instant now) {
        return inAccount(accountId, ledger -> Decision.granted(ledger.activations(query, now)));
    }

    // ---------------------------------------------------------------- usage history

    @Override
    public CompletionStage<Decision<List<UsageSeries>>> usageHistory(String accountId, HistoryQuery query, Instant now) {
        return inAccount(accountId, ledger -> ledger.history().usageHistory(query, now));
    }

    @Override
    public CompletionStage<Decision<List<DenialRow>>> denialReport(String accountId, DenialQuery query, Instant now) {
        return inAccount(accountId, ledger -> ledger.history().denialReport(query, now));
    }

    @Override
    public CompletionStage<Integer> expireLeases(Instant now) {
        AccountSlots.Expired expired = slots.expireLeases(now, this::position);
        maybeCompact();
        return durable(expired.position(), expired.count());
    }

    // ---------------------------------------------------------------- maintenance

    /** Compacts the journal into a snapshot when the log has grown past its threshold. */
    public void maybeCompact() {
        if (journal instanceof FileJournal file && file.logBytes() > compactAfterBytes) {
            compact();
        }
    }

    /** Writes a snapshot of every account and drops the log it replaces. */
    public void compact() {
        if (journal == null) {
            return;
        }
        journal.compact(slots.snapshotSource());
    }

    /** Every broken invariant of every account (empty when all hold); for tests and checks. */
    public List<String> invariantViolations() {
        return slots.invariantViolations();
    }

    @Override
    public void close() {
        if (journal != null) {
            // What the minute in progress counted goes to disk too: only a crash loses it.
            if (refusal() == null) {
                slots.flushHistory();
            }
            journal.close();
        }
    }

    /** Whether changes can be acknowledged now: false while the journal's disk fails (health reports it). */
    public boolean writable() {
        return refusal() == null;
    }

    /** {@code listener} runs each time {@link #writable} may have changed (on the journal's thread: keep it short). */
    public void onWritableChange(Runnable listener) {
        if (journal instanceof FileJournal file) {
            file.onWritableChange(listener);
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Why a change would be refused now, or null. */
    private StoreUnavailableException refusal() {
        return journal instanceof FileJournal file ? file.unwritable() : null;
    }

    /**
     * A call that changes the ledger: refused before it changes anything while the journal
     * cannot write (it could not be acknowledged). Renewals are not journaled, so they go on.
     */
    private <T> CompletionStage<Decision<T>> change(String accountId, Function<AccountLedger, Decision<T>> verb) {
        StoreUnavailableException refused = refusal();
        if (refused != null) {
            return CompletableFuture.failedFuture(refused);
        }
        return inAccount(accountId, verb);
    }

    private <T> CompletionStage<Decision<T>> inAccount(String accountId, Function<AccountLedger, Decision<T>> verb) {
        Slot slot = slots.get(accountId);
        if (slot == null) {
            return done(Refusals.accountNotFound(accountId));
        }
        Decision<T> result;
        long position;
        boolean changed;
        synchronized (slot) {
            if (slot.ledger.account() == null && !accountId.equals(GLOBAL)) {
                return done(Refusals.accountNotFound(accountId));
            }
            long seq = slot.ledger.seq();
            result = verb.apply(slot.ledger);
            changed = slot.ledger.seq() != seq;
            position = position();
        }
        if (!changed && refusal() != null) {
            // A read (or renewal) while the disk fails: answered from memory, which may hold
            // changes whose callers were refused; they are written once the disk is writable.
            return done(result);
        }
        // Whatever this call saw or did must be on disk before the caller hears of it.
        return durable(position, result);
    }

    private long position() {
        return journal == null ? 0 : journal.position();
    }

    private <T> CompletionStage<T> durable(long position, T value) {
        if (journal == null || position == 0) {
            return done(value);
        }
        return journal.whenDurable(position).thenApply(v -> value);
    }

    private static <T> CompletionStage<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }
}
