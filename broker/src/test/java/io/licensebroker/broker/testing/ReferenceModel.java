package io.licensebroker.broker.testing;

import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.Machine;
import io.licensebroker.broker.core.OfflineLicense;
import io.licensebroker.broker.core.Organization;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.PoolRow;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.Subscription;
import io.licensebroker.broker.core.UsagePolicy;
import io.licensebroker.broker.core.User;

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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Randomized model run: a random organization tree (depth up to 4), users and a policy, then
 * random steps (admin changes including revokes, acquires, renewals, releases, terminations, clock
 * advances, expiries, offline licenses, machine deactivations). Each outcome is checked against an
 * independent computation from the usage table and sessions the target showed before the step;
 * after every step, from the target's own answers (usage and sessions), every row keeps
 * {@code 0 <= in_use <= pool}, {@code pool == dedicated - allocated}, and its in_use is exactly
 * the number of listed sessions drawing from it. Every choice comes from the seed.
 */
public final class ReferenceModel {
    private static final Duration TTL = Duration.ofSeconds(60);
    private static final char[] NAME_CHARS = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();

    private final ModelTarget t;
    private final long seed;
    private final Random rnd;
    private final String account;
    private final List<String> orgs = new ArrayList<>(); // ids, creation order
    private final Map<String, String> parentOf = new HashMap<>(); // org id -> parent pool id (account id for top level)
    private final List<String> users = List.of("u0", "u1", "u2", "u3", "u4", "u5");
    private final Map<String, User> userRecords = new HashMap<>();
    private final Map<String, String> byRequest = new HashMap<>(); // user \n request -> session name
    private final List<String> everSessions = new ArrayList<>();
    private PolicySettings policy;
    private long quota;
    private int step;
    private String what;
    // what the target showed after the last step
    private LicenseUsage usage;
    private List<Session> sessions;

    public ReferenceModel(ModelTarget target, long seed) {
        this.t = target;
        this.seed = seed;
        this.rnd = new Random(seed);
        this.account = target.accountId();
    }

    /** Sets up the account, then runs {@code steps} random steps. */
    public void run(int steps) {
        quota = 5 + rnd.nextInt(25);
        assertTrue(t.subscribe(5 + rnd.nextInt(26), quota).isGranted());
        int orgCount = 3 + rnd.nextInt(10);
        Map<String, Integer> depth = new HashMap<>();
        for (int i = 0; i < orgCount; i++) {
            List<String> deepEnough = orgs.stream().filter(o -> depth.get(o) < 4).toList();
            String parent = deepEnough.isEmpty() || rnd.nextInt(100) < 35 ? null : deepEnough.get(rnd.nextInt(deepEnough.size()));
            Decision<Organization> created = t.createOrganization(parent, "org " + i);
            assertTrue(created.isGranted(), "create org: " + created);
            String id = created.value().id();
            orgs.add(id);
            parentOf.put(id, parent == null ? account : parent);
            depth.put(id, parent == null ? 1 : depth.get(parent) + 1);
        }
        for (String u : users) {
            upsertRandomUser(u);
        }
        setRandomPolicy();
        observe();
        for (step = 1; step <= steps; step++) {
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
                t.advance(Duration.ofSeconds(1 + rnd.nextInt(20)));
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
            observe();
            checkInvariants();
            t.afterStep(where());
        }
    }

    public String where() {
        return "seed " + seed + " step " + step + " at " + t.now() + " [" + what + "]";
    }

    private void observe() {
        usage = t.usage();
        sessions = t.sessions();
    }

    private void checkInvariants() {
        assertEquals(List.of(), UsageInvariants.violations(usage), where() + ": usage invariants");
        Map<String, Long> perPool = sessions.stream().collect(Collectors.groupingBy(Session::poolId, Collectors.counting()));
        for (PoolRow r : usage.rows()) {
            assertEquals(perPool.getOrDefault(r.poolId(), 0L), r.inUse(), where() + ": in_use of " + r.poolId() + " vs its sessions");
        }
        assertEquals(sessions.size(), UsageInvariants.totalInUse(usage), where() + ": sum of in_use vs listed sessions " + perPool);
    }

    private Session session(String name) {
        return sessions.stream().filter(s -> s.id().equals(name)).findFirst().orElse(null);
    }

    private String newName() {
        char[] out = new char[26];
        for (int i = 0; i < out.length; i++) {
            out[i] = NAME_CHARS[rnd.nextInt(NAME_CHARS.length)];
        }
        return account + "." + new String(out);
    }

    // ------------------------------------------------------------ admin

    private void upsertRandomUser(String userId) {
        String assigned = rnd.nextInt(100) < 25 ? null : orgs.get(rnd.nextInt(orgs.size()));
        int projects = rnd.nextInt(4);
        List<String> p = new ArrayList<>();
        for (int i = 0; i < projects; i++) {
            p.add(orgs.get(rnd.nextInt(orgs.size())));
        }
        what = "upsert " + userId + " assigned " + assigned + " projects " + p;
        Decision<User> d = t.upsertUser(userId, assigned, p);
        assertTrue(d.isGranted(), where() + ": " + d);
        assertEquals(new User(account, userId, assigned, new ArrayList<>(new LinkedHashSet<>(p))), d.value(), where());
        userRecords.put(userId, d.value());
    }

    private void setRandomPolicy() {
        PolicySettings s = new PolicySettings(UsagePolicy.values()[rnd.nextInt(3)], rnd.nextBoolean());
        what = "policy " + s;
        assertEquals(s, t.setPolicy(s), where());
        policy = s;
    }

    private void setDedicated() {
        String org = orgs.get(rnd.nextInt(orgs.size()));
        LicenseUsage before = usage;
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
        Map<String, Session> sessionsBefore = sessions.stream().collect(Collectors.toMap(Session::id, s -> s));
        Decision<LicenseUsage> d = t.setDedicated(org, value);
        expect(expected, d);
        observe();
        LicenseUsage after = usage;
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
        assertEquals(sessionsBefore.keySet(), sessions.stream().map(Session::id).collect(Collectors.toSet()),
                where() + ": a revoke ends no session");
        for (Session s : sessions) {
            Session was = sessionsBefore.get(s.id());
            String expectedPool = subtree.contains(was.poolId()) ? parentOf.get(org) : was.poolId();
            assertEquals(was.withPool(expectedPool), s, where() + ": session " + s.id() + " moves, nothing else changes");
        }
    }

    private Set<String> subtree(String org) {
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

    private void setSubscription() {
        LicenseUsage before = usage;
        PoolRow accountRow = before.row(account);
        long allocated = accountRow.dedicated() - accountRow.pool();
        long floor = allocated + accountRow.inUse() + before.offlineLicenses();
        long licenses = Math.max(0, floor + rnd.nextInt(13) - 2);
        what = "subscription " + licenses + " (floor " + floor + ")";
        Decision<Subscription> d = t.subscribe(licenses, quota);
        expect(licenses < floor ? Reason.BELOW_IN_USE : null, d);
        observe();
        if (d.isGranted()) {
            assertEquals(licenses - before.offlineLicenses(), usage.row(account).dedicated(), where());
        } else {
            assertEquals(before, usage, where() + ": a refused change changes nothing");
        }
    }

    private void offline() {
        String machine = "o" + rnd.nextInt(5);
        Instant expires = t.now().plusSeconds(10 + rnd.nextInt(600));
        what = "offline " + machine + " until " + expires;
        LicenseUsage before = usage;
        Map<String, Machine> machines = machines();
        Machine m = machines.get(machine);
        Reason expected = null;
        if (m != null && m.offlineExpiresAt() != null) {
            expected = Reason.ALREADY_EXISTS;
        } else if (m == null && machines.size() >= quota) {
            expected = Reason.MACHINE_QUOTA_EXCEEDED;
        } else if (before.row(account).available() < 1) {
            expected = Reason.INSUFFICIENT_LICENSES;
        }
        Decision<OfflineLicense> d = t.offline(machine, expires);
        expect(expected, d);
        observe();
        if (d.isGranted()) {
            assertEquals(new OfflineLicense(account, "KRE", machine, t.now(), expires), d.value(), where());
            assertEquals(before.row(account).dedicated() - 1, usage.row(account).dedicated(), where());
            assertEquals(before.offlineLicenses() + 1, usage.offlineLicenses(), where());
        }
    }

    private void deactivate() {
        Map<String, Machine> machines = machines();
        String machine = machines.isEmpty() || rnd.nextInt(10) == 0
                ? "m-unknown" : new ArrayList<>(machines.keySet()).get(rnd.nextInt(machines.size()));
        what = "deactivate " + machine;
        Machine m = machines.get(machine);
        int before = sessions.size();
        long onIt = sessions.stream().filter(s -> s.machineId().equals(machine)).count();
        boolean result = t.deactivate(machine);
        observe();
        if (m == null) {
            assertEquals(false, result, where());
            return;
        }
        assertEquals(m.offlineExpiresAt() == null || onIt > 0, result, where());
        assertEquals(before - onIt, sessions.size(), where());
        assertEquals(m.offlineExpiresAt() != null, machines().containsKey(machine), where());
    }

    /** Registration order kept: the model picks from them by position. */
    private Map<String, Machine> machines() {
        Map<String, Machine> out = new java.util.LinkedHashMap<>();
        t.machines().forEach(m -> out.put(m.machineId(), m));
        return out;
    }

    // ------------------------------------------------------------ agents

    private void acquire() {
        String user = users.get(rnd.nextInt(users.size()));
        String requestId = rnd.nextInt(100) < 30 ? "r" + rnd.nextInt(3) : "";
        // mostly machines that fit the quota, now and then one more
        String machine = "m" + (rnd.nextInt(10) == 0 ? rnd.nextInt((int) quota + 8) : rnd.nextInt((int) Math.max(1, quota - 6)));
        String name = newName();
        what = "acquire " + name + " by " + user + " on " + machine + " request '" + requestId + "'";
        Instant now = t.now();

        Map<String, Long> available = new HashMap<>();
        usage.rows().forEach(r -> available.put(r.poolId(), r.available()));
        // An acquire first ends up to 16 run-out leases, earliest lease end first.
        Set<String> lazilyEnded = new HashSet<>();
        sessions.stream().filter(s -> !now.isBefore(s.leaseExpiresAt()))
                .sorted(Comparator.comparing(Session::leaseExpiresAt).thenComparing(Session::id))
                .limit(16)
                .forEach(s -> {
                    lazilyEnded.add(s.id());
                    available.merge(s.poolId(), 1L, Long::sum);
                });
        String key = user + "\n" + requestId;
        if (!requestId.isEmpty() && byRequest.containsKey(key)) {
            Session existing = session(byRequest.get(key));
            if (existing != null && lazilyEnded.contains(existing.id())) {
                existing = null;
            }
            if (existing != null && now.isBefore(existing.leaseExpiresAt())) {
                Decision<Session> d = t.acquire(name, user, machine, requestId, now.plus(TTL));
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
        Set<String> registered = machines().keySet();
        ModelPools.Choice expected = !registered.contains(machine) && registered.size() >= quota
                ? new ModelPools.Choice(Reason.MACHINE_QUOTA_EXCEEDED, null, false)
                : ModelPools.choose(account, userRecords.get(user), policy, orgs, available);
        int liveBefore = sessions.size();
        Decision<Session> d = t.acquire(name, user, machine, requestId, now.plus(TTL));
        expect(expected.denial(), d);
        if (d.isGranted()) {
            assertEquals(new Session(name, account, "KRE", user, machine, expected.pool(), expected.fallback(), requestId,
                    now, now.plus(TTL)), d.value(), where() + ": the new session");
            observe();
            assertNotNull(session(name), where() + ": listed");
            assertTrue(sessions.size() <= liveBefore + 1, where());
            everSessions.add(name);
            if (!requestId.isEmpty()) {
                byRequest.put(key, name);
            }
        }
    }

    private String someSessionName() {
        if (!sessions.isEmpty() && rnd.nextInt(10) < 8) {
            return sessions.get(rnd.nextInt(sessions.size())).id();
        }
        if (!everSessions.isEmpty() && rnd.nextBoolean()) {
            return everSessions.get(rnd.nextInt(everSessions.size()));
        }
        return newName(); // never handed out
    }

    private void renew() {
        String name = someSessionName();
        Session s = session(name);
        String user = s != null && rnd.nextInt(10) > 0 ? s.userId() : users.get(rnd.nextInt(users.size()));
        boolean never = s == null && !everSessions.contains(name);
        what = "renew " + name + " by " + user;
        Instant now = t.now();
        Decision<Session> d = t.renew(name, user, now.plus(TTL));
        observe();
        if (s == null) {
            assertTrue(d instanceof Decision.Denied<Session> denied && Set.of(Reason.SESSION_EXPIRED,
                    Reason.SESSION_TERMINATED, Reason.SESSION_NOT_FOUND).contains(denied.reason()), where() + ": " + d);
            if (never) {
                expect(Reason.SESSION_NOT_FOUND, d);
            }
        } else if (!s.userId().equals(user)) {
            expect(Reason.PERMISSION_DENIED, d);
            assertEquals(s, session(name), where());
        } else if (!now.isBefore(s.leaseExpiresAt())) {
            expect(Reason.SESSION_EXPIRED, d);
            assertEquals(null, session(name), where());
        } else {
            expect(null, d);
            Instant lease = now.plus(TTL).isAfter(s.leaseExpiresAt()) ? now.plus(TTL) : s.leaseExpiresAt();
            assertEquals(s.withLease(lease), d.value(), where());
            assertEquals(s.withLease(lease), session(name), where() + ": listed with the new lease");
        }
    }

    private void release() {
        String name = someSessionName();
        Session s = session(name);
        what = "release " + name;
        Decision<Boolean> d = t.release(name, s == null ? "u0" : s.userId());
        expect(null, d);
        assertEquals(s != null, d.value(), where());
        observe();
        assertEquals(null, session(name), where());
    }

    private void terminate() {
        String name = someSessionName();
        Session s = session(name);
        what = "terminate " + name;
        assertEquals(s != null, t.terminate(name), where());
        if (s != null) {
            expect(Reason.SESSION_TERMINATED, t.renew(name, s.userId(), t.now().plus(TTL)));
        }
    }

    private void expire() {
        what = "expire";
        long due = sessions.stream().filter(s -> !t.now().isBefore(s.leaseExpiresAt())).count();
        int live = sessions.size();
        assertEquals(due, t.expire(), where());
        observe();
        assertEquals(live - due, sessions.size(), where());
    }

    private void expect(Reason expected, Decision<?> d) {
        if (expected == null) {
            if (!d.isGranted()) {
                fail(where() + ": expected granted, got " + d);
            }
        } else if (!(d instanceof Decision.Denied<?> denied) || denied.reason() != expected) {
            fail(where() + ": expected " + expected + ", got " + d);
        }
    }
}
