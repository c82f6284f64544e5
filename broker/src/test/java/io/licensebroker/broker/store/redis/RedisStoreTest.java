package io.licensebroker.broker.store.redis;

import com.fasterxml.jackson.databind.JsonNode;
import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AccountLedger;
import io.licensebroker.broker.core.Journal;
import io.licensebroker.broker.core.LedgerEvent;
import io.licensebroker.broker.core.Organization;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Session;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
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

    /**
     * The Redis client re-sends a command that was in flight when its connection dropped; the
     * first run may have happened. A re-sent acquire (same pre-chosen session id) must answer the
     * first run's session, not take a second license.
     */
    @Test
    void aReSentAcquireAnswersTheFirstRunInsteadOfTakingASecondLicense() {
        RedisStore store = store();
        Instant now = Instant.parse("2030-01-01T00:00:00Z");
        assertTrue(join(store.createAccount(new Account("AC-1", "One"))).isGranted());
        assertTrue(join(store.setSubscription("AC-1", "KRE", 2, 10, now.plus(Duration.ofDays(30)), now)).isGranted());
        assertTrue(join(store.upsertUser("AC-1", "u", null, List.of())).isGranted());
        AcquireRequest once = new AcquireRequest("KRE", "u", "m", "", "AC-1.aaaaaaaaaaaaaaaaaaaaaaaaaa", now, now.plusSeconds(60));
        Session first = join(store.acquire("AC-1", once)).value();
        Session again = join(store.acquire("AC-1", once)).value();
        assertEquals(first, again);
        assertEquals(1, join(store.usage("AC-1", "KRE", now)).value().row("AC-1").inUse(), "one license, not two");

        assertTrue(join(store.terminate("AC-1", first.id(), now)).value());
        Decision<Session> afterEnd = join(store.acquire("AC-1", once));
        assertEquals(Reason.SESSION_TERMINATED, ((Decision.Denied<Session>) afterEnd).reason(), "the first run's session ended");
        assertEquals(0, join(store.usage("AC-1", "KRE", now)).value().row("AC-1").inUse());
    }

    /**
     * The same for the changes that are not idempotent by themselves: the store gives each call an
     * operation id, and a re-run of a script with the same id (what a re-send is) answers the first
     * run's reply instead of "already released", "already exists" and the like.
     */
    @Test
    void reSentChangesAnswerWhatTheirFirstRunDid() {
        RedisStore store = store();
        Instant now = Instant.parse("2030-01-01T00:00:00Z");
        String config = AccountConfigs.encode("AC-1", List.of(new LedgerEvent.AccountCreated(new Account("AC-1", "One"))));
        String create = "{\"name\":\"One\",\"config\":\"" + config + "\",\"version\":\"v1\"}";
        assertEquals("ok", replay(Script.ACCOUNT_CREATE, "AC-1", "op-1", now, create).path("outcome").asText());
        assertEquals("ok", replay(Script.ACCOUNT_CREATE, "AC-1", "op-1", now, create).path("outcome").asText(), "re-sent");
        assertEquals(Reason.ALREADY_EXISTS, ((Decision.Denied<Account>) join(store.createAccount(new Account("AC-1", "One")))).reason(),
                "a second createAccount is still refused");
        assertTrue(join(store.setSubscription("AC-1", "KRE", 2, 10, now.plus(Duration.ofDays(30)), now)).isGranted());
        assertTrue(join(store.upsertUser("AC-1", "u", null, List.of())).isGranted());

        // A change applied at the version it was computed from; its re-send is not "out of date".
        String version = replay(Script.OBSERVE, "AC-1", "", now, "{\"version\":\"\",\"product\":\"\",\"pools\":[],\"machines\":[]}")
                .path("version").asText();
        List<LedgerEvent> withOrg = new ArrayList<>(AccountLedger.ofConfiguration("AC-1", List.of(
                new LedgerEvent.AccountCreated(new Account("AC-1", "One"))), Journal.NONE).exportConfiguration());
        withOrg.add(new LedgerEvent.OrganizationCreated(new Organization("OG-900", "AC-1", null, "Org")));
        String apply = "{\"version\":\"" + version + "\",\"new_version\":\"v-next\",\"config\":\""
                + AccountConfigs.encode("AC-1", withOrg) + "\"}";
        JsonNode first = replay(Script.APPLY, "AC-1", "op-2", now, apply);
        assertEquals("ok", first.path("outcome").asText());
        assertEquals(first, replay(Script.APPLY, "AC-1", "op-2", now, apply), "re-sent");
        assertEquals("stale", replay(Script.APPLY, "AC-1", "op-3", now, apply).path("outcome").asText(), "a new call at the old version");
        assertEquals(List.of("OG-900"), join(store.organizations("AC-1")).value().stream().map(o -> o.id()).toList());
    }

    @Test
    void aReSentReleaseAnswersThatItReleased() {
        RedisStore store = store();
        Instant now = Instant.parse("2030-01-01T00:00:00Z");
        assertTrue(join(store.createAccount(new Account("AC-2", "Two"))).isGranted());
        assertTrue(join(store.setSubscription("AC-2", "KRE", 2, 10, now.plus(Duration.ofDays(30)), now)).isGranted());
        assertTrue(join(store.upsertUser("AC-2", "u", null, List.of())).isGranted());
        Session session = join(store.acquire("AC-2", new AcquireRequest("KRE", "u", "m", "", "AC-2.bbbbbbbbbbbbbbbbbbbbbbbbbb",
                now, now.plusSeconds(60)))).value();
        String release = "{\"sid\":\"" + Ids.sessionName(session.id()) + "\",\"user\":\"u\",\"cause\":\"\"}";
        assertEquals("1", replay(Script.RELEASE, "AC-2", "op-3", now, release).path("ended").asText());
        assertEquals("1", replay(Script.RELEASE, "AC-2", "op-3", now, release).path("ended").asText(), "re-sent: it did release");
        assertEquals("0", replay(Script.RELEASE, "AC-2", "op-4", now, release).path("ended").asText(), "a second release");
        assertEquals(0, join(store.usage("AC-2", "KRE", now)).value().row("AC-2").inUse());
        assertFalse(join(store.release("AC-2", session.id(), "u", now)).value());
    }

    /** Runs {@code script} as the store would, with the operation id {@code op}; answers the verb's reply. */
    private static JsonNode replay(Script script, String accountId, String op, Instant now, String request) {
        String common = "{\"time\":\"C\",\"now\":\"" + now.toEpochMilli() + "\",\"tombstone\":\"600000\",\"node\":\"test-node\","
                + "\"known\":\"0\",\"learn\":\"0\",\"op\":\"" + op + "\",\"op_ms\":\"60000\"}";
        String[] reply = new String[1];
        REDIS.server().with(c -> reply[0] = c.sync().eval(script.body(), ScriptOutputType.VALUE,
                new String[]{Keys.account(accountId)}, common, request));
        try {
            return ScriptRunner.JSON.readTree(reply[0]).path("reply");
        } catch (Exception e) {
            throw new AssertionError(reply[0], e);
        }
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
