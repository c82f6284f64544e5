package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.Session;
import io.licensebroker.testkit.MutableClock;
import io.lettuce.core.ScoredValue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reap index: it holds exactly the accounts with live sessions, each at its earliest lease
 * end, so a reaping pass visits only accounts with something due; and when an entry is lost (a
 * node died between a session's start and its index write) the periodic re-index restores it.
 */
class ReapIndexTest {
    private static final Duration TTL = Duration.ofSeconds(60);
    private static final SecureRandom RANDOM = new SecureRandom();
    @RegisterExtension
    static final SharedRedis REDIS = new SharedRedis("redis-reap-index");
    private final MutableClock clock = MutableClock.at("2030-01-01T00:00:00Z");
    private final List<RedisStore> stores = new ArrayList<>();

    @AfterEach
    void close() {
        stores.forEach(RedisStore::close);
    }

    @Test
    void theIndexHoldsEachAccountsEarliestLeaseAndOnlyWhatIsDueIsVisited() {
        RedisStore store = store(Duration.ofHours(1));
        Instant t0 = clock.instant();
        for (String a : List.of("AC-a", "AC-b", "AC-idle")) {
            account(store, a);
        }
        acquire(store, "AC-a");
        clock.advance(Duration.ofSeconds(30));
        acquire(store, "AC-b");
        acquire(store, "AC-a");
        assertEquals(Map.of("AC-a", t0.plus(TTL).toEpochMilli(), "AC-b", t0.plusSeconds(30).plus(TTL).toEpochMilli()), index(),
                "each account at its earliest lease end; an account without sessions is not indexed");

        clock.set(t0.plus(TTL));
        assertEquals(1, join(store.expireLeases(clock.instant())));
        assertEquals(Map.of("AC-a", t0.plusSeconds(30).plus(TTL).toEpochMilli(), "AC-b", t0.plusSeconds(30).plus(TTL).toEpochMilli()), index(),
                "AC-a moves on to its next lease; AC-b, not due, is untouched");
        clock.set(t0.plusSeconds(30).plus(TTL));
        assertEquals(2, join(store.expireLeases(clock.instant())));
        assertEquals(Map.of(), index(), "no live session, no entry");
    }

    @Test
    void aLostIndexEntryIsRestoredByThePeriodicReindex() {
        RedisStore first = store(Duration.ofHours(1));
        account(first, "AC-lost");
        Session s = acquire(first, "AC-lost");
        assertEquals(0, join(first.expireLeases(clock.instant())), "this pass also did the store's first re-index");
        // As if the node had died right after the acquire script, before writing the index.
        REDIS.server().with(c -> c.sync().del("lb:{@g}:due"));
        clock.advance(TTL);
        assertEquals(0, join(first.expireLeases(clock.instant())), "without its entry the account is not visited");
        assertEquals(1, join(first.usage("AC-lost", "KRE", clock.instant())).value().rows().get(0).inUse());

        // Any node's next re-index (here a node that just started) finds it again.
        RedisStore other = store(Duration.ofHours(1));
        assertEquals(1, join(other.expireLeases(clock.instant())));
        assertEquals(0, join(first.usage("AC-lost", "KRE", clock.instant())).value().rows().get(0).inUse());
        Decision<Session> renew = join(first.renew("AC-lost", s.id(), "u", clock.instant(), clock.instant().plus(TTL)));
        assertTrue(renew instanceof Decision.Denied<Session> d && d.reason() == io.licensebroker.broker.core.Reason.SESSION_EXPIRED, renew.toString());
    }

    private RedisStore store(Duration reindexEvery) {
        RedisStore store = RedisStore.connect(RedisStoreContractTest.options(REDIS.uri()).toBuilder().reindexEvery(reindexEvery).build());
        stores.add(store);
        return store;
    }

    private void account(RedisStore store, String id) {
        assertTrue(join(store.createAccount(new Account(id, id))).isGranted());
        assertTrue(join(store.setSubscription(id, "KRE", 10, 10, clock.instant().plus(Duration.ofDays(30)), clock.instant())).isGranted());
        assertTrue(join(store.upsertUser(id, "u", null, List.of())).isGranted());
    }

    private Session acquire(RedisStore store, String account) {
        Decision<Session> d = join(store.acquire(account, new AcquireRequest("KRE", "u", "m", "", Ids.newSessionId(account, RANDOM),
                clock.instant(), clock.instant().plus(TTL))));
        assertTrue(d.isGranted(), d.toString());
        return d.value();
    }

    private static Map<String, Long> index() {
        Map<String, Long> out = new LinkedHashMap<>();
        REDIS.server().with(c -> {
            for (ScoredValue<String> v : c.sync().zrangeWithScores("lb:{@g}:due", 0, -1)) {
                out.put(v.getValue(), (long) v.getScore());
            }
        });
        return out;
    }

    private static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
