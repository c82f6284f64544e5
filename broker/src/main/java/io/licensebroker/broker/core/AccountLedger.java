package io.licensebroker.broker.core;

import io.licensebroker.broker.core.LedgerEvent.CredentialAdded;
import io.licensebroker.broker.core.LedgerEvent.CredentialRevoked;
import io.licensebroker.broker.core.LedgerEvent.DedicatedSet;
import io.licensebroker.broker.core.LedgerEvent.HistoryRestored;
import io.licensebroker.broker.core.LedgerEvent.MachineRegistered;
import io.licensebroker.broker.core.LedgerEvent.PolicySet;
import io.licensebroker.broker.core.LedgerEvent.SessionEnded;
import io.licensebroker.broker.core.LedgerEvent.SessionStarted;
import io.licensebroker.broker.core.LedgerEvent.UsageRecorded;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * All state of one account and every rule that changes it: the organization tree, dedicated
 * licenses and pool arithmetic, users, usage policy, sessions as leases, machines, offline licenses.
 *
 * <p>Not thread-safe: its owner serializes calls (one lock or one writer per account), which is
 * what lets accounts never contend. Each verb checks the rules, then applies its effect as
 * {@link LedgerEvent}s that go to the {@link Journal}; {@link #replay} applies journaled events
 * without checks. The invariant {@code 0 <= inUse <= pool} and {@code allocated <= dedicated}
 * holds after every verb (see {@link #invariantViolations}).
 *
 * <p>This class is the facade and the event log (emit, apply, replay, export); the parts are
 * package-private: {@link AccountConfiguration} (configuration, its rules, the pools),
 * {@link SessionTable} (live sessions as leases), {@link SessionRules} (acquire, renew, release,
 * expiry), {@link MachineRules} (machines, offline licenses) and {@link SharedStoreView} (what a
 * shared store asks to decide with the core).
 */
public final class AccountLedger {

    private final String accountId;
    private final Journal journal;
    private long seq;
    private final AccountConfiguration config;
    private final SessionTable sessions;
    private final SessionRules sessionRules;
    private final MachineRules machineRules;
    private final SeatRules seatRules;
    private final SharedStoreView shared;
    private final UsageHistory history;

    public AccountLedger(String accountId, Journal journal, Duration tombstoneRetention) {
        this.accountId = Objects.requireNonNull(accountId, "accountId");
        this.journal = Objects.requireNonNull(journal, "journal");
        this.sessions = new SessionTable(Objects.requireNonNull(tombstoneRetention, "tombstoneRetention"));
        // One sink for the ledger's lifetime: the rules emit through it without allocating per call.
        Consumer<LedgerEvent> sink = this::emit;
        this.config = new AccountConfiguration(accountId, sink);
        this.sessionRules = new SessionRules(config, sessions, sink);
        this.machineRules = new MachineRules(config, sessions, sink);
        this.seatRules = new SeatRules(config, sessions, sink);
        this.shared = new SharedStoreView(config);
        this.history = config.history;
    }

    public String accountId() {
        return accountId;
    }

    /** The number of events applied so far (the last journaled sequence number). */
    public long seq() {
        return seq;
    }

    /** Null until {@link #create} ran (or was replayed). */
    public Account account() {
        return config.account;
    }

    public PolicySettings policy() {
        return config.policy;
    }

    // ---------------------------------------------------------------- configuration

    public void create(Account newAccount) {
        config.create(newAccount);
    }

    public void addCredential(Credential credential) {
        emit(new CredentialAdded(credential));
    }

    /** The live credentials (revoked ones are not). */
    public List<Credential> credentials() {
        return config.credentials();
    }

    /** Revokes one of this ledger's credentials; CREDENTIAL_NOT_FOUND when none live has that id. */
    public Decision<Credential> revokeCredential(String lookupId) {
        return config.revokeCredential(lookupId);
    }

    /** Whether a credential was ever added here, revoked ones included. */
    public boolean everHadCredentials() {
        return config.everHadCredentials();
    }

    /** Changing the model of a subscription that has sessions or seats is LICENSE_MODEL_MISMATCH. */
    public Decision<Subscription> setSubscription(String product, long licenses, long machineQuota, Instant expiresAt,
                                                  LicenseModel model, Instant now) {
        return config.setSubscription(product, licenses, machineQuota, expiresAt, model, now);
    }

    /** A session (KRE) subscription. */
    public Decision<Subscription> setSubscription(String product, long licenses, long machineQuota, Instant expiresAt, Instant now) {
        return setSubscription(product, licenses, machineQuota, expiresAt, LicenseModel.SESSION, now);
    }

    public Subscription subscription(String product) {
        PoolBook book = config.bookOrNull(product);
        return book == null ? null : book.subscription;
    }

    public Decision<Organization> createOrganization(String orgId, String parentId, String name) {
        return config.createOrganization(orgId, parentId, name);
    }

    public boolean hasOrganization(String orgId) {
        return config.orgs.contains(orgId);
    }

    /** Parents before children, siblings in creation order. */
    public List<Organization> organizations() {
        return config.organizations();
    }

    /**
     * Sets org's dedicated licenses. Increasing by k needs {@code k <= available(parent)};
     * decreasing to {@code d > 0} needs {@code d >= inUse + allocated}; 0 revokes the whole
     * subtree and moves its live sessions to the organization's parent.
     */
    public Decision<LicenseUsage> setDedicated(String orgId, String product, long licenses, Instant now) {
        history.advance(now);
        return config.setDedicated(orgId, product, licenses, now);
    }

    public Decision<User> upsertUser(String userId, String assignedOrgId, List<String> projectOrgIds) {
        return config.upsertUser(userId, assignedOrgId, projectOrgIds);
    }

    public User user(String userId) {
        return config.user(userId);
    }

    public List<User> users() {
        return config.users();
    }

    public PolicySettings setPolicy(PolicySettings settings) {
        emit(new PolicySet(settings));
        return settings;
    }

    // ---------------------------------------------------------------- sessions

    /**
     * Takes one license for a session, from the first pool of the user's {@link AcquirePlan} with
     * an available license; or returns the live session already started with the same request id.
     */
    public Decision<Session> acquire(AcquireRequest r) {
        history.advance(r.now());
        return history.counted(sessionRules.acquire(r), r.product(), r.userId(), null, r.now());
    }

    /**
     * The answer to an acquire whose request id already names a live session: that session again,
     * or a refusal when the request asked for another product or machine.
     */
    public static Decision<Session> sameRequest(Session existing, AcquireRequest r) {
        return SessionRules.sameRequest(existing, r);
    }

    /**
     * Extends a live session's lease. {@code userId} null skips the ownership check (admin).
     * A session whose lease already ran out ends now as expired.
     */
    public Decision<Session> renew(String sessionId, String userId, Instant now, Instant newExpiry) {
        // Renewals journal nothing (they go on while the disk fails): a lease that ran out counts in the open minute.
        history.open(now);
        return sessionRules.renew(sessionId, userId, now, newExpiry);
    }

    /** Ends a session by its agent. False when it had already ended. */
    public Decision<Boolean> release(String sessionId, String userId, Instant now) {
        history.advance(now);
        return sessionRules.release(sessionId, userId, now);
    }

    /** Ends a session by an admin; its next renew answers SESSION_TERMINATED. */
    public boolean terminate(String sessionId, Instant now) {
        history.advance(now);
        return sessionRules.terminate(sessionId, now);
    }

    public Session session(String sessionId) {
        return sessions.get(sessionId);
    }

    public int liveSessions() {
        return sessions.size();
    }

    /** The earliest lease end among live sessions, or null when there are none. */
    public Instant nextExpiry() {
        return sessions.nextExpiry();
    }

    /**
     * Ends every session whose lease ran out by {@code now}, at most {@code max} of them; forgets
     * old tombstones. Costs what expires, not what lives. Returns how many sessions expired.
     */
    public int expire(Instant now, int max) {
        history.advance(now);
        return sessionRules.expire(now, max);
    }


    /**
     * After a restart: renewals were not journaled, so every recovered session gets a lease to at
     * least {@code until}. Agents that are alive renew within it; dead ones expire after it.
     */
    public void extendLeases(Instant until) {
        sessions.extendLeases(until);
    }

    public SessionPage sessions(SessionQuery q) {
        return sessions.page(q);
    }

    // ---------------------------------------------------------------- machines and offline licenses

    public List<Machine> machines(String product, Instant now) {
        return machineRules.machines(product, now);
    }

    /**
     * Unregisters a machine and ends its live sessions (as terminated). A machine bound to a live
     * offline license stays registered, since that license cannot be revoked. True when the
     * registration was removed or a session ended.
     */
    public boolean deactivateMachine(String product, String machineId, Instant now) {
        history.advance(now);
        return machineRules.deactivateMachine(product, machineId, now);
    }

    /**
     * Binds one account license to a machine until {@code expiresAt} (at most {@code maxLength}
     * ahead and never past the subscription's expiry).
     */
    public Decision<OfflineLicense> issueOfflineLicense(String product, String machineId, String userId, Instant expiresAt,
                                                        Duration maxLength, Instant now) {
        return machineRules.issueOfflineLicense(product, machineId, userId, expiresAt, maxLength, now);
    }

    /** An offline license of a session product. */
    public Decision<OfflineLicense> issueOfflineLicense(String product, String machineId, Instant expiresAt,
                                                        Duration maxLength, Instant now) {
        return issueOfflineLicense(product, machineId, null, expiresAt, maxLength, now);
    }

    // ---------------------------------------------------------------- seats

    /**
     * Gives the user a seat of {@code poolId} (null: the user's assigned organization, else the
     * account), which needs an available license there; the seat already held when there is one.
     */
    public Decision<LicensedUser> grantLicense(String product, String userId, String poolId, Instant now) {
        history.advance(now);
        return history.counted(seatRules.grant(product, userId, poolId, now), product, userId, poolId, now);
    }

    /** Frees the seat and ends its activations; false when the user held none. */
    public Decision<Boolean> removeLicense(String product, String userId, Instant now) {
        history.advance(now);
        return seatRules.remove(product, userId, now);
    }

    /** Remove and grant as one step; {@code poolId} null keeps the seat's pool. */
    public Decision<LicensedUser> transferLicense(String product, String fromUserId, String toUserId, String poolId, Instant now) {
        history.advance(now);
        return seatRules.transfer(product, fromUserId, toUserId, poolId, now);
    }

    public Page<LicensedUser> licensedUsers(SeatQuery query, Instant now) {
        return seatRules.licensedUsers(query, now);
    }

    /** Binds a node-locked seat to a machine, or starts (takes over) a floating seat's lease. */
    public Decision<Activation> activate(ActivationRequest request) {
        history.advance(request.now());
        return history.counted(seatRules.activate(request), request.product(), request.userId(), null, request.now());
    }

    public Page<Activation> activations(SeatQuery query, Instant now) {
        return seatRules.activations(query, now);
    }

    // ---------------------------------------------------------------- usage and its history

    /** The account's usage history and denial log (CONTRACT.md section 7). */
    public UsageHistory history() {
        return history;
    }

    /** The license management table of one product, from this one consistent state. */
    public LicenseUsage usage(String product, Instant now) {
        return config.usage(product, now);
    }

    /** The products this account has any state for. */
    public Set<String> products() {
        return config.products();
    }

    /**
     * Every broken invariant, as text (empty when all hold): {@code 0 <= inUse <= pool},
     * {@code allocated <= dedicated}, allocated equals the children's dedicated, inUse equals the
     * live sessions of the pool.
     */
    public List<String> invariantViolations() {
        List<String> out = new ArrayList<>();
        PoolInvariants.check(config, sessions.countByPool(), out);
        return out;
    }

    // ---------------------------------------------------------------- events

    /**
     * Applies a journaled event during recovery; events the ledger already holds are skipped.
     * Snapshot events carry seq 0: they are applied as they come, and {@link #restoreSeq} follows them.
     */
    public void replay(long eventSeq, LedgerEvent event) {
        if (eventSeq != 0 && eventSeq <= seq) {
            return;
        }
        // Replayed changes were recorded when they were made: their history comes in its own events.
        boolean recording = history.recording();
        history.recording(false);
        try {
            apply(event);
        } finally {
            history.recording(recording);
        }
        if (eventSeq != 0) {
            seq = eventSeq;
        }
    }

    /**
     * The shortest event sequence that rebuilds this state (a snapshot). Replaying it into an
     * empty ledger, then {@link #restoreSeq} with {@link #seq()}, gives an equal ledger.
     */
    public void export(Consumer<LedgerEvent> out) {
        config.export(out);
        sessions.export(out);
        history.export(out);
    }

    /** After replaying an {@link #export}: the sequence number the exported state stood at. */
    public void restoreSeq(long exportedSeq) {
        if (exportedSeq < seq) {
            throw new IllegalStateException("sequence cannot go back: " + exportedSeq + " < " + seq);
        }
        seq = exportedSeq;
    }

    private void emit(LedgerEvent event) {
        apply(event);
        journal.record(accountId, ++seq, event);
    }

    private void apply(LedgerEvent event) {
        if (event instanceof UsageRecorded || event instanceof HistoryRestored) {
            history.apply(event);
        } else if (event instanceof SessionStarted e) {
            sessions.start(e.session());
            config.countStarted(e.session());
        } else if (event instanceof SessionEnded e) {
            Session s = sessions.end(e);
            if (s != null) {
                config.countEnded(s);
            }
        } else {
            if (event instanceof DedicatedSet e && e.licenses() == 0) {
                // A revoke moves the subtree's live sessions to the parent; the configuration moves the counts.
                Set<String> subtree = new HashSet<>(config.orgs.subtree(e.orgId()));
                sessions.moveToPool(e.product(), subtree, config.orgs.parentKey(config.orgs.get(e.orgId())));
            }
            config.apply(event);
        }
    }

    // ---------------------------------------------------------------- a shared store's configuration

    /**
     * A ledger rebuilt from {@link #exportConfiguration}: what a node of a shared store decides
     * from. It holds no sessions or machines; {@link #observe} tells it what the store counted.
     */
    public static AccountLedger ofConfiguration(String accountId, List<LedgerEvent> configuration, Journal changes) {
        AccountLedger ledger = new AccountLedger(accountId, changes, Duration.ofMillis(1));
        // The store records history itself (from what it counts), not the mirror.
        ledger.history.recording(false);
        configuration.forEach(ledger::apply);
        return ledger;
    }

    /**
     * The configuration alone (account, policy, organizations, users, subscriptions, dedicated
     * licenses, offline licenses): no credentials, machines, sessions or tombstones.
     */
    public List<LedgerEvent> exportConfiguration() {
        List<LedgerEvent> out = new ArrayList<>();
        config.export(event -> {
            if (!(event instanceof CredentialAdded || event instanceof CredentialRevoked || event instanceof MachineRegistered)) {
                out.add(event);
            }
        });
        return out;
    }

    /**
     * What a shared store counted for one product: live sessions per pool, registered machines, and
     * which of the machines a verb is about are registered. The rules then decide from these.
     */
    public void observe(String product, Map<String, Long> inUseByPool, long registeredMachines, Set<String> registeredAmongAsked) {
        shared.observe(product, inUseByPool, registeredMachines, registeredAmongAsked);
    }

    /** The account pool, then every organization in creation order. */
    public List<String> poolIds() {
        return shared.poolIds();
    }

    /** Every pool's size ({@code dedicated - allocated}) for the product, in {@link #poolIds} order. */
    public Map<String, Long> poolSizes(String product) {
        return shared.poolSizes(product);
    }

    /** The organization and every organization below it. */
    public List<String> subtree(String orgId) {
        return config.orgs.subtree(orgId);
    }

    /** The pool an organization's licenses come from: its parent's, or the account pool. */
    public String parentPoolId(String orgId) {
        return shared.parentPoolId(orgId);
    }

    /** Whether the machine is registered for the product (as the store counted, for a mirror). */
    public boolean isRegistered(String product, String machineId) {
        return shared.isRegistered(product, machineId);
    }

    /** Whether a live offline license binds the machine (its registration then cannot be removed). */
    public boolean holdsOfflineLicense(String product, String machineId, Instant now) {
        return liveOfflineLicense(product, machineId, now) != null;
    }

    /** The machine's offline license while it is live, else null. */
    public OfflineLicense liveOfflineLicense(String product, String machineId, Instant now) {
        return shared.liveOfflineLicense(product, machineId, now);
    }

    /** The product's license model (SESSION without a subscription). */
    public LicenseModel model(String product) {
        PoolBook book = config.bookOrNull(product);
        return book == null ? LicenseModel.SESSION : book.model();
    }

    /**
     * The seat an activation by {@code userId} draws on (the subscription is live, the product has
     * seats, the user holds one), for a store that keeps floating leases itself; or the refusal.
     */
    public Decision<Seat> seatToActivate(String product, String userId, Instant now) {
        return seatRules.activatable(product, userId, now);
    }

    /** The request key of a floating lease: one live lease per seat and machine. */
    public static String leaseKey(String product, String machineId) {
        return SeatRules.leaseKey(product, machineId);
    }

    /**
     * {@link #activations} for a store that keeps floating leases itself: the node-locked bindings
     * of this configuration and {@code leases}, the live floating activations the store found.
     */
    public Page<Activation> activations(SeatQuery query, List<Activation> leases) {
        return seatRules.activations(query, leases);
    }

    /** The user's seat of the product, or null. */
    public Seat seat(String product, String userId) {
        PoolBook book = config.bookOrNull(product);
        return book == null ? null : book.seats.get(userId);
    }

    /**
     * What an acquire by {@code userId} may take, for a store that counts sessions itself: the
     * user's {@link AcquirePlan} as pools with their sizes (see {@link AcquireCandidates}).
     */
    public AcquireCandidates acquireCandidates(String product, String userId) {
        return shared.acquireCandidates(product, userId);
    }
}
