package io.licensebroker.testkit;

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
 * A Redis Cluster of a few masters, optionally with one replica each, that a test builds itself:
 * cluster-enabled redis-server processes, CLUSTER MEET, the 16384 slots split evenly with CLUSTER
 * ADDSLOTS, CLUSTER REPLICATE for the replicas, then a wait until every node reports
 * {@code cluster_state:ok} and knows every other (and every replica's link to its master is up).
 */
public final class RedisClusterFixture implements AutoCloseable {
    private static final int SLOTS = 16_384;
    private final List<RedisServer> masters = new ArrayList<>();
    private final List<RedisServer> replicas = new ArrayList<>();
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
        return start(dir, size, false);
    }

    /** {@code size} masters and, with {@code withReplicas}, one replica of each (replica i follows master i). */
    public static RedisClusterFixture start(Path dir, int size, boolean withReplicas) {
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
            if (withReplicas) {
                for (int i = 0; i < size; i++) {
                    RedisServer replica = RedisServer.startClusterNode(dir.resolve("replica-" + i));
                    cluster.replicas.add(replica);
                    RedisClient client = RedisClient.create(RedisURI.create(replica.uri()));
                    cluster.clients.add(client);
                    StatefulRedisConnection<String, String> c = client.connect();
                    cluster.admin.add(c);
                    c.sync().clusterMeet("127.0.0.1", cluster.masters.get(0).port());
                }
                for (int i = 0; i < size; i++) {
                    String masterId = cluster.admin.get(i).sync().clusterMyId();
                    StatefulRedisConnection<String, String> c = cluster.admin.get(size + i);
                    // A replica can only follow a master it already knows: wait for the MEET to spread.
                    Await.until(Duration.ofSeconds(30), () -> c.sync().clusterNodes().contains(masterId), () -> "replica knows its master");
                    c.sync().clusterReplicate(masterId);
                }
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

    public List<RedisServer> replicas() {
        return List.copyOf(replicas);
    }

    /** Waits until replica {@code i} has received everything its master has (equal replication offsets). */
    public void awaitReplicated(int i) {
        Await.until(Duration.ofSeconds(30), () -> {
            long master = offset(admin.get(i).sync().info("replication"), "master_repl_offset:");
            long replica = offset(admin.get(masters.size() + i).sync().info("replication"), "slave_repl_offset:");
            return master > 0 && master == replica;
        }, () -> "replica " + i + " caught up with its master");
    }

    /**
     * SIGKILLs master {@code i} and waits until its replica has taken over its slots and the
     * surviving nodes report {@code cluster_state:ok}.
     */
    public void killMasterAndAwaitFailover(int i) {
        masters.get(i).kill();
        StatefulRedisConnection<String, String> replica = admin.get(masters.size() + i);
        Await.until(Duration.ofSeconds(60), () -> replica.sync().info("replication").contains("role:master")
                && survivorsOk(i), () -> "replica " + i + " promoted: " + replica.sync().info("replication"));
    }

    private boolean survivorsOk(int dead) {
        for (int n = 0; n < admin.size(); n++) {
            if (n != dead && !admin.get(n).sync().clusterInfo().contains("cluster_state:ok")) {
                return false;
            }
        }
        return true;
    }

    private static long offset(String info, String field) {
        return info.lines().filter(l -> l.startsWith(field)).mapToLong(l -> Long.parseLong(l.substring(field.length()).trim()))
                .findFirst().orElse(-1);
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
        admin.subList(0, masters.size()).forEach(c -> c.sync().flushall());
    }

    private boolean isReady() {
        int nodes = masters.size() + replicas.size();
        for (StatefulRedisConnection<String, String> c : admin) {
            String info = c.sync().clusterInfo();
            if (!info.contains("cluster_state:ok") || !info.contains("cluster_known_nodes:" + nodes)) {
                return false;
            }
        }
        for (int i = 0; i < replicas.size(); i++) {
            if (!admin.get(masters.size() + i).sync().info("replication").contains("master_link_status:up")) {
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
        replicas.forEach(RedisServer::close);
    }
}
