package io.licensebroker.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.licensebroker.testkit.MutableClock;
import io.licensebroker.proto.v1.ListSessionsRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The SDK against a real broker behind in-process gRPC servers. */
class LicenseSessionTest {
    /** Short, so renewals come every 100 ms; the broker's clock stands still, so leases never lapse by accident. */
    private final TestBroker broker = TestBroker.frozen(Duration.ofMillis(300));

    @AfterEach
    void close() {
        broker.close();
    }

    @Test
    void acquireTakesOneLicenseAndCloseGivesItBackExactlyOnce() {
        String key = broker.agent("acme", 10, "alice");
        LicenseBrokerClient client = broker.closeLater(broker.inProcessClient(key).build());

        LicenseSession session = client.acquire("laptop-1");
        assertTrue(session.isActive());
        assertEquals("acme", session.poolId());
        assertFalse(session.fallback());
        assertEquals("laptop-1", session.machineId());
        assertFalse(session.requestId().isEmpty(), "a request id is generated");
        assertEquals(1, broker.inUse("acme"));
        assertEquals(List.of(session), client.sessions());

        session.close();
        assertFalse(session.isActive());
        assertEquals(Optional.empty(), session.lossReason(), "closed, not lost");
        assertEquals(0, broker.inUse("acme"));
        session.close();
        client.close();
        assertEquals(1, broker.calls("ReleaseSession"), "released exactly once over close, close again and client close");
    }

    @Test
    void tryWithResourcesReleasesOnTheExceptionPathToo() {
        String key = broker.agent("acme", 10, "alice");
        LicenseBrokerClient client = broker.closeLater(broker.inProcessClient(key).build());
        assertThrows(IllegalStateException.class, () -> {
            try (LicenseSession session = client.acquire("laptop-1")) {
                assertTrue(session.isActive());
                assertEquals(1, broker.inUse("acme"));
                throw new IllegalStateException("the job failed");
            }
        });
        assertEquals(0, broker.inUse("acme"));
        assertEquals(1, broker.calls("ReleaseSession"));
    }

    @Test
    void theSameRequestIdNeverTakesASecondLicense() {
        String key = broker.agent("acme", 10, "alice");
        LicenseBrokerClient client = broker.closeLater(broker.inProcessClient(key).build());
        AcquireOptions job = AcquireOptions.builder().requestId("job-4711").build();

        LicenseSession first = client.acquire("laptop-1", job);
        LicenseSession again = client.acquire("laptop-1", job);
        assertEquals(first.sessionId(), again.sessionId());
        assertEquals("job-4711", first.requestId());
        assertEquals(1, broker.inUse("acme"));
    }

    @Test
    void anAcquireWhoseAnswerIsLostIsRetriedWithTheSameRequestId() {
        String key = broker.agent("acme", 10, "alice");
        LicenseBrokerClient client = broker.closeLater(broker.inProcessClient(key, TestBroker.loseFirstAnswer("AcquireSession"))
                .retryPolicy(4, Duration.ofMillis(5), Duration.ofMillis(20)).build());

        LicenseSession session = client.acquire("laptop-1");

        assertEquals(2, broker.calls("AcquireSession"), "the broker granted the first call; its answer was lost");
        assertEquals(1, broker.inUse("acme"), "the retry got the same session, not a second license");
        var listed = broker.admin().listSessions(ListSessionsRequest.newBuilder().setAccountId("acme").build()).getSessionsList();
        assertEquals(1, listed.size());
        assertEquals(session.sessionId(), listed.get(0).getSessionId());
    }

    @Test
    void atTheQuotaAcquireIsDeniedWithTheContractReason() {
        String key = broker.agent("acme", 2, "alice");
        LicenseBrokerClient client = broker.closeLater(broker.inProcessClient(key).build());
        client.acquire("m-1");
        client.acquire("m-2");

        LicenseDeniedException denied = assertThrows(LicenseDeniedException.class, () -> client.acquire("m-3"));
        assertEquals("NO_LICENSE_AVAILABLE", denied.reason());
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, denied.code());
        assertEquals(2, broker.inUse("acme"));
        assertEquals(3, broker.calls("AcquireSession"), "without waitUpTo a denial is final at once");
    }

    @Test
    void otherRefusalsAreDenialsOrFailuresAsTheContractSays() {
        broker.admin().createAccount("unsubscribed", "No subscription");
        broker.admin().upsertUser("unsubscribed", "bob", "", List.of());
        String key = broker.admin().createApiKey("unsubscribed", "bob").getApiKey();
        LicenseBrokerClient client = broker.closeLater(broker.inProcessClient(key).build());
        assertEquals("NO_SUBSCRIPTION", assertThrows(LicenseDeniedException.class, () -> client.acquire("m-1")).reason());

        LicenseBrokerClient stranger = broker.closeLater(broker.inProcessClient("lb_not-a-real-key").build());
        LicenseBrokerException e = assertThrows(LicenseBrokerException.class, () -> stranger.acquire("m-1"));
        assertFalse(e instanceof LicenseDeniedException, "bad credentials are not a license denial");
        assertEquals(Status.Code.UNAUTHENTICATED, e.code());
        assertEquals("UNAUTHENTICATED", e.reason());
    }

    @Test
    void waitingAcquireSucceedsWhenALicenseFreesUp() throws Exception {
        String key = broker.agent("acme", 1, "alice");
        LicenseBrokerClient client = broker.closeLater(broker.inProcessClient(key)
                .retryPolicy(4, Duration.ofMillis(10), Duration.ofMillis(50)).build());
        LicenseSession holder = client.acquire("m-1");

        CompletableFuture<LicenseSession> waiting = CompletableFuture.supplyAsync(
                () -> client.acquire("m-2", AcquireOptions.builder().waitUpTo(Duration.ofSeconds(30)).build()));
        broker.await("the waiting acquire was refused twice", () -> broker.calls("AcquireSession") >= 3);
        assertFalse(waiting.isDone());

        holder.close();
        LicenseSession second = waiting.get(30, TimeUnit.SECONDS);
        assertTrue(second.isActive());
        assertNotEquals(holder.sessionId(), second.sessionId());
        assertEquals(1, broker.inUse("acme"));
    }

    @Test
    void waitingAcquireGivesUpWithTheDenialWhenTheTimeIsUp() {
        String key = broker.agent("acme", 1, "alice");
        LicenseBrokerClient client = broker.closeLater(broker.inProcessClient(key)
                .retryPolicy(4, Duration.ofMillis(10), Duration.ofMillis(40)).build());
        client.acquire("m-1");
        long start = System.nanoTime();

        LicenseDeniedException denied = assertThrows(LicenseDeniedException.class,
                () -> client.acquire("m-2", AcquireOptions.builder().waitUpTo(Duration.ofMillis(300)).build()));

        assertEquals("NO_LICENSE_AVAILABLE", denied.reason());
        assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(300), "it waited the whole time");
        assertTrue(broker.calls("AcquireSession") >= 4, "it kept asking: " + broker.calls("AcquireSession"));
    }

    @Test
    void aSessionRenewsByItselfAndLosesItsLeaseVisiblyWhenAnAdminTerminatesIt() {
        String key = broker.agent("acme", 10, "alice");
        TestBroker.Recorder everySession = broker.recorder();
        TestBroker.Recorder thisSession = broker.recorder();
        LicenseBrokerClient client = broker.closeLater(broker.inProcessClient(key).leaseListener(everySession).build());
        LicenseSession session = client.acquire("m-1", AcquireOptions.builder().listener(thisSession).build());
        broker.await("three renewals", () -> session.renewCount() >= 3);
        // The count moves before the listeners run (renewals are rescheduled first), so wait for them too.
        broker.await("the session's listener hears renewals", () -> thisSession.renewals.get() >= 3);

        assertTrue(broker.admin().terminateSession(session.sessionId()).getTerminated());
        broker.await("the loss is reported", () -> !thisSession.lost.isEmpty() && !everySession.lost.isEmpty());

        assertEquals("SESSION_TERMINATED", thisSession.lost.get(session.sessionId()));
        assertEquals("SESSION_TERMINATED", everySession.lost.get(session.sessionId()), "the client's listener hears it too");
        assertFalse(session.isActive());
        assertEquals(Optional.of("SESSION_TERMINATED"), session.lossReason());
        assertEquals(List.of(), client.sessions());

        session.close();
        assertEquals(0, broker.calls("ReleaseSession"), "closing a lost session does not call the broker");
    }

    @Test
    void deactivatingTheMachineEndsItsSessions() {
        String key = broker.agent("acme", 10, "alice");
        TestBroker.Recorder recorder = broker.recorder();
        LicenseBrokerClient client = broker.closeLater(broker.inProcessClient(key).leaseListener(recorder).build());
        LicenseSession session = client.acquire("m-1");

        assertTrue(broker.admin().deactivateMachine("acme", "", "m-1").getDeactivated());
        broker.await("the loss is reported", () -> !recorder.lost.isEmpty());
        assertEquals("SESSION_TERMINATED", recorder.lost.get(session.sessionId()));
    }

    @Test
    void poolIdFollowsARevokeToTheParent() {
        broker.agent("acme", 10, "admin-user");
        String org = broker.admin().createOrganization("acme", "", "Engineering").getOrgId();
        broker.admin().setDedicatedLicenses(org, "", 5);
        String key = broker.keyOf("acme", "alice", org);
        LicenseBrokerClient client = broker.closeLater(broker.inProcessClient(key).leaseListener(broker.recorder()).build());
        LicenseSession session = client.acquire("m-1");
        assertEquals(org, session.poolId());

        broker.admin().revokeDedicatedLicenses(org, "");
        broker.await("a renewal reports the account pool", () -> session.poolId().equals("acme"));
        assertTrue(session.isActive(), "a revoke never ends a session");
    }

    @Test
    void closingTheClientReleasesEveryLiveSession() {
        String key = broker.agent("acme", 10, "alice");
        LicenseBrokerClient client = broker.inProcessClient(key).build();
        List<LicenseSession> sessions = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            sessions.add(client.acquire("m-" + i));
        }
        sessions.get(0).close();
        assertEquals(2, broker.inUse("acme"));

        client.close();
        assertEquals(0, broker.inUse("acme"));
        assertTrue(sessions.stream().noneMatch(LicenseSession::isActive));
        assertEquals(3, broker.calls("ReleaseSession"));
        assertThrows(IllegalStateException.class, () -> client.acquire("m-9"));
        client.close();
    }

    @Test
    void theLeaseRunsOutLocallyWhenNoRenewalSucceeds() {
        String key = broker.agent("acme", 10, "alice");
        TestBroker.Recorder recorder = broker.recorder();
        MutableClock clientClock = new MutableClock(Instant.now());
        // Every renewal fails in transit: the broker is as good as unreachable.
        LicenseBrokerClient client = broker.closeLater(broker.inProcessClient(key, new TestBroker.Unreachable("RenewSession"))
                .clock(clientClock).leaseListener(recorder).retryPolicy(4, Duration.ofMillis(5), Duration.ofMillis(20)).build());
        LicenseSession session = client.acquire("m-1");
        broker.await("renewals are failing", () -> broker.calls("RenewSession") >= 2);
        assertTrue(session.isActive(), "transient failures are retried while the lease lasts");

        clientClock.set(session.leaseExpiresAt());
        broker.await("the loss is reported", () -> !recorder.lost.isEmpty());
        assertEquals(LicenseSession.BROKER_UNREACHABLE, recorder.lost.get(session.sessionId()));
        assertFalse(session.isActive());
    }

    @Test
    void invalidInputIsRefusedBeforeAnyCall() {
        String key = broker.agent("acme", 10, "alice");
        LicenseBrokerClient client = broker.closeLater(broker.inProcessClient(key).build());
        assertThrows(IllegalArgumentException.class, () -> client.acquire(" "));
        assertThrows(IllegalArgumentException.class, () -> AcquireOptions.builder().requestId(""));
        assertThrows(IllegalArgumentException.class, () -> AcquireOptions.builder().waitUpTo(Duration.ofSeconds(-1)));
        LicenseBrokerException e = assertThrows(LicenseBrokerException.class, () -> client.acquire("m\u0001"));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.code());
        assertEquals("machine_id", e.field());
        assertInstanceOf(LicenseBrokerException.class, e);
        assertThrows(IllegalStateException.class, () -> LicenseBrokerClient.builder().target("x:1").build(), "an API key is required");
    }
}
