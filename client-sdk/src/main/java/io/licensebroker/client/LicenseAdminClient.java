package io.licensebroker.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.licensebroker.proto.v1.Account;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateAdminTokenRequest;
import io.licensebroker.proto.v1.CreateAdminTokenResponse;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.CreateApiKeyResponse;
import io.licensebroker.proto.v1.CreateOrganizationRequest;
import io.licensebroker.proto.v1.DeactivateMachineRequest;
import io.licensebroker.proto.v1.DeactivateMachineResponse;
import io.licensebroker.proto.v1.GetDenialReportRequest;
import io.licensebroker.proto.v1.GetDenialReportResponse;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.GetSubscriptionRequest;
import io.licensebroker.proto.v1.GetUsageHistoryRequest;
import io.licensebroker.proto.v1.GetUsageHistoryResponse;
import io.licensebroker.proto.v1.GetUsagePolicyRequest;
import io.licensebroker.proto.v1.GrantLicenseRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseResponse;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.LicensedUser;
import io.licensebroker.proto.v1.ListAccountsRequest;
import io.licensebroker.proto.v1.ListAccountsResponse;
import io.licensebroker.proto.v1.ListActivationsRequest;
import io.licensebroker.proto.v1.ListActivationsResponse;
import io.licensebroker.proto.v1.ListLicensedUsersRequest;
import io.licensebroker.proto.v1.ListLicensedUsersResponse;
import io.licensebroker.proto.v1.ListMachinesRequest;
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
import io.licensebroker.proto.v1.RevokeAdminTokenRequest;
import io.licensebroker.proto.v1.RevokeAdminTokenResponse;
import io.licensebroker.proto.v1.RevokeApiKeyRequest;
import io.licensebroker.proto.v1.RevokeApiKeyResponse;
import io.licensebroker.proto.v1.RevokeDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.SetUsagePolicyRequest;
import io.licensebroker.proto.v1.Subscription;
import io.licensebroker.proto.v1.TerminateSessionRequest;
import io.licensebroker.proto.v1.TerminateSessionResponse;
import io.licensebroker.proto.v1.TransferLicenseRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import io.licensebroker.proto.v1.UsagePolicy;
import io.licensebroker.proto.v1.UsagePolicySettings;
import io.licensebroker.proto.v1.User;
import io.licensebroker.proto.v1.VerifyOfflineLicenseRequest;
import io.licensebroker.proto.v1.VerifyOfflineLicenseResponse;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A typed client of the {@code LicenseAdmin} service, one method per RPC, answering the RPC's own
 * response message. Authenticates with an admin token; refusals become
 * {@link LicenseBrokerException} with the status code, the contract reason and the field.
 *
 * <pre>{@code
 * try (LicenseAdminClient admin = LicenseAdminClient.builder().target("broker:7443").token(adminToken).build()) {
 *     LicenseUsage usage = admin.getLicenseUsage("acme", "KRE");
 * }
 * }</pre>
 *
 * <p>Empty strings mean "not given" wherever the contract makes a field optional (product: the
 * default {@code KRE}; parent: directly under the account). Read-only calls and calls that set a
 * state (Set*, Revoke*, UpsertUser, RestoreDefault*) are retried on UNAVAILABLE by gRPC's retry
 * policy; creating calls (accounts, organizations, tokens, keys, offline licenses) and one-shot
 * actions (terminate, deactivate) are not, since repeating one after a lost answer would create a
 * second item or report a different outcome. GrantLicense (granting again answers the same seat) and
 * RemoveLicense (removing an absent seat answers {@code removed} false) are retried; TransferLicense
 * is not, since a repeat after a lost answer would be refused NOT_LICENSED.
 */
public final class LicenseAdminClient implements AutoCloseable {
    private static final String S = LicenseAdminGrpc.SERVICE_NAME + "/";
    private static final List<String> REPEATABLE = List.of(
            S + "ListAccounts", S + "GetSubscription", S + "ListOrganizations", S + "ListUsers", S + "GetUsagePolicy",
            S + "GetLicenseUsage", S + "ListSessions", S + "ListMachines", S + "VerifyOfflineLicense",
            S + "ListLicensedUsers", S + "ListActivations", S + "GrantLicense", S + "RemoveLicense",
            S + "SetSubscription", S + "SetDedicatedLicenses", S + "RevokeDedicatedLicenses", S + "UpsertUser",
            S + "SetUsagePolicy", S + "RestoreDefaultUsagePolicy");

    private final ManagedChannel channel;
    private final ClientInterceptor credential;
    private final Duration callTimeout;
    private final String targets;

    private LicenseAdminClient(Builder b) {
        if (b.token == null) {
            throw new IllegalStateException("no admin token: call token(token)");
        }
        this.credential = ConnectionSpec.bearer(b.token, "token");
        this.callTimeout = b.spec.callTimeout();
        this.targets = b.spec.describeTargets();
        this.channel = b.spec.open(REPEATABLE);
    }

    public static Builder builder() {
        return new Builder();
    }

    // ---------------------------------------------------------------- accounts and credentials

    /** SUPER_ADMIN only. {@code accountId} empty: the broker generates one. */
    public Account createAccount(String accountId, String name) {
        return call("CreateAccount", s -> s.createAccount(CreateAccountRequest.newBuilder()
                .setAccountId(accountId).setName(name).build()));
    }

    /** SUPER_ADMIN only. */
    public ListAccountsResponse listAccounts() {
        return call("ListAccounts", s -> s.listAccounts(ListAccountsRequest.getDefaultInstance()));
    }

    /**
     * {@code accountId} is ignored for {@link AdminRole#ADMIN_ROLE_SUPER_ADMIN}. The token is shown
     * once. For {@link AdminRole#ADMIN_ROLE_ORGANIZATION_ADMIN} use {@link #createOrganizationAdminToken}.
     */
    public CreateAdminTokenResponse createAdminToken(String accountId, AdminRole role) {
        return call("CreateAdminToken", s -> s.createAdminToken(CreateAdminTokenRequest.newBuilder()
                .setAccountId(accountId).setRole(role).build()));
    }

    /**
     * An ORGANIZATION_ADMIN token of the organization: it administers that organization and its
     * subtree, in the organization's account (CONTRACT.md section 6). The token is shown once.
     */
    public CreateAdminTokenResponse createOrganizationAdminToken(String orgId) {
        return call("CreateAdminToken", s -> s.createAdminToken(CreateAdminTokenRequest.newBuilder()
                .setOrgId(orgId).setRole(AdminRole.ADMIN_ROLE_ORGANIZATION_ADMIN).build()));
    }

    /** A new API key for agents of the user; shown once. */
    public CreateApiKeyResponse createApiKey(String accountId, String userId) {
        return call("CreateApiKey", s -> s.createApiKey(CreateApiKeyRequest.newBuilder()
                .setAccountId(accountId).setUserId(userId).build()));
    }

    /**
     * Revokes an API key by its id ({@link CreateApiKeyResponse#getKeyId()}, or {@link #credentialId}
     * of the key): every node refuses it from its very next request. NOT_FOUND CREDENTIAL_NOT_FOUND
     * when no API key has that id.
     */
    public RevokeApiKeyResponse revokeApiKey(String keyId) {
        return call("RevokeApiKey", s -> s.revokeApiKey(RevokeApiKeyRequest.newBuilder().setKeyId(keyId).build()));
    }

    /** Revokes an admin token by its id ({@link CreateAdminTokenResponse#getTokenId()}); as {@link #revokeApiKey}. */
    public RevokeAdminTokenResponse revokeAdminToken(String tokenId) {
        return call("RevokeAdminToken", s -> s.revokeAdminToken(RevokeAdminTokenRequest.newBuilder().setTokenId(tokenId).build()));
    }

    /**
     * The public id of a broker-made API key or admin token ({@code lb_<id>_<secret>}), or the text
     * itself when it is not one (e.g. it already is an id). The id is not secret.
     */
    public static String credentialId(String keyOrToken) {
        String t = keyOrToken.strip();
        int end = t.indexOf('_', 3);
        return t.startsWith("lb_") && end == 3 + 16 ? t.substring(3, end) : t;
    }

    // ---------------------------------------------------------------- subscription

    /** SUPER_ADMIN only. A session (KRE) subscription: the model unset means SESSION. */
    public Subscription setSubscription(String accountId, String product, long licenses, long machineQuota, Instant expiresAt) {
        return setSubscription(accountId, product, licenses, machineQuota, expiresAt, LicenseModel.LICENSE_MODEL_UNSPECIFIED);
    }

    /**
     * SUPER_ADMIN only, with the product's license model ({@code LICENSE_MODEL_UNSPECIFIED} means
     * SESSION). Changing the model while sessions or seats exist is refused LICENSE_MODEL_MISMATCH.
     */
    public Subscription setSubscription(String accountId, String product, long licenses, long machineQuota, Instant expiresAt,
                                        LicenseModel model) {
        return call("SetSubscription", s -> s.setSubscription(SetSubscriptionRequest.newBuilder()
                .setAccountId(accountId).setProduct(product).setLicenses(licenses).setMachineQuota(machineQuota)
                .setExpiresAt(timestamp(expiresAt)).setLicenseModel(model).build()));
    }

    public Subscription getSubscription(String accountId, String product) {
        return call("GetSubscription", s -> s.getSubscription(GetSubscriptionRequest.newBuilder()
                .setAccountId(accountId).setProduct(product).build()));
    }

    // ---------------------------------------------------------------- organizations and licenses

    /** {@code parentId} empty: directly under the account. */
    public Organization createOrganization(String accountId, String parentId, String name) {
        return call("CreateOrganization", s -> s.createOrganization(CreateOrganizationRequest.newBuilder()
                .setAccountId(accountId).setParentId(parentId).setName(name).build()));
    }

    /** Parents come before their children. */
    public ListOrganizationsResponse listOrganizations(String accountId) {
        return call("ListOrganizations", s -> s.listOrganizations(ListOrganizationsRequest.newBuilder()
                .setAccountId(accountId).build()));
    }

    /** 0 revokes (cascading to the subtree; live sessions move to the parent). Answers the account's usage. */
    public LicenseUsage setDedicatedLicenses(String orgId, String product, long licenses) {
        return call("SetDedicatedLicenses", s -> s.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder()
                .setOrgId(orgId).setProduct(product).setLicenses(licenses).build()));
    }

    public LicenseUsage revokeDedicatedLicenses(String orgId, String product) {
        return call("RevokeDedicatedLicenses", s -> s.revokeDedicatedLicenses(RevokeDedicatedLicensesRequest.newBuilder()
                .setOrgId(orgId).setProduct(product).build()));
    }

    /** The license management table of the account for the product. */
    public LicenseUsage getLicenseUsage(String accountId, String product) {
        return call("GetLicenseUsage", s -> s.getLicenseUsage(GetLicenseUsageRequest.newBuilder()
                .setAccountId(accountId).setProduct(product).build()));
    }

    // ---------------------------------------------------------------- users and policy

    /** {@code assignedOrgId} empty: the user draws from the account pool. */
    public User upsertUser(String accountId, String userId, String assignedOrgId, Collection<String> projectOrgIds) {
        return call("UpsertUser", s -> s.upsertUser(UpsertUserRequest.newBuilder()
                .setAccountId(accountId).setUserId(userId).setAssignedOrgId(assignedOrgId)
                .addAllProjectOrgIds(projectOrgIds).build()));
    }

    public ListUsersResponse listUsers(String accountId) {
        return call("ListUsers", s -> s.listUsers(ListUsersRequest.newBuilder().setAccountId(accountId).build()));
    }

    public UsagePolicySettings setUsagePolicy(String accountId, UsagePolicy policy, boolean allowFallback) {
        return call("SetUsagePolicy", s -> s.setUsagePolicy(SetUsagePolicyRequest.newBuilder()
                .setAccountId(accountId).setPolicy(policy).setAllowFallback(allowFallback).build()));
    }

    /** UNRESTRICTED with fallback on. */
    public UsagePolicySettings restoreDefaultUsagePolicy(String accountId) {
        return call("RestoreDefaultUsagePolicy", s -> s.restoreDefaultUsagePolicy(RestoreDefaultUsagePolicyRequest.newBuilder()
                .setAccountId(accountId).build()));
    }

    public UsagePolicySettings getUsagePolicy(String accountId) {
        return call("GetUsagePolicy", s -> s.getUsagePolicy(GetUsagePolicyRequest.newBuilder().setAccountId(accountId).build()));
    }

    // ---------------------------------------------------------------- sessions and machines

    /** One page; filters and paging as in the request (the account id is required). */
    public ListSessionsResponse listSessions(ListSessionsRequest request) {
        return call("ListSessions", s -> s.listSessions(request));
    }

    /** {@code terminated} false when the session had already ended. */
    public TerminateSessionResponse terminateSession(String sessionId) {
        return call("TerminateSession", s -> s.terminateSession(TerminateSessionRequest.newBuilder().setSessionId(sessionId).build()));
    }

    public ListMachinesResponse listMachines(String accountId, String product) {
        return call("ListMachines", s -> s.listMachines(ListMachinesRequest.newBuilder()
                .setAccountId(accountId).setProduct(product).build()));
    }

    /** Ends the machine's live sessions and frees its machine quota; {@code deactivated} false when it was not registered. */
    public DeactivateMachineResponse deactivateMachine(String accountId, String product, String machineId) {
        return call("DeactivateMachine", s -> s.deactivateMachine(DeactivateMachineRequest.newBuilder()
                .setAccountId(accountId).setProduct(product).setMachineId(machineId).build()));
    }

    // ---------------------------------------------------------------- offline licenses

    /** {@code expiresAt} null: the broker picks the longest allowed (60 days, or the subscription's end). */
    public IssueOfflineLicenseResponse issueOfflineLicense(String accountId, String product, String machineId, Instant expiresAt) {
        return issueOfflineLicense(accountId, product, machineId, "", expiresAt);
    }

    /**
     * On a NODE_LOCKED product {@code userId} names the licensed user whose seat the file binds to
     * the machine until its expiry (the seat can then not be removed or transferred:
     * OFFLINE_BOUND); empty on a session product.
     */
    public IssueOfflineLicenseResponse issueOfflineLicense(String accountId, String product, String machineId, String userId,
                                                           Instant expiresAt) {
        IssueOfflineLicenseRequest.Builder request = IssueOfflineLicenseRequest.newBuilder()
                .setAccountId(accountId).setProduct(product).setMachineId(machineId).setUserId(userId);
        if (expiresAt != null) {
            request.setExpiresAt(timestamp(expiresAt));
        }
        return call("IssueOfflineLicense", s -> s.issueOfflineLicense(request.build()));
    }

    /** Checks a license file's signature; a file that does not verify is refused INVALID_ARGUMENT INVALID_LICENSE_FILE. */
    public VerifyOfflineLicenseResponse verifyOfflineLicense(byte[] licenseFile) {
        return call("VerifyOfflineLicense", s -> s.verifyOfflineLicense(VerifyOfflineLicenseRequest.newBuilder()
                .setLicenseFile(ByteString.copyFrom(licenseFile)).build()));
    }

    // ---------------------------------------------------------------- seats ("Licensed Users", "Online Licenses")

    /**
     * Gives the user a seat of a seat product, drawn from {@code poolId} (empty: the user's assigned
     * organization, or the account). FAILED_PRECONDITION INSUFFICIENT_LICENSES when that pool is
     * full (seats never fall back); granting again answers the same seat.
     */
    public LicensedUser grantLicense(String accountId, String product, String userId, String poolId) {
        return call("GrantLicense", s -> s.grantLicense(GrantLicenseRequest.newBuilder()
                .setAccountId(accountId).setProduct(product).setUserId(userId).setPoolId(poolId).build()));
    }

    /** Frees the seat and ends its activations; {@code removed} false when the user held none. OFFLINE_BOUND while an offline license binds it. */
    public RemoveLicenseResponse removeLicense(String accountId, String product, String userId) {
        return call("RemoveLicense", s -> s.removeLicense(RemoveLicenseRequest.newBuilder()
                .setAccountId(accountId).setProduct(product).setUserId(userId).build()));
    }

    /** Moves the seat from one user to another in one step; {@code poolId} empty: the seat's own pool. */
    public LicensedUser transferLicense(String accountId, String product, String fromUserId, String toUserId, String poolId) {
        return call("TransferLicense", s -> s.transferLicense(TransferLicenseRequest.newBuilder()
                .setAccountId(accountId).setProduct(product).setFromUserId(fromUserId).setToUserId(toUserId)
                .setPoolId(poolId).build()));
    }

    /** One page of licensed users, in user id order; filters and paging as in the request (the account id is required). */
    public ListLicensedUsersResponse listLicensedUsers(ListLicensedUsersRequest request) {
        return call("ListLicensedUsers", s -> s.listLicensedUsers(request));
    }

    /** One page of activations ("Online Licenses"), in activation id order; filters and paging as in the request. */
    public ListActivationsResponse listActivations(ListActivationsRequest request) {
        return call("ListActivations", s -> s.listActivations(request));
    }

    // ---------------------------------------------------------------- usage history (CONTRACT.md section 7)

    /**
     * Per pool ({@code poolId} empty: every pool the token may see) and step (one minute, one hour
     * or one day), the exact peak in_use, the grants and the denials by reason, for the steps from
     * the one holding {@code from} to the one before {@code to}. Minutes are kept 48 hours, hours
     * 90 days, days 2 years.
     */
    public GetUsageHistoryResponse usageHistory(String accountId, String product, String poolId, Instant from, Instant to,
                                                Duration step) {
        return call("GetUsageHistory", s -> s.getUsageHistory(GetUsageHistoryRequest.newBuilder().setAccountId(accountId)
                .setProduct(product).setPoolId(poolId).setStartTime(timestamp(from)).setEndTime(timestamp(to))
                .setStep(com.google.protobuf.Duration.newBuilder().setSeconds(step.getSeconds()).setNanos(step.getNano())).build()));
    }

    /** Who was denied a license, seat or activation in {@code [from, to)} (rounded out to whole hours or days), most denied first. */
    public GetDenialReportResponse denialReport(String accountId, String product, String poolId, Instant from, Instant to) {
        return call("GetDenialReport", s -> s.getDenialReport(GetDenialReportRequest.newBuilder().setAccountId(accountId)
                .setProduct(product).setPoolId(poolId).setStartTime(timestamp(from)).setEndTime(timestamp(to)).build()));
    }

    // ---------------------------------------------------------------- plumbing

    /** Where the client connects, for messages. */
    public String targets() {
        return targets;
    }

    @Override
    public void close() {
        channel.shutdown();
        try {
            if (!channel.awaitTermination(1, TimeUnit.SECONDS)) {
                channel.shutdownNow();
            }
        } catch (InterruptedException e) {
            channel.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private <T> T call(String rpc, Function<LicenseAdminGrpc.LicenseAdminBlockingStub, T> call) {
        LicenseAdminGrpc.LicenseAdminBlockingStub stub = LicenseAdminGrpc.newBlockingStub(channel)
                .withInterceptors(credential)
                .withDeadlineAfter(callTimeout.toNanos(), TimeUnit.NANOSECONDS);
        try {
            return call.apply(stub);
        } catch (StatusRuntimeException e) {
            throw Statuses.failure(rpc, e);
        }
    }

    private static Timestamp timestamp(Instant instant) {
        Objects.requireNonNull(instant, "instant");
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }

    /** Builds a {@link LicenseAdminClient}; {@link #target} and {@link #token} are required. */
    public static final class Builder extends ClientBuilder<Builder> {
        private String token;

        private Builder() {
        }

        @Override
        Builder self() {
            return this;
        }

        /** The admin token; sent as {@code authorization: Bearer <token>}. */
        public Builder token(String token) {
            this.token = Objects.requireNonNull(token, "token");
            return this;
        }

        public LicenseAdminClient build() {
            return new LicenseAdminClient(this);
        }
    }
}
