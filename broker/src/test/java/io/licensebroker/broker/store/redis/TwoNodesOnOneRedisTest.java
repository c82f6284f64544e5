package io.licensebroker.broker.store.redis;

import io.grpc.StatusRuntimeException;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import com.google.protobuf.Timestamp;
import io.licensebroker.proto.v1.AcquireSessionResponse;
import io.licensebroker.proto.v1.GetUsageHistoryRequest;
import io.licensebroker.proto.v1.GetUsageHistoryResponse;
import io.licensebroker.proto.v1.UsagePoint;
import io.licensebroker.proto.v1.UsageSeries;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.PoolRow;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.SetUsagePolicyRequest;
import io.licensebroker.proto.v1.UsagePolicy;
import io.licensebroker.testkit.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two broker nodes (real gRPC servers) on one Redis: exact quotas under concurrent acquires spread
 * over both, the same usage and usage history from either, configuration changes on one node obeyed at once by the
 * other, and a stopped node's sessions reclaimed by the survivor.
 */
class TwoNodesOnOneRedisTest {
    @RegisterExtension
    static final SharedRedis REDIS = new SharedRedis("redis-two-nodes");
    private RedisNodes nodes;

    @AfterEach
    void stopNodes() {
        if (nodes != null) {
            nodes.close();
        }
    }

    @Test
    void concurrentAcquiresSpreadOverTwoNodesGrantExactlyTheQuota() throws Exception {
        nodes = RedisNodes.start(REDIS.uri(), 2, Duration.ofSeconds(60));
        for (int round = 0; round < 3; round++) {
            RedisNodes.FiftyLicenses account = nodes.fiftyLicenseAccount(round % 2, "AC-two-" + round);
            List<RedisNodes.Call> calls = new ArrayList<>();
            for (int i = 0; i < 240; i++) {
                String user = account.users().get(i % 3);
                calls.add(new RedisNodes.Call(i % 2, account.apiKeys().get(user), "m-" + i));
            }
            List<RedisNodes.Outcome> outcomes = nodes.acquireAll(calls);
            List<AcquireSessionResponse> granted = outcomes.stream().map(RedisNodes.Outcome::granted).filter(Objects::nonNull).toList();
            Map<String, Integer> refusals = new HashMap<>();
            outcomes.stream().map(RedisNodes.Outcome::refusal).filter(Objects::nonNull).forEach(r -> refusals.merge(r, 1, Integer::sum));
            assertEquals(50, granted.size(), "round " + round + ": granted (refusals " + refusals + ")");
            assertEquals(Map.of("RESOURCE_EXHAUSTED/NO_LICENSE_AVAILABLE", 190), refusals, "round " + round);
            assertEquals(50, new HashSet<>(granted.stream().map(AcquireSessionResponse::getSessionId).toList()).size());
            LicenseUsage fromFirst = nodes.usage(0, account.account());
            LicenseUsage fromSecond = nodes.usage(1, account.account());
            assertEquals(fromFirst, fromSecond, "usage is the same whichever node is asked");
            for (PoolRow row : fromFirst.getRowsList()) {
                assertEquals(0, row.getAvailable(), "every pool is used up: " + row);
            }
            assertEquals(50, fromFirst.getRowsList().stream().mapToLong(PoolRow::getInUse).sum());
            // The usage history (section 7) is the same from either node, with the peaks of the
            // combined load: every pool full, every grant and refusal of both nodes counted once.
            GetUsageHistoryResponse history = history(0, account.account());
            assertEquals(history, history(1, account.account()), "round " + round + ": history is the same whichever node is asked");
            for (PoolRow row : fromFirst.getRowsList()) {
                UsageSeries series = history.getSeriesList().stream().filter(s -> s.getPoolId().equals(row.getPoolId())).findFirst().orElseThrow();
                assertEquals(row.getPool(), series.getPointsList().stream().mapToLong(UsagePoint::getPeakInUse).max().orElse(0), row.getPoolId());
            }
            List<UsagePoint> points = history.getSeriesList().stream().flatMap(s -> s.getPointsList().stream()).toList();
            assertEquals(50, points.stream().mapToLong(UsagePoint::getGranted).sum());
            assertEquals(190, points.stream().mapToLong(UsagePoint::getDenied).sum());
        }
    }

    /** Today's and tomorrow's history by day: the whole load, whichever minute or hour it fell in. */
    private GetUsageHistoryResponse history(int node, String account) {
        long today = java.time.Instant.now().getEpochSecond() / 86_400 * 86_400;
        return nodes.admin(node).getUsageHistory(GetUsageHistoryRequest.newBuilder().setAccountId(account).setProduct("KRE")
                .setStartTime(Timestamp.newBuilder().setSeconds(today)).setEndTime(Timestamp.newBuilder().setSeconds(today + 2 * 86_400))
                .setStep(com.google.protobuf.Duration.newBuilder().setSeconds(86_400)).build());
    }

    @Test
    void aChangeOnOneNodeIsObeyedByTheNextAcquireOnTheOther() {
        nodes = RedisNodes.start(REDIS.uri(), 2, Duration.ofSeconds(60));
        RedisNodes.FiftyLicenses account = nodes.fiftyLicenseAccount(0, "AC-change");
        String key = account.apiKeys().get("in-b");
        // Node 1 acquires first, so it holds a plan for in-b computed from the old configuration.
        AcquireSessionResponse first = acquire(1, key, "m-1");
        assertEquals(account.orgB(), first.getPoolId());

        // Node 0: STRICT without fallback, and org B shrinks to the one license in use.
        nodes.admin(0).setUsagePolicy(SetUsagePolicyRequest.newBuilder().setAccountId(account.account())
                .setPolicy(UsagePolicy.USAGE_POLICY_STRICT).setAllowFallback(false).build());
        nodes.dedicated(0, account.orgB(), 1);
        StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> acquire(1, key, "m-2"));
        assertEquals("ORGANIZATION_POOL_EXHAUSTED", RedisNodes.reason(refused));

        // Node 0: project organizations allowed again; node 1 draws from A, in-b's project.
        nodes.admin(0).setUsagePolicy(SetUsagePolicyRequest.newBuilder().setAccountId(account.account())
                .setPolicy(UsagePolicy.USAGE_POLICY_MEMBER_BASED).setAllowFallback(false).build());
        AcquireSessionResponse fromProject = acquire(1, key, "m-3");
        assertEquals(account.orgA(), fromProject.getPoolId());

        // Node 0 moves the user; node 1 follows at once.
        nodes.user(0, account.account(), "in-b", account.orgA1());
        AcquireSessionResponse moved = acquire(1, key, "m-4");
        assertEquals(account.orgA1(), moved.getPoolId());

        // Node 0 revokes A: the sessions of A and A1 move to the account pool, as node 1 sees.
        nodes.dedicated(0, account.orgA(), 0);
        for (AcquireSessionResponse s : List.of(fromProject, moved)) {
            assertEquals(account.account(), nodes.agent(1, key).renewSession(RenewSessionRequest.newBuilder()
                    .setSessionId(s.getSessionId()).build()).getPoolId());
        }
        assertEquals(nodes.usage(0, account.account()), nodes.usage(1, account.account()));
    }

    @Test
    void theSurvivingNodeReclaimsTheSessionsOfAStoppedNodeAfterTheLease() {
        Duration lease = Duration.ofSeconds(3);
        nodes = RedisNodes.start(REDIS.uri(), 2, lease);
        RedisNodes.FiftyLicenses account = nodes.fiftyLicenseAccount(0, "AC-reap");
        long acquiredAt = System.nanoTime();
        List<AcquireSessionResponse> held = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            held.add(acquire(0, account.apiKeys().get("free"), "m-" + i));
        }
        // Node 0 goes away without releasing anything; only node 1 is left to reap.
        nodes.stop(0);
        assertEquals(5, inUse(1, account.account()), "the sessions outlive their node until their lease ends");
        Await.until(lease.plusSeconds(5), () -> inUse(1, account.account()) == 0, () -> "sessions reclaimed");
        Duration took = Duration.ofNanos(System.nanoTime() - acquiredAt);
        assertTrue(took.compareTo(lease) >= 0, "not before the lease ended: " + took);
        assertTrue(took.compareTo(lease.plusSeconds(2)) <= 0, "within about one lease length: " + took);
        StatusRuntimeException expired = assertThrows(StatusRuntimeException.class, () -> nodes.agent(1, account.apiKeys().get("free"))
                .renewSession(RenewSessionRequest.newBuilder().setSessionId(held.get(0).getSessionId()).build()));
        assertEquals("SESSION_EXPIRED", RedisNodes.reason(expired));
    }

    private AcquireSessionResponse acquire(int node, String key, String machine) {
        return nodes.agent(node, key).acquireSession(AcquireSessionRequest.newBuilder().setMachineId(machine).build());
    }

    private long inUse(int node, String account) {
        return nodes.usage(node, account).getRowsList().stream().mapToLong(PoolRow::getInUse).sum();
    }
}
