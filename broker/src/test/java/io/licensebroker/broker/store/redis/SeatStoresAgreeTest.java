package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Activation;
import io.licensebroker.broker.core.ActivationRequest;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.LicenseModel;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.LicensedUser;
import io.licensebroker.broker.core.Organization;
import io.licensebroker.broker.core.Page;
import io.licensebroker.broker.core.PoolRow;
import io.licensebroker.broker.core.HistoryStep;
import io.licensebroker.broker.core.Seat;
import io.licensebroker.broker.core.SeatQuery;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.SessionPage;
import io.licensebroker.broker.core.SessionQuery;
import io.licensebroker.broker.store.memory.MemoryStore;
import io.licensebroker.broker.testing.ModelSeeds;
import io.licensebroker.broker.testing.UsageInvariants;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;

import static io.licensebroker.broker.testing.StoreTarget.join;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Differential test of seats: one seeded random sequence of the seat verbs and what they touch
 * (grant, remove, transfer to and from any pool, node-locked and floating activations with and
 * without take-over, renew, release and terminate of activations, deactivations, seat-bound offline
 * licenses, dedicated licenses and revokes, subscriptions changing licenses, expiry and model,
 * unknown users, products and pools, clock moves, reaping) on the embedded durable store (the
 * reference), {@link RedisStore} on one redis-server and on a 3-master Redis Cluster. After every
 * step the whole answers must be equal: the step's Decision, and for every product the usage
 * table, every page of the licensed users and of the activations (random page size and user
 * filter), the machines and the session listing. Organization ids are mapped by creation order and
 * sessions compared by name ({@link Ids#sessionName}); activation ids are the caller's on every
 * store. {@code -Dmodel.seed=N} replays a seed.
 */
class SeatStoresAgreeTest {
    private static final String NODE = "KSN";
    private static final String FLOAT = "KSF";
    private static final List<String> PRODUCTS = List.of(NODE, FLOAT);
    private static final Duration TTL = Duration.ofSeconds(60);
    private static final Pattern ORG_ID = Pattern.compile("OG-[0-9]+");
    private static final String A = "AC-seats";
    @RegisterExtension
    static final SharedRedis REDIS = new SharedRedis("redis-seat-differential");
    @RegisterExtension
    static final SharedCluster CLUSTER = new SharedCluster("redis-cluster-seat-differential");
    @TempDir
    Path dir;

    static LongStream seeds() {
        return ModelSeeds.onRedis(4);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void everyStoreGivesTheSameAnswers(long seed) {
        CLUSTER.fixture().flushAll();
        Duration tombstones = Duration.ofDays(30);
        MutableClock clock = MutableClock.at("2030-01-01T00:00:00Z");
        try (LicenseStore embedded = MemoryStore.open(dir.resolve("embedded"), true, tombstones, Long.MAX_VALUE, clock.instant());
             LicenseStore redis = RedisStore.connect(RedisStoreContractTest.options(REDIS.uri()).toBuilder().tombstoneRetention(tombstones).build());
             LicenseStore clustered = RedisStore.connect(RedisStoreContractTest.options(CLUSTER.fixture().seeds()).toBuilder().tombstoneRetention(tombstones).build())) {
            new Run(seed, clock, List.of(new Seen("embedded", embedded), new Seen("redis", redis), new Seen("cluster", clustered))).go();
        }
    }

    /** One store and the organization ids it handed out (creation order). */
    private record Seen(String name, LicenseStore store, List<String> orgs, Map<String, String> toReference) {
        Seen(String name, LicenseStore store) {
            this(name, store, new ArrayList<>(), new HashMap<>());
        }

        /** -1: the account pool, -2: none (null), -3: an unknown pool. */
        String pool(int index) {
            return index == -1 ? A : index == -2 ? null : index == -3 ? "OG-0" : orgs.get(index);
        }
    }

    private static final class Run {
        final long seed;
        final Random rnd;
        final MutableClock clock;
        final List<Seen> stores;
        final List<String> users = List.of("u0", "u1", "u2", "u3", "u4", "u5");
        final List<String> machines = List.of("m0", "m1", "m2", "m3", "m4", "m5", "m6");
        final List<String> activations = new ArrayList<>();
        /** Who holds a seat of each product, as the reference answered: the verbs on seats mostly pick one of them. */
        final Map<String, List<String>> holders = new HashMap<>();
        final Map<String, Integer> outcomes = new TreeMap<>();
        int orgCount;
        int step;
        boolean reading;

        Run(long seed, MutableClock clock, List<Seen> stores) {
            this.seed = seed;
            this.rnd = new Random(seed);
            this.clock = clock;
            this.stores = stores;
        }

        void go() {
            same("create", s -> s.store().createAccount(new Account(A, "Seats")));
            same("subscription KRE", s -> s.store().setSubscription(A, "KRE", 3, 5, now().plus(Duration.ofDays(20)), now()));
            for (String p : PRODUCTS) {
                LicenseModel model = p.equals(NODE) ? LicenseModel.NODE_LOCKED : LicenseModel.FLOATING;
                same("subscription " + p, s -> s.store().setSubscription(A, p, 5, 5, now().plus(Duration.ofDays(20)), model, now()));
            }
            for (String u : users) {
                same("user " + u, s -> s.store().upsertUser(A, u, null, List.of()));
            }
            for (step = 1; step <= ModelSeeds.steps(300); step++) {
                oneStep();
                reading = true;
                compareState();
                reading = false;
            }
            System.out.println("seed " + seed + ": " + outcomes);
            for (String must : List.of("grant granted", "activate granted", "activate SEAT_IN_USE", "remove granted",
                    "transfer granted", "grant INSUFFICIENT_LICENSES")) {
                if (!outcomes.containsKey(must)) {
                    throw new AssertionError("seed " + seed + " exercised too little (no " + must + "): " + outcomes);
                }
            }
        }

        void oneStep() {
            String product = rnd.nextInt(25) == 0 ? "KRE" : pick(PRODUCTS);
            String u = rnd.nextInt(30) == 0 ? "ghost" : pick(users);
            Instant now = now();
            int op = rnd.nextInt(100);
            if (op < 4) {
                int parent = orgCount == 0 || rnd.nextBoolean() ? -2 : rnd.nextInt(orgCount);
                Decision<Organization> d = same("createOrganization under #" + parent,
                        s -> s.store().createOrganization(A, s.pool(parent), "org" + step));
                if (d.isGranted()) {
                    orgCount++;
                }
            } else if (op < 10 && orgCount > 0) {
                int org = rnd.nextInt(orgCount);
                long licenses = rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(4);
                same("setDedicated " + product + " #" + org + "=" + licenses, s -> s.store().setDedicated(A, s.pool(org), product, licenses, now));
            } else if (op < 13) {
                int assigned = orgCount == 0 || rnd.nextBoolean() ? -2 : rnd.nextInt(orgCount);
                same("upsertUser " + u + " #" + assigned, s -> s.store().upsertUser(A, u, s.pool(assigned), List.of()));
            } else if (op < 28) {
                int pool = somePool();
                if (same("grant " + product + " " + u + " pool #" + pool, s -> s.store().grantLicense(A, product, u, s.pool(pool), now))
                        .isGranted()) {
                    held(product).remove(u);
                    held(product).add(u);
                }
            } else if (op < 34) {
                String who = holder(product, u);
                if (same("remove " + product + " " + who, s -> s.store().removeLicense(A, product, who, now)).isGranted()) {
                    held(product).remove(who);
                }
            } else if (op < 39) {
                String from = holder(product, u);
                String to = pick(users);
                int pool = rnd.nextInt(3) == 0 ? somePool() : -2;
                if (same("transfer " + product + " " + from + "->" + to + " pool #" + pool,
                        s -> s.store().transferLicense(A, product, from, to, s.pool(pool), now)).isGranted()) {
                    held(product).remove(from);
                    held(product).add(to);
                }
            } else if (op < 60) {
                String who = holder(product, u);
                String m = pick(machines);
                boolean takeOver = rnd.nextInt(3) == 0;
                String id = A + "." + chars(26);
                ActivationRequest r = new ActivationRequest(product, who, m, "", takeOver, id, now, now.plus(TTL));
                Decision<Activation> d = same("activate " + product + " " + who + "@" + m + (takeOver ? " take over" : "") + " as " + id,
                        s -> s.store().activate(A, r));
                if (d.isGranted() && d.value().leaseExpiresAt() != null && !activations.contains(d.value().activationId())) {
                    activations.add(d.value().activationId());
                }
            } else if (op < 68 && !activations.isEmpty()) {
                String id = someActivation();
                String by = rnd.nextInt(5) == 0 ? pick(users) : null;
                same("renew " + id + " by " + by, s -> s.store().renew(A, id, by, now, now.plus(TTL)));
            } else if (op < 71 && !activations.isEmpty()) {
                String id = someActivation();
                same("release " + id, s -> s.store().release(A, id, null, now));
            } else if (op < 73 && !activations.isEmpty()) {
                String id = someActivation();
                same("terminate " + id, s -> s.store().terminate(A, id, now));
            } else if (op < 77) {
                String m = pick(machines);
                same("deactivate " + product + " " + m, s -> s.store().deactivateMachine(A, product, m, now));
            } else if (op < 81) {
                String m = pick(machines);
                Instant until = now.plus(Duration.ofMillis(1 + rnd.nextInt(2 * 3_600_000)));
                String who = rnd.nextInt(8) == 0 ? null : u;
                same("offline " + product + " " + m + " for " + who + " until " + until,
                        s -> s.store().issueOfflineLicense(A, product, m, who, until, Duration.ofDays(60), now));
            } else if (op < 84) {
                long licenses = 2 + rnd.nextInt(6);
                LicenseModel model = rnd.nextInt(3) == 0 ? LicenseModel.values()[rnd.nextInt(3)]
                        : product.equals(NODE) ? LicenseModel.NODE_LOCKED : LicenseModel.FLOATING;
                Instant expires = now.plus(rnd.nextInt(6) == 0 ? Duration.ofMinutes(5) : Duration.ofDays(20));
                long quota = 4 + rnd.nextInt(3);
                same("setSubscription " + product + " " + licenses + "/" + quota + " " + model + " until " + expires,
                        s -> s.store().setSubscription(A, product, licenses, quota, expires, model, now));
            } else if (op < 86) {
                AcquireRequest r = new AcquireRequest(product, u, pick(machines), "", A + "." + chars(26), now, now.plus(TTL));
                same("acquire " + product + " " + u + "@" + r.machineId(), s -> s.store().acquire(A, r));
            } else if (op < 96) {
                clock.advance(Duration.ofMillis(rnd.nextInt(rnd.nextInt(15) == 0 ? 3_600_000 : 30_000)));
            } else {
                sameValue("expireLeases", s -> join(s.store().expireLeases(now)));
            }
        }

        List<String> held(String product) {
            return holders.computeIfAbsent(product, p -> new ArrayList<>());
        }

        /** Mostly a user holding a seat of the product, else {@code otherwise}. */
        String holder(String product, String otherwise) {
            List<String> held = held(product);
            return held.isEmpty() || rnd.nextInt(4) == 0 ? otherwise : pick(held);
        }

        int somePool() {
            int kind = rnd.nextInt(12);
            return kind == 0 ? -3 : kind < 4 ? -2 : kind < 7 || orgCount == 0 ? -1 : rnd.nextInt(orgCount);
        }

        String someActivation() {
            return rnd.nextInt(3) == 0 ? pick(activations) : activations.get(Math.max(0, activations.size() - 1 - rnd.nextInt(4)));
        }

        void compareState() {
            Instant now = now();
            for (String p : PRODUCTS) {
                LicenseUsage usage = same("usage of " + p, s -> s.store().usage(A, p, now)).value();
                assertEquals(List.of(), UsageInvariants.violations(usage), where("invariants of " + p));
                same("machines of " + p, s -> s.store().machines(A, p, now));
                int size = 1 + rnd.nextInt(4);
                String pool = rnd.nextInt(3) == 0 ? A : null;
                pages("licensed users of " + p, t -> s -> s.store().licensedUsers(A, new SeatQuery(p, pool, null, size, t), now));
                String user = rnd.nextInt(3) == 0 ? pick(users) : null;
                pages("activations of " + p + " by " + user, t -> s -> s.store().activations(A, new SeatQuery(p, null, user, size, t), now));
                for (HistoryStep step : HistoryStep.values()) {
                    same("usage history of " + p + " by " + step, s -> s.store().usageHistory(A, HistoryAnswers.wholeRun(p, step, now), now));
                }
                same("denial report of " + p, s -> s.store().denialReport(A, HistoryAnswers.deniedInRun(p, now), now));
            }
            String token = null;
            do {
                String t = token;
                token = same("sessions page", s -> s.store().sessions(A, new SessionQuery(null, null, null, null, 3, t))).value().nextPageToken();
            } while (token != null);
        }

        <T> void pages(String what, Function<String, Function<Seen, CompletionStage<Decision<Page<T>>>>> page) {
            String token = null;
            int n = 0;
            do {
                token = same(what + " page " + (++n), page.apply(token)).value().nextPageToken();
            } while (token != null);
        }

        <T> Decision<T> same(String what, Function<Seen, CompletionStage<Decision<T>>> call) {
            return sameValue(what, s -> join(call.apply(s)));
        }

        @SuppressWarnings("unchecked")
        <T> T sameValue(String what, Function<Seen, T> call) {
            Seen reference = stores.get(0);
            T expected = call.apply(reference);
            if (!reading) {
                String verb = what.split(" ", 2)[0];
                outcomes.merge(verb + " " + (expected instanceof Decision.Denied<?> d ? d.reason().name() : "granted"), 1, Integer::sum);
            }
            remember(reference, expected, null);
            if (Boolean.getBoolean("seats.trace") && !reading) {
                System.out.println(step + " " + what + " -> " + expected);
            }
            for (Seen other : stores.subList(1, stores.size())) {
                T actual = call.apply(other);
                remember(other, actual, expected);
                if (!normalize(other, actual).equals(normalize(reference, expected))) {
                    throw new AssertionError(where(what) + ": the stores differ\n  " + reference.name() + ": " + expected
                            + "\n  " + other.name() + ": " + actual);
                }
            }
            return expected;
        }

        static void remember(Seen s, Object answer, Object reference) {
            if (answer instanceof Decision.Granted<?> g && g.value() instanceof Organization o && !s.orgs().contains(o.id())) {
                s.orgs().add(o.id());
                s.toReference().put(o.id(), reference instanceof Decision.Granted<?> r && r.value() instanceof Organization ro ? ro.id() : o.id());
            }
        }

        /** The answer in the reference's terms: organization ids mapped, sessions by name. */
        static Object normalize(Seen s, Object v) {
            if (v instanceof Decision.Granted<?> g) {
                return Decision.granted(normalize(s, g.value()));
            }
            if (v instanceof Decision.Denied<?> d) {
                return Decision.denied(d.reason(), replaceOrgIds(s, d.detail()), d.field());
            }
            Object history = HistoryAnswers.normalized(v, id -> org(s, id));
            if (history != null) {
                return history;
            }
            if (v instanceof List<?> list) {
                return list.stream().map(x -> normalize(s, x)).toList();
            }
            if (v instanceof Page<?> p) {
                return new Page<>(p.items().stream().map(x -> normalize(s, x)).toList(), p.nextPageToken());
            }
            if (v instanceof Session x) {
                return x.withId(Ids.sessionName(x.id())).withPool(org(s, x.poolId()));
            }
            if (v instanceof SessionPage p) {
                return new SessionPage(p.sessions().stream().map(x -> (Session) normalize(s, x)).toList(),
                        p.nextPageToken() == null ? null : Ids.sessionName(p.nextPageToken()));
            }
            if (v instanceof LicensedUser l) {
                return new LicensedUser(l.seat().withPool(org(s, l.seat().poolId())), l.offlineUntil());
            }
            if (v instanceof Seat seat) {
                return seat.withPool(org(s, seat.poolId()));
            }
            if (v instanceof Activation a) {
                return new Activation(a.activationId(), a.accountId(), a.product(), a.userId(), a.machineId(), org(s, a.poolId()),
                        a.activatedAt(), a.leaseExpiresAt());
            }
            if (v instanceof Organization o) {
                return new Organization(org(s, o.id()), o.accountId(), org(s, o.parentId()), o.name());
            }
            if (v instanceof LicenseUsage u) {
                return new LicenseUsage(u.accountId(), u.product(), u.subscription(), u.rows().stream().map(r -> new PoolRow(
                        org(s, r.poolId()), r.name(), org(s, r.parentId()), r.dedicated(), r.pool(), r.inUse())).toList(),
                        u.registeredMachines(), u.offlineLicenses());
            }
            return v;
        }

        static String org(Seen s, String id) {
            return id == null ? null : s.toReference().getOrDefault(id, id);
        }

        static String replaceOrgIds(Seen s, String text) {
            Matcher m = ORG_ID.matcher(text);
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                m.appendReplacement(out, Matcher.quoteReplacement(org(s, m.group())));
            }
            m.appendTail(out);
            return out.toString();
        }

        String chars(int n) {
            char[] out = new char[n];
            for (int i = 0; i < n; i++) {
                out[i] = "abcdefghijklmnopqrstuvwxyz234567".charAt(rnd.nextInt(32));
            }
            return new String(out);
        }

        Instant now() {
            return clock.instant();
        }

        <T> T pick(List<T> from) {
            return from.get(rnd.nextInt(from.size()));
        }

        String where(String what) {
            return "seed " + seed + " step " + step + " at " + now() + ": " + what + " (replay: -D" + ModelSeeds.PROPERTY + "=" + seed + ")";
        }
    }
}
