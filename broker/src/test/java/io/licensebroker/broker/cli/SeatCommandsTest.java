package io.licensebroker.broker.cli;

import io.licensebroker.broker.cli.CliBroker.Result;
import io.licensebroker.client.Activation;
import io.licensebroker.client.ActivateOptions;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.LicensedUser;
import io.licensebroker.proto.v1.ListActivationsRequest;
import io.licensebroker.proto.v1.ListActivationsResponse;
import io.licensebroker.proto.v1.ListLicensedUsersRequest;
import io.licensebroker.proto.v1.ListLicensedUsersResponse;
import io.licensebroker.proto.v1.Subscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static io.licensebroker.broker.cli.CliBroker.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The seat commands (licenses, activations, subscriptions --model, offline issue --user, agent activate) against a real broker. */
class SeatCommandsTest {
    private static final Instant EXPIRY = Instant.parse("2031-01-01T00:00:00Z");

    @TempDir
    Path dir;

    private CliBroker broker;

    @BeforeEach
    void start() throws IOException {
        broker = new CliBroker();
        broker.admin.createAccount("acme", "Acme Inc.");
        for (String user : List.of("ann", "ben", "cid")) {
            broker.admin.upsertUser("acme", user, "", List.of());
        }
    }

    @AfterEach
    void stop() throws Exception {
        broker.close();
    }

    private Result cli(String... args) {
        return broker.cli(args);
    }

    @Test
    void subscriptionsSetTakesTheModelAndShowsIt() throws IOException {
        Result set = cli("subscriptions", "set", "--account", "acme", "--product", "KSE", "--licenses", "2", "--machine-quota", "10",
                "--expires-at", "2031-01-01", "--model", "floating").ok();
        assertEquals(List.of("Account  Product  Model     Licenses  Machine quota  Expires at",
                "acme     KSE      floating         2             10  2031-01-01T00:00:00Z"), set.out().lines().toList());
        Subscription shown = json(cli("subscriptions", "show", "--account", "acme", "--product", "KSE", "-o", "json").ok().out(),
                Subscription.getDefaultInstance());
        assertEquals(LicenseModel.LICENSE_MODEL_FLOATING, shown.getLicenseModel());
        assertTrue(cli("subscriptions", "set", "--account", "acme", "--product", "KSN", "--licenses", "2", "--machine-quota", "10",
                "--expires-at", "2031-01-01", "--model", "Node_Locked").ok().out().contains("node-locked"));

        Result bad = cli("subscriptions", "set", "--account", "acme", "--licenses", "2", "--machine-quota", "10",
                "--expires-at", "2031-01-01", "--model", "per-seat");
        assertEquals(ExitCode.USAGE, bad.exit());
        assertTrue(bad.err().contains("session, node-locked or floating"), bad.err());
    }

    @Test
    void licensesGrantListTransferAndRemove() throws IOException {
        broker.admin.setSubscription("acme", "KSE", 2, 10, EXPIRY, LicenseModel.LICENSE_MODEL_FLOATING);
        Result granted = cli("licenses", "grant", "--account", "acme", "--product", "KSE", "--user", "ann").ok();
        List<String> lines = granted.out().lines().toList();
        assertTrue(lines.get(0).matches("User +Product +Pool +Machine +Granted +Offline until"), lines.get(0));
        assertTrue(lines.get(1).matches("ann +KSE +acme +\\d{4}-\\d\\d-\\d\\dT\\S+Z"), lines.get(1));
        LicensedUser ben = json(cli("licenses", "grant", "--account", "acme", "--product", "KSE", "--user", "ben", "-o", "json")
                .ok().out(), LicensedUser.getDefaultInstance());
        assertEquals("acme", ben.getPoolId());

        Result refused = cli("licenses", "grant", "--account", "acme", "--product", "KSE", "--user", "cid");
        assertEquals(ExitCode.FAILED, refused.exit());
        assertTrue(refused.err().startsWith("error: GrantLicense refused: FAILED_PRECONDITION INSUFFICIENT_LICENSES (field pool_id)"),
                refused.err());
        assertEquals(1, refused.err().strip().lines().count());

        Result transferred = cli("licenses", "transfer", "--account", "acme", "--product", "KSE", "--from", "ben", "--to", "cid").ok();
        assertTrue(transferred.out().lines().anyMatch(l -> l.startsWith("cid ")), transferred.out());
        ListLicensedUsersResponse listed = json(cli("licenses", "list", "--account", "acme", "--product", "KSE", "-o", "json").ok().out(),
                ListLicensedUsersResponse.getDefaultInstance());
        assertEquals(broker.admin.listLicensedUsers(ListLicensedUsersRequest.newBuilder().setAccountId("acme").setProduct("KSE").build()),
                listed);
        assertEquals(List.of("ann", "cid"), listed.getLicensedUsersList().stream().map(LicensedUser::getUserId).toList());

        Result firstPage = cli("licenses", "list", "--account", "acme", "--product", "KSE", "--page-size", "1").ok();
        List<String> page = firstPage.out().lines().toList();
        assertEquals(4, page.size(), "header, one seat, a blank line and the next page hint: " + page);
        assertEquals("more: --page-token ann", page.get(3));
        assertEquals(3, cli("licenses", "list", "--account", "acme", "--product", "KSE", "--page-size", "1", "--all").ok()
                .out().lines().count(), "header and both seats");

        assertEquals("removed the KSE seat of cid\n", cli("licenses", "remove", "--account", "acme", "--product", "KSE", "--user", "cid")
                .ok().out());
        assertEquals("user cid held no KSE seat\n", cli("licenses", "remove", "--account", "acme", "--product", "KSE", "--user", "cid")
                .ok().out());
        assertEquals(ExitCode.FAILED, cli("licenses", "grant", "--account", "acme", "--product", "KRE", "--user", "ann").exit(),
                "a session product has no seats");
    }

    @Test
    void activationsListAndUsageCountSeatsInUse() throws IOException {
        broker.admin.setSubscription("acme", "KSE", 3, 10, EXPIRY, LicenseModel.LICENSE_MODEL_FLOATING);
        broker.admin.grantLicense("acme", "KSE", "ann", "");
        broker.admin.grantLicense("acme", "KSE", "ben", "");
        Activation onLaptop = broker.agent("acme", "ann").activate("ann-laptop", ActivateOptions.builder().product("KSE").build());

        Result table = cli("activations", "list", "--account", "acme", "--product", "KSE").ok();
        List<String> lines = table.out().lines().toList();
        assertTrue(lines.get(0).matches("Activation id +User +Machine +Product +Pool +Activated +Lease expires"), lines.get(0));
        assertTrue(lines.get(1).matches(onLaptop.activationId().replace(".", "\\.") + " +ann +ann-laptop +KSE +acme +\\S+ +\\S+"), lines.get(1));
        ListActivationsResponse asJson = json(cli("activations", "list", "--account", "acme", "--product", "KSE", "--user", "ann",
                "-o", "json").ok().out(), ListActivationsResponse.getDefaultInstance());
        assertEquals(broker.admin.listActivations(ListActivationsRequest.newBuilder().setAccountId("acme").setProduct("KSE")
                .setUserId("ann").build()), asJson);

        // Both seats are in use (Assigned), whether activated or not.
        LicenseUsage usage = AdminCommandsTest.parseUsageTable(cli("usage", "--account", "acme", "--product", "KSE").ok().out());
        assertEquals(2, usage.getRows(0).getInUse());
        assertEquals(1, usage.getRows(0).getAvailable());
        assertTrue(cli("usage", "--help").ok().out().contains("Assigned"));
    }

    @Test
    void offlineIssueBindsALicensedUsersNodeLockedSeat() throws IOException {
        broker.admin.setSubscription("acme", "KSN", 2, 10, EXPIRY, LicenseModel.LICENSE_MODEL_NODE_LOCKED);
        broker.admin.grantLicense("acme", "KSN", "ann", "");
        Result issued = cli("offline", "issue", "--account", "acme", "--product", "KSN", "--machine", "ann-pc", "--user", "ann",
                "--expires-at", "30d", "--dir", dir.toString()).ok();
        assertTrue(issued.out().startsWith("wrote " + dir.resolve("KSN_ann-pc.lic")), issued.out());
        assertTrue(Files.size(dir.resolve("KSN_ann-pc.lic")) > 0);
        Result listed = cli("licenses", "list", "--account", "acme", "--product", "KSN").ok();
        assertTrue(listed.out().lines().anyMatch(l -> l.matches("ann +KSN +acme +ann-pc +\\S+ +\\S+")), listed.out());

        Result bound = cli("licenses", "transfer", "--account", "acme", "--product", "KSN", "--from", "ann", "--to", "ben");
        assertEquals(ExitCode.FAILED, bound.exit());
        assertTrue(bound.err().contains("FAILED_PRECONDITION OFFLINE_BOUND"), bound.err());
        Result noUser = cli("offline", "issue", "--account", "acme", "--product", "KSN", "--machine", "m-2", "--dir", dir.toString());
        assertEquals(ExitCode.FAILED, noUser.exit());
        assertTrue(noUser.err().contains("INVALID_ARGUMENT (field user_id)"), noUser.err());
    }

    @Test
    void agentActivatePrintsTheActivationIdAndAFloatingOneIsReleasedByIt() {
        broker.admin.setSubscription("acme", "KSE", 2, 10, EXPIRY, LicenseModel.LICENSE_MODEL_FLOATING);
        broker.admin.setSubscription("acme", "KSN", 2, 10, EXPIRY, LicenseModel.LICENSE_MODEL_NODE_LOCKED);
        broker.admin.grantLicense("acme", "KSE", "ann", "");
        broker.admin.grantLicense("acme", "KSN", "ann", "");
        broker.env.put(AgentCommand.API_KEY_ENV, broker.admin.createApiKey("acme", "ann").getApiKey());

        Result floating = cli("agent", "activate", "--product", "KSE", "--machine", "ann-laptop").ok();
        String id = floating.out().strip();
        assertTrue(id.startsWith("acme."), floating.out());
        assertTrue(floating.err().startsWith("floating, pool acme, lease until "), floating.err());
        Result elsewhere = cli("agent", "activate", "--product", "KSE", "--machine", "ann-desk");
        assertEquals(ExitCode.FAILED, elsewhere.exit());
        assertTrue(elsewhere.err().startsWith("error: ActivateLicense refused: FAILED_PRECONDITION SEAT_IN_USE"), elsewhere.err());
        cli("agent", "renew", id).ok();
        assertEquals("released " + id + "\n", cli("agent", "release", id).ok().out());
        cli("agent", "activate", "--product", "KSE", "--machine", "ann-desk").ok();
        assertTrue(cli("agent", "activate", "--product", "KSE", "--machine", "ann-laptop", "--take-over").ok().err().startsWith("floating"));

        Result nodeLocked = cli("agent", "activate", "--product", "KSN", "--machine", "ann-pc").ok();
        assertTrue(nodeLocked.err().startsWith("node-locked to machine ann-pc"), nodeLocked.err());
        assertEquals(nodeLocked.out(), cli("agent", "activate", "--product", "KSN", "--machine", "ann-pc").ok().out(),
                "again on the bound machine: the same activation");
    }
}
