package io.licensebroker.client;

import io.grpc.Status;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.LicensedUser;
import io.licensebroker.proto.v1.ListActivationsRequest;
import io.licensebroker.proto.v1.ListLicensedUsersRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Seat activations through the SDK against a real broker behind in-process gRPC servers. */
class ActivationTest {
    private static final String FLOATING = "KSE";
    private static final String NODE_LOCKED = "KSN";

    /** Renewals every 100 ms; the broker's clock stands still, so leases never lapse by accident. */
    private final TestBroker broker = TestBroker.frozen(Duration.ofMillis(300));

    @AfterEach
    void close() {
        broker.close();
    }

    /** Alice of acme, holding a seat of both seat products; answers her API key. */
    private String licensedAlice() {
        String key = broker.agent("acme", 10, "alice");
        broker.seats("acme", FLOATING, 2, LicenseModel.LICENSE_MODEL_FLOATING);
        broker.seats("acme", NODE_LOCKED, 2, LicenseModel.LICENSE_MODEL_NODE_LOCKED);
        broker.admin().grantLicense("acme", FLOATING, "alice", "");
        broker.admin().grantLicense("acme", NODE_LOCKED, "alice", "");
        return key;
    }

    private static ActivateOptions of(String product) {
        return ActivateOptions.builder().product(product).build();
    }

    private int activations(String product) {
        return broker.admin().listActivations(ListActivationsRequest.newBuilder().setAccountId("acme").setProduct(product).build())
                .getActivationsCount();
    }

    @Test
    void aFloatingActivationRenewsByItselfAndIsReleasedExactlyOnce() {
        LicenseBrokerClient client = broker.closeLater(broker.inProcessClient(licensedAlice()).build());

        Activation seat = client.activate("laptop-1", of(FLOATING));
        assertEquals(Activation.Kind.FLOATING, seat.kind());
        assertTrue(seat.isActive());
        assertEquals("acme", seat.poolId());
        assertEquals("alice", seat.userId());
        assertEquals("laptop-1", seat.machineId());
        LicenseSession lease = seat.lease().orElseThrow();
        assertEquals(seat.activationId(), lease.sessionId(), "the lease is renewed under the activation's id");
        assertEquals(List.of(lease), client.sessions());
        assertTrue(seat.leaseExpiresAt().isPresent());
        broker.await("three renewals", () -> lease.renewCount() >= 3);
        assertEquals(1, activations(FLOATING));

        seat.close();
        assertFalse(seat.isActive());
        assertEquals(0, activations(FLOATING), "the seat is free for another machine");
        seat.close();
        client.close();
        assertEquals(1, broker.calls("ReleaseSession"), "released exactly once over close, close again and client close");
        assertEquals(1, broker.admin().listLicensedUsers(ListLicensedUsersRequest.newBuilder().setAccountId("acme")
                .setProduct(FLOATING).build()).getLicensedUsersCount(), "releasing an activation keeps the seat");
    }

    @Test
    void removingTheSeatEndsTheActivationVisiblyThroughTheSameListener() {
        TestBroker.Recorder everySession = broker.recorder();
        TestBroker.Recorder thisActivation = broker.recorder();
        LicenseBrokerClient client = broker.closeLater(broker.inProcessClient(licensedAlice()).leaseListener(everySession).build());
        Activation seat = client.activate("laptop-1", ActivateOptions.builder().product(FLOATING).listener(thisActivation).build());

        assertTrue(broker.admin().removeLicense("acme", FLOATING, "alice").getRemoved());
        broker.await("the loss is reported", () -> !thisActivation.lost.isEmpty() && !everySession.lost.isEmpty());
        assertEquals("SESSION_TERMINATED", thisActivation.lost.get(seat.activationId()));
        assertEquals("SESSION_TERMINATED", everySession.lost.get(seat.activationId()));
        assertFalse(seat.isActive());
        assertEquals(Optional.of("SESSION_TERMINATED"), seat.lossReason());
        seat.close();
        assertEquals(0, broker.calls("ReleaseSession"), "closing a lost activation does not call the broker");
    }

    @Test
    void anotherMachineIsRefusedUnlessItTakesTheSeatOver() {
        String key = licensedAlice();
        TestBroker.Recorder laptop = broker.recorder();
        LicenseBrokerClient first = broker.closeLater(broker.inProcessClient(key).leaseListener(laptop).build());
        LicenseBrokerClient second = broker.closeLater(broker.inProcessClient(key).build());
        Activation onLaptop = first.activate("laptop-1", of(FLOATING));

        LicenseDeniedException denied = assertThrows(LicenseDeniedException.class, () -> second.activate("desktop-1", of(FLOATING)));
        assertEquals("SEAT_IN_USE", denied.reason());
        assertEquals(Status.Code.FAILED_PRECONDITION, denied.code());

        Activation onDesktop = second.activate("desktop-1", ActivateOptions.builder().product(FLOATING).takeOver(true).build());
        assertNotEquals(onLaptop.activationId(), onDesktop.activationId());
        broker.await("the laptop hears it lost the seat", () -> !laptop.lost.isEmpty());
        assertEquals("SESSION_TERMINATED", laptop.lost.get(onLaptop.activationId()));
        assertTrue(onDesktop.isActive());
    }

    @Test
    void aNodeLockedActivationIsABindingThatCloseDoesNotRelease() {
        String key = licensedAlice();
        LicenseBrokerClient client = broker.closeLater(broker.inProcessClient(key).build());

        Activation seat = client.activate("laptop-1", of(NODE_LOCKED));
        assertEquals(Activation.Kind.NODE_LOCKED, seat.kind());
        assertEquals(Optional.empty(), seat.lease());
        assertEquals(Optional.empty(), seat.leaseExpiresAt());
        assertEquals(List.of(), client.sessions(), "nothing to renew");
        seat.close();
        assertFalse(seat.isActive());
        client.close();
        assertEquals(0, broker.calls("ReleaseSession") + broker.calls("RenewSession"));
        assertEquals(1, activations(NODE_LOCKED), "the binding stays until an admin deactivates the machine");

        LicenseBrokerClient again = broker.closeLater(broker.inProcessClient(key).build());
        assertEquals(seat.activationId(), again.activate("laptop-1", of(NODE_LOCKED)).activationId());
        assertEquals("SEAT_IN_USE", assertThrows(LicenseDeniedException.class, () -> again.activate("laptop-2", of(NODE_LOCKED))).reason());
        assertTrue(broker.admin().deactivateMachine("acme", NODE_LOCKED, "laptop-1").getDeactivated());
        assertEquals("laptop-2", again.activate("laptop-2", of(NODE_LOCKED)).machineId());
    }

    @Test
    void refusalsAreDenialsWithTheContractReason() {
        String key = licensedAlice();
        String bob = broker.keyOf("acme", "bob", "");
        LicenseBrokerClient alice = broker.closeLater(broker.inProcessClient(key).build());
        LicenseBrokerClient unlicensed = broker.closeLater(broker.inProcessClient(bob).build());
        assertEquals("NOT_LICENSED", assertThrows(LicenseDeniedException.class, () -> unlicensed.activate("m-1", of(FLOATING))).reason());
        assertEquals("LICENSE_MODEL_MISMATCH", assertThrows(LicenseDeniedException.class, () -> alice.activate("m-1")).reason(),
                "the default product is a session product");
        assertEquals("LICENSE_MODEL_MISMATCH", assertThrows(LicenseDeniedException.class,
                () -> alice.acquire("m-1", AcquireOptions.builder().product(FLOATING).build())).reason());
        assertEquals("NO_SUBSCRIPTION", assertThrows(LicenseDeniedException.class, () -> alice.activate("m-1", of("OTHER"))).reason());
        LicenseBrokerException bad = assertThrows(LicenseBrokerException.class, () -> alice.activate("m/1", of(FLOATING)));
        assertFalse(bad instanceof LicenseDeniedException);
        assertEquals("machine_id", bad.field());
        assertThrows(IllegalArgumentException.class, () -> alice.activate(" "));
        assertThrows(IllegalArgumentException.class, () -> ActivateOptions.builder().requestId(""));
    }

    @Test
    void anActivationWhoseAnswerIsLostIsRetriedAndGetsTheSameOne() {
        String key = licensedAlice();
        LicenseBrokerClient client = broker.closeLater(broker.inProcessClient(key, TestBroker.loseFirstAnswer("ActivateLicense"))
                .retryPolicy(4, Duration.ofMillis(5), Duration.ofMillis(20)).build());

        Activation seat = client.activate("laptop-1", of(FLOATING));
        assertEquals(2, broker.calls("ActivateLicense"), "the broker activated on the first call; its answer was lost");
        assertEquals(1, activations(FLOATING));
        assertSame(Activation.Kind.FLOATING, seat.kind());
    }

    @Test
    void closingTheClientReleasesItsFloatingActivations() {
        LicenseBrokerClient client = broker.inProcessClient(licensedAlice()).build();
        Activation seat = client.activate("laptop-1", of(FLOATING));
        client.close();
        assertFalse(seat.isActive());
        assertEquals(0, activations(FLOATING));
        assertThrows(IllegalStateException.class, () -> client.activate("laptop-1", of(FLOATING)));
    }

    @Test
    void theAdminClientManagesSeats() {
        broker.agent("acme", 10, "alice");
        broker.keyOf("acme", "bob", "");
        LicenseAdminClient admin = broker.admin();
        assertEquals(LicenseModel.LICENSE_MODEL_NODE_LOCKED, admin.setSubscription("acme", NODE_LOCKED, 1, 10,
                Instant.now().plus(Duration.ofDays(90)), LicenseModel.LICENSE_MODEL_NODE_LOCKED).getLicenseModel());
        LicensedUser granted = admin.grantLicense("acme", NODE_LOCKED, "alice", "");
        assertEquals("acme", granted.getPoolId());
        assertEquals("INSUFFICIENT_LICENSES", assertThrows(LicenseBrokerException.class,
                () -> admin.grantLicense("acme", NODE_LOCKED, "bob", "")).reason());

        assertEquals("bob", admin.transferLicense("acme", NODE_LOCKED, "alice", "bob", "").getUserId());
        assertEquals(List.of("bob"), admin.listLicensedUsers(ListLicensedUsersRequest.newBuilder().setAccountId("acme")
                .setProduct(NODE_LOCKED).build()).getLicensedUsersList().stream().map(LicensedUser::getUserId).toList());
        assertEquals("KSN_bob-pc.lic", admin.issueOfflineLicense("acme", NODE_LOCKED, "bob-pc", "bob", null).getFileName());
        assertEquals("bob-pc", admin.listActivations(ListActivationsRequest.newBuilder().setAccountId("acme")
                .setProduct(NODE_LOCKED).build()).getActivations(0).getMachineId());
        LicenseBrokerException bound = assertThrows(LicenseBrokerException.class, () -> admin.removeLicense("acme", NODE_LOCKED, "bob"));
        assertEquals("OFFLINE_BOUND", bound.reason());
        assertFalse(admin.removeLicense("acme", NODE_LOCKED, "alice").getRemoved());
    }
}
