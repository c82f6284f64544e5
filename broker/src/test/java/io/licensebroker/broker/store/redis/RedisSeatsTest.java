package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Activation;
import io.licensebroker.broker.core.ActivationRequest;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.LicenseModel;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.LicensedUser;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.SeatQuery;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.SessionQuery;
import io.licensebroker.broker.testing.UsageInvariants;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static io.licensebroker.broker.testing.StoreTarget.join;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seats on the Redis store beyond what the differential test compares: a floating activation is a
 * lease renewed and released by its id, taken over, reaped, ended with its seat and moved by a
 * revoke; a node-locked one is a binding a deactivation ends; a model change never strands a
 * session that started while it was decided.
 */
class RedisSeatsTest {
    private static final String A = "AC-seat";
    private static final String FLOAT = "KSF";
    private static final String NODE = "KSN";
    private static final Duration TTL = Duration.ofSeconds(60);
    private static final SecureRandom RANDOM = new SecureRandom();
    @RegisterExtension
    static final SharedRedis REDIS = new SharedRedis("redis-seats");

    private final MutableClock clock = MutableClock.at("2030-01-01T00:00:00Z");
    private final List<RedisStore> nodes = new ArrayList<>();

    @AfterEach
    void close() {
        nodes.forEach(RedisStore::close);
    }

    private RedisStore node() {
        RedisStore store = RedisStore.connect(RedisStoreContractTest.options(REDIS.uri()));
        nodes.add(store);
        return store;
    }

    private RedisStore account(LicenseModel model, String product, long licenses) {
        RedisStore store = node();
        ok(store.createAccount(new Account(A, "Seats")));
        ok(store.setSubscription(A, product, licenses, 10, now().plus(Duration.ofDays(30)), model, now()));
        for (String u : List.of("u1", "u2", "u3")) {
            ok(store.upsertUser(A, u, null, List.of()));
        }
        return store;
    }

    @Test
    void aFloatingActivationIsALeaseRenewedAndReleasedByItsId() {
        RedisStore store = account(LicenseModel.FLOATING, FLOAT, 3);
        ok(store.grantLicense(A, FLOAT, "u1", null, now()));
        Activation first = ok(store.activate(A, activation(FLOAT, "u1", "m1", false)));
        assertEquals(now().plus(TTL), first.leaseExpiresAt());
        assertEquals(A, first.poolId());
        assertEquals(first, ok(store.activate(A, activation(FLOAT, "u1", "m1", false))), "the same machine gets the same activation");
        assertEquals(1, inUse(store, FLOAT), "the seat counts, its lease does not count again");

        clock.advance(Duration.ofSeconds(30));
        Session renewed = ok(store.renew(A, first.activationId(), "u1", now(), now().plus(TTL)));
        assertEquals(now().plus(TTL), renewed.leaseExpiresAt());
        assertEquals(Reason.PERMISSION_DENIED, reason(store.renew(A, first.activationId(), "u2", now(), now().plus(TTL))));
        assertEquals(List.of(first.activationId()), activationIds(store, FLOAT));
        assertEquals(now().plus(TTL), ok(store.activations(A, new SeatQuery(FLOAT, null, null, 10, null), now())).items().get(0).leaseExpiresAt());

        assertTrue(ok(store.release(A, first.activationId(), "u1", now())));
        assertFalse(ok(store.release(A, first.activationId(), "u1", now())), "releasing twice is no error");
        assertEquals(List.of(), activationIds(store, FLOAT));
        assertEquals(1, inUse(store, FLOAT), "the seat stays with its user");
        assertTrue(ok(store.activate(A, activation(FLOAT, "u1", "m2", false))).leaseExpiresAt() != null, "the seat is free for any machine");
    }

    @Test
    void takingOverEndsTheOtherMachinesLease() {
        RedisStore store = account(LicenseModel.FLOATING, FLOAT, 3);
        ok(store.grantLicense(A, FLOAT, "u1", null, now()));
        Activation onM1 = ok(store.activate(A, activation(FLOAT, "u1", "m1", false)));
        Decision<Activation> refused = join(store.activate(A, activation(FLOAT, "u1", "m2", false)));
        assertEquals(Reason.SEAT_IN_USE, reason(refused));
        assertTrue(((Decision.Denied<Activation>) refused).detail().contains("machine m1"), refused.toString());

        Activation onM2 = ok(store.activate(A, activation(FLOAT, "u1", "m2", true)));
        assertEquals(Reason.SESSION_TERMINATED, reason(store.renew(A, onM1.activationId(), "u1", now(), now().plus(TTL))));
        assertEquals(List.of(onM2.activationId()), activationIds(store, FLOAT));
        assertEquals(2, ok(store.usage(A, FLOAT, now())).registeredMachines());
        assertEquals(1, inUse(store, FLOAT));
    }

    @Test
    void aLeaseThatRanOutFreesTheSeatWithOrWithoutTheReaper() {
        RedisStore store = account(LicenseModel.FLOATING, FLOAT, 3);
        ok(store.grantLicense(A, FLOAT, "u1", null, now()));
        ok(store.grantLicense(A, FLOAT, "u2", null, now()));
        Activation reaped = ok(store.activate(A, activation(FLOAT, "u1", "m1", false)));
        Activation ranOut = ok(store.activate(A, activation(FLOAT, "u2", "m1", false)));
        clock.advance(TTL.plusSeconds(1));
        assertEquals(List.of(), activationIds(store, FLOAT), "a lease that ran out is no activation, reaped or not");

        assertEquals(2, join(store.expireLeases(now())));
        assertEquals(Reason.SESSION_EXPIRED, reason(store.renew(A, reaped.activationId(), "u1", now(), now().plus(TTL))));
        assertTrue(ok(store.activate(A, activation(FLOAT, "u1", "m2", false))).leaseExpiresAt() != null);

        // Not reaped yet: the activation ends the run-out lease itself.
        Activation later = ok(store.activate(A, activation(FLOAT, "u2", "m2", false)));
        clock.advance(TTL.plusSeconds(1));
        assertTrue(ok(store.activate(A, activation(FLOAT, "u2", "m3", false))).leaseExpiresAt() != null);
        assertEquals(Reason.SESSION_EXPIRED, reason(store.renew(A, later.activationId(), "u2", now(), now().plus(TTL))));
        assertEquals(Reason.SESSION_EXPIRED, reason(store.renew(A, ranOut.activationId(), "u2", now(), now().plus(TTL))));
    }

    @Test
    void removingOrTransferringTheSeatEndsItsLease() {
        RedisStore store = account(LicenseModel.FLOATING, FLOAT, 3);
        ok(store.grantLicense(A, FLOAT, "u1", null, now()));
        Activation a = ok(store.activate(A, activation(FLOAT, "u1", "m1", false)));
        assertTrue(ok(store.removeLicense(A, FLOAT, "u1", now())));
        assertEquals(Reason.SESSION_TERMINATED, reason(store.renew(A, a.activationId(), "u1", now(), now().plus(TTL))));
        assertEquals(List.of(), activationIds(store, FLOAT));
        assertEquals(0, inUse(store, FLOAT));
        assertEquals(Reason.NOT_LICENSED, reason(store.activate(A, activation(FLOAT, "u1", "m1", false))));

        ok(store.grantLicense(A, FLOAT, "u2", null, now()));
        Activation b = ok(store.activate(A, activation(FLOAT, "u2", "m1", false)));
        LicensedUser moved = ok(store.transferLicense(A, FLOAT, "u2", "u3", null, now()));
        assertEquals("u3", moved.seat().userId());
        assertEquals(Reason.SESSION_TERMINATED, reason(store.renew(A, b.activationId(), "u2", now(), now().plus(TTL))));
        Activation c = ok(store.activate(A, activation(FLOAT, "u3", "m1", false)));
        assertEquals(List.of(c.activationId()), activationIds(store, FLOAT));
        assertEquals(1, inUse(store, FLOAT));
    }

    @Test
    void aRevokeMovesSeatsAndLeasesToTheParentPool() {
        RedisStore store = account(LicenseModel.FLOATING, FLOAT, 5);
        String top = ok(store.createOrganization(A, null, "top")).id();
        String sub = ok(store.createOrganization(A, top, "sub")).id();
        ok(store.setDedicated(A, top, FLOAT, 3, now()));
        ok(store.setDedicated(A, sub, FLOAT, 2, now()));
        ok(store.grantLicense(A, FLOAT, "u1", sub, now()));
        ok(store.grantLicense(A, FLOAT, "u2", top, now()));
        Activation inSub = ok(store.activate(A, activation(FLOAT, "u1", "m1", false)));
        assertEquals(sub, inSub.poolId());

        LicenseUsage usage = ok(store.setDedicated(A, top, FLOAT, 0, now()));
        assertEquals(2, usage.row(A).inUse(), "both seats are back in the account pool");
        assertEquals(List.of(), UsageInvariants.violations(usage));
        List<Activation> listed = ok(store.activations(A, new SeatQuery(FLOAT, null, null, 10, null), now())).items();
        assertEquals(List.of(inSub.activationId()), listed.stream().map(Activation::activationId).toList());
        assertEquals(A, listed.get(0).poolId(), "the lease moved with its seat");
        assertEquals(A, ok(store.renew(A, inSub.activationId(), "u1", now(), now().plus(TTL))).poolId());
        assertEquals(List.of(A, A), ok(store.licensedUsers(A, new SeatQuery(FLOAT, null, null, 10, null), now())).items()
                .stream().map(l -> l.seat().poolId()).toList());
        // The lease left its old pool's set: a revoke of the account's other organizations moves nothing twice.
        ok(store.setDedicated(A, top, FLOAT, 1, now()));
        ok(store.setDedicated(A, top, FLOAT, 0, now()));
        assertEquals(List.of(inSub.activationId()), activationIds(store, FLOAT));
        assertTrue(ok(store.release(A, inSub.activationId(), "u1", now())));
        assertEquals(List.of(), activationIds(store, FLOAT));
    }

    @Test
    void aNodeLockedSeatIsBoundUntilItsMachineIsDeactivated() {
        RedisStore store = account(LicenseModel.NODE_LOCKED, NODE, 3);
        ok(store.grantLicense(A, NODE, "u1", null, now()));
        Activation bound = ok(store.activate(A, activation(NODE, "u1", "m1", false)));
        assertNull(bound.leaseExpiresAt());
        assertEquals(bound, ok(store.activate(A, activation(NODE, "u1", "m1", true))));
        assertEquals(Reason.SEAT_IN_USE, reason(store.activate(A, activation(NODE, "u1", "m2", true))), "no take-over of a binding");
        assertTrue(ok(store.deactivateMachine(A, NODE, "m1", now())));
        Activation elsewhere = ok(store.activate(A, activation(NODE, "u1", "m2", false)));
        assertEquals("m2", elsewhere.machineId());
        assertEquals(List.of(elsewhere.activationId()), activationIds(store, NODE));

        // An offline license binds the seat: it cannot be removed, and its machine stays registered.
        Instant until = now().plus(Duration.ofDays(10));
        ok(store.issueOfflineLicense(A, NODE, "m2", "u1", until, Duration.ofDays(60), now()));
        assertEquals(Reason.OFFLINE_BOUND, reason(store.removeLicense(A, NODE, "u1", now())));
        assertFalse(ok(store.deactivateMachine(A, NODE, "m2", now())));
        assertEquals(until, ok(store.machines(A, NODE, now())).get(0).offlineExpiresAt());
        assertEquals(until, ok(store.licensedUsers(A, new SeatQuery(NODE, null, null, 10, null), now())).items().get(0).offlineUntil());
    }

    @Test
    void aModelChangeNeverLeavesASessionThatStartedMeanwhile() {
        // Sessions start on one node while the other changes the model: the change is decided from
        // counts read before them, and the apply guard refuses it if any started in between.
        RedisStore admin = node();
        RedisStore agents = node();
        for (int round = 0; round < 15; round++) {
            String a = "AC-model-" + round;
            ok(admin.createAccount(new Account(a, "Model")));
            ok(admin.setSubscription(a, "KRE", 50, 100, now().plus(Duration.ofDays(30)), now()));
            ok(admin.upsertUser(a, "u1", null, List.of()));
            ok(agents.usage(a, "KRE", now()));
            List<CompletableFuture<Decision<Session>>> acquires = new ArrayList<>();
            CompletableFuture<Decision<io.licensebroker.broker.core.Subscription>> change = null;
            for (int i = 0; i < 20; i++) {
                if (i == round % 10) {
                    change = admin.setSubscription(a, "KRE", 50, 100, now().plus(Duration.ofDays(30)), LicenseModel.FLOATING, now())
                            .toCompletableFuture();
                }
                acquires.add(agents.acquire(a, new AcquireRequest("KRE", "u1", "m" + i, "", Ids.newSessionId(a, RANDOM), now(),
                        now().plus(TTL))).toCompletableFuture());
            }
            Decision<?> changed = join(change);
            long granted = acquires.stream().map(f -> join(f)).filter(Decision::isGranted).count();
            long live = ok(agents.sessions(a, new SessionQuery("KRE", null, null, null, 100, null))).sessions().size();
            assertEquals(granted, live, "round " + round);
            if (changed.isGranted()) {
                assertEquals(0, live, "round " + round + ": the model changed, so no session may live under it");
            } else {
                assertEquals(Reason.LICENSE_MODEL_MISMATCH, reason(CompletableFuture.completedFuture(changed)), "round " + round);
                assertTrue(live > 0, "round " + round);
            }
        }
    }

    @Test
    void aSessionIsFoundByWhatTerminateEndsItBy() {
        // An organization admin's terminate is checked against the session's pool first: the lookup
        // must find every id terminate would end (the name, with or without its ticket, and a
        // floating activation by its activation id), or the check would pass over it.
        RedisStore store = account(LicenseModel.FLOATING, FLOAT, 3);
        ok(store.setSubscription(A, "KRE", 3, 10, now().plus(Duration.ofDays(30)), now()));
        Session session = ok(store.acquire(A, new AcquireRequest("KRE", "u1", "m1", "", Ids.newSessionId(A, RANDOM), now(),
                now().plus(TTL))));
        ok(store.grantLicense(A, FLOAT, "u2", null, now()));
        Activation lease = ok(store.activate(A, activation(FLOAT, "u2", "m2", false)));
        for (String id : List.of(session.id(), Ids.sessionName(session.id()))) {
            assertEquals(Ids.sessionName(session.id()), Ids.sessionName(ok(store.session(A, id)).orElseThrow().id()), id);
        }
        Session asSession = ok(store.session(A, lease.activationId())).orElseThrow();
        assertEquals(lease.activationId(), Ids.sessionName(asSession.id()));
        assertEquals(A, asSession.poolId());
        assertEquals(java.util.Optional.empty(), ok(store.session(A, Ids.newSessionId(A, RANDOM))));
        assertTrue(ok(store.terminate(A, lease.activationId(), now())));
        assertEquals(java.util.Optional.empty(), ok(store.session(A, lease.activationId())), "an ended session");
        assertEquals(Reason.ACCOUNT_NOT_FOUND, reason(store.session("AC-none", session.id())));
    }

    // ---------------------------------------------------------------- helpers

    private ActivationRequest activation(String product, String user, String machine, boolean takeOver) {
        return new ActivationRequest(product, user, machine, "", takeOver, Ids.newSessionId(A, RANDOM), now(), now().plus(TTL));
    }

    private List<String> activationIds(RedisStore store, String product) {
        return ok(store.activations(A, new SeatQuery(product, null, null, 100, null), now())).items().stream()
                .map(Activation::activationId).toList();
    }

    private long inUse(RedisStore store, String product) {
        return ok(store.usage(A, product, now())).row(A).inUse();
    }

    private Instant now() {
        return clock.instant();
    }

    private static <T> T ok(CompletionStage<Decision<T>> stage) {
        Decision<T> d = join(stage);
        assertTrue(d.isGranted(), "expected granted, got " + d);
        return d.value();
    }

    private static Reason reason(CompletionStage<? extends Decision<?>> stage) {
        return reason(join(stage));
    }

    private static Reason reason(Decision<?> d) {
        if (d instanceof Decision.Denied<?> denied) {
            return denied.reason();
        }
        throw new AssertionError("expected a denial, got " + d);
    }
}
