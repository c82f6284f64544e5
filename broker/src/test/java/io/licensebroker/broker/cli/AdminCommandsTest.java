package io.licensebroker.broker.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import io.licensebroker.broker.cli.CliBroker.Result;
import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.client.LicenseBrokerClient;
import io.licensebroker.client.LicenseSession;
import io.licensebroker.proto.v1.AcquireSessionResponse;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.ListAccountsResponse;
import io.licensebroker.proto.v1.ListMachinesResponse;
import io.licensebroker.proto.v1.ListOrganizationsResponse;
import io.licensebroker.proto.v1.ListSessionsRequest;
import io.licensebroker.proto.v1.ListSessionsResponse;
import io.licensebroker.proto.v1.ListUsersResponse;
import io.licensebroker.proto.v1.PoolRow;
import io.licensebroker.proto.v1.Subscription;
import io.licensebroker.proto.v1.UsagePolicy;
import io.licensebroker.proto.v1.UsagePolicySettings;
import io.licensebroker.proto.v1.VerifyOfflineLicenseResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The admin command line, run in-process through {@link Main#run}, against a real broker on a real port. */
class AdminCommandsTest {
    private static final String ROOT = CliBroker.ROOT;
    private static final Instant EXPIRY = Instant.parse("2031-01-01T00:00:00Z");

    @TempDir
    Path dir;

    private CliBroker broker;
    private LicenseAdminClient admin;
    private Map<String, String> env;

    @BeforeEach
    void start() throws IOException {
        broker = new CliBroker();
        admin = broker.admin;
        env = broker.env;
    }

    @AfterEach
    void stop() throws Exception {
        broker.close();
    }

    private Result cli(String... args) {
        return CliBroker.run(env, args);
    }

    private static <M extends Message> M json(String text, M prototype) throws IOException {
        return CliBroker.json(text, prototype);
    }

    /** acme: 100 licenses, 10 machines; organizations with spaces in their names; alice in one of them. */
    private String[] acme() {
        admin.createAccount("acme", "Acme Inc.");
        admin.setSubscription("acme", "", 100, 10, EXPIRY);
        String eng = admin.createOrganization("acme", "", "Acme Engineering").getOrgId();
        String platform = admin.createOrganization("acme", eng, "Platform Team").getOrgId();
        String sales = admin.createOrganization("acme", "", "Sales").getOrgId();
        admin.setDedicatedLicenses(eng, "", 20);
        admin.setDedicatedLicenses(platform, "", 5);
        admin.setDedicatedLicenses(sales, "", 3);
        admin.upsertUser("acme", "alice", platform, List.of());
        return new String[]{eng, platform, sales};
    }

    private LicenseBrokerClient agent(String account, String user) {
        return broker.agent(account, user);
    }

    // ---------------------------------------------------------------- each command

    @Test
    void accountsCreateAndList() throws IOException {
        Result created = cli("accounts", "create", "--id", "acme", "--name", "Acme Inc.").ok();
        assertEquals(List.of("Account id  Name", "acme        Acme Inc."), created.out().lines().toList());
        cli("accounts", "create", "--name", "Generated Ltd.").ok();

        ListAccountsResponse listed = json(cli("accounts", "list", "--output", "json").ok().out(), ListAccountsResponse.getDefaultInstance());
        assertEquals(admin.listAccounts(), listed);
        assertEquals(2, listed.getAccountsCount());
    }

    @Test
    void subscriptionsSetAndShow() throws IOException {
        admin.createAccount("acme", "Acme Inc.");
        Result set = cli("subscriptions", "set", "--account", "acme", "--licenses", "100", "--machine-quota", "10",
                "--expires-at", "2031-01-01").ok();
        assertEquals(List.of("Account  Product  Model    Licenses  Machine quota  Expires at",
                "acme     KRE      session       100             10  2031-01-01T00:00:00Z"), set.out().lines().toList());

        Subscription shown = json(cli("subscriptions", "show", "--account", "acme", "-o", "json").ok().out(), Subscription.getDefaultInstance());
        assertEquals(admin.getSubscription("acme", ""), shown);
        assertEquals(100, shown.getLicenses());
        assertEquals(EXPIRY.getEpochSecond(), shown.getExpiresAt().getSeconds());
    }

    @Test
    void organizationsCreateAndTree() throws IOException {
        admin.createAccount("acme", "Acme Inc.");
        String eng = cli("organizations", "create", "--account", "acme", "--name", "Engineering", "-o", "json").ok().out();
        String engId = json(eng, io.licensebroker.proto.v1.Organization.getDefaultInstance()).getOrgId();
        cli("organizations", "create", "--account", "acme", "--parent", engId, "--name", "Platform").ok();
        cli("organizations", "create", "--account", "acme", "--name", "Sales").ok();
        List<String> ids = admin.listOrganizations("acme").getOrganizationsList().stream()
                .map(io.licensebroker.proto.v1.Organization::getOrgId).toList();

        Result tree = cli("organizations", "tree", "--account", "acme").ok();
        assertEquals(List.of(
                "acme",
                "+-- " + ids.get(0) + "  Engineering",
                "|   `-- " + ids.get(1) + "  Platform",
                "`-- " + ids.get(2) + "  Sales"), tree.out().lines().toList());

        ListOrganizationsResponse listed = json(cli("organizations", "list", "--account", "acme", "-o", "json").ok().out(),
                ListOrganizationsResponse.getDefaultInstance());
        assertEquals(admin.listOrganizations("acme"), listed);
    }

    @Test
    void dedicatedSetAndRevoke() throws IOException {
        String[] orgs = acme();
        LicenseUsage afterSet = json(cli("dedicated", "set", "--org", orgs[2], "--licenses", "7", "-o", "json").ok().out(),
                LicenseUsage.getDefaultInstance());
        assertEquals(7, row(afterSet, orgs[2]).getDedicated());

        Result revoked = cli("dedicated", "revoke", "--org", orgs[0]).ok();
        LicenseUsage fromTable = parseUsageTable(revoked.out());
        assertEquals(admin.getLicenseUsage("acme", ""), fromTable);
        assertEquals(0, row(fromTable, orgs[0]).getDedicated());
        assertEquals(0, row(fromTable, orgs[1]).getDedicated(), "the subtree is revoked too");
    }

    @Test
    void usersUpsertListApiKeysAndAdminTokens() throws IOException {
        String[] orgs = acme();
        cli("users", "upsert", "--account", "acme", "--user", "bob", "--org", orgs[2], "--project-org", orgs[0] + "," + orgs[1]).ok();
        ListUsersResponse users = json(cli("users", "list", "--account", "acme", "-o", "json").ok().out(), ListUsersResponse.getDefaultInstance());
        assertEquals(admin.listUsers("acme"), users);
        assertEquals(List.of(orgs[0], orgs[1]), users.getUsersList().stream().filter(u -> u.getUserId().equals("bob"))
                .findFirst().orElseThrow().getProjectOrgIdsList());

        Result key = cli("api-keys", "create", "--account", "acme", "--user", "bob").ok();
        List<String> keyLines = key.out().lines().toList();
        assertEquals(1, keyLines.size(), "the key alone on stdout");
        assertTrue(key.err().contains("shown once"));
        try (LicenseBrokerClient bob = LicenseBrokerClient.builder().target(env.get(AdminOptions.TARGET_ENV)).apiKey(keyLines.get(0)).build();
             LicenseSession session = bob.acquire("bobs-laptop")) {
            assertEquals(orgs[2], session.poolId(), "the new key works and bob draws from his organization");
        }

        String token = cli("admin-tokens", "create", "--role", "account-admin", "--account", "acme").ok().out().strip();
        env.put(AdminOptions.TOKEN_ENV, token);
        cli("usage", "--account", "acme").ok();
        admin.createAccount("globex", "Globex");
        Result foreign = cli("usage", "--account", "globex");
        assertEquals(1, foreign.exit());
        assertTrue(foreign.err().contains("PERMISSION_DENIED"), foreign.err());
        Result superToken = cli("admin-tokens", "create", "--role", "super-admin");
        assertEquals(1, superToken.exit(), "an account admin cannot create super-admin tokens");
    }

    @Test
    void createShowsTheIdAndRevokeByIdOrSecretEndsTheCredential() {
        acme();
        Result key = cli("api-keys", "create", "--account", "acme", "--user", "alice").ok();
        String apiKey = key.out().strip();
        String keyId = apiKey.substring(3, 19);
        assertTrue(key.err().contains("its id (to revoke it): " + keyId), key.err());
        Result token = cli("admin-tokens", "create", "--role", "account-admin", "--account", "acme").ok();
        String tokenId = token.out().strip().substring(3, 19);
        assertTrue(token.err().contains("its id (to revoke it): " + tokenId), token.err());

        Result revoked = cli("api-keys", "revoke", keyId).ok();
        assertEquals("revoked api key " + keyId + " of alice in acme", revoked.out().strip());
        Result again = cli("api-keys", "revoke", keyId);
        assertEquals(1, again.exit());
        assertEquals(1, again.err().strip().lines().count(), "one line: " + again.err());
        assertTrue(again.err().contains("CREDENTIAL_NOT_FOUND"), again.err());
        // the whole secret works too: only its id is sent
        assertEquals("revoked account-admin token " + tokenId + " of acme",
                cli("admin-tokens", "revoke", token.out().strip()).ok().out().strip());
        Result unknown = cli("admin-tokens", "revoke", "nonsense");
        assertEquals(1, unknown.exit(), unknown.err());
        assertTrue(unknown.err().contains("INVALID_ARGUMENT") && unknown.err().contains("token_id"), unknown.err());
    }

    @Test
    void anOrganizationAdminTokenAdministersItsSubtree() throws IOException {
        String[] orgs = acme();
        assertEquals(ExitCode.USAGE, cli("admin-tokens", "create", "--role", "organization-admin").exit(), "--org is required");
        assertEquals(ExitCode.USAGE, cli("admin-tokens", "create", "--role", "account-admin", "--account", "acme", "--org", orgs[0]).exit());

        Result token = cli("admin-tokens", "create", "--role", "organization-admin", "--org", orgs[0]).ok();
        String secret = token.out().strip();
        assertTrue(token.err().contains("organization-admin token of " + orgs[0] + " shown once"), token.err());
        env.put(AdminOptions.TOKEN_ENV, secret);
        ListOrganizationsResponse seen = json(cli("organizations", "list", "--account", "acme", "-o", "json").ok().out(),
                ListOrganizationsResponse.getDefaultInstance());
        assertEquals(List.of(orgs[0], orgs[1]), seen.getOrganizationsList().stream().map(o -> o.getOrgId()).toList(), "its subtree only");
        Result refused = cli("policy", "show", "--account", "acme");
        assertEquals(1, refused.exit());
        assertTrue(refused.err().contains("PERMISSION_DENIED"), refused.err());

        env.put(AdminOptions.TOKEN_ENV, ROOT);
        String tokenId = secret.substring(3, 19);
        assertEquals("revoked organization-admin token " + tokenId + " of " + orgs[0] + " in acme",
                cli("admin-tokens", "revoke", tokenId).ok().out().strip());
    }

    @Test
    void policySetShowAndRestoreDefault() throws IOException {
        acme();
        Result set = cli("policy", "set", "--account", "acme", "--policy", "member-based", "--no-fallback").ok();
        assertEquals(List.of("Policy        Fallback", "MEMBER_BASED  no"), set.out().lines().toList());
        assertEquals(UsagePolicySettings.newBuilder().setPolicy(UsagePolicy.USAGE_POLICY_MEMBER_BASED).setAllowFallback(false).build(),
                admin.getUsagePolicy("acme"));

        UsagePolicySettings shown = json(cli("policy", "show", "--account", "acme", "-o", "json").ok().out(), UsagePolicySettings.getDefaultInstance());
        assertEquals(admin.getUsagePolicy("acme"), shown);
        cli("policy", "set", "--account", "acme", "--policy", "STRICT").ok();
        assertEquals(UsagePolicy.USAGE_POLICY_STRICT, admin.getUsagePolicy("acme").getPolicy());
        assertTrue(admin.getUsagePolicy("acme").getAllowFallback(), "fallback is on unless --no-fallback");

        cli("policy", "restore-default", "--account", "acme").ok();
        assertEquals(UsagePolicySettings.newBuilder().setPolicy(UsagePolicy.USAGE_POLICY_UNRESTRICTED).setAllowFallback(true).build(),
                admin.getUsagePolicy("acme"));
    }

    @Test
    void usageEqualsGetLicenseUsageAsATableAndAsJson() throws IOException {
        String[] orgs = acme();
        LicenseBrokerClient alice = agent("acme", "alice");
        alice.acquire("m-1");
        alice.acquire("m-2");
        admin.upsertUser("acme", "carol", "", List.of());
        agent("acme", "carol").acquire("m-3");
        admin.issueOfflineLicense("acme", "", "m-4", null);
        LicenseUsage rpc = admin.getLicenseUsage("acme", "");
        assertEquals(2, row(rpc, orgs[1]).getInUse(), "the fixture has sessions in an organization");

        Result table = cli("usage", "--account", "acme").ok();
        assertEquals(rpc, parseUsageTable(table.out()));
        assertTrue(table.out().contains("Acme Engineering"));

        Result asJson = cli("usage", "--account", "acme", "--product", "KRE", "--output", "json").ok();
        assertEquals(rpc, json(asJson.out(), LicenseUsage.getDefaultInstance()));
        assertTrue(asJson.out().contains("\"in_use\""), "the contract's field names");
    }

    @Test
    void sessionsListWithFiltersAndPagingAndTerminate() throws IOException {
        acme();
        LicenseBrokerClient alice = agent("acme", "alice");
        List<LicenseSession> sessions = List.of(alice.acquire("m-1"), alice.acquire("m-2"), alice.acquire("m-3"));

        Result firstPage = cli("sessions", "list", "--account", "acme", "--page-size", "2").ok();
        List<String> lines = firstPage.out().lines().toList();
        assertTrue(lines.get(0).matches("Session id +User +Machine +Product +Pool +Fallback +Started +Lease expires"), lines.get(0));
        assertEquals(3 + 2, lines.size(), "header, two sessions, a blank line and the next page hint: " + lines);
        String token = lines.get(4).substring("more: --page-token ".length());
        Result secondPage = cli("sessions", "list", "--account", "acme", "--page-size", "2", "--page-token", token, "-o", "json").ok();
        assertEquals(1, json(secondPage.out(), ListSessionsResponse.getDefaultInstance()).getSessionsCount());

        ListSessionsResponse all = json(cli("sessions", "list", "--account", "acme", "--page-size", "1", "--all", "-o", "json").ok().out(),
                ListSessionsResponse.getDefaultInstance());
        assertEquals(3, all.getSessionsCount());
        assertEquals("", all.getNextPageToken());
        ListSessionsResponse onM2 = json(cli("sessions", "list", "--account", "acme", "--machine", "m-2", "-o", "json").ok().out(),
                ListSessionsResponse.getDefaultInstance());
        assertEquals(admin.listSessions(ListSessionsRequest.newBuilder().setAccountId("acme").setMachineId("m-2").build()), onM2);
        assertEquals(sessions.get(1).sessionId(), onM2.getSessions(0).getSessionId());

        assertEquals(List.of("terminated " + sessions.get(0).sessionId()),
                cli("sessions", "terminate", sessions.get(0).sessionId()).ok().out().lines().toList());
        assertEquals(List.of("session " + sessions.get(0).sessionId() + " had already ended"),
                cli("sessions", "terminate", sessions.get(0).sessionId()).ok().out().lines().toList());
        assertEquals(2, admin.getLicenseUsage("acme", "").getRowsList().stream().mapToLong(PoolRow::getInUse).sum(),
                "the terminated session's license is back");
    }

    @Test
    void machinesListAndDeactivate() throws IOException {
        acme();
        LicenseBrokerClient alice = agent("acme", "alice");
        alice.acquire("m-1");
        alice.acquire("m-2");

        ListMachinesResponse machines = json(cli("machines", "list", "--account", "acme", "-o", "json").ok().out(),
                ListMachinesResponse.getDefaultInstance());
        assertEquals(admin.listMachines("acme", ""), machines);
        assertEquals(2, machines.getMachinesCount());
        assertTrue(cli("machines", "list", "--account", "acme").ok().out().lines().anyMatch(l -> l.startsWith("m-1 ")));

        assertEquals("deactivated m-1", cli("machines", "deactivate", "--account", "acme", "--machine", "m-1").ok().out().strip());
        assertEquals("machine m-1 was not registered", cli("machines", "deactivate", "--account", "acme", "--machine", "m-1").ok().out().strip());
        assertEquals(1, admin.listMachines("acme", "").getMachinesCount());
    }

    @Test
    void offlineIssueToAFileAndVerifyIt() throws IOException {
        acme();
        Path licenses = dir.resolve("licenses");
        Result issued = cli("offline", "issue", "--account", "acme", "--machine", "m-1", "--expires-at", "30d", "--dir", licenses.toString()).ok();
        Path file = licenses.resolve("KRE_m-1.lic");
        assertTrue(Files.isRegularFile(file), issued.out());
        assertTrue(issued.out().startsWith("wrote " + file), issued.out());
        assertEquals(1, admin.getLicenseUsage("acme", "").getOfflineLicenses());

        Result verified = cli("offline", "verify", file.toString()).ok();
        assertTrue(verified.out().lines().anyMatch(l -> l.matches("Valid: +yes")), verified.out());
        VerifyOfflineLicenseResponse asJson = json(cli("offline", "verify", file.toString(), "-o", "json").ok().out(),
                VerifyOfflineLicenseResponse.getDefaultInstance());
        assertTrue(asJson.getValid());
        assertEquals("m-1", asJson.getMachineId());

        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 1;
        Path tampered = dir.resolve("tampered.lic");
        Files.write(tampered, bytes);
        Result refused = cli("offline", "verify", tampered.toString());
        assertEquals(1, refused.exit());
        assertTrue(refused.err().contains("INVALID_LICENSE_FILE"), refused.err());

        Result again = cli("offline", "issue", "--account", "acme", "--machine", "m-1", "--dir", licenses.toString());
        assertEquals(1, again.exit());
        assertTrue(again.err().contains("exists") && again.err().contains("no license was issued"), again.err());
        Result badName = cli("offline", "issue", "--account", "acme", "--machine", "../m-2", "--dir", licenses.toString());
        assertEquals(2, badName.exit(), badName.err());
        assertEquals(1, admin.getLicenseUsage("acme", "").getOfflineLicenses(), "refused locally, nothing issued");
    }

    @Test
    void agentAcquireRenewAndReleaseOneCallEach() throws IOException {
        String platform = acme()[1];
        env.put(AgentCommand.API_KEY_ENV, admin.createApiKey("acme", "alice").getApiKey());
        AcquireSessionResponse acquired = json(cli("agent", "acquire", "--machine", "laptop-1", "--request-id", "run-42", "-o", "json").ok().out(),
                AcquireSessionResponse.getDefaultInstance());
        assertEquals(platform, acquired.getPoolId());
        assertEquals(acquired.getSessionId(), json(cli("agent", "acquire", "--machine", "laptop-1", "--request-id", "run-42", "-o", "json")
                .ok().out(), AcquireSessionResponse.getDefaultInstance()).getSessionId(), "the same request id, the same session");
        assertEquals(1, admin.getLicenseUsage("acme", "").getRowsList().stream().filter(r -> r.getPoolId().equals(platform))
                .findFirst().orElseThrow().getInUse(), "the session outlives the command");
        Result again = cli("agent", "acquire", "--machine", "laptop-1", "--request-id", "run-42").ok();
        assertEquals(acquired.getSessionId(), again.out().strip(), "the id alone on stdout");
        assertTrue(again.err().startsWith("pool " + platform + ", lease until "), again.err());
        assertTrue(cli("agent", "renew", acquired.getSessionId()).ok().out().contains("Lease until"));
        assertEquals("released " + acquired.getSessionId(), cli("agent", "release", acquired.getSessionId()).ok().out().strip());
        assertEquals(0, admin.getLicenseUsage("acme", "").getRows(0).getInUse());

        Result gone = cli("agent", "renew", acquired.getSessionId());
        assertEquals(1, gone.exit());
        assertTrue(gone.err().startsWith("error: RenewSession refused: NOT_FOUND") && gone.err().strip().lines().count() == 1, gone.err());
        env.remove(AgentCommand.API_KEY_ENV);
        Result noKey = cli("agent", "acquire", "--machine", "m");
        assertEquals(2, noKey.exit());
        assertTrue(noKey.err().startsWith("error: no API key: pass --api-key or set LICENSE_BROKER_API_KEY"), noKey.err());
    }

    // ---------------------------------------------------------------- errors

    @Test
    void refusalsNameTheCodeReasonAndFieldAndExitOne() {
        Result missing = cli("usage", "--account", "nope");
        assertEquals(1, missing.exit());
        assertEquals("error: GetLicenseUsage refused: NOT_FOUND ACCOUNT_NOT_FOUND (field account_id): no account nope", missing.err().strip());

        Result invalid = cli("accounts", "create", "--id", "not valid!", "--name", "x");
        assertEquals(1, invalid.exit());
        assertTrue(invalid.err().startsWith("error: CreateAccount refused: INVALID_ARGUMENT (field account_id)"), invalid.err());

        env.put(AdminOptions.TOKEN_ENV, "lb_wrong");
        Result unauthenticated = cli("accounts", "list");
        assertEquals(1, unauthenticated.exit());
        assertTrue(unauthenticated.err().contains("UNAUTHENTICATED") && unauthenticated.err().contains("--token"), unauthenticated.err());
        assertEquals("", unauthenticated.out());
    }

    @Test
    void anUnreachableBrokerExitsThree() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Result r = cli("usage", "--account", "acme", "--target", "127.0.0.1:" + closedPort, "--timeout", "5s");
        assertEquals(3, r.exit(), r.err());
        assertTrue(r.err().startsWith("error: cannot reach the broker at 127.0.0.1:" + closedPort), r.err());
    }

    @Test
    void usageErrorsExitTwo() {
        env.remove(AdminOptions.TOKEN_ENV);
        Result noToken = cli("accounts", "list");
        assertEquals(2, noToken.exit());
        assertTrue(noToken.err().contains("no admin token: pass --token or set BROKER_TOKEN"), noToken.err());
        assertEquals("error: no admin token: pass --token or set BROKER_TOKEN (see 'license-broker accounts list --help')",
                noToken.err().strip(), "one line, no usage dump");

        env.put(AdminOptions.TOKEN_ENV, ROOT);
        assertEquals(2, cli("accounts").exit(), "a group alone");
        assertEquals(2, cli("usage").exit(), "--account is required");
        assertEquals(2, cli("usage", "--account", "acme", "--bogus").exit());
        assertEquals(2, cli("policy", "set", "--account", "acme", "--policy", "lenient").exit());
        assertEquals(2, cli("subscriptions", "set", "--account", "acme", "--licenses", "1", "--machine-quota", "1",
                "--expires-at", "someday").exit());
        Result badTarget = cli("usage", "--account", "acme", "--target", "host:http");
        assertEquals(2, badTarget.exit());
        assertTrue(badTarget.err().contains("host:http"), badTarget.err());
        Result missingFile = cli("usage", "--account", "acme", "--trust-cert", "/nonexistent/ca.pem");
        assertEquals(2, missingFile.exit());
        assertEquals(1, missingFile.err().strip().lines().count(), missingFile.err());
        assertTrue(missingFile.err().startsWith("error: ") && missingFile.err().contains("/nonexistent/ca.pem"), missingFile.err());
    }

    @Test
    void helpListsTheCommands() {
        Result help = cli("--help").ok();
        for (String command : List.of("serve", "accounts", "subscriptions", "organizations", "dedicated", "users", "api-keys",
                "admin-tokens", "policy", "usage", "sessions", "machines", "offline", "licenses", "activations")) {
            assertTrue(help.out().contains(command), command + " in\n" + help.out());
        }
        Result usageHelp = cli("usage", "--help").ok();
        assertTrue(usageHelp.out().contains("--target") && usageHelp.out().contains("BROKER_TARGET"), usageHelp.out());
        assertFalse(usageHelp.out().isEmpty());
    }

    @Test
    void theTokenAndTargetComeFromTheEnvironmentOrTheFlags() {
        acme();
        Map<String, String> empty = new HashMap<>();
        Map<String, String> saved = env;
        env = empty;
        Result viaFlags = cli("usage", "--account", "acme", "--target", saved.get(AdminOptions.TARGET_ENV), "--token", ROOT);
        assertEquals(0, viaFlags.exit(), viaFlags.err());
        env = saved;
        env.put(AdminOptions.TOKEN_ENV, "lb_wrong");
        assertEquals(0, cli("usage", "--account", "acme", "--token", ROOT).exit(), "a flag wins over the environment");
    }

    // ---------------------------------------------------------------- parsing the table back

    private static PoolRow row(LicenseUsage usage, String poolId) {
        return usage.getRowsList().stream().filter(r -> r.getPoolId().equals(poolId)).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + poolId));
    }

    /**
     * Reads the usage table back: the label lines, a blank line, then the rows. Text columns are
     * cut at the header's column starts (names may hold spaces); the parent id (never blank inside)
     * and the four numbers follow, right-aligned.
     */
    static LicenseUsage parseUsageTable(String text) {
        List<String> lines = text.lines().toList();
        LicenseUsage.Builder usage = LicenseUsage.newBuilder();
        int i = 0;
        for (; !lines.get(i).isEmpty(); i++) {
            String[] labelled = lines.get(i).split(":", 2);
            String value = labelled[1].strip();
            switch (labelled[0]) {
                case "Account" -> usage.setAccountId(value);
                case "Product" -> usage.setProduct(value);
                case "License model" -> usage.setLicenseModel(new Converters.Model().convert(value));
                case "Licenses" -> usage.setLicenses(Long.parseLong(value));
                case "Machine quota" -> usage.setMachineQuota(Long.parseLong(value));
                case "Registered machines" -> usage.setRegisteredMachines(Long.parseLong(value));
                case "Offline licenses" -> usage.setOfflineLicenses(Long.parseLong(value));
                case "Expires at" -> {
                    if (!value.isEmpty()) {
                        Instant t = Instant.parse(value);
                        usage.setExpiresAt(Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()));
                    }
                }
                default -> throw new AssertionError("unknown label " + labelled[0]);
            }
        }
        String header = lines.get(++i);
        assertTrue(header.matches("Pool id +Name +Parent +Dedicated +Pool +In use +Available"), header);
        int nameAt = header.indexOf("Name");
        int parentAt = header.indexOf("Parent");
        for (i++; i < lines.size(); i++) {
            String line = lines.get(i);
            String[] rest = line.substring(parentAt).strip().split(" +");
            int n = rest.length;
            usage.addRows(PoolRow.newBuilder()
                    .setPoolId(line.substring(0, nameAt).strip())
                    .setName(line.substring(nameAt, parentAt).strip())
                    .setParentId(n == 5 ? rest[0] : "")
                    .setDedicated(Long.parseLong(rest[n - 4]))
                    .setPool(Long.parseLong(rest[n - 3]))
                    .setInUse(Long.parseLong(rest[n - 2]))
                    .setAvailable(Long.parseLong(rest[n - 1])));
        }
        return usage.build();
    }

    @Test
    void adminRoleNamesAreAccepted() {
        assertEquals(AdminRole.ADMIN_ROLE_SUPER_ADMIN, new Converters.Role().convert("SUPER_ADMIN"));
        assertEquals(UsagePolicy.USAGE_POLICY_MEMBER_BASED, new Converters.Policy().convert("Member_Based"));
    }
}
