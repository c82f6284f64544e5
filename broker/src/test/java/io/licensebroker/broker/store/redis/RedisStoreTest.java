package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.Reason;
import io.lettuce.core.RedisURI;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the Redis store does beyond the store contract. */
class RedisStoreTest {
    @RegisterExtension
    static final SharedRedis REDIS = new SharedRedis("redis-store");
    private final List<RedisStore> stores = new ArrayList<>();

    @AfterEach
    void close() {
        stores.forEach(RedisStore::close);
    }

    private RedisStore store() {
        RedisStore store = RedisStore.connect(RedisStoreContractTest.options(REDIS.uri()));
        stores.add(store);
        return store;
    }

    @Test
    void aSharedValueIsSetOnceAndEveryNodeReadsTheSame() {
        RedisStore first = store();
        RedisStore second = store();
        assertEquals("first", join(first.sharedValue("k", () -> "first")));
        assertEquals("first", join(second.sharedValue("k", () -> "second")));
        assertEquals("first", join(first.sharedValue("k", () -> "third")));
    }

    @Test
    void scriptsTheServerForgotAreSentAgain() {
        RedisStore store = store();
        assertTrue(join(store.createAccount(new Account("AC-1", "One"))).isGranted());
        REDIS.server().with(c -> c.sync().scriptFlush());
        assertEquals(PolicySettings.DEFAULT, join(store.policy("AC-1")).value());
        assertTrue(join(store.createAccount(new Account("AC-2", "Two"))).isGranted());
        assertEquals(List.of(new Account("AC-1", "One"), new Account("AC-2", "Two")), join(store.accounts()));
    }

    @Test
    void accountIdsThatWouldBreakTheHashTagAreRefused() {
        RedisStore store = store();
        for (String id : List.of("a{b", "a}b", "")) {
            Decision<Account> d = join(store.createAccount(new Account(id, "x")));
            assertEquals(Reason.INVALID_ARGUMENT, ((Decision.Denied<Account>) d).reason(), id);
        }
        assertEquals(List.of(), join(store.accounts()));
    }

    @Test
    void aSingleServerIsNotACluster() {
        RedisStore store = store();
        assertFalse(store.isCluster());
        assertTrue(join(store.probe()));
        assertTrue(store.isAvailable());
    }

    @Test
    void seedsWithoutASchemeBorrowTheFirstOne() {
        List<RedisURI> seeds = RedisLink.parse("rediss://a:7000, b:7001,c:7002");
        assertEquals(3, seeds.size());
        for (RedisURI seed : seeds) {
            assertTrue(seed.isSsl(), seed.toString());
        }
        assertEquals(List.of("a", "b", "c"), seeds.stream().map(RedisURI::getHost).toList());
        assertEquals(List.of(7000, 7001, 7002), seeds.stream().map(RedisURI::getPort).toList());
        assertEquals("b", RedisLink.parse("b:6380").get(0).getHost());
    }

    private static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
