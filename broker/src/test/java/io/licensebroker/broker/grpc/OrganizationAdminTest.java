package io.licensebroker.broker.grpc;

import io.grpc.Status;
import io.licensebroker.broker.core.Principal;
import io.licensebroker.broker.core.Role;
import io.licensebroker.broker.grpc.OrgTreeWorld.Caller;
import io.licensebroker.proto.v1.ActivateLicenseRequest;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.CreateAdminTokenRequest;
import io.licensebroker.proto.v1.CreateAdminTokenResponse;
import io.licensebroker.proto.v1.CreateOrganizationRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.GrantLicenseRequest;
import io.licensebroker.proto.v1.LicenseAdminGrpc.LicenseAdminBlockingStub;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.LicensedUser;
import io.licensebroker.proto.v1.ListActivationsRequest;
import io.licensebroker.proto.v1.ListActivationsResponse;
import io.licensebroker.proto.v1.ListLicensedUsersRequest;
import io.licensebroker.proto.v1.ListOrganizationsRequest;
import io.licensebroker.proto.v1.ListSessionsRequest;
import io.licensebroker.proto.v1.ListUsersRequest;
import io.licensebroker.proto.v1.Organization;
import io.licensebroker.proto.v1.PoolRow;
import io.licensebroker.proto.v1.RemoveLicenseRequest;
import io.licensebroker.proto.v1.RevokeAdminTokenRequest;
import io.licensebroker.proto.v1.RevokeAdminTokenResponse;
import io.licensebroker.proto.v1.Session;
import io.licensebroker.proto.v1.SetDedicatedLicensesRequest;
import io.licensebroker.proto.v1.TerminateSessionRequest;
import io.licensebroker.proto.v1.TransferLicenseRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import io.licensebroker.proto.v1.User;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static io.licensebroker.broker.grpc.OrgTreeWorld.Target.A;
import static io.licensebroker.broker.grpc.OrgTreeWorld.Target.A1;
import static io.licensebroker.broker.grpc.OrgTreeWorld.Target.A2;
import static io.licensebroker.broker.grpc.OrgTreeWorld.Target.ACCOUNT;
import static io.licensebroker.broker.grpc.OrgTreeWorld.Target.B;
import static io.licensebroker.broker.grpc.Refusals.assertDenied;
import static io.licensebroker.broker.grpc.Refusals.assertInvalid;
import static io.licensebroker.broker.grpc.Refusals.assertRefused;
import static io.licensebroker.broker.grpc.Refusals.assertUnauthenticated;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What an organization admin sees and may change inside its subtree (the table of who may call what is {@link OrganizationAdminScopeTest}). */
final class OrganizationAdminTest {

    // ---------------------------------------------------------------- its token

    @Test
    void aTokenOfAnOrganizationIsAnOrganizationAdminOfItsAccount() {
        try (OrgTreeWorld f = new OrgTreeWorld()) {
            CreateAdminTokenResponse made = f.w.root().createAdminToken(CreateAdminTokenRequest.newBuilder()
                    .setRole(AdminRole.ADMIN_ROLE_ORGANIZATION_ADMIN).setOrgId(f.org(A1)).setAccountId("acme").build());

            assertEquals(Optional.of(new Principal(Role.ORGANIZATION_ADMIN, "acme", null, f.org(A1))),
                    f.w.service.authenticate(made.getToken()).toCompletableFuture().join());
            RevokeAdminTokenResponse revoked = f.as(Caller.ORG_ADMIN_OF_A).revokeAdminToken(
                    RevokeAdminTokenRequest.newBuilder().setTokenId(made.getTokenId()).build());
            assertEquals(AdminRole.ADMIN_ROLE_ORGANIZATION_ADMIN, revoked.getRole());
            assertEquals("acme", revoked.getAccountId());
            assertEquals(f.org(A1), revoked.getOrgId());
            assertUnauthenticated(() -> f.w.admin(made.getToken()).listUsers(ListUsersRequest.newBuilder().setAccountId("acme").build()));
        }
    }

    @Test
    void anOrganizationAdminMakesTokensBelowItselfAndMayRevokeItsOwn() {
        try (OrgTreeWorld f = new OrgTreeWorld()) {
            String child = f.as(Caller.ORG_ADMIN_OF_A).createAdminToken(CreateAdminTokenRequest.newBuilder()
                    .setRole(AdminRole.ADMIN_ROLE_ORGANIZATION_ADMIN).setOrgId(f.org(A2)).build()).getToken();
            assertEquals(List.of(f.org(A2)), f.w.admin(child).listOrganizations(ListOrganizationsRequest.newBuilder()
                    .setAccountId("acme").build()).getOrganizationsList().stream().map(Organization::getOrgId).toList());

            String own = f.callers.get(Caller.ORG_ADMIN_OF_B);
            f.w.admin(own).revokeAdminToken(RevokeAdminTokenRequest.newBuilder().setTokenId(OrgTreeWorld.keyId(own)).build());
            assertUnauthenticated(() -> f.w.admin(own).listUsers(ListUsersRequest.newBuilder().setAccountId("acme").build()));
        }
    }

    @Test
    void theRequestOfAnOrganizationAdminTokenIsChecked() {
        try (OrgTreeWorld f = new OrgTreeWorld()) {
            LicenseAdminBlockingStub root = f.w.root();
            CreateAdminTokenRequest.Builder orgAdmin = CreateAdminTokenRequest.newBuilder().setRole(AdminRole.ADMIN_ROLE_ORGANIZATION_ADMIN);

            assertInvalid("org_id", () -> root.createAdminToken(orgAdmin.clone().setAccountId("acme").build()));
            assertInvalid("org_id", () -> root.createAdminToken(orgAdmin.clone().setOrgId("acme").build()));
            assertInvalid("account_id", () -> root.createAdminToken(orgAdmin.clone().setOrgId(f.org(A)).setAccountId("globex").build()));
            assertRefused(Status.Code.NOT_FOUND, "ORGANIZATION_NOT_FOUND", "org_id",
                    () -> root.createAdminToken(orgAdmin.clone().setOrgId("OG-999999").build()));
            // An org id on another role would make a token broader than its caller meant.
            assertInvalid("org_id", () -> root.createAdminToken(CreateAdminTokenRequest.newBuilder()
                    .setRole(AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN).setAccountId("acme").setOrgId(f.org(A)).build()));
            // Another account's admin learns nothing about the organization beyond "not yours".
            assertDenied(() -> f.as(Caller.GLOBEX_ADMIN).createAdminToken(orgAdmin.clone().setOrgId(f.org(A)).setAccountId("globex").build()));
        }
    }

    // ---------------------------------------------------------------- what it sees

    @Test
    void itListsTheOrganizationsUsersSessionsAndRowsOfItsSubtreeOnly() {
        try (OrgTreeWorld f = new OrgTreeWorld()) {
            LicenseAdminBlockingStub a1 = f.as(Caller.ORG_ADMIN_OF_A1);

            assertEquals(List.of(f.org(A1), f.org(A2)), a1.listOrganizations(ListOrganizationsRequest.newBuilder().setAccountId("acme").build())
                    .getOrganizationsList().stream().map(Organization::getOrgId).toList());
            assertEquals(List.of(f.spares.get(A1), f.spares.get(A2), f.users.get(A1), f.users.get(A2)), a1.listUsers(ListUsersRequest.newBuilder().setAccountId("acme").build())
                    .getUsersList().stream().map(User::getUserId).sorted().toList());
            assertEquals(List.of(f.sessions.get(A1), f.sessions.get(A2)).stream().sorted().toList(),
                    a1.listSessions(ListSessionsRequest.newBuilder().setAccountId("acme").build())
                            .getSessionsList().stream().map(Session::getSessionId).sorted().toList());
            assertEquals(List.of(f.sessions.get(A2)), a1.listSessions(ListSessionsRequest.newBuilder().setAccountId("acme")
                    .setPoolId(f.org(A2)).build()).getSessionsList().stream().map(Session::getSessionId).toList());

            LicenseUsage all = f.w.usage("acme");
            LicenseUsage part = a1.getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId("acme").build());
            assertEquals(List.of(World.row(all, f.org(A1)), World.row(all, f.org(A2))), part.getRowsList());
            // The subscription's figures are no pool's: they stay.
            assertEquals(all.toBuilder().clearRows().build(), part.toBuilder().clearRows().build());
        }
    }

    @Test
    void aShortPageOfItsSessionsStillLeadsToTheRest() {
        try (OrgTreeWorld f = new OrgTreeWorld()) {
            LicenseAdminBlockingStub a = f.as(Caller.ORG_ADMIN_OF_A);
            List<String> seen = new java.util.ArrayList<>();
            String token = "";
            do {
                var page = a.listSessions(ListSessionsRequest.newBuilder().setAccountId("acme").setPageSize(1).setPageToken(token).build());
                page.getSessionsList().forEach(s -> seen.add(s.getSessionId()));
                token = page.getNextPageToken();
            } while (!token.isEmpty());
            assertEquals(List.of(f.sessions.get(A), f.sessions.get(A1), f.sessions.get(A2)).stream().sorted().toList(), seen.stream().sorted().toList());
        }
    }

    // ---------------------------------------------------------------- what it changes

    @Test
    void itCreatesOrganizationsBelowItselfAndDedicatesThemLicensesFromItsPool() {
        try (OrgTreeWorld f = new OrgTreeWorld()) {
            LicenseAdminBlockingStub a = f.as(Caller.ORG_ADMIN_OF_A);
            long poolOfA = World.row(f.w.usage("acme"), f.org(A)).getPool();

            String team = a.createOrganization(CreateOrganizationRequest.newBuilder().setAccountId("acme")
                    .setParentId(f.org(A)).setName("Team").build()).getOrgId();
            LicenseUsage after = a.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(team).setLicenses(2).build());

            assertEquals(2, World.row(after, team).getDedicated());
            assertEquals(poolOfA - 2, World.row(after, f.org(A)).getPool());
            assertTrue(after.getRowsList().stream().noneMatch(r -> r.getPoolId().equals("acme")), "its answer shows its subtree only");
            assertDenied(() -> a.setDedicatedLicenses(SetDedicatedLicensesRequest.newBuilder().setOrgId(f.org(A)).setLicenses(25).build()));
        }
    }

    @Test
    void itUpsertsUsersOfItsSubtreeAndKeepsTheirMembershipsElsewhereAsTheyAre() {
        try (OrgTreeWorld f = new OrgTreeWorld()) {
            LicenseAdminBlockingStub a = f.as(Caller.ORG_ADMIN_OF_A);
            UpsertUserRequest.Builder dana = UpsertUserRequest.newBuilder().setAccountId("acme").setUserId("dana");
            f.w.root().upsertUser(dana.clone().setAssignedOrgId(f.org(A1)).addProjectOrgIds(f.org(B)).build());

            // Moved within the subtree, the membership in B passed back unchanged, one in A2 added.
            User moved = a.upsertUser(dana.clone().setAssignedOrgId(f.org(A2)).addProjectOrgIds(f.org(B)).addProjectOrgIds(f.org(A2)).build());
            assertEquals(List.of(f.org(B), f.org(A2)), moved.getProjectOrgIdsList());

            String c = f.w.org("acme", null, "C");
            List<User> before = f.w.root().listUsers(ListUsersRequest.newBuilder().setAccountId("acme").build()).getUsersList();
            // Dropping the membership in B, moving the user out, adding a membership in C: another admin's part, all refused.
            assertDenied(() -> a.upsertUser(dana.clone().setAssignedOrgId(f.org(A2)).build()));
            assertDenied(() -> a.upsertUser(dana.clone().setAssignedOrgId(f.org(B)).addProjectOrgIds(f.org(B)).build()));
            assertDenied(() -> a.upsertUser(dana.clone().setAssignedOrgId(f.org(A2)).addProjectOrgIds(f.org(B)).addProjectOrgIds(c).build()));
            assertEquals(before, f.w.root().listUsers(ListUsersRequest.newBuilder().setAccountId("acme").build()).getUsersList());
        }
    }

    @Test
    void itMayNotTakeOverAUserOfAnotherSubtreeNorAddMembershipsOutsideItsOwn() {
        try (OrgTreeWorld f = new OrgTreeWorld()) {
            LicenseAdminBlockingStub a1 = f.as(Caller.ORG_ADMIN_OF_A1);
            List<User> before = f.w.root().listUsers(ListUsersRequest.newBuilder().setAccountId("acme").build()).getUsersList();

            assertDenied(() -> a1.upsertUser(UpsertUserRequest.newBuilder().setAccountId("acme").setUserId(f.users.get(B))
                    .setAssignedOrgId(f.org(A1)).build()));
            assertDenied(() -> a1.upsertUser(UpsertUserRequest.newBuilder().setAccountId("acme").setUserId(f.users.get(A))
                    .setAssignedOrgId(f.org(A2)).build()));
            assertDenied(() -> a1.upsertUser(UpsertUserRequest.newBuilder().setAccountId("acme").setUserId("newbie")
                    .setAssignedOrgId(f.org(A1)).addProjectOrgIds(f.org(A)).build()));

            assertEquals(before, f.w.root().listUsers(ListUsersRequest.newBuilder().setAccountId("acme").build()).getUsersList());
        }
    }

    @Test
    void itGrantsListsAndTransfersTheSeatsOfItsSubtree() {
        try (OrgTreeWorld f = new OrgTreeWorld()) {
            LicenseAdminBlockingStub a1 = f.as(Caller.ORG_ADMIN_OF_A1);
            String kse = OrgTreeWorld.SEATS;

            assertEquals(f.org(A2), a1.grantLicense(GrantLicenseRequest.newBuilder().setAccountId("acme").setProduct(kse)
                    .setUserId(f.spares.get(A2)).build()).getPoolId(), "the default: the user's assigned organization");
            assertEquals(f.org(A1), a1.grantLicense(GrantLicenseRequest.newBuilder().setAccountId("acme").setProduct(kse)
                    .setUserId(f.spares.get(B)).setPoolId(f.org(A1)).build()).getPoolId(), "a named pool of its subtree, for anyone");
            assertEquals(List.of(f.spares.get(A2), f.spares.get(B), f.users.get(A1), f.users.get(A2)),
                    a1.listLicensedUsers(ListLicensedUsersRequest.newBuilder().setAccountId("acme").setProduct(kse).build())
                            .getLicensedUsersList().stream().map(LicensedUser::getUserId).sorted().toList());

            LicensedUser moved = a1.transferLicense(TransferLicenseRequest.newBuilder().setAccountId("acme").setProduct(kse)
                    .setFromUserId(f.users.get(A2)).setToUserId(f.spares.get(ACCOUNT)).build());
            assertEquals(f.org(A2), moved.getPoolId(), "the seat stays in its pool");
            assertEquals(false, a1.removeLicense(RemoveLicenseRequest.newBuilder().setAccountId("acme").setProduct(kse)
                    .setUserId(f.users.get(A2)).build()).getRemoved(), "no seat any more: nothing to remove, no refusal");
            assertDenied(() -> a1.transferLicense(TransferLicenseRequest.newBuilder().setAccountId("acme").setProduct(kse)
                    .setFromUserId(f.spares.get(ACCOUNT)).setToUserId(f.users.get(A2)).setPoolId(f.org(A)).build()));
        }
    }

    @Test
    void itSeesTheActivationsOfItsSubtreeOnly() {
        try (OrgTreeWorld f = new OrgTreeWorld()) {
            for (var t : List.of(A, A1, B)) {
                f.w.agent(f.keys.get(t)).activateLicense(ActivateLicenseRequest.newBuilder().setProduct(OrgTreeWorld.SEATS)
                        .setMachineId("m-" + t.name().toLowerCase()).build());
            }
            ListActivationsResponse seen = f.as(Caller.ORG_ADMIN_OF_A).listActivations(ListActivationsRequest.newBuilder()
                    .setAccountId("acme").setProduct(OrgTreeWorld.SEATS).build());
            assertEquals(List.of(f.org(A), f.org(A1)), seen.getActivationsList().stream().map(a -> a.getPoolId()).sorted().toList());
        }
    }

    @Test
    void itTerminatesTheSessionsOfItsSubtreeAndAnEndedOneIsNoRefusal() {
        try (OrgTreeWorld f = new OrgTreeWorld()) {
            LicenseAdminBlockingStub a = f.as(Caller.ORG_ADMIN_OF_A);
            TerminateSessionRequest ofA2 = TerminateSessionRequest.newBuilder().setSessionId(f.sessions.get(A2)).build();

            assertTrue(a.terminateSession(ofA2).getTerminated());
            assertEquals(false, a.terminateSession(ofA2).getTerminated());
            PoolRow row = World.row(f.w.usage("acme"), f.org(A2));
            assertEquals(0, row.getInUse());
        }
    }
}
