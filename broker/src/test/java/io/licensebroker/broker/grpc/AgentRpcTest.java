package io.licensebroker.broker.grpc;

import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.AcquireSessionResponse;
import io.licensebroker.proto.v1.ActivateLicenseRequest;
import io.licensebroker.proto.v1.Activation;
import io.licensebroker.proto.v1.DeactivateMachineRequest;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.ReleaseSessionRequest;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.RenewSessionResponse;
import io.licensebroker.proto.v1.SetUsagePolicyRequest;
import io.licensebroker.proto.v1.TerminateSessionRequest;
import io.licensebroker.proto.v1.UsagePolicy;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.time.Duration;
import java.util.stream.Stream;

import static io.grpc.Status.Code.ALREADY_EXISTS;
import static io.grpc.Status.Code.FAILED_PRECONDITION;
import static io.grpc.Status.Code.NOT_FOUND;
import static io.grpc.Status.Code.RESOURCE_EXHAUSTED;
import static io.licensebroker.broker.grpc.SeatAdminRpcTest.FLOATING;
import static io.licensebroker.broker.grpc.SeatAdminRpcTest.NODE_LOCKED;
import static io.licensebroker.broker.grpc.SeatAdminRpcTest.seats;
import static io.licensebroker.broker.grpc.Table.denied;
import static io.licensebroker.broker.grpc.Table.invalid;
import static io.licensebroker.broker.grpc.Table.ok;
import static io.licensebroker.broker.grpc.Table.refused;
import static io.licensebroker.broker.grpc.Table.unauthenticated;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The agents' RPCs: success and every refusal each can answer. */
final class AgentRpcTest {
    private static final String UNKNOWN_SESSION = "acme." + "a".repeat(26);

    static AcquireSessionRequest acquire(String machineId) {
        return AcquireSessionRequest.newBuilder().setMachineId(machineId).build();
    }

    static RenewSessionRequest renew(String sessionId) {
        return RenewSessionRequest.newBuilder().setSessionId(sessionId).build();
    }

    static ReleaseSessionRequest release(String sessionId) {
        return ReleaseSessionRequest.newBuilder().setSessionId(sessionId).build();
    }

    @TestFactory
    Stream<DynamicTest> acquireSession() {
        return Table.of(
                ok("draws one license from the user's pool", w -> {
                    AcquireSessionResponse r = w.acquire(w.aliceKey, "m1");
                    assertTrue(r.getSessionId().startsWith("acme."), r.getSessionId());
                    assertEquals("acme", r.getPoolId());
                    assertFalse(r.getFallback());
                    assertEquals(Protos.timestamp(World.START.plus(World.LEASE)), r.getLeaseExpiresAt());
                    assertEquals(Protos.duration(World.LEASE.dividedBy(3)), r.getRenewInterval());
                    assertEquals(1, w.row("acme", "acme").getInUse());
                }),
                ok("an empty product means KRE, and an explicit KRE is the same pool", w -> {
                    w.agent(w.aliceKey).acquireSession(acquire("m1").toBuilder().setProduct("KRE").build());
                    w.acquire(w.aliceKey, "m2");
                    assertEquals(2, w.row("acme", "acme").getInUse());
                }),
                ok("the same request_id returns the same session, not a second license", w -> {
                    AcquireSessionRequest req = acquire("m1").toBuilder().setRequestId("req-1").build();
                    String first = w.agent(w.aliceKey).acquireSession(req).getSessionId();
                    assertEquals(first, w.agent(w.aliceKey).acquireSession(req).getSessionId());
                    assertNotEquals(first, w.agent(w.bobKey).acquireSession(req).getSessionId(), "keys are per user");
                    assertEquals(2, w.row("acme", "acme").getInUse());
                }),
                invalid("machine_id missing", "machine_id", w -> () -> w.acquire(w.aliceKey, "")),
                invalid("machine_id with a slash", "machine_id", w -> () -> w.acquire(w.aliceKey, "a/b")),
                invalid("machine_id starting with a dot", "machine_id", w -> () -> w.acquire(w.aliceKey, "..m")),
                invalid("machine_id of 129 characters", "machine_id", w -> () -> w.acquire(w.aliceKey, "m".repeat(129))),
                invalid("product with a space", "product",
                        w -> () -> w.agent(w.aliceKey).acquireSession(acquire("m1").toBuilder().setProduct("K E").build())),
                invalid("product of 33 characters", "product",
                        w -> () -> w.agent(w.aliceKey).acquireSession(acquire("m1").toBuilder().setProduct("P".repeat(33)).build())),
                invalid("request_id of 129 characters", "request_id",
                        w -> () -> w.agent(w.aliceKey).acquireSession(acquire("m1").toBuilder().setRequestId("r".repeat(129)).build())),
                invalid("request_id with a newline", "request_id",
                        w -> () -> w.agent(w.aliceKey).acquireSession(acquire("m1").toBuilder().setRequestId("a\nb").build())),
                refused("every pool is empty", RESOURCE_EXHAUSTED, "NO_LICENSE_AVAILABLE", w -> {
                    w.account("tiny", 1, 10);
                    String key = w.userKey("tiny", "u", null);
                    w.acquire(key, "m1");
                    return () -> w.acquire(key, "m2");
                }),
                refused("org pool empty and fallback off", RESOURCE_EXHAUSTED, "ORGANIZATION_POOL_EXHAUSTED", w -> {
                    w.root().setUsagePolicy(SetUsagePolicyRequest.newBuilder().setAccountId("acme")
                            .setPolicy(UsagePolicy.USAGE_POLICY_STRICT).setAllowFallback(false).build());
                    String key = w.userKey("acme", "dave", w.acmeOrg);
                    return () -> w.acquire(key, "m1");
                }),
                refused("a new machine over the machine quota", RESOURCE_EXHAUSTED, "MACHINE_QUOTA_EXCEEDED", w -> {
                    w.account("small", 10, 1);
                    String key = w.userKey("small", "u", null);
                    w.acquire(key, "m1");
                    return () -> w.acquire(key, "m2");
                }),
                refused("after the subscription's expiry", FAILED_PRECONDITION, "SUBSCRIPTION_EXPIRED", w -> {
                    w.clock.advance(Duration.ofDays(366));
                    return () -> w.acquire(w.aliceKey, "m1");
                }),
                refused("a product the account did not buy", FAILED_PRECONDITION, "NO_SUBSCRIPTION",
                        w -> () -> w.agent(w.aliceKey).acquireSession(acquire("m1").toBuilder().setProduct("OTHER").build())),
                refused("a request_id reused for another machine", ALREADY_EXISTS, "ALREADY_EXISTS", "request_id", w -> {
                    w.agent(w.aliceKey).acquireSession(acquire("m1").toBuilder().setRequestId("r1").build());
                    return () -> w.agent(w.aliceKey).acquireSession(acquire("m2").toBuilder().setRequestId("r1").build());
                }),
                unauthenticated("no token", w -> () -> w.anonymousAgent().acquireSession(acquire("m1"))),
                unauthenticated("an unknown API key", w -> () -> w.acquire("lb_" + "x".repeat(16) + "_" + "y".repeat(40), "m1")),
                denied("an admin token", w -> () -> w.agent(w.acmeAdmin).acquireSession(acquire("m1"))),
                denied("the bootstrap SUPER_ADMIN token", w -> () -> w.agent(World.ROOT).acquireSession(acquire("m1"))));
    }

    @TestFactory
    Stream<DynamicTest> renewSession() {
        return Table.of(
                ok("extends the lease from now", w -> {
                    AcquireSessionResponse s = w.acquire(w.aliceKey, "m1");
                    w.clock.advance(Duration.ofSeconds(30));
                    RenewSessionResponse r = w.agent(w.aliceKey).renewSession(renew(s.getSessionId()));
                    assertEquals(Protos.timestamp(World.START.plusSeconds(30).plus(World.LEASE)), r.getLeaseExpiresAt());
                    assertEquals("acme", r.getPoolId());
                    assertEquals(Protos.duration(World.LEASE.dividedBy(3)), r.getRenewInterval());
                }),
                invalid("session_id missing", "session_id", w -> () -> w.agent(w.aliceKey).renewSession(renew(""))),
                invalid("session_id over " + Validation.MAX_SESSION_ID + " characters", "session_id",
                        w -> () -> w.agent(w.aliceKey).renewSession(renew("s".repeat(Validation.MAX_SESSION_ID + 1)))),
                invalid("session_id not ASCII", "session_id", w -> () -> w.agent(w.aliceKey).renewSession(renew("acme.é"))),
                refused("a session id that never existed", NOT_FOUND, "SESSION_NOT_FOUND", "session_id",
                        w -> () -> w.agent(w.aliceKey).renewSession(renew(UNKNOWN_SESSION))),
                refused("a released session", NOT_FOUND, "SESSION_NOT_FOUND", "session_id", w -> {
                    String id = w.acquire(w.aliceKey, "m1").getSessionId();
                    w.agent(w.aliceKey).releaseSession(release(id));
                    return () -> w.agent(w.aliceKey).renewSession(renew(id));
                }),
                refused("a lease that ran out, reaped", NOT_FOUND, "SESSION_EXPIRED", "session_id", w -> {
                    String id = w.acquire(w.aliceKey, "m1").getSessionId();
                    w.clock.advance(World.LEASE.plusSeconds(1));
                    w.service.reapExpiredLeases().toCompletableFuture().join();
                    return () -> w.agent(w.aliceKey).renewSession(renew(id));
                }),
                refused("a lease that ran out, not yet reaped", NOT_FOUND, "SESSION_EXPIRED", "session_id", w -> {
                    String id = w.acquire(w.aliceKey, "m1").getSessionId();
                    w.clock.advance(World.LEASE);
                    return () -> w.agent(w.aliceKey).renewSession(renew(id));
                }),
                refused("a session an admin terminated", NOT_FOUND, "SESSION_TERMINATED", "session_id", w -> {
                    String id = w.acquire(w.aliceKey, "m1").getSessionId();
                    w.admin(w.acmeAdmin).terminateSession(TerminateSessionRequest.newBuilder().setSessionId(id).build());
                    return () -> w.agent(w.aliceKey).renewSession(renew(id));
                }),
                refused("a live session after the subscription's expiry", FAILED_PRECONDITION, "SUBSCRIPTION_EXPIRED", w -> {
                    w.subscribe("acme", 100, 10, w.inFuture(Duration.ofSeconds(30)));
                    String id = w.acquire(w.aliceKey, "m1").getSessionId();
                    w.clock.advance(Duration.ofSeconds(31));
                    return () -> w.agent(w.aliceKey).renewSession(renew(id));
                }),
                denied("another user's session", w -> {
                    String id = w.acquire(w.aliceKey, "m1").getSessionId();
                    return () -> w.agent(w.bobKey).renewSession(renew(id));
                }),
                denied("another account's session", w -> {
                    String id = w.acquire(w.aliceKey, "m1").getSessionId();
                    return () -> w.agent(w.carolKey).renewSession(renew(id));
                }),
                denied("an admin token", w -> {
                    String id = w.acquire(w.aliceKey, "m1").getSessionId();
                    return () -> w.agent(w.acmeAdmin).renewSession(renew(id));
                }),
                unauthenticated("no token", w -> () -> w.anonymousAgent().renewSession(renew(UNKNOWN_SESSION))));
    }

    @TestFactory
    Stream<DynamicTest> releaseSession() {
        return Table.of(
                ok("returns the license; a second release answers false", w -> {
                    String id = w.acquire(w.aliceKey, "m1").getSessionId();
                    assertTrue(w.agent(w.aliceKey).releaseSession(release(id)).getReleased());
                    assertEquals(0, w.row("acme", "acme").getInUse());
                    assertFalse(w.agent(w.aliceKey).releaseSession(release(id)).getReleased());
                }),
                ok("a well-formed id that never existed answers false", w ->
                        assertFalse(w.agent(w.aliceKey).releaseSession(release(UNKNOWN_SESSION)).getReleased())),
                invalid("session_id missing", "session_id", w -> () -> w.agent(w.aliceKey).releaseSession(release(""))),
                invalid("session_id with a control character", "session_id",
                        w -> () -> w.agent(w.aliceKey).releaseSession(release("acme.\u0001"))),
                ok("an id that is not a broker session id answers false: releasing is never an error", w ->
                        assertFalse(w.agent(w.aliceKey).releaseSession(release("not-a-session")).getReleased())),
                denied("another user's session", w -> {
                    String id = w.acquire(w.aliceKey, "m1").getSessionId();
                    return () -> w.agent(w.bobKey).releaseSession(release(id));
                }),
                denied("another account's session", w -> {
                    String id = w.acquire(w.aliceKey, "m1").getSessionId();
                    return () -> w.agent(w.carolKey).releaseSession(release(id));
                }),
                denied("an admin token", w -> () -> w.agent(World.ROOT).releaseSession(release(UNKNOWN_SESSION))),
                unauthenticated("no token", w -> () -> w.anonymousAgent().releaseSession(release(UNKNOWN_SESSION))));
    }

    static ActivateLicenseRequest.Builder activation(String product, String machineId) {
        return ActivateLicenseRequest.newBuilder().setProduct(product).setMachineId(machineId);
    }

    static Activation activate(World w, String key, ActivateLicenseRequest.Builder request) {
        return w.agent(key).activateLicense(request.build());
    }

    /** Alice (account pool) and bob hold a seat of each of acme's seat products. */
    private static World licensed(World w) {
        seats(w);
        for (String product : new String[]{FLOATING, NODE_LOCKED}) {
            w.grant("acme", product, "alice");
            w.grant("acme", product, "bob");
        }
        return w;
    }

    @TestFactory
    Stream<DynamicTest> activateLicense() {
        return Table.of(
                ok("floating: a lease renewed and released by its activation id, like a session", w -> {
                    Activation a = activate(licensed(w), w.aliceKey, activation(FLOATING, "m1"));
                    assertEquals("acme", a.getPoolId());
                    assertEquals("m1", a.getMachineId());
                    assertEquals("alice", a.getUserId());
                    assertEquals(Protos.timestamp(World.START.plus(World.LEASE)), a.getLeaseExpiresAt());
                    assertEquals(Protos.duration(World.LEASE.dividedBy(3)), a.getRenewInterval());
                    assertEquals(a, activate(w, w.aliceKey, activation(FLOATING, "m1")), "again on the same machine: the same activation");
                    w.clock.advance(Duration.ofSeconds(30));
                    RenewSessionResponse r = w.agent(w.aliceKey).renewSession(renew(a.getActivationId()));
                    assertEquals(Protos.timestamp(World.START.plusSeconds(30).plus(World.LEASE)), r.getLeaseExpiresAt());
                    assertTrue(w.agent(w.aliceKey).releaseSession(release(a.getActivationId())).getReleased());
                    assertNotEquals(a.getActivationId(), activate(w, w.aliceKey, activation(FLOATING, "m2")).getActivationId(),
                            "released, the seat is free for another machine");
                }),
                ok("floating: take_over ends the activation on the other machine", w -> {
                    String old = activate(licensed(w), w.aliceKey, activation(FLOATING, "m1")).getActivationId();
                    Activation taken = activate(w, w.aliceKey, activation(FLOATING, "m2").setTakeOver(true));
                    assertEquals("m2", taken.getMachineId());
                    Refusals.assertRefused(NOT_FOUND, "SESSION_TERMINATED", () -> w.agent(w.aliceKey).renewSession(renew(old)));
                }),
                ok("node-locked: a binding without lease, the same on its machine, moved by deactivating the machine", w -> {
                    Activation a = activate(licensed(w), w.aliceKey, activation(NODE_LOCKED, "m1"));
                    assertFalse(a.hasLeaseExpiresAt());
                    assertFalse(a.hasRenewInterval());
                    w.clock.advance(World.LEASE.multipliedBy(10));
                    assertEquals(a, activate(w, w.aliceKey, activation(NODE_LOCKED, "m1")), "a binding does not run out");
                    Refusals.assertRefused(FAILED_PRECONDITION, "SEAT_IN_USE", "machine_id",
                            () -> activate(w, w.aliceKey, activation(NODE_LOCKED, "m2").setTakeOver(true)));
                    w.root().deactivateMachine(DeactivateMachineRequest.newBuilder().setAccountId("acme").setProduct(NODE_LOCKED)
                            .setMachineId("m1").build());
                    assertEquals("m2", activate(w, w.aliceKey, activation(NODE_LOCKED, "m2")).getMachineId());
                }),
                invalid("machine_id missing", "machine_id", w -> () -> activate(licensed(w), w.aliceKey, activation(FLOATING, ""))),
                invalid("machine_id with a slash", "machine_id", w -> () -> activate(licensed(w), w.aliceKey, activation(FLOATING, "a/b"))),
                invalid("product malformed", "product", w -> () -> activate(licensed(w), w.aliceKey, activation("K E", "m1"))),
                invalid("request_id of 129 characters", "request_id",
                        w -> () -> activate(licensed(w), w.aliceKey, activation(FLOATING, "m1").setRequestId("r".repeat(129)))),
                refused("floating: in use on another machine", FAILED_PRECONDITION, "SEAT_IN_USE", "machine_id", w -> {
                    activate(licensed(w), w.aliceKey, activation(FLOATING, "m1"));
                    return () -> activate(w, w.aliceKey, activation(FLOATING, "m2"));
                }),
                refused("a user without a seat", FAILED_PRECONDITION, "NOT_LICENSED", w -> {
                    String key = seats(w).userKey("acme", "dave", null);
                    return () -> activate(w, key, activation(FLOATING, "m1"));
                }),
                refused("a session product", FAILED_PRECONDITION, "LICENSE_MODEL_MISMATCH",
                        w -> () -> activate(w, w.aliceKey, activation("KRE", "m1"))),
                refused("AcquireSession on a seat product", FAILED_PRECONDITION, "LICENSE_MODEL_MISMATCH",
                        w -> () -> licensed(w).agent(w.aliceKey).acquireSession(acquire("m1").toBuilder().setProduct(FLOATING).build())),
                refused("a product not bought", FAILED_PRECONDITION, "NO_SUBSCRIPTION",
                        w -> () -> activate(w, w.aliceKey, activation("OTHER", "m1"))),
                refused("a new machine over the machine quota", RESOURCE_EXHAUSTED, "MACHINE_QUOTA_EXCEEDED", w -> {
                    w.seats("acme", NODE_LOCKED, 2, 1, LicenseModel.LICENSE_MODEL_NODE_LOCKED);
                    w.grant("acme", NODE_LOCKED, "alice");
                    w.grant("acme", NODE_LOCKED, "bob");
                    activate(w, w.aliceKey, activation(NODE_LOCKED, "m1"));
                    return () -> activate(w, w.bobKey, activation(NODE_LOCKED, "m2"));
                }),
                refused("after the subscription's expiry", FAILED_PRECONDITION, "SUBSCRIPTION_EXPIRED", w -> {
                    licensed(w).clock.advance(Duration.ofDays(366));
                    return () -> activate(w, w.aliceKey, activation(FLOATING, "m1"));
                }),
                denied("another user's floating activation cannot be renewed", w -> {
                    String id = activate(licensed(w), w.aliceKey, activation(FLOATING, "m1")).getActivationId();
                    return () -> w.agent(w.bobKey).renewSession(renew(id));
                }),
                denied("an admin token", w -> () -> w.agent(w.acmeAdmin).activateLicense(activation(FLOATING, "m1").build())),
                unauthenticated("no token", w -> () -> w.anonymousAgent().activateLicense(activation(FLOATING, "m1").build())));
    }
}
