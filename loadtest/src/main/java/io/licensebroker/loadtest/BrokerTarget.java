package io.licensebroker.loadtest;

import com.google.protobuf.Timestamp;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.licensebroker.broker.app.LocalNode;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.PoolRow;
import io.licensebroker.proto.v1.ReleaseSessionRequest;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The broker over gRPC, as agents use it: each virtual agent is a user with its own API key and
 * machine, and every acquire carries a request id (as the SDK sends). Provisions its own account.
 */
final class BrokerTarget implements LoadTarget {
    private static final int MAX_USERS = 256;

    private final List<ManagedChannel> channels;
    private final List<LicenseBrokerGrpc.LicenseBrokerStub> agents;
    private final LicenseAdminGrpc.LicenseAdminBlockingStub admin;
    private final String accountId;
    private final long quota;
    private final AtomicLong requests = new AtomicLong();

    private BrokerTarget(List<ManagedChannel> channels, List<LicenseBrokerGrpc.LicenseBrokerStub> agents,
                         LicenseAdminGrpc.LicenseAdminBlockingStub admin, String accountId, long quota) {
        this.channels = channels;
        this.agents = agents;
        this.admin = admin;
        this.accountId = accountId;
        this.quota = quota;
    }

    /**
     * Provisions an account with {@code licenses} KRE licenses and one user with an API key per
     * agent (up to 256, then shared), through the admin API of the broker at {@code target}.
     */
    static BrokerTarget provision(String target, String adminToken, int agentCount, long licenses, int channelCount) {
        List<ManagedChannel> channels = channels(target, channelCount);
        try {
            return provision(channels, adminToken, agentCount, licenses);
        } catch (StatusRuntimeException e) {
            channels.forEach(ManagedChannel::shutdownNow);
            String hint = switch (e.getStatus().getCode()) {
                case UNAUTHENTICATED, PERMISSION_DENIED -> "; --admin-token must be the broker's SUPER_ADMIN token (the first token `serve --demo` prints)";
                case UNAVAILABLE, DEADLINE_EXCEEDED -> "; is a broker listening at " + target + "?";
                default -> "";
            };
            throw new IllegalStateException("cannot provision the load-test account at " + target + ": "
                    + e.getStatus().getCode() + ": " + e.getStatus().getDescription() + hint, e);
        }
    }

    private static BrokerTarget provision(List<ManagedChannel> channels, String adminToken, int agentCount, long licenses) {
        LicenseAdminGrpc.LicenseAdminBlockingStub admin = LocalNode.withToken(LicenseAdminGrpc.newBlockingStub(channels.get(0)), adminToken);
        String account = "lt-" + UUID.randomUUID().toString().substring(0, 8);
        admin.withDeadlineAfter(30, TimeUnit.SECONDS).createAccount(CreateAccountRequest.newBuilder().setAccountId(account).setName("load test").build());
        Instant expires = Instant.now().plusSeconds(30L * 24 * 3600);
        admin.withDeadlineAfter(30, TimeUnit.SECONDS).setSubscription(SetSubscriptionRequest.newBuilder().setAccountId(account)
                .setLicenses(licenses).setMachineQuota(Math.max(agentCount, 1) + 16L)
                .setExpiresAt(Timestamp.newBuilder().setSeconds(expires.getEpochSecond())).build());
        int users = Math.min(agentCount, MAX_USERS);
        List<String> keys = new ArrayList<>(users);
        for (int u = 0; u < users; u++) {
            String user = "agent-" + u;
            admin.withDeadlineAfter(30, TimeUnit.SECONDS).upsertUser(UpsertUserRequest.newBuilder().setAccountId(account).setUserId(user).build());
            keys.add(admin.withDeadlineAfter(30, TimeUnit.SECONDS)
                    .createApiKey(CreateApiKeyRequest.newBuilder().setAccountId(account).setUserId(user).build()).getApiKey());
        }
        List<LicenseBrokerGrpc.LicenseBrokerStub> agents = new ArrayList<>(agentCount);
        for (int a = 0; a < agentCount; a++) {
            agents.add(LocalNode.withToken(LicenseBrokerGrpc.newStub(channels.get(a % channels.size())), keys.get(a % users)));
        }
        return new BrokerTarget(channels, agents, admin, account, licenses);
    }

    /** The no-op floor: same client, no provisioning, a quota that cannot be exceeded. */
    static BrokerTarget floor(String target, int agentCount, int channelCount) {
        List<ManagedChannel> channels = channels(target, channelCount);
        // A key of the real length, so requests are byte for byte the size the broker receives.
        String key = "lb_" + "a".repeat(16) + "_" + "b".repeat(40);
        List<LicenseBrokerGrpc.LicenseBrokerStub> agents = new ArrayList<>(agentCount);
        for (int a = 0; a < agentCount; a++) {
            agents.add(LocalNode.withToken(LicenseBrokerGrpc.newStub(channels.get(a % channels.size())), key));
        }
        return new BrokerTarget(channels, agents, null, null, Long.MAX_VALUE);
    }

    @Override
    public CompletableFuture<Held> acquire(int agent) {
        Unary<io.licensebroker.proto.v1.AcquireSessionResponse> call = new Unary<>();
        agents.get(agent).withDeadlineAfter(10, TimeUnit.SECONDS).acquireSession(AcquireSessionRequest.newBuilder()
                .setMachineId("m-" + agent).setRequestId("r-" + requests.incrementAndGet()).build(), call);
        return call.thenApply(r -> new Held(r.getSessionId()));
    }

    @Override
    public CompletableFuture<Void> renew(int agent, Held held) {
        Unary<io.licensebroker.proto.v1.RenewSessionResponse> call = new Unary<>();
        agents.get(agent).withDeadlineAfter(10, TimeUnit.SECONDS)
                .renewSession(RenewSessionRequest.newBuilder().setSessionId(held.id()).build(), call);
        return call.thenApply(r -> null);
    }

    @Override
    public CompletableFuture<Void> release(int agent, Held held) {
        Unary<io.licensebroker.proto.v1.ReleaseSessionResponse> call = new Unary<>();
        agents.get(agent).withDeadlineAfter(10, TimeUnit.SECONDS)
                .releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(held.id()).build(), call);
        return call.thenApply(r -> null);
    }

    @Override
    public long quota() {
        return quota;
    }

    @Override
    public long inUse() {
        if (admin == null) {
            return -1;
        }
        LicenseUsage usage = admin.withDeadlineAfter(30, TimeUnit.SECONDS)
                .getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId(accountId).build());
        return usage.getRowsList().stream().mapToLong(PoolRow::getInUse).sum();
    }

    String accountId() {
        return accountId;
    }

    @Override
    public void close() {
        channels.forEach(ManagedChannel::shutdownNow);
    }

    private static List<ManagedChannel> channels(String target, int count) {
        List<ManagedChannel> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            // The driver's callbacks only record and start the next call: no thread hop needed.
            out.add(NettyChannelBuilder.forTarget(target).usePlaintext().directExecutor().build());
        }
        return out;
    }

    /** A unary call as a future; RESOURCE_EXHAUSTED (no license) becomes {@link Refused}. */
    private static final class Unary<T> extends CompletableFuture<T> implements StreamObserver<T> {
        @Override
        public void onNext(T value) {
            complete(value);
        }

        @Override
        public void onError(Throwable t) {
            if (t instanceof StatusRuntimeException e && e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED) {
                completeExceptionally(new Refused(e.getStatus().getDescription()));
            } else {
                completeExceptionally(t);
            }
        }

        @Override
        public void onCompleted() {
            // unary: onNext already completed the future
        }
    }
}
