package io.licensebroker.broker.e2e;

import static io.licensebroker.broker.e2e.GrpcClients.reason;
import static io.licensebroker.broker.e2e.GrpcClients.withToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.Timestamp;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.AcquireSessionResponse;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateAdminTokenRequest;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.CreateOrganizationRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.GetUsagePolicyRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseRequest;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseAdminGrpc.LicenseAdminBlockingStub;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc.LicenseBrokerBlockingStub;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.PoolRow;
import io.licensebroker.proto.v1.ReleaseSessionRequest;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.SetDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.SetUsagePolicyRequest;
import io.licensebroker.proto.v1.TerminateSessionRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import io.licensebroker.proto.v1.UsagePolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * End to end through the shipped jar: started as an operator starts it, spoken to over real TCP
 * gRPC channels, killed with SIGKILL and restarted on the same data directory.
 */
class BrokerJarIT {
    private static final String ADMIN = "e2e-super-admin-token-0123456789";
    private static final Timestamp NEXT_YEAR = ts(Instant.now().plusSeconds(365L * 24 * 3600));

    @TempDir
    Path dataDir;

    @Test
    void demoStartsWithOneCommandAndWorks() throws Exception {
        try (BrokerProcess broker = BrokerProcess.start(dataDir, "--demo")) {
            String admin = after(broker.awaitLine("admin token (SUPER_ADMIN"), ": ");
            String apiKey = after(broker.awaitLine("demo api key"), ": ");
            ManagedChannel channel = GrpcClients.channel(broker.port());
            try {
                HealthCheckResponse health = HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance());
                assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
                int metricsPort = Integer.parseInt(after(broker.awaitLine("metrics on "), "metrics on ").trim());
                HttpResponse<String> healthz = HttpClient.newHttpClient().send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/healthz")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, healthz.statusCode());

                LicenseUsage usage = admin(channel, admin).getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId("demo").build());
                assertEquals(200, usage.getLicenses());
                assertEquals(List.of(200L, 20L, 10L, 1L, 5L), usage.getRowsList().stream().map(PoolRow::getDedicated).toList());
                assertEquals(164, usage.getRows(0).getPool());

                AcquireSessionResponse session = agent(channel, apiKey).acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m-1").build());
                assertEquals(usage.getRows(1).getPoolId(), session.getPoolId(), "alice draws from her assigned organization");
                assertFalse(session.getFallback());
            } finally {
                channel.shutdownNow();
            }
        }
    }

    @Test
    void sigkillAndRestartLoseNoAcknowledgedChangeAndNoLiveSession() throws Exception {
        Map<String, String> ids = new HashMap<>();
        BrokerProcess broker = BrokerProcess.start(dataDir, "--admin-token", ADMIN);
        LicenseUsage before;
        String liveSession;
        String terminatedSession;
        String apiKey;
        String accountAdmin;
        try {
            ManagedChannel channel = GrpcClients.channel(broker.port());
            LicenseAdminBlockingStub admin = admin(channel, ADMIN);
            admin.createAccount(CreateAccountRequest.newBuilder().setAccountId("acme").setName("Acme").build());
            admin.setSubscription(SetSubscriptionRequest.newBuilder().setAccountId("acme").setLicenses(10)
                    .setMachineQuota(10).setExpiresAt(NEXT_YEAR).build());
            String org = admin.createOrganization(CreateOrganizationRequest.newBuilder().setAccountId("acme").setName("QA").build()).getOrgId();
            String sub = admin.createOrganization(CreateOrganizationRequest.newBuilder().setAccountId("acme").setParentId(org).setName("QA-EU").build()).getOrgId();
            admin.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(org).setLicenses(6).build());
            admin.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(sub).setLicenses(2).build());
            admin.upsertUser(UpsertUserRequest.newBuilder().setAccountId("acme").setUserId("bob").setAssignedOrgId(sub).build());
            admin.setUsagePolicy(SetUsagePolicyRequest.newBuilder().setAccountId("acme").setPolicy(UsagePolicy.USAGE_POLICY_STRICT).setAllowFallback(false).build());
            apiKey = admin.createApiKey(CreateApiKeyRequest.newBuilder().setAccountId("acme").setUserId("bob").build()).getApiKey();
            accountAdmin = admin.createAdminToken(CreateAdminTokenRequest.newBuilder().setAccountId("acme")
                    .setRole(AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN).build()).getToken();
            admin.issueOfflineLicense(IssueOfflineLicenseRequest.newBuilder().setAccountId("acme").setMachineId("offline-1").build());

            LicenseBrokerBlockingStub agent = agent(channel, apiKey);
            liveSession = agent.acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m-1").build()).getSessionId();
            terminatedSession = agent.acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m-2").build()).getSessionId();
            StatusRuntimeException full = assertThrows(StatusRuntimeException.class,
                    () -> agent.acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m-3").setRequestId("r3").build()));
            assertEquals("ORGANIZATION_POOL_EXHAUSTED", reason(full), "STRICT without fallback, both of the sub-org's licenses in use");
            admin.terminateSession(TerminateSessionRequest.newBuilder().setSessionId(terminatedSession).build());
            before = admin.getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId("acme").build());
            ids.put("org", org);
            ids.put("sub", sub);
            channel.shutdownNow();
        } finally {
            broker.kill();
        }

        for (int restart = 0; restart < 3; restart++) {
            try (BrokerProcess again = BrokerProcess.start(dataDir, "--admin-token", ADMIN)) {
                ManagedChannel channel = GrpcClients.channel(again.port());
                try {
                    LicenseAdminBlockingStub admin = admin(channel, ADMIN);
                    LicenseUsage after = admin.getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId("acme").build());
                    assertEquals(before, after, "usage after SIGKILL #" + restart);
                    assertEquals(UsagePolicy.USAGE_POLICY_STRICT, admin(channel, accountAdmin)
                            .getUsagePolicy(GetUsagePolicyRequest.newBuilder().setAccountId("acme").build()).getPolicy());
                    LicenseBrokerBlockingStub agent = agent(channel, apiKey);
                    assertEquals(ids.get("sub"), agent.renewSession(RenewSessionRequest.newBuilder().setSessionId(liveSession).build()).getPoolId());
                    StatusRuntimeException terminated = assertThrows(StatusRuntimeException.class,
                            () -> agent.renewSession(RenewSessionRequest.newBuilder().setSessionId(terminatedSession).build()));
                    assertEquals(Status.Code.NOT_FOUND, terminated.getStatus().getCode());
                    assertEquals("SESSION_TERMINATED", reason(terminated));
                } finally {
                    channel.shutdownNow();
                }
                again.kill();
            }
        }
    }

    @Test
    void sigtermDrainsAndExitsZero() throws Exception {
        BrokerProcess broker = BrokerProcess.start(dataDir, "--admin-token", ADMIN);
        ManagedChannel channel = GrpcClients.channel(broker.port());
        try {
            admin(channel, ADMIN).createAccount(CreateAccountRequest.newBuilder().setAccountId("term").setName("T").build());
        } finally {
            channel.shutdownNow();
        }
        assertEquals(0, broker.terminate());
        assertTrue(broker.output().contains("stopped"), broker.output().toString());
        try (BrokerProcess again = BrokerProcess.start(dataDir, "--admin-token", ADMIN)) {
            ManagedChannel ch = GrpcClients.channel(again.port());
            try {
                StatusRuntimeException exists = assertThrows(StatusRuntimeException.class,
                        () -> admin(ch, ADMIN).createAccount(CreateAccountRequest.newBuilder().setAccountId("term").setName("T").build()));
                assertEquals("ALREADY_EXISTS", reason(exists));
            } finally {
                ch.shutdownNow();
            }
        }
    }

    /** The product documents' worked examples, through the running jar. */
    @Test
    void productDocumentExamples() throws Exception {
        try (BrokerProcess broker = BrokerProcess.start(dataDir, "--admin-token", ADMIN)) {
            ManagedChannel channel = GrpcClients.channel(broker.port());
            try {
                LicenseAdminBlockingStub admin = admin(channel, ADMIN);
                admin.createAccount(CreateAccountRequest.newBuilder().setAccountId("docs").setName("Docs").build());
                admin.setSubscription(SetSubscriptionRequest.newBuilder().setAccountId("docs").setLicenses(200)
                        .setMachineQuota(100).setExpiresAt(NEXT_YEAR).build());
                // First example: 200 licenses, four organizations with 20, 10, 1 and 5.
                List<String> orgs = new ArrayList<>();
                for (long n : new long[]{20, 10, 1, 5}) {
                    String org = admin.createOrganization(CreateOrganizationRequest.newBuilder().setAccountId("docs").setName("org" + n).build()).getOrgId();
                    admin.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(org).setLicenses(n).build());
                    orgs.add(org);
                }
                LicenseUsage usage = usage(admin, "docs");
                assertEquals(200 - 36, usage.getRows(0).getPool());
                assertEquals(200 - 36, usage.getRows(0).getAvailable());

                // Second example: an organization with 10 gives 5 to a sub-organization; its pool is 5.
                String ten = orgs.get(1);
                String subA = admin.createOrganization(CreateOrganizationRequest.newBuilder().setAccountId("docs").setParentId(ten).setName("subA").build()).getOrgId();
                admin.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(subA).setLicenses(5).build());
                assertEquals(5, row(usage(admin, "docs"), ten).getPool());
                String subB = admin.createOrganization(CreateOrganizationRequest.newBuilder().setAccountId("docs").setParentId(ten).setName("subB").build()).getOrgId();
                StatusRuntimeException six = assertThrows(StatusRuntimeException.class,
                        () -> admin.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(subB).setLicenses(6).build()));
                assertEquals(Status.Code.FAILED_PRECONDITION, six.getStatus().getCode());
                assertEquals("INSUFFICIENT_LICENSES", reason(six));
                admin.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(subB).setLicenses(5).build());
                assertEquals(0, row(usage(admin, "docs"), ten).getPool());

                // Third example: 5 dedicated with 4 in use; then 8, 3 (refused), 4, 0.
                String five = orgs.get(3);
                admin.upsertUser(UpsertUserRequest.newBuilder().setAccountId("docs").setUserId("carol").setAssignedOrgId(five).build());
                String key = admin.createApiKey(CreateApiKeyRequest.newBuilder().setAccountId("docs").setUserId("carol").build()).getApiKey();
                LicenseBrokerBlockingStub agent = agent(channel, key);
                List<String> sessions = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    AcquireSessionResponse s = agent.acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m" + i).build());
                    assertEquals(five, s.getPoolId());
                    sessions.add(s.getSessionId());
                }
                assertEquals(4, row(usage(admin, "docs"), five).getInUse());
                admin.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(five).setLicenses(8).build());
                assertEquals(8, row(usage(admin, "docs"), five).getDedicated());
                StatusRuntimeException three = assertThrows(StatusRuntimeException.class,
                        () -> admin.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(five).setLicenses(3).build()));
                assertEquals("BELOW_IN_USE", reason(three));
                admin.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(five).setLicenses(4).build());
                assertEquals(0, row(usage(admin, "docs"), five).getAvailable());
                LicenseUsage revoked = admin.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(five).setLicenses(0).build());
                assertEquals(0, row(revoked, five).getInUse());
                assertEquals(4, revoked.getRows(0).getInUse(), "the sessions moved to the account pool");
                for (String id : sessions) {
                    assertEquals("docs", agent.renewSession(RenewSessionRequest.newBuilder().setSessionId(id).build()).getPoolId());
                }
                assertTrue(agent.releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(sessions.get(0)).build()).getReleased());
                assertFalse(agent.releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(sessions.get(0)).build()).getReleased());
            } finally {
                channel.shutdownNow();
            }
        }
    }

    @Test
    void twoHundredConcurrentAcquiresAgainstFiftyGrantExactlyFifty() throws Exception {
        try (BrokerProcess broker = BrokerProcess.start(dataDir, "--admin-token", ADMIN)) {
            ManagedChannel channel = GrpcClients.channel(broker.port());
            try {
                LicenseAdminBlockingStub admin = admin(channel, ADMIN);
                admin.createAccount(CreateAccountRequest.newBuilder().setAccountId("race").setName("Race").build());
                admin.setSubscription(SetSubscriptionRequest.newBuilder().setAccountId("race").setLicenses(50)
                        .setMachineQuota(1000).setExpiresAt(NEXT_YEAR).build());
                admin.upsertUser(UpsertUserRequest.newBuilder().setAccountId("race").setUserId("u").build());
                String key = admin.createApiKey(CreateApiKeyRequest.newBuilder().setAccountId("race").setUserId("u").build()).getApiKey();
                LicenseBrokerGrpc.LicenseBrokerFutureStub agent = withToken(LicenseBrokerGrpc.newFutureStub(channel), key);
                LicenseBrokerBlockingStub blocking = agent(channel, key);
                for (int round = 0; round < 5; round++) {
                    List<ListenableFuture<AcquireSessionResponse>> calls = new ArrayList<>();
                    for (int i = 0; i < 200; i++) {
                        calls.add(agent.acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m" + (i % 100)).build()));
                    }
                    List<String> granted = new ArrayList<>();
                    int denied = 0;
                    for (ListenableFuture<AcquireSessionResponse> call : calls) {
                        try {
                            granted.add(call.get(60, TimeUnit.SECONDS).getSessionId());
                        } catch (ExecutionException e) {
                            assertEquals("NO_LICENSE_AVAILABLE", reason((StatusRuntimeException) e.getCause()));
                            denied++;
                        }
                    }
                    assertEquals(50, granted.size(), "round " + round);
                    assertEquals(150, denied);
                    LicenseUsage usage = usage(admin, "race");
                    assertEquals(50, usage.getRows(0).getInUse());
                    assertEquals(0, usage.getRows(0).getAvailable());
                    for (String id : granted) {
                        blocking.releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(id).build());
                    }
                    assertEquals(0, usage(admin, "race").getRows(0).getInUse());
                }
            } finally {
                channel.shutdownNow();
            }
        }
    }

    private static LicenseAdminBlockingStub admin(ManagedChannel channel, String token) {
        return withToken(LicenseAdminGrpc.newBlockingStub(channel), token);
    }

    private static LicenseBrokerBlockingStub agent(ManagedChannel channel, String key) {
        return withToken(LicenseBrokerGrpc.newBlockingStub(channel), key);
    }

    private static LicenseUsage usage(LicenseAdminBlockingStub admin, String account) {
        return admin.getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId(account).build());
    }

    private static PoolRow row(LicenseUsage usage, String poolId) {
        return usage.getRowsList().stream().filter(r -> r.getPoolId().equals(poolId)).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + poolId + " in " + usage));
    }

    private static String after(String line, String marker) {
        return line.substring(line.lastIndexOf(marker) + marker.length()).trim();
    }

    private static Timestamp ts(Instant i) {
        return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).build();
    }
}
