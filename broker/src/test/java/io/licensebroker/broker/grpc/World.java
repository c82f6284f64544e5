package io.licensebroker.broker.grpc;

import com.google.protobuf.Timestamp;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.offline.Ed25519Signer;
import io.licensebroker.broker.store.memory.MemoryStore;
import io.licensebroker.broker.testing.InProcessServer;
import io.licensebroker.testkit.MutableClock;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.AcquireSessionResponse;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateAdminTokenRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.CreateOrganizationRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.GrantLicenseRequest;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.LicensedUser;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.PoolRow;
import io.licensebroker.proto.v1.SetDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A broker behind a real in-process gRPC server with the real services and interceptor, a clock
 * the test moves, and helpers that set up accounts through the admin RPCs themselves.
 *
 * <p>{@link #standard()} adds two tenants, "acme" and "globex", each with a subscription of 100
 * licenses and 10 machines, an organization, an ACCOUNT_ADMIN token and an agent.
 */
final class World implements AutoCloseable {
    static final String ROOT = "root-bootstrap-token-for-tests";
    static final Duration LEASE = Duration.ofSeconds(60);
    static final Instant START = Instant.parse("2030-01-01T00:00:00Z");

    final MutableClock clock = new MutableClock(START);
    final LicenseStore store;
    final LicenseService service;
    private final InProcessServer server;
    private final ManagedChannel channel;

    // Filled by standard().
    String acmeAdmin;
    String globexAdmin;
    String acmeOrg;
    String globexOrg;
    /** Agent of user "alice" in acme, no assigned org (draws from the account pool). */
    String aliceKey;
    /** Agent of user "bob" in acme, no assigned org. */
    String bobKey;
    /** Agent of user "carol" in globex. */
    String carolKey;

    private World(LicenseStore store) {
        this.store = store;
        this.service = new LicenseService(store, clock, LEASE, Ed25519Signer.generate(), new SecureRandom(), ROOT);
        this.server = InProcessServer.serve(BrokerServer.services(service));
        this.channel = server.channel();
    }

    static World empty() {
        return new World(MemoryStore.volatileStore(Duration.ofMinutes(10)));
    }

    static World over(LicenseStore store) {
        return new World(store);
    }

    static World standard() {
        World w = empty();
        w.account("acme", 100, 10);
        w.account("globex", 100, 10);
        w.acmeAdmin = w.accountAdmin("acme");
        w.globexAdmin = w.accountAdmin("globex");
        w.acmeOrg = w.org("acme", null, "Acme Engineering");
        w.globexOrg = w.org("globex", null, "Globex Research");
        w.aliceKey = w.userKey("acme", "alice", null);
        w.bobKey = w.userKey("acme", "bob", null);
        w.carolKey = w.userKey("globex", "carol", null);
        return w;
    }

    // ---------------------------------------------------------------- stubs

    LicenseAdminGrpc.LicenseAdminBlockingStub root() {
        return admin(ROOT);
    }

    LicenseAdminGrpc.LicenseAdminBlockingStub admin(String token) {
        return withAuthorization(LicenseAdminGrpc.newBlockingStub(channel), "Bearer " + token);
    }

    LicenseBrokerGrpc.LicenseBrokerBlockingStub agent(String apiKey) {
        return withAuthorization(LicenseBrokerGrpc.newBlockingStub(channel), "Bearer " + apiKey);
    }

    LicenseAdminGrpc.LicenseAdminBlockingStub anonymousAdmin() {
        return LicenseAdminGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    LicenseBrokerGrpc.LicenseBrokerBlockingStub anonymousAgent() {
        return LicenseBrokerGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    ManagedChannel channel() {
        return channel;
    }

    /** {@code headerValue} null: no authorization header at all. */
    static <S extends AbstractStub<S>> S withAuthorization(S stub, String headerValue) {
        S s = stub.withDeadlineAfter(10, TimeUnit.SECONDS);
        if (headerValue == null) {
            return s;
        }
        Metadata headers = new Metadata();
        headers.put(AuthInterceptor.AUTHORIZATION, headerValue);
        return s.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    // ---------------------------------------------------------------- setup through the RPCs

    String account(String id, long licenses, long machineQuota) {
        root().createAccount(CreateAccountRequest.newBuilder().setAccountId(id).setName(id + " Inc.").build());
        subscribe(id, licenses, machineQuota, inFuture(Duration.ofDays(365)));
        return id;
    }

    void subscribe(String account, long licenses, long machineQuota, Timestamp expiresAt) {
        root().setSubscription(SetSubscriptionRequest.newBuilder().setAccountId(account)
                .setLicenses(licenses).setMachineQuota(machineQuota).setExpiresAt(expiresAt).build());
    }

    /** A seat subscription (NODE_LOCKED or FLOATING) of {@code product}, a year long. */
    void seats(String account, String product, long licenses, long machineQuota, LicenseModel model) {
        root().setSubscription(SetSubscriptionRequest.newBuilder().setAccountId(account).setProduct(product)
                .setLicenses(licenses).setMachineQuota(machineQuota).setExpiresAt(inFuture(Duration.ofDays(365)))
                .setLicenseModel(model).build());
    }

    /** Grants {@code user} a seat of {@code product} from its default pool. */
    LicensedUser grant(String account, String product, String user) {
        return root().grantLicense(GrantLicenseRequest.newBuilder().setAccountId(account).setProduct(product).setUserId(user).build());
    }

    String accountAdmin(String account) {
        return root().createAdminToken(CreateAdminTokenRequest.newBuilder().setAccountId(account)
                .setRole(AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN).build()).getToken();
    }

    /** An ORGANIZATION_ADMIN token of the organization (its account is the organization's). */
    String orgAdmin(String orgId) {
        return root().createAdminToken(CreateAdminTokenRequest.newBuilder().setOrgId(orgId)
                .setRole(AdminRole.ADMIN_ROLE_ORGANIZATION_ADMIN).build()).getToken();
    }

    /** {@code parent} null: directly under the account. */
    String org(String account, String parent, String name) {
        return root().createOrganization(CreateOrganizationRequest.newBuilder().setAccountId(account)
                .setParentId(parent == null ? "" : parent).setName(name).build()).getOrgId();
    }

    LicenseUsage dedicate(String orgId, long licenses) {
        return root().setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(orgId).setLicenses(licenses).build());
    }

    /** Creates (or replaces) the user and returns a fresh API key of it. */
    String userKey(String account, String userId, String assignedOrg, String... projectOrgs) {
        root().upsertUser(UpsertUserRequest.newBuilder().setAccountId(account).setUserId(userId)
                .setAssignedOrgId(assignedOrg == null ? "" : assignedOrg).addAllProjectOrgIds(List.of(projectOrgs)).build());
        return root().createApiKey(CreateApiKeyRequest.newBuilder().setAccountId(account).setUserId(userId).build()).getApiKey();
    }

    LicenseUsage usage(String account) {
        return root().getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId(account).build());
    }

    PoolRow row(String account, String poolId) {
        return row(usage(account), poolId);
    }

    static PoolRow row(LicenseUsage usage, String poolId) {
        return usage.getRowsList().stream().filter(r -> r.getPoolId().equals(poolId)).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + poolId + " in " + usage));
    }

    AcquireSessionResponse acquire(String apiKey, String machineId) {
        return agent(apiKey).acquireSession(AcquireSessionRequest.newBuilder().setMachineId(machineId).build());
    }

    Timestamp inFuture(Duration d) {
        return Protos.timestamp(clock.instant().plus(d));
    }

    @Override
    public void close() {
        server.close();
        store.close();
    }
}
