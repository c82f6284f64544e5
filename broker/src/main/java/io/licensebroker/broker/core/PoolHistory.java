package io.licensebroker.broker.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The usage history of one pool of one product: the minute in progress (counted in place on the
 * hot path: a comparison and a few field writes) and the closed buckets at every step. A closed
 * minute goes into the minute, hour and day rings together, so each step's buckets are exact
 * roll-ups of the minutes. Not thread-safe; owned by its account's {@link UsageHistory}.
 */
final class PoolHistory {
    static final long NONE = Long.MIN_VALUE;

    final String product;
    final String poolId;
    private final HistoryRing minutes = new HistoryRing(HistoryStep.MINUTE);
    private final HistoryRing hours = new HistoryRing(HistoryStep.HOUR);
    private final HistoryRing days = new HistoryRing(HistoryStep.DAY);

    /** The start of the minute counted in the fields below, or {@link #NONE}. */
    private long openMinute = NONE;
    private long openStartLevel;
    private long openPeak;
    private long openEnd;
    private long openGranted;
    private long[] openDenied;

    PoolHistory(String product, String poolId) {
        this.product = product;
        this.poolId = poolId;
    }

    /**
     * Counts a change of the pool's in_use from {@code before} to {@code after} (equal for a
     * denial) in the minute starting at {@code minute}; true when it is the pool's first in it.
     */
    boolean touch(long minute, long before, long after) {
        if (openMinute != minute) {
            openMinute = minute;
            openStartLevel = before;
            openPeak = Math.max(before, after);
            openEnd = after;
            openGranted = 0;
            if (openDenied != null) {
                Arrays.fill(openDenied, 0);
            }
            return true;
        }
        if (after > openPeak) {
            openPeak = after;
        }
        openEnd = after;
        return false;
    }

    void granted() {
        openGranted++;
    }

    void denied(int reasonIndex) {
        if (openDenied == null) {
            openDenied = new long[HistoryRules.COUNTED.size()];
        }
        openDenied[reasonIndex]++;
    }

    /** The minute in progress as a bucket, or null when nothing happened in it. */
    HistoryBucket open() {
        return openMinute == NONE ? null
                : new HistoryBucket(product, poolId, openMinute, openStartLevel, openPeak, openEnd, openGranted,
                HistoryBucket.deniedOf(openDenied));
    }

    /** Forgets the minute in progress (it was closed and recorded). */
    void clearOpen() {
        openMinute = NONE;
    }

    /** A closed minute: into every step's bucket that holds it. */
    void record(HistoryBucket minute) {
        long[] denied = denials(minute.deniedByReason());
        for (HistoryRing ring : new HistoryRing[]{minutes, hours, days}) {
            ring.add(minute.startMillis(), minute.startLevel(), minute.peak(), minute.endLevel(), minute.granted(), denied);
        }
    }

    /** A snapshot's bucket of one step (rolled up already). */
    void restore(HistoryStep step, HistoryBucket b) {
        ring(step).add(b.startMillis(), b.startLevel(), b.peak(), b.endLevel(), b.granted(), denials(b.deniedByReason()));
    }

    /**
     * The buckets of {@code step} from {@code fromMillis} on (after the last one before it), the
     * minute in progress last (not rolled up).
     */
    List<HistoryBucket> buckets(HistoryStep step, long fromMillis) {
        List<HistoryBucket> out = new ArrayList<>(ring(step).from(product, poolId, fromMillis));
        HistoryBucket open = open();
        if (open != null) {
            out.add(open);
        }
        return out;
    }

    /** Every closed bucket of {@code step}, oldest first (a snapshot's). */
    List<HistoryBucket> closed(HistoryStep step) {
        return ring(step).from(product, poolId, Long.MIN_VALUE);
    }

    private HistoryRing ring(HistoryStep step) {
        return switch (step) {
            case MINUTE -> minutes;
            case HOUR -> hours;
            case DAY -> days;
        };
    }

    private static long[] denials(Map<Reason, Long> byReason) {
        if (byReason.isEmpty()) {
            return null;
        }
        long[] out = new long[HistoryRules.COUNTED.size()];
        byReason.forEach((r, n) -> {
            int i = HistoryRules.index(r);
            if (i >= 0) {
                out[i] += n;
            }
        });
        return out;
    }
}
