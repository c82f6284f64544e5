package io.licensebroker.broker.grpc;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.metrics.BrokerMetrics;
import io.licensebroker.broker.offline.Ed25519Signer;
import io.licensebroker.broker.store.memory.MemoryStore;
import io.licensebroker.testkit.Await;
import io.licensebroker.broker.testing.HealthWatch;
import io.licensebroker.testkit.MutableClock;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.ListAccountsRequest;
import io.licensebroker.proto.v1.ListAccountsResponse;
import io.licensebroker.proto.v1.VerifyOfflineLicenseRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static io.licensebroker.broker.grpc.Refusals.assertUnauthenticated;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real server: Netty on a free port, health, reflection, limits and a draining shutdown. */
final class BrokerServerTest {
    private final ControllableStore store = new ControllableStore(MemoryStore.volatileStore(Duration.ofMinutes(10)));
    private final LicenseService service = new LicenseService(store.store(), new MutableClock(World.START), World.LEASE,
            Ed25519Signer.generate(), new SecureRandom(), World.ROOT);
    private final List<ManagedChannel> channels = new ArrayList<>();
    private BrokerServer server;

    @AfterEach
    void stop() {
        channels.forEach(ManagedChannel::shutdownNow);
        if (server != null) {
            server.shutdown(Duration.ZERO);
        }
        store.store().close();
    }

    private ManagedChannel channel() {
        ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        channels.add(c);
        return c;
    }

    private LicenseAdminGrpc.LicenseAdminBlockingStub root(ManagedChannel c) {
        return World.withAuthorization(LicenseAdminGrpc.newBlockingStub(c), "Bearer " + World.ROOT);
    }

    @Test
    void servesBothServicesHealthAndReflectionOnAFreePort() throws Exception {
        server = BrokerServer.start(0, service);
        assertNotEquals(0, server.port());
        ManagedChannel c = channel();

        HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(c).withDeadlineAfter(10, TimeUnit.SECONDS);
        for (String name : List.of("", "licensebroker.v1.LicenseBroker", "licensebroker.v1.LicenseAdmin")) {
            assertEquals(ServingStatus.SERVING, health.check(HealthCheckRequest.newBuilder().setService(name).build()).getStatus(), name);
        }

        Set<String> expected = Set.of("licensebroker.v1.LicenseBroker", "licensebroker.v1.LicenseAdmin", "grpc.health.v1.Health",
                "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection");
        assertEquals(expected, reflectedServicesV1(c));
        assertEquals(expected, reflectedServicesV1Alpha(c));

        assertEquals(0, root(c).listAccounts(ListAccountsRequest.getDefaultInstance()).getAccountsCount());
        assertUnauthenticated(() -> LicenseAdminGrpc.newBlockingStub(c).withDeadlineAfter(10, TimeUnit.SECONDS)
                .listAccounts(ListAccountsRequest.getDefaultInstance()));
    }

    @Test
    void refusesMessagesOverOneMebibyte() throws Exception {
        server = BrokerServer.start(0, service);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> root(channel()).verifyOfflineLicense(
                VerifyOfflineLicenseRequest.newBuilder().setLicenseFile(ByteString.copyFrom(new byte[1024 * 1024 + 1])).build()));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
    }

    @Test
    void anOversizedRequestLeavesNoCallForTheShutdownToWaitFor() throws Exception {
        server = BrokerServer.start(BrokerServer.Options.defaults(0), service, BrokerMetrics.create(100).instrumentation());
        ManagedChannel c = channel();
        // Past the first flow-control window (1 MiB) the client is still sending when the server refuses:
        // gRPC then leaves the HTTP/2 stream open, which held the drain for its whole length.
        for (int size : new int[] {1024 * 1024 + 1, 4 << 20, 16 << 20}) {
            StatusRuntimeException admin = assertThrows(StatusRuntimeException.class, () -> root(c).verifyOfflineLicense(
                    VerifyOfflineLicenseRequest.newBuilder().setLicenseFile(ByteString.copyFrom(new byte[size])).build()));
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, admin.getStatus().getCode());
            StatusRuntimeException agent = assertThrows(StatusRuntimeException.class, () -> World.withAuthorization(
                    LicenseBrokerGrpc.newBlockingStub(c), "Bearer " + World.ROOT)
                    .acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m".repeat(size)).build()));
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, agent.getStatus().getCode());
        }
        // The connection stays open, as an agent's would, and still serves.
        assertEquals(0, root(c).listAccounts(ListAccountsRequest.getDefaultInstance()).getAccountsCount());
        Await.until(Duration.ofSeconds(10), () -> server.callsInFlight() == 0, () -> server.callsInFlight() + " calls in flight");

        long started = System.nanoTime();
        server.shutdown(Duration.ofSeconds(20));
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        assertTrue(server.isTerminated());
        assertTrue(took.compareTo(Duration.ofSeconds(5)) < 0, "no call was in flight, yet the 20 s drain took " + took);
    }

    @Test
    void shutdownDrainsInFlightCalls() throws Exception {
        server = BrokerServer.start(0, service);
        ManagedChannel c = channel();
        HealthWatch watch = HealthWatch.start(c);
        assertEquals(ServingStatus.SERVING, watch.next());

        CompletableFuture<Void> gate = store.hold();
        ListenableFuture<ListAccountsResponse> inFlight = World.withAuthorization(LicenseAdminGrpc.newFutureStub(c), "Bearer " + World.ROOT)
                .listAccounts(ListAccountsRequest.getDefaultInstance());
        store.entered().get(10, TimeUnit.SECONDS);

        Thread stopping = new Thread(() -> server.shutdown(Duration.ofSeconds(30)), "shutdown");
        stopping.start();
        assertEquals(ServingStatus.NOT_SERVING, watch.next(), "load balancers are told first");
        watch.close(); // a health watch is a call too; it would hold the drain open
        assertTrue(stopping.isAlive(), "shutdown waits for the in-flight call");
        assertFalse(inFlight.isDone());

        gate.complete(null);
        assertEquals(0, inFlight.get(10, TimeUnit.SECONDS).getAccountsCount(), "the in-flight call completed normally");
        stopping.join(TimeUnit.SECONDS.toMillis(10));
        assertFalse(stopping.isAlive());
        assertTrue(server.isTerminated());
        server.awaitTermination();

        StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
                () -> root(channel()).listAccounts(ListAccountsRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode());
    }

    @Test
    void shutdownCancelsWhatOutlivesTheDrain() throws Exception {
        server = BrokerServer.start(0, service);
        CompletableFuture<Void> gate = store.hold();
        ListenableFuture<ListAccountsResponse> stuck = World.withAuthorization(LicenseAdminGrpc.newFutureStub(channel()), "Bearer " + World.ROOT)
                .listAccounts(ListAccountsRequest.getDefaultInstance());
        store.entered().get(10, TimeUnit.SECONDS);

        server.shutdown(Duration.ofMillis(100));
        assertTrue(server.isTerminated());
        ExecutionException e = assertThrows(ExecutionException.class, () -> stuck.get(10, TimeUnit.SECONDS));
        Status.Code code = Status.fromThrowable(e.getCause()).getCode();
        assertTrue(code == Status.Code.UNAVAILABLE || code == Status.Code.CANCELLED, code.toString());
        gate.complete(null); // the late answer finds nobody listening, and is dropped quietly
    }

    // ---------------------------------------------------------------- reflection clients

    private static Set<String> reflectedServicesV1(ManagedChannel c) throws InterruptedException {
        BlockingQueue<Object> answers = new LinkedBlockingQueue<>();
        StreamObserver<io.grpc.reflection.v1.ServerReflectionRequest> requests = io.grpc.reflection.v1.ServerReflectionGrpc.newStub(c)
                .serverReflectionInfo(collector(answers));
        requests.onNext(io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setListServices("").build());
        requests.onCompleted();
        Object answer = answers.poll(10, TimeUnit.SECONDS);
        if (!(answer instanceof io.grpc.reflection.v1.ServerReflectionResponse r)) {
            throw new AssertionError("no reflection answer: " + answer);
        }
        Set<String> names = new HashSet<>();
        r.getListServicesResponse().getServiceList().forEach(s -> names.add(s.getName()));
        return names;
    }

    private static Set<String> reflectedServicesV1Alpha(ManagedChannel c) throws InterruptedException {
        BlockingQueue<Object> answers = new LinkedBlockingQueue<>();
        StreamObserver<io.grpc.reflection.v1alpha.ServerReflectionRequest> requests = io.grpc.reflection.v1alpha.ServerReflectionGrpc
                .newStub(c).serverReflectionInfo(collector(answers));
        requests.onNext(io.grpc.reflection.v1alpha.ServerReflectionRequest.newBuilder().setListServices("").build());
        requests.onCompleted();
        Object answer = answers.poll(10, TimeUnit.SECONDS);
        if (!(answer instanceof io.grpc.reflection.v1alpha.ServerReflectionResponse r)) {
            throw new AssertionError("no reflection answer: " + answer);
        }
        Set<String> names = new HashSet<>();
        r.getListServicesResponse().getServiceList().forEach(s -> names.add(s.getName()));
        return names;
    }

    private static <T> StreamObserver<T> collector(BlockingQueue<Object> answers) {
        return new StreamObserver<>() {
            @Override
            public void onNext(T value) {
                answers.add(value);
            }

            @Override
            public void onError(Throwable t) {
                answers.add(t);
            }

            @Override
            public void onCompleted() {
            }
        };
    }
}
