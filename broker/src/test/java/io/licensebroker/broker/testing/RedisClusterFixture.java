package io.licensebroker.broker.testing;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A Redis Cluster of a few masters (no replicas) that a test builds itself: cluster-enabled
 * redis-server processes, CLUSTER MEET, the 16384 slots split evenly with CLUSTER ADDSLOTS, then a
 * wait until every node reports {@code cluster_state:ok} and knows every other.
 */
public final class RedisClusterFixture implements AutoCloseable {
    private static final int SLOTS = 16_384;
    private final List<RedisServer> masters = new ArrayList<>();
    private final List<RedisClient> clients = new ArrayList<>();
    private final List<StatefulRedisConnection<String, String>> admin = new ArrayList<>();
    /** First slot of each master, in master order; master i serves [first(i), first(i+1)). */
    private final int[] firstSlot;

    private RedisClusterFixture(int size) {
        this.firstSlot = new int[size + 1];
        for (int i = 0; i <= size; i++) {
            firstSlot[i] = i * SLOTS / size;
        }
    }

    public static RedisClusterFixture start(Path dir, int size) {
        RedisClusterFixture cluster = new RedisClusterFixture(size);
        try {
            for (int i = 0; i < size; i++) {
                RedisServer server = RedisServer.startClusterNode(dir.resolve("master-" + i));
                cluster.masters.add(server);
                RedisClient client = RedisClient.create(RedisURI.create(server.uri()));
                cluster.clients.add(client);
                cluster.admin.add(client.connect());
            }
            for (int i = 1; i < size; i++) {
                cluster.admin.get(0).sync().clusterMeet("127.0.0.1", cluster.masters.get(i).port());
            }
            for (int i = 0; i < size; i++) {
                int[] slots = IntStream.range(cluster.firstSlot[i], cluster.firstSlot[i + 1]).toArray();
                cluster.admin.get(i).sync().clusterAddSlots(slots);
            }
            Await.until(Duration.ofSeconds(30), cluster::isReady, () -> "cluster of " + size + " masters ready: " + cluster.states());
            return cluster;
        } catch (RuntimeException | AssertionError e) {
            cluster.close();
            throw e;
        }
    }

    /** The seeds, as a comma list for --redis-uri. */
    public String seeds() {
        return masters.stream().map(RedisServer::uri).collect(Collectors.joining(","));
    }

    public List<RedisServer> masters() {
        return List.copyOf(masters);
    }

    /** Which master (index) serves {@code key}'s slot. */
    public int masterOf(String key) {
        long slot = admin.get(0).sync().clusterKeyslot(key);
        for (int i = 0; i < masters.size(); i++) {
            if (slot >= firstSlot[i] && slot < firstSlot[i + 1]) {
                return i;
            }
        }
        throw new IllegalStateException("slot " + slot + " is served by no master");
    }

    public void flushAll() {
        admin.forEach(c -> c.sync().flushall());
    }

    private boolean isReady() {
        for (StatefulRedisConnection<String, String> c : admin) {
            String info = c.sync().clusterInfo();
            if (!info.contains("cluster_state:ok") || !info.contains("cluster_known_nodes:" + masters.size())) {
                return false;
            }
        }
        return true;
    }

    private String states() {
        return admin.stream().map(c -> c.sync().clusterInfo().lines().filter(l -> l.startsWith("cluster_state")
                || l.startsWith("cluster_known_nodes")).collect(Collectors.joining(" "))).collect(Collectors.joining("; "));
    }

    @Override
    public void close() {
        admin.forEach(StatefulRedisConnection::close);
        clients.forEach(c -> c.shutdown(Duration.ZERO, Duration.ofSeconds(2)));
        masters.forEach(RedisServer::close);
    }
}
