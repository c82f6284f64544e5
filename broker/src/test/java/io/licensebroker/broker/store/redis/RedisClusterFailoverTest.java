package io.licensebroker.broker.store.redis;

import static io.licensebroker.broker.store.redis.RedisNodes.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.licensebroker.testkit.Await;
import io.licensebroker.testkit.RedisClusterFixture;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.PoolRow;
import io.licensebroker.proto.v1.RenewSessionRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A Redis Cluster of 3 masters and 3 replicas (cluster-node-timeout 2000 ms) loses the master that
 * holds an account's slot; its replica is promoted. The test waits until the replica has every
 * write of its master before the kill (equal replication offsets), so nothing may be lost: the two
 * broker nodes, not restarted, serve the account again, every session granted before the kill
 * renews, the invariant holds and the account grants exactly its quota. The nodes must notice
 * the new master within seconds (adaptive topology refresh), not at the next periodic refresh.
 *
 * <p>What this does not cover: the broker does not issue {@code WAIT}, so writes the replica had
 * not received when its master died are lost on failover (see docs/operations.md).
 */
class RedisClusterFailoverTest {
    private static final int SESSIONS_BEFORE = 20;
    private static final long LICENSES = 50;
    /** Well below the 30 s periodic topology refresh: the nodes must follow the failover by themselves. */
    private static final Duration RESUME_BOUND = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private RedisClusterFixture cluster;
    private RedisNodes nodes;

    @AfterEach
    void stop() {
        if (nodes != null) {
            nodes.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void masterLostAndReplicaPromotedTheNodesKeepServingTheAccountWithItsExactQuota() {
        cluster = RedisClusterFixture.start(dir, 3, true);
        nodes = RedisNodes.start(cluster.seeds(), 2, Duration.ofMinutes(10));
        String accountId = null;
        for (int n = 0; accountId == null; n++) {
            if (cluster.masterOf("lb:{AC-failover-" + n + "}:a") == 1) {
                accountId = "AC-failover-" + n;
            }
        }
        RedisNodes.FiftyLicenses account = nodes.fiftyLicenseAccount(0, accountId);
        List<String[]> held = new ArrayList<>(); // {api key, session id}
        for (int i = 0; i < SESSIONS_BEFORE; i++) {
            String key = account.apiKeys().get(account.users().get(i % account.users().size()));
            held.add(new String[]{key, nodes.agent(i % 2, key).acquireSession(AcquireSessionRequest.newBuilder()
                    .setMachineId("m-" + i).setRequestId("before-" + i).build()).getSessionId()});
        }
        cluster.awaitReplicated(1);

        long killedAt = System.nanoTime();
        cluster.killMasterAndAwaitFailover(1);
        long promotedAt = System.nanoTime();
        // The same broker nodes, not restarted, find the new master by themselves.
        AtomicInteger attempt = new AtomicInteger();
        String free = account.apiKeys().get("free");
        for (int node = 0; node < 2; node++) {
            int via = node;
            // Recorded here, on the test thread, once: the condition runs on Await's scheduler thread.
            AtomicReference<String> granted = new AtomicReference<>();
            Await.until(Duration.ofSeconds(60), () -> {
                try {
                    granted.set(nodes.agent(via, free).acquireSession(AcquireSessionRequest.newBuilder().setMachineId("after")
                            .setRequestId("after-" + via).build()).getSessionId());
                    return true;
                } catch (StatusRuntimeException e) {
                    attempt.incrementAndGet();
                    return false;
                }
            }, () -> "node " + via + " serves the account after the failover");
            held.add(new String[]{free, granted.get()});
        }
        // in_use is compared with distinct sessions: a session counted twice here reads as a lost counter there.
        assertEquals(held.size(), held.stream().map(h -> h[1]).distinct().count(), "distinct sessions held");
        long servingAt = System.nanoTime();
        // Regression: with Lettuce's default adaptive-refresh rate limit (one per 30 s) the nodes only
        // found the promoted replica at the next periodic topology refresh, about 25 s later.
        Duration resumed = Duration.ofNanos(servingAt - promotedAt);
        assertTrue(resumed.compareTo(RESUME_BOUND) < 0, "the nodes served again " + resumed + " after the promotion");

        for (String[] h : held) {
            for (int node = 0; node < 2; node++) {
                try {
                    nodes.agent(node, h[0]).renewSession(RenewSessionRequest.newBuilder().setSessionId(h[1]).build());
                } catch (StatusRuntimeException e) {
                    fail("session " + h[1] + " granted before the failover does not renew through node " + node + ": "
                            + e.getStatus() + " " + reason(e));
                }
            }
        }
        for (int node = 0; node < 2; node++) {
            LicenseUsage usage = nodes.usage(node, accountId);
            assertEquals(List.of(), GrpcTortureTest.violations(usage), usage.toString());
            assertEquals(held.size(), usage.getRowsList().stream().mapToLong(PoolRow::getInUse).sum(), "in_use after the failover: " + usage);
        }
        // Exact quota on the promoted replica: "free" reaches every pool under the default policy.
        int filled = 0;
        while (true) {
            try {
                nodes.agent(filled % 2, free).acquireSession(AcquireSessionRequest.newBuilder().setMachineId("fill").build());
                filled++;
            } catch (StatusRuntimeException e) {
                assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getStatus().toString());
                assertEquals("NO_LICENSE_AVAILABLE", reason(e));
                break;
            }
            if (filled > LICENSES) {
                fail("granted more than the quota after the failover");
            }
        }
        assertEquals(LICENSES - held.size(), filled, "licenses left after the failover");
        System.out.printf("RedisClusterFailoverTest: master of %s killed; replica promoted after %d ms; both nodes served again %d ms later"
                        + " (%d failed attempts meanwhile); %d sessions renewed through both nodes; quota exact (%d + %d = %d); lost: nothing%n",
                accountId, (promotedAt - killedAt) / 1_000_000, (servingAt - promotedAt) / 1_000_000, attempt.get(), held.size(),
                held.size(), filled, LICENSES);
    }
}
