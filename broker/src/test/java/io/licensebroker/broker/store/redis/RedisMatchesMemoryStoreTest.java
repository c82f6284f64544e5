package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.Organization;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.SessionPage;
import io.licensebroker.broker.core.SessionQuery;
import io.licensebroker.broker.core.UsagePolicy;
import io.licensebroker.broker.store.memory.MemoryStore;
import io.licensebroker.testkit.MutableClock;
import io.licensebroker.broker.testing.UsageInvariants;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Differential test: the same random sequence of every verb (admin changes with revokes, policy
 * and user changes, acquires with and without request ids, renewals, releases, terminations,
 * machine deactivations, offline licenses, clock moves, reaping) against the embedded store, whose
 * ledger is the reference, and against {@link RedisStore}. Every answer must be the same (denials
 * by reason and field; messages may differ), and so must the usage table, the session list, the
 * machines and the organizations after each step.
 */
class RedisMatchesMemoryStoreTest {
    private static final String KRE = "KRE";
    private static final Duration TTL = Duration.ofSeconds(60);
    private static final int STEPS = 400;
    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();
    @RegisterExtension
    static final SharedRedis REDIS = new SharedRedis("redis-differential");

    static LongStream seeds() {
        return LongStream.rangeClosed(1, 6);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void everyAnswerIsTheLedgers(long seed) {
        // Tombstones are kept longer than the run lasts: the ledger forgets them only when reaping,
        // Redis at their age, and that difference is not what this test is about.
        try (LicenseStore memory = MemoryStore.volatileStore(Duration.ofDays(30));
             LicenseStore redisStore = RedisStore.connect(RedisStoreContractTest.options(REDIS.uri()).toBuilder()
                     .tombstoneRetention(Duration.ofDays(30)).build())) {
            new Run(seed, memory, redisStore).go();
        }
    }

    private static final class Run {
        final Random rnd;
        final long seed;
        final LicenseStore reference;
        final LicenseStore redis;
        final MutableClock clock = MutableClock.at("2030-01-01T00:00:00Z");
        final List<String> accounts = List.of("AC-one", "AC-two");
        final List<String> orgs = new ArrayList<>();
        final java.util.Map<String, String> ticketed = new java.util.HashMap<>();
        Session lastRedisSession;
        final List<String> sessions = new ArrayList<>();
        final List<String> users = List.of("u0", "u1", "u2", "u3");
        final List<String> machines = List.of("m0", "m1", "m2", "m3", "m4", "m5");
        int step;

        Run(long seed, LicenseStore reference, LicenseStore redis) {
            this.seed = seed;
            this.rnd = new Random(seed);
            this.reference = reference;
            this.redis = redis;
        }

        void go() {
            for (String a : accounts) {
                same("create " + a, s -> s.createAccount(new Account(a, "Account " + a)));
                same("subscription " + a, s -> s.setSubscription(a, KRE, 12, 5, clock.instant().plus(Duration.ofDays(20)), clock.instant()));
                for (String u : users) {
                    same("user " + u, s -> s.upsertUser(a, u, null, List.of()));
                }
            }
            for (step = 0; step < STEPS; step++) {
                String a = accounts.get(rnd.nextInt(accounts.size()));
                int op = rnd.nextInt(100);
                if (op < 8) {
                    String parent = orgs.isEmpty() || rnd.nextInt(3) == 0 ? null : pick(orgs);
                    Decision<Organization> d = same("createOrganization", s -> s.createOrganization(a, parent, "org" + step));
                    if (d.isGranted()) {
                        orgs.add(d.value().id());
                    }
                } else if (op < 20 && !orgs.isEmpty()) {
                    String org = pick(orgs);
                    long licenses = rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(8);
                    same("setDedicated " + org + "=" + licenses, s -> s.setDedicated(a, org, KRE, licenses, clock.instant()));
                } else if (op < 25) {
                    String u = pick(users);
                    String assigned = orgs.isEmpty() || rnd.nextBoolean() ? null : pick(orgs);
                    List<String> projects = new ArrayList<>();
                    for (int i = rnd.nextInt(3); i > 0 && !orgs.isEmpty(); i--) {
                        projects.add(pick(orgs));
                    }
                    same("upsertUser " + u, s -> s.upsertUser(a, u, assigned, projects));
                } else if (op < 29) {
                    PolicySettings p = new PolicySettings(UsagePolicy.values()[rnd.nextInt(3)], rnd.nextBoolean());
                    same("setPolicy " + p, s -> s.setPolicy(a, p));
                } else if (op < 31) {
                    long licenses = rnd.nextInt(16);
                    Instant expires = clock.instant().plus(Duration.ofHours(rnd.nextInt(4) == 0 ? 1 : 24 * 20));
                    long machineQuota = 2 + rnd.nextInt(5);
                    same("setSubscription " + licenses, s -> s.setSubscription(a, KRE, licenses, machineQuota, expires, clock.instant()));
                } else if (op < 60) {
                    String u = pick(users);
                    String m = pick(machines);
                    String request = rnd.nextInt(3) == 0 ? "r" + rnd.nextInt(3) : "";
                    String product = rnd.nextInt(20) == 0 ? "KSE" : KRE;
                    AcquireRequest r = new AcquireRequest(product, u, m, request, Ids.newSessionId(a, RANDOM),
                            clock.instant(), clock.instant().plus(TTL));
                    Decision<Session> d = same("acquire " + u + "@" + m, s -> s.acquire(a, r));
                    if (d.isGranted()) {
                        sessions.add(d.value().id());
                        ticketed.put(d.value().id(), lastRedisSession.id());
                    }
                } else if (op < 70 && !sessions.isEmpty()) {
                    String sid = pick(sessions);
                    String u = rnd.nextInt(5) == 0 ? null : pick(users);
                    same("renew " + sid, s -> s.renew(owner(sid), idIn(s, sid), u, clock.instant(), clock.instant().plus(TTL)));
                } else if (op < 76 && !sessions.isEmpty()) {
                    String sid = pick(sessions);
                    String u = rnd.nextInt(3) == 0 ? null : pick(users);
                    same("release " + sid, s -> s.release(owner(sid), idIn(s, sid), u, clock.instant()));
                } else if (op < 79 && !sessions.isEmpty()) {
                    String sid = pick(sessions);
                    same("terminate " + sid, s -> s.terminate(owner(sid), idIn(s, sid), clock.instant()));
                } else if (op < 82) {
                    String m = pick(machines);
                    same("deactivate " + m, s -> s.deactivateMachine(a, KRE, m, clock.instant()));
                } else if (op < 85) {
                    String m = pick(machines);
                    Instant until = clock.instant().plus(Duration.ofMillis(1 + rnd.nextInt(3 * 3_600_000)));
                    same("offline " + m, s -> s.issueOfflineLicense(a, KRE, m, until, Duration.ofDays(60), clock.instant()));
                } else if (op < 95) {
                    clock.advance(Duration.ofMillis(rnd.nextInt(rnd.nextInt(10) == 0 ? 3_600_000 : 45_000)));
                } else {
                    int expiredInReference = join(reference.expireLeases(clock.instant()));
                    int expiredInRedis = join(redis.expireLeases(clock.instant()));
                    assertEquals(expiredInReference, expiredInRedis, where("expireLeases"));
                }
                compareState(a);
            }
            accounts.forEach(this::compareState);
        }

        void compareState(String a) {
            LicenseUsage usage = same("usage", s -> s.usage(a, KRE, clock.instant())).value();
            assertEquals(List.of(), UsageInvariants.violations(usage), where("invariants"));
            same("organizations", s -> s.organizations(a));
            same("machines", s -> s.machines(a, KRE, clock.instant()));
            same("policy", s -> s.policy(a));
            assertEquals(new HashSet<>(join(reference.users(a)).value()), new HashSet<>(join(redis.users(a)).value()), where("users"));
            assertEquals(allSessions(reference, a), allSessions(redis, a), where("sessions"));
        }

        List<Session> allSessions(LicenseStore s, String a) {
            List<Session> out = new ArrayList<>();
            String token = null;
            do {
                SessionPage page = join(s.sessions(a, new SessionQuery(null, null, null, null, 7, token))).value();
                page.sessions().forEach(session -> out.add(named(session)));
                token = page.nextPageToken();
            } while (token != null);
            return out;
        }

        <T> Decision<T> same(String what, Function<LicenseStore, CompletionStage<Decision<T>>> call) {
            Decision<T> expected = join(call.apply(reference));
            Decision<T> actual = join(call.apply(redis));
            if (expected instanceof Decision.Denied<T> e) {
                if (!(actual instanceof Decision.Denied<T> x) || x.reason() != e.reason() || !java.util.Objects.equals(x.field(), e.field())) {
                    fail(where(what) + ": expected " + expected + ", got " + actual);
                }
            } else {
                if (actual.value() instanceof Session session) {
                    lastRedisSession = session;
                    assertEquals(expected, Decision.granted(named(session)), where(what));
                } else {
                    assertEquals(expected, actual, where(what));
                }
            }
            return expected;
        }

        /**
         * The Redis store hands out ids with a ticket (SessionTickets); the session is the same one
         * when the name is. Redis gets the ids it handed out, the reference its own.
         */
        String idIn(LicenseStore s, String name) {
            return s == redis ? ticketed.get(name) : name;
        }

        static Session named(Session session) {
            return session.withId(Ids.sessionName(session.id()));
        }

        String owner(String sid) {
            return Ids.accountOfSession(sid).orElseThrow();
        }

        <T> T pick(List<T> from) {
            return from.get(rnd.nextInt(from.size()));
        }

        String where(String what) {
            return "seed " + seed + " step " + step + " at " + clock.instant() + ": " + what;
        }

        static <T> T join(CompletionStage<T> stage) {
            try {
                return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
    }
}
