package io.licensebroker.broker.store;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.PoolRow;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.SessionPage;
import io.licensebroker.broker.core.SessionQuery;
import io.licensebroker.broker.core.UsagePolicy;
import io.licensebroker.broker.store.memory.MemoryStore;
import io.licensebroker.testkit.MutableClock;
import io.licensebroker.broker.testing.UsageInvariants;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Many callers at once on one account: never more licenses than exist, and no usage snapshot
 * ever shows an impossible state. Every store kind runs it; a kind may give several stores that
 * share one truth (nodes on one Redis), and the callers then spread over them.
 */
public abstract class ConcurrentAcquireTest {
    private static final String KRE = "KRE";
    protected static final Duration TTL = Duration.ofSeconds(60);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int MIN_ADMIN_CHANGES = 50;
    private static final int MIN_SNAPSHOTS = 50;

    @TempDir
    Path dir;
    private final MutableClock clock = MutableClock.at("2030-01-01T00:00:00Z");
    private List<LicenseStore> stores = List.of();
    private ExecutorService pool;

    /** One store, or several sharing one truth; closed after each test. */
    protected abstract List<LicenseStore> openStores(Path dir, MutableClock clock);

    /** Rounds of 200 callers against 50 licenses. */
    protected int raceRounds() {
        return 20;
    }

    /** Concurrent agents in the mixed test, and the steps each takes at least. */
    protected int workers() {
        return 12;
    }

    protected int opsPerWorker() {
        return 400;
    }

    @BeforeEach
    void open() {
        stores = openStores(dir, clock);
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        if (pool != null) {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        }
        stores.forEach(LicenseStore::close);
    }

    private LicenseStore store(int i) {
        return stores.get(i % stores.size());
    }

    private static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("the store did not answer: " + e, e);
        }
    }

    private static <T> T ok(CompletionStage<Decision<T>> stage) {
        Decision<T> d = join(stage);
        if (!d.isGranted()) {
            fail("expected granted, got " + d);
        }
        return d.value();
    }

    private AcquireRequest request(String account, String user, String machine) {
        Instant now = clock.instant();
        return new AcquireRequest(KRE, user, machine, "", Ids.newSessionId(account, RANDOM), now, now.plus(TTL));
    }

    /**
     * 50 licenses spread over the account pool (20), org A (20, of which 5 go to its sub-org A1) and
     * org B (10); every user, whatever their org, can reach all 50 under the default policy.
     */
    private String fiftyLicenseAccount(String id) {
        LicenseStore store = store(0);
        ok(store.createAccount(new Account(id, id)));
        ok(store.setSubscription(id, KRE, 50, 100_000, clock.instant().plus(Duration.ofDays(365)), clock.instant()));
        String a = ok(store.createOrganization(id, null, "A")).id();
        String a1 = ok(store.createOrganization(id, a, "A1")).id();
        String b = ok(store.createOrganization(id, null, "B")).id();
        ok(store.setDedicated(id, a, KRE, 20, clock.instant()));
        ok(store.setDedicated(id, a1, KRE, 5, clock.instant()));
        ok(store.setDedicated(id, b, KRE, 10, clock.instant()));
        ok(store.upsertUser(id, "free", null, List.of()));
        ok(store.upsertUser(id, "in-a1", a1, List.of()));
        ok(store.upsertUser(id, "in-b", b, List.of(a)));
        return id;
    }

    private List<Session> liveSessions(String account) {
        List<Session> out = new ArrayList<>();
        String token = null;
        do {
            SessionPage page = ok(store(0).sessions(account, new SessionQuery(null, null, null, null, 500, token)));
            out.addAll(page.sessions());
            token = page.nextPageToken();
        } while (token != null);
        return out;
    }

    private void assertConsistent(String account) {
        LicenseUsage u = ok(store(stores.size() - 1).usage(account, KRE, clock.instant()));
        assertEquals(List.of(), UsageInvariants.violations(u));
        assertEquals(liveSessions(account).size(), UsageInvariants.totalInUse(u), "in_use vs live sessions");
        for (LicenseStore store : stores) {
            if (store instanceof MemoryStore m) {
                assertEquals(List.of(), m.invariantViolations());
            }
        }
    }

    @Test
    void twoHundredCallersFiftyLicensesExactlyFiftyGranted() throws Exception {
        int callers = 200;
        pool = Executors.newFixedThreadPool(callers);
        List<String> users = List.of("free", "in-a1", "in-b");
        for (int round = 0; round < raceRounds(); round++) {
            String account = fiftyLicenseAccount("AC-race-" + round);
            CyclicBarrier start = new CyclicBarrier(callers);
            List<Future<Decision<Session>>> results = new ArrayList<>();
            for (int i = 0; i < callers; i++) {
                String user = users.get(i % users.size());
                String machine = "m-" + i;
                LicenseStore via = store(i);
                results.add(pool.submit(() -> {
                    start.await(30, TimeUnit.SECONDS);
                    return join(via.acquire(account, request(account, user, machine)));
                }));
            }
            List<Session> granted = new ArrayList<>();
            Map<Reason, Integer> denials = new ConcurrentHashMap<>();
            for (Future<Decision<Session>> f : results) {
                Decision<Session> d = f.get(60, TimeUnit.SECONDS);
                if (d instanceof Decision.Denied<Session> denied) {
                    denials.merge(denied.reason(), 1, Integer::sum);
                } else {
                    granted.add(d.value());
                }
            }
            assertEquals(50, granted.size(), "round " + round + ": granted (denials " + denials + ")");
            assertEquals(Map.of(Reason.NO_LICENSE_AVAILABLE, 150), denials, "round " + round);
            assertEquals(50, new HashSet<>(granted.stream().map(Session::id).toList()).size());
            LicenseUsage u = ok(store(0).usage(account, KRE, clock.instant()));
            for (LicenseStore other : stores) {
                assertEquals(u, ok(other.usage(account, KRE, clock.instant())), "the same usage from every store");
            }
            for (PoolRow r : u.rows()) {
                assertEquals(0, r.available(), "round " + round + ": every pool is used up: " + r);
            }
            assertEquals(50, UsageInvariants.totalInUse(u));
            assertConsistent(account);
        }
    }

    @Test
    void acquiresAndReleasesWhileAdminsChangeThingsNeverShowAnImpossibleState() throws Exception {
        String account = fiftyLicenseAccount("AC-mixed");
        List<String> orgs = ok(store(0).organizations(account)).stream().map(o -> o.id()).toList();
        int workers = workers();
        int opsPerWorker = opsPerWorker();
        pool = Executors.newFixedThreadPool(workers + 2);
        CyclicBarrier start = new CyclicBarrier(workers + 2);
        AtomicBoolean done = new AtomicBoolean();
        List<String> impossible = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger snapshots = new AtomicInteger();
        AtomicInteger grants = new AtomicInteger();
        AtomicInteger adminChanges = new AtomicInteger();
        List<String> users = List.of("free", "in-a1", "in-b");

        List<Future<?>> workerFutures = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            long seed = 1000 + w;
            LicenseStore via = store(w);
            workerFutures.add(pool.submit(() -> {
                Random rnd = new Random(seed);
                List<Session> mine = new ArrayList<>();
                start.await(30, TimeUnit.SECONDS);
                // At least opsPerWorker steps, and on until the admin and the observer have had their
                // turns too: on a busy machine the workers could otherwise finish before them.
                for (int i = 0; i < opsPerWorker || adminChanges.get() < MIN_ADMIN_CHANGES || snapshots.get() < MIN_SNAPSHOTS; i++) {
                    if (mine.isEmpty() || rnd.nextInt(100) < 55) {
                        String user = users.get(rnd.nextInt(users.size()));
                        Decision<Session> d = join(via.acquire(account, request(account, user, "m-" + seed + "-" + rnd.nextInt(5))));
                        if (d.isGranted()) {
                            mine.add(d.value());
                            grants.incrementAndGet();
                        } else {
                            Reason r = ((Decision.Denied<Session>) d).reason();
                            if (r != Reason.NO_LICENSE_AVAILABLE && r != Reason.ORGANIZATION_POOL_EXHAUSTED) {
                                impossible.add("acquire denied with " + r);
                            }
                        }
                    } else {
                        Session s = mine.remove(rnd.nextInt(mine.size()));
                        Decision<Boolean> d = join(via.release(account, s.id(), s.userId(), clock.instant()));
                        if (!d.isGranted() || !d.value()) {
                            impossible.add("release of a live session answered " + d);
                        }
                    }
                }
                return null;
            }));
        }
        Future<?> admin = pool.submit(() -> {
            Random rnd = new Random(7);
            start.await(30, TimeUnit.SECONDS);
            while (!done.get()) {
                LicenseStore via = store(rnd.nextInt(stores.size()));
                int op = rnd.nextInt(10);
                if (op < 7) {
                    String org = orgs.get(rnd.nextInt(orgs.size()));
                    long value = rnd.nextInt(5) == 0 ? 0 : rnd.nextInt(25);
                    Decision<?> d = join(via.setDedicated(account, org, KRE, value, clock.instant()));
                    if (d instanceof Decision.Denied<?> denied && denied.reason() != Reason.INSUFFICIENT_LICENSES
                            && denied.reason() != Reason.BELOW_IN_USE) {
                        impossible.add("setDedicated denied with " + denied.reason());
                    }
                } else if (op < 9) {
                    join(via.setPolicy(account, new PolicySettings(UsagePolicy.values()[rnd.nextInt(3)], rnd.nextBoolean())));
                } else {
                    String org = orgs.get(rnd.nextInt(orgs.size()));
                    join(via.upsertUser(account, "in-b", org, List.of(orgs.get(rnd.nextInt(orgs.size())))));
                }
                adminChanges.incrementAndGet();
            }
            return null;
        });
        Future<?> observer = pool.submit(() -> {
            start.await(30, TimeUnit.SECONDS);
            int i = 0;
            while (!done.get()) {
                LicenseUsage u = ok(store(i++).usage(account, KRE, clock.instant()));
                List<String> v = UsageInvariants.violations(u);
                if (!v.isEmpty()) {
                    impossible.add("snapshot " + u.rows() + ": " + v);
                }
                snapshots.incrementAndGet();
            }
            return null;
        });
        try {
            for (Future<?> f : workerFutures) {
                f.get(300, TimeUnit.SECONDS);
            }
        } finally {
            done.set(true);
        }
        admin.get(60, TimeUnit.SECONDS);
        observer.get(60, TimeUnit.SECONDS);
        assertEquals(List.of(), impossible.subList(0, Math.min(10, impossible.size())));
        assertTrue(snapshots.get() > 0 && adminChanges.get() > 0 && grants.get() > 0,
                "snapshots " + snapshots + ", admin changes " + adminChanges + ", grants " + grants);
        assertConsistent(account);
    }
}
