package io.licensebroker.broker.grpc;

import com.google.protobuf.ByteString;
import io.licensebroker.broker.core.LicenseService;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.stub.MetadataUtils;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.ActivateLicenseRequest;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateAdminTokenRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.CreateOrganizationRequest;
import io.licensebroker.proto.v1.DeactivateMachineRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.GetSubscriptionRequest;
import io.licensebroker.proto.v1.GetUsagePolicyRequest;
import io.licensebroker.proto.v1.GrantLicenseRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseRequest;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseAdminGrpc.LicenseAdminBlockingStub;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc.LicenseBrokerBlockingStub;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.ListAccountsRequest;
import io.licensebroker.proto.v1.ListActivationsRequest;
import io.licensebroker.proto.v1.ListLicensedUsersRequest;
import io.licensebroker.proto.v1.ListMachinesRequest;
import io.licensebroker.proto.v1.ListProductsRequest;
import io.licensebroker.proto.v1.ListOrganizationsRequest;
import io.licensebroker.proto.v1.ListSessionsRequest;
import io.licensebroker.proto.v1.ListUsersRequest;
import io.licensebroker.proto.v1.ReleaseSessionRequest;
import io.licensebroker.proto.v1.RemoveLicenseRequest;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.RestoreDefaultUsagePolicyRequest;
import io.licensebroker.proto.v1.RevokeAdminTokenRequest;
import io.licensebroker.proto.v1.RevokeApiKeyRequest;
import io.licensebroker.proto.v1.RevokeDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.SetUsagePolicyRequest;
import io.licensebroker.proto.v1.TerminateSessionRequest;
import io.licensebroker.proto.v1.TransferLicenseRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import io.licensebroker.proto.v1.UsagePolicy;
import io.licensebroker.proto.v1.VerifyOfflineLicenseRequest;
import io.licensebroker.proto.v1.WhoAmIRequest;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.licensebroker.broker.grpc.Refusals.assertDenied;
import static io.licensebroker.broker.grpc.Refusals.assertUnauthenticated;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Authentication and tenancy over every RPC of both services: no token, a garbage token or the
 * wrong scheme is UNAUTHENTICATED; the wrong kind of credential, another tenant's account (or its
 * organization or session), or a SUPER_ADMIN-only RPC is PERMISSION_DENIED, and changes nothing.
 */
final class AuthTest {

    /** What an admin RPC is aimed at: tenant globex's things, while the caller may be acme's admin. */
    record Targets(String globexOrg, String globexSession, String globexKeyId, String globexTokenId) {
    }

    /** Every admin RPC, each aimed at account globex (or its organization or session). */
    static final Map<String, BiConsumer<LicenseAdminBlockingStub, Targets>> ADMIN = new LinkedHashMap<>();
    /** Every agent RPC. */
    static final Map<String, BiConsumer<LicenseBrokerBlockingStub, Targets>> AGENT = new LinkedHashMap<>();
    /** Admin RPCs an ACCOUNT_ADMIN may call without naming an account. */
    static final Set<String> ANY_ADMIN = Set.of("VerifyOfflineLicense", "WhoAmI");
    /** Admin RPCs only a SUPER_ADMIN may call, whatever account they name. */
    static final Set<String> SUPER_ONLY = Set.of("CreateAccount", "ListAccounts", "SetSubscription");
    /** globex's floating seat product, where erin holds a seat and carol none. */
    static final String SEATS = "KSE";

    static {
        ADMIN.put("CreateAccount", (s, t) -> s.createAccount(CreateAccountRequest.newBuilder().setAccountId("x").setName("X").build()));
        ADMIN.put("ListAccounts", (s, t) -> s.listAccounts(ListAccountsRequest.getDefaultInstance()));
        ADMIN.put("WhoAmI", (s, t) -> s.whoAmI(WhoAmIRequest.getDefaultInstance()));
        ADMIN.put("ListProducts", (s, t) -> s.listProducts(ListProductsRequest.newBuilder().setAccountId("globex").build()));
        ADMIN.put("CreateAdminToken", (s, t) -> s.createAdminToken(CreateAdminTokenRequest.newBuilder().setAccountId("globex")
                .setRole(AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN).build()));
        ADMIN.put("SetSubscription", (s, t) -> s.setSubscription(SetSubscriptionRequest.newBuilder().setAccountId("globex")
                .setLicenses(1).setMachineQuota(1).setExpiresAt(Protos.timestamp(World.START.plus(Duration.ofDays(1)))).build()));
        ADMIN.put("GetSubscription", (s, t) -> s.getSubscription(GetSubscriptionRequest.newBuilder().setAccountId("globex").build()));
        ADMIN.put("CreateOrganization", (s, t) -> s.createOrganization(CreateOrganizationRequest.newBuilder().setAccountId("globex").setName("X").build()));
        ADMIN.put("ListOrganizations", (s, t) -> s.listOrganizations(ListOrganizationsRequest.newBuilder().setAccountId("globex").build()));
        ADMIN.put("SetDedicatedLicenses", (s, t) -> s.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(t.globexOrg()).setLicenses(3).build()));
        ADMIN.put("RevokeDedicatedLicenses", (s, t) -> s.revokeDedicatedLicenses(RevokeDedicatedLicensesRequest.newBuilder().setOrgId(t.globexOrg()).build()));
        ADMIN.put("UpsertUser", (s, t) -> s.upsertUser(UpsertUserRequest.newBuilder().setAccountId("globex").setUserId("carol").build()));
        ADMIN.put("ListUsers", (s, t) -> s.listUsers(ListUsersRequest.newBuilder().setAccountId("globex").build()));
        ADMIN.put("CreateApiKey", (s, t) -> s.createApiKey(CreateApiKeyRequest.newBuilder().setAccountId("globex").setUserId("carol").build()));
        ADMIN.put("RevokeApiKey", (s, t) -> s.revokeApiKey(RevokeApiKeyRequest.newBuilder().setKeyId(t.globexKeyId()).build()));
        ADMIN.put("RevokeAdminToken", (s, t) -> s.revokeAdminToken(RevokeAdminTokenRequest.newBuilder().setTokenId(t.globexTokenId()).build()));
        ADMIN.put("SetUsagePolicy", (s, t) -> s.setUsagePolicy(SetUsagePolicyRequest.newBuilder().setAccountId("globex")
                .setPolicy(UsagePolicy.USAGE_POLICY_STRICT).setAllowFallback(false).build()));
        ADMIN.put("RestoreDefaultUsagePolicy", (s, t) -> s.restoreDefaultUsagePolicy(RestoreDefaultUsagePolicyRequest.newBuilder().setAccountId("globex").build()));
        ADMIN.put("GetUsagePolicy", (s, t) -> s.getUsagePolicy(GetUsagePolicyRequest.newBuilder().setAccountId("globex").build()));
        ADMIN.put("GetLicenseUsage", (s, t) -> s.getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId("globex").build()));
        ADMIN.put("ListSessions", (s, t) -> s.listSessions(ListSessionsRequest.newBuilder().setAccountId("globex").build()));
        ADMIN.put("TerminateSession", (s, t) -> s.terminateSession(TerminateSessionRequest.newBuilder().setSessionId(t.globexSession()).build()));
        ADMIN.put("ListMachines", (s, t) -> s.listMachines(ListMachinesRequest.newBuilder().setAccountId("globex").build()));
        ADMIN.put("DeactivateMachine", (s, t) -> s.deactivateMachine(DeactivateMachineRequest.newBuilder().setAccountId("globex").setMachineId("m1").build()));
        ADMIN.put("IssueOfflineLicense", (s, t) -> s.issueOfflineLicense(IssueOfflineLicenseRequest.newBuilder().setAccountId("globex").setMachineId("m9").build()));
        ADMIN.put("VerifyOfflineLicense", (s, t) -> s.verifyOfflineLicense(VerifyOfflineLicenseRequest.newBuilder()
                .setLicenseFile(ByteString.copyFromUtf8("not a license")).build()));
        ADMIN.put("GrantLicense", (s, t) -> s.grantLicense(GrantLicenseRequest.newBuilder().setAccountId("globex")
                .setProduct(SEATS).setUserId("carol").build()));
        ADMIN.put("RemoveLicense", (s, t) -> s.removeLicense(RemoveLicenseRequest.newBuilder().setAccountId("globex")
                .setProduct(SEATS).setUserId("erin").build()));
        ADMIN.put("TransferLicense", (s, t) -> s.transferLicense(TransferLicenseRequest.newBuilder().setAccountId("globex")
                .setProduct(SEATS).setFromUserId("erin").setToUserId("carol").build()));
        ADMIN.put("ListLicensedUsers", (s, t) -> s.listLicensedUsers(ListLicensedUsersRequest.newBuilder().setAccountId("globex")
                .setProduct(SEATS).build()));
        ADMIN.put("ListActivations", (s, t) -> s.listActivations(ListActivationsRequest.newBuilder().setAccountId("globex")
                .setProduct(SEATS).build()));
        ADMIN.put("GetUsageHistory", (s, t) -> s.getUsageHistory(HistoryRpcTest.history("globex", World.START,
                World.START.plusSeconds(60), java.time.Duration.ofMinutes(1)).build()));
        ADMIN.put("GetDenialReport", (s, t) -> s.getDenialReport(HistoryRpcTest.report("globex", World.START, World.START.plusSeconds(60)).build()));

        AGENT.put("AcquireSession", (s, t) -> s.acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m1").build()));
        AGENT.put("RenewSession", (s, t) -> s.renewSession(RenewSessionRequest.newBuilder().setSessionId(t.globexSession()).build()));
        AGENT.put("ReleaseSession", (s, t) -> s.releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(t.globexSession()).build()));
        AGENT.put("ActivateLicense", (s, t) -> s.activateLicense(ActivateLicenseRequest.newBuilder().setProduct(SEATS).setMachineId("m1").build()));
    }

    @Test
    void theTablesCoverEveryRpc() {
        assertEquals(methodNames(LicenseAdminGrpc.getServiceDescriptor().getMethods()), ADMIN.keySet());
        assertEquals(methodNames(LicenseBrokerGrpc.getServiceDescriptor().getMethods()), AGENT.keySet());
    }

    private static Set<String> methodNames(java.util.Collection<MethodDescriptor<?, ?>> methods) {
        return methods.stream().map(MethodDescriptor::getBareMethodName).collect(Collectors.toSet());
    }

    private static Targets targets(World w) {
        w.seats("globex", SEATS, 10, 10, LicenseModel.LICENSE_MODEL_FLOATING);
        w.userKey("globex", "erin", null);
        w.grant("globex", SEATS, "erin");
        return new Targets(w.globexOrg, w.acquire(w.carolKey, "m1").getSessionId(),
                LicenseService.lookupIdOf(w.carolKey).orElseThrow(), LicenseService.lookupIdOf(w.globexAdmin).orElseThrow());
    }

    private static LicenseAdminBlockingStub adminStub(World w, String header) {
        return World.withAuthorization(LicenseAdminGrpc.newBlockingStub(w.channel()), header);
    }

    private static LicenseBrokerBlockingStub agentStub(World w, String header) {
        return World.withAuthorization(LicenseBrokerGrpc.newBlockingStub(w.channel()), header);
    }

    /** Bad authorization headers: absent, unknown token, wrong scheme, malformed. */
    static final Map<String, String> BAD_HEADERS = new LinkedHashMap<>();

    static {
        BAD_HEADERS.put("no authorization header", null);
        BAD_HEADERS.put("a garbage token", "Bearer garbage");
        BAD_HEADERS.put("a well-formed unknown token", "Bearer lb_" + "a".repeat(16) + "_" + "b".repeat(40));
        BAD_HEADERS.put("the Basic scheme", "Basic " + World.ROOT);
        BAD_HEADERS.put("a token without scheme", World.ROOT);
        BAD_HEADERS.put("an empty token", "Bearer ");
        BAD_HEADERS.put("a token with a space", "Bearer a b");
        BAD_HEADERS.put("a token of 513 characters", "Bearer " + "t".repeat(513));
    }

    @TestFactory
    Stream<DynamicTest> badCredentialsAreUnauthenticatedOnEveryRpc() {
        Stream<DynamicTest> admin = ADMIN.entrySet().stream().flatMap(rpc -> BAD_HEADERS.entrySet().stream().map(h ->
                DynamicTest.dynamicTest(rpc.getKey() + " with " + h.getKey(), () -> {
                    try (World w = World.standard()) {
                        Targets t = targets(w);
                        assertUnauthenticated(() -> rpc.getValue().accept(adminStub(w, h.getValue()), t));
                    }
                })));
        Stream<DynamicTest> agent = AGENT.entrySet().stream().flatMap(rpc -> BAD_HEADERS.entrySet().stream().map(h ->
                DynamicTest.dynamicTest(rpc.getKey() + " with " + h.getKey(), () -> {
                    try (World w = World.standard()) {
                        Targets t = targets(w);
                        assertUnauthenticated(() -> rpc.getValue().accept(agentStub(w, h.getValue()), t));
                    }
                })));
        return Stream.concat(admin, agent);
    }

    @TestFactory
    Stream<DynamicTest> anApiKeyIsDeniedOnEveryAdminRpc() {
        return ADMIN.entrySet().stream().map(rpc -> DynamicTest.dynamicTest(rpc.getKey(), () -> {
            try (World w = World.standard()) {
                Targets t = targets(w);
                assertDenied(() -> rpc.getValue().accept(w.admin(w.carolKey), t));
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> adminTokensAreDeniedOnEveryAgentRpc() {
        return AGENT.entrySet().stream().flatMap(rpc -> Stream.of("ACCOUNT_ADMIN", "SUPER_ADMIN", "ORGANIZATION_ADMIN").map(role ->
                DynamicTest.dynamicTest(rpc.getKey() + " with a " + role + " token", () -> {
                    try (World w = World.standard()) {
                        Targets t = targets(w);
                        String token = switch (role) {
                            case "SUPER_ADMIN" -> World.ROOT;
                            case "ORGANIZATION_ADMIN" -> w.orgAdmin(w.globexOrg);
                            default -> w.globexAdmin;
                        };
                        assertDenied(() -> rpc.getValue().accept(w.agent(token), t));
                    }
                })));
    }

    /**
     * acme's ACCOUNT_ADMIN on every admin RPC aimed at globex: refused, and globex is unchanged
     * (its whole visible state is compared before and after).
     */
    @TestFactory
    Stream<DynamicTest> anAccountAdminIsDeniedOnEveryRpcNamingAnotherAccount() {
        return ADMIN.entrySet().stream().filter(rpc -> !ANY_ADMIN.contains(rpc.getKey())).map(rpc ->
                DynamicTest.dynamicTest(rpc.getKey(), () -> {
                    try (World w = World.standard()) {
                        Targets t = targets(w);
                        List<Object> before = snapshot(w, "globex");
                        assertDenied(() -> rpc.getValue().accept(w.admin(w.acmeAdmin), t));
                        assertEquals(before, snapshot(w, "globex"));
                        assertEquals(List.of("acme", "globex"), w.root().listAccounts(ListAccountsRequest.getDefaultInstance())
                                .getAccountsList().stream().map(a -> a.getAccountId()).toList());
                    }
                }));
    }

    @TestFactory
    Stream<DynamicTest> superAdminOnlyRpcsRefuseAnAccountAdminOfTheNamedAccount() {
        return SUPER_ONLY.stream().sorted().map(name -> DynamicTest.dynamicTest(name, () -> {
            try (World w = World.standard()) {
                Targets t = targets(w);
                assertDenied(() -> ADMIN.get(name).accept(w.admin(w.globexAdmin), t));
            }
        }));
    }

    /** The same calls succeed for the SUPER_ADMIN and for globex's own admin: the denials above are about rights only. */
    @TestFactory
    Stream<DynamicTest> theOwnersMayCallEveryAdminRpc() {
        return ADMIN.entrySet().stream().filter(rpc -> !rpc.getKey().equals("VerifyOfflineLicense")).map(rpc ->
                DynamicTest.dynamicTest(rpc.getKey(), () -> {
                    try (World w = World.standard()) {
                        Targets t = targets(w);
                        String token = SUPER_ONLY.contains(rpc.getKey()) ? World.ROOT : w.globexAdmin;
                        rpc.getValue().accept(w.admin(token), t);
                    }
                }));
    }

    @Test
    void theSchemeIsCaseInsensitive() {
        try (World w = World.standard()) {
            for (String scheme : List.of("bearer", "BEARER", "bEaReR")) {
                adminStub(w, scheme + " " + World.ROOT).listAccounts(ListAccountsRequest.getDefaultInstance());
            }
        }
    }

    @Test
    void twoAuthorizationHeadersAreUnauthenticated() {
        try (World w = World.standard()) {
            Metadata headers = new Metadata();
            headers.put(AuthInterceptor.AUTHORIZATION, "Bearer " + World.ROOT);
            headers.put(AuthInterceptor.AUTHORIZATION, "Bearer " + w.acmeAdmin);
            LicenseAdminBlockingStub stub = LicenseAdminGrpc.newBlockingStub(w.channel())
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
            assertUnauthenticated(() -> stub.listAccounts(ListAccountsRequest.getDefaultInstance()));
        }
    }

    /** Everything an admin can see of an account. */
    private static List<Object> snapshot(World w, String account) {
        return List.of(
                w.root().getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId(account).build()),
                w.root().listOrganizations(ListOrganizationsRequest.newBuilder().setAccountId(account).build()),
                w.root().listUsers(ListUsersRequest.newBuilder().setAccountId(account).build()),
                w.root().getUsagePolicy(GetUsagePolicyRequest.newBuilder().setAccountId(account).build()),
                w.root().getSubscription(GetSubscriptionRequest.newBuilder().setAccountId(account).build()),
                w.root().listSessions(ListSessionsRequest.newBuilder().setAccountId(account).build()),
                w.root().listMachines(ListMachinesRequest.newBuilder().setAccountId(account).build()),
                w.root().getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId(account).setProduct(SEATS).build()),
                w.root().listLicensedUsers(ListLicensedUsersRequest.newBuilder().setAccountId(account).setProduct(SEATS).build()),
                w.root().listActivations(ListActivationsRequest.newBuilder().setAccountId(account).setProduct(SEATS).build()));
    }
}
