package io.licensebroker.broker.core;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The rules of the denial report, for every store: who was denied, how often, for which reason,
 * in which pool (the pool the caller would have drawn from). Kept per hour for 90 days and per day
 * for 2 years, like the usage history; a report's range is rounded out to whole hours, or whole
 * days when it starts more than 90 days ago. Each bucket holds at most {@link #MAX_KEYS_PER_BUCKET}
 * (pool, user, reason) counts: denials of further users count under {@link #OTHER_USERS}.
 */
public final class DenialReport {
    /** The user id that stands for every user past a bucket's bound. */
    public static final String OTHER_USERS = "*";
    /** Distinct (pool, user, reason) counts one bucket keeps before it counts under {@link #OTHER_USERS}. */
    public static final int MAX_KEYS_PER_BUCKET = 256;
    /** The resolutions a report is answered at ({@link #step}): what a store keeps of who was denied. */
    public static final List<HistoryStep> STEPS = List.of(HistoryStep.HOUR, HistoryStep.DAY);

    private static final Comparator<DenialRow> ORDER = Comparator.comparingLong(DenialRow::count).reversed()
            .thenComparing(DenialRow::poolId).thenComparing(DenialRow::userId).thenComparing(DenialRow::reason);

    private DenialReport() {
    }

    /** A report's rows and the buckets they cover. */
    public record Covered(HistoryAssembly.Window window, List<DenialRow> rows) {
        public Covered {
            rows = List.copyOf(rows);
        }
    }

    /** The resolution a report from {@code from} is answered at: hours while they are kept, else days. */
    public static HistoryStep step(Instant from, Instant now) {
        return from.toEpochMilli() >= HistoryStep.HOUR.oldestKept(now.toEpochMilli()) ? HistoryStep.HOUR : HistoryStep.DAY;
    }

    /** The buckets a report covers at {@code now}. */
    public static HistoryAssembly.Window window(DenialQuery q, Instant now) {
        return HistoryAssembly.window(step(q.from(), now), q.from(), q.to(), now);
    }

    /**
     * The report of {@code q} from recorded counts (of any step no coarser than the report's: each
     * is taken by its start): one row per pool, user and reason, most denied first.
     */
    public static List<DenialRow> assemble(DenialQuery q, Collection<DenialCount> counts, Instant now) {
        HistoryAssembly.Window w = window(q, now);
        record Key(String poolId, String userId, Reason reason) {
        }
        Map<Key, long[]> sums = new LinkedHashMap<>();
        for (DenialCount c : counts) {
            long start = w.step().startOf(c.startMillis());
            if (!c.product().equals(q.product()) || start < w.firstMillis() || start >= w.endMillis()
                    || (q.poolId() != null && !q.poolId().equals(c.poolId()))) {
                continue;
            }
            long[] sum = sums.computeIfAbsent(new Key(c.poolId(), c.userId(), c.reason()), k -> new long[]{0, Long.MIN_VALUE});
            sum[0] += c.count();
            sum[1] = Math.max(sum[1], c.lastDeniedMillis());
        }
        List<DenialRow> rows = new ArrayList<>(sums.size());
        sums.forEach((k, sum) -> rows.add(new DenialRow(k.poolId(), k.userId(), k.reason(), sum[0], Instant.ofEpochMilli(sum[1]))));
        rows.sort(ORDER);
        return rows;
    }
}
