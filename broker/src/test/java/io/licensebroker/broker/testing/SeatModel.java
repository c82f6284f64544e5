package io.licensebroker.broker.testing;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.Activation;
import io.licensebroker.broker.core.ActivationRequest;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.LicenseModel;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.LicensedUser;
import io.licensebroker.broker.core.Page;
import io.licensebroker.broker.core.PoolRow;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.SeatQuery;
import io.licensebroker.testkit.MutableClock;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * A randomized model of seat licenses, run through the {@link LicenseStore} interface: random
 * grants, removals, transfers, dedicated changes and revokes, activations (with take-over),
 * renewals, releases, lease expiry and machine deactivations on one account with an organization
 * tree. Each step's outcome is computed independently from the model's own state (not from the
 * store) and compared; after every step the store's usage table, licensed users and activations
 * must equal the model's and {@code 0 <= in_use <= pool} must hold on every row. Every choice
 * comes from the seed; a failure names its seed and step.
 */
public final class SeatModel {
    private static final String PRODUCT = "KSE";
    private static final Duration TTL = Duration.ofSeconds(60);
    private static final int USERS = 14;
    private static final int MACHINES = 9;
    /** Ids only need to be unique: the seed decides every choice, not the ids. */
    private static final java.security.SecureRandom IDS = new java.security.SecureRandom();

    private final LicenseStore store;
    private final MutableClock clock;
    private final Random random;
    private final long seed;
    private final String account;
    private final LicenseModel model;
    private final long licenses;
    private final long machineQuota;
    /** Organization -> its parent pool (an organization or the account). */
    private final Map<String, String> parent = new java.util.LinkedHashMap<>();
    private final Map<String, Long> dedicated = new HashMap<>();
    private final Map<String, String> assigned = new HashMap<>();
    private final TreeMap<String, String> seatPool = new TreeMap<>();
    /** Node-locked: user -> (machine, activation id). */
    private final Map<String, String[]> bound = new HashMap<>();
    /** Floating: user -> live lease. */
    private final Map<String, Lease> leases = new HashMap<>();
    private final Set<String> registered = new TreeSet<>();
    private int step;
    /** How often each outcome was seen ("grant:ok", "activate:SEAT_IN_USE"...): a run must reach every kind. */
    private final Map<String, Integer> outcomes = new TreeMap<>();

    private record Lease(String id, String machine, Instant end) {
    }

    public SeatModel(LicenseStore store, MutableClock clock, String accountPrefix, long seed) {
        this.store = store;
        this.clock = clock;
        this.seed = seed;
        this.random = new Random(seed);
        this.account = accountPrefix + "-" + seed;
        this.model = random.nextBoolean() ? LicenseModel.NODE_LOCKED : LicenseModel.FLOATING;
        this.licenses = 10 + random.nextInt(10);
        this.machineQuota = 4 + random.nextInt(MACHINES);
    }

    public void run(int steps) {
        setUp();
        for (step = 1; step <= steps; step++) {
            int pick = random.nextInt(100);
            if (pick < 18) {
                grant();
            } else if (pick < 30) {
                remove();
            } else if (pick < 38) {
                transfer();
            } else if (pick < 50) {
                setDedicated();
            } else if (pick < 52) {
                revoke();
            } else if (pick < 70) {
                activate();
            } else if (pick < 77) {
                renewOrRelease();
            } else if (pick < 85) {
                passTime();
            } else {
                deactivate();
            }
            check();
        }
        List<String> required = new ArrayList<>(List.of("grant:ok", "grant:INSUFFICIENT_LICENSES", "remove:ok",
                "transfer:ok", "transfer:NOT_LICENSED", "dedicated:ok", "dedicated:BELOW_IN_USE", "revoke:ok",
                "activate:ok", "activate:NOT_LICENSED", "activate:SEAT_IN_USE", "deactivate:ok"));
        if (model == LicenseModel.FLOATING) {
            required.add("activate:take-over");
            required.add("renew:ok");
        }
        required.removeAll(outcomes.keySet());
        if (steps >= 1000 && !required.isEmpty()) {
            fail("the run never reached " + required + " (seen " + outcomes + ")");
        }
    }

    // ---------------------------------------------------------------- set-up

    private void setUp() {
        granted(store.createAccount(new Account(account, "Seat model " + seed)));
        granted(store.setSubscription(account, PRODUCT, licenses, machineQuota, clock.instant().plus(Duration.ofDays(3650)), model,
                clock.instant()));
        String a = org(null, "A");
        org(a, "A1");
        org(a, "A2");
        org(null, "B");
        List<String> orgs = new ArrayList<>(parent.keySet());
        for (int i = 0; i < USERS; i++) {
            String org = random.nextInt(4) == 0 ? null : orgs.get(random.nextInt(orgs.size()));
            String user = "u" + i;
            granted(store.upsertUser(account, user, org, List.of()));
            assigned.put(user, org);
        }
    }

    private String org(String parentOrg, String name) {
        String id = granted(store.createOrganization(account, parentOrg, name)).id();
        parent.put(id, parentOrg == null ? account : parentOrg);
        dedicated.put(id, 0L);
        return id;
    }

    // ---------------------------------------------------------------- pool arithmetic of the model

    private long dedicatedOf(String pool) {
        return pool.equals(account) ? licenses : dedicated.get(pool);
    }

    private long allocated(String pool) {
        long sum = 0;
        for (Map.Entry<String, String> e : parent.entrySet()) {
            if (e.getValue().equals(pool)) {
                sum += dedicated.get(e.getKey());
            }
        }
        return sum;
    }

    private long inUse(String pool) {
        return seatPool.values().stream().filter(pool::equals).count();
    }

    private long available(String pool) {
        return dedicatedOf(pool) - allocated(pool) - inUse(pool);
    }

    private List<String> pools() {
        List<String> out = new ArrayList<>();
        out.add(account);
        out.addAll(parent.keySet());
        return out;
    }

    private List<String> subtree(String org) {
        List<String> out = new ArrayList<>(List.of(org));
        for (int i = 0; i < out.size(); i++) {
            String at = out.get(i);
            parent.forEach((child, p) -> {
                if (p.equals(at)) {
                    out.add(child);
                }
            });
        }
        return out;
    }

    private String anyUser() {
        return "u" + random.nextInt(USERS);
    }

    private String anyPoolOrNull() {
        List<String> pools = pools();
        return random.nextInt(3) == 0 ? null : pools.get(random.nextInt(pools.size()));
    }

    // ---------------------------------------------------------------- steps

    private void grant() {
        String user = anyUser();
        String pool = anyPoolOrNull();
        Decision<LicensedUser> got = join(store.grantLicense(account, PRODUCT, user, pool, clock.instant()));
        if (seatPool.containsKey(user)) {
            expect(got, null, "grant again to " + user);
            return;
        }
        String target = pool != null ? pool : assigned.get(user) != null ? assigned.get(user) : account;
        if (available(target) < 1) {
            expect(got, Reason.INSUFFICIENT_LICENSES, "grant to " + user + " in full " + target);
            return;
        }
        expect(got, null, "grant to " + user + " in " + target);
        same(target, got.value().seat().poolId(), "granted pool");
        seatPool.put(user, target);
    }

    private void remove() {
        String user = anyUser();
        Decision<Boolean> got = join(store.removeLicense(account, PRODUCT, user, clock.instant()));
        expect(got, null, "remove " + user);
        same(seatPool.containsKey(user), got.value(), "removed " + user);
        free(user);
    }

    private void free(String user) {
        seatPool.remove(user);
        bound.remove(user);
        leases.remove(user);
    }

    private void transfer() {
        String from = anyUser();
        String to = anyUser();
        String pool = anyPoolOrNull();
        Decision<LicensedUser> got = join(store.transferLicense(account, PRODUCT, from, to, pool, clock.instant()));
        String what = "transfer " + from + " -> " + to + " in " + pool;
        if (!seatPool.containsKey(from)) {
            expect(got, Reason.NOT_LICENSED, what);
            return;
        }
        if (seatPool.containsKey(to)) {
            expect(got, Reason.ALREADY_EXISTS, what);
            return;
        }
        String target = pool != null ? pool : seatPool.get(from);
        long room = available(target) + (target.equals(seatPool.get(from)) ? 1 : 0);
        if (room < 1) {
            expect(got, Reason.INSUFFICIENT_LICENSES, what);
            return;
        }
        expect(got, null, what);
        free(from);
        seatPool.put(to, target);
    }

    private void setDedicated() {
        List<String> orgs = new ArrayList<>(parent.keySet());
        String org = orgs.get(random.nextInt(orgs.size()));
        long current = dedicated.get(org);
        long wanted = 1 + random.nextInt(6);
        Decision<LicenseUsage> got = join(store.setDedicated(account, org, PRODUCT, wanted, clock.instant()));
        String what = "dedicated " + org + " " + current + " -> " + wanted;
        if (wanted > current && wanted - current > available(parent.get(org))) {
            expect(got, Reason.INSUFFICIENT_LICENSES, what);
        } else if (wanted < current && wanted < inUse(org) + allocated(org)) {
            expect(got, Reason.BELOW_IN_USE, what);
        } else {
            expect(got, null, what);
            dedicated.put(org, wanted);
        }
    }

    private void revoke() {
        List<String> orgs = new ArrayList<>(parent.keySet());
        String org = orgs.get(random.nextInt(orgs.size()));
        expect(join(store.setDedicated(account, org, PRODUCT, 0, clock.instant())), null, "revoke " + org);
        Set<String> gone = new TreeSet<>(subtree(org));
        gone.forEach(o -> dedicated.put(o, 0L));
        seatPool.replaceAll((user, pool) -> gone.contains(pool) ? parent.get(org) : pool);
    }

    private void activate() {
        String user = anyUser();
        String machine = "m" + random.nextInt(MACHINES);
        boolean takeOver = random.nextInt(4) == 0;
        Instant now = clock.instant();
        ActivationRequest request = new ActivationRequest(PRODUCT, user, machine, "", takeOver,
                Ids.newSessionId(account, IDS), now, now.plus(TTL));
        Decision<Activation> got = join(store.activate(account, request));
        String what = "activate " + user + " on " + machine + (takeOver ? " taking over" : "");
        if (!seatPool.containsKey(user)) {
            expect(got, Reason.NOT_LICENSED, what);
            return;
        }
        boolean newMachine = !registered.contains(machine);
        if (model == LicenseModel.NODE_LOCKED) {
            String[] b = bound.get(user);
            if (b != null) {
                expect(got, b[0].equals(machine) ? null : Reason.SEAT_IN_USE, what);
                if (got.isGranted()) {
                    same(b[1], got.value().activationId(), "the same binding");
                }
                return;
            }
            if (newMachine && registered.size() >= machineQuota) {
                expect(got, Reason.MACHINE_QUOTA_EXCEEDED, what);
                return;
            }
            expect(got, null, what);
            bound.put(user, new String[] {machine, got.value().activationId()});
            registered.add(machine);
            return;
        }
        Lease lease = leases.get(user);
        if (lease != null && !now.isBefore(lease.end())) {
            leases.remove(user);
            lease = null;
        }
        if (lease != null && lease.machine().equals(machine)) {
            expect(got, null, what);
            same(lease.id(), got.value().activationId(), "the same lease");
            return;
        }
        if (lease != null && !takeOver) {
            expect(got, Reason.SEAT_IN_USE, what);
            return;
        }
        if (newMachine && registered.size() >= machineQuota) {
            expect(got, Reason.MACHINE_QUOTA_EXCEEDED, what);
            return;
        }
        expect(got, null, what);
        same(request.leaseExpiresAt(), got.value().leaseExpiresAt(), "the new lease's end");
        leases.put(user, new Lease(got.value().activationId(), machine, request.leaseExpiresAt()));
        registered.add(machine);
    }

    private void renewOrRelease() {
        Instant now = clock.instant();
        List<String> live = leases.entrySet().stream().filter(e -> now.isBefore(e.getValue().end())).map(Map.Entry::getKey)
                .sorted().toList();
        if (live.isEmpty()) {
            return;
        }
        String user = live.get(random.nextInt(live.size()));
        Lease lease = leases.get(user);
        if (random.nextBoolean()) {
            Instant end = now.plus(TTL);
            expect(join(store.renew(account, lease.id(), user, now, end)), null, "renew " + lease.id());
            leases.put(user, new Lease(lease.id(), lease.machine(), end));
        } else {
            Decision<Boolean> got = join(store.release(account, lease.id(), user, now));
            expect(got, null, "release " + lease.id());
            same(true, got.value(), "released");
            leases.remove(user);
        }
    }

    private void passTime() {
        clock.advance(Duration.ofSeconds(random.nextInt(45)));
        if (random.nextBoolean()) {
            join(store.expireLeases(clock.instant()));
        }
        Instant now = clock.instant();
        leases.values().removeIf(l -> !now.isBefore(l.end()));
    }

    private void deactivate() {
        String machine = "m" + random.nextInt(MACHINES);
        Decision<Boolean> got = join(store.deactivateMachine(account, PRODUCT, machine, clock.instant()));
        expect(got, null, "deactivate " + machine);
        same(registered.contains(machine), got.value(), "deactivated " + machine);
        registered.remove(machine);
        bound.values().removeIf(b -> b[0].equals(machine));
        leases.values().removeIf(l -> l.machine().equals(machine));
    }

    // ---------------------------------------------------------------- checks

    private void check() {
        Instant now = clock.instant();
        LicenseUsage usage = granted(store.usage(account, PRODUCT, now));
        List<String> broken = UsageInvariants.violations(usage);
        if (!broken.isEmpty()) {
            fail("invariant broken: " + broken);
        }
        for (PoolRow row : usage.rows()) {
            same(dedicatedOf(row.poolId()), row.dedicated(), "dedicated of " + row.poolId());
            same(inUse(row.poolId()), row.inUse(), "in_use of " + row.poolId());
        }
        same((long) registered.size(), usage.registeredMachines(), "registered machines");
        Map<String, String> seats = new TreeMap<>();
        Map<String, String> machines = new TreeMap<>();
        String token = null;
        do {
            Page<LicensedUser> page = granted(store.licensedUsers(account, new SeatQuery(PRODUCT, null, null, 5, token), now));
            for (LicensedUser l : page.items()) {
                seats.put(l.seat().userId(), l.seat().poolId());
                if (l.seat().machineId() != null) {
                    machines.put(l.seat().userId(), l.seat().machineId());
                }
            }
            token = page.nextPageToken();
        } while (token != null);
        same(seatPool, seats, "licensed users");
        Map<String, String> expectedMachines = new TreeMap<>();
        bound.forEach((user, b) -> expectedMachines.put(user, b[0]));
        same(expectedMachines, machines, "node-locked bindings");
        Map<String, String> activeExpected = new TreeMap<>(expectedMachines);
        leases.forEach((user, l) -> {
            if (now.isBefore(l.end())) {
                activeExpected.put(user, l.machine());
            }
        });
        Map<String, String> active = new TreeMap<>();
        for (Activation a : granted(store.activations(account, new SeatQuery(PRODUCT, null, null, 1000, null), now)).items()) {
            active.put(a.userId(), a.machineId());
            same(seatPool.get(a.userId()), a.poolId(), "pool of the activation of " + a.userId());
        }
        same(activeExpected, active, "activations");
    }

    private <T> void expect(Decision<T> got, Reason reason, String what) {
        String verb = what.substring(0, what.indexOf(' '));
        outcomes.merge(verb + ":" + (reason == null ? "ok" : reason.name()), 1, Integer::sum);
        if (what.endsWith("taking over") && reason == null) {
            outcomes.merge("activate:take-over", 1, Integer::sum);
        }
        if (reason == null && !got.isGranted()) {
            fail(what + ": expected granted, got " + got);
        }
        if (reason != null && !(got instanceof Decision.Denied<T> d && d.reason() == reason)) {
            fail(what + ": expected " + reason + ", got " + got);
        }
    }

    private void same(Object expected, Object actual, String what) {
        if (!expected.equals(actual)) {
            fail(what + ": expected " + expected + ", got " + actual);
        }
    }

    private <T> T granted(CompletionStage<Decision<T>> stage) {
        Decision<T> d = join(stage);
        if (!d.isGranted()) {
            fail("expected granted, got " + d);
        }
        return d.value();
    }

    private static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("the store did not answer: " + e, e);
        }
    }

    private void fail(String message) {
        throw new AssertionError("seed " + seed + " (" + model + "), step " + step + ": " + message
                + " (replay with -Dmodel.seed=" + seed + ")");
    }
}
