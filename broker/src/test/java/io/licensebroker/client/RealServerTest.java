package io.licensebroker.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.licensebroker.broker.grpc.BrokerServer;
import io.licensebroker.testkit.MutableClock;
import io.licensebroker.proto.v1.ListSessionsRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.BindException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The SDK against real Netty broker nodes on the system clock with short leases and a running
 * lease reaper: a renewal that came too late would end the session for real.
 */
class RealServerTest {
    /** Renewals every ~0.67 s; a session that missed three in a row would be reaped. */
    private static final Duration LEASE = Duration.ofSeconds(2);

    private final TestBroker broker = TestBroker.live(LEASE);

    @AfterEach
    void close() {
        broker.close();
    }

    private static String local(BrokerServer server) {
        return "127.0.0.1:" + server.port();
    }

    @Test
    void aSessionHoldsItsLicenseThroughSeveralLeaseLengthsWithoutTheRuntimeCallingAnything() {
        BrokerServer node = broker.netty(0);
        String key = broker.agent("acme", 5, "alice");
        TestBroker.Recorder recorder = broker.recorder();
        LicenseBrokerClient client = broker.closeLater(LicenseBrokerClient.builder().target(local(node)).apiKey(key)
                .leaseListener(recorder).build());

        LicenseSession session = client.acquire("m-1");
        Instant acquiredAt = Instant.now();
        Instant firstLeaseEnd = session.leaseExpiresAt();
        broker.await("three lease lengths have passed", () -> Instant.now().isAfter(acquiredAt.plus(LEASE.multipliedBy(3))));

        assertTrue(session.isActive());
        assertEquals(List.of(), List.copyOf(recorder.lost.keySet()));
        assertTrue(session.renewCount() >= 8, "renewed at the broker's interval: " + session.renewCount());
        assertTrue(session.leaseExpiresAt().isAfter(firstLeaseEnd.plus(LEASE.multipliedBy(2))), "the lease moved on");
        assertEquals(1, broker.inUse("acme"), "the reaper never took the license");
        assertEquals(1, broker.admin().listSessions(ListSessionsRequest.newBuilder().setAccountId("acme").build()).getSessionsCount());

        session.close();
        assertEquals(0, broker.inUse("acme"));
    }

    @Test
    void aSessionRidesOutABrokerRestartOnTheSamePort() {
        BrokerServer node = broker.netty(0);
        int port = node.port();
        String key = broker.agent("acme", 5, "alice");
        TestBroker.Recorder recorder = broker.recorder();
        LicenseBrokerClient client = broker.closeLater(LicenseBrokerClient.builder().target("127.0.0.1:" + port).apiKey(key)
                .leaseListener(recorder).retryPolicy(4, Duration.ofMillis(20), Duration.ofMillis(200)).build());
        LicenseSession session = client.acquire("m-1");
        broker.await("a renewal", () -> session.renewCount() >= 1);

        broker.kill(node);
        BrokerServer restarted = restartOn(port);
        long before = session.renewCount();
        broker.await("three renewals after the restart", () -> session.renewCount() >= before + 3);

        assertTrue(session.isActive());
        assertTrue(recorder.lost.isEmpty(), "no lease was lost: " + recorder.lost);
        assertEquals(1, broker.inUse("acme"));
    }

    @Test
    void acquireRetriesWhileTheBrokerIsUnreachableAndSucceedsOnceItIsBack() throws Exception {
        BrokerServer first = broker.netty(0);
        int port = first.port();
        String key = broker.agent("acme", 5, "alice");
        broker.kill(first);
        AtomicInteger attempts = new AtomicInteger();
        LicenseBrokerClient client = broker.closeLater(LicenseBrokerClient.builder()
                .channelBuilder(Grpc.newChannelBuilder("127.0.0.1:" + port, InsecureChannelCredentials.create())
                        .intercept(counting(attempts)))
                .apiKey(key).retryPolicy(3, Duration.ofMillis(20), Duration.ofMillis(100)).build());

        CompletableFuture<LicenseSession> acquire = CompletableFuture.supplyAsync(() -> client.acquire("m-1",
                AcquireOptions.builder().requestId("job-1").waitUpTo(Duration.ofSeconds(30)).build()));
        broker.await("three failed attempts", () -> attempts.get() >= 3);
        assertFalse(acquire.isDone());

        BrokerServer back = restartOn(port);
        LicenseSession session = acquire.get(30, TimeUnit.SECONDS);
        assertTrue(session.isActive());
        assertEquals(1, broker.inUse("acme"));
    }

    @Test
    void withoutAWaitAnUnreachableBrokerFailsAfterTheRetryPolicysAttempts() {
        BrokerServer gone = broker.netty(0);
        String key = broker.agent("acme", 5, "alice");
        broker.kill(gone);
        AtomicInteger attempts = new AtomicInteger();
        LicenseBrokerClient client = broker.closeLater(LicenseBrokerClient.builder()
                .channelBuilder(Grpc.newChannelBuilder(local(gone), InsecureChannelCredentials.create()).intercept(counting(attempts)))
                .apiKey(key).retryPolicy(3, Duration.ofMillis(10), Duration.ofMillis(20)).build());

        LicenseBrokerException e = assertThrows(LicenseBrokerException.class, () -> client.acquire("m-1"));
        assertEquals(Status.Code.UNAVAILABLE, e.code());
        assertTrue(e.isUnreachable());
        assertEquals(3, attempts.get());
    }

    @Test
    void killingOneOfTwoBrokerNodesEndsNoSession() {
        // Two nodes over one service and store, as two brokers over one Redis.
        BrokerServer a = broker.netty(0);
        BrokerServer b = broker.netty(0);
        String key = broker.agent("acme", 10, "alice");
        TestBroker.Recorder recorder = broker.recorder();
        LicenseBrokerClient client = broker.closeLater(LicenseBrokerClient.builder()
                .target(local(a)).target(local(b)).apiKey(key).leaseListener(recorder)
                .retryPolicy(4, Duration.ofMillis(20), Duration.ofMillis(200)).build());
        List<LicenseSession> sessions = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            sessions.add(client.acquire("m-" + i));
        }
        broker.await("every session renewed twice", () -> sessions.stream().allMatch(s -> s.renewCount() >= 2));

        broker.kill(a);
        long[] before = sessions.stream().mapToLong(LicenseSession::renewCount).toArray();
        broker.await("every session renewed four more times via the other node", () -> {
            for (int i = 0; i < before.length; i++) {
                if (sessions.get(i).renewCount() < before[i] + 4) {
                    return false;
                }
            }
            return true;
        });

        assertTrue(recorder.lost.isEmpty(), "no session ended: " + recorder.lost);
        assertTrue(sessions.stream().allMatch(LicenseSession::isActive));
        assertEquals(4, broker.inUse("acme"));
        LicenseSession fifth = client.acquire("m-5");
        assertTrue(fifth.isActive(), "new sessions go to the surviving node");
        assertEquals(5, broker.inUse("acme"));
    }

    @Test
    void theLeaseRunsOutWhileNoNodeIsReachable() {
        BrokerServer node = broker.netty(0);
        String key = broker.agent("acme", 5, "alice");
        TestBroker.Recorder recorder = broker.recorder();
        MutableClock clientClock = new MutableClock(Instant.now());
        LicenseBrokerClient client = broker.closeLater(LicenseBrokerClient.builder().target(local(node)).apiKey(key)
                .clock(clientClock).leaseListener(recorder).retryPolicy(4, Duration.ofMillis(20), Duration.ofMillis(100)).build());
        LicenseSession session = client.acquire("m-1");

        broker.kill(node);
        clientClock.set(session.leaseExpiresAt().plusMillis(1));
        broker.await("the loss is reported", () -> !recorder.lost.isEmpty());
        assertEquals(LicenseSession.BROKER_UNREACHABLE, recorder.lost.get(session.sessionId()));
        assertFalse(session.isActive());
    }

    /**
     * A new node on the port a stopped one used. The kernel may hold the port for a moment after
     * the old listener closed, so binding is retried briefly.
     */
    private BrokerServer restartOn(int port) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                return broker.netty(port);
            } catch (UncheckedIOException e) {
                if (!(e.getCause().getCause() instanceof BindException) || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.onSpinWait();
            }
        }
    }

    private static ClientInterceptor counting(AtomicInteger calls) {
        return new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
                if (method.getFullMethodName().endsWith("/AcquireSession")) {
                    calls.incrementAndGet();
                }
                return next.newCall(method, options);
            }
        };
    }
}
