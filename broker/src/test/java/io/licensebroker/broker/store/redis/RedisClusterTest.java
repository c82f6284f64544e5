package io.licensebroker.broker.store.redis;

import io.licensebroker.proto.v1.AcquireSessionResponse;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.PoolRow;
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
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two broker nodes on a 3-master Redis Cluster the test builds: one given the comma list of seeds,
 * one given a single master (a server reporting cluster mode). Accounts on every master grant
 * exactly their quota under concurrent acquires spread over both nodes, and usage is the same
 * whichever node is asked.
 */
class RedisClusterTest {
    @RegisterExtension
    static final SharedCluster CLUSTER = new SharedCluster("redis-cluster");
    private RedisNodes nodes;


    @AfterEach
    void stopNodes() {
        if (nodes != null) {
            nodes.close();
        }
    }

    @Test
    void accountsOnEveryMasterGrantExactlyTheirQuotaThroughEitherNode() throws Exception {
        CLUSTER.fixture().flushAll();
        nodes = RedisNodes.start(CLUSTER.fixture().seeds(), 1, Duration.ofSeconds(60));
        nodes.add(CLUSTER.fixture().masters().get(2).uri());
        for (int i = 0; i < nodes.size(); i++) {
            assertTrue(nodes.node(i).redisStore().orElseThrow().isCluster(), "node " + i + " runs in cluster mode");
        }
        // Two accounts per master, found by where their hash tag lands.
        List<String> accounts = new ArrayList<>();
        int[] perMaster = new int[3];
        for (int n = 0; accounts.size() < 6; n++) {
            String id = "AC-cluster-" + n;
            int master = CLUSTER.fixture().masterOf("lb:{" + id + "}:a");
            if (perMaster[master] < 2) {
                perMaster[master]++;
                accounts.add(id);
            }
        }
        Map<String, RedisNodes.FiftyLicenses> setUp = new HashMap<>();
        for (int i = 0; i < accounts.size(); i++) {
            setUp.put(accounts.get(i), nodes.fiftyLicenseAccount(i % 2, accounts.get(i)));
        }
        List<RedisNodes.Call> calls = new ArrayList<>();
        List<String> callAccount = new ArrayList<>();
        for (int i = 0; i < 60 * accounts.size(); i++) {
            RedisNodes.FiftyLicenses account = setUp.get(accounts.get(i % accounts.size()));
            String user = account.users().get((i / accounts.size()) % 3);
            calls.add(new RedisNodes.Call(i % 2, account.apiKeys().get(user), "m-" + i));
            callAccount.add(account.account());
        }
        List<RedisNodes.Outcome> outcomes = nodes.acquireAll(calls);
        Map<String, Integer> granted = new HashMap<>();
        Map<String, Integer> refusals = new HashMap<>();
        Set<String> sessionIds = new HashSet<>();
        for (int i = 0; i < outcomes.size(); i++) {
            AcquireSessionResponse g = outcomes.get(i).granted();
            if (g != null) {
                granted.merge(callAccount.get(i), 1, Integer::sum);
                sessionIds.add(g.getSessionId());
            } else {
                refusals.merge(Objects.requireNonNull(outcomes.get(i).refusal()), 1, Integer::sum);
            }
        }
        for (String account : accounts) {
            assertEquals(50, granted.getOrDefault(account, 0), account + " (refusals " + refusals + ")");
            LicenseUsage fromFirst = nodes.usage(0, account);
            assertEquals(fromFirst, nodes.usage(1, account), "usage of " + account + " from either node");
            assertEquals(50, fromFirst.getRowsList().stream().mapToLong(PoolRow::getInUse).sum());
        }
        assertEquals(Map.of("RESOURCE_EXHAUSTED/NO_LICENSE_AVAILABLE", 60), refusals);
        assertEquals(300, sessionIds.size());
    }
}
