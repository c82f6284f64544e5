package io.licensebroker.broker.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Who was denied, per bucket: the counts of one minute (the one in progress), and the closed
 * minutes rolled up per hour (kept 90 days) and per day (2 years). Every bucket keeps at most
 * {@link DenialReport#MAX_KEYS_PER_BUCKET} (pool, user, reason) counts; further users count under
 * {@link DenialReport#OTHER_USERS}. Not thread-safe; owned by its account's {@link UsageHistory}.
 */
final class DenialLog {

    private record Key(String product, String poolId, String userId, Reason reason) {
    }

    /** One bucket's counts: per key, {count, last denied millis}. */
    private static final class Bucket {
        final long start;
        final Map<Key, long[]> counts = new LinkedHashMap<>();

        Bucket(long start) {
            this.start = start;
        }

        void add(String product, String poolId, String userId, Reason reason, long count, long lastMillis) {
            Key key = new Key(product, poolId, userId, reason);
            long[] c = counts.get(key);
            if (c == null) {
                if (counts.size() >= DenialReport.MAX_KEYS_PER_BUCKET) {
                    key = new Key(product, poolId, DenialReport.OTHER_USERS, reason);
                    c = counts.get(key);
                }
                if (c == null) {
                    c = new long[]{0, Long.MIN_VALUE};
                    counts.put(key, c);
                }
            }
            c[0] += count;
            c[1] = Math.max(c[1], lastMillis);
        }

        void appendTo(List<DenialCount> out) {
            counts.forEach((k, c) -> out.add(new DenialCount(k.product(), k.poolId(), k.userId(), k.reason(), start, c[0], c[1])));
        }
    }

    private Bucket open;
    private final ArrayDeque<Bucket> hours = new ArrayDeque<>();
    private final ArrayDeque<Bucket> days = new ArrayDeque<>();

    /** A denial at {@code atMillis} in the minute starting at {@code minute}. */
    void denied(long minute, String product, String poolId, String userId, Reason reason, long atMillis) {
        if (open == null || open.start != minute) {
            open = new Bucket(minute);
        }
        open.add(product, poolId, userId, reason, 1, atMillis);
    }

    /** The minute in progress (to record when it closes), then forgets it. */
    List<DenialCount> takeOpen() {
        List<DenialCount> out = new ArrayList<>();
        if (open != null) {
            open.appendTo(out);
            open = null;
        }
        return out;
    }

    /** A closed minute's count: into its hour and its day. */
    void record(DenialCount c) {
        add(hours, HistoryStep.HOUR, c);
        add(days, HistoryStep.DAY, c);
    }

    /** A snapshot's count of one step. */
    void restore(HistoryStep step, DenialCount c) {
        if (step == HistoryStep.HOUR) {
            add(hours, step, c);
        } else if (step == HistoryStep.DAY) {
            add(days, step, c);
        }
    }

    /** The counts of {@code step} (HOUR or DAY) in buckets from {@code fromMillis} on, and those of the minute in progress. */
    List<DenialCount> counts(HistoryStep step, long fromMillis) {
        List<DenialCount> out = new ArrayList<>();
        for (Bucket b : step == HistoryStep.DAY ? days : hours) {
            if (b.start >= fromMillis) {
                b.appendTo(out);
            }
        }
        if (open != null) {
            open.appendTo(out);
        }
        return out;
    }

    /** Every closed bucket of {@code step}, oldest first, each as its counts (a snapshot's). */
    List<List<DenialCount>> closed(HistoryStep step) {
        List<List<DenialCount>> out = new ArrayList<>();
        for (Bucket b : step == HistoryStep.DAY ? days : hours) {
            List<DenialCount> counts = new ArrayList<>();
            b.appendTo(counts);
            out.add(counts);
        }
        return out;
    }

    private static void add(ArrayDeque<Bucket> ring, HistoryStep step, DenialCount c) {
        long s = step.startOf(c.startMillis());
        Bucket target = null;
        if (ring.isEmpty() || ring.peekLast().start < s) {
            target = new Bucket(s);
            ring.addLast(target);
            long oldest = s - (step.capacity() - 1L) * step.millis();
            while (ring.peekFirst().start < oldest) {
                ring.removeFirst();
            }
        } else {
            // Out of order (rare: a clock that went back): the bucket it belongs to, if still kept.
            for (Iterator<Bucket> it = ring.descendingIterator(); it.hasNext() && target == null; ) {
                Bucket b = it.next();
                if (b.start == s) {
                    target = b;
                } else if (b.start < s) {
                    break;
                }
            }
            if (target == null) {
                return;
            }
        }
        target.add(c.product(), c.poolId(), c.userId(), c.reason(), c.count(), c.lastDeniedMillis());
    }
}
