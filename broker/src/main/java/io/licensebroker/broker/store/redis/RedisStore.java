package io.licensebroker.broker.store.redis;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AcquirePlan;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Credential;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.Machine;
import io.licensebroker.broker.core.OfflineLicense;
import io.licensebroker.broker.core.Organization;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Role;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.SessionPage;
import io.licensebroker.broker.core.SessionQuery;
import io.licensebroker.broker.core.StoreObserver;
import io.licensebroker.broker.core.StoreUnavailableException;
import io.licensebroker.broker.core.Subscription;
import io.licensebroker.broker.core.User;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.ZAddArgs;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import static io.licensebroker.broker.store.redis.Codec.denial;
import static io.licensebroker.broker.store.redis.Codec.isOk;
import static io.licensebroker.broker.store.redis.Codec.kind;
import static io.licensebroker.broker.store.redis.Codec.ms;
import static io.licensebroker.broker.store.redis.Codec.num;
import static io.licensebroker.broker.store.redis.Codec.str;

/**
 * The store for several stateless broker nodes sharing one truth in Redis (one server or a Redis
 * Cluster). Every verb that changes an account is one Lua script run atomically on the account's
 * slot, with the rules of {@code AccountLedger} (see {@code resources/redis}); there is no
 * read-then-write across round trips. Keys are laid out in {@link Keys}.
 *
 * <p>Time: with {@link TimeSource#SERVER} (production) leases, expiry and every other "now" of a
 * script come from the Redis server's clock, so nodes with skewed clocks agree; only the bounds of
 * a requested offline license are checked against the caller's clock, which computed them.
 * {@link TimeSource#CALLER} uses the times the core passes (tests drive them with a clock).
 *
 * <p>Caching: the organization index is immutable once written, so found entries are cached
 * (misses never are: a key created on another node works at once). Credentials are cached (bounded)
 * with the credentials epoch ({@link Keys#CREDENTIAL_EPOCH}) they were read under; every lookup
 * reads the epoch (one GET) and uses the cached entry only while it is unchanged. Adding and
 * revoking a credential replace the epoch in the same script, so every node refuses a revoked
 * credential from its very next call, and a Redis that lost data (a wipe: no epoch at all; a
 * failover or restore that lost recent writes: an older epoch) matches no cached entry. Acquire plans are
 * cached per user with the account's configuration version they were computed from; the acquire
 * script refuses a plan of another version (STALE, with the current configuration) before
 * changing anything, and the plan is recomputed: a policy or user change made on any node is obeyed
 * by the very next acquire on every node. Pools and dedicated licenses are read inside the script.
 *
 * <p>Reaping: a global index holds, per account, a lower bound of its earliest lease end, so a
 * pass visits only accounts with something due (see {@link #expireLeases}). Any node reaps any
 * account; reaping is idempotent.
 *
 * <p>Durability is Redis's: run it with AOF ({@code appendonly yes}, {@code appendfsync everysec}
 * or {@code always}) and replicas as the deployment requires. Redis 6.2 or newer (ZADD LT).
 */
public final class RedisStore implements LicenseStore {
    private static final System.Logger LOG = System.getLogger(RedisStore.class.getName());
    /** Sessions one reap script ends at most (the script holds the account's slot meanwhile). */
    private static final int REAP_BATCH = 1_000;
    /** Accounts one reap round visits at most. */
    private static final int DUE_BATCH = 256;
    /** Rounds one {@link #expireLeases} call runs at most; the next call goes on. */
    private static final int MAX_REAP_ROUNDS = 64;
    /** Accounts per page when re-indexing every account. */
    private static final int REINDEX_PAGE = 200;
    /** Plans recomputed for one acquire at most, when the configuration keeps changing meanwhile. */
    private static final int MAX_PLAN_ATTEMPTS = 16;
    private static final String[] NO_ARGS = new String[0];
    /** Arguments every account script takes before its own (see common.lua). */
    private static final int COMMON_ARGS = 9;

    /** Where scripts take "now" from. */
    public enum TimeSource {
        /** The Redis server's clock (TIME): nodes with skewed clocks agree on every lease. */
        SERVER,
        /** The times the caller passes: for tests that drive time with their own clock. */
        CALLER
    }

    /**
     * How to reach Redis and behave.
     *
     * @param uri                {@code redis://host:port}, or a comma list of Redis Cluster seeds (a
     *                           single server that reports cluster mode is used as a seed)
     * @param commandTimeout     every command fails after this long (and the call answers UNAVAILABLE)
     * @param timeSource         see {@link TimeSource}
     * @param tombstoneRetention how long a renew of an ended session still learns why it ended
     * @param reindexEvery       how often this node re-indexes every account for reaping: repairs the
     *                           index after a node died between a session's start and its index entry
     * @param maxQueuedCommands  commands waiting for a reply at most; more are refused at once
     * @param replyThreads       threads that handle replies (never Netty's)
     * @param observer           hears of leases the reaper ended, of lost state and re-admitted sessions
     * @param errors             hears the kind of every Redis failure (for an error counter)
     * @param learningPeriod     after Redis is found to have lost state, how long free licenses are kept
     *                           for the sessions granted before the loss (zero: not at all); at least
     *                           a lease, so that every such session's agent has renewed
     */
    public record Options(String uri, Duration commandTimeout, TimeSource timeSource, Duration tombstoneRetention,
                          Duration reindexEvery, int maxQueuedCommands, int replyThreads, StoreObserver observer,
                          Consumer<String> errors, Duration learningPeriod) {
        public Options {
            Objects.requireNonNull(uri, "uri");
            Objects.requireNonNull(observer, "observer");
            Objects.requireNonNull(errors, "errors");
            Objects.requireNonNull(timeSource, "timeSource");
            positive(commandTimeout, "commandTimeout");
            positive(tombstoneRetention, "tombstoneRetention");
            positive(reindexEvery, "reindexEvery");
            Objects.requireNonNull(learningPeriod, "learningPeriod");
            if (learningPeriod.isNegative()) {
                throw new IllegalArgumentException("learningPeriod cannot be negative: " + learningPeriod);
            }
            if (maxQueuedCommands < 1 || replyThreads < 1) {
                throw new IllegalArgumentException("maxQueuedCommands and replyThreads must be positive");
            }
        }

        /** Server time, 500 ms timeouts, 10 minutes of tombstones, a re-index every minute, a learning period of a minute. */
        public static Options defaults(String uri) {
            return new Options(uri, Duration.ofMillis(500), TimeSource.SERVER, Duration.ofMinutes(10), Duration.ofMinutes(1),
                    10_000, Math.max(2, Runtime.getRuntime().availableProcessors()), StoreObserver.NONE, kind -> { },
                    Duration.ofMinutes(1));
        }

        public Options withCommandTimeout(Duration timeout) {
            return new Options(uri, timeout, timeSource, tombstoneRetention, reindexEvery, maxQueuedCommands, replyThreads, observer, errors, learningPeriod);
        }

        public Options withTimeSource(TimeSource source) {
            return new Options(uri, commandTimeout, source, tombstoneRetention, reindexEvery, maxQueuedCommands, replyThreads, observer, errors, learningPeriod);
        }

        public Options withTombstoneRetention(Duration retention) {
            return new Options(uri, commandTimeout, timeSource, retention, reindexEvery, maxQueuedCommands, replyThreads, observer, errors, learningPeriod);
        }

        public Options withReindexEvery(Duration every) {
            return new Options(uri, commandTimeout, timeSource, tombstoneRetention, every, maxQueuedCommands, replyThreads, observer, errors, learningPeriod);
        }

        public Options withObserver(StoreObserver storeObserver) {
            return new Options(uri, commandTimeout, timeSource, tombstoneRetention, reindexEvery, maxQueuedCommands, replyThreads,
                    storeObserver, errors, learningPeriod);
        }

        public Options withErrorCounter(Consumer<String> errorKinds) {
            return new Options(uri, commandTimeout, timeSource, tombstoneRetention, reindexEvery, maxQueuedCommands, replyThreads,
                    observer, errorKinds, learningPeriod);
        }

        public Options withLearningPeriod(Duration period) {
            return new Options(uri, commandTimeout, timeSource, tombstoneRetention, reindexEvery, maxQueuedCommands, replyThreads,
                    observer, errors, period);
        }

        private static void positive(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive: " + d);
            }
        }
    }

    /** A credential and the credentials epoch it was read under. */
    private record CachedCredential(String epoch, Credential credential) {
    }

    /** A plan and the configuration version it was computed from. */
    private record CachedPlan(String version, AcquirePlan plan) {
    }

    private final RedisLink link;
    private final String timeSource;
    private final String retentionMs;
    private final String learningMs;
    private final String operationMs;
    private final Duration reindexEvery;
    private final SecureRandom random = new SecureRandom();
    /** Names this node's acquire count in each account (see common.lua, "state loss"); new per process. */
    private final String nodeId = Ids.random(random, 16);
    /**
     * The highest acquire count of this node seen per account. Kept a day after this node's last
     * acquire there (Redis forgets idle nodes after a week, so a count is never compared with a
     * pruned one).
     */
    private final Cache<String, Long> acquiresSeen = Caffeine.newBuilder().maximumSize(1_000_000)
            .expireAfterWrite(Duration.ofDays(1)).build();
    private final AtomicLong operations = new AtomicLong();
    /** Each account's key for session tickets: made once, never changed. */
    private final Cache<String, SessionTickets.AccountKey> sessionKeys = Caffeine.newBuilder().maximumSize(100_000).build();
    private final Cache<String, CachedCredential> credentials = Caffeine.newBuilder().maximumSize(100_000).build();
    private final Cache<String, String> organizationAccounts = Caffeine.newBuilder().maximumSize(100_000).build();
    private final Cache<String, CachedPlan> plans = Caffeine.newBuilder().maximumSize(100_000)
            .expireAfterAccess(Duration.ofMinutes(10)).build();
    /** System.nanoTime() at which the next re-index of every account is due; the first pass does one. */
    private final AtomicLong nextReindex = new AtomicLong(System.nanoTime());
    private final AtomicBoolean reindexing = new AtomicBoolean();

    private final StoreObserver observer;

    private RedisStore(RedisLink link, Options options) {
        this.link = link;
        this.observer = options.observer();
        this.timeSource = options.timeSource() == TimeSource.SERVER ? "S" : "C";
        this.retentionMs = Long.toString(options.tombstoneRetention().toMillis());
        this.learningMs = Long.toString(options.learningPeriod().toMillis());
        // A re-sent command arrives within its timeout; the first run's reply is kept a while longer.
        this.operationMs = Long.toString(Math.max(5_000, 4 * options.commandTimeout().toMillis()));
        this.reindexEvery = options.reindexEvery();
    }

    /**
     * Connects (blocking the caller, at start-up) and checks that the Redis user may run the
     * broker's scripts on its keys. Fails with {@link StoreUnavailableException} when Redis cannot
     * be reached, with {@link io.licensebroker.broker.core.StoreRefusedException} (saying which
     * permission is missing) when the user lacks one.
     */
    public static RedisStore connect(Options options) {
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
        // The account first, then the global list: a list entry never names a missing account. An
        // attempt that stopped in between is repaired by the next createAccount of that id.
        return runOnce(account.id(), null, Script.ACCOUNT_CREATE, account.name()).thenCompose(reply -> {
            if (isOk(reply)) {
                return link.<Boolean>call(c -> c.hset(Keys.ACCOUNTS, account.id(), account.name()))
                        .thenApply(x -> Decision.granted(account));
            }
            Decision<Account> refused = denial(reply);
            String existingName = str(reply, 4);
            if (existingName == null) {
                return done(refused);
            }
            return link.<Boolean>call(c -> c.hsetnx(Keys.ACCOUNTS, account.id(), existingName)).thenApply(x -> refused);
        });
    }

    @Override
    public CompletionStage<Optional<Account>> account(String accountId) {
        return read(accountId, "account", "").thenApply(reply -> isOk(reply)
                ? Optional.of(new Account(accountId, str(reply, 1)))
                : Optional.<Account>empty());
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
        boolean superAdmin = credential.role() == Role.SUPER_ADMIN;
        // Accounts are never deleted, so "the account exists" stays true once read: checking it,
        // then writing the global credential, cannot store a key for a missing account.
        CompletableFuture<Decision<Credential>> accountCheck = superAdmin
                ? done(Decision.granted(credential))
                : read(credential.accountId(), "account", "").thenApply(reply -> isOk(reply)
                        ? Decision.granted(credential)
                        : denial(reply));
        return accountCheck.thenCompose(check -> {
            if (!check.isGranted()) {
                return done(check);
            }
            return link.<String>eval(Script.CREDENTIAL_ADD, ScriptOutputType.STATUS,
                            new String[]{Keys.CREDENTIALS, Keys.SUPER_ADMIN, Keys.CREDENTIAL_EPOCH},
                            credential.lookupId(), Codec.encode(credential), superAdmin ? "1" : "0", newEpoch())
                    .thenApply(x -> check);
        });
    }

    @Override
    public CompletionStage<Optional<Credential>> credential(String lookupId) {
        // The epoch is read before the credential: a revocation between the two reads replaces the
        // epoch, so an entry cached here under the old one is never used again.
        return link.<String>call(c -> c.get(Keys.CREDENTIAL_EPOCH)).thenCompose(epoch -> {
            CachedCredential cached = credentials.getIfPresent(lookupId);
            if (cached != null && epoch != null && epoch.equals(cached.epoch())) {
                return done(Optional.of(cached.credential()));
            }
            if (epoch == null) {
                // First use, or Redis lost its data: start an epoch so that caching resumes. NX: a
                // concurrent revocation's epoch is never overwritten.
                String fresh = newEpoch();
                link.<String>call(c -> c.set(Keys.CREDENTIAL_EPOCH, fresh, SetArgs.Builder.nx()))
                        .whenComplete((v, e) -> { });
            }
            return link.<String>call(c -> c.hget(Keys.CREDENTIALS, lookupId)).thenApply(encoded -> {
                if (encoded == null) {
                    credentials.invalidate(lookupId);
                    return Optional.<Credential>empty();
                }
                Credential found = Codec.credential(lookupId, encoded);
                if (epoch != null) {
                    credentials.put(lookupId, new CachedCredential(epoch, found));
                }
                return Optional.of(found);
            });
        });
    }

    @Override
    public CompletionStage<Decision<Credential>> revokeCredential(String lookupId) {
        return link.<List<Object>>eval(Script.CREDENTIAL_REVOKE, ScriptOutputType.MULTI,
                        new String[]{Keys.CREDENTIALS, Keys.CREDENTIAL_EPOCH}, lookupId, newEpoch())
                .thenApply(reply -> {
                    credentials.invalidate(lookupId);
                    if (num(reply, 0) != 1) {
                        return Decision.<Credential>denied(Reason.CREDENTIAL_NOT_FOUND, "no credential " + lookupId, null);
                    }
                    return Decision.granted(Codec.credential(lookupId, str(reply, 1)));
                });
    }

    private String newEpoch() {
        return Ids.random(random, 24);
    }

    @Override
    public CompletionStage<Boolean> hasSuperAdmin() {
        return link.<Long>call(c -> c.exists(Keys.SUPER_ADMIN)).thenApply(n -> n > 0);
    }

    // ---------------------------------------------------------------- configuration

    @Override
    public CompletionStage<Decision<Subscription>> setSubscription(String accountId, String product, long licenses,
                                                                   long machineQuota, Instant expiresAt, Instant now) {
        Subscription stored = new Subscription(accountId, product, licenses, machineQuota, Instant.ofEpochMilli(expiresAt.toEpochMilli()));
        return run(accountId, now, Script.SUBSCRIPTION_SET, product, Long.toString(licenses), Long.toString(machineQuota), ms(expiresAt))
                .thenApply(reply -> isOk(reply) ? Decision.granted(stored) : denial(reply));
    }

    @Override
    public CompletionStage<Decision<Subscription>> subscription(String accountId, String product) {
        return read(accountId, "subscription", product).thenApply(reply -> {
            if (!isOk(reply)) {
                return denial(reply);
            }
            if (reply.size() == 1) {
                return Decision.granted(null);
            }
            return Decision.granted(new Subscription(accountId, product, num(reply, 1), num(reply, 2), Codec.instant(str(reply, 3))));
        });
    }

    @Override
    public CompletionStage<Decision<Organization>> createOrganization(String accountId, String parentId, String name) {
        // The global index entry is reserved first (with the id), then the account creates the
        // organization; see global_org_reserve.lua for why this order is the safe one.
        return link.<String>eval(Script.ORG_RESERVE, ScriptOutputType.VALUE,
                        new String[]{Keys.ORGANIZATION_SEQUENCE, Keys.ORGANIZATIONS}, accountId)
                .thenCompose(orgId -> runOnce(accountId, null, Script.ORG_CREATE, orgId, parentId == null ? "" : parentId, name)
                        .thenCompose(reply -> {
                            if (isOk(reply)) {
                                organizationAccounts.put(orgId, accountId);
                                return done(Decision.granted(new Organization(orgId, accountId, parentId, name)));
                            }
                            Decision<Organization> refused = denial(reply);
                            return link.<Long>call(c -> c.hdel(Keys.ORGANIZATIONS, orgId)).handle((x, e) -> refused);
                        }));
    }

    @Override
    public CompletionStage<Decision<List<Organization>>> organizations(String accountId) {
        return read(accountId, "organizations", "").thenApply(reply -> isOk(reply)
                ? Decision.granted(Codec.organizations(accountId, reply, 1, (reply.size() - 1) / 3, 3))
                : denial(reply));
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
            return read(accountId, "organization", orgId).thenApply(reply -> {
                if (isOk(reply) && num(reply, 1) == 1) {
                    organizationAccounts.put(orgId, accountId);
                    return Optional.of(accountId);
                }
                return Optional.<String>empty();
            });
        });
    }

    @Override
    public CompletionStage<Decision<LicenseUsage>> setDedicated(String accountId, String orgId, String product, long licenses, Instant now) {
        return run(accountId, now, Script.DEDICATED_SET, orgId, product, Long.toString(licenses))
                .thenApply(reply -> isOk(reply) ? Decision.granted(Codec.usage(accountId, product, reply)) : denial(reply));
    }

    @Override
    public CompletionStage<Decision<User>> upsertUser(String accountId, String userId, String assignedOrgId, List<String> projectOrgIds) {
        List<String> projects = List.copyOf(new LinkedHashSet<>(projectOrgIds));
        List<String> args = new ArrayList<>(projects.size() + 2);
        args.add(userId);
        args.add(assignedOrgId == null ? "" : assignedOrgId);
        args.addAll(projects);
        return run(accountId, null, Script.USER_UPSERT, args.toArray(NO_ARGS))
                .thenApply(reply -> isOk(reply) ? Decision.granted(new User(accountId, userId, assignedOrgId, projects)) : denial(reply));
    }

    @Override
    public CompletionStage<Decision<User>> user(String accountId, String userId) {
        return read(accountId, "user", userId)
                .thenApply(reply -> isOk(reply) ? Decision.granted(Codec.user(accountId, userId, str(reply, 1))) : denial(reply));
    }

    @Override
    public CompletionStage<Decision<List<User>>> users(String accountId) {
        return read(accountId, "users", "").thenApply(reply -> {
            if (!isOk(reply)) {
                return denial(reply);
            }
            List<User> out = new ArrayList<>();
            for (int i = 1; i + 1 < reply.size(); i += 2) {
                out.add(Codec.user(accountId, str(reply, i), str(reply, i + 1)));
            }
            return Decision.granted(out);
        });
    }

    @Override
    public CompletionStage<Decision<PolicySettings>> setPolicy(String accountId, PolicySettings settings) {
        return run(accountId, null, Script.POLICY_SET, settings.policy().name(), settings.allowFallback() ? "1" : "0")
                .thenApply(reply -> isOk(reply) ? Decision.granted(settings) : denial(reply));
    }

    @Override
    public CompletionStage<Decision<PolicySettings>> policy(String accountId) {
        return read(accountId, "policy", "")
                .thenApply(reply -> isOk(reply) ? Decision.granted(Codec.policy(str(reply, 1), str(reply, 2))) : denial(reply));
    }

    @Override
    public CompletionStage<Decision<LicenseUsage>> usage(String accountId, String product, Instant now) {
        return run(accountId, now, Script.READ, "usage", product)
                .thenApply(reply -> isOk(reply) ? Decision.granted(Codec.usage(accountId, product, reply)) : denial(reply));
    }

    // ---------------------------------------------------------------- sessions

    @Override
    public CompletionStage<Decision<Session>> acquire(String accountId, AcquireRequest request) {
        return acquire(accountId, request, false).thenCompose(d -> presented(accountId, d));
    }

    /** {@code readmit}: take back a session Redis forgot, during a learning period (see {@link #renew}). */
    private CompletableFuture<Decision<Session>> acquire(String accountId, AcquireRequest request, boolean readmit) {
        String planKey = accountId + '\n' + request.userId();
        return acquire(accountId, request, planKey, plans.getIfPresent(planKey), 1, readmit);
    }

    /**
     * One attempt with {@code plan} (null: none cached; the script then answers STALE with the
     * configuration to compute one from, and nothing has changed yet).
     */
    private CompletableFuture<Decision<Session>> acquire(String accountId, AcquireRequest r, String planKey, CachedPlan plan,
                                                         int attempt, boolean readmit) {
        List<String> args = new ArrayList<>();
        args.add(plan == null ? "" : plan.version());
        args.add(r.product());
        args.add(r.userId());
        args.add(r.machineId());
        args.add(r.requestId());
        args.add(r.newSessionId());
        args.add(ms(r.leaseExpiresAt()));
        args.add(Long.toString(r.leaseExpiresAt().toEpochMilli() - r.now().toEpochMilli()));
        if (plan != null) {
            args.add(plan.plan().exhaustedReason().name());
            args.add(readmit ? "1" : "0");
            for (AcquirePlan.Step step : plan.plan().steps()) {
                args.add(step instanceof AcquirePlan.PoolStep p ? "P" + (p.fallback() ? '1' : '0') + p.poolId() : "A");
            }
        } else {
            args.add(Reason.NO_LICENSE_AVAILABLE.name());
            args.add(readmit ? "1" : "0");
        }
        return run(accountId, r.now(), Script.ACQUIRE, args.toArray(NO_ARGS)).thenCompose(reply -> {
            if ("STALE".equals(kind(reply))) {
                CachedPlan fresh = planFrom(accountId, r.userId(), reply);
                plans.put(planKey, fresh);
                if (attempt >= MAX_PLAN_ATTEMPTS) {
                    throw new StoreUnavailableException("the configuration of account " + accountId
                            + " changed during each of " + attempt + " attempts", null);
                }
                return acquire(accountId, r, planKey, fresh, attempt + 1, readmit);
            }
            if (!isOk(reply)) {
                return done(denial(reply));
            }
            Session session = Codec.session(accountId, reply, 2);
            if (num(reply, 1) == 0) {
                return done(Decision.granted(session));
            }
            return index(accountId, session.leaseExpiresAt().toEpochMilli()).thenApply(x -> Decision.granted(session));
        });
    }

    /** The plan from a STALE reply: {'STALE', version, policy, fallback, user record or ''}. */
    private static CachedPlan planFrom(String accountId, String userId, List<Object> reply) {
        String record = Codec.optional(reply, 4);
        AcquirePlan plan = record == null
                // no such user: the script answers USER_NOT_FOUND, in the ledger's order of checks
                ? new AcquirePlan(List.of(), Reason.NO_LICENSE_AVAILABLE)
                : AcquirePlan.resolve(accountId, Codec.policy(str(reply, 2), str(reply, 3)), Codec.user(accountId, userId, record));
        return new CachedPlan(str(reply, 1), plan);
    }

    /**
     * Renews by the session's name. During a learning period a session Redis does not know is
     * re-admitted when its id carries a valid ticket for this user (see {@link SessionTickets}): it
     * is acquired again under the same id, through the same plan and checks as any acquire, so the
     * pools can never be oversubscribed; if no license is free for it, it is lost after all.
     */
    @Override
    public CompletionStage<Decision<Session>> renew(String accountId, String sessionId, String userId, Instant now, Instant newExpiry) {
        String name = Ids.sessionName(sessionId);
        return run(accountId, now, Script.RENEW, name, userId == null ? "" : userId, ms(newExpiry),
                Long.toString(newExpiry.toEpochMilli() - now.toEpochMilli()))
                .thenCompose(reply -> {
                    if ("READMIT".equals(kind(reply))) {
                        return readmit(accountId, sessionId, userId, now, newExpiry);
                    }
                    return presented(accountId, isOk(reply) ? Decision.granted(Codec.session(accountId, reply, 1)) : denial(reply));
                });
    }

    private CompletableFuture<Decision<Session>> readmit(String accountId, String sessionId, String userId, Instant now,
                                                         Instant newExpiry) {
        String name = Ids.sessionName(sessionId);
        Decision<Session> unknown = Decision.denied(Reason.SESSION_NOT_FOUND, "no live session " + name, "session_id");
        Optional<SessionTickets.Ticket> ticket = SessionTickets.parse(sessionId);
        if (ticket.isEmpty() || userId == null) {
            return done(unknown);
        }
        SessionTickets.Ticket t = ticket.get();
        return sessionKey(accountId).thenCompose(key -> {
            if (key == null || !SessionTickets.verify(key, t, userId)) {
                return done(unknown);
            }
            AcquireRequest again = new AcquireRequest(t.product(), userId, t.machineId(), "", name, now, newExpiry);
            return acquire(accountId, again, true).thenApply(d -> {
                if (d.isGranted()) {
                    observer.sessionReadmitted();
                    LOG.log(System.Logger.Level.INFO, "re-admitted session {0} that Redis had lost", name);
                    return Decision.granted(SessionTickets.present(key, d.value()));
                }
                Decision.Denied<Session> refused = (Decision.Denied<Session>) d;
                return Decision.<Session>denied(Reason.SESSION_NOT_FOUND, "Redis lost session " + name
                        + " and it could not be taken back: " + refused.detail(), "session_id");
            });
        });
    }

    @Override
    public CompletionStage<Decision<Boolean>> release(String accountId, String sessionId, String userId, Instant now) {
        return runOnce(accountId, now, Script.RELEASE, Ids.sessionName(sessionId), userId == null ? "" : userId)
                .thenApply(reply -> isOk(reply) ? Decision.granted(num(reply, 1) == 1) : denial(reply));
    }

    @Override
    public CompletionStage<Decision<Boolean>> terminate(String accountId, String sessionId, Instant now) {
        return runOnce(accountId, now, Script.TERMINATE, Ids.sessionName(sessionId))
                .thenApply(reply -> isOk(reply) ? Decision.granted(num(reply, 1) == 1) : denial(reply));
    }

    @Override
    public CompletionStage<Decision<SessionPage>> sessions(String accountId, SessionQuery q) {
        return run(accountId, null, Script.SESSIONS, orEmpty(q.product()), orEmpty(q.poolId()), orEmpty(q.userId()),
                orEmpty(q.machineId()), Integer.toString(q.pageSize()), orEmpty(q.pageToken()))
                .thenCompose(reply -> {
                    if (!isOk(reply)) {
                        return done(denial(reply));
                    }
                    List<Session> page = new ArrayList<>();
                    for (int at = 2; at + Codec.SESSION_FIELDS <= reply.size(); at += Codec.SESSION_FIELDS) {
                        page.add(Codec.session(accountId, reply, at));
                    }
                    String next = Codec.optional(reply, 1);
                    if (page.isEmpty()) {
                        return done(Decision.granted(new SessionPage(page, next)));
                    }
                    return sessionKey(accountId).thenApply(key -> Decision.granted(new SessionPage(
                            page.stream().map(session -> SessionTickets.present(key, session)).toList(), next)));
                });
    }

    @Override
    public CompletionStage<Decision<List<Machine>>> machines(String accountId, String product, Instant now) {
        return run(accountId, now, Script.READ, "machines", product).thenApply(reply -> {
            if (!isOk(reply)) {
                return denial(reply);
            }
            record Registered(long seq, Machine machine) {
            }
            List<Registered> all = new ArrayList<>();
            for (int at = 1; at + 4 <= reply.size(); at += 4) {
                String registration = str(reply, at + 1);
                int bar = registration.indexOf('|');
                String offline = Codec.optional(reply, at + 3);
                all.add(new Registered(Long.parseLong(registration.substring(0, bar)), new Machine(str(reply, at), product,
                        Codec.instant(registration.substring(bar + 1)), num(reply, at + 2),
                        offline == null ? null : Codec.instant(offline))));
            }
            all.sort(Comparator.comparingLong(Registered::seq));
            return Decision.granted(all.stream().map(Registered::machine).toList());
        });
    }

    @Override
    public CompletionStage<Decision<Boolean>> deactivateMachine(String accountId, String product, String machineId, Instant now) {
        return runOnce(accountId, now, Script.MACHINE_DEACTIVATE, product, machineId)
                .thenApply(reply -> isOk(reply) ? Decision.granted(num(reply, 1) == 1) : denial(reply));
    }

    @Override
    public CompletionStage<Decision<OfflineLicense>> issueOfflineLicense(String accountId, String product, String machineId,
                                                                         Instant expiresAt, Duration maxLength, Instant now) {
        return runOnce(accountId, now, Script.OFFLINE_ISSUE, product, machineId, ms(expiresAt), Long.toString(maxLength.toMillis()),
                Long.toString(maxLength.toDays()))
                .thenApply(reply -> isOk(reply)
                        ? Decision.granted(new OfflineLicense(accountId, product, machineId, Instant.ofEpochMilli(num(reply, 1)),
                                Instant.ofEpochMilli(expiresAt.toEpochMilli())))
                        : denial(reply));
    }

    // ---------------------------------------------------------------- reaping

    /**
     * Ends the sessions whose lease ran out, in every account with something due, and answers how
     * many this call ended. With {@link TimeSource#SERVER} "ran out" is by the Redis server's clock
     * and {@code now} is not used.
     *
     * <p>The reap index ({@link Keys#REAP_INDEX}) holds, per account, a lower bound of its earliest
     * lease end; a script cannot write it (another slot), so nodes keep it with this protocol:
     * <ul>
     *   <li>an acquire whose lease ends before the account's hint "ri" lowers the hint (in the script)
     *       and then the index entry (ZADD LT); later acquires and renewals need no index write;</li>
     *   <li>a reaper removes the entry, runs the reap script (which ends what is due and sets the hint
     *       to the earliest remaining lease), then adds that lease (ZADD LT). An acquire that ran
     *       before the script is seen by it; one that ran after it compares with the new hint and
     *       indexes itself if earlier. So concurrent reapers and acquirers never lose an account;</li>
     *   <li>a node that dies between a script and its index write is covered by the periodic
     *       re-index of every account ({@link Options#reindexEvery()}).</li>
     * </ul>
     */
    @Override
    public CompletionStage<Integer> expireLeases(Instant now) {
        return reindexIfDue().thenCompose(x -> reapRounds(now, 0, 0)).thenApply(ended -> {
            if (ended > 0) {
                observer.sessionsExpired(ended);
            }
            return ended;
        });
    }

    @Override
    public CompletionStage<Set<String>> products(String accountId) {
        return link.<Set<String>>call(c -> c.smembers(Keys.products(accountId))).thenApply(Set::copyOf);
    }

    private CompletableFuture<Integer> reapRounds(Instant now, int total, int round) {
        return link.<List<Object>>eval(Script.DUE, ScriptOutputType.MULTI, new String[]{Keys.REAP_INDEX},
                timeSource, ms(now), Integer.toString(DUE_BATCH)).thenCompose(due -> {
                    if (due.isEmpty()) {
                        return done(total);
                    }
                    List<CompletableFuture<Integer>> each = new ArrayList<>(due.size());
                    for (Object account : due) {
                        each.add(reapAccount(account.toString(), now));
                    }
                    return CompletableFuture.allOf(each.toArray(new CompletableFuture<?>[0])).thenCompose(v -> {
                        int sum = total;
                        boolean fullBatch = false;
                        for (CompletableFuture<Integer> f : each) {
                            int ended = f.join();
                            sum += ended;
                            fullBatch |= ended == REAP_BATCH;
                        }
                        boolean more = fullBatch || due.size() == DUE_BATCH;
                        return more && round + 1 < MAX_REAP_ROUNDS ? reapRounds(now, sum, round + 1) : done(sum);
                    });
                });
    }

    /** See {@link #expireLeases}: remove, reap, re-add. Answers how many sessions it ended. */
    private CompletableFuture<Integer> reapAccount(String accountId, Instant now) {
        return link.<Long>call(c -> c.zrem(Keys.REAP_INDEX, accountId))
                .thenCompose(x -> run(accountId, now, Script.REAP, Integer.toString(REAP_BATCH)))
                .thenCompose(reply -> {
                    int ended = (int) num(reply, 1);
                    long earliest = num(reply, 2);
                    return earliest < 0 ? done(ended) : index(accountId, earliest).thenApply(y -> ended);
                })
                .exceptionallyCompose(e -> {
                    // The entry may be gone: put the account back as due now, so a later pass retries
                    // (reaping is idempotent). If even that fails, the periodic re-index restores it.
                    LOG.log(System.Logger.Level.DEBUG, "reaping account {0} failed: {1}", accountId, e.toString());
                    return link.<Long>call(c -> c.zadd(Keys.REAP_INDEX, ZAddArgs.Builder.lt(), 0, accountId))
                            .handle((v, f) -> 0);
                });
    }

    /** Lowers the account's reap index entry to {@code leaseEnd}; a failure is repaired by the re-index. */
    private CompletableFuture<Void> index(String accountId, long leaseEnd) {
        return link.<Long>call(c -> c.zadd(Keys.REAP_INDEX, ZAddArgs.Builder.lt(), (double) leaseEnd, accountId))
                .handle((v, e) -> {
                    if (e != null) {
                        LOG.log(System.Logger.Level.DEBUG, "reap index of {0} not written: {1}", accountId, e.toString());
                    }
                    return null;
                });
    }

    /** Every {@link Options#reindexEvery()}: puts every account's earliest lease into the reap index. */
    private CompletableFuture<Void> reindexIfDue() {
        long now = System.nanoTime();
        long next = nextReindex.get();
        if (now - next < 0 || !reindexing.compareAndSet(false, true)) {
            return done(null);
        }
        nextReindex.set(now + reindexEvery.toNanos());
        return reindexPage(ScanCursor.INITIAL).handle((v, e) -> {
            reindexing.set(false);
            if (e != null) {
                LOG.log(System.Logger.Level.WARNING, "re-indexing accounts for reaping failed: " + e);
            }
            return null;
        });
    }

    private CompletableFuture<Void> reindexPage(ScanCursor cursor) {
        return link.<io.lettuce.core.MapScanCursor<String, String>>call(c -> c.hscan(Keys.ACCOUNTS, cursor,
                        ScanArgs.Builder.limit(REINDEX_PAGE)))
                .thenCompose(page -> {
                    List<CompletableFuture<Void>> each = new ArrayList<>();
                    for (String accountId : page.getMap().keySet()) {
                        each.add(run(accountId, null, Script.REAP, "0").thenCompose(reply -> {
                            long earliest = num(reply, 2);
                            return earliest < 0 ? done(null) : index(accountId, earliest);
                        }));
                    }
                    CompletableFuture<Void> all = CompletableFuture.allOf(each.toArray(new CompletableFuture<?>[0]));
                    return page.isFinished() ? all : all.thenCompose(v -> reindexPage(page));
                });
    }

    @Override
    public void close() {
        link.close();
    }

    // ---------------------------------------------------------------- helpers

    /** Runs an account script with the common arguments (see common.lua); {@code now} null: none. */
    private CompletableFuture<List<Object>> run(String accountId, Instant now, Script script, String... verbArgs) {
        return runScript(accountId, now, script, "", verbArgs);
    }

    /**
     * {@link #run} for a change that is not idempotent: a re-send of the command by the Redis client
     * after a reconnect answers what the first run did instead of running again.
     */
    private CompletableFuture<List<Object>> runOnce(String accountId, Instant now, Script script, String... verbArgs) {
        // Unique is enough (the id only tells a re-send from a new call): node id and a counter.
        return runScript(accountId, now, script, nodeId + operations.incrementAndGet(), verbArgs);
    }

    private CompletableFuture<List<Object>> runScript(String accountId, Instant now, Script script, String operationId,
                                                      String... verbArgs) {
        Long seen = acquiresSeen.getIfPresent(accountId);
        String[] args = new String[COMMON_ARGS + verbArgs.length];
        args[0] = accountId;
        args[1] = timeSource;
        args[2] = now == null ? "0" : ms(now);
        args[3] = retentionMs;
        args[4] = nodeId;
        args[5] = seen == null ? "0" : seen.toString();
        args[6] = learningMs;
        args[7] = operationId;
        args[8] = operationMs;
        System.arraycopy(verbArgs, 0, args, COMMON_ARGS, verbArgs.length);
        return link.run(script, new String[]{Keys.account(accountId)}, args).thenApply(wrapped -> {
            // {lost, this node's acquire count, the verb's reply...}: see finish() in common.lua
            long lost = num(wrapped, 0);
            long count = num(wrapped, 1);
            if (count < 0) {
                acquiresSeen.invalidate(accountId);
            } else if (count > 0 && (seen == null || count > seen)) {
                acquiresSeen.asMap().merge(accountId, count, Math::max);
            }
            if (lost > 0) {
                // The script has put the count back to what this node had seen: it is reported once.
                LOG.log(System.Logger.Level.WARNING, "Redis lost state of account {0}: {1} acquires this node had seen are gone; {2}",
                        accountId, lost, "0".equals(learningMs) ? "no learning period (--redis-learning-period 0s)"
                                : "free licenses are kept for the sessions granted before the loss for " + learningMs + " ms");
                observer.stateLost(accountId, lost);
            }
            return wrapped.subList(2, wrapped.size());
        });
    }

    /** The account's key for session tickets, or null when the account does not exist. */
    private CompletableFuture<SessionTickets.AccountKey> sessionKey(String accountId) {
        SessionTickets.AccountKey cached = sessionKeys.getIfPresent(accountId);
        if (cached != null) {
            return done(cached);
        }
        byte[] candidate = new byte[32];
        random.nextBytes(candidate);
        return run(accountId, null, Script.SESSION_KEY, HexFormat.of().formatHex(candidate)).thenApply(reply -> {
            if (!isOk(reply)) {
                return null;
            }
            SessionTickets.AccountKey key = new SessionTickets.AccountKey(HexFormat.of().parseHex(str(reply, 1)));
            sessionKeys.put(accountId, key);
            return key;
        });
    }

    /** A granted session as agents see it: with its ticketed id. */
    private CompletableFuture<Decision<Session>> presented(String accountId, Decision<Session> decision) {
        if (!decision.isGranted()) {
            return done(decision);
        }
        return sessionKey(accountId).thenApply(key -> key == null
                ? decision
                : Decision.granted(SessionTickets.present(key, decision.value())));
    }

    private CompletableFuture<List<Object>> read(String accountId, String what, String arg) {
        return run(accountId, null, Script.READ, what, arg);
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }

    private static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }
}
