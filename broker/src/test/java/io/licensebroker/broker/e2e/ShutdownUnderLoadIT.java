package io.licensebroker.broker.e2e;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.ListAccountsRequest;
import io.licensebroker.proto.v1.ListSessionsRequest;
import io.licensebroker.proto.v1.ListSessionsResponse;
import io.licensebroker.proto.v1.ReleaseSessionRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import io.licensebroker.proto.v1.VerifyOfflineLicenseRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static io.licensebroker.broker.e2e.GrpcClients.withToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGTERM in the middle of a load of concurrent acquires and releases: the broker drains and exits
 * 0, and no call the server accepted was cut. The clients' view alone cannot prove the second
 * part (a cut call and a refused one can both end UNAVAILABLE), so the broker is restarted on the
 * same data directory and its live sessions must be exactly those the clients saw granted and
 * not saw released: a call that changed the ledger but failed at the client would show up there.
 */
class ShutdownUnderLoadIT {
    private static final String ADMIN = "shutdown-it-super-admin-token-0123456789";
    private static final int WORKERS = 32;
    private static final int CHANNELS = 4;
    /** Calls completed before the SIGTERM, so that it lands in a steady load. */
    private static final int WARM_UP_CALLS = 600;

    @TempDir
    Path dataDir;

    @Test
    void sigtermUnderLoadDrainsEveryAcceptedCallAndExitsZero() throws Exception {
        // A long lease: every session granted before the stop is still live after the restart.
        String[] flags = {"--admin-token", ADMIN, "--lease-ttl", "10m"};
        BrokerProcess broker = BrokerProcess.start(dataDir, flags);
        Set<String> granted = ConcurrentHashMap.newKeySet();
        Set<String> released = ConcurrentHashMap.newKeySet();
        Map<Status.Code, AtomicInteger> failures = new ConcurrentHashMap<>();
        List<String> unexpected = new ArrayList<>();
        AtomicInteger completed = new AtomicInteger();
        AtomicLong sigtermAt = new AtomicLong(Long.MAX_VALUE);
        AtomicInteger straddling = new AtomicInteger();
        CountDownLatch warm = new CountDownLatch(WARM_UP_CALLS);
        List<ManagedChannel> channels = new ArrayList<>();
        ExecutorService workers = Executors.newFixedThreadPool(WORKERS);
        int exitCode;
        try {
            for (int i = 0; i < CHANNELS; i++) {
                channels.add(GrpcClients.channel(broker.port()));
            }
            String apiKey = setUp(channels.get(0));
            for (int w = 0; w < WORKERS; w++) {
                int worker = w;
                LicenseBrokerGrpc.LicenseBrokerBlockingStub agent = withToken(LicenseBrokerGrpc.newBlockingStub(channels.get(w % CHANNELS)), apiKey);
                workers.execute(() -> {
                    for (int n = 0; ; n++) {
                        long started = System.nanoTime();
                        try {
                            String session = agent.acquireSession(AcquireSessionRequest.newBuilder().setMachineId("machine-" + worker)
                                    .setRequestId("w" + worker + "-" + n).build()).getSessionId();
                            granted.add(session);
                            done(started, sigtermAt, straddling, completed, warm);
                            started = System.nanoTime();
                            if (agent.releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(session).build()).getReleased()) {
                                released.add(session);
                            }
                            done(started, sigtermAt, straddling, completed, warm);
                        } catch (StatusRuntimeException e) {
                            failures.computeIfAbsent(e.getStatus().getCode(), c -> new AtomicInteger()).incrementAndGet();
                            if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
                                synchronized (unexpected) {
                                    unexpected.add(e.getStatus().toString());
                                }
                            }
                            return; // the broker is going away: this worker's part is done
                        }
                    }
                });
            }
            assertTrue(warm.await(120, TimeUnit.SECONDS), "the load got going: " + completed.get() + " calls");
            sigtermAt.set(System.nanoTime());
            exitCode = broker.terminate();
            workers.shutdown();
            assertTrue(workers.awaitTermination(60, TimeUnit.SECONDS), "every worker saw the broker stop");
        } finally {
            workers.shutdownNow();
            channels.forEach(ManagedChannel::shutdownNow);
            broker.close();
        }

        System.out.printf("granted %d, released %d, %d calls across the SIGTERM, failures %s%n",
                granted.size(), released.size(), straddling.get(), failures);
        assertEquals(0, exitCode, "exit code after SIGTERM: " + broker.output());
        assertTrue(broker.output().contains("stopped"), broker.output().toString());
        assertEquals(List.of(), unexpected, "only UNAVAILABLE (refused before being accepted) is allowed: " + failures);
        assertTrue(straddling.get() > 0, "calls were in flight when SIGTERM was sent and completed normally");
        assertTrue(granted.size() > WARM_UP_CALLS / 2, "granted " + granted.size());

        try (BrokerProcess again = BrokerProcess.start(dataDir, flags)) {
            ManagedChannel channel = GrpcClients.channel(again.port());
            try {
                Set<String> live = liveSessions(withToken(LicenseAdminGrpc.newBlockingStub(channel), ADMIN));
                Set<String> expected = new HashSet<>(granted);
                expected.removeAll(released);
                assertEquals(expected, live, "live sessions after the restart are exactly the granted and not released ones ("
                        + granted.size() + " granted, " + released.size() + " released, " + straddling.get() + " calls across the SIGTERM)");
            } finally {
                channel.shutdownNow();
            }
        }
    }

    @Test
    void sigtermAfterOversizedRequestsStopsWithoutWaitingOutTheGrace() throws Exception {
        BrokerProcess broker = BrokerProcess.start(dataDir, "--admin-token", ADMIN, "--shutdown-grace", "20s");
        ManagedChannel channel = GrpcClients.channel(broker.port());
        long stopping;
        int exitCode;
        try {
            LicenseAdminGrpc.LicenseAdminBlockingStub admin = withToken(LicenseAdminGrpc.newBlockingStub(channel), ADMIN);
            for (int i = 0; i < 3; i++) {
                // 16 MiB: the client is still sending when the broker refuses it.
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                        () -> admin.verifyOfflineLicense(VerifyOfflineLicenseRequest.newBuilder()
                                .setLicenseFile(ByteString.copyFrom(new byte[16 << 20])).build()));
                assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.toString());
            }
            // The client keeps its connection open, as a running agent would.
            assertEquals(0, admin.listAccounts(ListAccountsRequest.getDefaultInstance()).getAccountsCount());
            stopping = System.nanoTime();
            exitCode = broker.terminate();
        } finally {
            channel.shutdownNow();
            broker.close();
        }
        Duration took = Duration.ofNanos(System.nanoTime() - stopping);
        System.out.printf("SIGTERM after oversized requests: exited in %d ms (grace 20 s)%n", took.toMillis());
        assertEquals(0, exitCode, broker.output().toString());
        assertTrue(took.compareTo(Duration.ofSeconds(8)) < 0, "SIGTERM with no call in flight took " + took
                + " of the 20 s grace: " + broker.output());
    }

    private static void done(long started, AtomicLong sigtermAt, AtomicInteger straddling, AtomicInteger completed, CountDownLatch warm) {
        if (started < sigtermAt.get()) {
            long now = System.nanoTime();
            if (now > sigtermAt.get()) {
                straddling.incrementAndGet();
            }
        }
        completed.incrementAndGet();
        warm.countDown();
    }

    private static String setUp(ManagedChannel channel) {
        LicenseAdminGrpc.LicenseAdminBlockingStub admin = withToken(LicenseAdminGrpc.newBlockingStub(channel), ADMIN);
        admin.createAccount(CreateAccountRequest.newBuilder().setAccountId("load").setName("Load").build());
        admin.setSubscription(SetSubscriptionRequest.newBuilder().setAccountId("load").setLicenses(1_000_000).setMachineQuota(1_000)
                .setExpiresAt(Timestamp.newBuilder().setSeconds(Instant.now().plusSeconds(86_400).getEpochSecond())).build());
        admin.upsertUser(UpsertUserRequest.newBuilder().setAccountId("load").setUserId("agent").build());
        return admin.createApiKey(CreateApiKeyRequest.newBuilder().setAccountId("load").setUserId("agent").build()).getApiKey();
    }

    private static Set<String> liveSessions(LicenseAdminGrpc.LicenseAdminBlockingStub admin) {
        Set<String> out = new HashSet<>();
        String token = "";
        do {
            ListSessionsResponse page = admin.listSessions(ListSessionsRequest.newBuilder().setAccountId("load")
                    .setPageSize(1000).setPageToken(token).build());
            page.getSessionsList().forEach(s -> out.add(s.getSessionId()));
            token = page.getNextPageToken();
        } while (!token.isEmpty());
        return out;
    }
}
