package io.licensebroker.broker.e2e;

import static io.licensebroker.broker.e2e.GrpcClients.reason;
import static io.licensebroker.broker.e2e.GrpcClients.withToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.Timestamp;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.CreateOrganizationRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.GetUsagePolicyRequest;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseAdminGrpc.LicenseAdminBlockingStub;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc.LicenseBrokerBlockingStub;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.ListOrganizationsRequest;
import io.licensebroker.proto.v1.ListUsersRequest;
import io.licensebroker.proto.v1.Organization;
import io.licensebroker.proto.v1.PoolRow;
import io.licensebroker.proto.v1.ReleaseSessionRequest;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.RestoreDefaultUsagePolicyRequest;
import io.licensebroker.proto.v1.SetDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.SetUsagePolicyRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import io.licensebroker.proto.v1.UsagePolicy;
import io.licensebroker.proto.v1.UsagePolicySettings;
import io.licensebroker.proto.v1.User;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Crash safety of the embedded store: the broker jar under a load of agents acquiring and
 * releasing while an admin changes dedicated licenses, the usage policy, users and organizations,
 * SIGKILLed at a seeded random moment and restarted on the same data directory, again and again.
 *
 * <p>The clients keep their own books of what the broker acknowledged. A call cut by the kill is
 * neither acknowledged nor refused: it may or may not have been applied, so it is tracked apart as
 * "in doubt" and the check after the restart allows both outcomes for it (and only for it). Agent
 * calls in doubt are then settled the way a real agent would: the acquire is retried with the same
 * {@code request_id} (idempotent, so it may never yield a second license) and the release is
 * repeated (releasing twice is not an error). After that the books and the broker must agree
 * exactly, and filling every pool must grant exactly the licenses left, no more.
 *
 * <p>{@code -Dcrash.kills=N} (default 8) sets the number of kills, {@code -Dcrash.seed=S} replays a run.
 */
class CrashSafetyIT {
    private static final String ADMIN = "crash-it-super-admin-token-0123456789";
    private static final String ACCOUNT = "crash";
    private static final long LICENSES = 40;
    private static final int AGENTS = 4;
    /** Sessions one agent holds at most, so that the admin's decreases sometimes succeed. */
    private static final int HELD_PER_AGENT = 5;
    private static final int ORGS = 3;
    /** New organizations stop here, so that a long run keeps its changes concentrated on few pools. */
    private static final int MAX_ORGS = 8;
    private static final int USERS = 4;
    /** Calls completed in a round before the kill is scheduled, so that it lands in a steady load. */
    private static final int WARM_UP_CALLS = 60;
    private static final long MAX_KILL_DELAY_MS = 400;
    // A lease far longer than the test: every acknowledged session must still be live after any restart.
    private static final String[] FLAGS = {"--admin-token", ADMIN, "--lease-ttl", "30m"};

    @TempDir
    Path dataDir;

    /** What the clients were told; the broker's state after a restart must match it. */
    private final Map<Integer, List<String>> held = new ConcurrentHashMap<>();
    /** request_id -> machine id of acquires cut by the kill. */
    private final Map<String, String> acquiresInDoubt = new ConcurrentHashMap<>();
    private final Set<String> releasesInDoubt = ConcurrentHashMap.newKeySet();
    private final List<String> unexpected = new ArrayList<>();

    private final Map<String, Long> dedicated = new LinkedHashMap<>();
    private final Map<String, String> userOrg = new HashMap<>();
    private UsagePolicySettings policy = UsagePolicySettings.newBuilder().setPolicy(UsagePolicy.USAGE_POLICY_UNRESTRICTED).setAllowFallback(true).build();
    /** The admin change cut by the kill, if any: its key and the value it would have set. */
    private volatile AdminChange adminInDoubt;
    private final AtomicInteger adminAcked = new AtomicInteger();

    private record AdminChange(String kind, String key, Object value) {
    }

    @Test
    void sigkillAtRandomMomentsUnderLoadLosesNothingAndNeverOversubscribes() throws Exception {
        int kills = Integer.getInteger("crash.kills", 8);
        long seed = Long.getLong("crash.seed", System.nanoTime());
        System.out.printf("CrashSafetyIT: %d kills, seed %d (replay with -Dcrash.seed=%d)%n", kills, seed, seed);
        Random random = new Random(seed);
        for (int a = 0; a < AGENTS; a++) {
            held.put(a, new ArrayList<>());
        }
        ScheduledExecutorService killer = Executors.newSingleThreadScheduledExecutor();
        String apiKey;
        BrokerProcess broker = BrokerProcess.start(dataDir, FLAGS);
        ManagedChannel setupChannel = GrpcClients.channel(broker.port());
        try {
            apiKey = setUp(setupChannel);
        } finally {
            setupChannel.shutdownNow();
        }
        int adminVerified = 0;
        int sessionsVerified = 0;
        int inDoubtAcquires = 0;
        int inDoubtReleases = 0;
        int adminInDoubtCount = 0;
        try {
            for (int round = 0; round < kills; round++) {
                String where = "after kill #" + (round + 1) + " (seed " + seed + ")";
                runLoadAndKill(broker, apiKey, random.nextLong(), killer, random.nextInt((int) MAX_KILL_DELAY_MS + 1));
                synchronized (unexpected) {
                    assertEquals(List.of(), unexpected, "only cut calls (UNAVAILABLE) and rule refusals are allowed " + where);
                }
                inDoubtAcquires += acquiresInDoubt.size();
                inDoubtReleases += releasesInDoubt.size();
                adminInDoubtCount += adminInDoubt == null ? 0 : 1;

                broker = BrokerProcess.start(dataDir, FLAGS);
                ManagedChannel channel = GrpcClients.channel(broker.port());
                try {
                    adminVerified += verifyAdminState(channel, where);
                    sessionsVerified += verifySessions(channel, apiKey, where);
                    verifyNoOversubscription(channel, apiKey, where);
                } finally {
                    channel.shutdownNow();
                }
            }
            // Everything the agents still hold goes back: usage returns to zero.
            ManagedChannel channel = GrpcClients.channel(broker.port());
            try {
                for (List<String> sessions : held.values()) {
                    for (String s : sessions) {
                        assertTrue(agent(channel, apiKey).releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(s).build()).getReleased(), s);
                    }
                    sessions.clear();
                }
                LicenseUsage usage = usage(channel);
                assertEquals(List.of(), violations(usage));
                assertEquals(0, totalInUse(usage), "usage after every session was released: " + usage);
            } finally {
                channel.shutdownNow();
            }
        } finally {
            killer.shutdownNow();
            broker.close();
        }
        System.out.printf("CrashSafetyIT: %d SIGKILLs under load, %d admin changes acknowledged; verified after restarts: %d acknowledged admin facts (organizations, dedicated counts, policy, users), %d acknowledged live sessions renewed;"
                        + " calls cut by the kills and settled: %d acquires, %d releases, %d admin changes; lost: nothing%n",
                kills, adminAcked.get(), adminVerified, sessionsVerified, inDoubtAcquires, inDoubtReleases, adminInDoubtCount);
        assertTrue(adminVerified > 0 && sessionsVerified > 0, "the load did something");
    }

    private String setUp(ManagedChannel channel) {
        LicenseAdminBlockingStub admin = admin(channel);
        admin.createAccount(CreateAccountRequest.newBuilder().setAccountId(ACCOUNT).setName("Crash").build());
        admin.setSubscription(SetSubscriptionRequest.newBuilder().setAccountId(ACCOUNT).setLicenses(LICENSES).setMachineQuota(1_000)
                .setExpiresAt(Timestamp.newBuilder().setSeconds(Instant.now().plusSeconds(86_400).getEpochSecond())).build());
        for (int i = 0; i < ORGS; i++) {
            String org = admin.createOrganization(CreateOrganizationRequest.newBuilder().setAccountId(ACCOUNT).setName("org" + i).build()).getOrgId();
            admin.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(org).setLicenses(4).build());
            dedicated.put(org, 4L);
        }
        admin.upsertUser(UpsertUserRequest.newBuilder().setAccountId(ACCOUNT).setUserId("agent").build());
        userOrg.put("agent", "");
        return admin.createApiKey(CreateApiKeyRequest.newBuilder().setAccountId(ACCOUNT).setUserId("agent").build()).getApiKey();
    }

    /** Runs agents and an admin against {@code broker} until it is SIGKILLed {@code killDelayMs} after the warm-up. */
    private void runLoadAndKill(BrokerProcess broker, String apiKey, long seed, ScheduledExecutorService killer, long killDelayMs) throws Exception {
        acquiresInDoubt.clear();
        releasesInDoubt.clear();
        adminInDoubt = null;
        CountDownLatch warm = new CountDownLatch(WARM_UP_CALLS);
        AtomicLong requestIds = new AtomicLong();
        ManagedChannel channel = GrpcClients.channel(broker.port());
        ExecutorService threads = Executors.newFixedThreadPool(AGENTS + 1);
        try {
            for (int a = 0; a < AGENTS; a++) {
                int agent = a;
                Random random = new Random(seed + a);
                threads.execute(() -> agentLoop(channel, apiKey, agent, random, requestIds, seed, warm));
            }
            Random adminRandom = new Random(seed - 1);
            threads.execute(() -> adminLoop(channel, adminRandom, warm));
            assertTrue(warm.await(60, TimeUnit.SECONDS), "the load got going");
            ScheduledFuture<?> kill = killer.schedule(() -> {
                broker.kill();
                return null;
            }, killDelayMs, TimeUnit.MILLISECONDS);
            kill.get(60, TimeUnit.SECONDS);
            threads.shutdown();
            assertTrue(threads.awaitTermination(60, TimeUnit.SECONDS), "every client saw the broker die");
        } finally {
            threads.shutdownNow();
            channel.shutdownNow();
        }
    }

    private void agentLoop(ManagedChannel channel, String apiKey, int agent, Random random, AtomicLong requestIds, long seed, CountDownLatch warm) {
        List<String> mine = held.get(agent);
        String machine = "m-" + agent;
        while (true) {
            boolean acquire = mine.isEmpty() || (mine.size() < HELD_PER_AGENT && random.nextBoolean());
            if (acquire) {
                String requestId = "r" + seed + "-" + requestIds.incrementAndGet();
                try {
                    String session = agent(channel, apiKey).acquireSession(AcquireSessionRequest.newBuilder()
                            .setMachineId(machine).setRequestId(requestId).build()).getSessionId();
                    mine.add(session);
                } catch (StatusRuntimeException e) {
                    if (cut(e)) {
                        acquiresInDoubt.put(requestId, machine);
                        return;
                    }
                    if (e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED) {
                        unexpected("acquire", e);
                    }
                }
            } else {
                String session = mine.remove(random.nextInt(mine.size()));
                try {
                    if (!agent(channel, apiKey).releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(session).build()).getReleased()) {
                        unexpected("release of a live session answered released=false: " + session, null);
                    }
                } catch (StatusRuntimeException e) {
                    if (cut(e)) {
                        releasesInDoubt.add(session);
                        return;
                    }
                    unexpected("release", e);
                }
            }
            warm.countDown();
        }
    }

    private void adminLoop(ManagedChannel channel, Random random, CountDownLatch warm) {
        List<String> orgs = new ArrayList<>(dedicated.keySet());
        while (true) {
            int what = random.nextInt(10);
            AdminChange change;
            if (what < 5) {
                String org = orgs.get(random.nextInt(orgs.size()));
                long n = random.nextInt(4) == 0 ? 0 : random.nextInt(9);
                change = new AdminChange("dedicated", org, n);
            } else if (what < 7) {
                UsagePolicy p = List.of(UsagePolicy.USAGE_POLICY_UNRESTRICTED, UsagePolicy.USAGE_POLICY_MEMBER_BASED, UsagePolicy.USAGE_POLICY_STRICT)
                        .get(random.nextInt(3));
                change = new AdminChange("policy", ACCOUNT, UsagePolicySettings.newBuilder().setPolicy(p).setAllowFallback(random.nextBoolean()).build());
            } else if (what < 9) {
                String org = random.nextInt(3) == 0 ? "" : orgs.get(random.nextInt(orgs.size()));
                change = new AdminChange("user", "u-" + random.nextInt(USERS), org);
            } else if (orgs.size() < MAX_ORGS) {
                change = new AdminChange("org", "org-new", "");
            } else {
                change = new AdminChange("policy", ACCOUNT, UsagePolicySettings.newBuilder().setPolicy(UsagePolicy.USAGE_POLICY_UNRESTRICTED).setAllowFallback(true).build());
            }
            try {
                apply(channel, change, orgs);
                adminAcked.incrementAndGet();
            } catch (StatusRuntimeException e) {
                if (cut(e)) {
                    adminInDoubt = change;
                    return;
                }
                if (e.getStatus().getCode() != Status.Code.FAILED_PRECONDITION) {
                    unexpected("admin " + change, e);
                }
            }
            warm.countDown();
        }
    }

    /** Applies one admin change and, once acknowledged, books it. */
    private void apply(ManagedChannel channel, AdminChange change, List<String> orgs) {
        LicenseAdminBlockingStub admin = admin(channel);
        switch (change.kind()) {
            case "dedicated" -> {
                LicenseUsage after = admin.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder()
                        .setOrgId(change.key()).setLicenses((Long) change.value()).build());
                List<String> bad = violations(after);
                if (!bad.isEmpty()) {
                    unexpected("SetDedicatedLicenses answered an impossible state " + bad, null);
                }
                synchronized (dedicated) {
                    dedicated.put(change.key(), (Long) change.value());
                }
            }
            case "policy" -> {
                UsagePolicySettings s = (UsagePolicySettings) change.value();
                admin.setUsagePolicy(SetUsagePolicyRequest.newBuilder().setAccountId(ACCOUNT).setPolicy(s.getPolicy())
                        .setAllowFallback(s.getAllowFallback()).build());
                policy = s;
            }
            case "user" -> {
                admin.upsertUser(UpsertUserRequest.newBuilder().setAccountId(ACCOUNT).setUserId(change.key())
                        .setAssignedOrgId((String) change.value()).build());
                synchronized (userOrg) {
                    userOrg.put(change.key(), (String) change.value());
                }
            }
            case "org" -> {
                String org = admin.createOrganization(CreateOrganizationRequest.newBuilder().setAccountId(ACCOUNT)
                        .setName("org" + orgs.size()).build()).getOrgId();
                synchronized (dedicated) {
                    dedicated.put(org, 0L);
                }
                orgs.add(org);
            }
            default -> throw new IllegalStateException(change.kind());
        }
    }

    /**
     * Every acknowledged admin change is in the restarted broker; the one change cut by the kill
     * (if any) may be there or not. Returns how many acknowledged facts were checked.
     */
    private int verifyAdminState(ManagedChannel channel, String where) {
        LicenseAdminBlockingStub admin = admin(channel);
        AdminChange doubt = adminInDoubt;
        int checked = 0;

        List<Organization> orgs = admin.listOrganizations(ListOrganizationsRequest.newBuilder().setAccountId(ACCOUNT).build()).getOrganizationsList();
        Set<String> orgIds = new HashSet<>();
        orgs.forEach(o -> orgIds.add(o.getOrgId()));
        assertTrue(orgIds.containsAll(dedicated.keySet()), "every acknowledged organization " + dedicated.keySet() + " is there " + where + ": " + orgIds);
        checked += dedicated.size();
        Set<String> extra = new HashSet<>(orgIds);
        extra.removeAll(dedicated.keySet());
        if (doubt != null && doubt.kind().equals("org")) {
            assertTrue(extra.size() <= 1, "at most the one organization in doubt appeared " + where + ": " + extra);
            extra.forEach(o -> dedicated.put(o, 0L));
        } else {
            assertEquals(Set.of(), extra, "no organization nobody created " + where);
        }

        LicenseUsage usage = usage(channel);
        assertEquals(List.of(), violations(usage), "invariant " + where + ": " + usage);
        assertEquals(LICENSES, usage.getLicenses());
        for (PoolRow row : usage.getRowsList()) {
            if (row.getPoolId().equals(ACCOUNT)) {
                continue;
            }
            long expected = dedicated.get(row.getPoolId());
            if (row.getDedicated() != expected) {
                boolean explained = doubt != null && doubt.kind().equals("dedicated") && doubt.key().equals(row.getPoolId())
                        && ((Long) doubt.value()) == row.getDedicated();
                assertTrue(explained, row.getPoolId() + " dedicated " + row.getDedicated() + ", acknowledged " + expected + " " + where);
                dedicated.put(row.getPoolId(), row.getDedicated());
            } else {
                checked++;
            }
        }

        UsagePolicySettings actualPolicy = admin.getUsagePolicy(GetUsagePolicyRequest.newBuilder().setAccountId(ACCOUNT).build());
        if (!actualPolicy.equals(policy)) {
            assertTrue(doubt != null && doubt.kind().equals("policy") && doubt.value().equals(actualPolicy),
                    "policy " + actualPolicy + ", acknowledged " + policy + " " + where);
            policy = actualPolicy;
        } else {
            checked++;
        }

        Map<String, String> actualUsers = new HashMap<>();
        for (User u : admin.listUsers(ListUsersRequest.newBuilder().setAccountId(ACCOUNT).build()).getUsersList()) {
            actualUsers.put(u.getUserId(), u.getAssignedOrgId());
        }
        for (Map.Entry<String, String> e : actualUsers.entrySet()) {
            String acked = userOrg.get(e.getKey());
            if (!e.getValue().equals(acked)) {
                assertTrue(doubt != null && doubt.kind().equals("user") && doubt.key().equals(e.getKey()) && doubt.value().equals(e.getValue()),
                        "user " + e.getKey() + " assigned '" + e.getValue() + "', acknowledged '" + acked + "' " + where);
                userOrg.put(e.getKey(), e.getValue());
            } else {
                checked++;
            }
        }
        assertEquals(userOrg.keySet(), actualUsers.keySet(), "every acknowledged user is there " + where);
        return checked;
    }

    /**
     * Every acknowledged live session renews; the in-doubt calls are settled as an agent would; then
     * in_use is exactly the sessions the clients hold. Returns how many sessions were renewed.
     */
    private int verifySessions(ManagedChannel channel, String apiKey, String where) {
        long believed = held.values().stream().mapToLong(List::size).sum();
        long inUse = totalInUse(usage(channel));
        assertTrue(inUse >= believed && inUse <= believed + acquiresInDoubt.size() + releasesInDoubt.size(),
                "in_use " + inUse + " vs " + believed + " acknowledged live sessions, " + acquiresInDoubt.size()
                        + " acquires and " + releasesInDoubt.size() + " releases in doubt " + where);
        int renewed = 0;
        for (List<String> sessions : held.values()) {
            for (String s : sessions) {
                try {
                    agent(channel, apiKey).renewSession(RenewSessionRequest.newBuilder().setSessionId(s).build());
                    renewed++;
                } catch (StatusRuntimeException e) {
                    fail("acknowledged live session " + s + " does not renew " + where + ": " + e.getStatus() + " " + reason(e));
                }
            }
        }
        // A release cut by the kill is simply repeated; both answers are fine, the session ends either way.
        for (String s : releasesInDoubt) {
            agent(channel, apiKey).releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(s).build());
        }
        // An acquire cut by the kill is retried with the same request_id: the same session if it was
        // granted, a new one if not, never both.
        for (Map.Entry<String, String> e : acquiresInDoubt.entrySet()) {
            try {
                String session = agent(channel, apiKey).acquireSession(AcquireSessionRequest.newBuilder()
                        .setMachineId(e.getValue()).setRequestId(e.getKey()).build()).getSessionId();
                held.get(Integer.parseInt(e.getValue().substring(2))).add(session);
            } catch (StatusRuntimeException ex) {
                assertEquals(Status.Code.RESOURCE_EXHAUSTED, ex.getStatus().getCode(), "retried acquire " + where + ": " + ex.getStatus());
            }
        }
        acquiresInDoubt.clear();
        releasesInDoubt.clear();
        long live = held.values().stream().mapToLong(List::size).sum();
        assertEquals(live, totalInUse(usage(channel)), "in_use equals the sessions the agents hold once the cut calls are settled " + where);
        return renewed;
    }

    /**
     * Right after the restart, every pool filled up: the broker grants exactly the licenses left
     * and not one more, then the fill goes back.
     */
    private void verifyNoOversubscription(ManagedChannel channel, String apiKey, String where) {
        // UNRESTRICTED with fallback lets a user without an organization reach every pool; the change is booked like any other.
        UsagePolicySettings restored = admin(channel).restoreDefaultUsagePolicy(RestoreDefaultUsagePolicyRequest.newBuilder().setAccountId(ACCOUNT).build());
        policy = restored;
        long live = held.values().stream().mapToLong(List::size).sum();
        List<String> fill = new ArrayList<>();
        String refusal = null;
        for (long n = 0; n <= LICENSES; n++) {
            try {
                fill.add(agent(channel, apiKey).acquireSession(AcquireSessionRequest.newBuilder().setMachineId("fill").build()).getSessionId());
            } catch (StatusRuntimeException e) {
                assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), "fill " + where + ": " + e.getStatus());
                refusal = reason(e);
                break;
            }
        }
        assertEquals("NO_LICENSE_AVAILABLE", refusal, "the fill ended on a full broker " + where);
        assertEquals(LICENSES - live, fill.size(), "licenses granted to fill every pool, with " + live + " held " + where);
        LicenseUsage full = usage(channel);
        assertEquals(List.of(), violations(full), "invariant on a full broker " + where);
        for (PoolRow row : full.getRowsList()) {
            assertEquals(0, row.getAvailable(), "every pool is full " + where + ": " + row);
        }
        for (String s : fill) {
            assertTrue(agent(channel, apiKey).releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(s).build()).getReleased());
        }
        assertEquals(live, totalInUse(usage(channel)), "the fill went back " + where);
    }

    /** The contract's invariant on one GetLicenseUsage answer (the proto twin of UsageInvariants). */
    static List<String> violations(LicenseUsage usage) {
        List<String> out = new ArrayList<>();
        Map<String, Long> allocated = new HashMap<>();
        for (PoolRow r : usage.getRowsList()) {
            if (!r.getParentId().isEmpty()) {
                allocated.merge(r.getParentId(), r.getDedicated(), Long::sum);
            }
        }
        for (PoolRow r : usage.getRowsList()) {
            long alloc = allocated.getOrDefault(r.getPoolId(), 0L);
            if (alloc > r.getDedicated()) {
                out.add(r.getPoolId() + ": allocated " + alloc + " > dedicated " + r.getDedicated());
            }
            if (r.getPool() != r.getDedicated() - alloc) {
                out.add(r.getPoolId() + ": pool " + r.getPool() + " != dedicated " + r.getDedicated() + " - allocated " + alloc);
            }
            if (r.getInUse() < 0 || r.getInUse() > r.getPool()) {
                out.add(r.getPoolId() + ": in_use " + r.getInUse() + " outside 0.." + r.getPool());
            }
            if (r.getAvailable() != r.getPool() - r.getInUse()) {
                out.add(r.getPoolId() + ": available " + r.getAvailable() + " != pool - in_use");
            }
        }
        return out;
    }

    private static long totalInUse(LicenseUsage usage) {
        return usage.getRowsList().stream().mapToLong(PoolRow::getInUse).sum();
    }

    /** A call the kill cut: it may or may not have been applied. */
    private static boolean cut(StatusRuntimeException e) {
        Status.Code c = e.getStatus().getCode();
        return c == Status.Code.UNAVAILABLE || c == Status.Code.CANCELLED || c == Status.Code.DEADLINE_EXCEEDED;
    }

    private void unexpected(String what, StatusRuntimeException e) {
        synchronized (unexpected) {
            unexpected.add(what + (e == null ? "" : ": " + e.getStatus() + " " + reason(e)));
        }
    }

    private static LicenseUsage usage(ManagedChannel channel) {
        return admin(channel).getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId(ACCOUNT).build());
    }

    private static LicenseAdminBlockingStub admin(ManagedChannel channel) {
        return withToken(LicenseAdminGrpc.newBlockingStub(channel), ADMIN);
    }

    private static LicenseBrokerBlockingStub agent(ManagedChannel channel, String apiKey) {
        return withToken(LicenseBrokerGrpc.newBlockingStub(channel), apiKey);
    }
}
