package io.licensebroker.broker.store.redis;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AccountLedger;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Credential;
import io.licensebroker.broker.core.Activation;
import io.licensebroker.broker.core.ActivationRequest;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.DenialQuery;
import io.licensebroker.broker.core.DenialRow;
import io.licensebroker.broker.core.HistoryQuery;
import io.licensebroker.broker.core.UsageSeries;
import io.licensebroker.broker.core.LicenseModel;
import io.licensebroker.broker.core.LicensedUser;
import io.licensebroker.broker.core.Page;
import io.licensebroker.broker.core.Seat;
import io.licensebroker.broker.core.SeatQuery;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.Journal;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.Machine;
import io.licensebroker.broker.core.OfflineLicense;
import io.licensebroker.broker.core.Organization;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Refusals;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.SessionPage;
import io.licensebroker.broker.core.SessionQuery;
import io.licensebroker.broker.core.StoreUnavailableException;
import io.licensebroker.broker.core.Subscription;
import io.licensebroker.broker.core.User;
import io.lettuce.core.SetArgs;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The store for several stateless broker nodes sharing one truth in Redis (one server or a Redis
 * Cluster). Redis decides nothing: every rule is the core's ({@link AccountLedger}). An admin change
 * is decided on this node over the account's versioned configuration and applied by one generic
 * script only if the version and the change's counter guards still hold ({@link AccountConfigs});
 * acquire, renew, release, terminate and expiry are small scripts over session and counter keys
 * ({@link RedisSessions}, {@link LeaseReaper}); seats are configuration, and a floating activation a
 * lease ({@link RedisSeats}); the usage history is counted inside the scripts that change in_use
 * ({@link RedisHistory}). Each runs atomically on the account's slot, with
 * named arguments and replies ({@link ScriptRunner}). Keys are laid out in {@link Keys}.
 *
 * <p>Time: with {@link TimeSource#SERVER} (production) leases, expiry and every other "now" of a
 * script come from the Redis server's clock, so nodes with skewed clocks agree; admin changes are
 * decided with the node's clock. {@link TimeSource#CALLER} uses the times the core passes (tests
 * drive them with a clock).
 *
 * <p>Caching: the organization index is immutable once written, so found entries are cached
 * (misses never are: a key created on another node works at once); credentials are cached under
 * an epoch every change replaces ({@link RedisCredentials}).
 * Configurations are cached by version; a script refuses a step computed from another version
 * (stale, with the current configuration) before changing anything, so a change made on any node
 * is obeyed by the very next call on every node.
 *
 * <p>Durability is Redis's: run it with AOF ({@code appendonly yes}, {@code appendfsync everysec}
 * or {@code always}) and replicas as the deployment requires. Redis 6.2 or newer (ZADD LT).
 */
public final class RedisStore implements LicenseStore {
    /** Where scripts take "now" from. */
    public enum TimeSource {
        /** The Redis server's clock (TIME): nodes with skewed clocks agree on every lease. */
        SERVER,
        /** The times the caller passes: for tests that drive time with their own clock. */
        CALLER
    }

    private final RedisLink link;
    private final SecureRandom random = new SecureRandom();
    private final ScriptRunner scripts;
    private final AccountConfigs configs;
    private final LeaseReaper reaper;
    private final RedisSessions sessions;
    private final RedisSeats seats;
    private final RedisMachines machines;
    private final RedisCredentials credentials;
    private final RedisHistory history;
    private final Cache<String, String> organizationAccounts = Caffeine.newBuilder().maximumSize(100_000).build();

    private RedisStore(RedisLink link, RedisStoreOptions options) {
        this.link = link;
        // Names this node's acquire count in each account (see common.lua, "state loss"); new per process.
        this.scripts = new ScriptRunner(link, options, Ids.random(random, 16));
        this.configs = new AccountConfigs(scripts);
        this.reaper = new LeaseReaper(link, scripts, options);
        this.sessions = new RedisSessions(scripts, configs, reaper, options.observer());
        this.seats = new RedisSeats(scripts, configs, reaper);
        this.machines = new RedisMachines(configs);
        this.credentials = new RedisCredentials(link, scripts, configs);
        this.history = new RedisHistory(scripts, configs);
    }

    /**
     * Connects (blocking the caller, at start-up) and checks that the Redis user may run the
     * broker's scripts on its keys. Fails with {@link StoreUnavailableException} when Redis cannot
     * be reached, with {@link io.licensebroker.broker.core.StoreRefusedException} (saying which
     * permission is missing) when the user lacks one.
     */
    public static RedisStore connect(RedisStoreOptions options) {
        RedisLink link = RedisLink.connect(options.uri(), options.commandTimeout(), options.maxQueuedCommands(),
                options.replyThreads(), options.errors());
        try {
            link.checkPermissions(Keys.PROBE, Keys.PROBE_OTHER_SLOT);
        } catch (RuntimeException e) {
            link.close();
            throw e;
        }
        return new RedisStore(link, options);
    }

    /** Whether Redis answered the last probe and no call failed on it since (health: SERVING). */
    public boolean isAvailable() {
        return link.isAvailable();
    }

    /** PINGs Redis (every master of a cluster); answers and records whether it is reachable. */
    public CompletionStage<Boolean> probe() {
        return link.probe();
    }

    /** Whether the connection is to a Redis Cluster. */
    public boolean isCluster() {
        return link.isCluster();
    }

    /**
     * A value every node shares, set once: the first node to store its {@code candidate} under
     * {@code name} wins (SET NX), every node reads the winner. Used for the offline signing key.
     */
    public CompletionStage<String> sharedValue(String name, Supplier<String> candidate) {
        String key = Keys.shared(name);
        // Read first: the common case is one GET, and it still works while Redis refuses writes (OOM).
        return link.<String>call(c -> c.get(key))
                .thenCompose(present -> present != null ? done(present)
                        : link.<String>call(c -> c.set(key, candidate.get(), SetArgs.Builder.nx()))
                                .thenCompose(ignored -> link.<String>call(c -> c.get(key))))
                .thenApply(value -> {
                    if (value == null) {
                        throw new StoreUnavailableException("shared value " + name + " vanished right after it was set", null);
                    }
                    return value;
                });
    }

    // ---------------------------------------------------------------- accounts and credentials

    @Override
    public CompletionStage<Decision<Account>> createAccount(Account account) {
        if (account.id().isEmpty() || account.id().indexOf('{') >= 0 || account.id().indexOf('}') >= 0) {
            // Braces would change which part of the key is the hash tag (the edge allows neither).
            return done(Decision.denied(Reason.INVALID_ARGUMENT, "account ids cannot be empty or contain braces", "account_id"));
        }
        AccountLedger fresh = new AccountLedger(account.id(), Journal.NONE, Duration.ofMillis(1));
        fresh.create(account);
        ObjectNode req = ScriptRunner.request().put("name", account.name())
                .put("config", AccountConfigs.encode(account.id(), fresh.exportConfiguration()))
                .put("version", AccountConfigs.newVersion());
        // The account first, then the global list: a list entry never names a missing account. An
        // attempt that stopped in between is repaired by the next createAccount of that id.
        return scripts.runOnce(account.id(), null, Script.ACCOUNT_CREATE, req).thenCompose(reply -> {
            if ("ok".equals(ScriptRunner.outcome(reply))) {
                return link.<Boolean>call(c -> c.hset(Keys.ACCOUNTS, account.id(), account.name()))
                        .thenApply(x -> Decision.granted(account));
            }
            String existingName = reply.path("name").asText();
            return link.<Boolean>call(c -> c.hsetnx(Keys.ACCOUNTS, account.id(), existingName))
                    .thenApply(x -> Refusals.<Account>accountExists(account.id()));
        });
    }

    @Override
    public CompletionStage<Optional<Account>> account(String accountId) {
        return configs.observe(accountId, null, List.of(), false).thenApply(observed -> observed == null
                ? Optional.<Account>empty()
                : Optional.of(new Account(accountId, observed.name())));
    }

    @Override
    public CompletionStage<List<Account>> accounts() {
        return link.<Map<String, String>>call(c -> c.hgetall(Keys.ACCOUNTS)).thenApply(all -> {
            List<Account> out = new ArrayList<>(all.size());
            all.forEach((id, name) -> out.add(new Account(id, name)));
            out.sort(Comparator.comparing(Account::id));
            return out;
        });
    }

    @Override
    public CompletionStage<Decision<Credential>> addCredential(Credential credential) {
        return credentials.add(credential);
    }

    @Override
    public CompletionStage<Optional<Credential>> credential(String lookupId) {
        return credentials.find(lookupId);
    }

    @Override
    public CompletionStage<Decision<Credential>> revokeCredential(String lookupId) {
        return credentials.revoke(lookupId);
    }

    @Override
    public CompletionStage<Boolean> hasSuperAdmin() {
        return credentials.hasSuperAdmin();
    }

    // ---------------------------------------------------------------- configuration (decided by the core)

    @Override
    public CompletionStage<Decision<Subscription>> setSubscription(String accountId, String product, long licenses,
                                                                   long machineQuota, Instant expiresAt, LicenseModel model,
                                                                   Instant now) {
        return decided(configs.change(accountId, product, List.of(), now,
                (ledger, effects) -> ledger.setSubscription(product, licenses, machineQuota, expiresAt, model, now)));
    }

    @Override
    public CompletionStage<Decision<Subscription>> subscription(String accountId, String product) {
        return read(accountId, ledger -> Decision.granted(ledger.subscription(product)));
    }

    @Override
    public CompletionStage<Decision<Organization>> createOrganization(String accountId, String parentId, String name) {
        // The global index entry is reserved first (with the id), then the account creates the
        // organization; see global_org_reserve.lua for why this order is the safe one.
        return scripts.global(Script.ORG_RESERVE, new String[]{Keys.ORGANIZATION_SEQUENCE, Keys.ORGANIZATIONS},
                        ScriptRunner.request().put("account", accountId))
                .thenApply(reply -> reply.path("id").asText())
                .thenCompose(orgId -> decided(configs.change(accountId, null, List.of(), null,
                        (ledger, effects) -> ledger.createOrganization(orgId, parentId, name)))
                        .thenCompose(decision -> {
                            if (decision.isGranted()) {
                                organizationAccounts.put(orgId, accountId);
                                return done(decision);
                            }
                            return link.<Long>call(c -> c.hdel(Keys.ORGANIZATIONS, orgId)).handle((x, e) -> decision);
                        }));
    }

    @Override
    public CompletionStage<Decision<List<Organization>>> organizations(String accountId) {
        return read(accountId, ledger -> Decision.granted(ledger.organizations()));
    }

    @Override
    public CompletionStage<Optional<String>> accountOfOrganization(String orgId) {
        String cached = organizationAccounts.getIfPresent(orgId);
        if (cached != null) {
            return done(Optional.of(cached));
        }
        return link.<String>call(c -> c.hget(Keys.ORGANIZATIONS, orgId)).thenCompose(accountId -> {
            if (accountId == null) {
                return done(Optional.<String>empty());
            }
            // The index may name an account whose creation of this organization was refused: the
            // account itself is the authority.
            return read(accountId, ledger -> Decision.granted(ledger.hasOrganization(orgId))).thenApply(found -> {
                if (found.isGranted() && found.value()) {
                    organizationAccounts.put(orgId, accountId);
                    return Optional.of(accountId);
                }
                return Optional.<String>empty();
            });
        });
    }

    @Override
    public CompletionStage<Decision<LicenseUsage>> setDedicated(String accountId, String orgId, String product, long licenses, Instant now) {
        return decided(configs.change(accountId, product, List.of(), now,
                (ledger, effects) -> ledger.setDedicated(orgId, product, licenses, now)));
    }

    @Override
    public CompletionStage<Decision<User>> upsertUser(String accountId, String userId, String assignedOrgId, List<String> projectOrgIds) {
        return decided(configs.change(accountId, null, List.of(), null,
                (ledger, effects) -> ledger.upsertUser(userId, assignedOrgId, projectOrgIds)));
    }

    @Override
    public CompletionStage<Decision<User>> user(String accountId, String userId) {
        return read(accountId, ledger -> {
            User user = ledger.user(userId);
            return user == null ? Refusals.userNotFound(accountId, userId) : Decision.granted(user);
        });
    }

    @Override
    public CompletionStage<Decision<List<User>>> users(String accountId) {
        return read(accountId, ledger -> Decision.granted(ledger.users()));
    }

    @Override
    public CompletionStage<Decision<PolicySettings>> setPolicy(String accountId, PolicySettings settings) {
        return decided(configs.change(accountId, null, List.of(), null, (ledger, effects) -> Decision.granted(ledger.setPolicy(settings))));
    }

    @Override
    public CompletionStage<Decision<PolicySettings>> policy(String accountId) {
        return read(accountId, ledger -> Decision.granted(ledger.policy()));
    }

    @Override
    public CompletionStage<Decision<LicenseUsage>> usage(String accountId, String product, Instant now) {
        return configs.observe(accountId, product, List.of(), false).thenApply(observed -> observed == null
                ? Refusals.<LicenseUsage>accountNotFound(accountId)
                : Decision.granted(AccountConfigs.counted(accountId, observed, product, Journal.NONE).usage(product, now)));
    }

    @Override
    public CompletionStage<Set<String>> products(String accountId) {
        return link.<Set<String>>call(c -> c.smembers(Keys.products(accountId))).thenApply(Set::copyOf);
    }

    // ---------------------------------------------------------------- machines and offline licenses

    @Override
    public CompletionStage<Decision<List<Machine>>> machines(String accountId, String product, Instant now) {
        return machines.machines(accountId, product, now);
    }

    @Override
    public CompletionStage<Decision<Boolean>> deactivateMachine(String accountId, String product, String machineId, Instant now) {
        return machines.deactivate(accountId, product, machineId, now);
    }

    @Override
    public CompletionStage<Decision<OfflineLicense>> issueOfflineLicense(String accountId, String product, String machineId,
                                                                         String userId, Instant expiresAt, Duration maxLength,
                                                                         Instant now) {
        return decided(configs.change(accountId, product, List.of(machineId), now,
                (ledger, effects) -> ledger.issueOfflineLicense(product, machineId, userId, expiresAt, maxLength, now)));
    }

    // ---------------------------------------------------------------- sessions

    @Override
    public CompletionStage<Decision<Session>> acquire(String accountId, AcquireRequest request) {
        return sessions.acquire(accountId, request).thenCompose(d -> history.counted(accountId, d, request.product(),
                request.userId(), null, request.now()));
    }

    @Override
    public CompletionStage<Decision<Session>> renew(String accountId, String sessionId, String userId, Instant now, Instant newExpiry) {
        return sessions.renew(accountId, sessionId, userId, now, newExpiry);
    }

    @Override
    public CompletionStage<Decision<Boolean>> release(String accountId, String sessionId, String userId, Instant now) {
        return sessions.end(accountId, sessionId, userId, null, now);
    }

    @Override
    public CompletionStage<Decision<Boolean>> terminate(String accountId, String sessionId, Instant now) {
        return sessions.end(accountId, sessionId, null, Reason.SESSION_TERMINATED, now);
    }

    @Override
    public CompletionStage<Decision<SessionPage>> sessions(String accountId, SessionQuery query) {
        return sessions.sessions(accountId, query);
    }

    @Override
    public CompletionStage<Decision<Optional<Session>>> session(String accountId, String sessionId) {
        return sessions.session(accountId, sessionId);
    }

    @Override
    public CompletionStage<Decision<List<UsageSeries>>> usageHistory(String accountId, HistoryQuery query, Instant now) {
        return history.usageHistory(accountId, query, now);
    }

    @Override
    public CompletionStage<Decision<List<DenialRow>>> denialReport(String accountId, DenialQuery query, Instant now) {
        return history.denialReport(accountId, query, now);
    }

    /** See {@link LeaseReaper}. With {@link TimeSource#SERVER} "ran out" is by the Redis server's clock. */
    @Override
    public CompletionStage<Integer> expireLeases(Instant now) {
        return reaper.expireLeases(now);
    }

    @Override
    public void close() {
        link.close();
    }

    // ---------------------------------------------------------------- helpers

    /** A read answered by the core from the account's current configuration (one script call). */
    private <T> CompletableFuture<Decision<T>> read(String accountId, Function<AccountLedger, Decision<T>> answer) {
        return configs.observe(accountId, null, List.of(), false).thenApply(observed -> observed == null
                ? Refusals.<T>accountNotFound(accountId)
                : answer.apply(observed.config().replica()));
    }

    private static <T> CompletableFuture<Decision<T>> decided(CompletableFuture<AccountConfigs.Outcome<T>> change) {
        return change.thenApply(AccountConfigs.Outcome::decision);
    }

    private static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }

    // ---------------------------------------------------------------- seats (see RedisSeats)

    @Override
    public CompletionStage<Decision<LicensedUser>> grantLicense(String accountId, String product, String userId, String poolId, Instant now) {
        return seats.grant(accountId, product, userId, poolId, now)
                .thenCompose(d -> history.counted(accountId, d, product, userId, poolId, now));
    }

    @Override
    public CompletionStage<Decision<Boolean>> removeLicense(String accountId, String product, String userId, Instant now) {
        return seats.remove(accountId, product, userId, now);
    }

    @Override
    public CompletionStage<Decision<LicensedUser>> transferLicense(String accountId, String product, String fromUserId,
                                                                   String toUserId, String poolId, Instant now) {
        return seats.transfer(accountId, product, fromUserId, toUserId, poolId, now);
    }

    @Override
    public CompletionStage<Decision<Page<LicensedUser>>> licensedUsers(String accountId, SeatQuery query, Instant now) {
        return seats.licensedUsers(accountId, query, now);
    }

    @Override
    public CompletionStage<Decision<Optional<Seat>>> seat(String accountId, String product, String userId, Instant now) {
        return seats.seat(accountId, product, userId);
    }

    @Override
    public CompletionStage<Decision<Activation>> activate(String accountId, ActivationRequest request) {
        return seats.activate(accountId, request).thenCompose(d -> history.counted(accountId, d, request.product(),
                request.userId(), null, request.now()));
    }

    @Override
    public CompletionStage<Decision<Page<Activation>>> activations(String accountId, SeatQuery query, Instant now) {
        return seats.activations(accountId, query, now);
    }
}
