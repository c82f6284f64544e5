package io.licensebroker.broker.store.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.licensebroker.broker.core.AccountLedger;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.Journal;
import io.licensebroker.broker.core.LedgerEvent;
import io.licensebroker.broker.core.LicenseModel;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Refusals;
import io.licensebroker.broker.core.StoreUnavailableException;
import io.licensebroker.broker.core.Subscription;
import io.licensebroker.broker.core.UsageHistory;
import io.licensebroker.broker.store.memory.EventEncoding;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static java.util.concurrent.CompletableFuture.completedFuture;

/**
 * Where the Redis store's rules come from: the core's {@link AccountLedger}, run on this node over
 * the account's configuration. Redis keeps each account's configuration (everything but sessions
 * and machines) as one value with a version; nodes cache it by version.
 *
 * <p>An admin change: read the configuration and the counts the rules need (one script,
 * observe.lua), let the core decide on a ledger built from them, and send what it decided — the
 * new configuration, the sessions to move, the machine to register — with the version it read and
 * one guard per pool the change made smaller ("its live sessions stay within its new size"). The
 * apply script takes it only if the version and every guard still hold; otherwise the node reads
 * again and the core decides again. So Redis decides nothing, and every rule, refusal and word is
 * the core's, exactly as the embedded store says it. Besides what the events say, apply.lua does
 * the store's upkeep of them: sessions and floating activations move with a revoke, the lease of
 * a removed floating seat ends, and a model change holds only while the product has no sessions.
 *
 * <p>A node runs its changes of one account one after another ({@link #change}): it never
 * contends with itself, so {@link #MAX_ATTEMPTS} is spent only on other nodes' changes. A change
 * that lost to another node's decides again at once from what apply.lua's stale answer carries
 * (the new configuration and the counts), and after a second loss waits a random, growing while
 * before it reads again: without that, a node whose decisions take a little longer could lose
 * every race to a busy other node.
 */
final class AccountConfigs {
    /**
     * Attempts of one change while other nodes keep changing the account meanwhile (this node's own
     * changes of one account wait for each other, see {@link #change}).
     */
    static final int MAX_ATTEMPTS = 16;
    /** The longest random wait between two attempts of one change (see {@link #decide}). */
    private static final long MAX_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final Base64.Encoder B64 = Base64.getEncoder();
    private static final Base64.Decoder B64D = Base64.getDecoder();
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * One version of an account's configuration. Its {@code replica} is only ever read, and decoded
     * when first asked for: a node that learns a version only to decide a change from it (on a
     * ledger of its own) never pays for a second decoding, which would make it the slower one in
     * the next race with another node.
     */
    static final class Config {
        private final String accountId;
        private final String version;
        private final String encoded;
        private volatile AccountLedger replica;

        Config(String accountId, String version, String encoded, AccountLedger replica) {
            this.accountId = accountId;
            this.version = version;
            this.encoded = encoded;
            this.replica = replica;
        }

        String version() {
            return version;
        }

        String encoded() {
            return encoded;
        }

        AccountLedger replica() {
            AccountLedger r = replica;
            if (r == null) {
                synchronized (this) {
                    r = replica;
                    if (r == null) {
                        r = fresh(accountId, encoded, Journal.NONE);
                        replica = r;
                    }
                }
            }
            return r;
        }
    }

    /** What observe.lua counted, with the configuration it counted under. */
    record Observed(Config config, String name, Map<String, Long> inUse, long machines, Set<String> registered, JsonNode machineList) {
    }

    /** What a change decided, and what apply.lua answered (null when nothing was applied). */
    record Outcome<T>(Decision<T> decision, JsonNode applied) {
    }

    /** Extra steps a change asks apply.lua for, beyond what the ledger's events say. */
    static final class Effects {
        ObjectNode endMachine;

        void endMachine(String product, String machineId, String cause, boolean unregister) {
            endMachine = ScriptRunner.request().put("product", product).put("id", machineId).put("cause", cause)
                    .put("unregister", unregister);
        }
    }

    @FunctionalInterface
    interface Verb<T> {
        Decision<T> decide(AccountLedger ledger, Effects effects);
    }

    private final ScriptRunner scripts;
    /**
     * Per account, the last change this node started there (an entry lives while changes of the
     * account are in flight): each change starts when the one before it is done.
     */
    private final ConcurrentHashMap<String, CompletableFuture<?>> lastChange = new ConcurrentHashMap<>();
    private final Cache<String, Config> cache = Caffeine.newBuilder().maximumSize(100_000)
            .expireAfterAccess(Duration.ofMinutes(10)).build();

    AccountConfigs(ScriptRunner scripts) {
        this.scripts = scripts;
    }

    /**
     * A configuration version: random, so that versions name configurations uniquely even across a
     * loss of Redis state (a counter would hand a lost version number to another configuration,
     * and a node that cached the lost one would decide from it).
     */
    static String newVersion() {
        return Ids.random(RANDOM, 20);
    }

    /** The configuration an account's new state starts from. */
    static String encode(String accountId, List<LedgerEvent> configuration) {
        return B64.encodeToString(EventEncoding.encode(accountId, configuration));
    }

    /** A ledger over this configuration that may be changed (the cached replica never is). */
    static AccountLedger fresh(String accountId, String encoded, Journal changes) {
        return AccountLedger.ofConfiguration(accountId, EventEncoding.decode(B64D.decode(encoded)), changes);
    }

    /** The cached configuration, if any (it may be out of date: a script checks the version). */
    Config cached(String accountId) {
        return cache.getIfPresent(accountId);
    }

    /** Remembers the configuration a script answered with (stale.version, stale.config). */
    Config learn(String accountId, JsonNode reply) {
        String version = reply.path("version").asText();
        Config current = cache.getIfPresent(accountId);
        if (current != null && current.version().equals(version)) {
            return current;
        }
        String encoded = reply.path("config").asText();
        Config config = new Config(accountId, version, encoded, null);
        cache.put(accountId, config);
        return config;
    }

    /**
     * Reads the configuration and, for {@code product} (null: none), the live sessions of every
     * pool, the registered machines and which of {@code machines} are registered. Null when there
     * is no such account.
     */
    CompletableFuture<Observed> observe(String accountId, String product, List<String> machines, boolean listMachines) {
        return observe(accountId, product, machines, listMachines, null, 0);
    }

    private CompletableFuture<Observed> observe(String accountId, String product, List<String> machines, boolean listMachines,
                                                Instant now, int attempt) {
        Config known = cache.getIfPresent(accountId);
        ObjectNode req = ScriptRunner.request().put("version", known == null ? "" : known.version())
                .put("product", product == null ? "" : product).put("list_machines", listMachines);
        ArrayNode pools = req.putArray("pools");
        if (known != null && product != null) {
            known.replica().poolIds().forEach(pools::add);
        }
        ArrayNode asked = req.putArray("machines");
        machines.forEach(asked::add);
        return scripts.run(accountId, now, Script.OBSERVE, req).thenCompose(reply -> {
            if (!"ok".equals(ScriptRunner.outcome(reply))) {
                return completedFuture(null);
            }
            Config config = reply.hasNonNull("config") ? learn(accountId, reply) : known;
            if (product != null && config != known && attempt < MAX_ATTEMPTS
                    && (known == null || !known.replica().poolIds().equals(config.replica().poolIds()))) {
                // The pools were counted for another version: count those of this one.
                return observe(accountId, product, machines, listMachines, now, attempt + 1);
            }
            return completedFuture(observed(reply, config, reply.path("name").asText()));
        });
    }

    /** The counts a script answered (observe.lua, or apply.lua's stale answer), under {@code config}. */
    private static Observed observed(JsonNode reply, Config config, String name) {
        Map<String, Long> inUse = new HashMap<>();
        reply.path("in_use").fields().forEachRemaining(e -> inUse.put(e.getKey(), e.getValue().asLong()));
        Set<String> registered = new HashSet<>();
        reply.path("registered").forEach(m -> registered.add(m.asText()));
        return new Observed(config, name, inUse, reply.path("machines").asLong(), registered, reply.path("machine_list"));
    }

    /** A ledger for {@code observed} that knows its counts of {@code product} (null: none). */
    static AccountLedger counted(String accountId, Observed observed, String product, Journal changes) {
        AccountLedger ledger = fresh(accountId, observed.config().encoded(), changes);
        if (product != null) {
            ledger.observe(product, observed.inUse(), observed.machines(), observed.registered());
        }
        return ledger;
    }

    /**
     * Decides a change with the core and applies it atomically (see the class comment). {@code
     * product} is the product whose counts the rules need (null: none); {@code machines} the
     * machines whose registration they need.
     */
    <T> CompletableFuture<Outcome<T>> change(String accountId, String product, List<String> machines, Instant now, Verb<T> verb) {
        // One change of an account at a time on this node: a node never contends with itself, so
        // the attempts are left for other nodes' changes however many of its own callers queue up.
        CompletableFuture<Outcome<T>> mine = new CompletableFuture<>();
        CompletableFuture<?> before = lastChange.put(accountId, mine);
        CompletableFuture<?> ready = before == null ? completedFuture(null) : before;
        ready.handle((x, e) -> null)
                .thenCompose(x -> attempt(accountId, product, machines, now, verb, 1))
                .whenComplete((outcome, e) -> {
                    lastChange.remove(accountId, mine);
                    if (e == null) {
                        mine.complete(outcome);
                    } else {
                        mine.completeExceptionally(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
                    }
                });
        return mine;
    }

    private <T> CompletableFuture<Outcome<T>> attempt(String accountId, String product, List<String> machines, Instant now,
                                                     Verb<T> verb, int attempt) {
        return observe(accountId, product, machines, false, now, 0)
                .thenCompose(observed -> decide(accountId, product, machines, now, verb, attempt, observed, null));
    }

    /**
     * Decides from {@code observed} (null: no such account) and applies what the core decided.
     * {@code countedPools}: the pools a stale answer counted (null: observe.lua counted this version's).
     */
    private <T> CompletableFuture<Outcome<T>> decide(String accountId, String product, List<String> machines, Instant now,
                                                    Verb<T> verb, int attempt, Observed observed, List<String> countedPools) {
        if (observed == null) {
            return completedFuture(new Outcome<>(Refusals.<T>accountNotFound(accountId), null));
        }
        long started = System.nanoTime();
        List<LedgerEvent> events = new ArrayList<>();
        AccountLedger ledger = counted(accountId, observed, product, (account, seq, event) -> events.add(event));
        List<String> pools = ledger.poolIds();
        if (product != null && countedPools != null && !pools.equals(countedPools)) {
            // The new version has other pools than those counted: count again.
            return attempt(accountId, product, machines, now, verb, attempt);
        }
        Map<String, Long> sizesBefore = product == null ? Map.of() : ledger.poolSizes(product);
        LicenseModel modelBefore = product == null || ledger.subscription(product) == null ? null : ledger.model(product);
        Effects effects = new Effects();
        // The configuration's own counts (seats) change with the change: their history goes with it.
        List<UsageHistory.LevelChange> levels = new ArrayList<>();
        ledger.history().mirror(levels::add);
        Decision<T> decision;
        try {
            decision = verb.decide(ledger, effects);
        } finally {
            ledger.history().mirror(null);
        }
        if (!decision.isGranted() || (events.isEmpty() && effects.endMachine == null)) {
            // Decided from one consistent read; nothing to write.
            return completedFuture(new Outcome<>(decision, null));
        }
        ObjectNode req = applyRequest(accountId, observed.config().version(), ledger, events, effects, product, sizesBefore,
                modelBefore, pools);
        RedisHistory.levels(req, ledger, levels);
        if (product != null) {
            ObjectNode count = req.putObject("count").put("product", product);
            pools.forEach(count.putArray("pools")::add);
            machines.forEach(count.putArray("machines")::add);
        }
        return scripts.runOnce(accountId, now, Script.APPLY, req).thenCompose(reply -> {
            switch (ScriptRunner.outcome(reply)) {
                case "ok" -> {
                    if (req.has("config")) {
                        String version = reply.path("version").asText();
                        String encoded = req.path("config").asText();
                        // The ledger that decided holds exactly this configuration: no need to decode it again.
                        cache.put(accountId, new Config(accountId, version, encoded, ledger));
                    }
                    return completedFuture(new Outcome<>(decision, reply));
                }
                case "no_account" -> {
                    return completedFuture(new Outcome<>(Refusals.<T>accountNotFound(accountId), null));
                }
                default -> {
                    Config learned = reply.hasNonNull("config") ? learn(accountId, reply) : null;
                    if (attempt >= MAX_ATTEMPTS) {
                        throw new StoreUnavailableException("account " + accountId + " changed during each of "
                                + attempt + " attempts of one change", null);
                    }
                    if (attempt == 1 && learned != null) {
                        // Another node's change came first: decide again at once from the state the
                        // stale answer carries. Reading first would start the next race late again,
                        // behind the winner's next change.
                        return decide(accountId, product, machines, now, verb, attempt + 1,
                                observed(reply, learned, observed.name()), pools);
                    }
                    if (attempt == 1) {
                        return attempt(accountId, product, machines, now, verb, attempt + 1);
                    }
                    // Lost again: another node keeps changing the account, each change landing
                    // inside this node's read-decide-apply window. A random wait, up to twice as
                    // long each time, moves this node's next window to where the other's are not
                    // (or past them: a burst of changes ends).
                    long bound = Math.min(MAX_BACKOFF_NANOS, (System.nanoTime() - started) << Math.min(attempt, 20));
                    long delay = ThreadLocalRandom.current().nextLong(bound + 1);
                    return CompletableFuture.supplyAsync(() -> attempt, CompletableFuture.delayedExecutor(delay, TimeUnit.NANOSECONDS))
                            .thenCompose(a -> attempt(accountId, product, machines, now, verb, a + 1));
                }
            }
        });
    }

    /** What apply.lua needs to take the change the ledger's {@code events} describe. */
    private static ObjectNode applyRequest(String accountId, String readVersion, AccountLedger ledger, List<LedgerEvent> events,
                                           Effects effects, String product, Map<String, Long> sizesBefore,
                                           LicenseModel modelBefore, List<String> pools) {
        ObjectNode req = ScriptRunner.request().put("version", readVersion);
        ArrayNode moves = req.putArray("moves");
        ObjectNode expiries = req.putObject("expiries");
        ArrayNode products = req.putArray("products");
        Set<String> emptied = new HashSet<>();
        boolean configChanged = false;
        ArrayNode guards = req.putArray("guards");
        ArrayNode endLeases = req.putArray("end_leases");
        for (LedgerEvent event : events) {
            if (event instanceof LedgerEvent.MachineRegistered m) {
                Subscription sub = ledger.subscription(m.product());
                req.putObject("machine").put("product", m.product()).put("id", m.machineId())
                        .put("quota", Long.toString(sub == null ? 0 : sub.machineQuota()));
                continue;
            }
            if (event instanceof LedgerEvent.MachineDeactivated) {
                // Registrations are not configuration: effects.endMachine removes it.
                continue;
            }
            configChanged = true;
            if (event instanceof LedgerEvent.SubscriptionSet s) {
                String p = s.subscription().product();
                expiries.put(p, Long.toString(s.subscription().expiresAt().toEpochMilli()));
                products.add(p);
                if (p.equals(product) && modelBefore != null && modelBefore != s.subscription().model()) {
                    // The core saw no sessions; none may have started since (acquires after this
                    // change are decided under the new model: they check the version).
                    pools.forEach(pool -> guards.addObject().put("product", p).put("pool", pool).put("max", "0"));
                }
            } else if (event instanceof LedgerEvent.SeatRemoved r && ledger.model(r.product()) == LicenseModel.FLOATING) {
                // The replica holds no leases, so the core only freed the seat: its lease ends here.
                endLeases.addObject().put("product", r.product()).put("user", r.userId()).put("cause", Reason.SESSION_TERMINATED.name());
            } else if (event instanceof LedgerEvent.DedicatedSet d) {
                products.add(d.product());
                if (d.licenses() == 0) {
                    ObjectNode move = moves.addObject().put("product", d.product()).put("to", ledger.parentPoolId(d.orgId()));
                    ArrayNode from = move.putArray("from");
                    ledger.subtree(d.orgId()).forEach(pool -> {
                        from.add(pool);
                        emptied.add(pool);
                    });
                }
            }
        }
        if (configChanged) {
            req.put("config", encode(accountId, ledger.exportConfiguration())).put("new_version", newVersion());
        }
        if (effects.endMachine != null) {
            req.set("end_machine", effects.endMachine);
        }
        if (product != null) {
            ledger.poolSizes(product).forEach((pool, size) -> {
                // A revoked pool shrinks to nothing, but its sessions move out in the same step.
                if (size < sizesBefore.getOrDefault(pool, 0L) && !emptied.contains(pool)) {
                    guards.addObject().put("product", product).put("pool", pool).put("max", Long.toString(size));
                }
            });
        }
        return req;
    }
}
