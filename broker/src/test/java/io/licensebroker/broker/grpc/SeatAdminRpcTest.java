package io.licensebroker.broker.grpc;

import io.licensebroker.proto.v1.ActivateLicenseRequest;
import io.licensebroker.proto.v1.Activation;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.GrantLicenseRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseRequest;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.LicensedUser;
import io.licensebroker.proto.v1.ListActivationsRequest;
import io.licensebroker.proto.v1.ListActivationsResponse;
import io.licensebroker.proto.v1.ListLicensedUsersRequest;
import io.licensebroker.proto.v1.ListLicensedUsersResponse;
import io.licensebroker.proto.v1.RemoveLicenseRequest;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.SetDedicatedLicensesRequest;
import io.licensebroker.proto.v1.TransferLicenseRequest;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static io.grpc.Status.Code.ALREADY_EXISTS;
import static io.grpc.Status.Code.FAILED_PRECONDITION;
import static io.grpc.Status.Code.NOT_FOUND;
import static io.licensebroker.broker.grpc.Table.denied;
import static io.licensebroker.broker.grpc.Table.invalid;
import static io.licensebroker.broker.grpc.Table.ok;
import static io.licensebroker.broker.grpc.Table.refused;
import static io.licensebroker.broker.grpc.Table.unauthenticated;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin RPCs of seats ("Licensed Users", "Online Licenses"): success and every refusal each
 * can answer, one table per RPC. Every row runs on {@link World#standard()} plus acme's floating
 * product {@value #FLOATING} (2 licenses) and node-locked product {@value #NODE_LOCKED} (2 licenses).
 */
final class SeatAdminRpcTest {
    static final String FLOATING = "KSE";
    static final String NODE_LOCKED = "KSN";

    /** Adds acme's two seat products. */
    static World seats(World w) {
        w.seats("acme", FLOATING, 2, 10, LicenseModel.LICENSE_MODEL_FLOATING);
        w.seats("acme", NODE_LOCKED, 2, 10, LicenseModel.LICENSE_MODEL_NODE_LOCKED);
        return w;
    }

    static GrantLicenseRequest.Builder grant(String account, String product, String user) {
        return GrantLicenseRequest.newBuilder().setAccountId(account).setProduct(product).setUserId(user);
    }

    static RemoveLicenseRequest remove(String account, String product, String user) {
        return RemoveLicenseRequest.newBuilder().setAccountId(account).setProduct(product).setUserId(user).build();
    }

    static TransferLicenseRequest.Builder transfer(String product, String from, String to) {
        return TransferLicenseRequest.newBuilder().setAccountId("acme").setProduct(product).setFromUserId(from).setToUserId(to);
    }

    static Activation activate(World w, String key, String product, String machine) {
        return w.agent(key).activateLicense(ActivateLicenseRequest.newBuilder().setProduct(product).setMachineId(machine).build());
    }

    static long inUse(World w, String product, String pool) {
        return World.row(w.root().getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId("acme").setProduct(product).build()),
                pool).getInUse();
    }

    /** Alice's node-locked seat bound to laptop-1 by an offline license. */
    static void offlineBound(World w) {
        w.grant("acme", NODE_LOCKED, "alice");
        w.root().issueOfflineLicense(IssueOfflineLicenseRequest.newBuilder().setAccountId("acme").setProduct(NODE_LOCKED)
                .setMachineId("laptop-1").setUserId("alice").build());
    }

    // ---------------------------------------------------------------- GrantLicense

    @TestFactory
    Stream<DynamicTest> grantLicense() {
        return Table.of(
                ok("a user without an organization gets a seat of the account pool", w -> {
                    LicensedUser u = seats(w).admin(w.acmeAdmin).grantLicense(grant("acme", FLOATING, "alice").build());
                    assertEquals(LicensedUser.newBuilder().setAccountId("acme").setProduct(FLOATING).setUserId("alice")
                            .setPoolId("acme").setGrantedAt(Protos.timestamp(World.START)).build(), u);
                    assertEquals(1, inUse(w, FLOATING, "acme"), "a seat counts in in_use of its pool");
                }),
                ok("by default from the user's assigned organization; or from the pool named", w -> {
                    seats(w).root().setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(w.acmeOrg)
                            .setProduct(FLOATING).setLicenses(2).build());
                    w.userKey("acme", "dave", w.acmeOrg);
                    assertEquals(w.acmeOrg, w.grant("acme", FLOATING, "dave").getPoolId());
                    assertEquals(w.acmeOrg, w.root().grantLicense(grant("acme", FLOATING, "alice").setPoolId(w.acmeOrg).build())
                            .getPoolId(), "a seat may draw from another pool than the user's own");
                    assertEquals(2, inUse(w, FLOATING, w.acmeOrg));
                }),
                ok("granting again answers the same seat and takes no second license", w -> {
                    LicensedUser first = seats(w).grant("acme", FLOATING, "alice");
                    w.clock.advance(Duration.ofMinutes(5));
                    assertEquals(first, w.grant("acme", FLOATING, "alice"));
                    assertEquals(1, inUse(w, FLOATING, "acme"));
                }),
                invalid("account_id missing", "account_id", w -> () -> seats(w).root().grantLicense(grant("", FLOATING, "alice").build())),
                invalid("user_id missing", "user_id", w -> () -> seats(w).root().grantLicense(grant("acme", FLOATING, "").build())),
                invalid("user_id with a space", "user_id", w -> () -> seats(w).root().grantLicense(grant("acme", FLOATING, "a b").build())),
                invalid("product malformed", "product", w -> () -> seats(w).root().grantLicense(grant("acme", "K/E", "alice").build())),
                invalid("pool_id neither an organization nor an account id", "pool_id",
                        w -> () -> seats(w).root().grantLicense(grant("acme", FLOATING, "alice").setPoolId("OG-x").build())),
                invalid("pool_id with a dot", "pool_id",
                        w -> () -> seats(w).root().grantLicense(grant("acme", FLOATING, "alice").setPoolId("a.b").build())),
                refused("the pool has no available license (seats never fall back)", FAILED_PRECONDITION, "INSUFFICIENT_LICENSES",
                        "pool_id", w -> {
                            seats(w).grant("acme", FLOATING, "alice");
                            w.grant("acme", FLOATING, "bob");
                            w.userKey("acme", "dave", null);
                            return () -> w.grant("acme", FLOATING, "dave");
                        }),
                refused("an organization without licenses of the product", FAILED_PRECONDITION, "INSUFFICIENT_LICENSES", "pool_id",
                        w -> () -> seats(w).root().grantLicense(grant("acme", FLOATING, "alice").setPoolId(w.acmeOrg).build())),
                refused("a session product has no seats", FAILED_PRECONDITION, "LICENSE_MODEL_MISMATCH",
                        w -> () -> w.grant("acme", "KRE", "alice")),
                refused("a product not bought", FAILED_PRECONDITION, "NO_SUBSCRIPTION", w -> () -> w.grant("acme", "OTHER", "alice")),
                refused("an unknown user", NOT_FOUND, "USER_NOT_FOUND", w -> () -> seats(w).grant("acme", FLOATING, "nobody")),
                refused("an unknown organization", NOT_FOUND, "ORGANIZATION_NOT_FOUND", "pool_id",
                        w -> () -> seats(w).root().grantLicense(grant("acme", FLOATING, "alice").setPoolId("OG-999999").build())),
                refused("another account's id as the pool", NOT_FOUND, "ORGANIZATION_NOT_FOUND", "pool_id",
                        w -> () -> seats(w).root().grantLicense(grant("acme", FLOATING, "alice").setPoolId("globex").build())),
                refused("an unknown account", NOT_FOUND, "ACCOUNT_NOT_FOUND", w -> () -> w.grant("nosuch", FLOATING, "alice")),
                denied("another account", w -> () -> w.admin(w.globexAdmin).grantLicense(grant("acme", FLOATING, "alice").build())),
                denied("an API key", w -> () -> w.admin(w.aliceKey).grantLicense(grant("acme", FLOATING, "alice").build())),
                unauthenticated("no token", w -> () -> w.anonymousAdmin().grantLicense(grant("acme", FLOATING, "alice").build())));
    }

    // ---------------------------------------------------------------- RemoveLicense

    @TestFactory
    Stream<DynamicTest> removeLicense() {
        return Table.of(
                ok("frees the seat; removing again answers false", w -> {
                    seats(w).grant("acme", FLOATING, "alice");
                    assertTrue(w.admin(w.acmeAdmin).removeLicense(remove("acme", FLOATING, "alice")).getRemoved());
                    assertEquals(0, inUse(w, FLOATING, "acme"));
                    assertFalse(w.root().removeLicense(remove("acme", FLOATING, "alice")).getRemoved());
                }),
                ok("ends the user's floating activation: its next renew answers SESSION_TERMINATED", w -> {
                    seats(w).grant("acme", FLOATING, "alice");
                    String id = activate(w, w.aliceKey, FLOATING, "m1").getActivationId();
                    w.root().removeLicense(remove("acme", FLOATING, "alice"));
                    Refusals.assertRefused(NOT_FOUND, "SESSION_TERMINATED", "session_id",
                            () -> w.agent(w.aliceKey).renewSession(RenewSessionRequest.newBuilder().setSessionId(id).build()));
                    assertEquals(0, w.root().listActivations(ListActivationsRequest.newBuilder().setAccountId("acme")
                            .setProduct(FLOATING).build()).getActivationsCount());
                }),
                invalid("user_id missing", "user_id", w -> () -> seats(w).root().removeLicense(remove("acme", FLOATING, ""))),
                refused("an offline license binds the seat", FAILED_PRECONDITION, "OFFLINE_BOUND", w -> {
                    offlineBound(seats(w));
                    return () -> w.root().removeLicense(remove("acme", NODE_LOCKED, "alice"));
                }),
                refused("a session product has no seats", FAILED_PRECONDITION, "LICENSE_MODEL_MISMATCH",
                        w -> () -> w.root().removeLicense(remove("acme", "KRE", "alice"))),
                denied("another account", w -> () -> seats(w).admin(w.globexAdmin).removeLicense(remove("acme", FLOATING, "alice"))),
                unauthenticated("no token", w -> () -> w.anonymousAdmin().removeLicense(remove("acme", FLOATING, "alice"))));
    }

    // ---------------------------------------------------------------- TransferLicense

    @TestFactory
    Stream<DynamicTest> transferLicense() {
        return Table.of(
                ok("the seat moves in one step: the pool's in_use stays, the old holder's activation ends", w -> {
                    seats(w).grant("acme", FLOATING, "alice");
                    w.grant("acme", FLOATING, "bob");
                    String id = activate(w, w.aliceKey, FLOATING, "m1").getActivationId();
                    w.userKey("acme", "dave", null);
                    w.clock.advance(Duration.ofMinutes(1));
                    // Both licenses are in use, so a remove-then-grant by hand could lose the seat in between.
                    LicensedUser moved = w.admin(w.acmeAdmin).transferLicense(transfer(FLOATING, "alice", "dave").build());
                    assertEquals(LicensedUser.newBuilder().setAccountId("acme").setProduct(FLOATING).setUserId("dave").setPoolId("acme")
                            .setGrantedAt(Protos.timestamp(World.START.plus(Duration.ofMinutes(1)))).build(), moved);
                    assertEquals(2, inUse(w, FLOATING, "acme"));
                    Refusals.assertRefused(NOT_FOUND, "SESSION_TERMINATED",
                            () -> w.agent(w.aliceKey).renewSession(RenewSessionRequest.newBuilder().setSessionId(id).build()));
                    Refusals.assertRefused(FAILED_PRECONDITION, "NOT_LICENSED", () -> activate(w, w.aliceKey, FLOATING, "m1"));
                }),
                ok("to another pool", w -> {
                    seats(w).root().setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(w.acmeOrg)
                            .setProduct(FLOATING).setLicenses(1).build());
                    w.grant("acme", FLOATING, "alice");
                    assertEquals(w.acmeOrg, w.root().transferLicense(transfer(FLOATING, "alice", "bob").setPoolId(w.acmeOrg).build()).getPoolId());
                    assertEquals(0, inUse(w, FLOATING, "acme"));
                    assertEquals(1, inUse(w, FLOATING, w.acmeOrg));
                }),
                invalid("to the same user", "to_user_id", w -> () -> seats(w).root().transferLicense(transfer(FLOATING, "alice", "alice").build())),
                invalid("from_user_id missing", "from_user_id", w -> () -> seats(w).root().transferLicense(transfer(FLOATING, "", "bob").build())),
                invalid("to_user_id malformed", "to_user_id", w -> () -> seats(w).root().transferLicense(transfer(FLOATING, "alice", "b/b").build())),
                invalid("pool_id malformed", "pool_id",
                        w -> () -> seats(w).root().transferLicense(transfer(FLOATING, "alice", "bob").setPoolId("OG-").build())),
                refused("the giver holds no seat", FAILED_PRECONDITION, "NOT_LICENSED", "from_user_id",
                        w -> () -> seats(w).root().transferLicense(transfer(FLOATING, "alice", "bob").build())),
                refused("the receiver holds one already", ALREADY_EXISTS, "ALREADY_EXISTS", "to_user_id", w -> {
                    seats(w).grant("acme", FLOATING, "alice");
                    w.grant("acme", FLOATING, "bob");
                    return () -> w.root().transferLicense(transfer(FLOATING, "alice", "bob").build());
                }),
                refused("an unknown receiver", NOT_FOUND, "USER_NOT_FOUND", "to_user_id", w -> {
                    seats(w).grant("acme", FLOATING, "alice");
                    return () -> w.root().transferLicense(transfer(FLOATING, "alice", "nobody").build());
                }),
                refused("an offline license binds the seat", FAILED_PRECONDITION, "OFFLINE_BOUND", w -> {
                    offlineBound(seats(w));
                    return () -> w.root().transferLicense(transfer(NODE_LOCKED, "alice", "bob").build());
                }),
                refused("the target pool is full", FAILED_PRECONDITION, "INSUFFICIENT_LICENSES", "pool_id", w -> {
                    seats(w).grant("acme", FLOATING, "alice");
                    return () -> w.root().transferLicense(transfer(FLOATING, "alice", "bob").setPoolId(w.acmeOrg).build());
                }),
                refused("a session product has no seats", FAILED_PRECONDITION, "LICENSE_MODEL_MISMATCH",
                        w -> () -> w.root().transferLicense(transfer("KRE", "alice", "bob").build())),
                denied("another account", w -> () -> seats(w).admin(w.globexAdmin).transferLicense(transfer(FLOATING, "alice", "bob").build())));
    }

    // ---------------------------------------------------------------- listings

    static ListLicensedUsersRequest.Builder licensedUsers(String product) {
        return ListLicensedUsersRequest.newBuilder().setAccountId("acme").setProduct(product);
    }

    @TestFactory
    Stream<DynamicTest> listLicensedUsers() {
        return Table.of(
                ok("in user id order, page by page", w -> {
                    seats(w).grant("acme", FLOATING, "bob");
                    w.grant("acme", FLOATING, "alice");
                    ListLicensedUsersResponse first = w.admin(w.acmeAdmin).listLicensedUsers(licensedUsers(FLOATING).setPageSize(1).build());
                    assertEquals(List.of("alice"), first.getLicensedUsersList().stream().map(LicensedUser::getUserId).toList());
                    ListLicensedUsersResponse second = w.root().listLicensedUsers(licensedUsers(FLOATING).setPageSize(1)
                            .setPageToken(first.getNextPageToken()).build());
                    assertEquals(List.of("bob"), second.getLicensedUsersList().stream().map(LicensedUser::getUserId).toList());
                    assertEquals("", second.getNextPageToken());
                }),
                ok("a pool filter", w -> {
                    seats(w).root().setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(w.acmeOrg)
                            .setProduct(FLOATING).setLicenses(1).build());
                    w.grant("acme", FLOATING, "bob");
                    w.root().grantLicense(grant("acme", FLOATING, "alice").setPoolId(w.acmeOrg).build());
                    assertEquals(List.of("alice"), w.root().listLicensedUsers(licensedUsers(FLOATING).setPoolId(w.acmeOrg).build())
                            .getLicensedUsersList().stream().map(LicensedUser::getUserId).toList());
                }),
                ok("a bound node-locked seat shows its machine, and an offline license its end", w -> {
                    offlineBound(seats(w));
                    LicensedUser u = w.root().listLicensedUsers(licensedUsers(NODE_LOCKED).build()).getLicensedUsers(0);
                    assertEquals("laptop-1", u.getMachineId());
                    assertEquals(w.inFuture(Duration.ofDays(60)), u.getOfflineUntil());
                }),
                ok("a session product lists nobody", w -> assertEquals(0, w.root().listLicensedUsers(licensedUsers("KRE").build())
                        .getLicensedUsersCount())),
                invalid("page_size over 1000", "page_size", w -> () -> w.root().listLicensedUsers(licensedUsers(FLOATING).setPageSize(1001).build())),
                invalid("page_size negative", "page_size", w -> () -> w.root().listLicensedUsers(licensedUsers(FLOATING).setPageSize(-1).build())),
                invalid("page_token not ASCII", "page_token", w -> () -> w.root().listLicensedUsers(licensedUsers(FLOATING).setPageToken("é").build())),
                invalid("pool_id malformed", "pool_id", w -> () -> w.root().listLicensedUsers(licensedUsers(FLOATING).setPoolId("a b").build())),
                denied("another account", w -> () -> w.admin(w.globexAdmin).listLicensedUsers(licensedUsers(FLOATING).build())));
    }

    static ListActivationsRequest.Builder activations(String product) {
        return ListActivationsRequest.newBuilder().setAccountId("acme").setProduct(product);
    }

    @TestFactory
    Stream<DynamicTest> listActivations() {
        return Table.of(
                ok("a floating activation is a lease with its renew interval; a node-locked binding has neither", w -> {
                    seats(w).grant("acme", FLOATING, "alice");
                    w.grant("acme", NODE_LOCKED, "alice");
                    Activation floating = activate(w, w.aliceKey, FLOATING, "m1");
                    Activation bound = activate(w, w.aliceKey, NODE_LOCKED, "m2");
                    assertEquals(List.of(floating), w.admin(w.acmeAdmin).listActivations(activations(FLOATING).build()).getActivationsList());
                    assertEquals(List.of(bound), w.root().listActivations(activations(NODE_LOCKED).build()).getActivationsList());
                    assertEquals(Protos.timestamp(World.START.plus(World.LEASE)), floating.getLeaseExpiresAt());
                    assertEquals(Protos.duration(World.LEASE.dividedBy(3)), floating.getRenewInterval());
                    assertFalse(bound.hasLeaseExpiresAt());
                    assertFalse(bound.hasRenewInterval());
                }),
                ok("a user filter and pages", w -> {
                    seats(w).grant("acme", FLOATING, "alice");
                    w.grant("acme", FLOATING, "bob");
                    activate(w, w.aliceKey, FLOATING, "m1");
                    activate(w, w.bobKey, FLOATING, "m2");
                    assertEquals(List.of("bob"), w.root().listActivations(activations(FLOATING).setUserId("bob").build())
                            .getActivationsList().stream().map(Activation::getUserId).toList());
                    ListActivationsResponse first = w.root().listActivations(activations(FLOATING).setPageSize(1).build());
                    ListActivationsResponse second = w.root().listActivations(activations(FLOATING).setPageSize(1)
                            .setPageToken(first.getNextPageToken()).build());
                    assertEquals(2, first.getActivationsCount() + second.getActivationsCount());
                    assertTrue(first.getActivations(0).getActivationId().compareTo(second.getActivations(0).getActivationId()) < 0);
                    assertEquals("", second.getNextPageToken());
                }),
                ok("a lease that ran out is not listed", w -> {
                    seats(w).grant("acme", FLOATING, "alice");
                    activate(w, w.aliceKey, FLOATING, "m1");
                    w.clock.advance(World.LEASE);
                    assertEquals(0, w.root().listActivations(activations(FLOATING).build()).getActivationsCount());
                }),
                invalid("page_size over 1000", "page_size", w -> () -> w.root().listActivations(activations(FLOATING).setPageSize(1001).build())),
                invalid("user_id malformed", "user_id", w -> () -> w.root().listActivations(activations(FLOATING).setUserId("a b").build())),
                invalid("page_token over " + Validation.MAX_SESSION_ID + " characters", "page_token", w -> () -> w.root().listActivations(
                        activations(FLOATING).setPageToken("a".repeat(Validation.MAX_SESSION_ID + 1)).build())),
                denied("another account", w -> () -> w.admin(w.globexAdmin).listActivations(activations(FLOATING).build())),
                denied("an API key", w -> () -> w.admin(w.aliceKey).listActivations(activations(FLOATING).build())));
    }
}
