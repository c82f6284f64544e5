package io.licensebroker.broker.grpc;

import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.ActivateLicenseRequest;
import io.licensebroker.proto.v1.Activation;
import io.licensebroker.proto.v1.DeactivateMachineRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseRequest;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.LicensedUser;
import io.licensebroker.proto.v1.ListActivationsRequest;
import io.licensebroker.proto.v1.ListLicensedUsersRequest;
import io.licensebroker.proto.v1.ListMachinesRequest;
import io.licensebroker.proto.v1.Machine;
import io.licensebroker.proto.v1.RemoveLicenseRequest;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.TransferLicenseRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static io.grpc.Status.Code.FAILED_PRECONDITION;
import static io.grpc.Status.Code.NOT_FOUND;
import static io.licensebroker.broker.grpc.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The seeds' seat flow (003, 004: "Licensed Users", "Online Licenses", "Registered Machines",
 * "Offline Licenses") end to end through the real stubs on the embedded store: grant up to the
 * quota, activate, transfer, remove, move a node-locked seat by deactivating its machine, bind a
 * seat with an offline license, and the model mismatches both ways.
 */
final class SeatScenarioTest {
    private static final String FLOATING = "KSE";
    private static final String NODE_LOCKED = "KSE-NL";

    private final World w = World.empty();

    @AfterEach
    void close() {
        w.close();
    }

    @Test
    void floatingSeatsGrantedActivatedTransferredAndRemoved() {
        w.account("acme", 10, 10); // its KRE (session) subscription
        w.seats("acme", FLOATING, 3, 10, LicenseModel.LICENSE_MODEL_FLOATING);
        String ann = w.userKey("acme", "ann", null);
        String ben = w.userKey("acme", "ben", null);
        w.userKey("acme", "cid", null);
        String dee = w.userKey("acme", "dee", null);

        // Licensed Users: up to the quota, then refused; each seat is Assigned (in_use) in the pool.
        for (String user : List.of("ann", "ben", "cid")) {
            assertEquals("acme", w.grant("acme", FLOATING, user).getPoolId());
        }
        assertRefused(FAILED_PRECONDITION, "INSUFFICIENT_LICENSES", "pool_id", () -> w.grant("acme", FLOATING, "dee"));
        assertEquals(3, inUse(FLOATING));
        assertEquals(0, World.row(usage(FLOATING), "acme").getAvailable());

        // Online Licenses: ann activates on her laptop, which registers it.
        Activation annOnLaptop = activate(ann, FLOATING, "ann-laptop");
        Activation benOnDesk = activate(ben, FLOATING, "ben-desk");
        assertEquals(List.of("ann", "ben"), activations(FLOATING).stream().map(Activation::getUserId).sorted().toList());
        Machine laptop = machines(FLOATING).stream().filter(m -> m.getMachineId().equals("ann-laptop")).findFirst().orElseThrow();
        assertEquals(1, laptop.getLiveSessions());
        w.clock.advance(Duration.ofSeconds(20));
        renew(ann, annOnLaptop.getActivationId());

        // Transfer ann's seat to dee in one step: ann's activation ends at its next renew, dee can activate.
        LicensedUser moved = w.root().transferLicense(TransferLicenseRequest.newBuilder().setAccountId("acme").setProduct(FLOATING)
                .setFromUserId("ann").setToUserId("dee").build());
        assertEquals("dee", moved.getUserId());
        assertRefused(NOT_FOUND, "SESSION_TERMINATED", () -> renew(ann, annOnLaptop.getActivationId()));
        assertRefused(FAILED_PRECONDITION, "NOT_LICENSED", () -> activate(ann, FLOATING, "ann-laptop"));
        assertEquals("dee-laptop", activate(dee, FLOATING, "dee-laptop").getMachineId());
        assertEquals(3, inUse(FLOATING), "a transfer keeps the license in use");

        // Remove ben: the seat frees, and his floating activation's next renew answers SESSION_TERMINATED.
        assertTrue(w.root().removeLicense(RemoveLicenseRequest.newBuilder().setAccountId("acme").setProduct(FLOATING)
                .setUserId("ben").build()).getRemoved());
        assertRefused(NOT_FOUND, "SESSION_TERMINATED", () -> renew(ben, benOnDesk.getActivationId()));
        assertEquals(2, inUse(FLOATING));
        assertEquals(List.of("cid", "dee"), licensedUsers(FLOATING).stream().map(LicensedUser::getUserId).toList());
        assertEquals(List.of("dee"), activations(FLOATING).stream().map(Activation::getUserId).toList());

        // The models do not mix: no session on a seat product, no seat on a session product, no model change while in use.
        assertRefused(FAILED_PRECONDITION, "LICENSE_MODEL_MISMATCH",
                () -> w.agent(dee).acquireSession(AcquireSessionRequest.newBuilder().setProduct(FLOATING).setMachineId("dee-laptop").build()));
        assertRefused(FAILED_PRECONDITION, "LICENSE_MODEL_MISMATCH", () -> w.grant("acme", "KRE", "ann"));
        assertRefused(FAILED_PRECONDITION, "LICENSE_MODEL_MISMATCH", "license_model", () -> w.root().setSubscription(
                SetSubscriptionRequest.newBuilder().setAccountId("acme").setProduct(FLOATING).setLicenses(3).setMachineQuota(10)
                        .setExpiresAt(w.inFuture(Duration.ofDays(365))).setLicenseModel(LicenseModel.LICENSE_MODEL_SESSION).build()));
    }

    @Test
    void aNodeLockedSeatMovesByDeactivatingItsMachineAndAnOfflineLicenseBindsIt() {
        w.account("acme", 10, 10);
        w.seats("acme", NODE_LOCKED, 2, 3, LicenseModel.LICENSE_MODEL_NODE_LOCKED);
        String ann = w.userKey("acme", "ann", null);
        w.userKey("acme", "ben", null);
        w.userKey("acme", "cid", null);
        w.grant("acme", NODE_LOCKED, "ann");

        // Bound to the first machine it is activated on, for good: no lease, and a second machine is refused.
        Activation first = activate(ann, NODE_LOCKED, "old-pc");
        assertTrue(!first.hasLeaseExpiresAt() && !first.hasRenewInterval(), first.toString());
        assertEquals("old-pc", licensedUsers(NODE_LOCKED).get(0).getMachineId());
        assertRefused(FAILED_PRECONDITION, "SEAT_IN_USE", "machine_id", () -> activate(ann, NODE_LOCKED, "new-pc"));

        // Registered Machines: deactivating the machine frees the seat for another one.
        assertTrue(w.root().deactivateMachine(DeactivateMachineRequest.newBuilder().setAccountId("acme").setProduct(NODE_LOCKED)
                .setMachineId("old-pc").build()).getDeactivated());
        assertEquals("new-pc", activate(ann, NODE_LOCKED, "new-pc").getMachineId());
        assertEquals(List.of("new-pc"), machines(NODE_LOCKED).stream().map(Machine::getMachineId).toList());
        assertEquals(List.of("new-pc"), activations(NODE_LOCKED).stream().map(Activation::getMachineId).toList());

        // Offline Licenses: a file binds cid's seat to its machine until the file's expiry.
        w.grant("acme", NODE_LOCKED, "cid");
        String file = w.root().issueOfflineLicense(IssueOfflineLicenseRequest.newBuilder().setAccountId("acme").setProduct(NODE_LOCKED)
                .setMachineId("cid-offline").setUserId("cid").setExpiresAt(w.inFuture(Duration.ofDays(30))).build()).getFileName();
        assertEquals(NODE_LOCKED + "_cid-offline.lic", file);
        LicensedUser cid = licensedUsers(NODE_LOCKED).stream().filter(u -> u.getUserId().equals("cid")).findFirst().orElseThrow();
        assertEquals("cid-offline", cid.getMachineId());
        assertEquals(w.inFuture(Duration.ofDays(30)), cid.getOfflineUntil());
        assertRefused(FAILED_PRECONDITION, "OFFLINE_BOUND", () -> w.root().transferLicense(TransferLicenseRequest.newBuilder()
                .setAccountId("acme").setProduct(NODE_LOCKED).setFromUserId("cid").setToUserId("ben").build()));
        assertRefused(FAILED_PRECONDITION, "OFFLINE_BOUND", () -> w.root().removeLicense(RemoveLicenseRequest.newBuilder()
                .setAccountId("acme").setProduct(NODE_LOCKED).setUserId("cid").build()));

        // Once the file has expired the seat is an ordinary one again.
        w.clock.advance(Duration.ofDays(31));
        assertEquals("ben", w.root().transferLicense(TransferLicenseRequest.newBuilder().setAccountId("acme").setProduct(NODE_LOCKED)
                .setFromUserId("cid").setToUserId("ben").build()).getUserId());
        assertEquals(2, inUse(NODE_LOCKED));
    }

    private Activation activate(String key, String product, String machine) {
        return w.agent(key).activateLicense(ActivateLicenseRequest.newBuilder().setProduct(product).setMachineId(machine).build());
    }

    private void renew(String key, String activationId) {
        w.agent(key).renewSession(RenewSessionRequest.newBuilder().setSessionId(activationId).build());
    }

    private io.licensebroker.proto.v1.LicenseUsage usage(String product) {
        return w.root().getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId("acme").setProduct(product).build());
    }

    private long inUse(String product) {
        return World.row(usage(product), "acme").getInUse();
    }

    private List<Activation> activations(String product) {
        return w.root().listActivations(ListActivationsRequest.newBuilder().setAccountId("acme").setProduct(product).build())
                .getActivationsList();
    }

    private List<LicensedUser> licensedUsers(String product) {
        return w.root().listLicensedUsers(ListLicensedUsersRequest.newBuilder().setAccountId("acme").setProduct(product).build())
                .getLicensedUsersList();
    }

    private List<Machine> machines(String product) {
        return w.root().listMachines(ListMachinesRequest.newBuilder().setAccountId("acme").setProduct(product).build()).getMachinesList();
    }
}
