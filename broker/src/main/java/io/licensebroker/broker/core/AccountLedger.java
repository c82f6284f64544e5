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
    private final Map<String, Book> books = new HashMap<>();
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

    /** A registered machine; {@code machineId} is the one instance every session on it refers to. */
    private record Registration(String machineId, Instant at) {
    }

    /** The pools, machines and offline licenses of one product. */
    private static final class Book {
        /** The one instance of the product code every session of this book refers to. */
        final String product;
        Subscription subscription;
        final Pool root;
        final Map<String, Pool> pools = new HashMap<>();
        /** Organization pools with available > 0, in organization creation order. */
        final TreeMap<Integer, Pool> roomyOrgs = new TreeMap<>();
        /** Registered machines by id. */
        final LinkedHashMap<String, Registration> machines = new LinkedHashMap<>();
        final Map<String, OfflineLicense> offline = new LinkedHashMap<>();

        Book(String product, String accountId) {
            this.product = product;
            root = new Pool(accountId, -1);
            pools.put(accountId, root);
        }
    }

    private static final class Pool {
        final String id;
        /** Organization creation order; -1 for the account pool. */
        final int ordinal;
        long dedicated;
        long allocated;
        long inUse;

        Pool(String id, int ordinal) {
            this.id = id;
            this.ordinal = ordinal;
        }

        long pool() {
            return dedicated - allocated;
        }

        long available() {
            return pool() - inUse;
        }
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
        Book book = book(product);
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
        Book book = books.get(product);
        return book == null ? null : book.subscription;
    }

    public Decision<Organization> createOrganization(String orgId, String parentId, String name) {
        if (orgs.containsKey(orgId)) {
            return Decision.denied(Reason.ALREADY_EXISTS, "organization " + orgId + " already exists", "org_id");
        }
        if (parentId != null && !orgs.containsKey(parentId)) {
            return Decision.denied(Reason.ORGANIZATION_NOT_FOUND, "no organization " + parentId + " in account " + accountId, "parent_id");
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
        Book book = book(product);
        pruneOffline(book, now);
        Pool pool = orgPool(book, orgId);
        Pool parent = parentPool(book, org);
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
            return Decision.denied(Reason.ORGANIZATION_NOT_FOUND, "no organization " + assignedOrgId + " in account " + accountId, "assigned_org_id");
        }
        Set<String> projects = new LinkedHashSet<>(projectOrgIds);
        for (String org : projects) {
            if (!orgs.containsKey(org)) {
                return Decision.denied(Reason.ORGANIZATION_NOT_FOUND, "no organization " + org + " in account " + accountId, "project_org_ids");
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
        Book book = books.get(r.product());
        if (book == null || book.subscription == null) {
            return Decision.denied(Reason.NO_SUBSCRIPTION, "account " + accountId + " has no " + r.product() + " subscription");
        }
        if (book.subscription.isExpiredAt(r.now())) {
            return Decision.denied(Reason.SUBSCRIPTION_EXPIRED, "the " + r.product() + " subscription expired at " + book.subscription.expiresAt());
        }
        User user = users.get(r.userId());
        if (user == null) {
            return Decision.denied(Reason.USER_NOT_FOUND, "no user " + r.userId() + " in account " + accountId);
        }
        if (!r.requestId().isEmpty()) {
            String existingId = byRequest.getOrDefault(r.userId(), Map.of()).get(r.requestId());
            Session existing = existingId == null ? null : sessions.get(existingId);
            if (existing != null) {
                if (r.now().isBefore(existing.leaseExpiresAt())) {
                    if (!existing.product().equals(r.product()) || !existing.machineId().equals(r.machineId())) {
                        return Decision.denied(Reason.ALREADY_EXISTS, "request_id " + r.requestId()
                                + " already names a session for another product or machine", "request_id");
                    }
                    return Decision.granted(existing);
                }
                emit(new SessionEnded(existing.id(), Reason.SESSION_EXPIRED, r.now()));
            }
        }
        pruneOffline(book, r.now());
        boolean newMachine = !book.machines.containsKey(r.machineId());
        if (newMachine && book.machines.size() >= book.subscription.machineQuota()) {
            return Decision.denied(Reason.MACHINE_QUOTA_EXCEEDED, "machine quota of " + book.subscription.machineQuota()
                    + " is reached; deactivate a machine first");
        }
        AcquirePlan plan = AcquirePlan.resolve(accountId, policy, user);
        Pool chosen = null;
        boolean fallback = false;
        for (AcquirePlan.Step step : plan.steps()) {
            if (step instanceof PoolStep ps) {
                Pool p = book.pools.get(ps.poolId());
                if (p != null && p.available() > 0) {
                    chosen = p;
                    fallback = ps.fallback();
                    break;
                }
            } else if (step instanceof AnyOrganizationStep) {
                Map.Entry<Integer, Pool> first = book.roomyOrgs.firstEntry();
                if (first != null) {
                    chosen = first.getValue();
                    break;
                }
            }
        }
        if (chosen == null) {
            return Decision.denied(plan.exhaustedReason(), plan.exhaustedReason() == Reason.ORGANIZATION_POOL_EXHAUSTED
                    ? "the organization pools of user " + r.userId() + " are exhausted and fallback to the account pool is off"
                    : "no license available for user " + r.userId());
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
            return Decision.denied(Reason.PERMISSION_DENIED, "session " + sessionId + " belongs to another user", "session_id");
        }
        if (!now.isBefore(s.leaseExpiresAt())) {
            emit(new SessionEnded(sessionId, Reason.SESSION_EXPIRED, now));
            return Decision.denied(Reason.SESSION_EXPIRED, "the lease of session " + sessionId + " ran out at " + s.leaseExpiresAt(), "session_id");
        }
        Book book = books.get(s.product());
        if (book.subscription.isExpiredAt(now)) {
            return Decision.denied(Reason.SUBSCRIPTION_EXPIRED, "the " + s.product() + " subscription expired at " + book.subscription.expiresAt());
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
            return Decision.denied(Reason.PERMISSION_DENIED, "session " + sessionId + " belongs to another user", "session_id");
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
        Book book = books.get(product);
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
        Book book = books.get(product);
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
        Book book = books.get(product);
        if (book == null || book.subscription == null) {
            return Decision.denied(Reason.NO_SUBSCRIPTION, "account " + accountId + " has no " + product + " subscription");
        }
        if (book.subscription.isExpiredAt(now)) {
            return Decision.denied(Reason.SUBSCRIPTION_EXPIRED, "the " + product + " subscription expired at " + book.subscription.expiresAt());
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
        boolean newMachine = !book.machines.containsKey(machineId);
        if (newMachine && book.machines.size() >= book.subscription.machineQuota()) {
            return Decision.denied(Reason.MACHINE_QUOTA_EXCEEDED, "machine quota of " + book.subscription.machineQuota() + " is reached");
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
        Book book = books.get(product);
        if (book != null) {
            pruneOffline(book, now);
        }
        List<PoolRow> rows = new ArrayList<>(orgs.size() + 1);
        String name = account == null ? accountId : account.name();
        Pool root = book == null ? new Pool(accountId, -1) : book.root;
        rows.add(new PoolRow(accountId, name, null, root.dedicated, root.pool(), root.inUse));
        forEachOrgPreorder(org -> {
            Pool p = book == null ? null : book.pools.get(org.id());
            rows.add(p == null
                    ? new PoolRow(org.id(), org.name(), parentKey(org), 0, 0, 0)
                    : new PoolRow(org.id(), org.name(), parentKey(org), p.dedicated, p.pool(), p.inUse));
        });
        return new LicenseUsage(accountId, product, book == null ? null : book.subscription, rows,
                book == null ? 0 : book.machines.size(), book == null ? 0 : book.offline.size());
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
                Pool c = book.pools.get(child);
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
                Pool p = book.pools.get(o.id());
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
            book(e.product()).machines.putIfAbsent(e.machineId(), new Registration(e.machineId(), e.at()));
        } else if (event instanceof MachineDeactivated e) {
            book(e.product()).machines.remove(e.machineId());
        } else if (event instanceof DedicatedSet e) {
            applyDedicated(e);
        } else if (event instanceof SubscriptionSet e) {
            Book book = book(e.subscription().product());
            book.subscription = e.subscription();
            book.root.dedicated = e.subscription().licenses() - book.offline.size();
        } else if (event instanceof OfflineLicenseIssued e) {
            Book book = book(e.license().product());
            if (book.offline.put(e.license().machineId(), e.license()) == null) {
                book.root.dedicated--;
            }
        } else if (event instanceof OfflineLicenseExpired e) {
            Book book = book(e.product());
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
        Book book = book(s.product());
        Pool p = s.poolId().equals(accountId) ? book.root : orgPool(book, s.poolId());
        p.inUse++;
        touch(book, p);
        if (!s.requestId().isEmpty()) {
            byRequest.computeIfAbsent(s.userId(), u -> new HashMap<>()).put(s.requestId(), s.id());
        }
    }

    private void applySessionEnded(SessionEnded e) {
        Session s = sessions.remove(e.sessionId());
        if (s != null) {
            leases.remove(s);
            Book book = book(s.product());
            Pool p = book.pools.get(s.poolId());
            p.inUse--;
            touch(book, p);
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
        Book book = book(e.product());
        Pool pool = orgPool(book, org.id());
        Pool parent = parentPool(book, org);
        long current = pool.dedicated;
        if (e.licenses() > 0) {
            pool.dedicated = e.licenses();
            parent.allocated += e.licenses() - current;
            touch(book, pool);
            touch(book, parent);
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
        for (String id : subtree) {
            Pool p = book.pools.get(id);
            if (p != null) {
                p.dedicated = 0;
                p.allocated = 0;
                p.inUse = 0;
                touch(book, p);
            }
        }
        parent.allocated -= current;
        parent.inUse += moving.size();
        touch(book, parent);
    }

    // ---------------------------------------------------------------- helpers

    private Book book(String product) {
        return books.computeIfAbsent(product, p -> new Book(p, accountId));
    }

    private Pool orgPool(Book book, String orgId) {
        return book.pools.computeIfAbsent(orgId, id -> new Pool(id, orgOrdinals.get(id)));
    }

    private Pool parentPool(Book book, Organization org) {
        return org.parentId() == null ? book.root : orgPool(book, org.parentId());
    }

    private String parentKey(Organization org) {
        return org.parentId() == null ? accountId : org.parentId();
    }

    private String parentName(Organization org) {
        return org.parentId() == null ? "the account pool" : "organization " + org.parentId();
    }

    private static void touch(Book book, Pool p) {
        if (p.ordinal < 0) {
            return;
        }
        if (p.available() > 0) {
            book.roomyOrgs.put(p.ordinal, p);
        } else {
            book.roomyOrgs.remove(p.ordinal);
        }
    }

    /**
     * Offline licenses past their expiry stop counting. Journaled as a fact like any other change,
     * so a replay reaches exactly the state whose room later grants relied on.
     */
    private void pruneOffline(Book book, Instant now) {
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
        if (t != null) {
            return Decision.denied(t.cause(), "session " + sessionId + (t.cause() == Reason.SESSION_EXPIRED
                    ? " expired at " : " was terminated at ") + t.at(), "session_id");
        }
        return Decision.denied(Reason.SESSION_NOT_FOUND, "no live session " + sessionId, "session_id");
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
    private static String canonicalMachineId(Book book, String machineId) {
        Registration r = book.machines.get(machineId);
        return r == null ? machineId : r.machineId();
    }
}
