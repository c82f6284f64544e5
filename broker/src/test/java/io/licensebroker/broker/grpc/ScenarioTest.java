package io.licensebroker.broker.grpc;

import com.google.protobuf.ByteString;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.AcquireSessionResponse;
import io.licensebroker.proto.v1.DeactivateMachineRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseResponse;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.ListMachinesRequest;
import io.licensebroker.proto.v1.ListSessionsRequest;
import io.licensebroker.proto.v1.PoolRow;
import io.licensebroker.proto.v1.ReleaseSessionRequest;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.RenewSessionResponse;
import io.licensebroker.proto.v1.Session;
import io.licensebroker.proto.v1.SetUsagePolicyRequest;
import io.licensebroker.proto.v1.TerminateSessionRequest;
import io.licensebroker.proto.v1.UsagePolicy;
import io.licensebroker.proto.v1.VerifyOfflineLicenseRequest;
import io.licensebroker.proto.v1.VerifyOfflineLicenseResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static io.grpc.Status.Code.FAILED_PRECONDITION;
import static io.grpc.Status.Code.INVALID_ARGUMENT;
import static io.grpc.Status.Code.NOT_FOUND;
import static io.grpc.Status.Code.RESOURCE_EXHAUSTED;
import static io.licensebroker.broker.grpc.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The product documents' examples and the lifecycle rules, end to end through the real stubs. */
final class ScenarioTest {
    private final World w = World.empty();

    @AfterEach
    void close() {
        w.close();
    }

    private static PoolRow row(String id, String parent, long dedicated, long pool, long inUse) {
        return PoolRow.newBuilder().setPoolId(id).setParentId(parent).setDedicated(dedicated).setPool(pool)
                .setInUse(inUse).setAvailable(pool - inUse).build();
    }

    /** Rows without names, for compact comparison. */
    private static List<PoolRow> rows(LicenseUsage u) {
        return u.getRowsList().stream().map(r -> r.toBuilder().clearName().build()).toList();
    }

    private AcquireSessionResponse acquire(String key, String machine) {
        return w.acquire(key, machine);
    }

    private RenewSessionResponse renew(String key, String sessionId) {
        return w.agent(key).renewSession(RenewSessionRequest.newBuilder().setSessionId(sessionId).build());
    }

    private void policy(String account, UsagePolicy policy, boolean fallback) {
        w.root().setUsagePolicy(SetUsagePolicyRequest.newBuilder().setAccountId(account).setPolicy(policy).setAllowFallback(fallback).build());
    }

    // ---------------------------------------------------------------- the documents' examples

    @Test
    void anAccountOf200AssignsToFourOrganizations() {
        w.account("acc", 200, 10);
        String a = w.org("acc", null, "A");
        String b = w.org("acc", null, "B");
        String c = w.org("acc", null, "C");
        String d = w.org("acc", null, "D");
        w.dedicate(a, 20);
        w.dedicate(b, 10);
        w.dedicate(c, 1);
        LicenseUsage u = w.dedicate(d, 5);
        assertEquals(List.of(
                row("acc", "", 200, 164, 0),
                row(a, "acc", 20, 20, 0),
                row(b, "acc", 10, 10, 0),
                row(c, "acc", 1, 1, 0),
                row(d, "acc", 5, 5, 0)), rows(u));
        assertEquals(u, w.usage("acc"));
    }

    @Test
    void anOrganizationOf10GivesFiveToASubOrganization() {
        w.account("acc", 100, 10);
        String org = w.org("acc", null, "Org");
        String sub1 = w.org("acc", org, "Sub 1");
        String sub2 = w.org("acc", org, "Sub 2");
        w.dedicate(org, 10);
        LicenseUsage u = w.dedicate(sub1, 5);
        assertEquals(row(org, "acc", 10, 5, 0), World.row(u, org).toBuilder().clearName().build());
        assertRefused(FAILED_PRECONDITION, "INSUFFICIENT_LICENSES", "licenses", () -> w.dedicate(sub2, 6));
        u = w.dedicate(sub2, 5);
        assertEquals(List.of(
                row("acc", "", 100, 90, 0),
                row(org, "acc", 10, 0, 0),
                row(sub1, org, 5, 5, 0),
                row(sub2, org, 5, 5, 0)), rows(u));
    }

    @Test
    void shrinkingAndRevokingAnOrganizationWithSessionsInUse() {
        w.account("acc", 100, 10);
        String org = w.org("acc", null, "Org");
        w.dedicate(org, 5);
        String key = w.userKey("acc", "u", org);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            AcquireSessionResponse s = acquire(key, "m1");
            assertEquals(org, s.getPoolId());
            ids.add(s.getSessionId());
        }
        assertEquals(row(org, "acc", 8, 8, 4), World.row(w.dedicate(org, 8), org).toBuilder().clearName().build());
        assertRefused(FAILED_PRECONDITION, "BELOW_IN_USE", "licenses", () -> w.dedicate(org, 3));
        assertEquals(row(org, "acc", 4, 4, 4), World.row(w.dedicate(org, 4), org).toBuilder().clearName().build());

        LicenseUsage u = w.dedicate(org, 0);
        assertEquals(List.of(row("acc", "", 100, 100, 4), row(org, "acc", 0, 0, 0)), rows(u));
        List<Session> moved = w.root().listSessions(ListSessionsRequest.newBuilder().setAccountId("acc").build()).getSessionsList();
        assertEquals(Set.copyOf(ids), moved.stream().map(Session::getSessionId).collect(Collectors.toSet()), "ids are kept");
        assertTrue(moved.stream().allMatch(s -> s.getPoolId().equals("acc")));
        for (String id : ids) {
            assertEquals("acc", renew(key, id).getPoolId());
        }
    }

    // ---------------------------------------------------------------- usage policies

    /** acc: orgs assigned(0 licenses), project(1), other(1); user assigned to "assigned", member of "project". */
    private String policyWorld() {
        w.account("acc", 10, 10);
        String assigned = w.org("acc", null, "Assigned");
        String project = w.org("acc", null, "Project");
        String other = w.org("acc", null, "Other");
        w.dedicate(project, 1);
        w.dedicate(other, 1);
        return w.userKey("acc", "u", assigned, project) + " " + project + " " + other;
    }

    @Test
    void unrestrictedWalksAssignedProjectAnyOrgThenFallsBack() {
        String[] p = policyWorld().split(" ");
        String key = p[0];
        AcquireSessionResponse first = acquire(key, "m1");
        assertEquals(p[1], first.getPoolId());
        assertFalse(first.getFallback());
        AcquireSessionResponse second = acquire(key, "m1");
        assertEquals(p[2], second.getPoolId());
        assertFalse(second.getFallback());
        AcquireSessionResponse third = acquire(key, "m1");
        assertEquals("acc", third.getPoolId());
        assertTrue(third.getFallback());
    }

    @Test
    void memberBasedSkipsOtherOrganizations() {
        String[] p = policyWorld().split(" ");
        policy("acc", UsagePolicy.USAGE_POLICY_MEMBER_BASED, true);
        assertEquals(p[1], acquire(p[0], "m1").getPoolId());
        AcquireSessionResponse fallback = acquire(p[0], "m1");
        assertEquals("acc", fallback.getPoolId());
        assertTrue(fallback.getFallback());
        assertEquals(1, w.row("acc", p[2]).getAvailable(), "the other org was not touched");
    }

    @Test
    void strictUsesTheAssignedOrganizationOnly() {
        String[] p = policyWorld().split(" ");
        policy("acc", UsagePolicy.USAGE_POLICY_STRICT, true);
        AcquireSessionResponse fallback = acquire(p[0], "m1");
        assertEquals("acc", fallback.getPoolId());
        assertTrue(fallback.getFallback());
        policy("acc", UsagePolicy.USAGE_POLICY_STRICT, false);
        assertRefused(RESOURCE_EXHAUSTED, "ORGANIZATION_POOL_EXHAUSTED", () -> acquire(p[0], "m1"));
    }

    @Test
    void withoutFallbackExhaustedOrganizationsAreRefusedUnderEveryPolicy() {
        String[] p = policyWorld().split(" ");
        policy("acc", UsagePolicy.USAGE_POLICY_UNRESTRICTED, false);
        acquire(p[0], "m1");
        acquire(p[0], "m1");
        assertRefused(RESOURCE_EXHAUSTED, "ORGANIZATION_POOL_EXHAUSTED", () -> acquire(p[0], "m1"));
        assertEquals(8, w.row("acc", "acc").getAvailable(), "the account pool was not used");
    }

    @Test
    void aUserWithoutOrganizationDrawsFromTheAccountPoolAsItsOwn() {
        w.account("acc", 1, 10);
        String other = w.org("acc", null, "Other");
        String key = w.userKey("acc", "u", null);
        AcquireSessionResponse own = acquire(key, "m1");
        assertEquals("acc", own.getPoolId());
        assertFalse(own.getFallback());
        assertRefused(RESOURCE_EXHAUSTED, "NO_LICENSE_AVAILABLE", () -> acquire(key, "m1"));
        assertEquals(0, w.row("acc", other).getDedicated());
    }

    // ---------------------------------------------------------------- session lifecycle

    @Test
    void anExpiredLeaseReturnsItsLicense() {
        w.account("acc", 1, 10);
        String key = w.userKey("acc", "u", null);
        String id = acquire(key, "m1").getSessionId();
        w.clock.advance(World.LEASE.plusSeconds(1));
        assertEquals(1, w.service.reapExpiredLeases().toCompletableFuture().join());
        assertEquals(0, w.row("acc", "acc").getInUse(), "the license is back");
        assertRefused(NOT_FOUND, "SESSION_EXPIRED", "session_id", () -> renew(key, id));
        acquire(key, "m1");
    }

    @Test
    void renewingInTimeKeepsTheSessionAlive() {
        w.account("acc", 1, 10);
        String key = w.userKey("acc", "u", null);
        String id = acquire(key, "m1").getSessionId();
        for (int i = 0; i < 10; i++) {
            w.clock.advance(World.LEASE.dividedBy(3));
            renew(key, id);
            w.service.reapExpiredLeases().toCompletableFuture().join();
        }
        assertEquals(1, w.row("acc", "acc").getInUse());
    }

    @Test
    void aTerminatedSessionCannotBeRenewed() {
        w.account("acc", 5, 10);
        String key = w.userKey("acc", "u", null);
        String id = acquire(key, "m1").getSessionId();
        assertTrue(w.root().terminateSession(TerminateSessionRequest.newBuilder().setSessionId(id).build()).getTerminated());
        assertRefused(NOT_FOUND, "SESSION_TERMINATED", "session_id", () -> renew(key, id));
        assertFalse(w.agent(key).releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(id).build()).getReleased());
    }

    @Test
    void deactivatingAMachineEndsItsSessionsAndFreesQuota() {
        w.account("acc", 5, 1);
        String key = w.userKey("acc", "u", null);
        String id = acquire(key, "m1").getSessionId();
        assertRefused(RESOURCE_EXHAUSTED, "MACHINE_QUOTA_EXCEEDED", () -> acquire(key, "m2"));
        assertTrue(w.root().deactivateMachine(DeactivateMachineRequest.newBuilder().setAccountId("acc").setMachineId("m1").build())
                .getDeactivated());
        assertRefused(NOT_FOUND, "SESSION_TERMINATED", "session_id", () -> renew(key, id));
        LicenseUsage u = w.usage("acc");
        assertEquals(0, u.getRegisteredMachines());
        assertEquals(0, u.getRows(0).getInUse());
        acquire(key, "m2");
        assertEquals(List.of("m2"), w.root().listMachines(ListMachinesRequest.newBuilder().setAccountId("acc").build())
                .getMachinesList().stream().map(m -> m.getMachineId()).toList());
    }

    @Test
    void machineQuotaCountsMachinesNotSessions() {
        w.account("acc", 10, 2);
        String key = w.userKey("acc", "u", null);
        acquire(key, "m1");
        acquire(key, "m1");
        acquire(key, "m2");
        assertRefused(RESOURCE_EXHAUSTED, "MACHINE_QUOTA_EXCEEDED", () -> acquire(key, "m3"));
        acquire(key, "m2");
        assertEquals(2, w.usage("acc").getRegisteredMachines());
        assertEquals(4, w.row("acc", "acc").getInUse());
    }

    @Test
    void anIdempotentRetryReturnsTheSameSession() {
        w.account("acc", 1, 10);
        String key = w.userKey("acc", "u", null);
        AcquireSessionRequest req = AcquireSessionRequest.newBuilder().setMachineId("m1").setRequestId("boot-42").build();
        AcquireSessionResponse first = w.agent(key).acquireSession(req);
        AcquireSessionResponse retry = w.agent(key).acquireSession(req);
        assertEquals(first.getSessionId(), retry.getSessionId());
        assertEquals(1, w.row("acc", "acc").getInUse(), "one license, not two");
    }

    @Test
    void anExpiredSubscriptionRefusesAcquireAndRenew() {
        w.account("acc", 5, 10);
        w.subscribe("acc", 5, 10, w.inFuture(Duration.ofSeconds(30)));
        String key = w.userKey("acc", "u", null);
        String id = acquire(key, "m1").getSessionId();
        w.clock.advance(Duration.ofSeconds(30));
        assertRefused(FAILED_PRECONDITION, "SUBSCRIPTION_EXPIRED", () -> acquire(key, "m1"));
        assertRefused(FAILED_PRECONDITION, "SUBSCRIPTION_EXPIRED", () -> renew(key, id));
        w.subscribe("acc", 5, 10, w.inFuture(Duration.ofDays(30)));
        renew(key, id);
    }

    // ---------------------------------------------------------------- offline licenses

    @Test
    void anOfflineLicenseIsSignedBoundAndCounted() {
        w.account("acc", 2, 10);
        IssueOfflineLicenseResponse issued = w.root().issueOfflineLicense(IssueOfflineLicenseRequest.newBuilder()
                .setAccountId("acc").setMachineId("laptop-1").build());
        assertEquals("KRE_laptop-1.lic", issued.getFileName());

        VerifyOfflineLicenseResponse verified = w.root().verifyOfflineLicense(
                VerifyOfflineLicenseRequest.newBuilder().setLicenseFile(issued.getLicenseFile()).build());
        assertTrue(verified.getValid());
        assertEquals("acc", verified.getAccountId());
        assertEquals("laptop-1", verified.getMachineId());
        assertEquals(issued.getExpiresAt(), verified.getExpiresAt());

        byte[] bytes = issued.getLicenseFile().toByteArray();
        for (int i : new int[] {0, bytes.length / 2, bytes.length - 2}) {
            byte[] changed = bytes.clone();
            changed[i] ^= 0x20;
            assertRefused(INVALID_ARGUMENT, "INVALID_LICENSE_FILE", "license_file", () -> w.root().verifyOfflineLicense(
                    VerifyOfflineLicenseRequest.newBuilder().setLicenseFile(ByteString.copyFrom(changed)).build()));
        }

        LicenseUsage u = w.usage("acc");
        assertEquals(1, u.getOfflineLicenses());
        assertEquals(row("acc", "", 1, 1, 0), rows(u).get(0), "the account row counts one license less");
        String key = w.userKey("acc", "u", null);
        acquire(key, "m1");
        assertRefused(RESOURCE_EXHAUSTED, "NO_LICENSE_AVAILABLE", () -> acquire(key, "m2"));

        // It cannot be revoked, but it ends at its expiry, and then the license is back.
        w.clock.advance(Duration.ofDays(60));
        assertEquals(0, w.usage("acc").getOfflineLicenses());
        acquire(key, "m2");
    }
}
