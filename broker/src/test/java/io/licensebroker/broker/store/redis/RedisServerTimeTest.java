package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.core.Principal;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Role;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.offline.Ed25519Signer;
import io.licensebroker.testkit.Await;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RedisStore.TimeSource#SERVER}: two nodes whose clocks are ten minutes apart share one
 * Redis and agree on every lease, because leases are timed by the Redis server's clock. The node
 * whose clock runs ahead does not reap a live session, the one whose clock runs behind does not
 * keep an expired one.
 */
class RedisServerTimeTest {
    private static final Duration LEASE = Duration.ofSeconds(2);
    @RegisterExtension
    static final SharedRedis REDIS = new SharedRedis("redis-server-time");
    private RedisStore behindStore;
    private RedisStore aheadStore;

    @AfterEach
    void closeStores() {
        if (behindStore != null) {
            behindStore.close();
        }
        if (aheadStore != null) {
            aheadStore.close();
        }
    }

    @Test
    void nodesWithSkewedClocksAgreeOnLeaseExpiry() {
        RedisStoreOptions options = RedisStoreOptions.builder(REDIS.uri()).commandTimeout(Duration.ofSeconds(5)).build();
        behindStore = RedisStore.connect(options);
        aheadStore = RedisStore.connect(options);
        Instant realNow = Instant.now();
        LicenseService behind = service(behindStore, new MutableClock(realNow.minus(Duration.ofMinutes(5))));
        LicenseService ahead = service(aheadStore, new MutableClock(realNow.plus(Duration.ofMinutes(5))));
        String account = "AC-skew";
        ok(behind.createAccount(account, "Skew"));
        ok(behind.setSubscription(account, "KRE", 5, 5, realNow.plus(Duration.ofDays(30))));
        ok(behind.upsertUser(account, "u", null, List.of()));
        Principal agent = new Principal(Role.AGENT, account, "u");

        Instant serverBefore = serverTime();
        Session session = ok(ahead.acquire(agent, "KRE", "m", ""));
        Instant serverAfter = serverTime();
        assertBetween(serverBefore, session.startedAt(), serverAfter, "started by the server's clock, not the node's");
        assertBetween(serverBefore.plus(LEASE), session.leaseExpiresAt(), serverAfter.plus(LEASE), "leased by the server's clock");

        // The node whose clock is five minutes past the lease end reaps nothing: the lease is live.
        assertEquals(0, join(ahead.reapExpiredLeases()));
        assertEquals(0, join(behind.reapExpiredLeases()));
        Session renewed = ok(behind.renew(agent, session.id()));
        assertFalse(renewed.leaseExpiresAt().isBefore(session.leaseExpiresAt()), "renewal never shortens the lease");
        assertTrue(renewed.leaseExpiresAt().isBefore(realNow.plus(Duration.ofMinutes(1))),
                "renewed by the server's clock, not the node's: " + renewed.leaseExpiresAt());

        // Once the server's clock passes the lease, the node whose clock is five minutes behind reaps it.
        Await.until(LEASE.plusSeconds(8), () -> join(behind.reapExpiredLeases()) == 1, () -> "reaped by the node that runs behind");
        Decision<Session> late = join(ahead.renew(agent, session.id()));
        assertEquals(Reason.SESSION_EXPIRED, ((Decision.Denied<Session>) late).reason());
    }

    private static LicenseService service(RedisStore store, MutableClock clock) {
        return new LicenseService(store, clock, LEASE, Ed25519Signer.generate(), new SecureRandom(), null);
    }

    private static Instant serverTime() {
        Instant[] out = new Instant[1];
        REDIS.server().with(c -> {
            List<String> t = c.sync().time();
            out[0] = Instant.ofEpochSecond(Long.parseLong(t.get(0)), Long.parseLong(t.get(1)) * 1_000);
        });
        return out[0];
    }

    private static void assertBetween(Instant low, Instant actual, Instant high, String what) {
        // the store keeps milliseconds
        Instant lowMs = Instant.ofEpochMilli(low.toEpochMilli());
        assertTrue(!actual.isBefore(lowMs) && !actual.isAfter(high), what + ": " + actual + " not in [" + lowMs + ", " + high + "]");
    }

    private static <T> T ok(CompletionStage<Decision<T>> stage) {
        Decision<T> d = join(stage);
        assertTrue(d.isGranted(), d.toString());
        return d.value();
    }

    private static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
