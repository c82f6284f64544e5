package io.licensebroker.broker.grpc;

import io.grpc.stub.StreamObserver;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.core.OfflineLicense;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.PoolRow;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Principal;
import io.licensebroker.broker.core.Role;
import io.licensebroker.broker.core.Scope;
import io.licensebroker.broker.core.SessionQuery;
import io.licensebroker.proto.v1.Account;
import io.licensebroker.proto.v1.AdminRole;
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
import io.licensebroker.proto.v1.IssueOfflineLicenseRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseResponse;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.ListAccountsRequest;
import io.licensebroker.proto.v1.ListAccountsResponse;
import io.licensebroker.proto.v1.ListMachinesRequest;
import io.licensebroker.proto.v1.ListMachinesResponse;
import io.licensebroker.proto.v1.ListOrganizationsRequest;
import io.licensebroker.proto.v1.ListOrganizationsResponse;
import io.licensebroker.proto.v1.ListSessionsRequest;
import io.licensebroker.proto.v1.ListSessionsResponse;
import io.licensebroker.proto.v1.ListUsersRequest;
import io.licensebroker.proto.v1.ListUsersResponse;
import io.licensebroker.proto.v1.Organization;
import io.licensebroker.proto.v1.RestoreDefaultUsagePolicyRequest;
import io.licensebroker.proto.v1.RevokeDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.SetUsagePolicyRequest;
import io.licensebroker.proto.v1.Subscription;
import io.licensebroker.proto.v1.TerminateSessionRequest;
import io.licensebroker.proto.v1.TerminateSessionResponse;
import io.licensebroker.proto.v1.UpsertUserRequest;
import io.licensebroker.proto.v1.UsagePolicySettings;
import io.licensebroker.proto.v1.User;
import io.licensebroker.proto.v1.VerifyOfflineLicenseRequest;
import io.licensebroker.proto.v1.VerifyOfflineLicenseResponse;

import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;

/**
 * The admin tools' service. Every handler has the same shape: the caller's kind is checked by
 * {@link Gate}; then the field naming the account (account_id, org_id or session_id) is validated
 * and the caller's right to that account checked; then the remaining fields are validated, and
 * only then the core is called. Nothing changes before every check has passed.
 */
final class LicenseAdminService extends LicenseAdminGrpc.LicenseAdminImplBase {
    private final Gate gate;
    private final LicenseService service;

    LicenseAdminService(Gate gate) {
        this.gate = gate;
        this.service = gate.service();
    }

    // ---------------------------------------------------------------- accounts and credentials

    @Override
    public void createAccount(CreateAccountRequest request, StreamObserver<Account> out) {
        Audit audit = Audit.of("CreateAccount");
        gate.superAdminChange(out, audit, caller -> {
            String accountId = Validation.optionalAccountId(request.getAccountId());
            String name = Validation.name(request.getName());
            return service.createAccount(accountId, name).thenApply(d -> {
                audit.target("account_id", d.isGranted() ? d.value().id() : accountId).target("name", name);
                return d.map(Protos::account);
            });
        });
    }

    @Override
    public void listAccounts(ListAccountsRequest request, StreamObserver<ListAccountsResponse> out) {
        gate.superAdmin(out, caller -> service.accounts().thenApply(accounts -> {
            ListAccountsResponse.Builder b = ListAccountsResponse.newBuilder();
            accounts.forEach(a -> b.addAccounts(Protos.account(a)));
            return Decision.granted(b.build());
        }));
    }

    @Override
    public void createAdminToken(CreateAdminTokenRequest request, StreamObserver<CreateAdminTokenResponse> out) {
        // The token itself is never audited: only that one of this role was made, for which account.
        Audit audit = Audit.of("CreateAdminToken");
        gate.adminChange(out, audit, caller -> {
            Role role = Validation.adminRole(request.getRoleValue());
            audit.target("role", role.name());
            if (role == Role.SUPER_ADMIN) {
                // account_id is ignored for SUPER_ADMIN tokens (they belong to no account).
                if (caller.role() != Role.SUPER_ADMIN) {
                    return Gate.done(Errors.permissionDenied("only a SUPER_ADMIN may create SUPER_ADMIN tokens", "role"));
                }
                return service.createAdminToken(Role.SUPER_ADMIN, null).thenApply(d -> d.map(LicenseAdminService::token));
            }
            if (role == Role.ORGANIZATION_ADMIN) {
                return organizationAdminToken(caller, request, audit);
            }
            if (!request.getOrgId().isEmpty()) {
                // Ignoring it would hand out a whole account to a caller who meant one organization.
                throw Errors.invalid("org_id", "is for ADMIN_ROLE_ORGANIZATION_ADMIN only; leave it empty for " + role);
            }
            String accountId = Validation.accountId(request.getAccountId());
            audit.target("account_id", accountId);
            return gate.inAccount(caller, accountId, "account_id",
                    () -> service.createAdminToken(Role.ACCOUNT_ADMIN, accountId).thenApply(d -> d.map(LicenseAdminService::token)));
        });
    }

    /**
     * An ORGANIZATION_ADMIN token: its account is the organization's; account_id, when given, must
     * be it. The caller's scope must hold the organization (a SUPER_ADMIN, the account's admin, or an
     * org admin above it or of it).
     */
    private CompletionStage<Decision<CreateAdminTokenResponse>> organizationAdminToken(Principal caller, CreateAdminTokenRequest request,
                                                                                       Audit audit) {
        String orgId = Validation.orgId(request.getOrgId(), "org_id");
        String given = Validation.optionalAccountId(request.getAccountId());
        audit.target("org_id", orgId);
        return service.accountOfOrganization(orgId).thenCompose(account -> {
            if (account.isEmpty()) {
                return Gate.done(Decision.denied(Reason.ORGANIZATION_NOT_FOUND, "no organization " + orgId, "org_id"));
            }
            return gate.inScope(caller, account.get(), "org_id", scope -> {
                if (!scope.contains(orgId)) {
                    return Gate.done(Gate.outside("organization " + orgId, scope, "org_id"));
                }
                if (given != null && !given.equals(account.get())) {
                    throw Errors.invalid("account_id", "organization " + orgId + " belongs to account " + account.get() + ", not " + given);
                }
                audit.target("account_id", account.get());
                return service.createAdminToken(Role.ORGANIZATION_ADMIN, account.get(), orgId).thenApply(d -> d.map(LicenseAdminService::token));
            });
        });
    }

    @Override
    public void createApiKey(CreateApiKeyRequest request, StreamObserver<CreateApiKeyResponse> out) {
        // The key itself is never audited: only for whom one was made.
        Audit audit = Audit.of("CreateApiKey");
        gate.adminChange(out, audit, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            audit.target("account_id", accountId);
            String userId = Validation.userId(request.getUserId());
            audit.target("user_id", userId);
            return gate.userInScope(caller, accountId, userId, "user_id", (scope, user) -> service.createApiKey(accountId, userId)
                    .thenApply(d -> d.map(key -> CreateApiKeyResponse.newBuilder().setApiKey(key)
                            .setKeyId(LicenseService.lookupIdOf(key).orElseThrow()).build())));
        });
    }

    /** Authorization in {@link LicenseService#revokeCredential}: the key's account is known only once it is read. */
    @Override
    public void revokeApiKey(RevokeApiKeyRequest request, StreamObserver<RevokeApiKeyResponse> out) {
        Audit audit = Audit.of("RevokeApiKey");
        gate.adminChange(out, audit, caller -> {
            String keyId = Validation.credentialId(request.getKeyId(), "key_id");
            audit.target("key_id", keyId);
            return service.revokeCredential(caller, keyId, true, "key_id").thenApply(d -> d.map(c -> {
                audit.target("account_id", c.accountId()).target("user_id", c.userId());
                return RevokeApiKeyResponse.newBuilder().setKeyId(keyId).setAccountId(c.accountId()).setUserId(c.userId()).build();
            }));
        });
    }

    @Override
    public void revokeAdminToken(RevokeAdminTokenRequest request, StreamObserver<RevokeAdminTokenResponse> out) {
        Audit audit = Audit.of("RevokeAdminToken");
        gate.adminChange(out, audit, caller -> {
            String tokenId = Validation.credentialId(request.getTokenId(), "token_id");
            audit.target("token_id", tokenId);
            return service.revokeCredential(caller, tokenId, false, "token_id").thenApply(d -> d.map(c -> {
                RevokeAdminTokenResponse.Builder b = RevokeAdminTokenResponse.newBuilder().setTokenId(tokenId).setRole(adminRole(c.role()));
                if (c.accountId() != null) {
                    b.setAccountId(c.accountId());
                    audit.target("account_id", c.accountId());
                }
                if (c.orgId() != null) {
                    b.setOrgId(c.orgId());
                    audit.target("org_id", c.orgId());
                }
                audit.target("role", c.role().name());
                return b.build();
            }));
        });
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
        Audit audit = Audit.of("UpsertUser");
        gate.adminChange(out, audit, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            audit.target("account_id", accountId);
            return gate.inScope(caller, accountId, "account_id", scope -> {
                String userId = Validation.userId(request.getUserId());
                String assignedOrgId = Validation.optionalOrgId(request.getAssignedOrgId(), "assigned_org_id");
                List<String> projectOrgIds = Validation.projectOrgIds(request.getProjectOrgIdsList());
                // The project list may hold a thousand ids: its size tells enough for an audit line.
                audit.target("user_id", userId).target("assigned_org_id", assignedOrgId == null ? "none" : assignedOrgId)
                        .target("project_orgs", projectOrgIds.size());
                if (scope.isWholeAccount()) {
                    return service.upsertUser(accountId, userId, assignedOrgId, projectOrgIds).thenApply(d -> d.map(Protos::user));
                }
                if (!scope.contains(assignedOrgId)) {
                    return Gate.done(Gate.outside(assignedOrgId == null ? "no organization (the account pool)" : "organization " + assignedOrgId,
                            scope, "assigned_org_id"));
                }
                return service.user(accountId, userId).thenCompose(existing -> {
                    io.licensebroker.broker.core.User before = existing.isGranted() ? existing.value() : null;
                    if (before != null && !scope.contains(before.assignedOrgId())) {
                        return Gate.done(Gate.outside("user " + userId, scope, "user_id"));
                    }
                    // Memberships outside the subtree are another admin's: they must come back as they were.
                    Set<String> outsideBefore = before == null ? Set.of() : outsideOf(scope, before.projectOrgIds());
                    if (!outsideOf(scope, projectOrgIds).equals(outsideBefore)) {
                        return Gate.done(Gate.outside("a change of project memberships outside the subtree", scope, "project_org_ids"));
                    }
                    return service.upsertUser(accountId, userId, assignedOrgId, projectOrgIds).thenApply(d -> d.map(Protos::user));
                });
            });
        });
    }

    @Override
    public void listUsers(ListUsersRequest request, StreamObserver<ListUsersResponse> out) {
        gate.admin(out, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            return gate.inScope(caller, accountId, "account_id", scope -> service.users(accountId).thenApply(d -> d.map(users -> {
                ListUsersResponse.Builder b = ListUsersResponse.newBuilder();
                scope.filter(users, io.licensebroker.broker.core.User::assignedOrgId).forEach(u -> b.addUsers(Protos.user(u)));
                return b.build();
            })));
        });
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

    // ---------------------------------------------------------------- sessions and machines

    @Override
    public void listSessions(ListSessionsRequest request, StreamObserver<ListSessionsResponse> out) {
        gate.admin(out, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            return gate.inScope(caller, accountId, "account_id", scope -> {
                SessionQuery query = new SessionQuery(
                        Validation.optionalProduct(request.getProduct()),
                        Validation.optionalPoolId(request.getPoolId()),
                        Validation.optionalUserId(request.getUserId()),
                        Validation.optionalMachineId(request.getMachineId()),
                        Validation.pageSize(request.getPageSize()),
                        Validation.pageToken(request.getPageToken()));
                if (query.poolId() != null && !scope.contains(query.poolId())) {
                    return Gate.done(Gate.outside("pool " + query.poolId(), scope, "pool_id"));
                }
                return service.sessions(accountId, query).thenApply(d -> d.map(page -> {
                    ListSessionsResponse.Builder b = ListSessionsResponse.newBuilder();
                    // A subtree's page is the account's page filtered: it may be short, even empty, before the last.
                    scope.filter(page.sessions(), io.licensebroker.broker.core.Session::poolId).forEach(s -> b.addSessions(Protos.session(s)));
                    if (page.nextPageToken() != null) {
                        b.setNextPageToken(page.nextPageToken());
                    }
                    return b.build();
                }));
            });
        });
    }

    @Override
    public void terminateSession(TerminateSessionRequest request, StreamObserver<TerminateSessionResponse> out) {
        Audit audit = Audit.of("TerminateSession");
        gate.adminChange(out, audit, caller -> {
            String sessionId = Validation.sessionId(request.getSessionId());
            audit.target("session_id", sessionId);
            return gate.inSessionAccount(caller, sessionId, "session_id", account -> {
                if (account.isEmpty()) {
                    // Not one of our session ids: no such live session, which is "already ended".
                    return Gate.done(Decision.granted(terminated(false)));
                }
                return service.terminate(sessionId).thenApply(d -> {
                    // A session id naming an account that does not exist is just as much "no such session".
                    if (d instanceof Decision.Denied<Boolean> denied && denied.reason() == Reason.ACCOUNT_NOT_FOUND) {
                        return Decision.granted(terminated(false));
                    }
                    if (d.isGranted()) {
                        audit.target("account_id", account.get()).target("terminated", d.value());
                    }
                    return d.map(LicenseAdminService::terminated);
                });
            });
        });
    }

    @Override
    public void listMachines(ListMachinesRequest request, StreamObserver<ListMachinesResponse> out) {
        gate.admin(out, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            return gate.inAccount(caller, accountId, "account_id", () -> {
                String product = Validation.product(request.getProduct());
                return service.machines(accountId, product).thenApply(d -> d.map(machines -> {
                    ListMachinesResponse.Builder b = ListMachinesResponse.newBuilder();
                    machines.forEach(m -> b.addMachines(Protos.machine(m)));
                    return b.build();
                }));
            });
        });
    }

    @Override
    public void deactivateMachine(DeactivateMachineRequest request, StreamObserver<DeactivateMachineResponse> out) {
        Audit audit = Audit.of("DeactivateMachine");
        gate.adminChange(out, audit, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            audit.target("account_id", accountId);
            return gate.inAccount(caller, accountId, "account_id", () -> {
                String machineId = Validation.machineId(request.getMachineId());
                String product = Validation.product(request.getProduct());
                audit.target("product", product).target("machine_id", machineId);
                return service.deactivateMachine(accountId, product, machineId).thenApply(d -> {
                    if (d.isGranted()) {
                        audit.target("deactivated", d.value());
                    }
                    return d.map(done -> DeactivateMachineResponse.newBuilder().setDeactivated(done).build());
                });
            });
        });
    }

    // ---------------------------------------------------------------- offline licenses

    @Override
    public void issueOfflineLicense(IssueOfflineLicenseRequest request, StreamObserver<IssueOfflineLicenseResponse> out) {
        // The signed file is never audited: it is a bearer credential for the machine.
        Audit audit = Audit.of("IssueOfflineLicense");
        gate.adminChange(out, audit, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            audit.target("account_id", accountId);
            return gate.inAccount(caller, accountId, "account_id", () -> {
                String product = Validation.product(request.getProduct());
                String machineId = Validation.machineId(request.getMachineId());
                audit.target("product", product).target("machine_id", machineId);
                // Absent: the core picks the longest allowed (60 days, capped by the subscription).
                Instant expiresAt = request.hasExpiresAt() ? Validation.timestamp(request.getExpiresAt(), "expires_at") : null;
                String userId = Validation.optionalUserId(request.getUserId());
                if (userId != null) {
                    audit.target("user_id", userId);
                }
                return service.issueOfflineLicense(accountId, product, machineId, userId, expiresAt).thenApply(d -> {
                    if (d.isGranted()) {
                        audit.target("expires_at", d.value().license().expiresAt());
                    }
                    return d.map(Protos::issued);
                });
            });
        });
    }

    /**
     * Any admin of a whole account may check a file it holds (offline licenses are account-wide, so
     * not an ORGANIZATION_ADMIN). A file that is malformed or whose signature does not
     * verify is refused INVALID_ARGUMENT INVALID_LICENSE_FILE rather than answered valid=false,
     * so that every refusal is a status with a reason, like everywhere else.
     */
    @Override
    public void verifyOfflineLicense(VerifyOfflineLicenseRequest request, StreamObserver<VerifyOfflineLicenseResponse> out) {
        gate.accountWideAdmin(out, caller -> {
            byte[] file = Validation.licenseFile(request.getLicenseFile());
            return service.verifyOfflineLicense(file).thenApply(verified -> {
                if (!verified.isGranted()) {
                    throw Errors.invalidLicenseFile("the license file is malformed or its signature does not verify");
                }
                return verified.map(Protos::verified);
            });
        });
    }

    // ---------------------------------------------------------------- helpers

    private static CreateAdminTokenResponse token(String token) {
        return CreateAdminTokenResponse.newBuilder().setToken(token).setTokenId(LicenseService.lookupIdOf(token).orElseThrow()).build();
    }

    /** The license table as the scope sees it: a subtree its own rows only; the subscription's figures stay (they are no pool's). */
    private static LicenseUsage usage(Scope scope, io.licensebroker.broker.core.LicenseUsage u) {
        LicenseUsage all = Protos.usage(u);
        return scope.isWholeAccount() ? all : all.toBuilder().clearRows()
                .addAllRows(scope.filter(all.getRowsList(), io.licensebroker.proto.v1.PoolRow::getPoolId)).build();
    }

    private static AdminRole adminRole(Role role) {
        return switch (role) {
            case SUPER_ADMIN -> AdminRole.ADMIN_ROLE_SUPER_ADMIN;
            case ACCOUNT_ADMIN -> AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN;
            case ORGANIZATION_ADMIN -> AdminRole.ADMIN_ROLE_ORGANIZATION_ADMIN;
            case AGENT -> throw new IllegalArgumentException("an API key is no admin token");
        };
    }

    private static Set<String> outsideOf(Scope scope, List<String> orgIds) {
        return orgIds.stream().filter(id -> !scope.contains(id)).collect(Collectors.toSet());
    }

    private static TerminateSessionResponse terminated(boolean terminated) {
        return TerminateSessionResponse.newBuilder().setTerminated(terminated).build();
    }
}
