package io.licensebroker.broker.grpc;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import com.google.protobuf.Timestamp;
import io.grpc.StatusRuntimeException;
import io.licensebroker.broker.testing.InProcessBroker;
import io.licensebroker.broker.testing.LogCapture;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateAdminTokenRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.CreateOrganizationRequest;
import io.licensebroker.proto.v1.DeactivateMachineRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.GrantLicenseRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseRequest;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.ListLicensedUsersRequest;
import io.licensebroker.proto.v1.ListSessionsRequest;
import io.licensebroker.proto.v1.RemoveLicenseRequest;
import io.licensebroker.proto.v1.RestoreDefaultUsagePolicyRequest;
import io.licensebroker.proto.v1.RevokeDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.SetUsagePolicyRequest;
import io.licensebroker.proto.v1.TerminateSessionRequest;
import io.licensebroker.proto.v1.TransferLicenseRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import io.licensebroker.proto.v1.UsagePolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every admin change leaves one audit line: who, what, before -> after, outcome. Reads leave none. */
final class AuditLogTest {
    private final InProcessBroker broker = new InProcessBroker(100);

    @AfterEach
    void close() {
        broker.close();
    }

    @Test
    void everyAdminChangeIsAuditedWithWhoWhatBeforeAfterAndOutcome() {
        Instant expires = broker.clock.instant().plus(Duration.ofDays(365)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        List<Map<String, String>> lines;
        String org;
        try (LogCapture capture = new LogCapture(Level.INFO, Audit.LOGGER)) {
            broker.root().createAccount(CreateAccountRequest.newBuilder().setAccountId("acme").setName("Acme").build());
            broker.root().setSubscription(SetSubscriptionRequest.newBuilder().setAccountId("acme").setLicenses(10)
                    .setMachineQuota(5).setExpiresAt(Timestamp.newBuilder().setSeconds(expires.getEpochSecond())).build());
            String admin = broker.root().createAdminToken(CreateAdminTokenRequest.newBuilder().setAccountId("acme")
                    .setRole(AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN).build()).getToken();
            org = broker.admin(admin).createOrganization(CreateOrganizationRequest.newBuilder().setAccountId("acme").setName("Ops EU").build()).getOrgId();
            broker.admin(admin).setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(org).setLicenses(5).build());
            broker.admin(admin).setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(org).setLicenses(8).build());
            assertThrows(StatusRuntimeException.class, () -> broker.admin(admin).setDedicatedLicenses(
                    SetDedicatedLicensesRequest.newBuilder().setOrgId(org).setLicenses(20).build()));
            broker.admin(admin).setUsagePolicy(SetUsagePolicyRequest.newBuilder().setAccountId("acme")
                    .setPolicy(UsagePolicy.USAGE_POLICY_STRICT).setAllowFallback(false).build());
            broker.admin(admin).restoreDefaultUsagePolicy(RestoreDefaultUsagePolicyRequest.newBuilder().setAccountId("acme").build());
            broker.admin(admin).upsertUser(UpsertUserRequest.newBuilder().setAccountId("acme").setUserId("bob").setAssignedOrgId(org).build());
            String key = broker.admin(admin).createApiKey(CreateApiKeyRequest.newBuilder().setAccountId("acme").setUserId("bob").build()).getApiKey();
            String session = broker.agent(key).acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m-1").build()).getSessionId();
            broker.admin(admin).terminateSession(TerminateSessionRequest.newBuilder().setSessionId(session).build());
            broker.admin(admin).deactivateMachine(DeactivateMachineRequest.newBuilder().setAccountId("acme").setMachineId("m-1").build());
            broker.admin(admin).issueOfflineLicense(IssueOfflineLicenseRequest.newBuilder().setAccountId("acme").setMachineId("laptop-9").build());
            broker.admin(admin).revokeDedicatedLicenses(RevokeDedicatedLicensesRequest.newBuilder().setOrgId(org).build());
            // Refused before any change: another tenant, then a token nobody issued.
            broker.root().createAccount(CreateAccountRequest.newBuilder().setAccountId("globex").setName("Globex").build());
            assertThrows(StatusRuntimeException.class, () -> broker.admin(admin).createOrganization(
                    CreateOrganizationRequest.newBuilder().setAccountId("globex").setName("Spy").build()));
            assertThrows(StatusRuntimeException.class, () -> broker.admin("lb_nosuchtokenxxxxx_" + "y".repeat(40)).setUsagePolicy(
                    SetUsagePolicyRequest.newBuilder().setAccountId("acme").setPolicy(UsagePolicy.USAGE_POLICY_STRICT).build()));
            // Reads are not audited.
            broker.admin(admin).getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId("acme").build());
            broker.admin(admin).listSessions(ListSessionsRequest.newBuilder().setAccountId("acme").build());
            lines = capture.events().stream().map(AuditLogTest::pairs).toList();
            String text = capture.text();
            assertTrue(text.contains(" logger=" + Audit.LOGGER + " "), text);
            assertTrue(text.contains(" msg=\"admin change\" rpc=SetDedicatedLicenses principal_role=ACCOUNT_ADMIN principal_account=acme org_id="
                    + org + " account_id=acme product=KRE dedicated=\"5 -> 8\" outcome=OK\n"), text);
        }

        List<String> superAdmin = List.of("principal_role", "SUPER_ADMIN");
        List<String> acmeAdmin = List.of("principal_role", "ACCOUNT_ADMIN", "principal_account", "acme");
        assertLine(lines.get(0), "CreateAccount", superAdmin, "account_id", "acme", "name", "Acme", "outcome", "OK");
        assertLine(lines.get(1), "SetSubscription", superAdmin, "account_id", "acme", "product", "KRE", "licenses", "none -> 10",
                "machine_quota", "none -> 5", "expires_at", "none -> " + expires, "license_model", "none -> SESSION", "outcome", "OK");
        assertLine(lines.get(2), "CreateAdminToken", superAdmin, "role", "ACCOUNT_ADMIN", "account_id", "acme", "outcome", "OK");
        assertLine(lines.get(3), "CreateOrganization", acmeAdmin, "account_id", "acme", "name", "Ops EU", "org_id", org, "outcome", "OK");
        assertLine(lines.get(4), "SetDedicatedLicenses", acmeAdmin, "org_id", org, "account_id", "acme", "product", "KRE",
                "dedicated", "0 -> 5", "outcome", "OK");
        assertLine(lines.get(5), "SetDedicatedLicenses", acmeAdmin, "org_id", org, "account_id", "acme", "product", "KRE",
                "dedicated", "5 -> 8", "outcome", "OK");
        assertLine(lines.get(6), "SetDedicatedLicenses", acmeAdmin, "org_id", org, "account_id", "acme", "product", "KRE",
                "requested_dedicated", "20", "outcome", "FAILED_PRECONDITION", "reason", "INSUFFICIENT_LICENSES");
        assertLine(lines.get(7), "SetUsagePolicy", acmeAdmin, "account_id", "acme", "policy", "UNRESTRICTED -> STRICT",
                "allow_fallback", "true -> false", "outcome", "OK");
        assertLine(lines.get(8), "RestoreDefaultUsagePolicy", acmeAdmin, "account_id", "acme", "policy", "STRICT -> UNRESTRICTED",
                "allow_fallback", "false -> true", "outcome", "OK");
        assertLine(lines.get(9), "UpsertUser", acmeAdmin, "account_id", "acme", "user_id", "bob", "assigned_org_id", org,
                "project_orgs", "0", "outcome", "OK");
        assertLine(lines.get(10), "CreateApiKey", acmeAdmin, "account_id", "acme", "user_id", "bob", "outcome", "OK");
        assertEquals("TerminateSession", lines.get(11).get("rpc"));
        assertEquals("true", lines.get(11).get("terminated"));
        assertEquals("acme", lines.get(11).get("account_id"));
        assertLine(lines.get(12), "DeactivateMachine", acmeAdmin, "account_id", "acme", "product", "KRE", "machine_id", "m-1",
                "deactivated", "true", "outcome", "OK");
        assertEquals("IssueOfflineLicense", lines.get(13).get("rpc"));
        assertEquals("laptop-9", lines.get(13).get("machine_id"));
        assertTrue(lines.get(13).containsKey("expires_at"));
        assertLine(lines.get(14), "RevokeDedicatedLicenses", acmeAdmin, "org_id", org, "account_id", "acme", "product", "KRE",
                "dedicated", "8 -> 0", "outcome", "OK");
        assertEquals("CreateAccount", lines.get(15).get("rpc"));
        assertLine(lines.get(16), "CreateOrganization", acmeAdmin, "account_id", "globex", "outcome", "PERMISSION_DENIED", "reason", "PERMISSION_DENIED");
        assertLine(lines.get(17), "SetUsagePolicy", List.of("principal_role", "unauthenticated"), "outcome", "UNAUTHENTICATED", "reason", "UNAUTHENTICATED");
        assertEquals(18, lines.size(), "one line per change, none for reads: " + lines);
    }

    @Test
    void anOrganizationAdminsChangeNamesItsOrganizationAndARevokedTokenItsOrganization() {
        broker.root().createAccount(CreateAccountRequest.newBuilder().setAccountId("acme").setName("Acme").build());
        String org = broker.root().createOrganization(CreateOrganizationRequest.newBuilder().setAccountId("acme").setName("Ops").build()).getOrgId();
        List<Map<String, String>> lines;
        try (LogCapture capture = new LogCapture(Level.INFO, Audit.LOGGER)) {
            var made = broker.root().createAdminToken(CreateAdminTokenRequest.newBuilder().setOrgId(org)
                    .setRole(AdminRole.ADMIN_ROLE_ORGANIZATION_ADMIN).build());
            broker.admin(made.getToken()).createOrganization(CreateOrganizationRequest.newBuilder().setAccountId("acme")
                    .setParentId(org).setName("Team").build());
            broker.root().revokeAdminToken(io.licensebroker.proto.v1.RevokeAdminTokenRequest.newBuilder().setTokenId(made.getTokenId()).build());
            lines = capture.events().stream().map(AuditLogTest::pairs).toList();
        }

        assertLine(lines.get(0), "CreateAdminToken", List.of("principal_role", "SUPER_ADMIN"), "role", "ORGANIZATION_ADMIN",
                "org_id", org, "account_id", "acme", "outcome", "OK");
        assertEquals(List.of("ORGANIZATION_ADMIN", "acme", org, "OK"), List.of(lines.get(1).get("principal_role"),
                lines.get(1).get("principal_account"), lines.get(1).get("principal_org"), lines.get(1).get("outcome")));
        assertEquals(List.of("ORGANIZATION_ADMIN", org), List.of(lines.get(2).get("role"), lines.get(2).get("org_id")));
        assertEquals(3, lines.size());
    }

    @Test
    void seatChangesAreAuditedAndARegrantSaysItCreatedNothing() {
        broker.root().createAccount(CreateAccountRequest.newBuilder().setAccountId("acme").setName("Acme").build());
        broker.root().setSubscription(SetSubscriptionRequest.newBuilder().setAccountId("acme").setProduct("KSE").setLicenses(1)
                .setMachineQuota(5).setLicenseModel(LicenseModel.LICENSE_MODEL_FLOATING)
                .setExpiresAt(Timestamp.newBuilder().setSeconds(broker.clock.instant().plus(Duration.ofDays(30)).getEpochSecond())).build());
        for (String user : List.of("ann", "ben")) {
            broker.root().upsertUser(UpsertUserRequest.newBuilder().setAccountId("acme").setUserId(user).build());
        }
        List<Map<String, String>> lines;
        try (LogCapture capture = new LogCapture(Level.INFO, Audit.LOGGER)) {
            GrantLicenseRequest grant = GrantLicenseRequest.newBuilder().setAccountId("acme").setProduct("KSE").setUserId("ann").build();
            broker.root().grantLicense(grant);
            broker.root().grantLicense(grant);
            assertThrows(StatusRuntimeException.class, () -> broker.root().grantLicense(grant.toBuilder().setUserId("ben").build()));
            broker.root().transferLicense(TransferLicenseRequest.newBuilder().setAccountId("acme").setProduct("KSE")
                    .setFromUserId("ann").setToUserId("ben").build());
            RemoveLicenseRequest remove = RemoveLicenseRequest.newBuilder().setAccountId("acme").setProduct("KSE").setUserId("ben").build();
            broker.root().removeLicense(remove);
            broker.root().removeLicense(remove);
            broker.root().listLicensedUsers(ListLicensedUsersRequest.newBuilder().setAccountId("acme").setProduct("KSE").build());
            lines = capture.events().stream().map(AuditLogTest::pairs).toList();
        }
        List<String> root = List.of("principal_role", "SUPER_ADMIN");
        List<String> ann = List.of("account_id", "acme", "product", "KSE", "user_id", "ann");
        assertLine(lines.get(0), "GrantLicense", root, concat(ann, "pool_id", "acme", "created", "true", "outcome", "OK"));
        assertLine(lines.get(1), "GrantLicense", root, concat(ann, "pool_id", "acme", "created", "false", "outcome", "OK"));
        assertLine(lines.get(2), "GrantLicense", root, "account_id", "acme", "product", "KSE", "user_id", "ben",
                "outcome", "FAILED_PRECONDITION", "reason", "INSUFFICIENT_LICENSES");
        assertLine(lines.get(3), "TransferLicense", root, "account_id", "acme", "product", "KSE", "from_user_id", "ann",
                "to_user_id", "ben", "pool_id", "acme", "outcome", "OK");
        assertLine(lines.get(4), "RemoveLicense", root, "account_id", "acme", "product", "KSE", "user_id", "ben",
                "removed", "true", "outcome", "OK");
        assertLine(lines.get(5), "RemoveLicense", root, "account_id", "acme", "product", "KSE", "user_id", "ben",
                "removed", "false", "outcome", "OK");
        assertEquals(6, lines.size(), "one line per change, none for the listing: " + lines);
    }

    private static String[] concat(List<String> head, String... tail) {
        String[] out = head.toArray(new String[head.size() + tail.length]);
        System.arraycopy(tail, 0, out, head.size(), tail.length);
        return out;
    }

    private static void assertLine(Map<String, String> line, String rpc, List<String> who, String... rest) {
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("rpc", rpc);
        for (int i = 0; i < who.size(); i += 2) {
            expected.put(who.get(i), who.get(i + 1));
        }
        for (int i = 0; i < rest.length; i += 2) {
            expected.put(rest[i], rest[i + 1]);
        }
        assertEquals(List.copyOf(expected.entrySet()), List.copyOf(line.entrySet()));
    }

    private static Map<String, String> pairs(ILoggingEvent event) {
        assertEquals("admin change", event.getFormattedMessage());
        assertEquals(Level.INFO, event.getLevel());
        Map<String, String> out = new LinkedHashMap<>();
        event.getKeyValuePairs().forEach(p -> out.put(p.key, String.valueOf(p.value)));
        return out;
    }
}
