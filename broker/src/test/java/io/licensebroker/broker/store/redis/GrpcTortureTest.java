package io.licensebroker.broker.store.redis;

import static io.licensebroker.broker.store.redis.RedisNodes.reason;
import static io.licensebroker.broker.store.redis.RedisNodes.withToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.licensebroker.broker.app.LocalNode;
import io.licensebroker.broker.app.Setting;
import io.licensebroker.testkit.RedisServer;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.CreateOrganizationRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.PoolRow;
import io.licensebroker.proto.v1.ReleaseSessionRequest;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.SetDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.SetUsagePolicyRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import io.licensebroker.proto.v1.UsagePolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Concurrency torture over real gRPC, on both stores: agents acquire, renew and release while
 * admins change dedicated licenses at random (revokes of whole subtrees included) and switch the
 * usage policy, and an observer reads GetLicenseUsage in a loop. No snapshot may ever show an
 * impossible state, no call may fail other than by a rule's refusal, every held session stays
 * renewable through revokes, and once everything is released usage is back to zero.
 *
 * <p>{@code -Dtorture.ops=N} sets the operations per agent (default 300), {@code -Dtorture.seed=S} replays a run.
 */
class GrpcTortureTest {
    private static final String ADMIN = RedisNodes.ADMIN;
    private static final String ACCOUNT = "AC-torture";
    private static final long LICENSES = 30;
    private static final int AGENTS = 6;
    private static final int ADMINS = 2;
    private static final int HELD_PER_AGENT = 4;

    @TempDir
    Path dataDir;

    @Test
    void tortureOnTheEmbeddedStore() throws Exception {
        try (LocalNode node = LocalNode.start(Map.of(Setting.ADMIN_TOKEN, ADMIN, Setting.STORE, "memory",
                Setting.DATA_DIR, dataDir.toString(), Setting.LEASE_TTL, "10m", Setting.SHUTDOWN_GRACE, "1s"))) {
            torture("memory", List.of(node.channel()));
        }
    }

    @Test
    void tortureOnRedisThroughTwoNodes() throws Exception {
        try (RedisServer redis = RedisServer.start(dataDir);
             RedisNodes nodes = RedisNodes.start(redis.uri(), 2, Duration.ofMinutes(10))) {
            torture("redis", List.of(nodes.channel(0), nodes.channel(1)));
        }
    }

    private void torture(String store, List<ManagedChannel> channels) throws Exception {
        int opsPerAgent = Integer.getInteger("torture.ops", 300);
        long seed = Long.getLong("torture.seed", System.nanoTime());
        String where = "(" + store + ", seed " + seed + ")";
        LicenseAdminGrpc.LicenseAdminBlockingStub setup = admin(channels.get(0));
        setup.createAccount(CreateAccountRequest.newBuilder().setAccountId(ACCOUNT).setName("Torture").build());
        setup.setSubscription(SetSubscriptionRequest.newBuilder().setAccountId(ACCOUNT).setLicenses(LICENSES).setMachineQuota(1_000)
                .setExpiresAt(Timestamp.newBuilder().setSeconds(Instant.now().plusSeconds(86_400).getEpochSecond())).build());
        // Two levels, so that revoking a parent also revokes its child and moves the child's sessions up two levels.
        String a = org(setup, "", "A");
        String a1 = org(setup, a, "A1");
        String b = org(setup, "", "B");
        List<String> orgs = List.of(a, a1, b);
        setup.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(a).setLicenses(10).build());
        setup.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(a1).setLicenses(4).build());
        setup.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(b).setLicenses(6).build());
        List<String> keys = new ArrayList<>();
        String[][] users = {{"free", ""}, {"in-a", a}, {"in-a1", a1}, {"in-b", b}};
        for (String[] u : users) {
            setup.upsertUser(UpsertUserRequest.newBuilder().setAccountId(ACCOUNT).setUserId(u[0]).setAssignedOrgId(u[1]).build());
            keys.add(setup.createApiKey(CreateApiKeyRequest.newBuilder().setAccountId(ACCOUNT).setUserId(u[0]).build()).getApiKey());
        }

        List<String> problems = new ArrayList<>();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger snapshots = new AtomicInteger();
        AtomicInteger granted = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger adminChanges = new AtomicInteger();
        AtomicInteger adminRefusals = new AtomicInteger();
        AtomicInteger revokes = new AtomicInteger();
        CountDownLatch agentsDone = new CountDownLatch(AGENTS);
        ExecutorService threads = Executors.newFixedThreadPool(AGENTS + ADMINS + 1);
        List<Future<?>> futures = new ArrayList<>();
        try {
            for (int n = 0; n < AGENTS; n++) {
                int agent = n;
                Random random = new Random(seed + n);
                ManagedChannel channel = channels.get(n % channels.size());
                String key = keys.get(n % keys.size());
                futures.add(threads.submit(() -> {
                    try {
                        List<String> held = new ArrayList<>();
                        for (int op = 0; op < opsPerAgent; op++) {
                            int what = random.nextInt(10);
                            if (held.size() < HELD_PER_AGENT && (held.isEmpty() || what < 5)) {
                                try {
                                    held.add(agent(channel, key).acquireSession(AcquireSessionRequest.newBuilder()
                                            .setMachineId("m-" + agent).build()).getSessionId());
                                    granted.incrementAndGet();
                                } catch (StatusRuntimeException e) {
                                    if (e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED) {
                                        problem(problems, "acquire: " + e.getStatus() + " " + reason(e));
                                    }
                                    refused.incrementAndGet();
                                }
                            } else if (what < 7) {
                                // Revokes move sessions between pools; a held session must stay renewable whatever happened.
                                agent(channel, key).renewSession(RenewSessionRequest.newBuilder()
                                        .setSessionId(held.get(random.nextInt(held.size()))).build());
                            } else {
                                String s = held.remove(random.nextInt(held.size()));
                                if (!agent(channel, key).releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(s).build()).getReleased()) {
                                    problem(problems, "release of a held session answered released=false: " + s);
                                }
                            }
                        }
                        for (String s : held) {
                            agent(channel, key).releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(s).build());
                        }
                    } catch (StatusRuntimeException e) {
                        problem(problems, "agent: " + e.getStatus() + " " + reason(e));
                    } finally {
                        agentsDone.countDown();
                    }
                }));
            }
            for (int n = 0; n < ADMINS; n++) {
                Random random = new Random(seed - 1 - n);
                futures.add(threads.submit(() -> {
                    while (running.get()) {
                        LicenseAdminGrpc.LicenseAdminBlockingStub admin = admin(channels.get(random.nextInt(channels.size())));
                        try {
                            if (random.nextInt(4) == 0) {
                                UsagePolicy p = UsagePolicy.forNumber(1 + random.nextInt(3));
                                admin.setUsagePolicy(SetUsagePolicyRequest.newBuilder().setAccountId(ACCOUNT).setPolicy(p)
                                        .setAllowFallback(random.nextBoolean()).build());
                            } else {
                                long licenses = random.nextInt(4) == 0 ? 0 : random.nextInt(12);
                                if (licenses == 0) {
                                    revokes.incrementAndGet();
                                }
                                LicenseUsage after = admin.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder()
                                        .setOrgId(orgs.get(random.nextInt(orgs.size()))).setLicenses(licenses).build());
                                List<String> bad = violations(after);
                                if (!bad.isEmpty()) {
                                    problem(problems, "SetDedicatedLicenses answered an impossible state " + bad + ": " + after);
                                }
                            }
                            adminChanges.incrementAndGet();
                        } catch (StatusRuntimeException e) {
                            if (e.getStatus().getCode() != Status.Code.FAILED_PRECONDITION) {
                                problem(problems, "admin: " + e.getStatus() + " " + reason(e));
                            }
                            adminRefusals.incrementAndGet();
                        }
                    }
                }));
            }
            futures.add(threads.submit(() -> {
                int n = 0;
                while (running.get()) {
                    LicenseUsage usage = usage(channels.get(n++ % channels.size()));
                    List<String> bad = violations(usage);
                    if (!bad.isEmpty()) {
                        problem(problems, "impossible snapshot " + bad + ": " + usage);
                    }
                    snapshots.incrementAndGet();
                }
            }));
            assertTrue(agentsDone.await(120, TimeUnit.SECONDS), "the agents finished " + where);
            running.set(false);
            for (Future<?> f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            running.set(false);
            threads.shutdownNow();
        }
        System.out.printf("GrpcTortureTest %s: %d acquires granted, %d refused; %d admin changes (%d revokes attempted), %d refused;"
                        + " %d usage snapshots checked, %d impossible%n",
                where, granted.get(), refused.get(), adminChanges.get(), revokes.get(), adminRefusals.get(), snapshots.get(), problems.size());
        synchronized (problems) {
            assertEquals(List.of(), problems.subList(0, Math.min(problems.size(), 20)), where);
        }
        for (ManagedChannel channel : channels) {
            LicenseUsage usage = usage(channel);
            assertEquals(List.of(), violations(usage), where);
            assertEquals(0, usage.getRowsList().stream().mapToLong(PoolRow::getInUse).sum(), "usage back to zero " + where + ": " + usage);
        }
        assertTrue(granted.get() > 0 && adminChanges.get() > 0 && snapshots.get() > 0, "the torture did something " + where);
    }

    /**
     * The contract's invariant on one snapshot: on every row 0 <= in_use <= pool, allocated (the
     * sum of the children's dedicated) <= dedicated, pool == dedicated - allocated, available ==
     * pool - in_use; parents listed before children.
     */
    static List<String> violations(LicenseUsage usage) {
        List<String> out = new ArrayList<>();
        Map<String, Long> allocated = new HashMap<>();
        List<String> seen = new ArrayList<>();
        for (PoolRow r : usage.getRowsList()) {
            if (!r.getParentId().isEmpty()) {
                if (!seen.contains(r.getParentId())) {
                    out.add(r.getPoolId() + ": parent " + r.getParentId() + " not listed before it");
                }
                allocated.merge(r.getParentId(), r.getDedicated(), Long::sum);
            }
            seen.add(r.getPoolId());
        }
        for (PoolRow r : usage.getRowsList()) {
            long alloc = allocated.getOrDefault(r.getPoolId(), 0L);
            if (alloc > r.getDedicated()) {
                out.add(r.getPoolId() + ": allocated " + alloc + " > dedicated " + r.getDedicated());
            }
            if (r.getPool() != r.getDedicated() - alloc) {
                out.add(r.getPoolId() + ": pool " + r.getPool() + " != dedicated " + r.getDedicated() + " - children's dedicated " + alloc);
            }
            if (r.getInUse() < 0 || r.getInUse() > r.getPool()) {
                out.add(r.getPoolId() + ": in_use " + r.getInUse() + " outside 0.." + r.getPool());
            }
            if (r.getAvailable() != r.getPool() - r.getInUse()) {
                out.add(r.getPoolId() + ": available " + r.getAvailable() + " != pool " + r.getPool() + " - in_use " + r.getInUse());
            }
        }
        if (!usage.getRowsList().isEmpty() && usage.getRows(0).getDedicated() != usage.getLicenses() - usage.getOfflineLicenses()) {
            out.add("account dedicated " + usage.getRows(0).getDedicated() + " != licenses - offline");
        }
        return out;
    }

    private static void problem(List<String> problems, String what) {
        synchronized (problems) {
            problems.add(what);
        }
    }

    private static String org(LicenseAdminGrpc.LicenseAdminBlockingStub admin, String parent, String name) {
        return admin.createOrganization(CreateOrganizationRequest.newBuilder().setAccountId(ACCOUNT).setParentId(parent).setName(name).build()).getOrgId();
    }

    private static LicenseUsage usage(ManagedChannel channel) {
        return admin(channel).getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId(ACCOUNT).build());
    }

    private static LicenseAdminGrpc.LicenseAdminBlockingStub admin(ManagedChannel channel) {
        return withToken(LicenseAdminGrpc.newBlockingStub(channel), ADMIN);
    }

    private static LicenseBrokerGrpc.LicenseBrokerBlockingStub agent(ManagedChannel channel, String apiKey) {
        return withToken(LicenseBrokerGrpc.newBlockingStub(channel), apiKey);
    }
}
