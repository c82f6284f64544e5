package io.licensebroker.broker.core;

import io.licensebroker.broker.core.AcquirePlan.AnyOrganizationStep;
import io.licensebroker.broker.core.AcquirePlan.PoolStep;
import io.licensebroker.broker.core.LedgerEvent.AccountCreated;
import io.licensebroker.broker.core.LedgerEvent.CredentialAdded;
import io.licensebroker.broker.core.LedgerEvent.CredentialRevoked;
import io.licensebroker.broker.core.LedgerEvent.DedicatedSet;
import io.licensebroker.broker.core.LedgerEvent.MachineDeactivated;
import io.licensebroker.broker.core.LedgerEvent.MachineRegistered;
import io.licensebroker.broker.core.LedgerEvent.OfflineLicenseExpired;
import io.licensebroker.broker.core.LedgerEvent.OfflineLicenseIssued;
import io.licensebroker.broker.core.LedgerEvent.OrganizationCreated;
import io.licensebroker.broker.core.LedgerEvent.PolicySet;
import io.licensebroker.broker.core.LedgerEvent.SessionEnded;
import io.licensebroker.broker.core.LedgerEvent.SessionStarted;
import io.licensebroker.broker.core.LedgerEvent.SubscriptionSet;
import io.licensebroker.broker.core.LedgerEvent.UserUpserted;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
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
 */
public final class AccountLedger {

    /** How many run-out leases an acquire ends on its way (the reaper ends the rest). */
    private static final int LAZY_EXPIRY_BATCH = 16;

    private final String accountId;
    private final Journal journal;
    private final Duration tombstoneRetention;
    private long seq;

    private Account account;
    private PolicySettings policy = PolicySettings.DEFAULT;
    private final List<Credential> credentials = new ArrayList<>();
    /** Revoked credentials, kept so that a snapshot replays their history (and "ever had" stays true). */
    private final List<Credential> revoked = new ArrayList<>();
    private final Map<String, Organization> orgs = new LinkedHashMap<>();
    private final Map<String, Integer> orgOrdinals = new HashMap<>();
    /** Children by parent id; top-level organizations are keyed by the account id. */
    private final Map<String, List<String>> children = new HashMap<>();
    private final Map<String, User> users = new LinkedHashMap<>();
    private final Map<String, PoolBook> books = new HashMap<>();
    private static final Comparator<Session> BY_LEASE_END =
            Comparator.comparingLong(Session::leaseExpiresAtMillis).thenComparing(Session::id);

    private final Map<String, Session> sessions = new HashMap<>();
    /** The live sessions by lease end, so expiry costs what expires, whatever order leases were given in. */
    private final TreeSet<Session> leases = new TreeSet<>(BY_LEASE_END);
    /** userId -> (requestId -> live session id), for idempotent acquires; no key strings are built. */
    private final Map<String, Map<String, String>> byRequest = new HashMap<>();
    /** Recently ended sessions, so a late renew learns why (expired, terminated); oldest first. */
    private final LinkedHashMap<String, Tombstone> tombstones = new LinkedHashMap<>();

    private record Tombstone(Reason cause, Instant at) {
    }

    public AccountLedger(String accountId, Journal journal, Duration tombstoneRetention) {
        this.accountId = Objects.requireNonNull(accountId, "accountId");
        this.journal = Objects.requireNonNull(journal, "journal");
        this.tombstoneRetention = Objects.requireNonNull(tombstoneRetention, "tombstoneRetention");
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
        return account;
    }

    public PolicySettings policy() {
        return policy;
    }

    // ---------------------------------------------------------------- configuration

    public void create(Account newAccount) {
        if (!newAccount.id().equals(accountId)) {
            throw new IllegalArgumentException("account id " + newAccount.id() + " does not belong to ledger " + accountId);
        }
        emit(new AccountCreated(newAccount));
    }

    public void addCredential(Credential credential) {
        emit(new CredentialAdded(credential));
    }

    /** The live credentials (revoked ones are not). */
    public List<Credential> credentials() {
        return List.copyOf(credentials);
    }

    /** Revokes one of this ledger's credentials; CREDENTIAL_NOT_FOUND when none live has that id. */
    public Decision<Credential> revokeCredential(String lookupId) {
        for (Credential c : credentials) {
            if (c.lookupId().equals(lookupId)) {
                emit(new CredentialRevoked(lookupId));
                return Decision.granted(c);
            }
        }
        return Decision.denied(Reason.CREDENTIAL_NOT_FOUND, "no credential " + lookupId, null);
    }

    /** Whether a credential was ever added here, revoked ones included. */
    public boolean everHadCredentials() {
        return !credentials.isEmpty() || !revoked.isEmpty();
    }

    public Decision<Subscription> setSubscription(String product, long licenses, long machineQuota, Instant expiresAt, Instant now) {
        PoolBook book = book(product);
        pruneOffline(book, now);
        long floor = book.root.allocated + book.root.inUse + book.offline.size();
        if (book.subscription != null && licenses < floor) {
            return Decision.denied(Reason.BELOW_IN_USE,
                    "licenses " + licenses + " is below what is allocated, in use and offline (" + floor + ")", "licenses");
        }
        Subscription s = new Subscription(accountId, product, licenses, machineQuota, expiresAt);
        emit(new SubscriptionSet(s));
        return Decision.granted(s);
    }

    public Subscription subscription(String product) {
        PoolBook book = books.get(product);
        return book == null ? null : book.subscription;
    }

    public Decision<Organization> createOrganization(String orgId, String parentId, String name) {
        if (orgs.containsKey(orgId)) {
            return Decision.denied(Reason.ALREADY_EXISTS, "organization " + orgId + " already exists", "org_id");
        }
        if (parentId != null && !orgs.containsKey(parentId)) {
            return Refusals.organizationNotFound(accountId, parentId, "parent_id");
        }
        Organization org = new Organization(orgId, accountId, parentId, name);
        emit(new OrganizationCreated(org));
        return Decision.granted(org);
    }

    public boolean hasOrganization(String orgId) {
        return orgs.containsKey(orgId);
    }

    /** Parents before children, siblings in creation order. */
    public List<Organization> organizations() {
        List<Organization> out = new ArrayList<>(orgs.size());
        forEachOrgPreorder(out::add);
        return out;
    }

    /**
     * Sets org's dedicated licenses. Increasing by k needs {@code k <= available(parent)};
     * decreasing to {@code d > 0} needs {@code d >= inUse + allocated}; 0 revokes the whole
     * subtree and moves its live sessions to the organization's parent.
     */
    public Decision<LicenseUsage> setDedicated(String orgId, String product, long licenses, Instant now) {
        Organization org = orgs.get(orgId);
        if (org == null) {
            return Decision.denied(Reason.ORGANIZATION_NOT_FOUND, "no organization " + orgId, "org_id");
        }
        PoolBook book = book(product);
        pruneOffline(book, now);
        PoolBook.Pool pool = orgPool(book, orgId);
        PoolBook.Pool parent = parentPool(book, org);
        long current = pool.dedicated;
        if (licenses > current) {
            long increase = licenses - current;
            if (increase > parent.available()) {
                return Decision.denied(Reason.INSUFFICIENT_LICENSES, "cannot add " + increase + " licenses to " + orgId
                        + ": " + parentName(org) + " has " + Math.max(0, parent.available()) + " available", "licenses");
            }
        } else if (licenses > 0 && licenses < current && licenses < pool.inUse + pool.allocated) {
            return Decision.denied(Reason.BELOW_IN_USE, "cannot reduce " + orgId + " to " + licenses + ": "
                    + pool.inUse + " in use and " + pool.allocated + " allocated to sub-organizations", "licenses");
        }
        if (licenses != current) {
            emit(new DedicatedSet(orgId, product, licenses));
        }
        return Decision.granted(usage(product, now));
    }

    public Decision<User> upsertUser(String userId, String assignedOrgId, List<String> projectOrgIds) {
        if (assignedOrgId != null && !orgs.containsKey(assignedOrgId)) {
            return Refusals.organizationNotFound(accountId, assignedOrgId, "assigned_org_id");
        }
        Set<String> projects = new LinkedHashSet<>(projectOrgIds);
        for (String org : projects) {
            if (!orgs.containsKey(org)) {
                return Refusals.organizationNotFound(accountId, org, "project_org_ids");
            }
        }
        User user = new User(accountId, userId, assignedOrgId, List.copyOf(projects));
        emit(new UserUpserted(user));
        return Decision.granted(user);
    }

    public User user(String userId) {
        return users.get(userId);
    }

    public List<User> users() {
        return List.copyOf(users.values());
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
        // A lease that ran out frees its license now, not at the reaper's next pass.
        endExpiredLeases(r.now(), LAZY_EXPIRY_BATCH);
        PoolBook book = books.get(r.product());
        if (book == null || book.subscription == null) {
            return Refusals.noSubscription(accountId, r.product());
        }
        if (book.subscription.isExpiredAt(r.now())) {
            return Refusals.subscriptionExpired(r.product(), book.subscription.expiresAt());
        }
        User user = users.get(r.userId());
        if (user == null) {
            return Refusals.unknownAgentUser(accountId, r.userId());
        }
        if (!r.requestId().isEmpty()) {
            String existingId = byRequest.getOrDefault(r.userId(), Map.of()).get(r.requestId());
            Session existing = existingId == null ? null : sessions.get(existingId);
            if (existing != null) {
                if (r.now().isBefore(existing.leaseExpiresAt())) {
                    return sameRequest(existing, r);
                }
                emit(new SessionEnded(existing.id(), Reason.SESSION_EXPIRED, r.now()));
            }
        }
        pruneOffline(book, r.now());
        boolean newMachine = !book.isRegistered(r.machineId());
        if (newMachine && book.registeredMachines() >= book.subscription.machineQuota()) {
            return Refusals.machineQuotaOnAcquire(book.subscription.machineQuota());
        }
        AcquirePlan plan = AcquirePlan.resolve(accountId, policy, user);
        PoolBook.Pool chosen = null;
        boolean fallback = false;
        for (AcquirePlan.Step step : plan.steps()) {
            if (step instanceof PoolStep ps) {
                PoolBook.Pool p = book.pools.get(ps.poolId());
                if (p != null && p.available() > 0) {
                    chosen = p;
                    fallback = ps.fallback();
                    break;
                }
            } else if (step instanceof AnyOrganizationStep) {
                Map.Entry<Integer, PoolBook.Pool> first = book.roomyOrgs.firstEntry();
                if (first != null) {
                    chosen = first.getValue();
                    break;
                }
            }
        }
        if (chosen == null) {
            return Refusals.exhausted(plan.exhaustedReason(), r.userId());
        }
        if (newMachine) {
            emit(new MachineRegistered(r.product(), r.machineId(), r.now()));
        }
        Session session = new Session(r.newSessionId(), accountId, book.product, user.userId(),
                canonicalMachineId(book, r.machineId()), chosen.id, fallback, r.requestId(), r.now(), r.leaseExpiresAt());
        emit(new SessionStarted(session));
        return Decision.granted(session);
    }

    /**
     * Extends a live session's lease. {@code userId} null skips the ownership check (admin).
     * A session whose lease already ran out ends now as expired.
     */
    public Decision<Session> renew(String sessionId, String userId, Instant now, Instant newExpiry) {
        Session s = sessions.get(sessionId);
        if (s == null) {
            return gone(sessionId);
        }
        if (userId != null && !s.userId().equals(userId)) {
            return Refusals.notTheOwner(sessionId);
        }
        if (!now.isBefore(s.leaseExpiresAt())) {
            emit(new SessionEnded(sessionId, Reason.SESSION_EXPIRED, now));
            return Refusals.leaseRanOut(sessionId, s.leaseExpiresAt());
        }
        PoolBook book = books.get(s.product());
        if (book.subscription.isExpiredAt(now)) {
            return Refusals.subscriptionExpired(s.product(), book.subscription.expiresAt());
        }
        Session renewed = s.withLease(newExpiry.isAfter(s.leaseExpiresAt()) ? newExpiry : s.leaseExpiresAt());
        // Renewals are not journaled: a restart re-leases every recovered session instead (see extendLeases).
        replaceSession(s, renewed);
        return Decision.granted(renewed);
    }

    /** Ends a session by its agent. False when it had already ended. */
    public Decision<Boolean> release(String sessionId, String userId, Instant now) {
        Session s = sessions.get(sessionId);
        if (s == null) {
            return Decision.granted(false);
        }
        if (userId != null && !s.userId().equals(userId)) {
            return Refusals.notTheOwner(sessionId);
        }
        emit(new SessionEnded(sessionId, null, now));
        return Decision.granted(true);
    }

    /** Ends a session by an admin; its next renew answers SESSION_TERMINATED. */
    public boolean terminate(String sessionId, Instant now) {
        if (!sessions.containsKey(sessionId)) {
            return false;
        }
        emit(new SessionEnded(sessionId, Reason.SESSION_TERMINATED, now));
        return true;
    }

    public Session session(String sessionId) {
        return sessions.get(sessionId);
    }

    public int liveSessions() {
        return sessions.size();
    }

    /** The earliest lease end among live sessions, or null when there are none. */
    public Instant nextExpiry() {
        return leases.isEmpty() ? null : leases.first().leaseExpiresAt();
    }

    /**
     * Ends every session whose lease ran out by {@code now}, at most {@code max} of them; forgets
     * old tombstones. Costs what expires, not what lives. Returns how many sessions expired.
     */
    public int expire(Instant now, int max) {
        int expired = endExpiredLeases(now, max);
        Instant horizon = now.minus(tombstoneRetention);
        for (Iterator<Tombstone> it = tombstones.values().iterator(); it.hasNext(); ) {
            if (it.next().at().isAfter(horizon)) {
                break;
            }
            it.remove();
        }
        return expired;
    }

    private int endExpiredLeases(Instant now, int max) {
        int expired = 0;
        while (expired < max && !leases.isEmpty()) {
            Session head = leases.first();
            if (now.isBefore(head.leaseExpiresAt())) {
                break;
            }
            emit(new SessionEnded(head.id(), Reason.SESSION_EXPIRED, now));
            expired++;
        }
        return expired;
    }

    /**
     * After a restart: renewals were not journaled, so every recovered session gets a lease to at
     * least {@code until}. Agents that are alive renew within it; dead ones expire after it.
     */
    public void extendLeases(Instant until) {
        List<Session> all = new ArrayList<>(sessions.values());
        for (Session s : all) {
            if (s.leaseExpiresAt().isBefore(until)) {
                replaceSession(s, s.withLease(until));
            }
        }
    }

    public SessionPage sessions(SessionQuery q) {
        TreeMap<String, Session> matching = new TreeMap<>();
        for (Session s : sessions.values()) {
            if ((q.product() == null || q.product().equals(s.product()))
                    && (q.poolId() == null || q.poolId().equals(s.poolId()))
                    && (q.userId() == null || q.userId().equals(s.userId()))
                    && (q.machineId() == null || q.machineId().equals(s.machineId()))
                    && (q.pageToken() == null || s.id().compareTo(q.pageToken()) > 0)) {
                matching.put(s.id(), s);
            }
        }
        List<Session> page = new ArrayList<>(Math.min(q.pageSize(), matching.size()));
        for (Session s : matching.values()) {
            if (page.size() == q.pageSize()) {
                break;
            }
            page.add(s);
        }
        String next = matching.size() > page.size() ? page.get(page.size() - 1).id() : null;
        return new SessionPage(page, next);
    }

    // ---------------------------------------------------------------- machines and offline licenses

    public List<Machine> machines(String product, Instant now) {
        PoolBook book = books.get(product);
        if (book == null) {
            return List.of();
        }
        pruneOffline(book, now);
        Map<String, Long> live = new HashMap<>();
        for (Session s : sessions.values()) {
            if (s.product().equals(product)) {
                live.merge(s.machineId(), 1L, Long::sum);
            }
        }
        List<Machine> out = new ArrayList<>(book.machines.size());
        book.machines.forEach((id, reg) -> {
            OfflineLicense off = book.offline.get(id);
            out.add(new Machine(id, product, reg.at(), live.getOrDefault(id, 0L), off == null ? null : off.expiresAt()));
        });
        return out;
    }

    /**
     * Unregisters a machine and ends its live sessions (as terminated). A machine bound to a live
     * offline license stays registered, since that license cannot be revoked. True when the
     * registration was removed or a session ended.
     */
    public boolean deactivateMachine(String product, String machineId, Instant now) {
        PoolBook book = books.get(product);
        if (book == null || !book.machines.containsKey(machineId)) {
            return false;
        }
        pruneOffline(book, now);
        List<String> ending = new ArrayList<>();
        for (Session s : sessions.values()) {
            if (s.product().equals(product) && s.machineId().equals(machineId)) {
                ending.add(s.id());
            }
        }
        for (String id : ending) {
            emit(new SessionEnded(id, Reason.SESSION_TERMINATED, now));
        }
        if (book.offline.containsKey(machineId)) {
            return !ending.isEmpty();
        }
        emit(new MachineDeactivated(product, machineId, now));
        return true;
    }

    /**
     * Binds one account license to a machine until {@code expiresAt} (at most {@code maxLength}
     * ahead and never past the subscription's expiry).
     */
    public Decision<OfflineLicense> issueOfflineLicense(String product, String machineId, Instant expiresAt,
                                                        Duration maxLength, Instant now) {
        PoolBook book = books.get(product);
        if (book == null || book.subscription == null) {
            return Refusals.noSubscription(accountId, product);
        }
        if (book.subscription.isExpiredAt(now)) {
            return Refusals.subscriptionExpired(product, book.subscription.expiresAt());
        }
        if (!expiresAt.isAfter(now)) {
            return Decision.denied(Reason.INVALID_ARGUMENT, "expires_at must be in the future: " + expiresAt, "expires_at");
        }
        if (expiresAt.isAfter(now.plus(maxLength))) {
            return Decision.denied(Reason.INVALID_ARGUMENT, "expires_at is more than " + maxLength.toDays() + " days ahead: " + expiresAt, "expires_at");
        }
        if (expiresAt.isAfter(book.subscription.expiresAt())) {
            return Decision.denied(Reason.INVALID_ARGUMENT, "expires_at " + expiresAt + " is past the subscription's expiry "
                    + book.subscription.expiresAt(), "expires_at");
        }
        pruneOffline(book, now);
        if (book.offline.containsKey(machineId)) {
            return Decision.denied(Reason.ALREADY_EXISTS, "machine " + machineId + " already holds a live offline license", "machine_id");
        }
        boolean newMachine = !book.isRegistered(machineId);
        if (newMachine && book.registeredMachines() >= book.subscription.machineQuota()) {
            return Refusals.machineQuotaOnOffline(book.subscription.machineQuota());
        }
        if (book.root.available() < 1) {
            return Decision.denied(Reason.INSUFFICIENT_LICENSES, "the account pool has no available license");
        }
        if (newMachine) {
            emit(new MachineRegistered(product, machineId, now));
        }
        OfflineLicense license = new OfflineLicense(accountId, product, machineId, now, expiresAt);
        emit(new OfflineLicenseIssued(license));
        return Decision.granted(license);
    }

    // ---------------------------------------------------------------- usage

    /** The license management table of one product, from this one consistent state. */
    public LicenseUsage usage(String product, Instant now) {
        PoolBook book = books.get(product);
        if (book != null) {
            pruneOffline(book, now);
        }
        List<PoolRow> rows = new ArrayList<>(orgs.size() + 1);
        String name = account == null ? accountId : account.name();
        PoolBook.Pool root = book == null ? new PoolBook.Pool(accountId, -1) : book.root;
        rows.add(new PoolRow(accountId, name, null, root.dedicated, root.pool(), root.inUse));
        forEachOrgPreorder(org -> {
            PoolBook.Pool p = book == null ? null : book.pools.get(org.id());
            rows.add(p == null
                    ? new PoolRow(org.id(), org.name(), parentKey(org), 0, 0, 0)
                    : new PoolRow(org.id(), org.name(), parentKey(org), p.dedicated, p.pool(), p.inUse));
        });
        return new LicenseUsage(accountId, product, book == null ? null : book.subscription, rows,
                book == null ? 0 : book.registeredMachines(), book == null ? 0 : book.offline.size());
    }

    /** The products this account has any state for. */
    public Set<String> products() {
        return Set.copyOf(books.keySet());
    }

    /**
     * Every broken invariant, as text (empty when all hold): {@code 0 <= inUse <= pool},
     * {@code allocated <= dedicated}, allocated equals the children's dedicated, inUse equals the
     * live sessions of the pool.
     */
    public List<String> invariantViolations() {
        List<String> out = new ArrayList<>();
        Map<String, Long> counted = new HashMap<>();
        for (Session s : sessions.values()) {
            counted.merge(s.product() + "/" + s.poolId(), 1L, Long::sum);
        }
        books.forEach((product, book) -> book.pools.values().forEach(p -> {
            String where = product + "/" + p.id;
            if (p.inUse < 0 || p.inUse > p.pool()) {
                out.add(where + ": in_use " + p.inUse + " outside 0.." + p.pool());
            }
            if (p.allocated > p.dedicated || p.allocated < 0) {
                out.add(where + ": allocated " + p.allocated + " > dedicated " + p.dedicated);
            }
            long childSum = 0;
            for (String child : children.getOrDefault(p.id, List.of())) {
                PoolBook.Pool c = book.pools.get(child);
                childSum += c == null ? 0 : c.dedicated;
            }
            if (childSum != p.allocated) {
                out.add(where + ": allocated " + p.allocated + " != children's dedicated " + childSum);
            }
            long sessionsHere = counted.getOrDefault(where, 0L);
            if (sessionsHere != p.inUse) {
                out.add(where + ": in_use " + p.inUse + " != live sessions " + sessionsHere);
            }
            if (p.ordinal >= 0 && (p.available() > 0) != book.roomyOrgs.containsKey(p.ordinal)) {
                out.add(where + ": room index out of date");
            }
        }));
        return out;
    }

    // ---------------------------------------------------------------- events

    /**
     * Applies a journaled event during recovery; events the ledger already holds are skipped.
     * Snapshot events carry seq 0: they are applied as they come, and {@link #restoreSeq} follows them.
     */
    public void replay(long eventSeq, LedgerEvent event) {
        if (eventSeq == 0) {
            apply(event);
            return;
        }
        if (eventSeq <= seq) {
            return;
        }
        apply(event);
        seq = eventSeq;
    }

    /**
     * The shortest event sequence that rebuilds this state (a snapshot). Replaying it into an
     * empty ledger, then {@link #restoreSeq} with {@link #seq()}, gives an equal ledger.
     */
    public void export(Consumer<LedgerEvent> out) {
        if (account != null) {
            out.accept(new AccountCreated(account));
        }
        credentials.forEach(c -> out.accept(new CredentialAdded(c)));
        revoked.forEach(c -> {
            out.accept(new CredentialAdded(c));
            out.accept(new CredentialRevoked(c.lookupId()));
        });
        if (!policy.equals(PolicySettings.DEFAULT)) {
            out.accept(new PolicySet(policy));
        }
        // Creation order (parents always come first): it is the order "any other organization" follows.
        List<Organization> ordered = List.copyOf(orgs.values());
        ordered.forEach(o -> out.accept(new OrganizationCreated(o)));
        users.values().forEach(u -> out.accept(new UserUpserted(u)));
        books.forEach((product, book) -> {
            if (book.subscription != null) {
                out.accept(new SubscriptionSet(book.subscription));
            }
            book.machines.forEach((id, reg) -> out.accept(new MachineRegistered(product, id, reg.at())));
            book.offline.values().forEach(l -> out.accept(new OfflineLicenseIssued(l)));
            for (Organization o : ordered) {
                PoolBook.Pool p = book.pools.get(o.id());
                if (p != null && p.dedicated > 0) {
                    out.accept(new DedicatedSet(o.id(), product, p.dedicated));
                }
            }
        });
        sessions.values().forEach(s -> out.accept(new SessionStarted(s)));
        tombstones.forEach((id, t) -> out.accept(new SessionEnded(id, t.cause(), t.at())));
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
        if (event instanceof SessionStarted e) {
            applySessionStarted(e.session());
        } else if (event instanceof SessionEnded e) {
            applySessionEnded(e);
        } else if (event instanceof MachineRegistered e) {
            book(e.product()).machines.putIfAbsent(e.machineId(), new PoolBook.Registration(e.machineId(), e.at()));
        } else if (event instanceof MachineDeactivated e) {
            book(e.product()).machines.remove(e.machineId());
        } else if (event instanceof DedicatedSet e) {
            applyDedicated(e);
        } else if (event instanceof SubscriptionSet e) {
            PoolBook book = book(e.subscription().product());
            book.subscription = e.subscription();
            book.root.dedicated = e.subscription().licenses() - book.offline.size();
        } else if (event instanceof OfflineLicenseIssued e) {
            PoolBook book = book(e.license().product());
            if (book.offline.put(e.license().machineId(), e.license()) == null) {
                book.root.dedicated--;
            }
        } else if (event instanceof OfflineLicenseExpired e) {
            PoolBook book = book(e.product());
            if (book.offline.remove(e.machineId()) != null) {
                book.root.dedicated++;
            }
        } else if (event instanceof OrganizationCreated e) {
            Organization org = e.organization();
            orgs.put(org.id(), org);
            orgOrdinals.put(org.id(), orgOrdinals.size());
            children.computeIfAbsent(parentKey(org), k -> new ArrayList<>()).add(org.id());
        } else if (event instanceof UserUpserted e) {
            users.put(e.user().userId(), e.user());
        } else if (event instanceof PolicySet e) {
            policy = e.settings();
        } else if (event instanceof CredentialAdded e) {
            credentials.add(e.credential());
        } else if (event instanceof CredentialRevoked e) {
            for (java.util.Iterator<Credential> it = credentials.iterator(); it.hasNext(); ) {
                Credential c = it.next();
                if (c.lookupId().equals(e.lookupId())) {
                    it.remove();
                    revoked.add(c);
                }
            }
        } else if (event instanceof AccountCreated e) {
            account = e.account();
        } else {
            throw new IllegalStateException("unknown event " + event);
        }
    }

    private void applySessionStarted(Session s) {
        sessions.put(s.id(), s);
        leases.add(s);
        PoolBook book = book(s.product());
        PoolBook.Pool p = s.poolId().equals(accountId) ? book.root : orgPool(book, s.poolId());
        p.inUse++;
        book.touch(p);
        if (!s.requestId().isEmpty()) {
            byRequest.computeIfAbsent(s.userId(), u -> new HashMap<>()).put(s.requestId(), s.id());
        }
    }

    private void applySessionEnded(SessionEnded e) {
        Session s = sessions.remove(e.sessionId());
        if (s != null) {
            leases.remove(s);
            PoolBook book = book(s.product());
            PoolBook.Pool p = book.pools.get(s.poolId());
            p.inUse--;
            book.touch(p);
            if (!s.requestId().isEmpty()) {
                Map<String, String> ofUser = byRequest.get(s.userId());
                if (ofUser != null && ofUser.remove(s.requestId(), s.id()) && ofUser.isEmpty()) {
                    byRequest.remove(s.userId());
                }
            }
        }
        if (e.cause() != null) {
            tombstones.put(e.sessionId(), new Tombstone(e.cause(), e.at()));
        }
    }

    private void applyDedicated(DedicatedSet e) {
        Organization org = orgs.get(e.orgId());
        PoolBook book = book(e.product());
        PoolBook.Pool pool = orgPool(book, org.id());
        PoolBook.Pool parent = parentPool(book, org);
        long current = pool.dedicated;
        if (e.licenses() > 0) {
            pool.dedicated = e.licenses();
            parent.allocated += e.licenses() - current;
            book.touch(pool);
            book.touch(parent);
            return;
        }
        // Revoke: the subtree's licenses go back to the parent and its sessions move with them.
        Set<String> subtree = new LinkedHashSet<>();
        Deque<String> todo = new ArrayDeque<>();
        todo.push(org.id());
        while (!todo.isEmpty()) {
            String id = todo.pop();
            subtree.add(id);
            children.getOrDefault(id, List.of()).forEach(todo::push);
        }
        List<Session> moving = new ArrayList<>();
        for (Session s : sessions.values()) {
            if (s.product().equals(e.product()) && subtree.contains(s.poolId())) {
                moving.add(s);
            }
        }
        for (Session s : moving) {
            replaceSession(s, s.withPool(parent.id));
        }
        // Counted from the pools, not the sessions: a ledger that mirrors a shared store has counts only.
        long moved = 0;
        for (String id : subtree) {
            PoolBook.Pool p = book.pools.get(id);
            if (p != null) {
                moved += p.inUse;
                p.dedicated = 0;
                p.allocated = 0;
                p.inUse = 0;
                book.touch(p);
            }
        }
        parent.allocated -= current;
        parent.inUse += moved;
        book.touch(parent);
    }

    /**
     * The answer to an acquire whose request id already names a live session: that session again,
     * or a refusal when the request asked for another product or machine.
     */
    public static Decision<Session> sameRequest(Session existing, AcquireRequest r) {
        if (!existing.product().equals(r.product()) || !existing.machineId().equals(r.machineId())) {
            return Refusals.requestIdTaken(r.requestId());
        }
        return Decision.granted(existing);
    }

    // ---------------------------------------------------------------- a shared store's configuration

    /**
     * A ledger rebuilt from {@link #exportConfiguration}: what a node of a shared store decides
     * from. It holds no sessions or machines; {@link #observe} tells it what the store counted.
     */
    public static AccountLedger ofConfiguration(String accountId, List<LedgerEvent> configuration, Journal changes) {
        AccountLedger ledger = new AccountLedger(accountId, changes, Duration.ofMillis(1));
        configuration.forEach(ledger::apply);
        return ledger;
    }

    /**
     * The configuration alone (account, policy, organizations, users, subscriptions, dedicated
     * licenses, offline licenses): no credentials, machines, sessions or tombstones.
     */
    public List<LedgerEvent> exportConfiguration() {
        List<LedgerEvent> out = new ArrayList<>();
        export(event -> {
            if (!(event instanceof CredentialAdded || event instanceof CredentialRevoked || event instanceof MachineRegistered
                    || event instanceof SessionStarted || event instanceof SessionEnded)) {
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
        PoolBook book = book(product);
        for (String id : poolIds()) {
            PoolBook.Pool p = id.equals(accountId) ? book.root : orgPool(book, id);
            p.inUse = inUseByPool.getOrDefault(id, 0L);
            book.touch(p);
        }
        book.observeMachines(registeredMachines, registeredAmongAsked);
    }

    /** The account pool, then every organization in creation order. */
    public List<String> poolIds() {
        List<String> out = new ArrayList<>(orgs.size() + 1);
        out.add(accountId);
        out.addAll(orgs.keySet());
        return out;
    }

    /** Every pool's size ({@code dedicated - allocated}) for the product, in {@link #poolIds} order. */
    public Map<String, Long> poolSizes(String product) {
        PoolBook book = books.get(product);
        Map<String, Long> out = new LinkedHashMap<>();
        for (String id : poolIds()) {
            PoolBook.Pool p = book == null ? null : book.pools.get(id);
            out.put(id, p == null ? 0L : p.pool());
        }
        return out;
    }

    /** The organization and every organization below it. */
    public List<String> subtree(String orgId) {
        List<String> out = new ArrayList<>();
        Deque<String> todo = new ArrayDeque<>();
        todo.push(orgId);
        while (!todo.isEmpty()) {
            String id = todo.pop();
            out.add(id);
            children.getOrDefault(id, List.of()).forEach(todo::push);
        }
        return out;
    }

    /** The pool an organization's licenses come from: its parent's, or the account pool. */
    public String parentPoolId(String orgId) {
        return parentKey(orgs.get(orgId));
    }

    /** Whether the machine is registered for the product (as the store counted, for a mirror). */
    public boolean isRegistered(String product, String machineId) {
        PoolBook book = books.get(product);
        return book != null && book.isRegistered(machineId);
    }

    /** Whether a live offline license binds the machine (its registration then cannot be removed). */
    public boolean holdsOfflineLicense(String product, String machineId, Instant now) {
        return liveOfflineLicense(product, machineId, now) != null;
    }

    /** The machine's offline license while it is live, else null. */
    public OfflineLicense liveOfflineLicense(String product, String machineId, Instant now) {
        PoolBook book = books.get(product);
        OfflineLicense license = book == null ? null : book.offline.get(machineId);
        return license != null && license.isLiveAt(now) ? license : null;
    }

    /**
     * What an acquire by {@code userId} may take, for a store that counts sessions itself: the
     * user's {@link AcquirePlan} as pools with their sizes (see {@link AcquireCandidates}).
     */
    public AcquireCandidates acquireCandidates(String product, String userId) {
        PoolBook book = books.get(product);
        if (book == null || book.subscription == null) {
            return AcquireCandidates.refused(null, Refusals.noSubscription(accountId, product));
        }
        Subscription sub = book.subscription;
        User user = users.get(userId);
        if (user == null) {
            return AcquireCandidates.refused(sub, Refusals.unknownAgentUser(accountId, userId));
        }
        AcquirePlan plan = AcquirePlan.resolve(accountId, policy, user);
        List<AcquireCandidates.Candidate> out = new ArrayList<>();
        Set<String> listed = new LinkedHashSet<>();
        for (AcquirePlan.Step step : plan.steps()) {
            if (step instanceof PoolStep ps) {
                PoolBook.Pool p = book.pools.get(ps.poolId());
                if (p != null && listed.add(p.id)) {
                    boolean root = p == book.root;
                    // The account pool's offline licenses are counted by the store at its own "now".
                    long size = root ? p.pool() + book.offline.size() : p.pool();
                    if (size > 0) {
                        out.add(new AcquireCandidates.Candidate(p.id, size, ps.fallback(), root));
                    }
                }
            } else if (step instanceof AnyOrganizationStep) {
                // Every organization that could have room, in creation order (pools of size 0 never do).
                for (String id : orgs.keySet()) {
                    PoolBook.Pool p = book.pools.get(id);
                    if (p != null && p.pool() > 0 && listed.add(id)) {
                        out.add(new AcquireCandidates.Candidate(id, p.pool(), false, false));
                    }
                }
            }
        }
        List<Instant> offlineEnds = book.offline.values().stream().map(OfflineLicense::expiresAt).toList();
        return new AcquireCandidates(out, plan.exhaustedReason(), sub, offlineEnds, null);
    }

    // ---------------------------------------------------------------- helpers

    private PoolBook book(String product) {
        return books.computeIfAbsent(product, p -> new PoolBook(p, accountId));
    }

    private PoolBook.Pool orgPool(PoolBook book, String orgId) {
        return book.pools.computeIfAbsent(orgId, id -> new PoolBook.Pool(id, orgOrdinals.get(id)));
    }

    private PoolBook.Pool parentPool(PoolBook book, Organization org) {
        return org.parentId() == null ? book.root : orgPool(book, org.parentId());
    }

    private String parentKey(Organization org) {
        return org.parentId() == null ? accountId : org.parentId();
    }

    private String parentName(Organization org) {
        return org.parentId() == null ? "the account pool" : "organization " + org.parentId();
    }

    /**
     * Offline licenses past their expiry stop counting. Journaled as a fact like any other change,
     * so a replay reaches exactly the state whose room later grants relied on.
     */
    private void pruneOffline(PoolBook book, Instant now) {
        if (book.offline.isEmpty()) {
            return;
        }
        List<OfflineLicense> expired = new ArrayList<>();
        for (OfflineLicense l : book.offline.values()) {
            if (!l.isLiveAt(now)) {
                expired.add(l);
            }
        }
        for (OfflineLicense l : expired) {
            emit(new OfflineLicenseExpired(l.product(), l.machineId(), now));
        }
    }

    private void replaceSession(Session old, Session updated) {
        leases.remove(old);
        sessions.put(updated.id(), updated);
        leases.add(updated);
    }

    private Decision<Session> gone(String sessionId) {
        Tombstone t = tombstones.get(sessionId);
        return t != null ? Refusals.sessionEnded(sessionId, t.cause(), t.at()) : Refusals.sessionNotFound(sessionId);
    }

    private void forEachOrgPreorder(Consumer<Organization> visit) {
        Deque<String> todo = new ArrayDeque<>();
        List<String> top = children.getOrDefault(accountId, List.of());
        for (int i = top.size() - 1; i >= 0; i--) {
            todo.push(top.get(i));
        }
        while (!todo.isEmpty()) {
            String id = todo.pop();
            visit.accept(orgs.get(id));
            List<String> kids = children.getOrDefault(id, List.of());
            for (int i = kids.size() - 1; i >= 0; i--) {
                todo.push(kids.get(i));
            }
        }
    }

    /**
     * The registered machine's own id instance: a million sessions on a few thousand machines then
     * hold a few thousand strings, not a million copies.
     */
    private static String canonicalMachineId(PoolBook book, String machineId) {
        PoolBook.Registration r = book.machines.get(machineId);
        return r == null ? machineId : r.machineId();
    }
}
