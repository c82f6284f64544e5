package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.Activation;
import io.licensebroker.broker.core.ActivationRequest;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.LicenseModel;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.LicensedUser;
import io.licensebroker.broker.core.Page;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.SeatQuery;
import io.licensebroker.broker.testing.UsageInvariants;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static io.licensebroker.broker.testing.StoreTarget.join;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seats under contention on two Redis store nodes sharing one server: every call is in flight at
 * once, half on each node, and the answers are exact (no oversubscribed pool, no second lease or
 * binding of one seat, and no StoreUnavailableException: a node queues its own changes of an
 * account, so only the other node's changes make it try again).
 */
class RedisSeatConcurrencyTest {
    private static final String PRODUCT = "KSE";
    private static final Duration TTL = Duration.ofSeconds(60);
    private static final int CALLS = 200;
    private static final SecureRandom RANDOM = new SecureRandom();
    @RegisterExtension
    static final SharedRedis REDIS = new SharedRedis("redis-seat-concurrency");

    private final MutableClock clock = MutableClock.at("2030-01-01T00:00:00Z");
    private final List<RedisStore> nodes = new ArrayList<>();

    @BeforeEach
    void start() {
        nodes.add(RedisStore.connect(RedisStoreContractTest.options(REDIS.uri())));
        nodes.add(RedisStore.connect(RedisStoreContractTest.options(REDIS.uri())));
    }

    @AfterEach
    void stop() {
        nodes.forEach(RedisStore::close);
    }

    @Test
    void twoHundredGrantsAgainstFiftySeatsGrantExactlyFifty() {
        for (LicenseModel model : List.of(LicenseModel.FLOATING, LicenseModel.NODE_LOCKED)) {
            String a = account("AC-grants-" + model, model, 50, CALLS);
            List<CompletableFuture<Decision<LicensedUser>>> calls = new ArrayList<>();
            for (int i = 0; i < CALLS; i++) {
                calls.add(node(i).grantLicense(a, PRODUCT, "u" + i, null, now()).toCompletableFuture());
            }
            Map<String, Integer> outcomes = outcomes(calls);
            assertEquals(Map.of("granted", 50, Reason.INSUFFICIENT_LICENSES.name(), 150), outcomes, model.name());
            LicenseUsage usage = ok(node(0).usage(a, PRODUCT, now()));
            assertEquals(List.of(), UsageInvariants.violations(usage));
            assertEquals(50, usage.row(a).inUse());
            assertEquals(usage, ok(node(1).usage(a, PRODUCT, now())), "the same usage from either node");
            assertEquals(50, licensedUsers(a));
        }
    }

    @Test
    void twoHundredFloatingActivationsOfOneSeatStartOneLease() {
        String a = account("AC-float", LicenseModel.FLOATING, 5, 1);
        ok(node(0).grantLicense(a, PRODUCT, "u0", null, now()));
        List<CompletableFuture<Decision<Activation>>> calls = activateFromEveryMachine(a, false);
        assertEquals(Map.of("granted", 1, Reason.SEAT_IN_USE.name(), CALLS - 1), outcomes(calls));
        Activation winner = calls.stream().map(f -> join(f)).filter(Decision::isGranted).findFirst().orElseThrow().value();
        assertEquals(List.of(winner), ok(node(1).activations(a, new SeatQuery(PRODUCT, null, null, 500, null), now())).items());
        LicenseUsage usage = ok(node(0).usage(a, PRODUCT, now()));
        assertEquals(1, usage.registeredMachines(), "only the winner's machine is registered");
        assertEquals(1, usage.row(a).inUse());
        assertEquals(List.of(), UsageInvariants.violations(usage));
    }

    @Test
    void twoHundredFloatingTakeOversOfOneSeatLeaveOneLiveLease() {
        String a = account("AC-take", LicenseModel.FLOATING, 5, 1);
        ok(node(0).grantLicense(a, PRODUCT, "u0", null, now()));
        List<CompletableFuture<Decision<Activation>>> calls = activateFromEveryMachine(a, true);
        assertEquals(Map.of("granted", CALLS), outcomes(calls), "each one took the seat over from the one before");
        List<Activation> live = ok(node(1).activations(a, new SeatQuery(PRODUCT, null, null, 500, null), now())).items();
        assertEquals(1, live.size());
        int renewed = 0;
        for (CompletableFuture<Decision<Activation>> call : calls) {
            Activation act = join(call).value();
            Decision<?> renew = join(node(renewed).renew(a, act.activationId(), "u0", now(), now().plus(TTL)));
            if (renew.isGranted()) {
                assertEquals(live.get(0).activationId(), act.activationId());
                renewed++;
            } else {
                assertEquals(Reason.SESSION_TERMINATED, ((Decision.Denied<?>) renew).reason(), "a lease taken over");
            }
        }
        assertEquals(1, renewed, "exactly one lease lives");
        LicenseUsage usage = ok(node(0).usage(a, PRODUCT, now()));
        assertEquals(1, usage.row(a).inUse());
        assertEquals(List.of(), UsageInvariants.violations(usage));
    }

    @Test
    void twoHundredNodeLockedActivationsOfOneSeatBindOneMachine() {
        String a = account("AC-node", LicenseModel.NODE_LOCKED, 5, 1);
        ok(node(0).grantLicense(a, PRODUCT, "u0", null, now()));
        List<CompletableFuture<Decision<Activation>>> calls = activateFromEveryMachine(a, false);
        assertEquals(Map.of("granted", 1, Reason.SEAT_IN_USE.name(), CALLS - 1), outcomes(calls));
        Activation binding = calls.stream().map(f -> join(f)).filter(Decision::isGranted).findFirst().orElseThrow().value();
        assertNull(binding.leaseExpiresAt());
        assertEquals(List.of(binding), ok(node(1).activations(a, new SeatQuery(PRODUCT, null, null, 500, null), now())).items());
        LicenseUsage usage = ok(node(0).usage(a, PRODUCT, now()));
        assertEquals(1, usage.registeredMachines(), "only the bound machine is registered");
        assertEquals(1, usage.row(a).inUse());
        assertEquals(List.of(), UsageInvariants.violations(usage));
    }

    // ---------------------------------------------------------------- helpers

    private String account(String id, LicenseModel model, long licenses, int users) {
        ok(node(0).createAccount(new Account(id, id)));
        ok(node(0).setSubscription(id, PRODUCT, licenses, 1_000, now().plus(Duration.ofDays(30)), model, now()));
        for (int i = 0; i < users; i++) {
            ok(node(i).upsertUser(id, "u" + i, null, List.of()));
        }
        return id;
    }

    private List<CompletableFuture<Decision<Activation>>> activateFromEveryMachine(String a, boolean takeOver) {
        List<CompletableFuture<Decision<Activation>>> calls = new ArrayList<>();
        for (int i = 0; i < CALLS; i++) {
            ActivationRequest r = new ActivationRequest(PRODUCT, "u0", "m" + i, "", takeOver, Ids.newSessionId(a, RANDOM), now(),
                    now().plus(TTL));
            calls.add(node(i).activate(a, r).toCompletableFuture());
        }
        return calls;
    }

    private long licensedUsers(String a) {
        long count = 0;
        String token = null;
        do {
            Page<LicensedUser> page = ok(node(1).licensedUsers(a, new SeatQuery(PRODUCT, null, null, 7, token), now()));
            count += page.items().size();
            token = page.nextPageToken();
        } while (token != null);
        return count;
    }

    /** How many calls were granted, and refused by reason; a call that failed fails the test. */
    private static <T> Map<String, Integer> outcomes(List<CompletableFuture<Decision<T>>> calls) {
        Map<String, Integer> out = new TreeMap<>();
        for (CompletableFuture<Decision<T>> call : calls) {
            Decision<T> d = join(call);
            out.merge(d instanceof Decision.Denied<T> denied ? denied.reason().name() : "granted", 1, Integer::sum);
        }
        return out;
    }

    private RedisStore node(int i) {
        return nodes.get(i % nodes.size());
    }

    private Instant now() {
        return clock.instant();
    }

    private static <T> T ok(CompletionStage<Decision<T>> stage) {
        Decision<T> d = join(stage);
        assertTrue(d.isGranted(), "expected granted, got " + d);
        return d.value();
    }
}
