package io.licensebroker.broker.store.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.licensebroker.testkit.Await;
import io.licensebroker.testkit.RedisServer;
import io.licensebroker.client.LicenseBrokerClient;
import io.licensebroker.client.LicenseSession;
import io.licensebroker.proto.v1.PoolRow;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A runtime holding licenses through the SDK while one of its two broker nodes (sharing one Redis)
 * dies: the SDK fails over to the other node and no session ends.
 */
class SdkFailoverOnRedisTest {
    private static final Duration LEASE = Duration.ofSeconds(2);

    private RedisServer redis;
    private RedisNodes nodes;
    private LicenseBrokerClient client;

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (nodes != null) {
            nodes.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void killingOneOfTwoNodesEndsNoSdkSession() {
        redis = RedisServer.start(RedisStoreContractTest.tempDir("redis-sdk-failover"));
        nodes = RedisNodes.start(redis.uri(), 2, LEASE);
        RedisNodes.FiftyLicenses account = nodes.fiftyLicenseAccount(0, "sdk-failover");
        Map<String, String> lost = new ConcurrentHashMap<>();
        client = LicenseBrokerClient.builder()
                .targets(List.of("127.0.0.1:" + nodes.node(0).port(), "127.0.0.1:" + nodes.node(1).port()))
                .apiKey(account.apiKeys().get("free"))
                .leaseListener((session, reason) -> lost.put(session.sessionId(), reason))
                .build();
        List<LicenseSession> sessions = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            sessions.add(client.acquire("runtime-" + i));
        }
        assertEquals(10, inUse(1, account.account()));

        nodes.stop(0);
        long[] renewsAtKill = sessions.stream().mapToLong(LicenseSession::renewCount).toArray();
        // Several lease lengths later every session has renewed again through the surviving node.
        Await.until(LEASE.multipliedBy(8), () -> {
            for (int i = 0; i < sessions.size(); i++) {
                if (sessions.get(i).renewCount() < renewsAtKill[i] + 4) {
                    return false;
                }
            }
            return true;
        }, () -> "renew counts " + sessions.stream().map(LicenseSession::renewCount).toList());

        assertEquals(Map.of(), lost, "no session was lost");
        assertTrue(sessions.stream().allMatch(LicenseSession::isActive));
        assertEquals(10, inUse(1, account.account()), "still exactly the ten licenses");
        sessions.forEach(LicenseSession::close);
        assertEquals(0, inUse(1, account.account()));
    }

    private long inUse(int node, String account) {
        return nodes.usage(node, account).getRowsList().stream().mapToLong(PoolRow::getInUse).sum();
    }
}
