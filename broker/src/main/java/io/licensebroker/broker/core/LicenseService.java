package io.licensebroker.broker.core;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The broker's use cases, above any store: chooses ids, times and leases, issues and checks
 * credentials and offline license files, and routes each call to its account. Validation of
 * request syntax happens at the edge; the rules live in the core ledger semantics every store obeys.
 */
public final class LicenseService {
    /** Offline licenses are bound for at most this long. */
    public static final Duration MAX_OFFLINE_LENGTH = Duration.ofDays(60);
    public static final String DEFAULT_PRODUCT = "KRE";

    private static final String TOKEN_PREFIX = "lb_";
    private static final int LOOKUP_CHARS = 16;
    private static final int SECRET_CHARS = 40; // 200 bits

    private final LicenseStore store;
    private final Clock clock;
    private final Duration leaseTtl;
    private final Duration renewInterval;
    private final LicenseSigner signer;
    private final SecureRandom random;
    private final byte[] bootstrapTokenHash;

    /**
     * @param bootstrapToken the SUPER_ADMIN token given at start (may be null); it is never stored,
     *                       only compared by hash
     */
    public LicenseService(LicenseStore store, Clock clock, Duration leaseTtl, LicenseSigner signer,
                          SecureRandom random, String bootstrapToken) {
        this.store = Objects.requireNonNull(store, "store");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (leaseTtl.isNegative() || leaseTtl.toMillis() < 3) {
            throw new IllegalArgumentException("lease ttl must be positive: " + leaseTtl);
        }
        this.leaseTtl = leaseTtl;
        // A third of the lease: two renewals may be lost before the lease runs out.
        this.renewInterval = leaseTtl.dividedBy(3);
        this.signer = Objects.requireNonNull(signer, "signer");
        this.random = Objects.requireNonNull(random, "random");
        this.bootstrapTokenHash = bootstrapToken == null ? null : sha256(new byte[0], bootstrapToken);
    }

    public Duration leaseTtl() {
        return leaseTtl;
    }

    public Duration renewInterval() {
        return renewInterval;
    }

    public Clock clock() {
        return clock;
    }

    public LicenseStore store() {
        return store;
    }

    // ---------------------------------------------------------------- credentials

    /** Who holds {@code token}, or empty when it is unknown. Secrets are compared in constant time. */
    public CompletionStage<Optional<Principal>> authenticate(String token) {
        if (bootstrapTokenHash != null && MessageDigest.isEqual(bootstrapTokenHash, sha256(new byte[0], token))) {
            return CompletableFuture.completedFuture(Optional.of(new Principal(Role.SUPER_ADMIN, null, null)));
        }
        Optional<String> lookupId = lookupIdOf(token);
        if (lookupId.isEmpty()) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        String lookup = lookupId.get();
        String secret = token.substring(TOKEN_PREFIX.length() + LOOKUP_CHARS + 1);
        return store.credential(lookup).thenApply(found -> found
                .filter(c -> MessageDigest.isEqual(c.secretHash(), sha256(c.salt(), secret)))
                .map(Credential::principal));
    }

    /**
     * The public lookup id of a broker-made token or key ({@code lb_<lookup>_<secret>}), or empty
     * for anything else (the bootstrap token, garbage). The lookup id is not secret: it only names
     * which stored hash to compare with, so the edge may use it to count failures per credential.
     */
    public static Optional<String> lookupIdOf(String token) {
        if (!token.startsWith(TOKEN_PREFIX) || token.length() != TOKEN_PREFIX.length() + LOOKUP_CHARS + 1 + SECRET_CHARS
                || token.charAt(TOKEN_PREFIX.length() + LOOKUP_CHARS) != '_') {
            return Optional.empty();
        }
        return Optional.of(token.substring(TOKEN_PREFIX.length(), TOKEN_PREFIX.length() + LOOKUP_CHARS));
    }

    /** A new admin token of a role other than ORGANIZATION_ADMIN; shown once, stored as a salted hash. */
    public CompletionStage<Decision<String>> createAdminToken(Role role, String accountId) {
        return createAdminToken(role, accountId, null);
    }

    /**
     * A new admin token; shown once, stored as a salted hash. {@code orgId}: the organization of an
     * ORGANIZATION_ADMIN token, which must belong to {@code accountId} (ORGANIZATION_NOT_FOUND
     * otherwise); null for the other roles. Organizations are never deleted, so the check holds.
     */
    public CompletionStage<Decision<String>> createAdminToken(Role role, String accountId, String orgId) {
        if (role == Role.AGENT) {
            throw new IllegalArgumentException("admin tokens are for admin roles: " + role);
        }
        if (role == Role.SUPER_ADMIN) {
            return issueCredential(Role.SUPER_ADMIN, null, null, null);
        }
        if (role == Role.ORGANIZATION_ADMIN) {
            return store.accountOfOrganization(orgId).thenCompose(account -> account.isPresent() && account.get().equals(accountId)
                    ? issueCredential(role, accountId, null, orgId)
                    : CompletableFuture.completedFuture(Refusals.organizationNotFound(accountId, orgId, "org_id")));
        }
        return store.account(accountId).thenCompose(account -> account.isEmpty()
                ? CompletableFuture.completedFuture(accountNotFound(accountId))
                : issueCredential(role, accountId, null, null));
    }

    /**
     * A SUPER_ADMIN token generated on the very first start of a store (when no --admin-token is
     * given); empty on later starts, since only its hash was kept.
     */
    public CompletionStage<Optional<String>> generateBootstrapTokenOnce() {
        return store.hasSuperAdmin().thenCompose(exists -> exists
                ? CompletableFuture.completedFuture(Optional.<String>empty())
                : issueCredential(Role.SUPER_ADMIN, null, null, null).thenApply(d -> Optional.of(d.value())));
    }

    /** A new API key for an agent of the user; shown once, stored as a salted hash. */
    public CompletionStage<Decision<String>> createApiKey(String accountId, String userId) {
        return store.user(accountId, userId).thenCompose(user -> user.isGranted()
                ? issueCredential(Role.AGENT, accountId, userId, null)
                : CompletableFuture.completedFuture(((Decision.Denied<User>) user).cast()));
    }

    /**
     * Revokes the API key ({@code apiKey}) or admin token of that id, from the very next request on
     * every node. A SUPER_ADMIN may revoke any; an ACCOUNT_ADMIN the API keys and ACCOUNT_ADMIN and
     * ORGANIZATION_ADMIN tokens of its own account (its own token included); an ORGANIZATION_ADMIN
     * the API keys of users assigned in its subtree and the ORGANIZATION_ADMIN tokens of
     * organizations in its subtree (its own included). PERMISSION_DENIED otherwise;
     * CREDENTIAL_NOT_FOUND (naming {@code field}) when no credential of that kind has the id.
     */
    public CompletionStage<Decision<Credential>> revokeCredential(Principal caller, String lookupId, boolean apiKey, String field) {
        String kind = apiKey ? "API key" : "admin token";
        Decision<Credential> notFound = Decision.denied(Reason.CREDENTIAL_NOT_FOUND, "no " + kind + " " + lookupId, field);
        return store.credential(lookupId).thenCompose(found -> {
            if (found.isEmpty() || (found.get().role() == Role.AGENT) != apiKey) {
                return CompletableFuture.completedFuture(notFound);
            }
            Credential c = found.get();
            CompletionStage<Boolean> allowed;
            if (caller.role() == Role.SUPER_ADMIN) {
                allowed = CompletableFuture.completedFuture(true);
            } else if (c.role() == Role.SUPER_ADMIN) {
                return CompletableFuture.completedFuture(Refusals.<Credential>outsideScope("only a SUPER_ADMIN may revoke SUPER_ADMIN tokens", field));
            } else if (caller.isOrganizationAdmin()) {
                allowed = mayRevokeInSubtree(caller, c);
            } else {
                allowed = CompletableFuture.completedFuture(caller.canAdminister(c.accountId()));
            }
            return allowed.thenCompose(yes -> yes
                    ? store.revokeCredential(lookupId).thenApply(d -> d.isGranted() ? d : notFound)
                    : CompletableFuture.completedFuture(Refusals.<Credential>outsideScope(
                            "that " + kind + " is outside what this token administers", field)));
        });
    }

    /** An org admin's right to revoke {@code c}: the key of a user assigned in its subtree, or the token of an org admin there. */
    private CompletionStage<Boolean> mayRevokeInSubtree(Principal caller, Credential c) {
        if (c.role() == Role.ACCOUNT_ADMIN || !caller.accountId().equals(c.accountId())) {
            return CompletableFuture.completedFuture(false);
        }
        return scope(caller, c.accountId()).thenCompose(scope -> {
            if (scope.isEmpty()) {
                return CompletableFuture.completedFuture(false);
            }
            if (c.role() == Role.ORGANIZATION_ADMIN) {
                return CompletableFuture.completedFuture(scope.get().contains(c.orgId()));
            }
            return store.user(c.accountId(), c.userId()).thenApply(u -> u.isGranted() && scope.get().contains(u.value().assignedOrgId()));
        });
    }

    /**
     * The part of {@code accountId} the caller administers: the whole account for a SUPER_ADMIN or
     * its ACCOUNT_ADMIN, the subtree of its organization for an ORGANIZATION_ADMIN of that account
     * (one read of the account's organizations), empty otherwise (the caller may not act there).
     */
    public CompletionStage<Optional<Scope>> scope(Principal caller, String accountId) {
        if (caller.canAdminister(accountId)) {
            return CompletableFuture.completedFuture(Optional.of(Scope.wholeAccount(accountId)));
        }
        if (!caller.isOrganizationAdmin() || !caller.accountId().equals(accountId)) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        return store.organizations(accountId).thenApply(orgs -> orgs.isGranted()
                ? Optional.of(Scope.subtree(accountId, caller.orgId(), orgs.value()))
                : Optional.empty());
    }

    private CompletionStage<Decision<String>> issueCredential(Role role, String accountId, String userId, String orgId) {
        String lookup = Ids.random(random, LOOKUP_CHARS);
        String secret = Ids.random(random, SECRET_CHARS);
        byte[] salt = new byte[16];
        random.nextBytes(salt);
        Credential credential = new Credential(lookup, salt, sha256(salt, secret), role, accountId, userId, orgId);
        return store.addCredential(credential).thenApply(d -> d.map(c -> TOKEN_PREFIX + lookup + '_' + secret));
    }

    // ---------------------------------------------------------------- accounts and configuration

    /** {@code accountId} null or empty: one is generated. */
    public CompletionStage<Decision<Account>> createAccount(String accountId, String name) {
        String id = accountId == null || accountId.isEmpty() ? "AC-" + Ids.random(random, 12).toUpperCase() : accountId;
        return store.createAccount(new Account(id, name));
    }

    public CompletionStage<List<Account>> accounts() {
        return store.accounts();
    }

    public CompletionStage<Decision<Subscription>> setSubscription(String accountId, String product, long licenses,
                                                                   long machineQuota, Instant expiresAt, LicenseModel model) {
        return store.setSubscription(accountId, product, licenses, machineQuota, expiresAt, model, clock.instant());
    }

    /** A session (KRE) subscription. */
    public CompletionStage<Decision<Subscription>> setSubscription(String accountId, String product, long licenses,
                                                                   long machineQuota, Instant expiresAt) {
        return setSubscription(accountId, product, licenses, machineQuota, expiresAt, LicenseModel.SESSION);
    }

    public CompletionStage<Decision<Subscription>> subscription(String accountId, String product) {
        return store.subscription(accountId, product);
    }

    public CompletionStage<Decision<Organization>> createOrganization(String accountId, String parentId, String name) {
        return store.createOrganization(accountId, parentId, name);
    }

    public CompletionStage<Decision<List<Organization>>> organizations(String accountId) {
        return store.organizations(accountId);
    }

    public CompletionStage<Optional<String>> accountOfOrganization(String orgId) {
        return store.accountOfOrganization(orgId);
    }

    /**
     * Sets the dedicated licenses of {@code orgId} in {@code accountId} (see
     * {@link #accountOfOrganization}); 0 revokes, cascading to the subtree, sessions moving to the parent.
     */
    public CompletionStage<Decision<LicenseUsage>> setDedicated(String accountId, String orgId, String product, long licenses) {
        return store.setDedicated(accountId, orgId, product, licenses, clock.instant());
    }

    public CompletionStage<Decision<User>> upsertUser(String accountId, String userId, String assignedOrgId, List<String> projectOrgIds) {
        return store.upsertUser(accountId, userId, assignedOrgId, projectOrgIds);
    }

    public CompletionStage<Decision<User>> user(String accountId, String userId) {
        return store.user(accountId, userId);
    }

    public CompletionStage<Decision<List<User>>> users(String accountId) {
        return store.users(accountId);
    }

    public CompletionStage<Decision<PolicySettings>> setPolicy(String accountId, PolicySettings settings) {
        return store.setPolicy(accountId, settings);
    }

    public CompletionStage<Decision<PolicySettings>> policy(String accountId) {
        return store.policy(accountId);
    }

    public CompletionStage<Decision<LicenseUsage>> usage(String accountId, String product) {
        return store.usage(accountId, product, clock.instant());
    }

    /** The usage history (CONTRACT.md section 7); INVALID_ARGUMENT for a query {@link HistoryQuery#check} refuses. */
    public CompletionStage<Decision<List<UsageSeries>>> usageHistory(String accountId, HistoryQuery query) {
        Decision<HistoryQuery> checked = query.check();
        if (checked instanceof Decision.Denied<HistoryQuery> no) {
            return CompletableFuture.completedFuture(no.cast());
        }
        return store.usageHistory(accountId, query, clock.instant());
    }

    /** Who was denied ({@link DenialReport}), and when; INVALID_ARGUMENT for a query {@link DenialQuery#check} refuses. */
    public CompletionStage<Decision<DenialReport.Covered>> denialReport(String accountId, DenialQuery query) {
        Decision<DenialQuery> checked = query.check();
        if (checked instanceof Decision.Denied<DenialQuery> no) {
            return CompletableFuture.completedFuture(no.cast());
        }
        Instant now = clock.instant();
        return store.denialReport(accountId, query, now)
                .thenApply(d -> d.map(rows -> new DenialReport.Covered(DenialReport.window(query, now), rows)));
    }

    /** The products of the account worth a license table, sorted: the default product, always, and any other the store holds. */
    public CompletionStage<List<String>> products(String accountId) {
        return store.products(accountId).thenApply(held -> {
            TreeSet<String> all = new TreeSet<>(held);
            all.add(DEFAULT_PRODUCT);
            return List.copyOf(all);
        });
    }

    // ---------------------------------------------------------------- sessions

    public CompletionStage<Decision<Session>> acquire(Principal agent, String product, String machineId, String requestId) {
        Instant now = clock.instant();
        AcquireRequest request = new AcquireRequest(product, agent.userId(), machineId, requestId,
                Ids.newSessionId(agent.accountId(), random), now, now.plus(leaseTtl));
        return store.acquire(agent.accountId(), request);
    }

    public CompletionStage<Decision<Session>> renew(Principal agent, String sessionId) {
        return inOwnAccount(agent, sessionId, account -> {
            Instant now = clock.instant();
            return store.renew(account, sessionId, agent.userId(), now, now.plus(leaseTtl));
        });
    }

    /** Granted false when the session had already ended, or never was one of ours: releasing is never an error. */
    public CompletionStage<Decision<Boolean>> release(Principal agent, String sessionId) {
        if (Ids.accountOfSession(sessionId).isEmpty()) {
            return CompletableFuture.completedFuture(Decision.granted(false));
        }
        return inOwnAccount(agent, sessionId, account -> store.release(account, sessionId, agent.userId(), clock.instant()));
    }

    /** The account a session belongs to, from its id. */
    public Optional<String> accountOfSession(String sessionId) {
        return Ids.accountOfSession(sessionId);
    }

    public CompletionStage<Decision<Boolean>> terminate(String sessionId) {
        Optional<String> account = Ids.accountOfSession(sessionId);
        if (account.isEmpty()) {
            return CompletableFuture.completedFuture(Decision.granted(false));
        }
        return store.terminate(account.get(), sessionId, clock.instant());
    }

    /** The live session of that id in the account, or empty. */
    public CompletionStage<Decision<Optional<Session>>> session(String accountId, String sessionId) {
        return store.session(accountId, sessionId);
    }

    public CompletionStage<Decision<SessionPage>> sessions(String accountId, SessionQuery query) {
        return store.sessions(accountId, query);
    }

    public CompletionStage<Decision<List<Machine>>> machines(String accountId, String product) {
        return store.machines(accountId, product, clock.instant());
    }

    public CompletionStage<Decision<Boolean>> deactivateMachine(String accountId, String product, String machineId) {
        return store.deactivateMachine(accountId, product, machineId, clock.instant());
    }

    /** Ends the sessions whose leases ran out; answers how many. */
    public CompletionStage<Integer> reapExpiredLeases() {
        return store.expireLeases(clock.instant());
    }

    // ---------------------------------------------------------------- seats

    public CompletionStage<Decision<LicensedUser>> grantLicense(String accountId, String product, String userId, String poolId) {
        return store.grantLicense(accountId, product, userId, poolId, clock.instant());
    }

    public CompletionStage<Decision<Boolean>> removeLicense(String accountId, String product, String userId) {
        return store.removeLicense(accountId, product, userId, clock.instant());
    }

    public CompletionStage<Decision<LicensedUser>> transferLicense(String accountId, String product, String fromUserId,
                                                                   String toUserId, String poolId) {
        return store.transferLicense(accountId, product, fromUserId, toUserId, poolId, clock.instant());
    }

    /** The user's seat of the product, or empty. */
    public CompletionStage<Decision<Optional<Seat>>> seat(String accountId, String product, String userId) {
        return store.seat(accountId, product, userId, clock.instant());
    }

    public CompletionStage<Decision<Page<LicensedUser>>> licensedUsers(String accountId, SeatQuery query) {
        return store.licensedUsers(accountId, query, clock.instant());
    }

    /**
     * Activates the agent's seat on a machine. A floating activation is a lease of the session
     * kind (renewed and released by its id); a node-locked one is a binding with an id of that form.
     */
    public CompletionStage<Decision<Activation>> activate(Principal agent, String product, String machineId,
                                                          String requestId, boolean takeOver) {
        Instant now = clock.instant();
        ActivationRequest request = new ActivationRequest(product, agent.userId(), machineId, requestId, takeOver,
                Ids.newSessionId(agent.accountId(), random), now, now.plus(leaseTtl));
        return store.activate(agent.accountId(), request);
    }

    public CompletionStage<Decision<Page<Activation>>> activations(String accountId, SeatQuery query) {
        return store.activations(accountId, query, clock.instant());
    }

    // ---------------------------------------------------------------- offline licenses

    /**
     * A signed file binding one license to the machine; {@code expiresAt} null: as long as allowed.
     * {@code userId}: the licensed user whose seat a node-locked product binds (null on a session product).
     */
    public CompletionStage<Decision<IssuedOfflineLicense>> issueOfflineLicense(String accountId, String product,
                                                                               String machineId, String userId,
                                                                               Instant expiresAt) {
        Instant now = clock.instant();
        CompletionStage<Instant> until = expiresAt != null
                ? CompletableFuture.completedFuture(expiresAt)
                : store.subscription(accountId, product).thenApply(sub -> {
                    Instant longest = now.plus(MAX_OFFLINE_LENGTH);
                    Subscription s = sub.isGranted() ? sub.value() : null;
                    return s != null && s.expiresAt().isBefore(longest) ? s.expiresAt() : longest;
                });
        return until.thenCompose(exp -> store.issueOfflineLicense(accountId, product, machineId, userId, exp, MAX_OFFLINE_LENGTH, now))
                .thenCompose(d -> (d.isGranted() ? signer.current() : CompletableFuture.completedFuture(signer))
                        .thenApply(key -> d.map(l ->
                                new IssuedOfflineLicense(l, OfflineLicenseFile.fileName(l), OfflineLicenseFile.write(l, key)))));
    }

    /** What a license file grants, or INVALID_ARGUMENT when its signature or format is broken. */
    public CompletionStage<Decision<OfflineLicense>> verifyOfflineLicense(byte[] file) {
        return signer.current().thenApply(key -> OfflineLicenseFile.verify(file, key)
                .<Decision<OfflineLicense>>map(Decision::granted)
                .orElseGet(() -> Decision.denied(Reason.INVALID_ARGUMENT, "the license file is malformed or its signature does not verify", "license_file")));
    }

    /** An offline license of a session product. */
    public CompletionStage<Decision<IssuedOfflineLicense>> issueOfflineLicense(String accountId, String product,
                                                                               String machineId, Instant expiresAt) {
        return issueOfflineLicense(accountId, product, machineId, null, expiresAt);
    }

    public record IssuedOfflineLicense(OfflineLicense license, String fileName, byte[] file) {
    }

    // ---------------------------------------------------------------- helpers

    private <T> CompletionStage<Decision<T>> inOwnAccount(Principal agent, String sessionId,
                                                          java.util.function.Function<String, CompletionStage<Decision<T>>> call) {
        Optional<String> account = Ids.accountOfSession(sessionId);
        if (account.isEmpty()) {
            return CompletableFuture.completedFuture(Refusals.sessionNotFound(sessionId));
        }
        if (!account.get().equals(agent.accountId())) {
            return CompletableFuture.completedFuture(Decision.denied(Reason.PERMISSION_DENIED, "session " + sessionId + " belongs to another account", "session_id"));
        }
        return call.apply(account.get());
    }

    private static <T> Decision<T> accountNotFound(String accountId) {
        return Refusals.accountNotFound(accountId);
    }

    private static byte[] sha256(byte[] salt, String secret) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(salt);
            return digest.digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
