package io.licensebroker.broker.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.licensebroker.proto.v1.Account;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateAdminTokenRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.CreateOrganizationRequest;
import io.licensebroker.proto.v1.DeactivateMachineRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.GetSubscriptionRequest;
import io.licensebroker.proto.v1.GetUsagePolicyRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseResponse;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.ListAccountsRequest;
import io.licensebroker.proto.v1.ListMachinesRequest;
import io.licensebroker.proto.v1.ListOrganizationsRequest;
import io.licensebroker.proto.v1.ListSessionsRequest;
import io.licensebroker.proto.v1.ListSessionsResponse;
import io.licensebroker.proto.v1.ListUsersRequest;
import io.licensebroker.proto.v1.Machine;
import io.licensebroker.proto.v1.Organization;
import io.licensebroker.proto.v1.PoolRow;
import io.licensebroker.proto.v1.RestoreDefaultUsagePolicyRequest;
import io.licensebroker.proto.v1.RevokeDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetDedicatedLicensesRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.SetUsagePolicyRequest;
import io.licensebroker.proto.v1.Session;
import io.licensebroker.proto.v1.Subscription;
import io.licensebroker.proto.v1.TerminateSessionRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import io.licensebroker.proto.v1.UsagePolicy;
import io.licensebroker.proto.v1.UsagePolicySettings;
import io.licensebroker.proto.v1.User;
import io.licensebroker.proto.v1.VerifyOfflineLicenseRequest;
import io.licensebroker.proto.v1.VerifyOfflineLicenseResponse;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static io.grpc.Status.Code.ALREADY_EXISTS;
import static io.grpc.Status.Code.FAILED_PRECONDITION;
import static io.grpc.Status.Code.INVALID_ARGUMENT;
import static io.grpc.Status.Code.NOT_FOUND;
import static io.grpc.Status.Code.RESOURCE_EXHAUSTED;
import static io.licensebroker.broker.grpc.Refusals.assertDenied;
import static io.licensebroker.broker.grpc.Table.denied;
import static io.licensebroker.broker.grpc.Table.invalid;
import static io.licensebroker.broker.grpc.Table.ok;
import static io.licensebroker.broker.grpc.Table.refused;
import static io.licensebroker.broker.grpc.Table.unauthenticated;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The admin RPCs: success and every refusal each can answer, one table per RPC. */
final class AdminRpcTest {
    private static final String NO_ORG = "OG-999999";

    // ---------------------------------------------------------------- accounts and credentials

    static CreateAccountRequest createAccount(String id, String name) {
        return CreateAccountRequest.newBuilder().setAccountId(id).setName(name).build();
    }

    @TestFactory
    Stream<DynamicTest> createAccount() {
        return Table.of(
                ok("with a chosen id", w -> {
                    Account a = w.root().createAccount(createAccount("initech", "Initech"));
                    assertEquals(Account.newBuilder().setAccountId("initech").setName("Initech").build(), a);
                }),
                ok("with a generated id", w -> {
                    Account a = w.root().createAccount(createAccount("", "Initech"));
                    assertTrue(a.getAccountId().matches("[A-Za-z0-9_-]{1,64}"), a.getAccountId());
                    assertFalse(a.getAccountId().startsWith("OG-"));
                }),
                ok("a name of exactly 200 characters, any script", w ->
                        assertEquals("ü".repeat(200), w.root().createAccount(createAccount("long", "ü".repeat(200))).getName())),
                invalid("account_id with a dot", "account_id", w -> () -> w.root().createAccount(createAccount("a.b", "A"))),
                invalid("account_id of 65 characters", "account_id", w -> () -> w.root().createAccount(createAccount("a".repeat(65), "A"))),
                invalid("account_id in the organization namespace", "account_id", w -> () -> w.root().createAccount(createAccount("OG-1", "A"))),
                invalid("name missing", "name", w -> () -> w.root().createAccount(createAccount("x", ""))),
                invalid("name of 201 characters", "name", w -> () -> w.root().createAccount(createAccount("x", "n".repeat(201)))),
                invalid("name with a control character", "name", w -> () -> w.root().createAccount(createAccount("x", "a\tb"))),
                refused("the id is taken", ALREADY_EXISTS, "ALREADY_EXISTS", "account_id",
                        w -> () -> w.root().createAccount(createAccount("acme", "Acme again"))),
                denied("an ACCOUNT_ADMIN", w -> () -> w.admin(w.acmeAdmin).createAccount(createAccount("x", "X"))),
                denied("an API key", w -> () -> w.admin(w.aliceKey).createAccount(createAccount("x", "X"))),
                unauthenticated("no token", w -> () -> w.anonymousAdmin().createAccount(createAccount("x", "X"))));
    }

    @TestFactory
    Stream<DynamicTest> listAccounts() {
        return Table.of(
                ok("every account, by id", w -> assertEquals(List.of("acme", "globex"),
                        w.root().listAccounts(ListAccountsRequest.getDefaultInstance()).getAccountsList().stream()
                                .map(Account::getAccountId).toList())),
                denied("an ACCOUNT_ADMIN", w -> () -> w.admin(w.acmeAdmin).listAccounts(ListAccountsRequest.getDefaultInstance())),
                unauthenticated("no token", w -> () -> w.anonymousAdmin().listAccounts(ListAccountsRequest.getDefaultInstance())));
    }

    static CreateAdminTokenRequest token(String account, AdminRole role) {
        return CreateAdminTokenRequest.newBuilder().setAccountId(account).setRole(role).build();
    }

    @TestFactory
    Stream<DynamicTest> createAdminToken() {
        return Table.of(
                ok("SUPER_ADMIN creates a SUPER_ADMIN token", w -> {
                    String t = w.root().createAdminToken(token("", AdminRole.ADMIN_ROLE_SUPER_ADMIN)).getToken();
                    assertEquals(2, w.admin(t).listAccounts(ListAccountsRequest.getDefaultInstance()).getAccountsCount());
                }),
                ok("SUPER_ADMIN creates an ACCOUNT_ADMIN token bound to its account", w -> {
                    String t = w.root().createAdminToken(token("acme", AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN)).getToken();
                    w.admin(t).getUsagePolicy(GetUsagePolicyRequest.newBuilder().setAccountId("acme").build());
                    assertDenied(() -> w.admin(t).getUsagePolicy(GetUsagePolicyRequest.newBuilder().setAccountId("globex").build()));
                }),
                ok("ACCOUNT_ADMIN creates another ACCOUNT_ADMIN token of its account", w -> {
                    String t = w.admin(w.acmeAdmin).createAdminToken(token("acme", AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN)).getToken();
                    w.admin(t).getUsagePolicy(GetUsagePolicyRequest.newBuilder().setAccountId("acme").build());
                }),
                invalid("role unspecified", "role", w -> () -> w.root().createAdminToken(token("acme", AdminRole.ADMIN_ROLE_UNSPECIFIED))),
                invalid("role number unknown", "role",
                        w -> () -> w.root().createAdminToken(CreateAdminTokenRequest.newBuilder().setAccountId("acme").setRoleValue(99).build())),
                invalid("account_id missing for ACCOUNT_ADMIN", "account_id",
                        w -> () -> w.root().createAdminToken(token("", AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN))),
                refused("an unknown account", NOT_FOUND, "ACCOUNT_NOT_FOUND", "account_id",
                        w -> () -> w.root().createAdminToken(token("nosuch", AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN))),
                denied("ACCOUNT_ADMIN asks for a SUPER_ADMIN token",
                        w -> () -> w.admin(w.acmeAdmin).createAdminToken(token("acme", AdminRole.ADMIN_ROLE_SUPER_ADMIN))),
                denied("ACCOUNT_ADMIN asks for another account's token",
                        w -> () -> w.admin(w.acmeAdmin).createAdminToken(token("globex", AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN))),
                denied("ACCOUNT_ADMIN probes an account that does not exist",
                        w -> () -> w.admin(w.acmeAdmin).createAdminToken(token("nosuch", AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN))),
                denied("an API key", w -> () -> w.admin(w.aliceKey).createAdminToken(token("acme", AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN))));
    }

    static CreateApiKeyRequest apiKey(String account, String user) {
        return CreateApiKeyRequest.newBuilder().setAccountId(account).setUserId(user).build();
    }

    @TestFactory
    Stream<DynamicTest> createApiKey() {
        return Table.of(
                ok("a key that acquires as the user", w -> {
                    String key = w.admin(w.acmeAdmin).createApiKey(apiKey("acme", "alice")).getApiKey();
                    assertEquals("acme", w.acquire(key, "m1").getPoolId());
                }),
                invalid("user_id with a space", "user_id", w -> () -> w.root().createApiKey(apiKey("acme", "a b"))),
                invalid("user_id missing", "user_id", w -> () -> w.root().createApiKey(apiKey("acme", ""))),
                refused("an unknown user", NOT_FOUND, "USER_NOT_FOUND", "user_id", w -> () -> w.root().createApiKey(apiKey("acme", "nobody"))),
                refused("an unknown account", NOT_FOUND, "ACCOUNT_NOT_FOUND", "account_id", w -> () -> w.root().createApiKey(apiKey("nosuch", "u"))),
                denied("another account's user", w -> () -> w.admin(w.acmeAdmin).createApiKey(apiKey("globex", "carol"))));
    }

    // ---------------------------------------------------------------- subscription

    static SetSubscriptionRequest.Builder subscription(World w, String account) {
        return SetSubscriptionRequest.newBuilder().setAccountId(account).setLicenses(50).setMachineQuota(5)
                .setExpiresAt(w.inFuture(Duration.ofDays(30)));
    }

    @TestFactory
    Stream<DynamicTest> setSubscription() {
        return Table.of(
                ok("sets the quota; empty product is KRE", w -> {
                    Subscription s = w.root().setSubscription(subscription(w, "acme").build());
                    assertEquals(Subscription.newBuilder().setAccountId("acme").setProduct("KRE").setLicenses(50)
                            .setMachineQuota(5).setExpiresAt(w.inFuture(Duration.ofDays(30)))
                            .setLicenseModel(io.licensebroker.proto.v1.LicenseModel.LICENSE_MODEL_SESSION).build(), s);
                    assertEquals(50, w.usage("acme").getLicenses());
                }),
                ok("an expiry in the past models an expired subscription", w -> {
                    w.root().setSubscription(subscription(w, "acme").setExpiresAt(w.inFuture(Duration.ofDays(-1))).build());
                    Refusals.assertRefused(FAILED_PRECONDITION, "SUBSCRIPTION_EXPIRED", () -> w.acquire(w.aliceKey, "m1"));
                }),
                ok("the largest counts", w -> w.root().setSubscription(subscription(w, "acme")
                        .setLicenses(1_000_000_000).setMachineQuota(1_000_000_000).build())),
                invalid("account_id missing", "account_id", w -> () -> w.root().setSubscription(subscription(w, "").build())),
                invalid("product malformed", "product", w -> () -> w.root().setSubscription(subscription(w, "acme").setProduct("a/b").build())),
                invalid("licenses negative", "licenses", w -> () -> w.root().setSubscription(subscription(w, "acme").setLicenses(-1).build())),
                invalid("licenses over a billion", "licenses",
                        w -> () -> w.root().setSubscription(subscription(w, "acme").setLicenses(1_000_000_001).build())),
                invalid("machine_quota negative", "machine_quota",
                        w -> () -> w.root().setSubscription(subscription(w, "acme").setMachineQuota(-5).build())),
                invalid("expires_at missing", "expires_at",
                        w -> () -> w.root().setSubscription(subscription(w, "acme").clearExpiresAt().build())),
                invalid("expires_at with negative nanos", "expires_at", w -> () -> w.root().setSubscription(subscription(w, "acme")
                        .setExpiresAt(Timestamp.newBuilder().setSeconds(2_000_000_000L).setNanos(-1)).build())),
                invalid("expires_at after year 9999", "expires_at", w -> () -> w.root().setSubscription(subscription(w, "acme")
                        .setExpiresAt(Timestamp.newBuilder().setSeconds(253_402_300_800L)).build())),
                refused("an unknown account", NOT_FOUND, "ACCOUNT_NOT_FOUND", "account_id",
                        w -> () -> w.root().setSubscription(subscription(w, "nosuch").build())),
                refused("licenses below allocated + in use", FAILED_PRECONDITION, "BELOW_IN_USE", "licenses", w -> {
                    w.dedicate(w.acmeOrg, 40);
                    w.acquire(w.aliceKey, "m1");
                    return () -> w.root().setSubscription(subscription(w, "acme").setLicenses(40).build());
                }),
                denied("an ACCOUNT_ADMIN, even of its own account",
                        w -> () -> w.admin(w.acmeAdmin).setSubscription(subscription(w, "acme").build())));
    }

    static GetSubscriptionRequest getSubscription(String account, String product) {
        return GetSubscriptionRequest.newBuilder().setAccountId(account).setProduct(product).build();
    }

    @TestFactory
    Stream<DynamicTest> getSubscription() {
        return Table.of(
                ok("the account's own admin reads it", w -> {
                    Subscription s = w.admin(w.acmeAdmin).getSubscription(getSubscription("acme", ""));
                    assertEquals(100, s.getLicenses());
                    assertEquals(10, s.getMachineQuota());
                    assertEquals("KRE", s.getProduct());
                }),
                refused("a product not bought", FAILED_PRECONDITION, "NO_SUBSCRIPTION", "product",
                        w -> () -> w.root().getSubscription(getSubscription("acme", "OTHER"))),
                refused("an unknown account", NOT_FOUND, "ACCOUNT_NOT_FOUND", "account_id",
                        w -> () -> w.root().getSubscription(getSubscription("nosuch", ""))),
                invalid("account_id malformed", "account_id", w -> () -> w.root().getSubscription(getSubscription("a b", ""))),
                invalid("product malformed", "product", w -> () -> w.root().getSubscription(getSubscription("acme", "K.R.E"))),
                denied("another account", w -> () -> w.admin(w.acmeAdmin).getSubscription(getSubscription("globex", ""))));
    }

    // ---------------------------------------------------------------- organizations and licenses

    static CreateOrganizationRequest createOrg(String account, String parent, String name) {
        return CreateOrganizationRequest.newBuilder().setAccountId(account).setParentId(parent).setName(name).build();
    }

    @TestFactory
    Stream<DynamicTest> createOrganization() {
        return Table.of(
                ok("top level and nested", w -> {
                    Organization top = w.admin(w.acmeAdmin).createOrganization(createOrg("acme", "", "Sales"));
                    assertTrue(top.getOrgId().matches("OG-[0-9]+"), top.getOrgId());
                    assertEquals("", top.getParentId());
                    assertEquals("acme", top.getAccountId());
                    assertEquals("Sales", top.getName());
                    Organization sub = w.admin(w.acmeAdmin).createOrganization(createOrg("acme", top.getOrgId(), "EMEA"));
                    assertEquals(top.getOrgId(), sub.getParentId());
                }),
                invalid("name missing", "name", w -> () -> w.root().createOrganization(createOrg("acme", "", ""))),
                invalid("name with a newline", "name", w -> () -> w.root().createOrganization(createOrg("acme", "", "a\nb"))),
                invalid("parent_id not an organization id", "parent_id", w -> () -> w.root().createOrganization(createOrg("acme", "acme", "X"))),
                invalid("account_id missing", "account_id", w -> () -> w.root().createOrganization(createOrg("", "", "X"))),
                refused("a parent that does not exist", NOT_FOUND, "ORGANIZATION_NOT_FOUND", "parent_id",
                        w -> () -> w.root().createOrganization(createOrg("acme", NO_ORG, "X"))),
                refused("a parent of another account", NOT_FOUND, "ORGANIZATION_NOT_FOUND", "parent_id",
                        w -> () -> w.root().createOrganization(createOrg("acme", w.globexOrg, "X"))),
                refused("an unknown account", NOT_FOUND, "ACCOUNT_NOT_FOUND", "account_id",
                        w -> () -> w.root().createOrganization(createOrg("nosuch", "", "X"))),
                denied("another account", w -> () -> w.admin(w.acmeAdmin).createOrganization(createOrg("globex", "", "X"))),
                denied("another account, with an invalid name too: the tenancy check comes first",
                        w -> () -> w.admin(w.acmeAdmin).createOrganization(createOrg("globex", "", ""))));
    }

    @TestFactory
    Stream<DynamicTest> listOrganizations() {
        return Table.of(
                ok("parents before children", w -> {
                    String sub = w.org("acme", w.acmeOrg, "Sub");
                    String second = w.org("acme", null, "Second");
                    List<Organization> orgs = w.admin(w.acmeAdmin).listOrganizations(
                            ListOrganizationsRequest.newBuilder().setAccountId("acme").build()).getOrganizationsList();
                    assertEquals(List.of(w.acmeOrg, sub, second), orgs.stream().map(Organization::getOrgId).toList());
                    assertEquals(w.acmeOrg, orgs.get(1).getParentId());
                }),
                refused("an unknown account", NOT_FOUND, "ACCOUNT_NOT_FOUND", "account_id",
                        w -> () -> w.root().listOrganizations(ListOrganizationsRequest.newBuilder().setAccountId("nosuch").build())),
                invalid("account_id missing", "account_id",
                        w -> () -> w.root().listOrganizations(ListOrganizationsRequest.getDefaultInstance())),
                denied("another account", w -> () -> w.admin(w.acmeAdmin).listOrganizations(
                        ListOrganizationsRequest.newBuilder().setAccountId("globex").build())));
    }

    static SetDedicatedLicensesRequest dedicate(String org, long licenses) {
        return SetDedicatedLicensesRequest.newBuilder().setOrgId(org).setLicenses(licenses).build();
    }

    @TestFactory
    Stream<DynamicTest> setDedicatedLicenses() {
        return Table.of(
                ok("answers the account's usage", w -> {
                    LicenseUsage u = w.admin(w.acmeAdmin).setDedicatedLicenses(dedicate(w.acmeOrg, 30));
                    assertEquals("acme", u.getAccountId());
                    assertEquals(30, World.row(u, w.acmeOrg).getDedicated());
                    assertEquals(70, World.row(u, "acme").getPool());
                }),
                invalid("org_id missing", "org_id", w -> () -> w.root().setDedicatedLicenses(dedicate("", 1))),
                invalid("org_id not OG-digits", "org_id", w -> () -> w.root().setDedicatedLicenses(dedicate("OG-x", 1))),
                invalid("org_id of 33 characters", "org_id", w -> () -> w.root().setDedicatedLicenses(dedicate("OG-" + "1".repeat(30), 1))),
                invalid("licenses negative", "licenses", w -> () -> w.root().setDedicatedLicenses(dedicate(w.acmeOrg, -1))),
                invalid("product malformed", "product",
                        w -> () -> w.root().setDedicatedLicenses(dedicate(w.acmeOrg, 1).toBuilder().setProduct("k r e").build())),
                refused("an unknown organization", NOT_FOUND, "ORGANIZATION_NOT_FOUND", "org_id",
                        w -> () -> w.root().setDedicatedLicenses(dedicate(NO_ORG, 1))),
                refused("more than the parent has available", FAILED_PRECONDITION, "INSUFFICIENT_LICENSES", "licenses",
                        w -> () -> w.root().setDedicatedLicenses(dedicate(w.acmeOrg, 101))),
                refused("below what is in use", FAILED_PRECONDITION, "BELOW_IN_USE", "licenses", w -> {
                    w.dedicate(w.acmeOrg, 5);
                    String key = w.userKey("acme", "dave", w.acmeOrg);
                    w.acquire(key, "m1");
                    w.acquire(key, "m2");
                    return () -> w.root().setDedicatedLicenses(dedicate(w.acmeOrg, 1));
                }),
                denied("another account's organization", w -> () -> w.admin(w.acmeAdmin).setDedicatedLicenses(dedicate(w.globexOrg, 1))),
                denied("another account's organization, with invalid licenses too",
                        w -> () -> w.admin(w.acmeAdmin).setDedicatedLicenses(dedicate(w.globexOrg, -1))));
    }

    static RevokeDedicatedLicensesRequest revoke(String org) {
        return RevokeDedicatedLicensesRequest.newBuilder().setOrgId(org).build();
    }

    @TestFactory
    Stream<DynamicTest> revokeDedicatedLicenses() {
        return Table.of(
                ok("returns the licenses to the parent", w -> {
                    w.dedicate(w.acmeOrg, 30);
                    LicenseUsage u = w.admin(w.acmeAdmin).revokeDedicatedLicenses(revoke(w.acmeOrg));
                    assertEquals(0, World.row(u, w.acmeOrg).getDedicated());
                    assertEquals(100, World.row(u, "acme").getAvailable());
                }),
                invalid("org_id missing", "org_id", w -> () -> w.root().revokeDedicatedLicenses(revoke(""))),
                invalid("product malformed", "product",
                        w -> () -> w.root().revokeDedicatedLicenses(revoke(w.acmeOrg).toBuilder().setProduct("?").build())),
                refused("an unknown organization", NOT_FOUND, "ORGANIZATION_NOT_FOUND", "org_id",
                        w -> () -> w.root().revokeDedicatedLicenses(revoke(NO_ORG))),
                denied("another account's organization", w -> () -> w.admin(w.acmeAdmin).revokeDedicatedLicenses(revoke(w.globexOrg))));
    }

    // ---------------------------------------------------------------- users and policy

    static UpsertUserRequest.Builder user(String account, String user) {
        return UpsertUserRequest.newBuilder().setAccountId(account).setUserId(user);
    }

    @TestFactory
    Stream<DynamicTest> upsertUser() {
        return Table.of(
                ok("assigned org and project orgs, duplicates folded", w -> {
                    String second = w.org("acme", null, "Second");
                    User u = w.admin(w.acmeAdmin).upsertUser(user("acme", "dave.smith+x@acme.io").setAssignedOrgId(w.acmeOrg)
                            .addProjectOrgIds(second).addProjectOrgIds(w.acmeOrg).addProjectOrgIds(second).build());
                    assertEquals(w.acmeOrg, u.getAssignedOrgId());
                    assertEquals(List.of(second, w.acmeOrg), u.getProjectOrgIdsList());
                }),
                ok("replaces: no assigned org any more", w -> {
                    w.userKey("acme", "dave", w.acmeOrg);
                    assertEquals("", w.root().upsertUser(user("acme", "dave").build()).getAssignedOrgId());
                }),
                ok("1000 project orgs are allowed (as ids; they must exist)", w -> {
                    List<String> ids = Collections.nCopies(1000, w.acmeOrg);
                    assertEquals(List.of(w.acmeOrg), w.root().upsertUser(user("acme", "dave").addAllProjectOrgIds(ids).build()).getProjectOrgIdsList());
                }),
                invalid("user_id missing", "user_id", w -> () -> w.root().upsertUser(user("acme", "").build())),
                invalid("user_id with a slash", "user_id", w -> () -> w.root().upsertUser(user("acme", "a/b").build())),
                invalid("user_id of 129 characters", "user_id", w -> () -> w.root().upsertUser(user("acme", "u".repeat(129)).build())),
                invalid("assigned_org_id malformed", "assigned_org_id",
                        w -> () -> w.root().upsertUser(user("acme", "dave").setAssignedOrgId("eng").build())),
                invalid("a project org id malformed", "project_org_ids",
                        w -> () -> w.root().upsertUser(user("acme", "dave").addProjectOrgIds(w.acmeOrg).addProjectOrgIds("OG-").build())),
                invalid("1001 project orgs", "project_org_ids",
                        w -> () -> w.root().upsertUser(user("acme", "dave").addAllProjectOrgIds(Collections.nCopies(1001, w.acmeOrg)).build())),
                refused("an assigned org of another account", NOT_FOUND, "ORGANIZATION_NOT_FOUND", "assigned_org_id",
                        w -> () -> w.root().upsertUser(user("acme", "dave").setAssignedOrgId(w.globexOrg).build())),
                refused("a project org that does not exist", NOT_FOUND, "ORGANIZATION_NOT_FOUND", "project_org_ids",
                        w -> () -> w.root().upsertUser(user("acme", "dave").addProjectOrgIds(NO_ORG).build())),
                refused("an unknown account", NOT_FOUND, "ACCOUNT_NOT_FOUND", "account_id",
                        w -> () -> w.root().upsertUser(user("nosuch", "dave").build())),
                denied("another account", w -> () -> w.admin(w.acmeAdmin).upsertUser(user("globex", "dave").build())));
    }

    @TestFactory
    Stream<DynamicTest> listUsers() {
        return Table.of(
                ok("every user of the account", w -> {
                    Set<String> ids = new HashSet<>();
                    w.admin(w.acmeAdmin).listUsers(ListUsersRequest.newBuilder().setAccountId("acme").build())
                            .getUsersList().forEach(u -> ids.add(u.getUserId()));
                    assertEquals(Set.of("alice", "bob"), ids);
                }),
                invalid("account_id missing", "account_id", w -> () -> w.root().listUsers(ListUsersRequest.getDefaultInstance())),
                refused("an unknown account", NOT_FOUND, "ACCOUNT_NOT_FOUND", "account_id",
                        w -> () -> w.root().listUsers(ListUsersRequest.newBuilder().setAccountId("nosuch").build())),
                denied("another account", w -> () -> w.admin(w.acmeAdmin).listUsers(ListUsersRequest.newBuilder().setAccountId("globex").build())));
    }

    static SetUsagePolicyRequest.Builder policy(String account, UsagePolicy policy) {
        return SetUsagePolicyRequest.newBuilder().setAccountId(account).setPolicy(policy);
    }

    static UsagePolicySettings settings(UsagePolicy policy, boolean fallback) {
        return UsagePolicySettings.newBuilder().setPolicy(policy).setAllowFallback(fallback).build();
    }

    @TestFactory
    Stream<DynamicTest> setUsagePolicy() {
        return Table.of(
                ok("STRICT without fallback", w -> {
                    assertEquals(settings(UsagePolicy.USAGE_POLICY_STRICT, false), w.admin(w.acmeAdmin)
                            .setUsagePolicy(policy("acme", UsagePolicy.USAGE_POLICY_STRICT).setAllowFallback(false).build()));
                    assertEquals(settings(UsagePolicy.USAGE_POLICY_STRICT, false),
                            w.root().getUsagePolicy(GetUsagePolicyRequest.newBuilder().setAccountId("acme").build()));
                }),
                ok("allow_fallback absent means true", w -> assertEquals(settings(UsagePolicy.USAGE_POLICY_MEMBER_BASED, true),
                        w.root().setUsagePolicy(policy("acme", UsagePolicy.USAGE_POLICY_MEMBER_BASED).build()))),
                invalid("policy unspecified", "policy",
                        w -> () -> w.root().setUsagePolicy(policy("acme", UsagePolicy.USAGE_POLICY_UNSPECIFIED).build())),
                invalid("policy number unknown", "policy",
                        w -> () -> w.root().setUsagePolicy(SetUsagePolicyRequest.newBuilder().setAccountId("acme").setPolicyValue(42).build())),
                refused("an unknown account", NOT_FOUND, "ACCOUNT_NOT_FOUND", "account_id",
                        w -> () -> w.root().setUsagePolicy(policy("nosuch", UsagePolicy.USAGE_POLICY_STRICT).build())),
                denied("another account", w -> () -> w.admin(w.acmeAdmin).setUsagePolicy(policy("globex", UsagePolicy.USAGE_POLICY_STRICT).build())));
    }

    @TestFactory
    Stream<DynamicTest> restoreDefaultUsagePolicy() {
        return Table.of(
                ok("UNRESTRICTED with fallback on", w -> {
                    w.root().setUsagePolicy(policy("acme", UsagePolicy.USAGE_POLICY_STRICT).setAllowFallback(false).build());
                    assertEquals(settings(UsagePolicy.USAGE_POLICY_UNRESTRICTED, true), w.admin(w.acmeAdmin)
                            .restoreDefaultUsagePolicy(RestoreDefaultUsagePolicyRequest.newBuilder().setAccountId("acme").build()));
                }),
                invalid("account_id missing", "account_id",
                        w -> () -> w.root().restoreDefaultUsagePolicy(RestoreDefaultUsagePolicyRequest.getDefaultInstance())),
                refused("an unknown account", NOT_FOUND, "ACCOUNT_NOT_FOUND", "account_id", w -> () -> w.root()
                        .restoreDefaultUsagePolicy(RestoreDefaultUsagePolicyRequest.newBuilder().setAccountId("nosuch").build())),
                denied("another account", w -> () -> w.admin(w.acmeAdmin)
                        .restoreDefaultUsagePolicy(RestoreDefaultUsagePolicyRequest.newBuilder().setAccountId("globex").build())));
    }

    @TestFactory
    Stream<DynamicTest> getUsagePolicy() {
        return Table.of(
                ok("the default", w -> assertEquals(settings(UsagePolicy.USAGE_POLICY_UNRESTRICTED, true),
                        w.admin(w.acmeAdmin).getUsagePolicy(GetUsagePolicyRequest.newBuilder().setAccountId("acme").build()))),
                invalid("account_id malformed", "account_id",
                        w -> () -> w.root().getUsagePolicy(GetUsagePolicyRequest.newBuilder().setAccountId("OG-12").build())),
                refused("an unknown account", NOT_FOUND, "ACCOUNT_NOT_FOUND", "account_id",
                        w -> () -> w.root().getUsagePolicy(GetUsagePolicyRequest.newBuilder().setAccountId("nosuch").build())),
                denied("another account", w -> () -> w.admin(w.acmeAdmin).getUsagePolicy(GetUsagePolicyRequest.newBuilder().setAccountId("globex").build())));
    }

    @TestFactory
    Stream<DynamicTest> getLicenseUsage() {
        return Table.of(
                ok("the table, account row first", w -> {
                    w.dedicate(w.acmeOrg, 10);
                    w.acquire(w.aliceKey, "m1");
                    LicenseUsage u = w.admin(w.acmeAdmin).getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId("acme").build());
                    assertEquals("acme", u.getAccountId());
                    assertEquals("KRE", u.getProduct());
                    assertEquals(100, u.getLicenses());
                    assertEquals(10, u.getMachineQuota());
                    assertEquals(1, u.getRegisteredMachines());
                    assertEquals(0, u.getOfflineLicenses());
                    assertEquals(w.inFuture(Duration.ofDays(365)), u.getExpiresAt());
                    assertEquals(PoolRow.newBuilder().setPoolId("acme").setName("acme Inc.").setParentId("")
                            .setDedicated(100).setPool(90).setInUse(1).setAvailable(89).build(), u.getRows(0));
                    assertEquals(PoolRow.newBuilder().setPoolId(w.acmeOrg).setName("Acme Engineering").setParentId("acme")
                            .setDedicated(10).setPool(10).setInUse(0).setAvailable(10).build(), u.getRows(1));
                }),
                ok("a product without subscription: zeros, no expiry", w -> {
                    LicenseUsage u = w.root().getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId("acme").setProduct("OTHER").build());
                    assertEquals(0, u.getLicenses());
                    assertFalse(u.hasExpiresAt());
                    assertEquals("acme", u.getRows(0).getPoolId());
                }),
                invalid("product malformed", "product", w -> () -> w.root().getLicenseUsage(
                        GetLicenseUsageRequest.newBuilder().setAccountId("acme").setProduct("P".repeat(33)).build())),
                refused("an unknown account", NOT_FOUND, "ACCOUNT_NOT_FOUND", "account_id",
                        w -> () -> w.root().getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId("nosuch").build())),
                denied("another account", w -> () -> w.admin(w.acmeAdmin).getLicenseUsage(
                        GetLicenseUsageRequest.newBuilder().setAccountId("globex").build())));
    }

    // ---------------------------------------------------------------- sessions and machines

    static ListSessionsRequest.Builder sessions(String account) {
        return ListSessionsRequest.newBuilder().setAccountId(account);
    }

    @TestFactory
    Stream<DynamicTest> listSessions() {
        return Table.of(
                ok("pages in id order; the token is the last id of the page", w -> {
                    List<String> ids = new ArrayList<>();
                    for (int i = 0; i < 5; i++) {
                        ids.add(w.acquire(w.aliceKey, "m" + i).getSessionId());
                    }
                    Collections.sort(ids);
                    ListSessionsResponse first = w.admin(w.acmeAdmin).listSessions(sessions("acme").setPageSize(2).build());
                    assertEquals(ids.subList(0, 2), first.getSessionsList().stream().map(Session::getSessionId).toList());
                    assertEquals(ids.get(1), first.getNextPageToken());
                    ListSessionsResponse second = w.admin(w.acmeAdmin).listSessions(
                            sessions("acme").setPageSize(3).setPageToken(first.getNextPageToken()).build());
                    assertEquals(ids.subList(2, 5), second.getSessionsList().stream().map(Session::getSessionId).toList());
                    assertEquals("", second.getNextPageToken());
                }),
                ok("page_size 0 means 100", w -> {
                    w.account("big", 200, 10);
                    String key = w.userKey("big", "u", null);
                    IntStream.range(0, 101).forEach(i -> w.acquire(key, "m1"));
                    ListSessionsResponse page = w.root().listSessions(sessions("big").build());
                    assertEquals(100, page.getSessionsCount());
                    assertFalse(page.getNextPageToken().isEmpty());
                }),
                ok("filters by user, machine, pool and product", w -> {
                    String orgKey = w.userKey("acme", "dave", w.acmeOrg);
                    w.dedicate(w.acmeOrg, 5);
                    Session alice = Protos.session(sessionOf(w, w.acquire(w.aliceKey, "m1").getSessionId()));
                    w.acquire(w.bobKey, "m2");
                    w.acquire(orgKey, "m2");
                    assertEquals(List.of(alice), w.root().listSessions(sessions("acme").setUserId("alice").build()).getSessionsList());
                    assertEquals(2, w.root().listSessions(sessions("acme").setMachineId("m2").build()).getSessionsCount());
                    assertEquals(1, w.root().listSessions(sessions("acme").setPoolId(w.acmeOrg).build()).getSessionsCount());
                    assertEquals(2, w.root().listSessions(sessions("acme").setPoolId("acme").build()).getSessionsCount());
                    assertEquals(3, w.root().listSessions(sessions("acme").setProduct("KRE").build()).getSessionsCount());
                    assertEquals(0, w.root().listSessions(sessions("acme").setProduct("OTHER").build()).getSessionsCount());
                }),
                invalid("page_size negative", "page_size", w -> () -> w.root().listSessions(sessions("acme").setPageSize(-1).build())),
                invalid("page_size over 1000", "page_size", w -> () -> w.root().listSessions(sessions("acme").setPageSize(1001).build())),
                invalid("page_token over 200 characters", "page_token",
                        w -> () -> w.root().listSessions(sessions("acme").setPageToken("t".repeat(201)).build())),
                invalid("pool_id malformed", "pool_id", w -> () -> w.root().listSessions(sessions("acme").setPoolId("a b").build())),
                invalid("user_id malformed", "user_id", w -> () -> w.root().listSessions(sessions("acme").setUserId("a b").build())),
                invalid("machine_id malformed", "machine_id", w -> () -> w.root().listSessions(sessions("acme").setMachineId(".x").build())),
                invalid("product malformed", "product", w -> () -> w.root().listSessions(sessions("acme").setProduct("a b").build())),
                refused("an unknown account", NOT_FOUND, "ACCOUNT_NOT_FOUND", "account_id",
                        w -> () -> w.root().listSessions(sessions("nosuch").build())),
                denied("another account", w -> () -> w.admin(w.acmeAdmin).listSessions(sessions("globex").build())));
    }

    private static io.licensebroker.broker.core.Session sessionOf(World w, String id) {
        return w.service.sessions("acme", new io.licensebroker.broker.core.SessionQuery(null, null, null, null, 1000, null))
                .toCompletableFuture().join().value().sessions().stream().filter(s -> s.id().equals(id)).findFirst().orElseThrow();
    }

    static TerminateSessionRequest terminate(String id) {
        return TerminateSessionRequest.newBuilder().setSessionId(id).build();
    }

    @TestFactory
    Stream<DynamicTest> terminateSession() {
        return Table.of(
                ok("ends a live session once", w -> {
                    String id = w.acquire(w.aliceKey, "m1").getSessionId();
                    assertTrue(w.admin(w.acmeAdmin).terminateSession(terminate(id)).getTerminated());
                    assertEquals(0, w.row("acme", "acme").getInUse());
                    assertFalse(w.admin(w.acmeAdmin).terminateSession(terminate(id)).getTerminated());
                }),
                ok("an id that is not a broker session id: false", w ->
                        assertFalse(w.admin(w.acmeAdmin).terminateSession(terminate("whatever")).getTerminated())),
                ok("an id naming an account that does not exist: false", w ->
                        assertFalse(w.root().terminateSession(terminate("nosuch." + "a".repeat(26))).getTerminated())),
                invalid("session_id missing", "session_id", w -> () -> w.root().terminateSession(terminate(""))),
                invalid("session_id over " + Validation.MAX_SESSION_ID + " characters", "session_id",
                        w -> () -> w.root().terminateSession(terminate("s".repeat(Validation.MAX_SESSION_ID + 1)))),
                denied("another account's session", w -> {
                    String id = w.acquire(w.carolKey, "m1").getSessionId();
                    return () -> w.admin(w.acmeAdmin).terminateSession(terminate(id));
                }));
    }

    @TestFactory
    Stream<DynamicTest> listMachines() {
        return Table.of(
                ok("registered machines with their live sessions", w -> {
                    w.acquire(w.aliceKey, "m1");
                    w.acquire(w.bobKey, "m1");
                    List<Machine> machines = w.admin(w.acmeAdmin).listMachines(ListMachinesRequest.newBuilder().setAccountId("acme").build())
                            .getMachinesList();
                    assertEquals(1, machines.size());
                    assertEquals("m1", machines.get(0).getMachineId());
                    assertEquals("KRE", machines.get(0).getProduct());
                    assertEquals(2, machines.get(0).getLiveSessions());
                    assertEquals(Protos.timestamp(World.START), machines.get(0).getRegisteredAt());
                    assertFalse(machines.get(0).hasOfflineExpiresAt());
                }),
                invalid("product malformed", "product", w -> () -> w.root().listMachines(
                        ListMachinesRequest.newBuilder().setAccountId("acme").setProduct("a.b").build())),
                refused("an unknown account", NOT_FOUND, "ACCOUNT_NOT_FOUND", "account_id",
                        w -> () -> w.root().listMachines(ListMachinesRequest.newBuilder().setAccountId("nosuch").build())),
                denied("another account", w -> () -> w.admin(w.acmeAdmin).listMachines(ListMachinesRequest.newBuilder().setAccountId("globex").build())));
    }

    static DeactivateMachineRequest deactivate(String account, String machine) {
        return DeactivateMachineRequest.newBuilder().setAccountId(account).setMachineId(machine).build();
    }

    @TestFactory
    Stream<DynamicTest> deactivateMachine() {
        return Table.of(
                ok("unregisters a machine once", w -> {
                    w.acquire(w.aliceKey, "m1");
                    assertTrue(w.admin(w.acmeAdmin).deactivateMachine(deactivate("acme", "m1")).getDeactivated());
                    assertEquals(0, w.usage("acme").getRegisteredMachines());
                    assertFalse(w.admin(w.acmeAdmin).deactivateMachine(deactivate("acme", "m1")).getDeactivated());
                }),
                ok("a machine never registered: false", w -> assertFalse(w.root().deactivateMachine(deactivate("acme", "nope")).getDeactivated())),
                invalid("machine_id missing", "machine_id", w -> () -> w.root().deactivateMachine(deactivate("acme", ""))),
                invalid("machine_id with a backslash", "machine_id", w -> () -> w.root().deactivateMachine(deactivate("acme", "a\\b"))),
                refused("an unknown account", NOT_FOUND, "ACCOUNT_NOT_FOUND", "account_id",
                        w -> () -> w.root().deactivateMachine(deactivate("nosuch", "m1"))),
                denied("another account", w -> () -> w.admin(w.acmeAdmin).deactivateMachine(deactivate("globex", "m1"))));
    }

    // ---------------------------------------------------------------- offline licenses

    static IssueOfflineLicenseRequest.Builder offline(String account, String machine) {
        return IssueOfflineLicenseRequest.newBuilder().setAccountId(account).setMachineId(machine);
    }

    @TestFactory
    Stream<DynamicTest> issueOfflineLicense() {
        return Table.of(
                ok("a signed file for 60 days by default", w -> {
                    IssueOfflineLicenseResponse r = w.admin(w.acmeAdmin).issueOfflineLicense(offline("acme", "laptop-7").build());
                    assertEquals("KRE_laptop-7.lic", r.getFileName());
                    assertEquals(w.inFuture(Duration.ofDays(60)), r.getExpiresAt());
                    assertFalse(r.getLicenseFile().isEmpty());
                }),
                ok("capped by the subscription's expiry by default", w -> {
                    w.subscribe("acme", 100, 10, w.inFuture(Duration.ofDays(7)));
                    assertEquals(w.inFuture(Duration.ofDays(7)),
                            w.root().issueOfflineLicense(offline("acme", "m1").build()).getExpiresAt());
                }),
                ok("an explicit expiry", w -> assertEquals(w.inFuture(Duration.ofDays(3)), w.root()
                        .issueOfflineLicense(offline("acme", "m1").setExpiresAt(w.inFuture(Duration.ofDays(3))).build()).getExpiresAt())),
                invalid("machine_id missing", "machine_id", w -> () -> w.root().issueOfflineLicense(offline("acme", "").build())),
                invalid("machine_id that would climb out of a directory", "machine_id",
                        w -> () -> w.root().issueOfflineLicense(offline("acme", "../etc").build())),
                invalid("expires_at malformed", "expires_at", w -> () -> w.root().issueOfflineLicense(offline("acme", "m1")
                        .setExpiresAt(Timestamp.newBuilder().setSeconds(2_000_000_000L).setNanos(1_000_000_000)).build())),
                invalid("expires_at more than 60 days ahead", "expires_at", w -> () -> w.root().issueOfflineLicense(offline("acme", "m1")
                        .setExpiresAt(w.inFuture(Duration.ofDays(61))).build())),
                invalid("expires_at in the past", "expires_at", w -> () -> w.root().issueOfflineLicense(offline("acme", "m1")
                        .setExpiresAt(w.inFuture(Duration.ofDays(-1))).build())),
                refused("a product not bought", FAILED_PRECONDITION, "NO_SUBSCRIPTION",
                        w -> () -> w.root().issueOfflineLicense(offline("acme", "m1").setProduct("OTHER").build())),
                refused("after the subscription's expiry", FAILED_PRECONDITION, "SUBSCRIPTION_EXPIRED", w -> {
                    w.clock.advance(Duration.ofDays(400));
                    return () -> w.root().issueOfflineLicense(offline("acme", "m1").build());
                }),
                refused("the machine already holds one", ALREADY_EXISTS, "ALREADY_EXISTS", "machine_id", w -> {
                    w.root().issueOfflineLicense(offline("acme", "m1").build());
                    return () -> w.root().issueOfflineLicense(offline("acme", "m1").build());
                }),
                refused("a new machine over the machine quota", RESOURCE_EXHAUSTED, "MACHINE_QUOTA_EXCEEDED", w -> {
                    w.account("small", 10, 1);
                    w.root().issueOfflineLicense(offline("small", "m1").build());
                    return () -> w.root().issueOfflineLicense(offline("small", "m2").build());
                }),
                refused("no license left in the account pool", FAILED_PRECONDITION, "INSUFFICIENT_LICENSES", w -> {
                    w.dedicate(w.acmeOrg, 100);
                    return () -> w.root().issueOfflineLicense(offline("acme", "m1").build());
                }),
                refused("an unknown account", NOT_FOUND, "ACCOUNT_NOT_FOUND", "account_id",
                        w -> () -> w.root().issueOfflineLicense(offline("nosuch", "m1").build())),
                denied("another account", w -> () -> w.admin(w.acmeAdmin).issueOfflineLicense(offline("globex", "m1").build())));
    }

    static VerifyOfflineLicenseRequest verify(ByteString file) {
        return VerifyOfflineLicenseRequest.newBuilder().setLicenseFile(file).build();
    }

    @TestFactory
    Stream<DynamicTest> verifyOfflineLicense() {
        return Table.of(
                ok("tells what the file grants; any admin may ask", w -> {
                    IssueOfflineLicenseResponse issued = w.root().issueOfflineLicense(offline("globex", "m1").build());
                    VerifyOfflineLicenseResponse v = w.admin(w.acmeAdmin).verifyOfflineLicense(verify(issued.getLicenseFile()));
                    assertEquals(VerifyOfflineLicenseResponse.newBuilder().setValid(true).setAccountId("globex").setProduct("KRE")
                            .setMachineId("m1").setExpiresAt(issued.getExpiresAt()).build(), v);
                }),
                refused("one changed byte", INVALID_ARGUMENT, "INVALID_LICENSE_FILE", "license_file", w -> {
                    byte[] file = w.root().issueOfflineLicense(offline("acme", "m1").build()).getLicenseFile().toByteArray();
                    file[file.length / 3] ^= 1;
                    return () -> w.root().verifyOfflineLicense(verify(ByteString.copyFrom(file)));
                }),
                refused("not a license file at all", INVALID_ARGUMENT, "INVALID_LICENSE_FILE", "license_file",
                        w -> () -> w.root().verifyOfflineLicense(verify(ByteString.copyFromUtf8("hello")))),
                invalid("license_file missing", "license_file", w -> () -> w.root().verifyOfflineLicense(verify(ByteString.EMPTY))),
                invalid("license_file over 64 KiB", "license_file",
                        w -> () -> w.root().verifyOfflineLicense(verify(ByteString.copyFrom(new byte[64 * 1024 + 1])))),
                denied("an API key", w -> () -> w.admin(w.aliceKey).verifyOfflineLicense(verify(ByteString.copyFromUtf8("x")))));
    }
}
