package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.StoreObserver;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The embedded store reports each lease that runs out exactly once, however it is noticed, and never again at recovery. */
final class MemoryStoreObserverTest {
    private static final Duration TTL = Duration.ofSeconds(60);
    private final MutableClock clock = MutableClock.at("2030-01-01T00:00:00Z");
    private final AtomicInteger expired = new AtomicInteger();
    private final StoreObserver observer = new StoreObserver() {
        @Override
        public void sessionsExpired(int count) {
            expired.addAndGet(count);
        }
    };

    @TempDir
    Path dir;

    @Test
    void everyExpiryIsReportedOnceByReaperAcquireOrRenew() {
        try (MemoryStore store = open()) {
            account(store, "a");
            account(store, "b");
            Session lateRenewal = acquire(store, "a");
            acquire(store, "a");
            acquire(store, "b");
            acquire(store, "b");
            acquire(store, "b");
            clock.advance(TTL);

            // renew of a lapsed lease ends it on the spot
            Decision<Session> renewed = join(store.renew("a", lateRenewal.id(), "u", clock.instant(), clock.instant().plus(TTL)));
            assertTrue(renewed instanceof Decision.Denied<Session> d && d.reason() == Reason.SESSION_EXPIRED);
            assertEquals(1, expired.get());
            // an acquire frees the account's lapsed licenses first
            acquire(store, "a");
            assertEquals(2, expired.get());
            // the reaper gets the rest
            assertEquals(3, (int) join(store.expireLeases(clock.instant())));
            assertEquals(5, expired.get());
            assertEquals(0, (int) join(store.expireLeases(clock.instant())));
            assertEquals(5, expired.get(), "each expiry is reported once");
            // releases and terminations are not expiries
            Session released = acquire(store, "b");
            join(store.release("b", released.id(), "u", clock.instant()));
            join(store.terminate("a", acquire(store, "a").id(), clock.instant()));
            assertEquals(5, expired.get());
        }
        // Recovery replays the journal (with its expiries) without reporting them again.
        try (MemoryStore reopened = open()) {
            assertEquals(5, expired.get());
            assertEquals(List.of(), reopened.invariantViolations());
        }
    }

    private MemoryStore open() {
        return MemoryStore.open(dir, false, Duration.ofMinutes(10), Long.MAX_VALUE, clock.instant().plus(TTL), observer);
    }

    private void account(MemoryStore store, String id) {
        join(store.createAccount(new Account(id, id)));
        join(store.setSubscription(id, "KRE", 100, 100, clock.instant().plus(Duration.ofDays(30)), clock.instant()));
        join(store.upsertUser(id, "u", null, List.of()));
    }

    private Session acquire(MemoryStore store, String account) {
        AcquireRequest r = new AcquireRequest("KRE", "u", "m", "", Ids.newSessionId(account, new SecureRandom()),
                clock.instant(), clock.instant().plus(TTL));
        return join(store.acquire(account, r)).value();
    }

    private static <T> T join(CompletionStage<T> stage) {
        return stage.toCompletableFuture().join();
    }
}
