package io.licensebroker.broker.e2e;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.Timestamp;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.licensebroker.proto.v1.Activation;
import io.licensebroker.proto.v1.ActivateLicenseRequest;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.DeactivateMachineRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.GrantLicenseRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseRequest;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseAdminGrpc.LicenseAdminBlockingStub;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc.LicenseBrokerBlockingStub;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.LicensedUser;
import io.licensebroker.proto.v1.ListActivationsRequest;
import io.licensebroker.proto.v1.ListLicensedUsersRequest;
import io.licensebroker.proto.v1.ListMachinesRequest;
import io.licensebroker.proto.v1.Machine;
import io.licensebroker.proto.v1.PoolRow;
import io.licensebroker.proto.v1.RemoveLicenseRequest;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.TransferLicenseRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import io.licensebroker.testkit.RedisServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static io.licensebroker.broker.e2e.GrpcClients.reason;
import static io.licensebroker.broker.e2e.GrpcClients.withToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The seeds' seat flows (Licensed Users, Online Licenses, Registered Machines, transfer, removal,
 * offline licenses) through the shipped jar over real TCP: on the embedded store across SIGKILL
 * and restart, under 200 concurrent calls against 50 seats, and on two broker nodes sharing Redis.
 */
class SeatsJarIT {
    private static final String ADMIN = "e2e-seats-super-admin-token-0123456789";
    private static final Timestamp NEXT_YEAR = ts(Instant.now().plusSeconds(365L * 24 * 3600));

    @TempDir
    Path dir;

    /** Two clients of one broker node (or of two nodes sharing a store). */
    private record Node(ManagedChannel channel, LicenseAdminBlockingStub admin) {
        LicenseBrokerBlockingStub agent(String key) {
            return withToken(LicenseBrokerGrpc.newBlockingStub(channel), key);
        }
    }

    @Test
    void theSeedsFlowsWorkOnARunningJarAndSurviveSigkill() throws Exception {
        Path data = dir.resolve("data");
        Map<String, String> keys;
        List<LicensedUser> licensedBefore;
        List<Activation> onlineBefore;
        LicenseUsage usageBefore;
        String floatingLease;
        BrokerProcess broker = BrokerProcess.start(data, "--admin-token", ADMIN);
        try {
            Node node = node(broker.port());
            keys = account(node.admin(), "acme", List.of("alice", "bob", "carol", "dave"));
            subscribe(node.admin(), "acme", "KSE", 3, LicenseModel.LICENSE_MODEL_NODE_LOCKED);
            nodeLockedFlow(node, keys);
            subscribe(node.admin(), "acme", "TESTOPS", 1, LicenseModel.LICENSE_MODEL_FLOATING);
            floatingLease = floatingFlow(node, node, keys);
            licensedBefore = licensed(node.admin(), "acme", "KSE");
            onlineBefore = online(node.admin(), "acme", "KSE");
            usageBefore = usage(node.admin(), "acme", "KSE");
            node.channel().shutdownNow();
        } finally {
            broker.kill();
        }
        try (BrokerProcess again = BrokerProcess.start(data, "--admin-token", ADMIN)) {
            Node node = node(again.port());
            try {
                assertEquals(licensedBefore, licensed(node.admin(), "acme", "KSE"), "licensed users after SIGKILL");
                assertEquals(onlineBefore, online(node.admin(), "acme", "KSE"), "online licenses after SIGKILL");
                assertEquals(usageBefore, usage(node.admin(), "acme", "KSE"), "usage after SIGKILL");
                // The floating lease survived too and is still renewable by its activation id.
                node.agent(keys.get("bob")).renewSession(RenewSessionRequest.newBuilder().setSessionId(floatingLease).build());
            } finally {
                node.channel().shutdownNow();
            }
        }
    }

    /** Seed 003/004 with node-locked KSE: grant to the quota, activate, transfer, remove, deactivate, offline. */
    private static void nodeLockedFlow(Node node, Map<String, String> keys) {
        LicenseAdminBlockingStub admin = node.admin();
        for (String user : List.of("alice", "bob", "carol")) {
            assertEquals(user, grant(admin, "acme", "KSE", user).getUserId());
        }
        assertEquals("INSUFFICIENT_LICENSES", reason(assertThrows(StatusRuntimeException.class,
                () -> grant(admin, "acme", "KSE", "dave"))), "the number of licensed users cannot exceed the quota");
        Activation alice = activate(node.agent(keys.get("alice")), "KSE", "m-alice", false);
        assertEquals(List.of("m-alice"), online(admin, "acme", "KSE").stream().map(Activation::getMachineId).toList());
        assertEquals(List.of("m-alice"), machines(admin, "acme", "KSE"));
        assertEquals("SEAT_IN_USE", reason(assertThrows(StatusRuntimeException.class,
                () -> activate(node.agent(keys.get("alice")), "KSE", "m-other", false))));
        // Transfer bob's seat to dave: bob is no longer licensed, dave is.
        admin.transferLicense(TransferLicenseRequest.newBuilder().setAccountId("acme").setProduct("KSE")
                .setFromUserId("bob").setToUserId("dave").build());
        assertEquals("NOT_LICENSED", reason(assertThrows(StatusRuntimeException.class,
                () -> activate(node.agent(keys.get("bob")), "KSE", "m-bob", false))));
        activate(node.agent(keys.get("dave")), "KSE", "m-dave", false);
        // Remove carol: her seat is free again.
        assertTrue(admin.removeLicense(RemoveLicenseRequest.newBuilder().setAccountId("acme").setProduct("KSE").setUserId("carol").build())
                .getRemoved());
        assertEquals(2, usage(admin, "acme", "KSE").getRows(0).getInUse());
        // Deactivate alice's machine to move her node-locked seat to another one.
        admin.deactivateMachine(DeactivateMachineRequest.newBuilder().setAccountId("acme").setProduct("KSE").setMachineId("m-alice").build());
        Activation moved = activate(node.agent(keys.get("alice")), "KSE", "m-alice-2", false);
        assertEquals("m-alice-2", moved.getMachineId());
        assertTrue(!moved.getActivationId().equals(alice.getActivationId()));
        // Convert dave's seat to an offline license: it cannot be transferred any more.
        grant(admin, "acme", "KSE", "carol");
        admin.issueOfflineLicense(IssueOfflineLicenseRequest.newBuilder().setAccountId("acme").setProduct("KSE")
                .setMachineId("m-dave").setUserId("dave").build());
        assertEquals("OFFLINE_BOUND", reason(assertThrows(StatusRuntimeException.class,
                () -> admin.transferLicense(TransferLicenseRequest.newBuilder().setAccountId("acme").setProduct("KSE")
                        .setFromUserId("dave").setToUserId("bob").build()))));
        LicenseUsage usage = usage(admin, "acme", "KSE");
        assertEquals(3, usage.getRows(0).getInUse());
        assertEquals(0, usage.getRows(0).getAvailable());
        assertEquals("LICENSE_MODEL_MISMATCH", reason(assertThrows(StatusRuntimeException.class,
                () -> node.agent(keys.get("alice")).acquireSession(io.licensebroker.proto.v1.AcquireSessionRequest.newBuilder()
                        .setProduct("KSE").setMachineId("m-alice-2").build()))));
    }

    /** A floating seat: one machine at a time, taken over from another node if there are two. Answers bob's live lease. */
    private static String floatingFlow(Node first, Node second, Map<String, String> keys) {
        grant(first.admin(), "acme", "TESTOPS", "bob");
        Activation one = activate(first.agent(keys.get("bob")), "TESTOPS", "laptop", false);
        assertTrue(one.hasLeaseExpiresAt());
        assertEquals("SEAT_IN_USE", reason(assertThrows(StatusRuntimeException.class,
                () -> activate(second.agent(keys.get("bob")), "TESTOPS", "desktop", false))));
        Activation two = activate(second.agent(keys.get("bob")), "TESTOPS", "desktop", true);
        assertEquals("SESSION_TERMINATED", reason(assertThrows(StatusRuntimeException.class,
                () -> first.agent(keys.get("bob")).renewSession(RenewSessionRequest.newBuilder().setSessionId(one.getActivationId()).build()))));
        first.agent(keys.get("bob")).renewSession(RenewSessionRequest.newBuilder().setSessionId(two.getActivationId()).build());
        assertEquals(List.of("desktop"), online(second.admin(), "acme", "TESTOPS").stream().map(Activation::getMachineId).toList());
        assertEquals(online(first.admin(), "acme", "TESTOPS"), online(second.admin(), "acme", "TESTOPS"));
        return two.getActivationId();
    }

    @Test
    void twoHundredConcurrentGrantsOrActivationsAgainstFiftySeatsGiveExactlyFifty() throws Exception {
        try (BrokerProcess broker = BrokerProcess.start(dir.resolve("data"), "--admin-token", ADMIN)) {
            Node node = node(broker.port());
            try {
                races(List.of(node, node));
            } finally {
                node.channel().shutdownNow();
            }
        }
    }

    @Test
    void twoBrokerNodesOnOneRedisShareTheSeatsExactly() throws Exception {
        try (RedisServer redis = RedisServer.start(dir.resolve("redis"));
             BrokerProcess a = BrokerProcess.start(dir.resolve("a"), "--store", "redis", "--redis-uri", redis.uri(), "--admin-token", ADMIN);
             BrokerProcess b = BrokerProcess.start(dir.resolve("b"), "--store", "redis", "--redis-uri", redis.uri(), "--admin-token", ADMIN)) {
            Node one = node(a.port());
            Node two = node(b.port());
            try {
                Map<String, String> keys = account(one.admin(), "acme", List.of("alice", "bob", "carol", "dave"));
                subscribe(one.admin(), "acme", "KSE", 3, LicenseModel.LICENSE_MODEL_NODE_LOCKED);
                nodeLockedFlow(two, keys);
                assertEquals(licensed(one.admin(), "acme", "KSE"), licensed(two.admin(), "acme", "KSE"));
                assertEquals(online(one.admin(), "acme", "KSE"), online(two.admin(), "acme", "KSE"));
                subscribe(two.admin(), "acme", "TESTOPS", 1, LicenseModel.LICENSE_MODEL_FLOATING);
                floatingFlow(one, two, keys);
                races(List.of(one, two));
            } finally {
                one.channel().shutdownNow();
                two.channel().shutdownNow();
            }
        }
    }

    /** 200 users race for 50 seats (grants split over the nodes), then 200 activations race for the 50 seats. */
    private static void races(List<Node> nodes) throws Exception {
        LicenseAdminBlockingStub admin = nodes.get(0).admin();
        List<String> users = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            users.add("racer-" + i);
        }
        Map<String, String> keys = account(admin, "race", users);
        subscribe(admin, "race", "FLT", 50, LicenseModel.LICENSE_MODEL_FLOATING);
        List<String> winners = race(users, i -> future(nodes.get(i % 2)).grantLicense(GrantLicenseRequest.newBuilder()
                .setAccountId("race").setProduct("FLT").setUserId(users.get(i)).build()), "INSUFFICIENT_LICENSES");
        assertEquals(50, winners.size());
        assertEquals(50, usage(admin, "race", "FLT").getRows(0).getInUse());
        assertEquals(50, licensed(admin, "race", "FLT").size());
        // Each winner's agents on four machines at once: one activation per seat.
        List<String> attempts = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            attempts.add(winners.get(i % 50));
        }
        List<String> active = race(attempts, i -> withToken(LicenseBrokerGrpc.newFutureStub(nodes.get(i % 2).channel()),
                keys.get(attempts.get(i))).activateLicense(ActivateLicenseRequest.newBuilder().setProduct("FLT")
                .setMachineId("m-" + i).build()), "SEAT_IN_USE");
        assertEquals(50, active.size());
        assertEquals(50, new HashSet<>(active).size(), "one activation per seat");
        assertEquals(50, online(admin, "race", "FLT").size());
        LicenseUsage usage = usage(admin, "race", "FLT");
        for (PoolRow row : usage.getRowsList()) {
            assertTrue(row.getInUse() >= 0 && row.getInUse() <= row.getPool(), row.toString());
        }
    }

    /** Fires all calls at once; answers who won (the user or activation of each success); every loss must be {@code refusal}. */
    private static <T> List<String> race(List<String> who, Function<Integer, ListenableFuture<T>> call, String refusal)
            throws InterruptedException, java.util.concurrent.TimeoutException {
        List<ListenableFuture<T>> calls = new ArrayList<>();
        for (int i = 0; i < who.size(); i++) {
            calls.add(call.apply(i));
        }
        List<String> won = new ArrayList<>();
        for (int i = 0; i < calls.size(); i++) {
            try {
                T answer = calls.get(i).get(120, TimeUnit.SECONDS);
                won.add(answer instanceof Activation a ? a.getUserId() : who.get(i));
            } catch (ExecutionException e) {
                assertEquals(refusal, reason((StatusRuntimeException) e.getCause()), who.get(i));
            }
        }
        return won;
    }

    // ---------------------------------------------------------------- helpers

    private static Node node(int port) {
        ManagedChannel channel = GrpcClients.channel(port);
        return new Node(channel, withToken(LicenseAdminGrpc.newBlockingStub(channel), ADMIN));
    }

    private static LicenseAdminGrpc.LicenseAdminFutureStub future(Node node) {
        return withToken(LicenseAdminGrpc.newFutureStub(node.channel()), ADMIN);
    }

    /** An account with the users and an API key for each. */
    private static Map<String, String> account(LicenseAdminBlockingStub admin, String account, List<String> users) {
        admin.createAccount(CreateAccountRequest.newBuilder().setAccountId(account).setName(account).build());
        Map<String, String> keys = new HashMap<>();
        for (String user : users) {
            admin.upsertUser(UpsertUserRequest.newBuilder().setAccountId(account).setUserId(user).build());
            keys.put(user, admin.createApiKey(CreateApiKeyRequest.newBuilder().setAccountId(account).setUserId(user).build()).getApiKey());
        }
        return keys;
    }

    private static void subscribe(LicenseAdminBlockingStub admin, String account, String product, long licenses, LicenseModel model) {
        assertEquals(model, admin.setSubscription(SetSubscriptionRequest.newBuilder().setAccountId(account).setProduct(product)
                .setLicenses(licenses).setMachineQuota(1000).setExpiresAt(NEXT_YEAR).setLicenseModel(model).build()).getLicenseModel());
    }

    private static LicensedUser grant(LicenseAdminBlockingStub admin, String account, String product, String user) {
        return admin.grantLicense(GrantLicenseRequest.newBuilder().setAccountId(account).setProduct(product).setUserId(user).build());
    }

    private static Activation activate(LicenseBrokerBlockingStub agent, String product, String machine, boolean takeOver) {
        return agent.activateLicense(ActivateLicenseRequest.newBuilder().setProduct(product).setMachineId(machine)
                .setTakeOver(takeOver).build());
    }

    private static List<LicensedUser> licensed(LicenseAdminBlockingStub admin, String account, String product) {
        return admin.listLicensedUsers(ListLicensedUsersRequest.newBuilder().setAccountId(account).setProduct(product)
                .setPageSize(1000).build()).getLicensedUsersList();
    }

    private static List<Activation> online(LicenseAdminBlockingStub admin, String account, String product) {
        return admin.listActivations(ListActivationsRequest.newBuilder().setAccountId(account).setProduct(product)
                .setPageSize(1000).build()).getActivationsList();
    }

    private static List<String> machines(LicenseAdminBlockingStub admin, String account, String product) {
        return admin.listMachines(ListMachinesRequest.newBuilder().setAccountId(account).setProduct(product).build())
                .getMachinesList().stream().map(Machine::getMachineId).toList();
    }

    private static LicenseUsage usage(LicenseAdminBlockingStub admin, String account, String product) {
        return admin.getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId(account).setProduct(product).build());
    }

    private static Timestamp ts(Instant i) {
        return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).build();
    }
}
