package io.licensebroker.broker.core;

import io.licensebroker.broker.testing.LedgerHarness;
import io.licensebroker.broker.testing.ModelSeeds;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.LongStream;

import static io.licensebroker.broker.testing.LedgerHarness.ACCOUNT;
import static io.licensebroker.broker.testing.LedgerHarness.KRE;
import static io.licensebroker.broker.testing.LedgerHarness.id;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random acquires, releases, terminations, lease expiries and revokes on a ledger with a clock that
 * moves by seconds across an evening and midnight, against a shadow that reads every pool's in_use
 * from the usage table after every step: the history's peak, grants and denials must equal the
 * shadow's at every minute, hour and day, for every pool. Replay one seed with {@code -Dmodel.seed=N}.
 */
class UsageHistoryModelTest {
    private static final int STEPS = 1_500;
    private static final Instant START = Instant.parse("2030-01-01T20:00:00Z");
    private static final List<String> POOLS = List.of(ACCOUNT, id("A"), id("B"));
    private static final Map<String, String> HOME = Map.of("a1", id("A"), "a2", id("A"), "b1", id("B"), "n1", ACCOUNT, "n2", ACCOUNT);

    static LongStream seeds() {
        return ModelSeeds.orReplay(LongStream.rangeClosed(1, 8));
    }

    /** Per pool: minute start -> {peak, granted, denied, end level}. */
    private final Map<String, TreeMap<Long, long[]>> shadow = new HashMap<>();
    private final Map<String, Long> level = new HashMap<>();

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void theHistoryEqualsAShadowOfEveryStep(long seed) {
        Random random = new Random(seed);
        LedgerHarness h = new LedgerHarness();
        h.clock.set(START);
        h.leaseTtl = Duration.ofMinutes(4);
        h.subscribe(8, 1000);
        h.org("A", null);
        h.org("B", null);
        h.dedicated("A", 3);
        h.dedicated("B", 2);
        h.policy(UsagePolicy.MEMBER_BASED, random.nextBoolean());
        HOME.forEach((user, pool) -> h.user(user, pool.equals(ACCOUNT) ? null : pool.substring(3), pool.equals(id("A")) ? "B" : "A"));
        POOLS.forEach(p -> level.put(p, 0L));
        List<String> live = new ArrayList<>();
        int sessions = 0;
        for (int step = 0; step < STEPS; step++) {
            h.advance(Duration.ofSeconds(random.nextInt(random.nextInt(10) == 0 ? 600 : 40)));
            int op = random.nextInt(10);
            long minute = HistoryStep.MINUTE.startOf(h.now().toEpochMilli());
            if (op < 5) {
                String user = List.copyOf(HOME.keySet()).get(random.nextInt(HOME.size()));
                String label = "s" + sessions++;
                Decision<Session> d = h.acquire(label, user, "m-" + random.nextInt(20));
                if (d.isGranted()) {
                    live.add(label);
                    bucket(d.value().poolId(), minute)[1]++;
                } else if (HistoryRules.counts(((Decision.Denied<Session>) d).reason())) {
                    bucket(HOME.get(user), minute)[2]++;
                }
            } else if (op < 7 && !live.isEmpty()) {
                String label = live.remove(random.nextInt(live.size()));
                Session s = h.session(label);
                if (s != null) {
                    h.release(label, s.userId());
                }
            } else if (op == 7 && !live.isEmpty()) {
                h.terminate(live.remove(random.nextInt(live.size())));
            } else if (op == 8) {
                h.expire();
            } else if (random.nextInt(3) == 0) {
                String org = random.nextBoolean() ? "A" : "B";
                h.dedicated(org, h.row(org).dedicated() == 0 ? 1 + random.nextInt(3) : 0);
            }
            observe(h, minute);
        }
        h.advance(Duration.ofMinutes(1));
        h.expire();
        observe(h, HistoryStep.MINUTE.startOf(h.now().toEpochMilli()));
        long[] total = {0, 0, 0};
        shadow.values().forEach(m -> m.values().forEach(b -> {
            total[0] = Math.max(total[0], b[0]);
            total[1] += b[1];
            total[2] += b[2];
        }));
        assertTrue(total[0] > 1 && total[1] > 100 && total[2] > 10, "the load reached every kind of change: " + java.util.Arrays.toString(total));
        for (HistoryStep step : HistoryStep.values()) {
            for (String pool : POOLS) {
                List<UsagePoint> points = h.ledger.history().usageHistory(new HistoryQuery(KRE, pool, START, h.now(), step), h.now())
                        .value().get(0).points();
                for (UsagePoint p : points) {
                    long[] expected = rolledUp(pool, step, p.start().toEpochMilli());
                    String where = "seed " + seed + ", " + pool + " at " + p.start() + " by " + step;
                    assertEquals(expected[0], p.peakInUse(), "peak, " + where);
                    assertEquals(expected[1], p.granted(), "granted, " + where);
                    assertEquals(expected[2], p.denied(), "denied, " + where);
                }
            }
        }
    }

    /** The pool's minute as the shadow has it: {peak, granted, denied, end level}. */
    private long[] bucket(String pool, long minute) {
        // a minute first seen: its peak starts from what the pool held
        return shadow.computeIfAbsent(pool, p -> new TreeMap<>()).computeIfAbsent(minute, m -> new long[]{level.get(pool), 0, 0, level.get(pool)});
    }

    /** Every pool's level after a step at {@code minute}. */
    private void observe(LedgerHarness h, long minute) {
        for (String pool : POOLS) {
            long now = h.usage().row(pool).inUse();
            long[] b = bucket(pool, minute);
            b[0] = Math.max(b[0], now);
            b[3] = now;
            level.put(pool, now);
        }
    }

    /** The shadow's minutes rolled up into the step starting at {@code start}; a minute without a step held the level before it. */
    private long[] rolledUp(String pool, HistoryStep step, long start) {
        TreeMap<Long, long[]> minutes = shadow.get(pool);
        long[] out = {0, 0, 0};
        for (long m = start; m < start + step.millis() && m <= minutes.lastKey(); m += 60_000) {
            long[] b = minutes.get(m);
            if (b != null) {
                out[0] = Math.max(out[0], b[0]);
                out[1] += b[1];
                out[2] += b[2];
            } else {
                Map.Entry<Long, long[]> before = minutes.lowerEntry(m);
                out[0] = Math.max(out[0], before == null ? 0 : before.getValue()[3]);
            }
        }
        return out;
    }
}
