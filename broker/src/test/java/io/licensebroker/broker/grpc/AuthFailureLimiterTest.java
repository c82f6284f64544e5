package io.licensebroker.broker.grpc;

import com.github.benmanes.caffeine.cache.Ticker;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.licensebroker.broker.store.memory.MemoryStore;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.ListAccountsRequest;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.broker.testing.InProcessServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static io.licensebroker.broker.grpc.Refusals.assertRefused;
import static io.licensebroker.broker.grpc.Refusals.assertUnauthenticated;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Failed authentications are counted per key (per address for non-broker tokens); past the limit
 * further failures under the key are refused RESOURCE_EXHAUSTED TOO_MANY_FAILED_AUTHENTICATIONS until
 * a quiet minute has passed, while a correct token is always accepted. Time is a fake ticker: no sleeping.
 */
final class AuthFailureLimiterTest {
    private static final int LIMIT = 20;

    private final AtomicLong nanos = new AtomicLong(1);
    private final Ticker ticker = nanos::get;
    private final ControllableStore store = new ControllableStore(MemoryStore.volatileStore(Duration.ofMinutes(10)));
    private final World world = World.over(store.store());
    private final InProcessServer server;
    private final ManagedChannel channel;

    AuthFailureLimiterTest() throws Exception {
        world.account("acme", 10, 10);
        world.aliceKey = world.userKey("acme", "alice", null);
        world.bobKey = world.userKey("acme", "bob", null);
        server = InProcessServer.serve(BrokerServer.contractServices(world.service, AcquireObserver.NONE, new AuthFailureLimiter(LIMIT, ticker)));
        channel = server.channel();
    }

    @AfterEach
    void stop() {
        server.close();
        world.close();
    }

    @Test
    void aGuessedKeyIsRefusedToTheGuesserButItsHolderIsStillAccepted() {
        String wrongSecret = flipLast(world.aliceKey);
        for (int i = 0; i < LIMIT; i++) {
            assertUnauthenticated(() -> renew(wrongSecret));
        }
        assertRefused(Status.Code.RESOURCE_EXHAUSTED, "TOO_MANY_FAILED_AUTHENTICATIONS", () -> renew(wrongSecret));
        // The guesser knows alice's lookup id, yet alice, who holds the whole key, is never locked out.
        assertAuthenticated(() -> renew(world.aliceKey));
        assertRefused(Status.Code.RESOURCE_EXHAUSTED, "TOO_MANY_FAILED_AUTHENTICATIONS", () -> renew(wrongSecret));
        assertAuthenticated(() -> renew(world.bobKey));

        // Refusals are not counted: a quiet minute after the last counted failure ends the cool-down.
        nanos.addAndGet(AuthFailureLimiter.WINDOW.minusSeconds(1).toNanos());
        assertRefused(Status.Code.RESOURCE_EXHAUSTED, "TOO_MANY_FAILED_AUTHENTICATIONS", () -> renew(wrongSecret));
        nanos.addAndGet(Duration.ofSeconds(2).toNanos());
        assertUnauthenticated(() -> renew(wrongSecret));
    }

    @Test
    void aGarbageFloodFromOneAddressNeverLocksOutTheBootstrapTokenOrAKeyFromThatAddress() {
        // The bootstrap token is not a broker-format token: its failures are counted per address,
        // with every garbage token from there. Before the fix this flood locked it out.
        for (int i = 0; i < 3 * LIMIT; i++) {
            String garbage = "garbage-" + i;
            if (i < LIMIT) {
                assertUnauthenticated(() -> admin(garbage).listAccounts(ListAccountsRequest.getDefaultInstance()));
            } else {
                assertRefused(Status.Code.RESOURCE_EXHAUSTED, "TOO_MANY_FAILED_AUTHENTICATIONS",
                        () -> admin(garbage).listAccounts(ListAccountsRequest.getDefaultInstance()));
            }
        }
        assertEquals(1, admin(World.ROOT).listAccounts(ListAccountsRequest.getDefaultInstance()).getAccountsCount(),
                "the bootstrap SUPER_ADMIN token from the flooding address is accepted");
        assertAuthenticated(() -> renew(world.aliceKey));
        // And the guesser is still refused, before and after the good callers.
        assertRefused(Status.Code.RESOURCE_EXHAUSTED, "TOO_MANY_FAILED_AUTHENTICATIONS", () -> renew("one-more-guess"));
        assertRefused(Status.Code.RESOURCE_EXHAUSTED, "TOO_MANY_FAILED_AUTHENTICATIONS", () -> renew(flipLast(World.ROOT)));
    }

    @Test
    void garbageTokensAreCountedPerAddressAndAdminCallsShareTheCount() {
        for (int i = 0; i < LIMIT / 2; i++) {
            assertUnauthenticated(() -> renew("not-a-broker-token-" + nanos.get()));
            assertUnauthenticated(() -> admin("also-not-a-token").listAccounts(ListAccountsRequest.getDefaultInstance()));
        }
        assertRefused(Status.Code.RESOURCE_EXHAUSTED, "TOO_MANY_FAILED_AUTHENTICATIONS", () -> renew("yet-another-guess"));
        // Broker keys are counted by their own lookup id, so a real key from the same address still works.
        assertAuthenticated(() -> renew(world.aliceKey));
    }

    @Test
    void successesAndFailuresSpreadOverTimeDoNotLock() {
        for (int i = 0; i < 5 * LIMIT; i++) {
            assertAuthenticated(() -> renew(world.aliceKey));
        }
        String wrong = flipLast(world.bobKey);
        for (int i = 0; i < 3 * LIMIT; i++) {
            assertUnauthenticated(() -> renew(wrong));
            nanos.addAndGet(AuthFailureLimiter.WINDOW.plusSeconds(1).toNanos());
        }
        assertAuthenticated(() -> renew(world.bobKey));
    }

    private void renew(String token) {
        World.withAuthorization(LicenseBrokerGrpc.newBlockingStub(channel), "Bearer " + token)
                .renewSession(RenewSessionRequest.newBuilder().setSessionId("acme.no-such-session").build());
    }

    private LicenseAdminGrpc.LicenseAdminBlockingStub admin(String token) {
        return World.withAuthorization(LicenseAdminGrpc.newBlockingStub(channel), "Bearer " + token);
    }

    /** Authentication passed: the call got as far as the session lookup (which finds nothing). */
    private static void assertAuthenticated(org.junit.jupiter.api.function.Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertNotEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode(), e.toString());
        assertNotEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.toString());
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), e.toString());
    }

    private static String flipLast(String token) {
        char last = token.charAt(token.length() - 1);
        return token.substring(0, token.length() - 1) + (last == 'a' ? 'b' : 'a');
    }
}
