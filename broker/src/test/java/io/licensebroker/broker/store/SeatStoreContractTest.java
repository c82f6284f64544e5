package io.licensebroker.broker.store;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Activation;
import io.licensebroker.broker.core.ActivationRequest;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.LicenseModel;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.LicensedUser;
import io.licensebroker.broker.core.Machine;
import io.licensebroker.broker.core.Page;
import io.licensebroker.broker.core.PoolRow;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.SeatQuery;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.testing.UsageInvariants;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static io.licensebroker.broker.store.LicenseStoreContractTest.denied;
import static io.licensebroker.broker.store.LicenseStoreContractTest.join;
import static io.licensebroker.broker.store.LicenseStoreContractTest.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every {@link LicenseStore} must do with seat licenses (CONTRACT.md section 5), through the
 * interface only; each store subclasses it with its factory, like {@link LicenseStoreContractTest}.
 * After every change the test checks the invariant on the store's own usage table.
 */
public abstract class SeatStoreContractTest {
    protected static final String KSE = "KSE";
    protected static final String KRE = "KRE";
    protected static final Duration TTL = Duration.ofSeconds(60);
    private static final SecureRandom RANDOM = new SecureRandom();

    protected MutableClock clock;
    protected LicenseStore store;
    protected final String run = Ids.random(RANDOM, 8).toUpperCase();

    protected abstract LicenseStore newStore(MutableClock clock);

    @BeforeEach
    void openStore() {
        clock = MutableClock.at("2030-01-01T00:00:00Z");
        store = newStore(clock);
    }

    @AfterEach
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    // ---------------------------------------------------------------- helpers

    protected Instant now() {
        return clock.instant();
    }

    /** An account with a KSE subscription of the model, a machine quota of {@code machines}, and users u1..u{users} with no org. */
    protected String account(String name, LicenseModel model, long licenses, long machines, int users) {
        String id = "AC-" + run + "-" + name;
        ok(store.createAccount(new Account(id, "Account " + name)));
        ok(store.setSubscription(id, KSE, licenses, machines, now().plus(Duration.ofDays(365)), model, now()));
        for (int i = 1; i <= users; i++) {
            ok(store.upsertUser(id, "u" + i, null, List.of()));
        }
        return id;
    }

    protected LicensedUser grant(String account, String user, String pool) {
        LicensedUser granted = ok(store.grantLicense(account, KSE, user, pool, now()));
        checkInvariant(account);
        return granted;
    }

    protected Activation activate(String account, String user, String machine, boolean takeOver) {
        return ok(store.activate(account, activation(account, user, machine, takeOver)));
    }

    protected ActivationRequest activation(String account, String user, String machine, boolean takeOver) {
        return new ActivationRequest(KSE, user, machine, "", takeOver, Ids.newSessionId(account, RANDOM), now(), now().plus(TTL));
    }

    protected LicenseUsage usage(String account) {
        return ok(store.usage(account, KSE, now()));
    }

    protected PoolRow row(String account, String pool) {
        return usage(account).rows().stream().filter(r -> r.poolId().equals(pool)).findFirst().orElseThrow();
    }

    protected void checkInvariant(String account) {
        assertEquals(List.of(), UsageInvariants.violations(usage(account)));
    }

    protected List<LicensedUser> licensed(String account, String pool) {
        return ok(store.licensedUsers(account, new SeatQuery(KSE, pool, null, 1000, null), now())).items();
    }

    protected List<Activation> activations(String account, String user) {
        return ok(store.activations(account, new SeatQuery(KSE, null, user, 1000, null), now())).items();
    }

    // ---------------------------------------------------------------- granting

    @Test
    void seatsAreGrantedUpToTheQuotaAndOneMoreIsRefused() {
        String a = account("quota", LicenseModel.NODE_LOCKED, 3, 10, 4);
        for (int i = 1; i <= 3; i++) {
            LicensedUser s = grant(a, "u" + i, null);
            assertEquals(a, s.seat().poolId());
            assertEquals("u" + i, s.seat().userId());
        }
        assertEquals(Reason.INSUFFICIENT_LICENSES, denied(store.grantLicense(a, KSE, "u4", null, now())));
        PoolRow root = row(a, a);
        assertEquals(3, root.inUse());
        assertEquals(0, root.available());
        assertEquals(List.of("u1", "u2", "u3"), licensed(a, null).stream().map(l -> l.seat().userId()).toList());
        checkInvariant(a);
    }

    @Test
    void grantingAgainAnswersTheSameSeatAndTakesNoSecondLicense() {
        String a = account("again", LicenseModel.FLOATING, 2, 10, 1);
        LicensedUser first = grant(a, "u1", null);
        clock.advance(Duration.ofMinutes(1));
        assertEquals(first.seat(), grant(a, "u1", null).seat());
        assertEquals(1, row(a, a).inUse());
    }

    @Test
    void aSeatDrawsFromTheAssignedOrganizationOrTheNamedPoolAndNeverFallsBack() {
        String a = account("pools", LicenseModel.NODE_LOCKED, 10, 10, 0);
        String eng = ok(store.createOrganization(a, null, "Engineering")).id();
        ok(store.setDedicated(a, eng, KSE, 1, now()));
        ok(store.upsertUser(a, "alice", eng, List.of()));
        ok(store.upsertUser(a, "bob", eng, List.of()));
        ok(store.upsertUser(a, "carol", null, List.of()));
        assertEquals(eng, grant(a, "alice", null).seat().poolId());
        // The organization's pool is full; the account pool has room, but seats never fall back.
        assertEquals(Reason.INSUFFICIENT_LICENSES, denied(store.grantLicense(a, KSE, "bob", null, now())));
        assertEquals(a, grant(a, "bob", a).seat().poolId());
        assertEquals(a, grant(a, "carol", null).seat().poolId());
        assertEquals(1, row(a, eng).inUse());
        assertEquals(2, row(a, a).inUse());
        assertEquals(List.of("alice"), licensed(a, eng).stream().map(l -> l.seat().userId()).toList());
    }

    @Test
    void badGrantsAreRefusedAndChangeNothing() {
        String a = account("bad", LicenseModel.NODE_LOCKED, 2, 10, 1);
        assertEquals(Reason.USER_NOT_FOUND, denied(store.grantLicense(a, KSE, "nobody", null, now())));
        assertEquals(Reason.ORGANIZATION_NOT_FOUND, denied(store.grantLicense(a, KSE, "u1", "OG-missing", now())));
        assertEquals(Reason.NO_SUBSCRIPTION, denied(store.grantLicense(a, "OTHER", "u1", null, now())));
        ok(store.setSubscription(a, KRE, 5, 5, now().plus(Duration.ofDays(30)), now()));
        assertEquals(Reason.LICENSE_MODEL_MISMATCH, denied(store.grantLicense(a, KRE, "u1", null, now())));
        assertEquals(Reason.ACCOUNT_NOT_FOUND, denied(store.grantLicense("AC-" + run + "-none", KSE, "u1", null, now())));
        assertEquals(0, row(a, a).inUse());
        assertEquals(List.of(), licensed(a, null));
    }

    @Test
    void licensedUsersArePagedInUserIdOrder() {
        String a = account("paging", LicenseModel.FLOATING, 10, 10, 7);
        for (int i = 7; i >= 1; i--) {
            grant(a, "u" + i, null);
        }
        List<String> seen = new ArrayList<>();
        String token = null;
        do {
            Page<LicensedUser> page = ok(store.licensedUsers(a, new SeatQuery(KSE, null, null, 3, token), now()));
            assertTrue(page.items().size() <= 3);
            page.items().forEach(l -> seen.add(l.seat().userId()));
            token = page.nextPageToken();
        } while (token != null);
        assertEquals(List.of("u1", "u2", "u3", "u4", "u5", "u6", "u7"), seen);
    }

    // ---------------------------------------------------------------- removing and transferring

    @Test
    void removingFreesTheSeat() {
        String a = account("remove", LicenseModel.NODE_LOCKED, 1, 10, 2);
        grant(a, "u1", null);
        assertTrue(ok(store.removeLicense(a, KSE, "u1", now())));
        assertFalse(ok(store.removeLicense(a, KSE, "u1", now())));
        assertEquals(0, row(a, a).inUse());
        grant(a, "u2", null);
        checkInvariant(a);
    }

    @Test
    void aTransferMovesTheSeatInOneStep() {
        String a = account("transfer", LicenseModel.NODE_LOCKED, 1, 10, 3);
        LicensedUser before = grant(a, "u1", null);
        LicensedUser after = ok(store.transferLicense(a, KSE, "u1", "u2", null, now()));
        assertEquals("u2", after.seat().userId());
        assertEquals(before.seat().poolId(), after.seat().poolId());
        assertEquals(List.of("u2"), licensed(a, null).stream().map(l -> l.seat().userId()).toList());
        assertEquals(1, row(a, a).inUse());
        assertEquals(Reason.NOT_LICENSED, denied(store.transferLicense(a, KSE, "u1", "u3", null, now())));
        assertEquals(Reason.USER_NOT_FOUND, denied(store.transferLicense(a, KSE, "u2", "nobody", null, now())));
        checkInvariant(a);
    }

    @Test
    void aTransferToAUserWithASeatOrIntoAFullPoolIsRefused() {
        String a = account("transfer-bad", LicenseModel.FLOATING, 3, 10, 3);
        String eng = ok(store.createOrganization(a, null, "Engineering")).id();
        ok(store.setDedicated(a, eng, KSE, 1, now()));
        ok(store.upsertUser(a, "e1", eng, List.of()));
        grant(a, "e1", null);
        grant(a, "u1", null);
        grant(a, "u2", null);
        assertEquals(Reason.ALREADY_EXISTS, denied(store.transferLicense(a, KSE, "u1", "u2", null, now())));
        assertEquals(Reason.INSUFFICIENT_LICENSES, denied(store.transferLicense(a, KSE, "u1", "u3", eng, now())));
        assertEquals(a, ok(store.transferLicense(a, KSE, "u1", "u3", a, now())).seat().poolId());
        assertEquals(2, row(a, a).inUse());
        assertEquals(1, row(a, eng).inUse());
    }

    // ---------------------------------------------------------------- pools

    @Test
    void dedicatedLicensesCannotGoBelowTheSeatsAndARevokeMovesThemToTheParent() {
        String a = account("revoke", LicenseModel.FLOATING, 10, 10, 0);
        String eng = ok(store.createOrganization(a, null, "Engineering")).id();
        String qa = ok(store.createOrganization(a, eng, "QA")).id();
        ok(store.setDedicated(a, eng, KSE, 5, now()));
        ok(store.setDedicated(a, qa, KSE, 2, now()));
        ok(store.upsertUser(a, "q1", qa, List.of()));
        ok(store.upsertUser(a, "q2", qa, List.of()));
        ok(store.upsertUser(a, "e1", eng, List.of()));
        grant(a, "q1", null);
        grant(a, "q2", null);
        grant(a, "e1", null);
        Activation lease = activate(a, "q1", "m-q1", false);
        assertEquals(qa, lease.poolId());
        assertEquals(Reason.BELOW_IN_USE, denied(store.setDedicated(a, qa, KSE, 1, now())));
        assertEquals(Reason.BELOW_IN_USE, denied(store.setDedicated(a, eng, KSE, 2, now())));
        ok(store.setDedicated(a, eng, KSE, 0, now()));
        checkInvariant(a);
        assertEquals(3, row(a, a).inUse());
        assertEquals(0, row(a, eng).inUse());
        assertEquals(0, row(a, qa).inUse());
        licensed(a, null).forEach(l -> assertEquals(a, l.seat().poolId(), l.toString()));
        // The live lease moved with its seat and stays renewable.
        assertEquals(a, activations(a, "q1").get(0).poolId());
        ok(store.renew(a, lease.activationId(), "q1", now(), now().plus(TTL)));
    }

    @Test
    void theSubscriptionCannotGoBelowTheSeatsNorChangeItsModelWhileSeatsExist() {
        String a = account("subscription", LicenseModel.NODE_LOCKED, 3, 10, 2);
        grant(a, "u1", null);
        grant(a, "u2", null);
        Instant end = now().plus(Duration.ofDays(365));
        assertEquals(Reason.BELOW_IN_USE, denied(store.setSubscription(a, KSE, 1, 10, end, LicenseModel.NODE_LOCKED, now())));
        assertEquals(Reason.LICENSE_MODEL_MISMATCH, denied(store.setSubscription(a, KSE, 3, 10, end, LicenseModel.FLOATING, now())));
        assertEquals(Reason.LICENSE_MODEL_MISMATCH, denied(store.setSubscription(a, KSE, 3, 10, end, LicenseModel.SESSION, now())));
        ok(store.setSubscription(a, KSE, 2, 10, end, LicenseModel.NODE_LOCKED, now()));
        ok(store.removeLicense(a, KSE, "u1", now()));
        ok(store.removeLicense(a, KSE, "u2", now()));
        assertEquals(LicenseModel.FLOATING, ok(store.setSubscription(a, KSE, 2, 10, end, LicenseModel.FLOATING, now())).model());
        assertEquals(LicenseModel.FLOATING, ok(store.subscription(a, KSE)).model());
        checkInvariant(a);
    }

    @Test
    void aSessionProductWithLiveSessionsCannotBecomeASeatProduct() {
        String a = account("session-model", LicenseModel.NODE_LOCKED, 3, 10, 1);
        Instant end = now().plus(Duration.ofDays(365));
        ok(store.setSubscription(a, KRE, 3, 10, end, now()));
        Session s = ok(store.acquire(a, new AcquireRequest(KRE, "u1", "m1", "", Ids.newSessionId(a, RANDOM), now(), now().plus(TTL))));
        assertEquals(Reason.LICENSE_MODEL_MISMATCH, denied(store.setSubscription(a, KRE, 3, 10, end, LicenseModel.FLOATING, now())));
        ok(store.release(a, s.id(), "u1", now()));
        ok(store.setSubscription(a, KRE, 3, 10, end, LicenseModel.FLOATING, now()));
        // Now a seat product: a session is refused, a seat is granted.
        assertEquals(Reason.LICENSE_MODEL_MISMATCH, denied(store.acquire(a,
                new AcquireRequest(KRE, "u1", "m1", "", Ids.newSessionId(a, RANDOM), now(), now().plus(TTL)))));
        ok(store.grantLicense(a, KRE, "u1", null, now()));
    }

    // ---------------------------------------------------------------- node-locked activation

    @Test
    void aNodeLockedSeatBindsOneMachineUntilItIsDeactivated() {
        String a = account("node-locked", LicenseModel.NODE_LOCKED, 2, 10, 2);
        assertEquals(Reason.NOT_LICENSED, denied(store.activate(a, activation(a, "u1", "m1", false))));
        grant(a, "u1", null);
        Activation bound = activate(a, "u1", "m1", false);
        assertEquals("m1", bound.machineId());
        assertNull(bound.leaseExpiresAt());
        assertEquals(a, bound.poolId());
        assertEquals(bound, activate(a, "u1", "m1", false));
        assertEquals(Reason.SEAT_IN_USE, denied(store.activate(a, activation(a, "u1", "m2", false))));
        assertEquals(Reason.SEAT_IN_USE, denied(store.activate(a, activation(a, "u1", "m2", true))));
        assertEquals(List.of(bound), activations(a, null));
        assertEquals("m1", licensed(a, null).get(0).seat().machineId());
        assertEquals(List.of("m1"), ok(store.machines(a, KSE, now())).stream().map(Machine::machineId).toList());
        assertEquals(1, usage(a).registeredMachines());
        // The admin deactivates the machine: the seat is free to bind another one.
        assertTrue(ok(store.deactivateMachine(a, KSE, "m1", now())));
        assertEquals(List.of(), activations(a, null));
        Activation moved = activate(a, "u1", "m2", false);
        assertEquals("m2", moved.machineId());
        assertNotEquals(bound.activationId(), moved.activationId());
        assertEquals(1, row(a, a).inUse());
        checkInvariant(a);
    }

    @Test
    void activationsRespectTheMachineQuotaAndTheModel() {
        String a = account("quota-machines", LicenseModel.NODE_LOCKED, 3, 1, 2);
        grant(a, "u1", null);
        grant(a, "u2", null);
        activate(a, "u1", "m1", false);
        assertEquals(Reason.MACHINE_QUOTA_EXCEEDED, denied(store.activate(a, activation(a, "u2", "m2", false))));
        assertEquals(Reason.LICENSE_MODEL_MISMATCH, denied(store.acquire(a,
                new AcquireRequest(KSE, "u2", "m1", "", Ids.newSessionId(a, RANDOM), now(), now().plus(TTL)))));
        ok(store.setSubscription(a, KRE, 3, 10, now().plus(Duration.ofDays(30)), now()));
        assertEquals(Reason.LICENSE_MODEL_MISMATCH, denied(store.activate(a,
                new ActivationRequest(KRE, "u1", "m1", "", false, Ids.newSessionId(a, RANDOM), now(), now().plus(TTL)))));
        clock.advance(Duration.ofDays(366));
        assertEquals(Reason.SUBSCRIPTION_EXPIRED, denied(store.activate(a, activation(a, "u2", "m1", false))));
    }

    // ---------------------------------------------------------------- floating activation

    @Test
    void aFloatingSeatIsALeaseUsedFromOneMachineAtATime() {
        String a = account("floating", LicenseModel.FLOATING, 2, 10, 1);
        grant(a, "u1", null);
        Activation first = activate(a, "u1", "m1", false);
        assertEquals(now().plus(TTL), first.leaseExpiresAt());
        assertEquals(first.activationId(), activate(a, "u1", "m1", false).activationId());
        assertEquals(Reason.SEAT_IN_USE, denied(store.activate(a, activation(a, "u1", "m2", false))));
        clock.advance(Duration.ofSeconds(20));
        ok(store.renew(a, first.activationId(), "u1", now(), now().plus(TTL)));
        // The seat counts once, whatever its activations.
        assertEquals(1, row(a, a).inUse());
        assertEquals(List.of("m1"), activations(a, "u1").stream().map(Activation::machineId).toList());
        assertTrue(ok(store.release(a, first.activationId(), "u1", now())));
        Activation second = activate(a, "u1", "m2", false);
        assertNotEquals(first.activationId(), second.activationId());
        assertEquals(2, usage(a).registeredMachines());
        checkInvariant(a);
    }

    @Test
    void takingOverEndsTheOtherMachinesActivation() {
        String a = account("take-over", LicenseModel.FLOATING, 1, 10, 1);
        grant(a, "u1", null);
        Activation first = activate(a, "u1", "m1", false);
        Activation second = activate(a, "u1", "m2", true);
        assertEquals("m2", second.machineId());
        assertEquals(Reason.SESSION_TERMINATED, denied(store.renew(a, first.activationId(), "u1", now(), now().plus(TTL))));
        assertEquals(List.of(second.activationId()), activations(a, null).stream().map(Activation::activationId).toList());
        assertEquals(1, row(a, a).inUse());
    }

    @Test
    void anExpiredLeaseFreesTheSeatForAnotherMachine() {
        String a = account("expiry", LicenseModel.FLOATING, 1, 10, 1);
        grant(a, "u1", null);
        Activation first = activate(a, "u1", "m1", false);
        clock.advance(TTL.plusSeconds(1));
        join(store.expireLeases(now()));
        assertEquals(List.of(), activations(a, null));
        Activation second = activate(a, "u1", "m2", false);
        assertEquals("m2", second.machineId());
        assertEquals(Reason.SESSION_EXPIRED, denied(store.renew(a, first.activationId(), "u1", now(), now().plus(TTL))));
    }

    @Test
    void removingOrTransferringAFloatingSeatEndsItsActivation() {
        String a = account("remove-floating", LicenseModel.FLOATING, 2, 10, 3);
        grant(a, "u1", null);
        grant(a, "u2", null);
        Activation one = activate(a, "u1", "m1", false);
        Activation two = activate(a, "u2", "m2", false);
        ok(store.removeLicense(a, KSE, "u1", now()));
        assertEquals(Reason.SESSION_TERMINATED, denied(store.renew(a, one.activationId(), "u1", now(), now().plus(TTL))));
        ok(store.transferLicense(a, KSE, "u2", "u3", null, now()));
        assertEquals(Reason.SESSION_TERMINATED, denied(store.renew(a, two.activationId(), "u2", now(), now().plus(TTL))));
        assertEquals(Reason.NOT_LICENSED, denied(store.activate(a, activation(a, "u2", "m2", false))));
        assertEquals("m2", activate(a, "u3", "m2", false).machineId());
        assertEquals(List.of("u3"), activations(a, null).stream().map(Activation::userId).toList());
        checkInvariant(a);
    }

    // ---------------------------------------------------------------- offline licenses

    @Test
    void anOfflineLicenseBindsANodeLockedSeatWhichThenCannotBeRemovedOrTransferred() {
        String a = account("offline", LicenseModel.NODE_LOCKED, 2, 10, 2);
        grant(a, "u1", null);
        Instant until = now().plus(Duration.ofDays(30));
        assertEquals(Reason.INVALID_ARGUMENT, denied(store.issueOfflineLicense(a, KSE, "m1", null, until, Duration.ofDays(60), now())));
        assertEquals(Reason.NOT_LICENSED, denied(store.issueOfflineLicense(a, KSE, "m1", "u2", until, Duration.ofDays(60), now())));
        assertEquals("u1", ok(store.issueOfflineLicense(a, KSE, "m1", "u1", until, Duration.ofDays(60), now())).userId());
        LicensedUser bound = licensed(a, null).get(0);
        assertEquals("m1", bound.seat().machineId());
        assertEquals(until, bound.offlineUntil());
        assertEquals(Reason.OFFLINE_BOUND, denied(store.removeLicense(a, KSE, "u1", now())));
        assertEquals(Reason.OFFLINE_BOUND, denied(store.transferLicense(a, KSE, "u1", "u2", null, now())));
        // The offline license cannot be revoked: deactivating its machine keeps the binding.
        ok(store.deactivateMachine(a, KSE, "m1", now()));
        assertEquals("m1", licensed(a, null).get(0).seat().machineId());
        assertEquals(Reason.SEAT_IN_USE, denied(store.activate(a, activation(a, "u1", "m2", false))));
        // A seat's offline license takes no license of its own.
        assertEquals(1, row(a, a).inUse());
        assertEquals(1, row(a, a).available());
        checkInvariant(a);
        clock.advance(Duration.ofDays(31));
        assertNull(licensed(a, null).get(0).offlineUntil());
        ok(store.transferLicense(a, KSE, "u1", "u2", null, now()));
        checkInvariant(a);
    }

    @Test
    void aFloatingProductRefusesOfflineLicenses() {
        String a = account("offline-floating", LicenseModel.FLOATING, 2, 10, 1);
        grant(a, "u1", null);
        assertEquals(Reason.LICENSE_MODEL_MISMATCH, denied(store.issueOfflineLicense(a, KSE, "m1", "u1",
                now().plus(Duration.ofDays(10)), Duration.ofDays(60), now())));
    }
}
