package io.licensebroker.broker.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Timestamp;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateAdminTokenRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.licensebroker.broker.e2e.GrpcClients.withToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shipped jar's logs and settings as an operator meets them. */
class OperabilityIT {
    private static final String ADMIN = "operability-it-super-admin-token-0123456789";
    private static final Set<String> OPERATOR_LINE_PREFIXES = Set.of("metrics on ", "console on ", "listening on ", "stopped");

    @TempDir
    Path dataDir;

    /**
     * Every log level on, real Netty (whose HTTP/2 frame logger would print request headers,
     * bearer tokens included, at debug level), JSON format: every log line is one JSON object,
     * and no credential appears anywhere in the process's output.
     */
    @Test
    void jsonLogsAtTraceLevelCarryNoSecret() throws Exception {
        List<String> secrets = new ArrayList<>(List.of(ADMIN));
        BrokerProcess broker = BrokerProcess.start(dataDir, "--admin-token", ADMIN, "--log-format", "json", "--log-level", "trace");
        try {
            ManagedChannel channel = GrpcClients.channel(broker.port());
            try {
                LicenseAdminGrpc.LicenseAdminBlockingStub root = withToken(LicenseAdminGrpc.newBlockingStub(channel), ADMIN);
                root.createAccount(CreateAccountRequest.newBuilder().setAccountId("acme").setName("Acme").build());
                root.setSubscription(SetSubscriptionRequest.newBuilder().setAccountId("acme").setLicenses(5).setMachineQuota(5)
                        .setExpiresAt(Timestamp.newBuilder().setSeconds(Instant.now().plusSeconds(86_400).getEpochSecond())).build());
                String admin = root.createAdminToken(CreateAdminTokenRequest.newBuilder().setAccountId("acme")
                        .setRole(AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN).build()).getToken();
                root.upsertUser(UpsertUserRequest.newBuilder().setAccountId("acme").setUserId("alice").build());
                String key = withToken(LicenseAdminGrpc.newBlockingStub(channel), admin)
                        .createApiKey(CreateApiKeyRequest.newBuilder().setAccountId("acme").setUserId("alice").build()).getApiKey();
                secrets.add(admin);
                secrets.add(key);
                LicenseBrokerGrpc.LicenseBrokerBlockingStub agent = withToken(LicenseBrokerGrpc.newBlockingStub(channel), key);
                String session = agent.acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m-1").build()).getSessionId();
                agent.renewSession(RenewSessionRequest.newBuilder().setSessionId(session).build());
                String wrong = "lb_zzzzzzzzzzzzzzzz_" + "q".repeat(40);
                secrets.add(wrong);
                assertThrows(StatusRuntimeException.class, () -> withToken(LicenseAdminGrpc.newBlockingStub(channel), wrong)
                        .getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId("acme").build()));
            } finally {
                channel.shutdownNow();
                channel.awaitTermination(10, TimeUnit.SECONDS);
            }
            assertEquals(0, broker.terminate());
        } finally {
            broker.close();
        }

        ObjectMapper mapper = new ObjectMapper();
        int audit = 0;
        for (String line : broker.output()) {
            if (OPERATOR_LINE_PREFIXES.stream().anyMatch(line::startsWith)) {
                continue;
            }
            JsonNode json = mapper.readTree(line);
            assertTrue(json.isObject() && json.has("@timestamp") && json.has("level") && json.has("message"), line);
            if ("io.licensebroker.broker.audit".equals(json.get("logger_name").asText())) {
                audit++;
                assertTrue(json.has("rpc") && json.has("principal_role") && json.has("outcome"), line);
            }
        }
        assertEquals(5, audit, "one audit object per admin change (the refused call was a read): " + broker.output());
        String all = String.join("\n", broker.output()).toLowerCase(java.util.Locale.ROOT);
        for (String secret : secrets) {
            String half = secret.substring(secret.lastIndexOf('_') + 1);
            for (String fragment : List.of(secret, half, HexFormat.of().formatHex(half.getBytes(StandardCharsets.UTF_8)))) {
                assertFalse(all.contains(fragment.toLowerCase(java.util.Locale.ROOT)), "a credential reached the output (as " + fragment + ")");
            }
        }
    }

    @Test
    void aBadSettingStopsTheBrokerAtStartWithExitCodeTwo() throws Exception {
        Path config = Files.writeString(dataDir.resolve("broker.yaml"), "port: 0\nlease-ttl: 2 minutes\nmetrics-max-pool: 5\n");
        String jar = System.getProperty("broker.jar", "target/license-broker.jar");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar,
                "serve", "--config", config.toString(), "--data-dir", dataDir.resolve("data").toString()).start();
        p.getOutputStream().close();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(2, p.exitValue(), err);
        assertEquals("", out);
        assertTrue(err.contains("--lease-ttl [BROKER_LEASE_TTL]: not a duration: '2 minutes'"), err);
        assertTrue(err.contains("unknown setting 'metrics-max-pool'"), err);
        assertFalse(Files.exists(dataDir.resolve("data")), "nothing was started");
    }
}
