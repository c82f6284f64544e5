package io.licensebroker.broker.logging;

import ch.qos.logback.classic.Level;
import io.grpc.StatusRuntimeException;
import io.licensebroker.broker.testing.InProcessBroker;
import io.licensebroker.broker.testing.LogCapture;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateAdminTokenRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.CreateOrganizationRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseResponse;
import io.licensebroker.proto.v1.ReleaseSessionRequest;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.SetDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import io.licensebroker.proto.v1.VerifyOfflineLicenseRequest;
import com.google.protobuf.Timestamp;
import org.junit.jupiter.api.Test;
import org.slf4j.bridge.SLF4JBridgeHandler;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A full scenario with every log level enabled, java.util.logging routed in as in production, in
 * both formats: no token, API key (nor either's secret half or lookup id), refused credential or
 * license signature appears anywhere in what was logged.
 */
final class NoSecretsInLogsTest {

    @Test
    void noSecretIsEverLogged() {
        if (!SLF4JBridgeHandler.isInstalled()) {
            SLF4JBridgeHandler.removeHandlersForRootLogger();
            SLF4JBridgeHandler.install();
        }
        List<String> secrets = new ArrayList<>(List.of(InProcessBroker.ROOT));
        String text;
        String json;
        int auditLines;
        try (LogCapture capture = new LogCapture(Level.TRACE, "io.licensebroker.broker.audit");
             InProcessBroker broker = new InProcessBroker(100)) {
            Timestamp year = Timestamp.newBuilder().setSeconds(broker.clock.instant().plus(Duration.ofDays(365)).getEpochSecond()).build();
            broker.root().createAccount(CreateAccountRequest.newBuilder().setAccountId("acme").setName("Acme").build());
            broker.root().setSubscription(SetSubscriptionRequest.newBuilder().setAccountId("acme").setLicenses(2).setMachineQuota(5).setExpiresAt(year).build());
            String superAdmin = broker.root().createAdminToken(CreateAdminTokenRequest.newBuilder()
                    .setRole(AdminRole.ADMIN_ROLE_SUPER_ADMIN).build()).getToken();
            String admin = broker.admin(superAdmin).createAdminToken(CreateAdminTokenRequest.newBuilder().setAccountId("acme")
                    .setRole(AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN).build()).getToken();
            secrets.add(superAdmin);
            secrets.add(admin);
            String org = broker.admin(admin).createOrganization(CreateOrganizationRequest.newBuilder().setAccountId("acme").setName("Eng").build()).getOrgId();
            broker.admin(admin).setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(org).setLicenses(1).build());
            broker.admin(admin).upsertUser(UpsertUserRequest.newBuilder().setAccountId("acme").setUserId("alice").setAssignedOrgId(org).build());
            String key = broker.admin(admin).createApiKey(CreateApiKeyRequest.newBuilder().setAccountId("acme").setUserId("alice").build()).getApiKey();
            String otherKey = broker.admin(admin).createApiKey(CreateApiKeyRequest.newBuilder().setAccountId("acme").setUserId("alice").build()).getApiKey();
            secrets.add(key);
            secrets.add(otherKey);

            String session = broker.agent(key).acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m-1").setRequestId("r-1").build()).getSessionId();
            broker.agent(key).renewSession(RenewSessionRequest.newBuilder().setSessionId(session).build());
            String fallback = broker.agent(otherKey).acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m-2").build()).getSessionId();
            assertThrows(StatusRuntimeException.class, () -> broker.agent(otherKey).acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m-3").build()));
            broker.agent(key).releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(session).build());
            broker.agent(otherKey).releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(fallback).build());

            IssueOfflineLicenseResponse offline = broker.admin(admin).issueOfflineLicense(IssueOfflineLicenseRequest.newBuilder()
                    .setAccountId("acme").setMachineId("laptop").build());
            String file = offline.getLicenseFile().toString(StandardCharsets.UTF_8);
            secrets.add(file.substring(file.indexOf("signature=") + "signature=".length()).trim());
            broker.admin(admin).verifyOfflineLicense(VerifyOfflineLicenseRequest.newBuilder().setLicenseFile(offline.getLicenseFile()).build());

            // Credentials that fail: unknown, malformed, an API key on an admin RPC, an admin token on an agent RPC.
            String unknown = "lb_aaaaaaaaaaaaaaaa_" + "b".repeat(40);
            String malformed = "not-a-broker-token-but-secret-all-the-same-42";
            secrets.add(unknown);
            secrets.add(malformed);
            assertThrows(StatusRuntimeException.class, () -> broker.admin(unknown).getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId("acme").build()));
            assertThrows(StatusRuntimeException.class, () -> broker.agent(malformed).acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m-9").build()));
            assertThrows(StatusRuntimeException.class, () -> broker.admin(key).getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId("acme").build()));
            assertThrows(StatusRuntimeException.class, () -> broker.agent(admin).acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m-9").build()));
            broker.metrics.scrape();

            text = capture.text();
            json = capture.json();
            auditLines = capture.events().size();
        }
        assertTrue(auditLines >= 8, "the scenario was logged (" + auditLines + " audit lines)");
        assertFalse(text.isEmpty());
        assertEquals(text.lines().count(), json.lines().count(), "the same events in both formats");
        for (String secret : secrets) {
            for (String fragment : fragments(secret)) {
                assertFalse(text.contains(fragment), "the text log contains a secret fragment " + fragment);
                assertFalse(json.contains(fragment), "the JSON log contains a secret fragment " + fragment);
            }
        }
    }

    /** The secret itself, for broker tokens (lb_<lookup>_<secret>) each half alone, and each in hex (as a bytes dump shows it). */
    private static List<String> fragments(String secret) {
        List<String> out = new ArrayList<>(List.of(secret));
        if (secret.startsWith("lb_")) {
            out.addAll(List.of(secret.substring(3).split("_")));
        }
        for (String s : List.copyOf(out)) {
            out.add(HexFormat.of().formatHex(s.getBytes(StandardCharsets.UTF_8)));
        }
        return out;
    }
}
