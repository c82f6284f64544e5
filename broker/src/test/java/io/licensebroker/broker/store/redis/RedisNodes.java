package io.licensebroker.broker.store.redis;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.Timestamp;
import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.licensebroker.broker.testing.ErrorReasons;
import io.grpc.stub.AbstractStub;
import io.licensebroker.broker.app.BrokerNode;
import io.licensebroker.broker.app.LocalNode;
import io.licensebroker.broker.app.Setting;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.AcquireSessionResponse;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.CreateOrganizationRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.SetDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Real broker nodes ({@link BrokerNode}, gRPC over TCP) sharing one Redis or Redis Cluster, with
 * stubs to call them: what the multi-node tests drive.
 */
final class RedisNodes implements AutoCloseable {
    static final String ADMIN = "redis-nodes-super-admin-token-0123456789";
    private static final Timestamp NEXT_YEAR = Timestamp.newBuilder()
            .setSeconds(Instant.now().plus(Duration.ofDays(365)).getEpochSecond()).build();

    private final List<LocalNode> nodes = new ArrayList<>();
    private final String uri;
    private final Duration leaseTtl;
    private final Duration redisTimeout;

    private RedisNodes(String uri, Duration leaseTtl, Duration redisTimeout) {
        this.uri = uri;
        this.leaseTtl = leaseTtl;
        this.redisTimeout = redisTimeout;
    }

    /** Nodes with generous Redis timeouts (a slow CI machine must not turn into UNAVAILABLE answers). */
    static RedisNodes start(String uri, int count, Duration leaseTtl) {
        return start(uri, count, leaseTtl, Duration.ofSeconds(2));
    }

    static RedisNodes start(String uri, int count, Duration leaseTtl, Duration redisTimeout) {
        RedisNodes nodes = new RedisNodes(uri, leaseTtl, redisTimeout);
        try {
            for (int i = 0; i < count; i++) {
                nodes.add();
            }
            return nodes;
        } catch (RuntimeException e) {
            nodes.close();
            throw e;
        }
    }

    /** Starts one more node; answers its index. */
    int add() {
        return add(uri);
    }

    /** Starts one more node on {@code redisUri} (e.g. one seed of a cluster); answers its index. */
    int add(String redisUri) {
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.ADMIN_TOKEN, ADMIN);
        flags.put(Setting.STORE, "redis");
        flags.put(Setting.REDIS_URI, redisUri);
        flags.put(Setting.REDIS_TIMEOUT, redisTimeout.toMillis() + "ms");
        flags.put(Setting.LEASE_TTL, leaseTtl.toMillis() + "ms");
        flags.put(Setting.SHUTDOWN_GRACE, "1s");
        // The data directory is not used with Redis; it only has to be a path.
        flags.put(Setting.DATA_DIR, Path.of(System.getProperty("java.io.tmpdir"), "unused-redis-node-data").toString());
        nodes.add(LocalNode.start(flags));
        return nodes.size() - 1;
    }

    BrokerNode node(int i) {
        return nodes.get(i).node();
    }

    int size() {
        return nodes.size();
    }

    ManagedChannel channel(int i) {
        return nodes.get(i).channel();
    }

    /** Stops node {@code i} (its sessions stay in Redis, as after a crash: nothing releases them). */
    void stop(int i) {
        nodes.get(i).close();
    }

    LicenseAdminGrpc.LicenseAdminBlockingStub admin(int node) {
        return withToken(LicenseAdminGrpc.newBlockingStub(channel(node)), ADMIN);
    }

    LicenseBrokerGrpc.LicenseBrokerBlockingStub agent(int node, String apiKey) {
        return withToken(LicenseBrokerGrpc.newBlockingStub(channel(node)), apiKey);
    }

    LicenseBrokerGrpc.LicenseBrokerFutureStub agentAsync(int node, String apiKey) {
        return withToken(LicenseBrokerGrpc.newFutureStub(channel(node)), apiKey);
    }

    LicenseUsage usage(int node, String account) {
        return admin(node).getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId(account).build());
    }

    /**
     * 50 licenses over the account pool (20), org A (20, of which 5 go to its sub-org A1) and org B
     * (10); users "free" (no org), "in-a1" (A1) and "in-b" (B, project member of A); under the
     * default policy every user can reach all 50. Set up through node {@code via}.
     */
    FiftyLicenses fiftyLicenseAccount(int via, String account) {
        var admin = admin(via);
        admin.createAccount(CreateAccountRequest.newBuilder().setAccountId(account).setName(account).build());
        admin.setSubscription(SetSubscriptionRequest.newBuilder().setAccountId(account).setLicenses(50)
                .setMachineQuota(100_000).setExpiresAt(NEXT_YEAR).build());
        String a = org(via, account, "", "A");
        String a1 = org(via, account, a, "A1");
        String b = org(via, account, "", "B");
        dedicated(via, a, 20);
        dedicated(via, a1, 5);
        dedicated(via, b, 10);
        Map<String, String> keys = new LinkedHashMap<>();
        user(via, account, "free", "");
        user(via, account, "in-a1", a1);
        user(via, account, "in-b", b, a);
        for (String user : List.of("free", "in-a1", "in-b")) {
            keys.put(user, admin.createApiKey(CreateApiKeyRequest.newBuilder().setAccountId(account).setUserId(user).build()).getApiKey());
        }
        return new FiftyLicenses(account, a, a1, b, keys);
    }

    record FiftyLicenses(String account, String orgA, String orgA1, String orgB, Map<String, String> apiKeys) {
        List<String> users() {
            return List.copyOf(apiKeys.keySet());
        }
    }

    String org(int via, String account, String parent, String name) {
        return admin(via).createOrganization(CreateOrganizationRequest.newBuilder().setAccountId(account).setParentId(parent)
                .setName(name).build()).getOrgId();
    }

    void dedicated(int via, String org, long licenses) {
        admin(via).setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(org).setLicenses(licenses).build());
    }

    void user(int via, String account, String user, String assigned, String... projects) {
        admin(via).upsertUser(UpsertUserRequest.newBuilder().setAccountId(account).setUserId(user).setAssignedOrgId(assigned)
                .addAllProjectOrgIds(List.of(projects)).build());
    }

    /** One acquire to make: through which node, with which key, for which machine. */
    record Call(int node, String apiKey, String machine) {
    }

    /** The outcome of one acquire: the response, or the refusal's ErrorInfo reason. */
    record Outcome(AcquireSessionResponse granted, String refusal) {
    }

    /** Sends every call at once (asynchronous stubs), then waits for all of them. */
    List<Outcome> acquireAll(List<Call> calls) throws InterruptedException {
        List<ListenableFuture<AcquireSessionResponse>> sent = new ArrayList<>(calls.size());
        for (Call c : calls) {
            sent.add(agentAsync(c.node(), c.apiKey()).acquireSession(AcquireSessionRequest.newBuilder().setMachineId(c.machine()).build()));
        }
        List<Outcome> out = new ArrayList<>(calls.size());
        for (ListenableFuture<AcquireSessionResponse> f : sent) {
            try {
                out.add(new Outcome(f.get(60, TimeUnit.SECONDS), null));
            } catch (ExecutionException e) {
                if (e.getCause() instanceof StatusRuntimeException s) {
                    out.add(new Outcome(null, s.getStatus().getCode() + "/" + reason(s)));
                } else {
                    throw new AssertionError(e);
                }
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError("an acquire did not answer", e);
            }
        }
        return out;
    }

    static <S extends AbstractStub<S>> S withToken(S stub, String token) {
        return LocalNode.withToken(stub, token).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    /** The ErrorInfo reason of a refusal. */
    static String reason(StatusRuntimeException e) {
        return ErrorReasons.of(e);
    }

    @Override
    public void close() {
        nodes.forEach(LocalNode::close);
    }
}
