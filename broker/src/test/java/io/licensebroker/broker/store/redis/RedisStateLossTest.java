package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Activation;
import io.licensebroker.broker.core.ActivationRequest;
import io.licensebroker.broker.core.LicenseModel;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.StoreObserver;
import io.licensebroker.broker.core.StoreUnavailableException;
import io.licensebroker.testkit.MutableClock;
import io.licensebroker.testkit.Await;
import io.licensebroker.testkit.RedisServer;
import io.licensebroker.broker.testing.UsageInvariants;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Redis losing acknowledged state, for real: Redis with RDB snapshots only (no AOF) is SIGKILLed
 * after a snapshot and restarts from it, so the sessions granted after the snapshot are gone while
 * their agents still run. The broker node that granted them notices (its acquire count in Redis
 * went back) and starts a learning period: new acquires are refused, the lost sessions come back
 * as their agents renew (their ids carry a ticket the node checks), and after the period the
 * broker serves normally again. The invariant is checked after every step.
 */
class RedisStateLossTest {
    private static final String ACCOUNT = "AC-loss";
    private static final String KRE = "KRE";
    private static final String FLOATING = "KSF";
    private static final Duration TTL = Duration.ofSeconds(60);
    private static final Duration LEARNING = Duration.ofSeconds(60);
    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    Path dir;

    private final MutableClock clock = MutableClock.at("2030-01-01T00:00:00Z");
    private final Map<String, Long> lost = new ConcurrentHashMap<>();
    private final AtomicInteger readmitted = new AtomicInteger();
    private final List<AutoCloseable> closing = new ArrayList<>();
    private RedisServer redis;

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    @Test
    void sessionsRedisForgotComeBackWhenTheirAgentsRenewAndNewOnesWaitMeanwhile() {
        RedisStore store = startRedisAndNode(LEARNING);
        setUpAccountWithLicenses(store, 3);
        Session kept = granted(store, "alice", "m1");
        snapshot();
        Session forgotten1 = granted(store, "alice", "m2");
        Session forgotten2 = granted(store, "bob", "m3");
        assertEquals(3, usage(store).row(ACCOUNT).inUse());

        loseEverythingSinceTheSnapshot();

        // The first call after the loss finds it: the node's acquire count went back from 3 to 1.
        Instant lossFound = clock.instant();
        Decision<Session> newcomer = answered(() -> store.acquire(ACCOUNT, request("carol", "m4")));
        assertEquals(Reason.STORE_RECOVERING, reason(newcomer), "free licenses are kept for the forgotten sessions");
        String detail = ((Decision.Denied<Session>) newcomer).detail();
        assertTrue(detail.matches("Redis lost recent changes; until \\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{3})?Z free licenses are kept for the sessions granted before the loss"),
                "the end of the learning period is an ISO instant: " + detail);
        assertEquals(Map.of(ACCOUNT, 2L), lost, "two acquires were lost");
        assertEquals(1, usage(store).row(ACCOUNT).inUse(), "Redis has only the session from before the snapshot");

        // A forged ticket, and a ticket presented by another user, bring nothing back.
        String forged = forgotten1.id().substring(0, forgotten1.id().length() - 3) + "zz9";
        String forgedMac = tamperMac(forgotten1.id());
        assertEquals(Reason.SESSION_NOT_FOUND, reason(renew(store, forged, "alice")));
        assertEquals(Reason.SESSION_NOT_FOUND, reason(renew(store, forgedMac, "alice")));
        assertEquals(Reason.SESSION_NOT_FOUND, reason(renew(store, forgotten1.id(), "bob")));
        assertEquals(Reason.SESSION_NOT_FOUND, reason(renew(store, Ids.sessionName(forgotten1.id()), "alice")),
                "an id without its ticket proves nothing");
        assertEquals(1, usage(store).row(ACCOUNT).inUse());

        // The agents renew as usual and get their sessions back, under the same ids.
        clock.advance(Duration.ofSeconds(20));
        Session back1 = renew(store, forgotten1.id(), "alice").value();
        Session back2 = renew(store, forgotten2.id(), "bob").value();
        assertEquals(forgotten1.id(), back1.id());
        assertEquals(forgotten2.id(), back2.id());
        assertEquals(clock.instant().plus(TTL), back1.leaseExpiresAt());
        assertEquals(2, readmitted.get());
        assertEquals(3, usage(store).row(ACCOUNT).inUse());
        assertTrue(renew(store, kept.id(), "alice").isGranted(), "the session Redis kept renews as ever");
        assertTrue(renew(store, back1.id(), "alice").isGranted(), "a re-admitted session renews as ever");
        assertEquals(2, readmitted.get(), "renewing a session Redis has is no re-admission");

        // Still learning: nobody new gets in, even with a license free.
        assertTrue(join(store.release(ACCOUNT, back2.id(), "bob", clock.instant())).value());
        assertEquals(Reason.STORE_RECOVERING, reason(join(store.acquire(ACCOUNT, request("carol", "m4")))));

        // After the learning period the broker serves normally: the free license goes to a newcomer,
        // and the pool is then full.
        clock.set(lossFound.plus(LEARNING));
        assertTrue(renew(store, kept.id(), "alice").isGranted());
        assertTrue(renew(store, back1.id(), "alice").isGranted());
        Session carol = join(store.acquire(ACCOUNT, request("carol", "m4"))).value();
        assertEquals(ACCOUNT, carol.poolId());
        assertEquals(Reason.NO_LICENSE_AVAILABLE, reason(join(store.acquire(ACCOUNT, request("dave", "m5")))));
        assertEquals(3, usage(store).row(ACCOUNT).inUse());
        assertEquals(Map.of(ACCOUNT, 2L), lost, "the loss was reported once");
    }

    @Test
    void aReAdmissionNeverOversubscribes() {
        RedisStore store = startRedisAndNode(LEARNING);
        setUpAccountWithLicenses(store, 2);
        snapshot();
        Session forgotten = granted(store, "alice", "m1");
        loseEverythingSinceTheSnapshot();
        // The admin lowers the subscription meanwhile (a change made after the loss): no room left.
        assertTrue(answered(() -> store.setSubscription(ACCOUNT, KRE, 0, 10, clock.instant().plus(Duration.ofDays(30)),
                clock.instant())).isGranted());
        Decision<Session> back = renew(store, forgotten.id(), "alice");
        assertEquals(Reason.SESSION_NOT_FOUND, reason(back), "no license to take it back with");
        assertTrue(((Decision.Denied<Session>) back).detail().contains("could not be taken back"), back.toString());
        assertEquals(Map.of(ACCOUNT, 1L), lost);
        assertEquals(0, usage(store).row(ACCOUNT).inUse());
    }

    @Test
    void withoutALearningPeriodTheLossIsReportedAndTheBrokerServesAtOnce() {
        RedisStore store = startRedisAndNode(Duration.ZERO);
        setUpAccountWithLicenses(store, 2);
        snapshot();
        Session forgotten = granted(store, "alice", "m1");
        loseEverythingSinceTheSnapshot();
        assertTrue(answered(() -> store.acquire(ACCOUNT, request("carol", "m4"))).isGranted());
        assertEquals(Map.of(ACCOUNT, 1L), lost);
        assertEquals(Reason.SESSION_NOT_FOUND, reason(renew(store, forgotten.id(), "alice")));
        assertEquals(0, readmitted.get());
        assertEquals(1, usage(store).row(ACCOUNT).inUse());
    }

    @Test
    void aRedisThatLostNothingStartsNoLearningPeriod() {
        RedisStore store = startRedisAndNode(LEARNING);
        setUpAccountWithLicenses(store, 3);
        Session first = granted(store, "alice", "m1");
        snapshot();
        loseEverythingSinceTheSnapshot();
        assertTrue(answered(() -> store.acquire(ACCOUNT, request("bob", "m2"))).isGranted());
        assertTrue(renew(store, first.id(), "alice").isGranted());
        assertEquals(Map.of(), lost);
        assertEquals(2, usage(store).row(ACCOUNT).inUse());
    }

    @Test
    void aConfigurationRedisLostIsNeverDecidedFromEvenAfterAnotherTookItsPlace() {
        RedisStore store = startRedisAndNode(Duration.ZERO);
        setUpAccountWithLicenses(store, 2);
        snapshot();
        // This node raises the subscription and keeps that configuration; Redis then loses it.
        assertTrue(answered(() -> store.setSubscription(ACCOUNT, KRE, 10, 10, clock.instant().plus(Duration.ofDays(30)),
                clock.instant())).isGranted());
        loseEverythingSinceTheSnapshot();
        // Another node changes the account after the loss: a new configuration where the lost one was
        // (with versions counted up it would carry the lost one's number).
        RedisStore other = RedisStore.connect(RedisStoreContractTest.options(redis.uri()));
        closing.add(0, other);
        assertTrue(answered(() -> other.upsertUser(ACCOUNT, "erin", null, List.of())).isGranted());

        assertTrue(answered(() -> store.acquire(ACCOUNT, request("alice", "m1"))).isGranted(), "this node reaches Redis again");
        granted(store, "bob", "m2");
        assertEquals(Reason.NO_LICENSE_AVAILABLE, reason(answered(() -> store.acquire(ACCOUNT, request("carol", "m3")))),
                "Redis holds 2 licenses, whatever this node had seen before the loss");
        assertEquals(2, usage(store).row(ACCOUNT).pool());
    }

    @Test
    void aFloatingSeatWhoseLeaseRedisForgotTakesNoOtherMachineUntilTheLearningPeriodEnds() {
        RedisStore store = startRedisAndNode(LEARNING);
        setUpAccountWithLicenses(store, 3);
        assertTrue(join(store.setSubscription(ACCOUNT, FLOATING, 3, 10, clock.instant().plus(Duration.ofDays(30)),
                LicenseModel.FLOATING, clock.instant())).isGranted());
        assertTrue(join(store.grantLicense(ACCOUNT, FLOATING, "alice", null, clock.instant())).isGranted());
        assertTrue(join(store.grantLicense(ACCOUNT, FLOATING, "bob", null, clock.instant())).isGranted());
        Activation kept = activated(store, "bob", "m1").value();
        snapshot();
        Activation forgotten = activated(store, "alice", "m2").value();

        loseEverythingSinceTheSnapshot();

        // Alice's agent on m2 still uses the seat: no other machine may have it, even taking it over.
        assertEquals(Reason.STORE_RECOVERING, reason(activated(store, "alice", "m3")));
        assertEquals(Map.of(ACCOUNT, 1L), lost, "the lost activation was counted like an acquire");
        assertEquals(Reason.STORE_RECOVERING, reason(answered(() -> store.activate(ACCOUNT, new ActivationRequest(FLOATING, "alice",
                "m3", "", true, Ids.newSessionId(ACCOUNT, RANDOM), clock.instant(), clock.instant().plus(TTL))))));
        assertEquals(kept, activated(store, "bob", "m1").value(), "a lease Redis kept is answered as ever");
        assertEquals(Reason.SESSION_NOT_FOUND, reason(answered(() -> store.renew(ACCOUNT, forgotten.activationId(), "alice",
                clock.instant(), clock.instant().plus(TTL)))), "the forgotten lease is gone: its agent stops");

        clock.advance(LEARNING);
        assertEquals("m3", activated(store, "alice", "m3").value().machineId());
        assertEquals(2, answered(() -> store.usage(ACCOUNT, FLOATING, clock.instant())).value().row(ACCOUNT).inUse());
    }

    // ---------------------------------------------------------------- helpers

    private Decision<Activation> activated(RedisStore store, String user, String machine) {
        return answered(() -> store.activate(ACCOUNT, new ActivationRequest(FLOATING, user, machine, "", false,
                Ids.newSessionId(ACCOUNT, RANDOM), clock.instant(), clock.instant().plus(TTL))));
    }

    private RedisStore startRedisAndNode(Duration learning) {
        redis = RedisServer.start(dir);
        closing.add(redis);
        StoreObserver observer = new StoreObserver() {
            @Override
            public void stateLost(String accountId, long lostAcquires) {
                lost.merge(accountId, lostAcquires, Long::sum);
            }

            @Override
            public void sessionReadmitted() {
                readmitted.incrementAndGet();
            }
        };
        RedisStore store = RedisStore.connect(RedisStoreContractTest.options(redis.uri()).toBuilder()
                .commandTimeout(Duration.ofSeconds(2))
                .learningPeriod(learning)
                .observer(observer).build());
        closing.add(0, store);
        return store;
    }

    private void setUpAccountWithLicenses(RedisStore store, long licenses) {
        assertTrue(join(store.createAccount(new Account(ACCOUNT, "Loss"))).isGranted());
        assertTrue(join(store.setSubscription(ACCOUNT, KRE, licenses, 10, clock.instant().plus(Duration.ofDays(30)),
                clock.instant())).isGranted());
        for (String user : List.of("alice", "bob", "carol", "dave")) {
            assertTrue(join(store.upsertUser(ACCOUNT, user, null, List.of())).isGranted());
        }
    }

    /** What Redis will come back with. */
    private void snapshot() {
        redis.with(c -> c.sync().save());
    }

    /** SIGKILL and restart: Redis loads the last snapshot, so everything since is gone. */
    private void loseEverythingSinceTheSnapshot() {
        redis.kill();
        redis.restart();
    }

    private Session granted(RedisStore store, String user, String machine) {
        Decision<Session> d = join(store.acquire(ACCOUNT, request(user, machine)));
        assertTrue(d.isGranted(), d.toString());
        checkInvariant(store);
        return d.value();
    }

    private AcquireRequest request(String user, String machine) {
        return new AcquireRequest(KRE, user, machine, "", Ids.newSessionId(ACCOUNT, RANDOM), clock.instant(), clock.instant().plus(TTL));
    }

    private Decision<Session> renew(RedisStore store, String sessionId, String user) {
        Decision<Session> d = answered(() -> store.renew(ACCOUNT, sessionId, user, clock.instant(), clock.instant().plus(TTL)));
        checkInvariant(store);
        return d;
    }

    private LicenseUsage usage(RedisStore store) {
        LicenseUsage usage = answered(() -> store.usage(ACCOUNT, KRE, clock.instant())).value();
        assertEquals(List.of(), UsageInvariants.violations(usage));
        return usage;
    }

    private void checkInvariant(RedisStore store) {
        usage(store);
    }

    /** Changes one character of the ticket's MAC. */
    private static String tamperMac(String id) {
        int at = Ids.sessionName(id).length() + 1;
        char c = id.charAt(at);
        return id.substring(0, at) + (c == 'A' ? 'B' : 'A') + id.substring(at + 1);
    }

    private static Reason reason(Decision<?> d) {
        if (d instanceof Decision.Denied<?> denied) {
            return denied.reason();
        }
        return fail("expected a refusal, got " + d);
    }

    /** Like an agent: repeats a call that found Redis unreachable (it changed nothing) until it is answered. */
    private static <T> T answered(Supplier<CompletionStage<T>> call) {
        AtomicReference<T> answer = new AtomicReference<>();
        Await.until(Duration.ofSeconds(30), () -> {
            try {
                answer.set(call.get().toCompletableFuture().get(30, TimeUnit.SECONDS));
                return true;
            } catch (ExecutionException | CompletionException e) {
                if (e.getCause() instanceof StoreUnavailableException) {
                    return false;
                }
                throw new AssertionError(e);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, () -> "an answer from Redis");
        return answer.get();
    }

    private static <T> T join(CompletionStage<T> stage) {
        return answered(() -> stage);
    }
}
