package io.licensebroker.broker.store.redis;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.licensebroker.testkit.Await;
import io.licensebroker.testkit.RedisServer;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.AcquireSessionResponse;
import io.licensebroker.proto.v1.RenewSessionRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Redis killed (SIGKILL) under a running node and started again: while it is down every call
 * answers UNAVAILABLE in well under a second and health says NOT_SERVING; once it is back the node
 * serves again by itself, with the state Redis kept (AOF, fsync always).
 */
class RedisOutageTest {
    private RedisServer redis;
    private RedisNodes nodes;

    @AfterEach
    void stop() {
        if (nodes != null) {
            nodes.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void redisDownMeansFastUnavailableAndNotServingThenTheNodeRecoversByItself() throws Exception {
        redis = RedisServer.start(RedisStoreContractTest.tempDir("redis-outage"), "--appendonly", "yes", "--appendfsync", "always");
        nodes = RedisNodes.start(redis.uri(), 1, Duration.ofSeconds(60), Duration.ofMillis(500));
        RedisNodes.FiftyLicenses account = nodes.fiftyLicenseAccount(0, "AC-outage");
        String key = account.apiKeys().get("free");
        AcquireSessionResponse before = acquire(key, "m-0");
        assertEquals(ServingStatus.SERVING, health());
        assertEquals(200, healthz());

        redis.kill();
        for (int i = 0; i < 5; i++) {
            long start = System.nanoTime();
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> acquire(key, "m-down"));
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
            assertTrue(took.compareTo(Duration.ofSeconds(1)) < 0, "answered UNAVAILABLE in " + took);
        }
        Await.until(Duration.ofSeconds(5), () -> health() == ServingStatus.NOT_SERVING, () -> "health NOT_SERVING");
        assertEquals(503, healthz());

        redis.restart();
        Await.until(Duration.ofSeconds(15), () -> health() == ServingStatus.SERVING, () -> "health SERVING again");
        assertEquals(200, healthz());
        AcquireSessionResponse after = acquire(key, "m-1");
        assertEquals(account.account(), after.getPoolId());
        // what was acknowledged before the crash is still there: the old session renews
        assertEquals(account.account(), nodes.agent(0, key).renewSession(RenewSessionRequest.newBuilder()
                .setSessionId(before.getSessionId()).build()).getPoolId());
        assertEquals(2, nodes.usage(0, account.account()).getRows(0).getInUse());
    }

    private AcquireSessionResponse acquire(String key, String machine) {
        return nodes.agent(0, key).withDeadlineAfter(10, TimeUnit.SECONDS)
                .acquireSession(AcquireSessionRequest.newBuilder().setMachineId(machine).build());
    }

    private ServingStatus health() {
        return HealthGrpc.newBlockingStub(nodes.channel(0)).withDeadlineAfter(5, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance()).getStatus();
    }

    private int healthz() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + nodes.node(0).metricsPort() + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode();
    }
}
