package io.licensebroker.broker.core;

import io.licensebroker.broker.core.LedgerSteps.Step;
import io.licensebroker.broker.testing.LedgerHarness;
import io.licensebroker.broker.testing.UsageInvariants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static io.licensebroker.broker.core.LedgerSteps.acq;
import static io.licensebroker.broker.core.LedgerSteps.advance;
import static io.licensebroker.broker.core.LedgerSteps.check;
import static io.licensebroker.broker.core.LedgerSteps.ded;
import static io.licensebroker.broker.core.LedgerSteps.deactivate;
import static io.licensebroker.broker.core.LedgerSteps.expire;
import static io.licensebroker.broker.core.LedgerSteps.offline;
import static io.licensebroker.broker.core.LedgerSteps.org;
import static io.licensebroker.broker.core.LedgerSteps.policy;
import static io.licensebroker.broker.core.LedgerSteps.release;
import static io.licensebroker.broker.core.LedgerSteps.renew;
import static io.licensebroker.broker.core.LedgerSteps.run;
import static io.licensebroker.broker.core.LedgerSteps.sub;
import static io.licensebroker.broker.core.LedgerSteps.terminate;
import static io.licensebroker.broker.core.LedgerSteps.user;
import static io.licensebroker.broker.testing.LedgerHarness.ACCOUNT;
import static io.licensebroker.broker.testing.LedgerHarness.KRE;
import static io.licensebroker.broker.testing.LedgerHarness.id;
import static io.licensebroker.broker.testing.LedgerHarness.sid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AccountLedgerTest {
    private static final Duration TTL = Duration.ofSeconds(60);

    private static Step poolOf(String session, String poolLabel) {
        return check("session " + session + " draws from " + poolLabel,
                (h, v) -> assertEquals(id(poolLabel), h.session(session).poolId(), "pool of " + session));
    }

    // ---------------------------------------------------------------- the product documents' examples

    @Test
    void firstExampleFourOrganizationsOf200Licenses() {
        run(new LedgerHarness(),
                acq("s0", "nobody", "m0").denied(Reason.NO_SUBSCRIPTION),
                sub(200, 100).rows("account 200/200/0/200"),
                org("A"), org("B"), org("C"), org("D"),
                ded("A", 20).rows("account 200/180/0/180", "A 20/20/0/20"),
                ded("B", 10).rows("account 200/170/0/170", "B 10/10/0/10"),
                ded("C", 1).rows("account 200/169/0/169", "C 1/1/0/1"),
                ded("D", 5).rows("account 200/164/0/164", "A 20/20/0/20", "B 10/10/0/10", "C 1/1/0/1", "D 5/5/0/5"),
                // an organization cannot exceed its dedicated licenses
                user("carol", "C"),
                policy(UsagePolicy.STRICT, false),
                acq("s1", "carol", "m1").pool("C").rows("C 1/1/1/0", "account 200/164/0/164"),
                acq("s2", "carol", "m2").denied(Reason.ORGANIZATION_POOL_EXHAUSTED).rows("C 1/1/1/0"),
                // and the account cannot give away more than it has
                ded("A", 185).denied(Reason.INSUFFICIENT_LICENSES).rows("A 20/20/0/20", "account 200/164/0/164"),
                ded("A", 184).rows("A 184/184/0/184", "account 200/0/0/0"),
                ded("Z", 1).denied(Reason.ORGANIZATION_NOT_FOUND));
    }

    @Test
    void secondExampleSubOrganizationsShareTheParentsPool() {
        run(new LedgerHarness(),
                sub(200, 100),
                org("A"),
                ded("A", 10).rows("account 200/190/0/190", "A 10/10/0/10"),
                org("A1", "A"),
                ded("A1", 5).rows("account 200/190/0/190", "A 10/5/0/5", "A1 5/5/0/5"),
                org("A2", "A"),
                ded("A2", 6).denied(Reason.INSUFFICIENT_LICENSES).rows("A 10/5/0/5", "A2 0/0/0/0"),
                ded("A2", 5).rows("A 10/0/0/0", "A1 5/5/0/5", "A2 5/5/0/5", "account 200/190/0/190"),
                ded("A2", 6).denied(Reason.INSUFFICIENT_LICENSES),
                ded("A1", 3).rows("A 10/2/0/2", "A1 3/3/0/3"),
                ded("A2", 7).rows("A 10/0/0/0", "A2 7/7/0/7"),
                // a sub-organization of a sub-organization draws from its own parent only
                org("A21", "A2"),
                ded("A21", 8).denied(Reason.INSUFFICIENT_LICENSES),
                ded("A21", 7).rows("A2 7/0/0/0", "A21 7/7/0/7", "A 10/0/0/0", "account 200/190/0/190"),
                ded("A", 11).rows("A 11/1/0/1", "account 200/189/0/189"));
    }

    @Test
    void editExampleFiveDedicatedWithFourInUse() {
        run(new LedgerHarness(),
                sub(200, 100),
                org("A"),
                ded("A", 5),
                user("alice", "A"),
                acq("s1", "alice", "m1").pool("A"),
                acq("s2", "alice", "m1").pool("A"),
                acq("s3", "alice", "m2").pool("A"),
                acq("s4", "alice", "m2").pool("A").rows("A 5/5/4/1", "account 200/195/0/195"),
                ded("A", 8).rows("A 8/8/4/4", "account 200/192/0/192"),
                ded("A", 3).denied(Reason.BELOW_IN_USE).rows("A 8/8/4/4"),
                ded("A", 4).rows("A 4/4/4/0", "account 200/196/0/196"),
                // revoke takes even the licenses in use; the sessions move to the account pool
                ded("A", 0).rows("A 0/0/0/0", "account 200/200/4/196"),
                poolOf("s1", "account"), poolOf("s2", "account"), poolOf("s3", "account"), poolOf("s4", "account"),
                renew("s1", "alice").check((h, v) -> {
                    assertEquals(sid("s1"), ((Session) v).id());
                    assertEquals(ACCOUNT, ((Session) v).poolId());
                }),
                renew("s4", "alice").pool("account"),
                release("s2", "alice").is(true).rows("account 200/200/3/197"),
                // alice's org has nothing left: she falls back to the account pool
                acq("s5", "alice", "m1").pool("account", true).rows("account 200/200/4/196"),
                check("revoked sessions are listed under the account pool", (h, v) -> assertEquals(4,
                        h.ledger.sessions(new SessionQuery(KRE, ACCOUNT, null, null, 10, null)).sessions().size())));
    }

    @Test
    void decreaseBelowAllocatedOrInUseIsRefused() {
        run(new LedgerHarness(),
                sub(100, 100),
                org("A"), org("A1", "A"),
                ded("A", 10), ded("A1", 6).rows("A 10/4/0/4"),
                ded("A", 5).denied(Reason.BELOW_IN_USE).rows("A 10/4/0/4"),
                ded("A", 6).rows("A 6/0/0/0", "A1 6/6/0/6", "account 100/94/0/94"),
                user("u", "A"),
                policy(UsagePolicy.STRICT, false),
                acq("s0", "u", "m").denied(Reason.ORGANIZATION_POOL_EXHAUSTED),
                ded("A", 9).rows("A 9/3/0/3"),
                acq("s1", "u", "m").pool("A"),
                acq("s2", "u", "m").pool("A").rows("A 9/3/2/1"),
                ded("A", 7).denied(Reason.BELOW_IN_USE),
                ded("A", 8).rows("A 8/2/2/0"),
                // the sub-organization can shrink to its own in-use, not below
                user("v", "A1"),
                acq("t1", "v", "m").pool("A1"),
                acq("t2", "v", "m").pool("A1"),
                ded("A1", 1).denied(Reason.BELOW_IN_USE),
                ded("A1", 2).rows("A1 2/2/2/0", "A 8/6/2/4"));
    }

    @Test
    void revokeCascadesThroughTheSubtreeAndMovesEverySessionToTheParent() {
        List<String> moved = List.of("b1", "b2", "c1", "c2", "c3", "d1", "d2", "d3", "d4");
        List<Step> steps = new ArrayList<>(List.of(
                sub(100, 100),
                org("A"), org("B", "A"), org("C", "B"), org("D", "C"), org("E", "A"),
                ded("A", 40), ded("B", 20), ded("C", 10), ded("D", 5), ded("E", 5)
                        .rows("account 100/60/0/60", "A 40/15/0/15", "B 20/10/0/10", "C 10/5/0/5", "D 5/5/0/5", "E 5/5/0/5"),
                user("ua", "A"), user("ub", "B"), user("uc", "C"), user("ud", "D"), user("ue", "E"),
                policy(UsagePolicy.STRICT, true),
                acq("a1", "ua", "m").pool("A"),
                acq("b1", "ub", "m").pool("B"), acq("b2", "ub", "m").pool("B"),
                acq("c1", "uc", "m").pool("C"), acq("c2", "uc", "m").pool("C"), acq("c3", "uc", "m").pool("C"),
                acq("d1", "ud", "m").pool("D"), acq("d2", "ud", "m").pool("D"), acq("d3", "ud", "m").pool("D"),
                acq("d4", "ud", "m").pool("D"),
                acq("e1", "ue", "m").pool("E")
                        .rows("A 40/15/1/14", "B 20/10/2/8", "C 10/5/3/2", "D 5/5/4/1", "E 5/5/1/4"),
                ded("B", 0).rows("B 0/0/0/0", "C 0/0/0/0", "D 0/0/0/0", "A 40/35/10/25", "E 5/5/1/4",
                        "account 100/60/0/60")));
        for (String s : moved) {
            steps.add(poolOf(s, "A"));
        }
        steps.addAll(List.of(
                poolOf("a1", "A"), poolOf("e1", "E"),
                check("the moved sessions keep their ids", (h, v) -> assertEquals(11, h.ledger.liveSessions())),
                renew("d1", "ud").pool("A"),
                renew("b2", "ub").pool("A"),
                // D has no licenses any more: STRICT with fallback sends ud to the account pool
                acq("d5", "ud", "m").pool("account", true).rows("account 100/60/1/59", "D 0/0/0/0"),
                ded("A", 0).rows("A 0/0/0/0", "E 0/0/0/0", "account 100/100/12/88")));
        for (String s : List.of("a1", "b1", "b2", "c1", "c2", "c3", "d1", "d2", "d3", "d4", "d5", "e1")) {
            steps.add(poolOf(s, "account"));
        }
        steps.addAll(List.of(
                policy(UsagePolicy.STRICT, false),
                acq("d6", "ud", "m").denied(Reason.ORGANIZATION_POOL_EXHAUSTED),
                ded("B", 5).denied(Reason.INSUFFICIENT_LICENSES),
                ded("A", 10).rows("A 10/10/0/10", "account 100/90/12/78"),
                check("sessions do not move back", (h, v) -> assertEquals(ACCOUNT, h.session("d1").poolId())),
                renew("c3", "uc").pool("account"),
                release("c3", "uc").is(true).rows("account 100/90/11/79")));
        run(new LedgerHarness(), steps);
    }

    @Test
    void revokeOfATopLevelOrgWhoseSubtreeIsFullyUsedStillFits() {
        run(new LedgerHarness(),
                sub(10, 100),
                org("A"), org("A1", "A"),
                ded("A", 10), ded("A1", 4),
                user("ua", "A"), user("ub", "A1"),
                policy(UsagePolicy.STRICT, false),
                acq("a1", "ua", "m"), acq("a2", "ua", "m"), acq("a3", "ua", "m"),
                acq("a4", "ua", "m"), acq("a5", "ua", "m"), acq("a6", "ua", "m"),
                acq("b1", "ub", "m"), acq("b2", "ub", "m"), acq("b3", "ub", "m"),
                acq("b4", "ub", "m").rows("account 10/0/0/0", "A 10/6/6/0", "A1 4/4/4/0"),
                ded("A", 0).rows("account 10/10/10/0", "A 0/0/0/0", "A1 0/0/0/0"),
                acq("x", "ua", "m").denied(Reason.ORGANIZATION_POOL_EXHAUSTED));
    }

    @Test
    void subscriptionCannotDropBelowAllocatedPlusInUsePlusOffline() {
        List<Step> steps = new ArrayList<>(List.of(
                sub(100, 100),
                org("A"),
                ded("A", 30),
                user("u", null)));
        for (int i = 1; i <= 10; i++) {
            steps.add(acq("s" + i, "u", "m").pool("account"));
        }
        steps.addAll(List.of(
                check("rows", (h, v) -> { }).rows("account 100/70/10/60"),
                offline("m-off", Duration.ofDays(10)).rows("account 99/69/10/59"),
                sub(40, 100).denied(Reason.BELOW_IN_USE).rows("account 99/69/10/59"),
                sub(41, 100).rows("account 40/10/10/0", "A 30/30/0/30"),
                check("licenses", (h, v) -> assertEquals(41, h.usage().licenses())),
                advance(Duration.ofDays(10)),
                check("the offline license expired", (h, v) -> assertEquals(0, h.usage().offlineLicenses()))
                        .rows("account 41/11/10/1"),
                sub(39, 100).denied(Reason.BELOW_IN_USE),
                sub(40, 100).rows("account 40/10/10/0"),
                sub(500, 100).rows("account 500/470/10/460")));
        run(new LedgerHarness(), steps);
    }

    // ---------------------------------------------------------------- usage policies

    static Stream<Arguments> policyMatrix() {
        return Stream.of(
                Arguments.of(UsagePolicy.UNRESTRICTED, true, true, List.of("A", "P2", "P1", "X", "Y", "account*"), Reason.NO_LICENSE_AVAILABLE),
                Arguments.of(UsagePolicy.UNRESTRICTED, false, true, List.of("A", "P2", "P1", "X", "Y"), Reason.ORGANIZATION_POOL_EXHAUSTED),
                Arguments.of(UsagePolicy.MEMBER_BASED, true, true, List.of("A", "P2", "P1", "account*"), Reason.NO_LICENSE_AVAILABLE),
                Arguments.of(UsagePolicy.MEMBER_BASED, false, true, List.of("A", "P2", "P1"), Reason.ORGANIZATION_POOL_EXHAUSTED),
                Arguments.of(UsagePolicy.STRICT, true, true, List.of("A", "account*"), Reason.NO_LICENSE_AVAILABLE),
                Arguments.of(UsagePolicy.STRICT, false, true, List.of("A"), Reason.ORGANIZATION_POOL_EXHAUSTED),
                // no assigned org: the account pool is the user's own pool (no fallback flag, fallback setting irrelevant)
                Arguments.of(UsagePolicy.UNRESTRICTED, true, false, List.of("account", "P2", "P1", "A", "X", "Y"), Reason.NO_LICENSE_AVAILABLE),
                Arguments.of(UsagePolicy.UNRESTRICTED, false, false, List.of("account", "P2", "P1", "A", "X", "Y"), Reason.NO_LICENSE_AVAILABLE),
                Arguments.of(UsagePolicy.MEMBER_BASED, true, false, List.of("account", "P2", "P1", "A"), Reason.NO_LICENSE_AVAILABLE),
                Arguments.of(UsagePolicy.MEMBER_BASED, false, false, List.of("account", "P2", "P1", "A"), Reason.NO_LICENSE_AVAILABLE),
                Arguments.of(UsagePolicy.STRICT, true, false, List.of("account"), Reason.NO_LICENSE_AVAILABLE),
                Arguments.of(UsagePolicy.STRICT, false, false, List.of("account"), Reason.NO_LICENSE_AVAILABLE));
    }

    /**
     * Orgs A, P1, P2, X, Y (created in that order) with one license each, one left in the account
     * pool; the user is assigned to A (or nothing) and is a project member of P2, P1 and A. Each
     * acquire takes the first candidate with room; once all are taken, the denial names why.
     */
    @ParameterizedTest(name = "{0} fallback={1} assigned={2}")
    @MethodSource("policyMatrix")
    void policiesTakeCandidatesInOrder(UsagePolicy policy, boolean fallback, boolean assigned, List<String> expected, Reason exhausted) {
        List<Step> steps = new ArrayList<>(List.of(
                sub(6, 100),
                org("A"), org("P1"), org("P2"), org("X"), org("Y"),
                ded("A", 1), ded("P1", 1), ded("P2", 1), ded("X", 1), ded("Y", 1),
                user("u", assigned ? "A" : null, "P2", "P1", "A"),
                policy(policy, fallback)));
        int n = 0;
        for (String pool : expected) {
            n++;
            boolean fb = pool.endsWith("*");
            steps.add(acq("s" + n, "u", "m").pool(pool.replace("*", ""), fb));
        }
        steps.add(acq("denied", "u", "m").denied(exhausted));
        // releasing the first session makes the first candidate the choice again
        steps.add(release("s1", "u").is(true));
        String first = expected.get(0).replace("*", "");
        steps.add(acq("again", "u", "m").pool(first, expected.get(0).endsWith("*")));
        steps.add(acq("denied2", "u", "m").denied(exhausted));
        run(new LedgerHarness(), steps);
    }

    @Test
    void policyChangesApplyToTheVeryNextAcquire() {
        run(new LedgerHarness(),
                sub(3, 100),
                org("A"), org("B"),
                ded("A", 1), ded("B", 1),
                user("u", "A"),
                acq("s1", "u", "m").pool("A"),
                policy(UsagePolicy.STRICT, false),
                acq("s2", "u", "m").denied(Reason.ORGANIZATION_POOL_EXHAUSTED),
                policy(UsagePolicy.STRICT, true),
                acq("s3", "u", "m").pool("account", true),
                policy(UsagePolicy.MEMBER_BASED, false),
                acq("s4", "u", "m").denied(Reason.ORGANIZATION_POOL_EXHAUSTED),
                user("u", "A", "B"),
                acq("s5", "u", "m").pool("B"),
                release("s5", "u").is(true),
                new Step("restore default", h -> Decision.granted(h.ledger.setPolicy(PolicySettings.DEFAULT)))
                        .check((h, v) -> assertEquals(new PolicySettings(UsagePolicy.UNRESTRICTED, true), h.ledger.policy())),
                user("u", "A"),
                acq("s6", "u", "m").pool("B"),
                acq("s7", "u", "m").denied(Reason.NO_LICENSE_AVAILABLE));
    }

    /** Creation order, not tree order: B (created second) before A1 (a child of A, created third). */
    private static List<Step> anyOrgInCreationOrderSetup() {
        return new ArrayList<>(List.of(
                sub(4, 100),
                org("A"), org("B"), org("A1", "A"), org("C"),
                ded("A", 1), ded("A1", 1), ded("B", 1), ded("C", 1)
                        .rows("account 4/1/0/1", "A 1/0/0/0", "A1 1/1/0/1", "B 1/1/0/1", "C 1/1/0/1"),
                user("u", null)));
    }

    @Test
    void unrestrictedTakesAnyOtherOrgWithRoomInCreationOrder() {
        List<Step> steps = anyOrgInCreationOrderSetup();
        steps.addAll(List.of(
                acq("s1", "u", "m").pool("account"),
                acq("s2", "u", "m").pool("B"),
                acq("s3", "u", "m").pool("A1"),
                acq("s4", "u", "m").pool("C"),
                acq("s5", "u", "m").denied(Reason.NO_LICENSE_AVAILABLE),
                release("s2", "u").is(true),
                acq("s6", "u", "m").pool("B"),
                release("s4", "u").is(true),
                release("s3", "u").is(true),
                acq("s7", "u", "m").pool("A1"),
                acq("s8", "u", "m").pool("C")));
        run(new LedgerHarness(), steps);
    }

    /**
     * The "any other org" order must not change when the ledger is rebuilt from its snapshot
     * ({@link AccountLedger#export}), as the durable store does after compaction.
     */
    @Test
    void anyOrgCreationOrderSurvivesExportAndReplay() {
        LedgerHarness original = new LedgerHarness();
        run(original, anyOrgInCreationOrderSetup());
        run(original, acq("s1", "u", "m").pool("account"));
        LedgerHarness copy = replayedFromExport(original);
        run(copy, acq("s2", "u", "m").pool("B"), acq("s3", "u", "m").pool("A1"), acq("s4", "u", "m").pool("C"));
    }

    // ---------------------------------------------------------------- machines

    @Test
    void machineQuotaCountsRegisteredMachinesAndDeactivationFreesIt() {
        run(new LedgerHarness(),
                sub(10, 2),
                user("u", null),
                acq("s1", "u", "m1"),
                acq("s2", "u", "m2"),
                acq("s3", "u", "m3").denied(Reason.MACHINE_QUOTA_EXCEEDED)
                        .check((h, v) -> assertEquals(2, h.usage().registeredMachines())),
                // an already registered machine needs no quota
                acq("s4", "u", "m1").rows("account 10/10/3/7"),
                release("s1", "u").is(true),
                release("s2", "u").is(true),
                release("s4", "u").is(true).rows("account 10/10/0/10"),
                // machines stay registered after their sessions end
                acq("s5", "u", "m3").denied(Reason.MACHINE_QUOTA_EXCEEDED),
                acq("s6", "u", "m1"),
                acq("s7", "u", "m1").rows("account 10/10/2/8")
                        .check((h, v) -> {
                            Machine m1 = h.ledger.machines(KRE, h.now()).stream().filter(m -> m.machineId().equals("m1")).findFirst().orElseThrow();
                            assertEquals(2, m1.liveSessions());
                            assertNull(m1.offlineExpiresAt());
                        }),
                deactivate("m1").is(true).rows("account 10/10/0/10")
                        .check((h, v) -> assertEquals(1, h.usage().registeredMachines())),
                renew("s6", "u").denied(Reason.SESSION_TERMINATED),
                renew("s7", "u").denied(Reason.SESSION_TERMINATED),
                acq("s8", "u", "m3").rows("account 10/10/1/9"),
                deactivate("nope").is(false),
                deactivate("m1").is(false));
    }

    @Test
    void aDeniedAcquireDoesNotRegisterItsMachine() {
        run(new LedgerHarness(),
                sub(1, 2),
                user("u", null),
                acq("s1", "u", "m1"),
                acq("s2", "u", "m2").denied(Reason.NO_LICENSE_AVAILABLE)
                        .check((h, v) -> assertEquals(1, h.usage().registeredMachines())),
                release("s1", "u").is(true),
                acq("s3", "u", "m3"),
                acq("s4", "u", "m4").denied(Reason.MACHINE_QUOTA_EXCEEDED));
    }

    // ---------------------------------------------------------------- subscriptions

    @Test
    void expiredSubscriptionRefusesAcquireAndRenew() {
        run(new LedgerHarness(),
                user("u", null),
                acq("s0", "u", "m").denied(Reason.NO_SUBSCRIPTION),
                offline("m", Duration.ofDays(1)).denied(Reason.NO_SUBSCRIPTION),
                sub(5, 5, Duration.ofSeconds(30)),
                acq("s1", "u", "m"),
                acq("s9", "ghost", "m").denied(Reason.USER_NOT_FOUND),
                advance(Duration.ofSeconds(29)),
                renew("s1", "u"),
                advance(Duration.ofSeconds(1)),
                acq("s2", "u", "m").denied(Reason.SUBSCRIPTION_EXPIRED),
                renew("s1", "u").denied(Reason.SUBSCRIPTION_EXPIRED),
                offline("m", Duration.ofDays(1)).denied(Reason.SUBSCRIPTION_EXPIRED),
                sub(5, 5, Duration.ofDays(30)),
                renew("s1", "u").rows("account 5/5/1/4"),
                acq("s2", "u", "m").rows("account 5/5/2/3"));
    }

    // ---------------------------------------------------------------- leases

    @Test
    void leasesExpireAndRenewMovesTheLease() {
        LedgerHarness h = new LedgerHarness();
        Instant t0 = h.now();
        run(h,
                sub(10, 10),
                user("u", null),
                acq("s1", "u", "m").check((x, v) -> assertEquals(t0.plus(TTL), ((Session) v).leaseExpiresAt())),
                advance(Duration.ofSeconds(30)),
                acq("s2", "u", "m"),
                check("next expiry", (x, v) -> assertEquals(t0.plus(TTL), x.ledger.nextExpiry())),
                advance(Duration.ofSeconds(29)),
                expire().is(0).rows("account 10/10/2/8"),
                advance(Duration.ofSeconds(1)),
                expire().is(1).rows("account 10/10/1/9"),
                renew("s1", "u").denied(Reason.SESSION_EXPIRED),
                expire().is(0),
                // renew at t0+60 moves s2's lease from t0+90 to t0+120
                renew("s2", "u").check((x, v) -> assertEquals(t0.plus(Duration.ofSeconds(120)), ((Session) v).leaseExpiresAt())),
                advance(Duration.ofSeconds(31)),
                expire().is(0).rows("account 10/10/1/9"),
                advance(Duration.ofSeconds(29)),
                expire().is(1).rows("account 10/10/0/10"),
                renew("s2", "u").denied(Reason.SESSION_EXPIRED),
                // a lease that ran out ends at the renew even before any expire() pass
                acq("s3", "u", "m"),
                advance(Duration.ofSeconds(60)),
                renew("s3", "u").denied(Reason.SESSION_EXPIRED).rows("account 10/10/0/10"),
                expire().is(0),
                renew("s3", "u").denied(Reason.SESSION_EXPIRED),
                check("nothing left", (x, v) -> assertNull(x.ledger.nextExpiry())));
    }

    @Test
    void expireCostsOnlyWhatExpires() {
        LedgerHarness h = new LedgerHarness();
        h.subscribe(20_000, 20_000);
        h.user("u", null);
        for (int i = 0; i < 3; i++) {
            assertTrue(h.acquire("early" + i, "u", "m").isGranted());
        }
        h.advance(Duration.ofSeconds(30));
        for (int i = 0; i < 10_000; i++) {
            assertTrue(h.acquire("late" + i, "u", "m").isGranted());
        }
        h.advance(Duration.ofSeconds(30));
        assertEquals(3, h.ledger.expire(h.now(), Integer.MAX_VALUE), "only the three early leases ran out");
        assertEquals(10_000, h.ledger.liveSessions());
        assertEquals(10_000, h.usage().row(ACCOUNT).inUse());
        assertEquals(h.now().plusSeconds(30), h.ledger.nextExpiry(), "the earliest live lease is next");
        for (int i = 0; i < 1000; i++) {
            assertEquals(0, h.ledger.expire(h.now(), Integer.MAX_VALUE));
        }
        assertEquals(List.of(), h.ledger.invariantViolations());
        // the max bounds one pass
        h.advance(Duration.ofSeconds(30));
        assertEquals(4_000, h.ledger.expire(h.now(), 4_000));
        assertEquals(6_000, h.ledger.expire(h.now(), Integer.MAX_VALUE));
        assertEquals(0, h.ledger.liveSessions());
        assertEquals(List.of(), h.ledger.invariantViolations());
    }

    /**
     * The lease is whatever the caller asked for; {@code expire(now)} must end every session whose
     * lease ran out, also when a later session was given a shorter lease than an earlier one (a
     * lease-ttl change across a restart, a wall clock stepping back).
     */
    @Test
    void expireEndsEveryRunOutLeaseWhateverTheOrderTheyWereGrantedIn() {
        LedgerHarness h = new LedgerHarness();
        h.subscribe(10, 10);
        h.user("u", null);
        Instant t0 = h.now();
        assertTrue(h.ledger.acquire(new AcquireRequest(KRE, "u", "m", "", sid("long"), t0, t0.plusSeconds(300))).isGranted());
        assertTrue(h.ledger.acquire(new AcquireRequest(KRE, "u", "m", "", sid("short"), t0, t0.plusSeconds(10))).isGranted());
        h.advance(Duration.ofSeconds(20));
        assertEquals(1, h.expire(), "the short lease ran out at t0+10");
        assertNull(h.session("short"));
        assertNotNull(h.session("long"));
        assertEquals(List.of(), h.ledger.invariantViolations());
    }

    @Test
    void tombstonesAreForgottenAfterTheRetention() {
        run(new LedgerHarness(Duration.ofMinutes(10)),
                sub(10, 10),
                user("u", null),
                acq("t", "u", "m"),
                acq("e", "u", "m"),
                terminate("t").is(true).rows("account 10/10/1/9"),
                terminate("t").is(false),
                renew("t", "u").denied(Reason.SESSION_TERMINATED),
                advance(Duration.ofSeconds(60)),
                expire().is(1),
                renew("e", "u").denied(Reason.SESSION_EXPIRED),
                advance(Duration.ofMinutes(8)),
                expire().is(0),
                renew("t", "u").denied(Reason.SESSION_TERMINATED),
                renew("e", "u").denied(Reason.SESSION_EXPIRED),
                advance(Duration.ofMinutes(1)),
                expire().is(0),
                // t ended at 0:00 (forgotten at 10:00), e at 1:00 (forgotten at 11:00)
                renew("t", "u").denied(Reason.SESSION_NOT_FOUND),
                renew("e", "u").denied(Reason.SESSION_EXPIRED),
                advance(Duration.ofMinutes(1)),
                expire().is(0),
                renew("e", "u").denied(Reason.SESSION_NOT_FOUND),
                renew("never", "u").denied(Reason.SESSION_NOT_FOUND),
                release("never", "u").is(false));
    }

    // ---------------------------------------------------------------- idempotency and ownership

    @Test
    void requestIdMakesAcquireIdempotent() {
        run(new LedgerHarness(),
                sub(10, 10),
                user("alice", null), user("bob", null),
                acq("s1", "alice", "m1", "r1").session("s1").rows("account 10/10/1/9"),
                acq("s2", "alice", "m1", "r1").session("s1").rows("account 10/10/1/9"),
                acq("s3", "alice", "m2", "r1").denied(Reason.ALREADY_EXISTS).rows("account 10/10/1/9"),
                // the key is per user
                acq("s4", "bob", "m1", "r1").session("s4").rows("account 10/10/2/8"),
                // no key: a new session every time
                acq("s5", "alice", "m1").session("s5"),
                acq("s6", "alice", "m1").session("s6").rows("account 10/10/4/6"),
                release("s1", "alice").is(true),
                acq("s7", "alice", "m1", "r1").session("s7").rows("account 10/10/4/6"),
                acq("s8", "alice", "m1", "r1").session("s7"),
                // a key whose session's lease ran out starts a new session
                advance(TTL),
                acq("s9", "alice", "m1", "r1").session("s9"),
                renew("s7", "alice").denied(Reason.SESSION_EXPIRED),
                acq("s10", "alice", "m1", "r1").session("s9"),
                terminate("s9").is(true),
                acq("s11", "alice", "m1", "r1").session("s11"));
    }

    @Test
    void onlyTheOwnerRenewsOrReleasesASession() {
        run(new LedgerHarness(),
                sub(10, 10),
                user("alice", null), user("bob", null),
                acq("s1", "alice", "m1"),
                renew("s1", "bob").denied(Reason.PERMISSION_DENIED),
                release("s1", "bob").denied(Reason.PERMISSION_DENIED).rows("account 10/10/1/9"),
                new Step("admin renew", h -> h.ledger.renew(sid("s1"), null, h.now(), h.now().plus(TTL))),
                renew("s1", "alice"),
                release("s1", "alice").is(true).rows("account 10/10/0/10"),
                release("s1", "alice").is(false),
                release("s1", "bob").is(false),
                renew("s1", "alice").denied(Reason.SESSION_NOT_FOUND));
    }

    // ---------------------------------------------------------------- offline licenses

    @Test
    void offlineLicensesCountAgainstTheAccountPool() {
        Duration day = Duration.ofDays(1);
        run(new LedgerHarness(),
                sub(3, 10, Duration.ofDays(90)),
                org("A"), ded("A", 1),
                user("u", null),
                offline("m1", Duration.ofDays(30)).rows("account 2/1/0/1")
                        .check((h, v) -> {
                            OfflineLicense l = (OfflineLicense) v;
                            assertEquals("m1", l.machineId());
                            assertEquals(h.now().plus(Duration.ofDays(30)), l.expiresAt());
                            LicenseUsage u = h.usage();
                            assertEquals(1, u.offlineLicenses());
                            assertEquals(1, u.registeredMachines());
                            Machine m = h.ledger.machines(KRE, h.now()).get(0);
                            assertEquals(h.now().plus(Duration.ofDays(30)), m.offlineExpiresAt());
                        }),
                offline("m1", Duration.ofDays(20)).denied(Reason.ALREADY_EXISTS),
                offline("m2", Duration.ofDays(60).plusSeconds(1)).denied(Reason.INVALID_ARGUMENT),
                offline("m2", Duration.ZERO).denied(Reason.INVALID_ARGUMENT),
                offline("m2", Duration.ofDays(60)).rows("account 1/0/0/0"),
                offline("m3", day).denied(Reason.INSUFFICIENT_LICENSES),
                acq("s1", "u", "m4").pool("A"),
                acq("s2", "u", "m4").denied(Reason.NO_LICENSE_AVAILABLE),
                // an offline license cannot be revoked: deactivating its machine keeps it registered
                deactivate("m1").is(false).check((h, v) -> assertEquals(3, h.usage().registeredMachines())),
                // the subscription cannot drop below what is allocated, in use and offline
                sub(2, 10, Duration.ofDays(90)).denied(Reason.BELOW_IN_USE),
                advance(Duration.ofDays(30)),
                check("m1's license expired", (h, v) -> assertEquals(1, h.usage().offlineLicenses())).rows("account 2/1/0/1"),
                offline("m1", Duration.ofDays(10)).rows("account 1/0/0/0"),
                advance(Duration.ofDays(30)),
                check("both expired", (h, v) -> assertEquals(0, h.usage().offlineLicenses())).rows("account 3/2/0/2"),
                // never past the subscription's expiry (which is 30 days ahead now)
                offline("m5", Duration.ofDays(30).plusSeconds(1)).denied(Reason.INVALID_ARGUMENT),
                offline("m5", Duration.ofDays(30)).rows("account 2/1/0/1"));
    }

    @Test
    void offlineLicensesNeedMachineQuota() {
        run(new LedgerHarness(),
                sub(5, 1),
                user("u", null),
                acq("s1", "u", "m1"),
                offline("m2", Duration.ofDays(1)).denied(Reason.MACHINE_QUOTA_EXCEEDED),
                offline("m1", Duration.ofDays(1)).rows("account 4/4/1/3"));
    }

    // ---------------------------------------------------------------- export / replay

    /** A state with a bit of everything: tree, users, policy, sessions (some moved), tombstones, machines, offline, keys. */
    private static LedgerHarness richLedger() {
        LedgerHarness h = new LedgerHarness();
        h.ledger.addCredential(new Credential("lookup1", new byte[]{1, 2}, new byte[]{3, 4}, Role.ACCOUNT_ADMIN, ACCOUNT, null));
        h.ledger.addCredential(new Credential("lookup2", new byte[]{5}, new byte[]{6}, Role.AGENT, ACCOUNT, "alice"));
        run(h,
                sub(50, 20),
                org("A"), org("B"), org("A1", "A"), org("C"), org("A11", "A1"), org("B1", "B"),
                ded("A", 20), ded("A1", 10), ded("A11", 4), ded("B", 5), ded("B1", 2),
                user("alice", "A11", "B"), user("bob", "B1"), user("carol", null, "C", "A"),
                policy(UsagePolicy.MEMBER_BASED, true),
                acq("s1", "alice", "m1"), acq("s2", "alice", "m1", "r1"), acq("s3", "bob", "m2"),
                acq("s4", "bob", "m2"), acq("s5", "carol", "m3"), acq("s6", "alice", "m4"),
                offline("off1", Duration.ofDays(10)),
                ded("A1", 0),
                terminate("s6").is(true),
                advance(Duration.ofSeconds(30)),
                acq("s7", "bob", "m5"), acq("s8", "bob", "m5"), acq("s9", "bob", "m5").pool("account", true),
                release("s8", "bob").is(true),
                renew("s1", "alice"),
                advance(Duration.ofSeconds(31)),
                expire().is(4));
        return h;
    }

    static LedgerHarness replayedFromExport(LedgerHarness original) {
        // a fresh ledger for the same account, no create(): the export brings it
        AccountLedger fresh = new AccountLedger(ACCOUNT, Journal.NONE, Duration.ofMinutes(10));
        List<LedgerEvent> events = new ArrayList<>();
        original.ledger.export(events::add);
        events.forEach(e -> fresh.replay(0, e));
        fresh.restoreSeq(original.ledger.seq());
        return new LedgerHarness(fresh, original.now());
    }

    static void assertSameState(AccountLedger expected, AccountLedger actual, Instant now) {
        assertEquals(expected.seq(), actual.seq(), "seq");
        assertEquals(expected.account(), actual.account(), "account");
        assertEquals(expected.policy(), actual.policy(), "policy");
        assertEquals(expected.products(), actual.products(), "products");
        for (String product : expected.products()) {
            assertEquals(expected.usage(product, now), actual.usage(product, now), "usage of " + product);
            assertEquals(expected.machines(product, now), actual.machines(product, now), "machines of " + product);
            assertEquals(expected.subscription(product), actual.subscription(product), "subscription of " + product);
        }
        assertEquals(expected.organizations(), actual.organizations(), "organizations");
        assertEquals(expected.users(), actual.users(), "users");
        SessionQuery all = new SessionQuery(null, null, null, null, Integer.MAX_VALUE, null);
        assertEquals(expected.sessions(all), actual.sessions(all), "sessions");
        assertEquals(expected.nextExpiry(), actual.nextExpiry(), "next expiry");
        assertEquals(expected.credentials().size(), actual.credentials().size(), "credentials");
        for (int i = 0; i < expected.credentials().size(); i++) {
            Credential e = expected.credentials().get(i);
            Credential a = actual.credentials().get(i);
            assertEquals(e.lookupId(), a.lookupId());
            assertArrayEquals(e.salt(), a.salt());
            assertArrayEquals(e.secretHash(), a.secretHash());
            assertEquals(e.role(), a.role());
            assertEquals(e.accountId(), a.accountId());
            assertEquals(e.userId(), a.userId());
        }
        assertEquals(List.of(), actual.invariantViolations(), "invariants of the rebuilt ledger");
    }

    @Test
    void exportReplayedIntoAFreshLedgerReproducesTheState() {
        LedgerHarness original = richLedger();
        LedgerHarness copy = replayedFromExport(original);
        assertSameState(original.ledger, copy.ledger, original.now());
        // and both go on identically: tombstones, renewals, request ids, policy choices
        List<Step> next = List.of(
                renew("s6", "alice").denied(Reason.SESSION_TERMINATED),
                renew("s3", "bob").denied(Reason.SESSION_EXPIRED),
                renew("s1", "alice"),
                acq("x1", "alice", "m1", "r1").session("x1"),
                acq("x2", "carol", "m3"),
                acq("x3", "bob", "m2"),
                ded("A", 0),
                ded("C", 3),
                acq("x4", "carol", "m3"),
                advance(Duration.ofSeconds(61)),
                expire());
        run(original, next);
        run(copy, next);
        assertSameState(original.ledger, copy.ledger, original.now());
    }

    @Test
    void journalReplayedIntoAFreshLedgerReproducesTheStateAndSkipsWhatItHas() {
        LedgerHarness original = richLedger();
        AccountLedger fresh = new AccountLedger(ACCOUNT, Journal.NONE, Duration.ofMinutes(10));
        original.journal.forEach(r -> fresh.replay(r.seq(), r.event()));
        // replayed a second time (a log overlapping a snapshot): nothing changes
        original.journal.forEach(r -> fresh.replay(r.seq(), r.event()));
        // renewals are not journaled: the recovered leases differ, so compare after re-leasing both alike
        Instant until = original.now().plus(TTL);
        original.ledger.extendLeases(until);
        fresh.extendLeases(until);
        assertSameState(original.ledger, fresh, original.now());
    }

    /**
     * Offline licenses stop counting by time (never journaled). A journal that holds an offline
     * license followed by a subscription change made after it expired must rebuild a ledger whose
     * invariants hold right away, before any call happens to prune expired licenses.
     */
    @Test
    void journalReplayIsConsistentAfterAnOfflineLicenseExpired() {
        LedgerHarness h = new LedgerHarness();
        run(h,
                sub(2, 10, Duration.ofDays(90)),
                user("u", null),
                offline("off", Duration.ofDays(1)),
                advance(Duration.ofDays(2)),
                sub(3, 10, Duration.ofDays(90)).rows("account 3/3/0/3"),
                acq("s1", "u", "m"), acq("s2", "u", "m"), acq("s3", "u", "m").rows("account 3/3/3/0"));
        AccountLedger fresh = new AccountLedger(ACCOUNT, Journal.NONE, Duration.ofMinutes(10));
        h.journal.forEach(r -> fresh.replay(r.seq(), r.event()));
        assertEquals(List.of(), fresh.invariantViolations(), "invariants right after recovery");
        assertEquals(h.usage(), fresh.usage(KRE, h.now()));
    }

    /**
     * An offline license for a machine whose previous offline license expired: the journal holds
     * both issues. Replaying it must give the account back exactly the licenses the live ledger has.
     */
    @Test
    void journalReplayAfterAnOfflineLicenseWasReissuedToTheSameMachine() {
        LedgerHarness h = new LedgerHarness();
        run(h,
                sub(2, 10, Duration.ofDays(90)),
                user("u", null),
                offline("m-off", Duration.ofDays(1)).rows("account 1/1/0/1"),
                advance(Duration.ofDays(2)),
                offline("m-off", Duration.ofDays(1)).rows("account 1/1/0/1"),
                acq("s1", "u", "m").rows("account 1/1/1/0"));
        AccountLedger fresh = new AccountLedger(ACCOUNT, Journal.NONE, Duration.ofMinutes(10));
        h.journal.forEach(r -> fresh.replay(r.seq(), r.event()));
        assertEquals(h.usage(), fresh.usage(KRE, h.now()), "usage rebuilt from the journal");
        assertEquals(List.of(), fresh.invariantViolations(), "invariants rebuilt from the journal");
        // and once the second license expired too, both have the full subscription back
        h.advance(Duration.ofDays(2));
        assertEquals(h.usage().row(ACCOUNT), fresh.usage(KRE, h.now()).row(ACCOUNT));
        assertEquals(2, fresh.usage(KRE, h.now()).row(ACCOUNT).dedicated());
    }

    @Test
    void restoreSeqNeverGoesBack() {
        LedgerHarness h = richLedger();
        long seq = h.ledger.seq();
        assertTrue(seq > 0);
        assertThrows(IllegalStateException.class, () -> h.ledger.restoreSeq(seq - 1));
        assertEquals(seq, h.ledger.seq());
    }

    @Test
    void usageWithoutASubscriptionListsEveryOrganizationEmpty() {
        LedgerHarness h = new LedgerHarness();
        h.org("A", null);
        h.org("A1", "A");
        LicenseUsage u = h.usage();
        assertNull(u.subscription());
        assertEquals(3, u.rows().size());
        assertEquals(List.of(ACCOUNT, id("A"), id("A1")), u.rows().stream().map(PoolRow::poolId).toList());
        assertEquals(List.of(), UsageInvariants.violations(u));
        assertEquals(Reason.INSUFFICIENT_LICENSES, ((Decision.Denied<?>) h.dedicated("A", 1)).reason());
        assertEquals(Reason.ORGANIZATION_NOT_FOUND, ((Decision.Denied<?>) h.org("X", "nope")).reason());
        assertEquals(Reason.ALREADY_EXISTS, ((Decision.Denied<?>) h.org("A", null)).reason());
        assertEquals(Reason.ORGANIZATION_NOT_FOUND, ((Decision.Denied<?>) h.user("u", "nope")).reason());
        assertEquals(Reason.ORGANIZATION_NOT_FOUND, ((Decision.Denied<?>) h.user("u", "A", "nope")).reason());
        assertNull(h.ledger.user("u"));
        User u1 = h.user("u", "A1", "A", "A", "A1").value();
        assertEquals(List.of(id("A"), id("A1")), u1.projectOrgIds());
    }
}
