package io.licensebroker.broker.core;

import io.licensebroker.broker.testing.LedgerHarness;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import static io.licensebroker.broker.testing.LedgerHarness.ACCOUNT;
import static io.licensebroker.broker.testing.LedgerHarness.KRE;
import static io.licensebroker.broker.testing.LedgerHarness.id;
import static io.licensebroker.broker.testing.LedgerHarness.sid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Randomized model test: a random organization tree (depth up to 4), users and policies, then
 * 2,000 random steps (admin changes including revokes, acquires, renewals, releases, terminations,
 * clock advances, expiries, offline licenses, machine deactivations). Each outcome is checked
 * against an independent computation from the usage table seen before the step, and after every
 * step the invariants hold and the in_use figures add up to the live sessions.
 */
class AccountLedgerModelTest {
    private static final int STEPS = 2_000;
    private static final Duration TTL = Duration.ofSeconds(60);

    static LongStream seeds() {
        return LongStream.rangeClosed(1, 20);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void randomStepsKeepTheInvariantAndFollowTheRules(long seed) {
        new Run(seed).go();
    }

    private static final class Run {
        final long seed;
        final Random rnd;
        final LedgerHarness h = new LedgerHarness(Duration.ofMinutes(5));
        final List<String> orgs = new ArrayList<>(); // ids, creation order
        final Map<String, String> parentOf = new HashMap<>(); // org id -> parent pool id (account id for top level)
        final List<String> users = List.of("u0", "u1", "u2", "u3", "u4", "u5");
        final Map<String, String> byRequest = new HashMap<>(); // user \n request -> session id
        final List<String> everSessions = new ArrayList<>();
        long quota;
        int sessionCounter;
        int step;
        String what;

        Run(long seed) {
            this.seed = seed;
            this.rnd = new Random(seed);
            h.leaseTtl = TTL;
        }

        void go() {
            quota = 5 + rnd.nextInt(25);
            assertTrue(h.subscribe(5 + rnd.nextInt(26), quota).isGranted());
            int orgCount = 3 + rnd.nextInt(10);
            Map<String, Integer> depth = new HashMap<>();
            for (int i = 0; i < orgCount; i++) {
                List<String> deepEnough = orgs.stream().filter(o -> depth.get(o) < 4).toList();
                String parent = deepEnough.isEmpty() || rnd.nextInt(100) < 35 ? null : deepEnough.get(rnd.nextInt(deepEnough.size()));
                String label = "O" + i;
                assertTrue(h.org(label, parent).isGranted());
                orgs.add(id(label));
                parentOf.put(id(label), parent == null ? ACCOUNT : parent);
                depth.put(id(label), parent == null ? 1 : depth.get(parent) + 1);
            }
            for (String u : users) {
                upsertRandomUser(u);
            }
            setRandomPolicy();
            for (step = 1; step <= STEPS; step++) {
                int op = rnd.nextInt(100);
                if (op < 38) {
                    acquire();
                } else if (op < 50) {
                    renew();
                } else if (op < 57) {
                    release();
                } else if (op < 59) {
                    terminate();
                } else if (op < 68) {
                    what = "advance";
                    h.advance(Duration.ofSeconds(1 + rnd.nextInt(20)));
                } else if (op < 74) {
                    expire();
                } else if (op < 88) {
                    setDedicated();
                } else if (op < 90) {
                    setRandomPolicy();
                } else if (op < 92) {
                    upsertRandomUser(users.get(rnd.nextInt(users.size())));
                } else if (op < 94) {
                    setSubscription();
                } else if (op < 96) {
                    offline();
                } else {
                    deactivate();
                }
                LedgerSteps.assertHealthy(h, where());
                assertEquals(h.ledger.liveSessions(), h.sessions().size(), where() + ": listed sessions");
            }
            // the state survives a snapshot round trip
            LedgerHarness copy = AccountLedgerTest.replayedFromExport(h);
            AccountLedgerTest.assertSameState(h.ledger, copy.ledger, h.now());
        }

        String where() {
            return "seed " + seed + " step " + step + " [" + what + "]";
        }

        // ------------------------------------------------------------ admin

        void upsertRandomUser(String userId) {
            String assigned = rnd.nextInt(100) < 25 ? null : orgs.get(rnd.nextInt(orgs.size()));
            int projects = rnd.nextInt(4);
            List<String> p = new ArrayList<>();
            for (int i = 0; i < projects; i++) {
                p.add(orgs.get(rnd.nextInt(orgs.size())));
            }
            what = "upsert " + userId + " assigned " + assigned + " projects " + p;
            Decision<User> d = h.ledger.upsertUser(userId, assigned, p);
            assertTrue(d.isGranted(), where());
            assertEquals(new ArrayList<>(new LinkedHashSet<>(p)), d.value().projectOrgIds(), where());
        }

        void setRandomPolicy() {
            PolicySettings s = new PolicySettings(UsagePolicy.values()[rnd.nextInt(3)], rnd.nextBoolean());
            what = "policy " + s;
            h.ledger.setPolicy(s);
        }

        void setDedicated() {
            String org = orgs.get(rnd.nextInt(orgs.size()));
            LicenseUsage before = h.usage();
            PoolRow row = before.row(org);
            PoolRow parent = before.row(parentOf.get(org));
            long value;
            int kind = rnd.nextInt(100);
            if (kind < 15) {
                value = 0;
            } else if (kind < 60) {
                value = Math.max(0, row.dedicated() + rnd.nextInt(7) - 3);
            } else {
                value = rnd.nextInt(13);
            }
            what = "dedicated " + org + " " + row.dedicated() + " -> " + value;
            long allocated = row.dedicated() - row.pool();
            Reason expected = null;
            if (value > row.dedicated() && value - row.dedicated() > parent.available()) {
                expected = Reason.INSUFFICIENT_LICENSES;
            } else if (value > 0 && value < row.dedicated() && value < row.inUse() + allocated) {
                expected = Reason.BELOW_IN_USE;
            }
            Set<String> subtree = subtree(org);
            Map<String, Session> sessionsBefore = h.sessions().stream().collect(Collectors.toMap(Session::id, s -> s));
            Decision<LicenseUsage> d = h.ledger.setDedicated(org, KRE, value, h.now());
            expect(expected, d);
            LicenseUsage after = h.usage();
            if (expected != null) {
                assertEquals(before, after, where() + ": a refused change changes nothing");
                return;
            }
            assertEquals(after, d.value(), where() + ": the answer is the usage after the change");
            if (value > 0) {
                assertEquals(value, after.row(org).dedicated(), where());
                assertEquals(parent.pool() - (value - row.dedicated()), after.row(parentOf.get(org)).pool(), where());
                return;
            }
            // revoke: the whole subtree is empty, its sessions moved (same ids) to the parent
            long movedInUse = 0;
            for (String o : subtree) {
                movedInUse += before.row(o).inUse();
                PoolRow r = after.row(o);
                assertEquals(0, r.dedicated() + r.pool() + r.inUse(), where() + ": row " + o + " after revoke: " + r);
            }
            assertEquals(parent.inUse() + movedInUse, after.row(parentOf.get(org)).inUse(), where() + ": parent in_use");
            assertEquals(parent.dedicated(), after.row(parentOf.get(org)).dedicated(), where());
            assertEquals(sessionsBefore.keySet(), h.sessions().stream().map(Session::id).collect(Collectors.toSet()),
                    where() + ": a revoke ends no session");
            for (Session s : h.sessions()) {
                Session was = sessionsBefore.get(s.id());
                String expectedPool = subtree.contains(was.poolId()) ? parentOf.get(org) : was.poolId();
                assertEquals(expectedPool, s.poolId(), where() + ": pool of " + s.id());
                assertEquals(was.leaseExpiresAt(), s.leaseExpiresAt(), where());
            }
        }

        Set<String> subtree(String org) {
            Set<String> out = new HashSet<>();
            out.add(org);
            boolean grew = true;
            while (grew) {
                grew = false;
                for (String o : orgs) {
                    if (!out.contains(o) && out.contains(parentOf.get(o))) {
                        out.add(o);
                        grew = true;
                    }
                }
            }
            return out;
        }

        void setSubscription() {
            LicenseUsage before = h.usage();
            PoolRow account = before.row(ACCOUNT);
            long allocated = account.dedicated() - account.pool();
            long floor = allocated + account.inUse() + before.offlineLicenses();
            long licenses = Math.max(0, floor + rnd.nextInt(13) - 2);
            what = "subscription " + licenses + " (floor " + floor + ")";
            Decision<Subscription> d = h.subscribe(licenses, quota);
            expect(licenses < floor ? Reason.BELOW_IN_USE : null, d);
            if (d.isGranted()) {
                assertEquals(licenses - before.offlineLicenses(), h.usage().row(ACCOUNT).dedicated(), where());
            }
        }

        void offline() {
            String machine = "o" + rnd.nextInt(5);
            Instant expires = h.now().plusSeconds(10 + rnd.nextInt(600));
            what = "offline " + machine + " until " + expires;
            LicenseUsage before = h.usage();
            Map<String, Machine> machines = machines();
            Machine m = machines.get(machine);
            Reason expected = null;
            if (m != null && m.offlineExpiresAt() != null) {
                expected = Reason.ALREADY_EXISTS;
            } else if (m == null && machines.size() >= quota) {
                expected = Reason.MACHINE_QUOTA_EXCEEDED;
            } else if (before.row(ACCOUNT).available() < 1) {
                expected = Reason.INSUFFICIENT_LICENSES;
            }
            Decision<OfflineLicense> d = h.offline(machine, expires);
            expect(expected, d);
            if (d.isGranted()) {
                assertEquals(before.row(ACCOUNT).dedicated() - 1, h.usage().row(ACCOUNT).dedicated(), where());
                assertEquals(before.offlineLicenses() + 1, h.usage().offlineLicenses(), where());
            }
        }

        void deactivate() {
            Map<String, Machine> machines = machines();
            String machine = machines.isEmpty() || rnd.nextInt(10) == 0
                    ? "m-unknown" : new ArrayList<>(machines.keySet()).get(rnd.nextInt(machines.size()));
            what = "deactivate " + machine;
            Machine m = machines.get(machine);
            int before = h.ledger.liveSessions();
            long onIt = h.sessions().stream().filter(s -> s.machineId().equals(machine)).count();
            boolean result = h.deactivate(machine);
            if (m == null) {
                assertEquals(false, result, where());
                return;
            }
            assertEquals(m.offlineExpiresAt() == null || onIt > 0, result, where());
            assertEquals(before - onIt, h.ledger.liveSessions(), where());
            assertEquals(m.offlineExpiresAt() != null, machines().containsKey(machine), where());
        }

        Map<String, Machine> machines() {
            Map<String, Machine> out = new HashMap<>();
            h.ledger.machines(KRE, h.now()).forEach(m -> out.put(m.machineId(), m));
            return out;
        }

        // ------------------------------------------------------------ agents

        void acquire() {
            String user = users.get(rnd.nextInt(users.size()));
            String requestId = rnd.nextInt(100) < 30 ? "r" + rnd.nextInt(3) : "";
            // mostly machines that fit the quota, now and then one more
            String machine = "m" + (rnd.nextInt(10) == 0 ? rnd.nextInt((int) quota + 8) : rnd.nextInt((int) Math.max(1, quota - 6)));
            String label = "s" + (++sessionCounter);
            what = "acquire " + label + " by " + user + " on " + machine + " request '" + requestId + "'";

            Map<String, Long> available = new HashMap<>();
            h.usage().rows().forEach(r -> available.put(r.poolId(), r.available()));
            // An acquire first ends up to 16 run-out leases, earliest lease end first.
            Set<String> lazilyEnded = new HashSet<>();
            h.sessions().stream().filter(s -> !h.now().isBefore(s.leaseExpiresAt()))
                    .sorted(Comparator.comparing(Session::leaseExpiresAt).thenComparing(Session::id))
                    .limit(16)
                    .forEach(s -> {
                        lazilyEnded.add(s.id());
                        available.merge(s.poolId(), 1L, Long::sum);
                    });
            String key = user + "\n" + requestId;
            if (!requestId.isEmpty() && byRequest.containsKey(key)) {
                Session existing = h.ledger.session(byRequest.get(key));
                if (existing != null && lazilyEnded.contains(existing.id())) {
                    existing = null;
                }
                if (existing != null && h.now().isBefore(existing.leaseExpiresAt())) {
                    Decision<Session> d = h.acquire(label, user, machine, requestId);
                    if (existing.machineId().equals(machine)) {
                        expect(null, d);
                        assertEquals(existing, d.value(), where() + ": the same live session");
                    } else {
                        expect(Reason.ALREADY_EXISTS, d);
                    }
                    return;
                }
                if (existing != null) {
                    // its lease ran out: the acquire ends it first
                    available.merge(existing.poolId(), 1L, Long::sum);
                }
            }
            Reason expectedDenial = null;
            String expectedPool = null;
            boolean expectedFallback = false;
            Set<String> registered = machines().keySet();
            if (!registered.contains(machine) && registered.size() >= quota) {
                expectedDenial = Reason.MACHINE_QUOTA_EXCEEDED;
            } else {
                User u = h.ledger.user(user);
                PolicySettings policy = h.ledger.policy();
                List<String> candidates = new ArrayList<>();
                candidates.add(u.assignedOrgId() == null ? ACCOUNT : u.assignedOrgId());
                if (policy.policy() != UsagePolicy.STRICT) {
                    candidates.addAll(u.projectOrgIds());
                }
                if (policy.policy() == UsagePolicy.UNRESTRICTED) {
                    candidates.addAll(orgs); // creation order
                }
                for (String c : candidates) {
                    if (available.getOrDefault(c, 0L) > 0) {
                        expectedPool = c;
                        break;
                    }
                }
                if (expectedPool == null && u.assignedOrgId() != null && policy.allowFallback()
                        && available.get(ACCOUNT) > 0) {
                    expectedPool = ACCOUNT;
                    expectedFallback = true;
                }
                if (expectedPool == null) {
                    expectedDenial = u.assignedOrgId() != null && !policy.allowFallback()
                            ? Reason.ORGANIZATION_POOL_EXHAUSTED : Reason.NO_LICENSE_AVAILABLE;
                }
            }
            int liveBefore = h.ledger.liveSessions();
            Decision<Session> d = h.acquire(label, user, machine, requestId);
            expect(expectedDenial, d);
            if (d.isGranted()) {
                Session s = d.value();
                assertEquals(sid(label), s.id(), where());
                assertEquals(expectedPool, s.poolId(), where() + ": pool");
                assertEquals(expectedFallback, s.fallback(), where() + ": fallback");
                assertEquals(h.now().plus(TTL), s.leaseExpiresAt(), where());
                assertNotNull(h.ledger.session(s.id()), where());
                assertTrue(h.ledger.liveSessions() <= liveBefore + 1, where());
                everSessions.add(s.id());
                if (!requestId.isEmpty()) {
                    byRequest.put(key, s.id());
                }
            }
        }

        String someSessionLabel() {
            List<Session> live = h.sessions();
            if (!live.isEmpty() && rnd.nextInt(10) < 8) {
                return live.get(rnd.nextInt(live.size())).id().substring(ACCOUNT.length() + 1);
            }
            if (!everSessions.isEmpty() && rnd.nextBoolean()) {
                return everSessions.get(rnd.nextInt(everSessions.size())).substring(ACCOUNT.length() + 1);
            }
            return "never";
        }

        void renew() {
            String label = someSessionLabel();
            Session s = h.session(label);
            String user = s != null && rnd.nextInt(10) > 0 ? s.userId() : users.get(rnd.nextInt(users.size()));
            what = "renew " + label + " by " + user;
            Decision<Session> d = h.renew(label, user);
            if (s == null) {
                assertTrue(d instanceof Decision.Denied<Session> denied && Set.of(Reason.SESSION_EXPIRED,
                        Reason.SESSION_TERMINATED, Reason.SESSION_NOT_FOUND).contains(denied.reason()), where() + ": " + d);
                if (label.equals("never")) {
                    expect(Reason.SESSION_NOT_FOUND, d);
                }
            } else if (!s.userId().equals(user)) {
                expect(Reason.PERMISSION_DENIED, d);
                assertEquals(s, h.session(label), where());
            } else if (!h.now().isBefore(s.leaseExpiresAt())) {
                expect(Reason.SESSION_EXPIRED, d);
                assertEquals(null, h.session(label), where());
            } else {
                expect(null, d);
                Instant lease = h.now().plus(TTL).isAfter(s.leaseExpiresAt()) ? h.now().plus(TTL) : s.leaseExpiresAt();
                assertEquals(s.withLease(lease), d.value(), where());
            }
        }

        void release() {
            String label = someSessionLabel();
            Session s = h.session(label);
            what = "release " + label;
            Decision<Boolean> d = h.release(label, s == null ? "u0" : s.userId());
            expect(null, d);
            assertEquals(s != null, d.value(), where());
            assertEquals(null, h.session(label), where());
        }

        void terminate() {
            String label = someSessionLabel();
            Session s = h.session(label);
            what = "terminate " + label;
            assertEquals(s != null, h.terminate(label), where());
            if (s != null) {
                expect(Reason.SESSION_TERMINATED, h.renew(label, s.userId()));
            }
        }

        void expire() {
            what = "expire";
            long due = h.sessions().stream().filter(s -> !h.now().isBefore(s.leaseExpiresAt())).count();
            int live = h.ledger.liveSessions();
            assertEquals(due, h.expire(), where());
            assertEquals(live - due, h.ledger.liveSessions(), where());
        }

        void expect(Reason expected, Decision<?> d) {
            if (expected == null) {
                if (!d.isGranted()) {
                    fail(where() + ": expected granted, got " + d);
                }
            } else if (!(d instanceof Decision.Denied<?> denied) || denied.reason() != expected) {
                fail(where() + ": expected " + expected + ", got " + d);
            }
        }
    }
}
