package io.licensebroker.broker.grpc;

import io.grpc.stub.StreamObserver;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.core.Principal;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Role;
import io.licensebroker.broker.core.Scope;
import io.licensebroker.proto.v1.Account;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateAdminTokenRequest;
import io.licensebroker.proto.v1.CreateAdminTokenResponse;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.CreateApiKeyResponse;
import io.licensebroker.proto.v1.ListAccountsRequest;
import io.licensebroker.proto.v1.ListAccountsResponse;
import io.licensebroker.proto.v1.ListProductsRequest;
import io.licensebroker.proto.v1.ListProductsResponse;
import io.licensebroker.proto.v1.ListUsersRequest;
import io.licensebroker.proto.v1.ListUsersResponse;
import io.licensebroker.proto.v1.RevokeAdminTokenRequest;
import io.licensebroker.proto.v1.RevokeAdminTokenResponse;
import io.licensebroker.proto.v1.RevokeApiKeyRequest;
import io.licensebroker.proto.v1.RevokeApiKeyResponse;
import io.licensebroker.proto.v1.UpsertUserRequest;
import io.licensebroker.proto.v1.User;
import io.licensebroker.proto.v1.WhoAmIRequest;
import io.licensebroker.proto.v1.WhoAmIResponse;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;

/**
 * The admin RPCs of accounts, users and credentials (admin tokens, API keys), which
 * {@link LicenseAdminService} hands over. Same shape as every admin handler; who may create or
 * revoke which token is the role rules of CONTRACT.md sections 2 and 6.
 */
final class AccountAdminHandlers {
    private final Gate gate;
    private final LicenseService service;

    AccountAdminHandlers(Gate gate) {
        this.gate = gate;
        this.service = gate.service();
    }

    void createAccount(CreateAccountRequest request, StreamObserver<Account> out) {
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

    void listAccounts(ListAccountsRequest request, StreamObserver<ListAccountsResponse> out) {
        gate.superAdmin(out, caller -> service.accounts().thenApply(accounts -> {
            ListAccountsResponse.Builder b = ListAccountsResponse.newBuilder();
            accounts.forEach(a -> b.addAccounts(Protos.account(a)));
            return Decision.granted(b.build());
        }));
    }

    void whoAmI(WhoAmIRequest request, StreamObserver<WhoAmIResponse> out) {
        gate.admin(out, caller -> {
            WhoAmIResponse.Builder b = WhoAmIResponse.newBuilder().setRole(adminRole(caller.role()));
            if (caller.accountId() != null) {
                b.setAccountId(caller.accountId());
            }
            if (caller.orgId() != null) {
                b.setOrgId(caller.orgId());
            }
            return Gate.done(Decision.granted(b.build()));
        });
    }

    /** Any part of the account is enough: an organization admin's tables are of the account's products too. */
    void listProducts(ListProductsRequest request, StreamObserver<ListProductsResponse> out) {
        gate.admin(out, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            return gate.inScope(caller, accountId, "account_id", scope -> service.products(accountId)
                    .thenApply(products -> Decision.granted(ListProductsResponse.newBuilder().addAllProducts(products).build())));
        });
    }

    void createAdminToken(CreateAdminTokenRequest request, StreamObserver<CreateAdminTokenResponse> out) {
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
                return service.createAdminToken(Role.SUPER_ADMIN, null).thenApply(d -> d.map(AccountAdminHandlers::token));
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
                    () -> service.createAdminToken(Role.ACCOUNT_ADMIN, accountId).thenApply(d -> d.map(AccountAdminHandlers::token)));
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
                return service.createAdminToken(Role.ORGANIZATION_ADMIN, account.get(), orgId).thenApply(d -> d.map(AccountAdminHandlers::token));
            });
        });
    }

    void createApiKey(CreateApiKeyRequest request, StreamObserver<CreateApiKeyResponse> out) {
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
    void revokeApiKey(RevokeApiKeyRequest request, StreamObserver<RevokeApiKeyResponse> out) {
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

    void revokeAdminToken(RevokeAdminTokenRequest request, StreamObserver<RevokeAdminTokenResponse> out) {
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

    // ---------------------------------------------------------------- users

    void upsertUser(UpsertUserRequest request, StreamObserver<User> out) {
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

    void listUsers(ListUsersRequest request, StreamObserver<ListUsersResponse> out) {
        gate.admin(out, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            return gate.inScope(caller, accountId, "account_id", scope -> service.users(accountId).thenApply(d -> d.map(users -> {
                ListUsersResponse.Builder b = ListUsersResponse.newBuilder();
                scope.filter(users, io.licensebroker.broker.core.User::assignedOrgId).forEach(u -> b.addUsers(Protos.user(u)));
                return b.build();
            })));
        });
    }

    // ---------------------------------------------------------------- helpers

    private static CreateAdminTokenResponse token(String token) {
        return CreateAdminTokenResponse.newBuilder().setToken(token).setTokenId(LicenseService.lookupIdOf(token).orElseThrow()).build();
    }

    private static Set<String> outsideOf(Scope scope, List<String> orgIds) {
        return orgIds.stream().filter(id -> !scope.contains(id)).collect(Collectors.toSet());
    }

    private static AdminRole adminRole(Role role) {
        return switch (role) {
            case SUPER_ADMIN -> AdminRole.ADMIN_ROLE_SUPER_ADMIN;
            case ACCOUNT_ADMIN -> AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN;
            case ORGANIZATION_ADMIN -> AdminRole.ADMIN_ROLE_ORGANIZATION_ADMIN;
            case AGENT -> throw new IllegalArgumentException("an API key is no admin token");
        };
    }
}
