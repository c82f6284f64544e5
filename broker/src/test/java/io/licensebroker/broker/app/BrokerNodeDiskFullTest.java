package io.licensebroker.broker.app;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.licensebroker.testkit.Await;
import io.licensebroker.broker.testing.ErrorReasons;
import io.licensebroker.broker.testing.HealthWatch;
import io.licensebroker.broker.testing.InProcessBroker;
import io.licensebroker.broker.testing.SmallTmpfs;
import com.google.protobuf.Timestamp;
import io.licensebroker.proto.v1.Account;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.ListAccountsRequest;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real node whose data directory is a real, small tmpfs that fills up: health says NOT_SERVING
 * on both channels, reads answer, changes are refused with a reason, and once space is freed the
 * node serves again by itself; after a restart, every acknowledged change is there.
 */
final class BrokerNodeDiskFullTest {
    private static final String TOKEN = "disk-full-test-super-admin-token-0123456789";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @TempDir
    Path tmp;

    @Test
    void aFullDiskTurnsHealthAndRefusesChangesUntilSpaceIsFreedThenServesAgainLosingNothing() throws Exception {
        try (SmallTmpfs disk = SmallTmpfs.mount(tmp.resolve("disk"), "2m")) {
            Path data = disk.root().resolve("data");
            List<String> acknowledged = new ArrayList<>();
            BrokerNode node = start(data);
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
            try {
                LicenseAdminGrpc.LicenseAdminBlockingStub admin = InProcessBroker.withToken(LicenseAdminGrpc.newBlockingStub(channel), TOKEN);
                HealthWatch watch = HealthWatch.start(channel);
                assertEquals(ServingStatus.SERVING, watch.next());
                create(admin, "before", acknowledged);
                // An agent holding a lease, as every agent does when the disk fills.
                admin.setSubscription(SetSubscriptionRequest.newBuilder().setAccountId("before").setProduct("KRE").setLicenses(5)
                        .setMachineQuota(10).setExpiresAt(Timestamp.newBuilder().setSeconds(Instant.now().plus(Duration.ofDays(30)).getEpochSecond()))
                        .build());
                admin.upsertUser(UpsertUserRequest.newBuilder().setAccountId("before").setUserId("alice").build());
                String apiKey = admin.createApiKey(CreateApiKeyRequest.newBuilder().setAccountId("before").setUserId("alice").build()).getApiKey();
                LicenseBrokerGrpc.LicenseBrokerBlockingStub agent = InProcessBroker.withToken(LicenseBrokerGrpc.newBlockingStub(channel), apiKey);
                String session = agent.acquireSession(AcquireSessionRequest.newBuilder().setProduct("KRE").setMachineId("m1")
                        .setRequestId("r1").build()).getSessionId();

                Path filler = disk.fill();
                // The journal's last page may still hold a few records; the first write past it fails.
                StatusRuntimeException failed = null;
                for (int i = 0; i < 5_000 && failed == null; i++) {
                    try {
                        create(admin, "fill-" + i, acknowledged);
                    } catch (StatusRuntimeException e) {
                        failed = e;
                    }
                }
                assertNotNull(failed, "a write failed on the full disk");
                assertEquals(Status.Code.UNAVAILABLE, failed.getStatus().getCode());
                assertEquals("STORE_UNAVAILABLE", ErrorReasons.of(failed));

                assertEquals(ServingStatus.NOT_SERVING, watch.next(), "gRPC health");
                assertEquals(ServingStatus.NOT_SERVING, HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance()).getStatus());
                assertEquals(503, healthz(node));
                List<String> listed = admin.listAccounts(ListAccountsRequest.getDefaultInstance()).getAccountsList().stream()
                        .map(Account::getAccountId).toList();
                assertTrue(listed.containsAll(acknowledged), "reads answer, with everything acknowledged");
                StatusRuntimeException refused = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                        () -> create(admin, "refused", new ArrayList<>()));
                assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode());
                assertEquals("STORE_UNAVAILABLE", ErrorReasons.of(refused));
                assertTrue(refused.getStatus().getDescription().contains("cannot write to its disk"), refused.getStatus().toString());
                // Agents keep their leases (renewals are not journaled); new sessions wait for the disk.
                assertTrue(agent.renewSession(RenewSessionRequest.newBuilder().setSessionId(session).build()).hasLeaseExpiresAt());
                StatusRuntimeException noAcquire = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                        () -> agent.acquireSession(AcquireSessionRequest.newBuilder().setProduct("KRE").setMachineId("m2").setRequestId("r2").build()));
                assertEquals("STORE_UNAVAILABLE", ErrorReasons.of(noAcquire));

                Files.delete(filler);
                assertEquals(ServingStatus.SERVING, watch.next(), "serving again by itself once space is free");
                Await.until(Duration.ofSeconds(10), () -> healthz(node) == 200, () -> "/healthz says ok again");
                create(admin, "after", acknowledged);
                watch.close();
            } finally {
                channel.shutdownNow();
                node.close();
            }

            BrokerNode restarted = start(data);
            ManagedChannel again = NettyChannelBuilder.forAddress("127.0.0.1", restarted.port()).usePlaintext().build();
            try {
                List<String> listed = InProcessBroker.withToken(LicenseAdminGrpc.newBlockingStub(again), TOKEN)
                        .listAccounts(ListAccountsRequest.getDefaultInstance()).getAccountsList().stream().map(Account::getAccountId).toList();
                assertTrue(listed.containsAll(acknowledged), "nothing acknowledged was lost: " + acknowledged + " in " + listed);
                assertTrue(!listed.contains("refused"), "a change refused before it was made is not there");
            } finally {
                again.shutdownNow();
                restarted.close();
            }
        }
    }

    private static BrokerNode start(Path data) {
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.DATA_DIR, data.toString());
        flags.put(Setting.FSYNC, "true");
        flags.put(Setting.ADMIN_TOKEN, TOKEN);
        return LocalNode.startNode(flags, false);
    }

    private static void create(LicenseAdminGrpc.LicenseAdminBlockingStub admin, String id, List<String> acknowledged) {
        admin.createAccount(CreateAccountRequest.newBuilder().setAccountId(id).setName("Account " + id).build());
        acknowledged.add(id);
    }

    private static int healthz(BrokerNode node) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.metricsPort() + "/healthz"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
