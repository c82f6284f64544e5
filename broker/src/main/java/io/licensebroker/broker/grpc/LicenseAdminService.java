package io.licensebroker.broker.grpc;

import io.grpc.stub.StreamObserver;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.PoolRow;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Scope;
import io.licensebroker.proto.v1.Account;
import io.licensebroker.proto.v1.RevokeAdminTokenRequest;
import io.licensebroker.proto.v1.RevokeAdminTokenResponse;
import io.licensebroker.proto.v1.RevokeApiKeyRequest;
import io.licensebroker.proto.v1.RevokeApiKeyResponse;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateAdminTokenRequest;
import io.licensebroker.proto.v1.CreateAdminTokenResponse;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.CreateApiKeyResponse;
import io.licensebroker.proto.v1.CreateOrganizationRequest;
import io.licensebroker.proto.v1.DeactivateMachineRequest;
import io.licensebroker.proto.v1.DeactivateMachineResponse;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.GetSubscriptionRequest;
import io.licensebroker.proto.v1.GetUsagePolicyRequest;
import io.licensebroker.proto.v1.GetDenialReportRequest;
import io.licensebroker.proto.v1.GetDenialReportResponse;
import io.licensebroker.proto.v1.GetUsageHistoryRequest;
import io.licensebroker.proto.v1.GetUsageHistoryResponse;
import io.licensebroker.proto.v1.GrantLicenseRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseResponse;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.LicensedUser;
import io.licensebroker.proto.v1.ListAccountsRequest;
import io.licensebroker.proto.v1.ListAccountsResponse;
import io.licensebroker.proto.v1.ListActivationsRequest;
import io.licensebroker.proto.v1.ListActivationsResponse;
import io.licensebroker.proto.v1.ListLicensedUsersRequest;
import io.licensebroker.proto.v1.ListLicensedUsersResponse;
import io.licensebroker.proto.v1.ListMachinesRequest;
import io.licensebroker.proto.v1.ListProductsRequest;
import io.licensebroker.proto.v1.ListProductsResponse;
import io.licensebroker.proto.v1.ListMachinesResponse;
import io.licensebroker.proto.v1.ListOrganizationsRequest;
import io.licensebroker.proto.v1.ListOrganizationsResponse;
import io.licensebroker.proto.v1.ListSessionsRequest;
import io.licensebroker.proto.v1.ListSessionsResponse;
import io.licensebroker.proto.v1.ListUsersRequest;
import io.licensebroker.proto.v1.ListUsersResponse;
import io.licensebroker.proto.v1.Organization;
import io.licensebroker.proto.v1.RemoveLicenseRequest;
import io.licensebroker.proto.v1.RemoveLicenseResponse;
import io.licensebroker.proto.v1.RestoreDefaultUsagePolicyRequest;
import io.licensebroker.proto.v1.RevokeDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.SetUsagePolicyRequest;
import io.licensebroker.proto.v1.Subscription;
import io.licensebroker.proto.v1.TerminateSessionRequest;
import io.licensebroker.proto.v1.TerminateSessionResponse;
import io.licensebroker.proto.v1.TransferLicenseRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import io.licensebroker.proto.v1.UsagePolicySettings;
import io.licensebroker.proto.v1.User;
import io.licensebroker.proto.v1.VerifyOfflineLicenseRequest;
import io.licensebroker.proto.v1.VerifyOfflineLicenseResponse;
import io.licensebroker.proto.v1.WhoAmIRequest;
import io.licensebroker.proto.v1.WhoAmIResponse;

import java.time.Instant;
import java.util.concurrent.CompletionStage;

/**
 * The admin tools' service. Every handler has the same shape: the caller's kind is checked by
 * {@link Gate}; then the field naming the account (account_id, org_id or session_id) is validated
 * and the caller's right to that account checked; then the remaining fields are validated, and
 * only then the core is called. Nothing changes before every check has passed. Accounts, users
 * and credentials live in {@link AccountAdminHandlers}, the seat RPCs in {@link SeatAdminHandlers},
 * the usage history in {@link HistoryAdminHandlers}, live sessions, machines and offline licenses in
 * {@link SessionAdminHandlers}.
 */
final class LicenseAdminService extends LicenseAdminGrpc.LicenseAdminImplBase {
    private final Gate gate;
    private final LicenseService service;
    private final AccountAdminHandlers accounts;
    private final SeatAdminHandlers seats;
    private final HistoryAdminHandlers history;
    private final SessionAdminHandlers sessions;

    LicenseAdminService(Gate gate) {
        this(gate, SeatObserver.NONE);
    }

    LicenseAdminService(Gate gate, SeatObserver seatObserver) {
        this.gate = gate;
        this.service = gate.service();
        this.accounts = new AccountAdminHandlers(gate);
        this.seats = new SeatAdminHandlers(gate, seatObserver);
        this.history = new HistoryAdminHandlers(gate);
        this.sessions = new SessionAdminHandlers(gate);
    }

    // ---------------------------------------------------------------- accounts and credentials

    @Override
    public void createAccount(CreateAccountRequest request, StreamObserver<Account> out) {
        accounts.createAccount(request, out);
    }

    @Override
    public void listAccounts(ListAccountsRequest request, StreamObserver<ListAccountsResponse> out) {
        accounts.listAccounts(request, out);
    }

    @Override
    public void whoAmI(WhoAmIRequest request, StreamObserver<WhoAmIResponse> out) {
        accounts.whoAmI(request, out);
    }

    @Override
    public void listProducts(ListProductsRequest request, StreamObserver<ListProductsResponse> out) {
        accounts.listProducts(request, out);
    }

    @Override
    public void createAdminToken(CreateAdminTokenRequest request, StreamObserver<CreateAdminTokenResponse> out) {
        accounts.createAdminToken(request, out);
    }

    @Override
    public void createApiKey(CreateApiKeyRequest request, StreamObserver<CreateApiKeyResponse> out) {
        accounts.createApiKey(request, out);
    }

    @Override
    public void revokeApiKey(RevokeApiKeyRequest request, StreamObserver<RevokeApiKeyResponse> out) {
        accounts.revokeApiKey(request, out);
    }

    @Override
    public void revokeAdminToken(RevokeAdminTokenRequest request, StreamObserver<RevokeAdminTokenResponse> out) {
        accounts.revokeAdminToken(request, out);
    }

    // ---------------------------------------------------------------- subscription

    @Override
    public void setSubscription(SetSubscriptionRequest request, StreamObserver<Subscription> out) {
        Audit audit = Audit.of("SetSubscription");
        gate.superAdminChange(out, audit, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            String product = Validation.product(request.getProduct());
            audit.target("account_id", accountId).target("product", product);
            long licenses = Validation.count(request.getLicenses(), "licenses");
            long machineQuota = Validation.count(request.getMachineQuota(), "machine_quota");
            if (!request.hasExpiresAt()) {
                throw Errors.invalid("expires_at", "is required");
            }
            // A past instant is allowed on purpose: it models an expired subscription.
            Instant expiresAt = Validation.timestamp(request.getExpiresAt(), "expires_at");
            io.licensebroker.broker.core.LicenseModel model = Validation.licenseModel(request.getLicenseModelValue());
            // "before" is read just before the change: admin changes are rare, and this read is cheap.
            return service.subscription(accountId, product).thenCompose(before -> service
                    .setSubscription(accountId, product, licenses, machineQuota, expiresAt, model).thenApply(d -> {
                        io.licensebroker.broker.core.Subscription was = before.isGranted() ? before.value() : null;
                        if (d.isGranted()) {
                            audit.change("licenses", was == null ? null : was.licenses(), d.value().licenses())
                                    .change("machine_quota", was == null ? null : was.machineQuota(), d.value().machineQuota())
                                    .change("expires_at", was == null ? null : was.expiresAt(), d.value().expiresAt())
                                    .change("license_model", was == null ? null : was.model(), d.value().model());
                        } else {
                            audit.target("requested_licenses", licenses);
                        }
                        return d.map(Protos::subscription);
                    }));
        });
    }

    @Override
    public void getSubscription(GetSubscriptionRequest request, StreamObserver<Subscription> out) {
        gate.admin(out, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            return gate.inAccount(caller, accountId, "account_id", () -> {
                String product = Validation.product(request.getProduct());
                return service.subscription(accountId, product).thenApply(d -> {
                    if (d.isGranted() && d.value() == null) {
                        return Decision.denied(Reason.NO_SUBSCRIPTION, "account " + accountId + " has no " + product + " subscription", "product");
                    }
                    return d.map(Protos::subscription);
                });
            });
        });
    }

    // ---------------------------------------------------------------- organizations and licenses

    @Override
    public void createOrganization(CreateOrganizationRequest request, StreamObserver<Organization> out) {
        Audit audit = Audit.of("CreateOrganization");
        gate.adminChange(out, audit, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            audit.target("account_id", accountId);
            return gate.inScope(caller, accountId, "account_id", scope -> {
                // The core answers ORGANIZATION_NOT_FOUND for a parent of another account as well.
                String parentId = Validation.optionalOrgId(request.getParentId(), "parent_id");
                String name = Validation.name(request.getName());
                audit.target("parent_id", parentId).target("name", name);
                if (!scope.contains(parentId)) {
                    return Gate.done(Gate.outside(parentId == null ? "the account (an empty parent_id)" : "organization " + parentId, scope, "parent_id"));
                }
                return service.createOrganization(accountId, parentId, name).thenApply(d -> {
                    if (d.isGranted()) {
                        audit.target("org_id", d.value().id());
                    }
                    return d.map(Protos::organization);
                });
            });
        });
    }

    @Override
    public void listOrganizations(ListOrganizationsRequest request, StreamObserver<ListOrganizationsResponse> out) {
        gate.admin(out, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            return gate.inScope(caller, accountId, "account_id", scope -> service.organizations(accountId).thenApply(d -> d.map(orgs -> {
                ListOrganizationsResponse.Builder b = ListOrganizationsResponse.newBuilder();
                scope.filter(orgs, io.licensebroker.broker.core.Organization::id).forEach(o -> b.addOrganizations(Protos.organization(o)));
                return b.build();
            })));
        });
    }

    @Override
    public void setDedicatedLicenses(SetDedicatedLicensesRequest request, StreamObserver<LicenseUsage> out) {
        Audit audit = Audit.of("SetDedicatedLicenses");
        gate.adminChange(out, audit, caller -> {
            String orgId = Validation.orgId(request.getOrgId(), "org_id");
            audit.target("org_id", orgId);
            return gate.inOrganization(caller, orgId, "org_id", scope -> {
                String product = Validation.product(request.getProduct());
                long licenses = Validation.count(request.getLicenses(), "licenses");
                return setDedicated(audit, scope, orgId, product, licenses);
            });
        });
    }

    @Override
    public void revokeDedicatedLicenses(RevokeDedicatedLicensesRequest request, StreamObserver<LicenseUsage> out) {
        Audit audit = Audit.of("RevokeDedicatedLicenses");
        gate.adminChange(out, audit, caller -> {
            String orgId = Validation.orgId(request.getOrgId(), "org_id");
            audit.target("org_id", orgId);
            return gate.inOrganization(caller, orgId, "org_id",
                    scope -> setDedicated(audit, scope, orgId, Validation.product(request.getProduct()), 0));
        });
    }

    /** Reads the organization's dedicated licenses just before the change, for the audit line's "before". */
    private CompletionStage<Decision<LicenseUsage>> setDedicated(Audit audit, Scope scope, String orgId, String product, long licenses) {
        String account = scope.accountId();
        audit.target("account_id", account).target("product", product);
        return service.usage(account, product).thenCompose(before -> service.setDedicated(account, orgId, product, licenses).thenApply(d -> {
            if (d.isGranted()) {
                audit.change("dedicated", dedicated(before, orgId), dedicated(d, orgId));
            } else {
                audit.target("requested_dedicated", licenses);
            }
            return d.map(u -> usage(scope, u));
        }));
    }

    private static Long dedicated(Decision<io.licensebroker.broker.core.LicenseUsage> usage, String orgId) {
        if (!usage.isGranted()) {
            return null;
        }
        PoolRow row = usage.value().row(orgId);
        return row == null ? null : row.dedicated();
    }

    // ---------------------------------------------------------------- users and policy

    @Override
    public void upsertUser(UpsertUserRequest request, StreamObserver<User> out) {
        accounts.upsertUser(request, out);
    }

    @Override
    public void listUsers(ListUsersRequest request, StreamObserver<ListUsersResponse> out) {
        accounts.listUsers(request, out);
    }

    @Override
    public void setUsagePolicy(SetUsagePolicyRequest request, StreamObserver<UsagePolicySettings> out) {
        Audit audit = Audit.of("SetUsagePolicy");
        gate.adminChange(out, audit, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            audit.target("account_id", accountId);
            return gate.inAccount(caller, accountId, "account_id", () -> {
                io.licensebroker.broker.core.UsagePolicy policy = Validation.policy(request.getPolicyValue());
                // proto3 "optional": absent means the default, fallback on.
                boolean allowFallback = !request.hasAllowFallback() || request.getAllowFallback();
                return setPolicy(audit, accountId, new PolicySettings(policy, allowFallback));
            });
        });
    }

    @Override
    public void restoreDefaultUsagePolicy(RestoreDefaultUsagePolicyRequest request, StreamObserver<UsagePolicySettings> out) {
        Audit audit = Audit.of("RestoreDefaultUsagePolicy");
        gate.adminChange(out, audit, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            audit.target("account_id", accountId);
            return gate.inAccount(caller, accountId, "account_id", () -> setPolicy(audit, accountId, PolicySettings.DEFAULT));
        });
    }

    /** Reads the policy just before the change, for the audit line's "before". */
    private CompletionStage<Decision<UsagePolicySettings>> setPolicy(Audit audit, String accountId, PolicySettings settings) {
        return service.policy(accountId).thenCompose(before -> service.setPolicy(accountId, settings).thenApply(d -> {
            if (d.isGranted()) {
                PolicySettings was = before.isGranted() ? before.value() : null;
                audit.change("policy", was == null ? null : was.policy(), d.value().policy())
                        .change("allow_fallback", was == null ? null : was.allowFallback(), d.value().allowFallback());
            }
            return d.map(Protos::policySettings);
        }));
    }

    @Override
    public void getUsagePolicy(GetUsagePolicyRequest request, StreamObserver<UsagePolicySettings> out) {
        gate.admin(out, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            return gate.inAccount(caller, accountId, "account_id",
                    () -> service.policy(accountId).thenApply(d -> d.map(Protos::policySettings)));
        });
    }

    @Override
    public void getLicenseUsage(GetLicenseUsageRequest request, StreamObserver<LicenseUsage> out) {
        gate.admin(out, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            return gate.inScope(caller, accountId, "account_id", scope -> {
                String product = Validation.product(request.getProduct());
                return service.usage(accountId, product).thenApply(d -> d.map(u -> usage(scope, u)));
            });
        });
    }

    // ---------------------------------------------------------------- sessions, machines and offline licenses

    @Override
    public void listSessions(ListSessionsRequest request, StreamObserver<ListSessionsResponse> out) {
        sessions.listSessions(request, out);
    }

    @Override
    public void terminateSession(TerminateSessionRequest request, StreamObserver<TerminateSessionResponse> out) {
        sessions.terminateSession(request, out);
    }

    @Override
    public void listMachines(ListMachinesRequest request, StreamObserver<ListMachinesResponse> out) {
        sessions.listMachines(request, out);
    }

    @Override
    public void deactivateMachine(DeactivateMachineRequest request, StreamObserver<DeactivateMachineResponse> out) {
        sessions.deactivateMachine(request, out);
    }

    @Override
    public void issueOfflineLicense(IssueOfflineLicenseRequest request, StreamObserver<IssueOfflineLicenseResponse> out) {
        sessions.issueOfflineLicense(request, out);
    }

    @Override
    public void verifyOfflineLicense(VerifyOfflineLicenseRequest request, StreamObserver<VerifyOfflineLicenseResponse> out) {
        sessions.verifyOfflineLicense(request, out);
    }

    // ---------------------------------------------------------------- seats ("Licensed Users", "Online Licenses")

    @Override
    public void grantLicense(GrantLicenseRequest request, StreamObserver<LicensedUser> out) {
        seats.grantLicense(request, out);
    }

    @Override
    public void removeLicense(RemoveLicenseRequest request, StreamObserver<RemoveLicenseResponse> out) {
        seats.removeLicense(request, out);
    }

    @Override
    public void transferLicense(TransferLicenseRequest request, StreamObserver<LicensedUser> out) {
        seats.transferLicense(request, out);
    }

    @Override
    public void listLicensedUsers(ListLicensedUsersRequest request, StreamObserver<ListLicensedUsersResponse> out) {
        seats.listLicensedUsers(request, out);
    }

    @Override
    public void listActivations(ListActivationsRequest request, StreamObserver<ListActivationsResponse> out) {
        seats.listActivations(request, out);
    }

    // ---------------------------------------------------------------- usage history

    @Override
    public void getUsageHistory(GetUsageHistoryRequest request, StreamObserver<GetUsageHistoryResponse> out) {
        history.getUsageHistory(request, out);
    }

    @Override
    public void getDenialReport(GetDenialReportRequest request, StreamObserver<GetDenialReportResponse> out) {
        history.getDenialReport(request, out);
    }

    // ---------------------------------------------------------------- helpers


    /** The license table as the scope sees it: a subtree its own rows only; the subscription's figures stay (they are no pool's). */
    private static LicenseUsage usage(Scope scope, io.licensebroker.broker.core.LicenseUsage u) {
        LicenseUsage all = Protos.usage(u);
        return scope.isWholeAccount() ? all : all.toBuilder().clearRows()
                .addAllRows(scope.filter(all.getRowsList(), io.licensebroker.proto.v1.PoolRow::getPoolId)).build();
    }

}
