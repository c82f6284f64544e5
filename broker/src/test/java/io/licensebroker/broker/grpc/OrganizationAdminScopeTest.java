package io.licensebroker.broker.grpc;

import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.licensebroker.broker.grpc.OrgTreeWorld.Caller;
import io.licensebroker.broker.grpc.OrgTreeWorld.Target;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateAdminTokenRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.CreateOrganizationRequest;
import io.licensebroker.proto.v1.DeactivateMachineRequest;
import io.licensebroker.proto.v1.GetDenialReportRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.GetSubscriptionRequest;
import io.licensebroker.proto.v1.GetUsageHistoryRequest;
import io.licensebroker.proto.v1.GetUsagePolicyRequest;
import io.licensebroker.proto.v1.GrantLicenseRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseRequest;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseAdminGrpc.LicenseAdminBlockingStub;
import io.licensebroker.proto.v1.ListAccountsRequest;
import io.licensebroker.proto.v1.ListActivationsRequest;
import io.licensebroker.proto.v1.ListLicensedUsersRequest;
import io.licensebroker.proto.v1.ListMachinesRequest;
import io.licensebroker.proto.v1.ListProductsRequest;
import io.licensebroker.proto.v1.ListOrganizationsRequest;
import io.licensebroker.proto.v1.ListSessionsRequest;
import io.licensebroker.proto.v1.ListUsersRequest;
import io.licensebroker.proto.v1.RemoveLicenseRequest;
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
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.licensebroker.broker.grpc.OrgTreeWorld.Target.A;
import static io.licensebroker.broker.grpc.OrgTreeWorld.Target.A1;
import static io.licensebroker.broker.grpc.OrgTreeWorld.Target.A2;
import static io.licensebroker.broker.grpc.OrgTreeWorld.Target.ACCOUNT;
import static io.licensebroker.broker.grpc.OrgTreeWorld.Target.B;
import static io.licensebroker.broker.grpc.OrgTreeWorld.Target.OTHER_ACCOUNT;
import static io.licensebroker.broker.grpc.Refusals.assertDenied;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Who may call which admin RPC on what (CONTRACT.md section 6): every RPC of LicenseAdmin, by every
 * kind of caller ({@link Caller}), aimed inside or outside an org admin's subtree ({@link Target}).
 * A row names the rule its RPC follows; the expected answer of each caller follows from the rule
 * alone, so the table reads as the section. "Allowed" means the gate let the call through (its
 * own outcome may be a success or a refusal of the rules, never PERMISSION_DENIED nor one of the
 * answers that would hide a broken call); "denied" means PERMISSION_DENIED and both accounts
 * unchanged. A method of the service without a row fails {@link #everyRpcOfTheServiceHasARow}.
 */
final class OrganizationAdminScopeTest {

    /** Who passes the gate, for the row's target. */
    enum Rule {
        /** SUPER_ADMIN only. */
        SUPER_ONLY,
        /** The admins of the whole target account; never an org admin. */
        WHOLE_ACCOUNT,
        /** Any admin of a whole account, whatever account (VerifyOfflineLicense names none). */
        ANY_WHOLE_ACCOUNT_ADMIN,
        /** Every admin token, of every role (WhoAmI names nothing and tells only the caller about itself). */
        ANY_ADMIN,
        /** As WHOLE_ACCOUNT, and an org admin in its own account (it sees its subtree's part). */
        OWN_ACCOUNT,
        /** As WHOLE_ACCOUNT, and an org admin whose subtree holds the target. */
        SUBTREE,
        /** As WHOLE_ACCOUNT, and an org admin whose subtree holds the target strictly below its own organization. */
        BELOW
    }

    interface Call {
        void run(LicenseAdminBlockingStub stub, OrgTreeWorld f, Target t);
    }

    record Row(String rpc, String variant, Rule rule, Set<Target> targets, Call call) {
    }

    private static final Set<Target> NODES_AND_OTHER = EnumSet.of(A, A1, A2, B, OTHER_ACCOUNT);
    private static final Set<Target> EVERYWHERE = EnumSet.allOf(Target.class);
    private static final Set<Target> ACCOUNTS = EnumSet.of(ACCOUNT, OTHER_ACCOUNT);
    private static final Set<Target> NO_TARGET = EnumSet.of(ACCOUNT);

    static final List<Row> ROWS = new ArrayList<>();

    private static void row(String rpc, String variant, Rule rule, Set<Target> targets, Call call) {
        ROWS.add(new Row(rpc, variant, rule, targets, call));
    }

    static {
        row("CreateAccount", "", Rule.SUPER_ONLY, NO_TARGET,
                (s, f, t) -> s.createAccount(CreateAccountRequest.newBuilder().setAccountId("initech").setName("Initech").build()));
        row("ListAccounts", "", Rule.SUPER_ONLY, NO_TARGET, (s, f, t) -> s.listAccounts(ListAccountsRequest.getDefaultInstance()));
        row("WhoAmI", "", Rule.ANY_ADMIN, NO_TARGET, (s, f, t) -> s.whoAmI(WhoAmIRequest.getDefaultInstance()));
        row("ListProducts", "", Rule.OWN_ACCOUNT, ACCOUNTS,
                (s, f, t) -> s.listProducts(ListProductsRequest.newBuilder().setAccountId(f.account(t)).build()));
        row("CreateAdminToken", "organization admin of the target", Rule.SUBTREE, NODES_AND_OTHER,
                (s, f, t) -> s.createAdminToken(CreateAdminTokenRequest.newBuilder().setOrgId(f.org(t))
                        .setRole(AdminRole.ADMIN_ROLE_ORGANIZATION_ADMIN).build()));
        row("CreateAdminToken", "account admin", Rule.WHOLE_ACCOUNT, ACCOUNTS,
                (s, f, t) -> s.createAdminToken(CreateAdminTokenRequest.newBuilder().setAccountId(f.account(t))
                        .setRole(AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN).build()));
        row("CreateAdminToken", "super admin", Rule.SUPER_ONLY, NO_TARGET,
                (s, f, t) -> s.createAdminToken(CreateAdminTokenRequest.newBuilder().setRole(AdminRole.ADMIN_ROLE_SUPER_ADMIN).build()));
        row("RevokeAdminToken", "organization admin token of the target", Rule.SUBTREE, NODES_AND_OTHER,
                (s, f, t) -> s.revokeAdminToken(RevokeAdminTokenRequest.newBuilder().setTokenId(OrgTreeWorld.keyId(f.orgTokens.get(t))).build()));
        row("RevokeAdminToken", "account admin token", Rule.WHOLE_ACCOUNT, ACCOUNTS,
                (s, f, t) -> s.revokeAdminToken(RevokeAdminTokenRequest.newBuilder().setTokenId(OrgTreeWorld.keyId(f.accountTokens.get(t))).build()));
        row("RevokeAdminToken", "super admin token", Rule.SUPER_ONLY, NO_TARGET,
                (s, f, t) -> s.revokeAdminToken(RevokeAdminTokenRequest.newBuilder().setTokenId(OrgTreeWorld.keyId(f.superToken)).build()));
        row("SetSubscription", "", Rule.SUPER_ONLY, ACCOUNTS,
                (s, f, t) -> s.setSubscription(SetSubscriptionRequest.newBuilder().setAccountId(f.account(t)).setLicenses(90)
                        .setMachineQuota(10).setExpiresAt(f.w.inFuture(Duration.ofDays(30))).build()));
        // Read-only, yet "subscriptions" are outside an org admin's scope (section 6); GetLicenseUsage shows it the figures.
        row("GetSubscription", "", Rule.WHOLE_ACCOUNT, ACCOUNTS,
                (s, f, t) -> s.getSubscription(GetSubscriptionRequest.newBuilder().setAccountId(f.account(t)).build()));
        // ACCOUNT: an empty parent, directly under the account.
        row("CreateOrganization", "under the target", Rule.SUBTREE, EVERYWHERE,
                (s, f, t) -> s.createOrganization(CreateOrganizationRequest.newBuilder().setAccountId(f.account(t))
                        .setParentId(t == ACCOUNT ? "" : f.org(t)).setName("New").build()));
        row("ListOrganizations", "", Rule.OWN_ACCOUNT, ACCOUNTS,
                (s, f, t) -> s.listOrganizations(ListOrganizationsRequest.newBuilder().setAccountId(f.account(t)).build()));
        row("SetDedicatedLicenses", "", Rule.BELOW, NODES_AND_OTHER,
                (s, f, t) -> s.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(f.org(t)).setLicenses(3).build()));
        row("RevokeDedicatedLicenses", "", Rule.BELOW, NODES_AND_OTHER,
                (s, f, t) -> s.revokeDedicatedLicenses(RevokeDedicatedLicensesRequest.newBuilder().setOrgId(f.org(t)).build()));
        // ACCOUNT: a user assigned nowhere (the account pool).
        row("UpsertUser", "a new user assigned to the target", Rule.SUBTREE, EVERYWHERE,
                (s, f, t) -> s.upsertUser(UpsertUserRequest.newBuilder().setAccountId(f.account(t)).setUserId("newbie")
                        .setAssignedOrgId(t == ACCOUNT ? "" : f.org(t)).build()));
        row("UpsertUser", "the target's user, unchanged", Rule.SUBTREE, EnumSet.of(A, A1, A2, B, ACCOUNT),
                (s, f, t) -> s.upsertUser(UpsertUserRequest.newBuilder().setAccountId(f.account(t)).setUserId(f.users.get(t))
                        .setAssignedOrgId(t == ACCOUNT ? "" : f.org(t)).build()));
        row("ListUsers", "", Rule.OWN_ACCOUNT, ACCOUNTS,
                (s, f, t) -> s.listUsers(ListUsersRequest.newBuilder().setAccountId(f.account(t)).build()));
        row("CreateApiKey", "of the target's user", Rule.SUBTREE, EVERYWHERE,
                (s, f, t) -> s.createApiKey(CreateApiKeyRequest.newBuilder().setAccountId(f.account(t)).setUserId(f.users.get(t)).build()));
        row("RevokeApiKey", "of the target's user", Rule.SUBTREE, EVERYWHERE,
                (s, f, t) -> s.revokeApiKey(RevokeApiKeyRequest.newBuilder().setKeyId(OrgTreeWorld.keyId(f.keys.get(t))).build()));
        row("SetUsagePolicy", "", Rule.WHOLE_ACCOUNT, ACCOUNTS,
                (s, f, t) -> s.setUsagePolicy(SetUsagePolicyRequest.newBuilder().setAccountId(f.account(t))
                        .setPolicy(UsagePolicy.USAGE_POLICY_STRICT).setAllowFallback(false).build()));
        row("RestoreDefaultUsagePolicy", "", Rule.WHOLE_ACCOUNT, ACCOUNTS,
                (s, f, t) -> s.restoreDefaultUsagePolicy(RestoreDefaultUsagePolicyRequest.newBuilder().setAccountId(f.account(t)).build()));
        row("GetUsagePolicy", "", Rule.WHOLE_ACCOUNT, ACCOUNTS,
                (s, f, t) -> s.getUsagePolicy(GetUsagePolicyRequest.newBuilder().setAccountId(f.account(t)).build()));
        row("GetLicenseUsage", "", Rule.OWN_ACCOUNT, ACCOUNTS,
                (s, f, t) -> s.getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId(f.account(t)).build()));
        row("ListSessions", "every pool", Rule.OWN_ACCOUNT, ACCOUNTS,
                (s, f, t) -> s.listSessions(ListSessionsRequest.newBuilder().setAccountId(f.account(t)).build()));
        // ACCOUNT, OTHER_ACCOUNT: the account pool of acme, of globex.
        row("ListSessions", "the target's pool", Rule.SUBTREE, EVERYWHERE,
                (s, f, t) -> s.listSessions(ListSessionsRequest.newBuilder().setAccountId(f.account(t)).setPoolId(f.pool(t)).build()));
        row("TerminateSession", "drawing from the target's pool", Rule.SUBTREE, EVERYWHERE,
                (s, f, t) -> s.terminateSession(TerminateSessionRequest.newBuilder().setSessionId(f.sessions.get(t)).build()));
        row("ListMachines", "", Rule.WHOLE_ACCOUNT, ACCOUNTS,
                (s, f, t) -> s.listMachines(ListMachinesRequest.newBuilder().setAccountId(f.account(t)).build()));
        row("DeactivateMachine", "", Rule.WHOLE_ACCOUNT, ACCOUNTS,
                (s, f, t) -> s.deactivateMachine(DeactivateMachineRequest.newBuilder().setAccountId(f.account(t))
                        .setMachineId("m-" + t.name().toLowerCase()).build()));
        row("IssueOfflineLicense", "", Rule.WHOLE_ACCOUNT, ACCOUNTS,
                (s, f, t) -> s.issueOfflineLicense(IssueOfflineLicenseRequest.newBuilder().setAccountId(f.account(t)).setMachineId("m-new").build()));
        // Seats: ACCOUNT, OTHER_ACCOUNT name the account pool of acme, of globex.
        row("GrantLicense", "from the target's pool", Rule.SUBTREE, EVERYWHERE,
                (s, f, t) -> s.grantLicense(GrantLicenseRequest.newBuilder().setAccountId(f.account(t)).setProduct(OrgTreeWorld.SEATS)
                        .setUserId(f.spares.get(t == OTHER_ACCOUNT ? OTHER_ACCOUNT : ACCOUNT)).setPoolId(f.pool(t)).build()));
        row("GrantLicense", "from the default pool of a user assigned to the target", Rule.SUBTREE, EVERYWHERE,
                (s, f, t) -> s.grantLicense(GrantLicenseRequest.newBuilder().setAccountId(f.account(t)).setProduct(OrgTreeWorld.SEATS)
                        .setUserId(f.spares.get(t)).build()));
        row("RemoveLicense", "the seat of the target's user", Rule.SUBTREE, EVERYWHERE,
                (s, f, t) -> s.removeLicense(RemoveLicenseRequest.newBuilder().setAccountId(f.account(t)).setProduct(OrgTreeWorld.SEATS)
                        .setUserId(f.users.get(t)).build()));
        row("TransferLicense", "the seat of the target's user, to a user without one", Rule.SUBTREE, EVERYWHERE,
                (s, f, t) -> s.transferLicense(TransferLicenseRequest.newBuilder().setAccountId(f.account(t)).setProduct(OrgTreeWorld.SEATS)
                        .setFromUserId(f.users.get(t)).setToUserId(f.spares.get(t)).build()));
        // Not on B: the seat of A2 is outside B's subtree whatever the target.
        row("TransferLicense", "a seat of A2 into the target's pool", Rule.SUBTREE, EnumSet.of(A, A1, A2, ACCOUNT),
                (s, f, t) -> s.transferLicense(TransferLicenseRequest.newBuilder().setAccountId("acme").setProduct(OrgTreeWorld.SEATS)
                        .setFromUserId(f.users.get(A2)).setToUserId(f.spares.get(ACCOUNT)).setPoolId(f.pool(t)).build()));
        row("ListLicensedUsers", "every pool", Rule.OWN_ACCOUNT, ACCOUNTS,
                (s, f, t) -> s.listLicensedUsers(ListLicensedUsersRequest.newBuilder().setAccountId(f.account(t)).setProduct(OrgTreeWorld.SEATS).build()));
        row("ListLicensedUsers", "the target's pool", Rule.SUBTREE, EVERYWHERE,
                (s, f, t) -> s.listLicensedUsers(ListLicensedUsersRequest.newBuilder().setAccountId(f.account(t)).setProduct(OrgTreeWorld.SEATS)
                        .setPoolId(f.pool(t)).build()));
        row("ListActivations", "", Rule.OWN_ACCOUNT, ACCOUNTS,
                (s, f, t) -> s.listActivations(ListActivationsRequest.newBuilder().setAccountId(f.account(t)).setProduct(OrgTreeWorld.SEATS).build()));
        // Usage history: ACCOUNT, OTHER_ACCOUNT name the account pool of acme, of globex.
        row("GetUsageHistory", "every pool", Rule.OWN_ACCOUNT, ACCOUNTS,
                (s, f, t) -> s.getUsageHistory(history(f, t).build()));
        row("GetUsageHistory", "the target's pool", Rule.SUBTREE, EVERYWHERE,
                (s, f, t) -> s.getUsageHistory(history(f, t).setPoolId(f.pool(t)).build()));
        row("GetDenialReport", "every pool", Rule.OWN_ACCOUNT, ACCOUNTS,
                (s, f, t) -> s.getDenialReport(denials(f, t).build()));
        row("GetDenialReport", "the target's pool", Rule.SUBTREE, EVERYWHERE,
                (s, f, t) -> s.getDenialReport(denials(f, t).setPoolId(f.pool(t)).build()));
        row("VerifyOfflineLicense", "", Rule.ANY_WHOLE_ACCOUNT_ADMIN, NO_TARGET,
                (s, f, t) -> s.verifyOfflineLicense(VerifyOfflineLicenseRequest.newBuilder().setLicenseFile(f.licenseFile).build()));
    }

    private static GetUsageHistoryRequest.Builder history(OrgTreeWorld f, Target t) {
        return GetUsageHistoryRequest.newBuilder().setAccountId(f.account(t)).setProduct("KRE")
                .setStartTime(Protos.timestamp(f.w.clock.instant().minusSeconds(3600))).setEndTime(Protos.timestamp(f.w.clock.instant()))
                .setStep(Protos.duration(Duration.ofMinutes(1)));
    }

    private static GetDenialReportRequest.Builder denials(OrgTreeWorld f, Target t) {
        return GetDenialReportRequest.newBuilder().setAccountId(f.account(t)).setProduct("KRE")
                .setStartTime(Protos.timestamp(f.w.clock.instant().minusSeconds(3600))).setEndTime(Protos.timestamp(f.w.clock.instant()));
    }

    /** Outcomes that would hide a call broken before the rules saw it: an allowed row must never answer them. */
    private static final Set<Status.Code> BROKEN = EnumSet.of(Status.Code.PERMISSION_DENIED, Status.Code.UNAUTHENTICATED,
            Status.Code.INVALID_ARGUMENT, Status.Code.UNIMPLEMENTED, Status.Code.INTERNAL, Status.Code.UNKNOWN,
            Status.Code.DEADLINE_EXCEEDED);

    static boolean allowed(Caller caller, Rule rule, Target target) {
        boolean acme = target != OTHER_ACCOUNT;
        return switch (caller) {
            case SUPER_ADMIN -> true;
            case ACME_ADMIN -> rule != Rule.SUPER_ONLY && (acme || rule == Rule.ANY_WHOLE_ACCOUNT_ADMIN || rule == Rule.ANY_ADMIN);
            case GLOBEX_ADMIN -> rule != Rule.SUPER_ONLY && (!acme || rule == Rule.ANY_WHOLE_ACCOUNT_ADMIN || rule == Rule.ANY_ADMIN);
            case ORG_ADMIN_OF_A, ORG_ADMIN_OF_A1, ORG_ADMIN_OF_B -> switch (rule) {
                case SUPER_ONLY, WHOLE_ACCOUNT, ANY_WHOLE_ACCOUNT_ADMIN -> false;
                case ANY_ADMIN -> true;
                case OWN_ACCOUNT -> acme;
                case SUBTREE -> caller.subtree().contains(target);
                case BELOW -> caller.subtree().contains(target) && target != caller.root;
            };
        };
    }

    @Test
    void everyRpcOfTheServiceHasARow() {
        Set<String> methods = LicenseAdminGrpc.getServiceDescriptor().getMethods().stream()
                .map(MethodDescriptor::getBareMethodName).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(methods, ROWS.stream().map(Row::rpc).collect(Collectors.toCollection(TreeSet::new)));
    }

    /** The expectations themselves, on the cases section 6 names. */
    @Test
    void theRulesSayWhatSectionSixSays() {
        // Its own organization's dedicated count draws from a pool above it: not its own to set.
        assertEquals(false, allowed(Caller.ORG_ADMIN_OF_A, Rule.BELOW, A));
        assertEquals(true, allowed(Caller.ORG_ADMIN_OF_A, Rule.BELOW, A2));
        assertEquals(false, allowed(Caller.ORG_ADMIN_OF_A1, Rule.SUBTREE, A), "the parent is outside");
        assertEquals(false, allowed(Caller.ORG_ADMIN_OF_B, Rule.SUBTREE, A1), "a sibling's subtree is outside");
        assertEquals(false, allowed(Caller.ORG_ADMIN_OF_A, Rule.SUBTREE, ACCOUNT), "the account itself is outside");
        assertEquals(false, allowed(Caller.ORG_ADMIN_OF_A, Rule.OWN_ACCOUNT, OTHER_ACCOUNT));
        assertEquals(false, allowed(Caller.ACME_ADMIN, Rule.SUBTREE, OTHER_ACCOUNT));
    }

    @TestFactory
    Stream<DynamicTest> everyRpcByEveryCallerInsideAndOutside() {
        return ROWS.stream().flatMap(row -> row.targets().stream().flatMap(target -> Stream.of(Caller.values()).map(caller -> {
            boolean allowed = allowed(caller, row.rule(), target);
            String name = row.rpc() + (row.variant().isEmpty() ? "" : " (" + row.variant() + ")") + " on " + target
                    + " by " + caller + ": " + (allowed ? "allowed" : "PERMISSION_DENIED");
            return DynamicTest.dynamicTest(name, () -> {
                try (OrgTreeWorld f = new OrgTreeWorld()) {
                    if (allowed) {
                        assertAllowed(() -> row.call().run(f.as(caller), f, target));
                    } else {
                        List<Object> before = snapshot(f);
                        assertDenied(() -> row.call().run(f.as(caller), f, target));
                        assertEquals(before, snapshot(f), "a refused call changed nothing");
                    }
                }
            });
        })));
    }

    private static void assertAllowed(Runnable call) {
        try {
            call.run();
        } catch (StatusRuntimeException e) {
            if (BROKEN.contains(e.getStatus().getCode())) {
                fail("expected the call to pass the gate, got " + e.getStatus(), e);
            }
        }
    }

    /** Everything a refused call could have changed: both accounts as the SUPER_ADMIN sees them, and which credentials still work. */
    static List<Object> snapshot(OrgTreeWorld f) {
        List<Object> state = new ArrayList<>();
        LicenseAdminBlockingStub root = f.w.root();
        state.add(root.listAccounts(ListAccountsRequest.getDefaultInstance()));
        for (String account : List.of("acme", "globex")) {
            state.add(root.getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId(account).build()));
            state.add(root.getSubscription(GetSubscriptionRequest.newBuilder().setAccountId(account).build()));
            state.add(root.listOrganizations(ListOrganizationsRequest.newBuilder().setAccountId(account).build()));
            state.add(root.listUsers(ListUsersRequest.newBuilder().setAccountId(account).build()));
            state.add(root.getUsagePolicy(GetUsagePolicyRequest.newBuilder().setAccountId(account).build()));
            state.add(root.listSessions(ListSessionsRequest.newBuilder().setAccountId(account).setPageSize(1000).build()));
            state.add(root.listMachines(ListMachinesRequest.newBuilder().setAccountId(account).build()));
            state.add(root.getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId(account).setProduct(OrgTreeWorld.SEATS).build()));
            state.add(root.listLicensedUsers(ListLicensedUsersRequest.newBuilder().setAccountId(account).setProduct(OrgTreeWorld.SEATS)
                    .setPageSize(1000).build()));
        }
        for (String credential : f.credentials()) {
            state.add(f.w.service.authenticate(credential).toCompletableFuture().join().isPresent());
        }
        return state;
    }
}
