package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.DenialQuery;
import io.licensebroker.broker.core.DenialRow;
import io.licensebroker.broker.core.HistoryQuery;
import io.licensebroker.broker.core.HistoryStep;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.LicenseModel;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.core.Organization;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.UsagePoint;
import io.licensebroker.broker.core.UsagePolicy;
import io.licensebroker.broker.core.UsageSeries;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.licensebroker.broker.store.StoreSuite.join;
import static io.licensebroker.broker.store.StoreSuite.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two broker nodes (two stores) on one Redis serving one account: the history either node answers
 * is the same, its peaks are those of the combined load (each node alone never held that many),
 * and every key the history writes expires by itself within its step's retention.
 */
class RedisHistoryAcrossNodesTest {
    @RegisterExtension
    static final SharedRedis REDIS = new SharedRedis("redis-history-nodes");
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration LEASE = Duration.ofDays(7);

    private final MutableClock clock = MutableClock.at("2030-03-01T10:00:05Z");
    private RedisStore one;
    private RedisStore two;

    @BeforeEach
    void nodes() {
        one = RedisStore.connect(RedisStoreContractTest.options(REDIS.uri()));
        two = RedisStore.connect(RedisStoreContractTest.options(REDIS.uri()));
    }

    @AfterEach
    void close() {
        one.close();
        two.close();
    }

    private Instant now() {
        return clock.instant();
    }

    private Decision<Session> acquire(LicenseStore node, String account, String user) {
        return join(node.acquire(account, new AcquireRequest("KRE", user, "m-" + user, "", Ids.newSessionId(account, RANDOM),
                now(), now().plus(LEASE))));
    }

    private List<UsageSeries> history(LicenseStore node, String account, HistoryStep step) {
        return ok(node.usageHistory(account, new HistoryQuery("KRE", null, Instant.parse("2030-03-01T00:00:00Z"),
                Instant.parse("2030-03-03T00:00:00Z"), step), now()));
    }

    private static List<Long> peaks(UsageSeries s) {
        return s.points().stream().map(UsagePoint::peakInUse).toList();
    }

    @Test
    void bothNodesAnswerTheSameHistoryWithThePeakOfTheCombinedLoad() {
        String account = "AC-nodes";
        ok(one.createAccount(new Account(account, "Two nodes")));
        ok(two.setSubscription(account, "KRE", 6, 100, now().plus(Duration.ofDays(365)), now()));
        Organization a = ok(one.createOrganization(account, null, "A"));
        ok(two.setDedicated(account, a.id(), "KRE", 4, now()));
        ok(one.setPolicy(account, new PolicySettings(UsagePolicy.STRICT, false)));
        for (int i = 0; i < 8; i++) {
            ok((i % 2 == 0 ? one : two).upsertUser(account, "u" + i, i < 6 ? a.id() : null, List.of()));
        }
        // 10:00: six users of A, alternating nodes: four granted (2 by each), two refused (one by each).
        Map<String, Session> held = new HashMap<>();
        List<Reason> refused = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Decision<Session> d = acquire(i % 2 == 0 ? one : two, account, "u" + i);
            if (d.isGranted()) {
                held.put("u" + i, d.value());
            } else {
                refused.add(((Decision.Denied<Session>) d).reason());
            }
        }
        assertEquals(4, held.size());
        assertEquals(List.of(Reason.ORGANIZATION_POOL_EXHAUSTED, Reason.ORGANIZATION_POOL_EXHAUSTED), refused);
        // 10:01: node two releases what node one granted, node one what node two granted: A drops to 2.
        clock.set(Instant.parse("2030-03-01T10:01:10Z"));
        ok(two.release(account, held.get("u0").id(), "u0", now()));
        ok(one.release(account, held.get("u1").id(), "u1", now()));
        // 11:30: the revoke of A (on node two) moves its 2 sessions to the account pool, where u6 holds 1 more.
        clock.set(Instant.parse("2030-03-01T11:30:00Z"));
        assertTrue(acquire(one, account, "u6").isGranted());
        ok(two.setDedicated(account, a.id(), "KRE", 0, now()));
        clock.set(Instant.parse("2030-03-01T11:31:00Z"));

        for (HistoryStep step : HistoryStep.values()) {
            assertEquals(history(one, account, step), history(two, account, step), step + ": the same from either node");
        }
        List<UsageSeries> hours = history(one, account, HistoryStep.HOUR);
        assertEquals(List.of(account, a.id()), hours.stream().map(UsageSeries::poolId).toList());
        // Hours 10 and 11 (then nothing: the window ends with the hour in progress).
        assertEquals(List.of(0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 3L), peaks(hours.get(0)));
        assertEquals(List.of(0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 4L, 2L), peaks(hours.get(1)));
        UsagePoint ten = hours.get(1).points().get(10);
        assertEquals(4, ten.granted());
        assertEquals(Map.of(Reason.ORGANIZATION_POOL_EXHAUSTED, 2L), ten.deniedByReason());
        List<UsageSeries> minutes = history(two, account, HistoryStep.MINUTE);
        // 10:01 began at 4: the peak is of every level within the minute, its start included.
        assertEquals(List.of(4L, 4L, 2L), peaks(minutes.get(1)).subList(600, 603), "10:00 to 10:02");
        assertEquals(List.of(0L, 3L), peaks(minutes.get(0)).subList(689, 691), "11:29 and 11:30");
        assertEquals(List.of(3L, 0L), List.of(peaks(minutes.get(0)).get(691), peaks(minutes.get(1)).get(691)), "11:31 after the revoke");
        List<DenialRow> report = ok(one.denialReport(account, new DenialQuery("KRE", null, Instant.parse("2030-03-01T00:00:00Z"), now()), now()));
        assertEquals(report, ok(two.denialReport(account, new DenialQuery("KRE", null, Instant.parse("2030-03-01T00:00:00Z"), now()), now())));
        assertEquals(List.of(new DenialRow(a.id(), "u4", Reason.ORGANIZATION_POOL_EXHAUSTED, 1, Instant.parse("2030-03-01T10:00:05Z")),
                new DenialRow(a.id(), "u5", Reason.ORGANIZATION_POOL_EXHAUSTED, 1, Instant.parse("2030-03-01T10:00:05Z"))), report);
    }

    @Test
    void seatsGrantedOnEitherNodeCountInOneHistory() {
        String account = "AC-seat-nodes";
        ok(one.createAccount(new Account(account, "Seats on two nodes")));
        ok(one.setSubscription(account, "KSE", 3, 10, now().plus(Duration.ofDays(365)), LicenseModel.NODE_LOCKED, now()));
        for (int i = 0; i < 5; i++) {
            ok(two.upsertUser(account, "s" + i, null, List.of()));
        }
        ok(one.grantLicense(account, "KSE", "s0", null, now()));
        ok(two.grantLicense(account, "KSE", "s1", null, now()));
        ok(one.grantLicense(account, "KSE", "s2", null, now()));
        assertFalse(join(two.grantLicense(account, "KSE", "s3", null, now())).isGranted());
        ok(two.removeLicense(account, "KSE", "s0", now()));
        HistoryQuery q = new HistoryQuery("KSE", account, Instant.parse("2030-03-01T10:00:00Z"), Instant.parse("2030-03-01T10:01:00Z"),
                HistoryStep.MINUTE);
        List<UsageSeries> fromOne = ok(one.usageHistory(account, q, now()));
        assertEquals(fromOne, ok(two.usageHistory(account, q, now())));
        UsagePoint point = fromOne.get(0).points().get(0);
        assertEquals(new UsagePoint(Instant.parse("2030-03-01T10:00:00Z"), 3, 3, 1, Map.of(Reason.INSUFFICIENT_LICENSES, 1L)), point);
    }

    @Test
    void everyHistoryKeyExpiresWithinItsRetention() {
        bothNodesAnswerTheSameHistoryWithThePeakOfTheCombinedLoad();
        long longest = HistoryStep.DAY.retention().plus(Duration.ofDays(32)).toMillis();
        Map<String, Long> ttls = new HashMap<>();
        REDIS.server().with(c -> {
            for (String k : c.sync().keys("lb:{AC-nodes}:h*")) {
                ttls.put(k, c.sync().pttl(k));
            }
        });
        assertTrue(ttls.keySet().stream().anyMatch(k -> k.startsWith("lb:{AC-nodes}:hbm:")), ttls.toString());
        assertTrue(ttls.keySet().stream().anyMatch(k -> k.startsWith("lb:{AC-nodes}:hwh:")), ttls.toString());
        ttls.forEach((k, ttl) -> assertTrue(ttl > 0 && ttl <= longest, k + " expires in " + ttl + " ms"));
        // Minutes go first: a closed minute's hash lives its hour and 48 hours more, at most.
        ttls.forEach((k, ttl) -> {
            if (k.contains(":hbm:")) {
                assertTrue(ttl <= Duration.ofHours(49).toMillis(), k + " expires in " + ttl + " ms");
            }
        });
    }
}
