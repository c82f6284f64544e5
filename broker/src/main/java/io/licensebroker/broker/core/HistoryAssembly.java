package io.licensebroker.broker.core;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The one rule that turns recorded buckets into the answer of a usage history query, for every
 * store: which steps (the query's range clamped to what is kept and to the bucket in progress),
 * which pools (the query's, or every pool in the order given), and the level of a step in which
 * nothing happened. Such a step's peak is the level the pool held all along: the end level of the
 * bucket before it; with none kept, the start level of the next one; with neither, the pool's
 * in_use now. So a pool holding 5 for an hour shows 5 every minute, although nothing was
 * recorded; and a minute lost in a crash changes no step before it.
 */
public final class HistoryAssembly {
    private static final Comparator<HistoryBucket> BY_START = Comparator.comparingLong(HistoryBucket::startMillis);

    private HistoryAssembly() {
    }

    /** The starts of a query's points: every step start in {@code [firstMillis, endMillis)}. */
    public record Window(HistoryStep step, long firstMillis, long endMillis) {
        public int points() {
            return endMillis <= firstMillis ? 0 : (int) ((endMillis - firstMillis + step.millis() - 1) / step.millis());
        }

        /** The end of the last step (the range the points cover, in whole steps). */
        public long coveredEndMillis() {
            return endMillis <= firstMillis ? firstMillis : step.startOf(endMillis - 1) + step.millis();
        }
    }

    /**
     * The query's steps at {@code now}: from the step holding {@code from} (no older than the
     * step's retention) to before {@code to}, none after the step in progress.
     */
    public static Window window(HistoryStep step, Instant from, Instant to, Instant now) {
        long nowMillis = now.toEpochMilli();
        long first = Math.max(step.startOf(from.toEpochMilli()), step.oldestKept(nowMillis));
        long end = Math.min(to.toEpochMilli(), step.startOf(nowMillis) + step.millis());
        return new Window(step, first, Math.max(first, end));
    }

    /**
     * The series of {@code q}.
     *
     * @param poolIds       every pool of the account, in the order of the answer
     * @param buckets       per pool, its recorded buckets from the window's first step on and the
     *                      last one before it (later ones may follow); buckets of a finer step are
     *                      rolled up, and buckets of equal start merged in the order given (recording order)
     * @param currentLevels per pool, its in_use now (absent: 0)
     */
    public static List<UsageSeries> assemble(HistoryQuery q, List<String> poolIds,
                                             Map<String, ? extends Collection<HistoryBucket>> buckets,
                                             Map<String, Long> currentLevels, Instant now) {
        Window w = window(q.step(), q.from(), q.to(), now);
        List<UsageSeries> out = new ArrayList<>();
        for (String poolId : poolIds) {
            if (q.poolId() != null && !q.poolId().equals(poolId)) {
                continue;
            }
            Collection<HistoryBucket> recorded = buckets.get(poolId);
            List<HistoryBucket> own = normalized(recorded == null ? List.of() : recorded, w);
            out.add(new UsageSeries(poolId, points(w, own, currentLevels.getOrDefault(poolId, 0L))));
        }
        return out;
    }

    private static List<UsagePoint> points(Window w, List<HistoryBucket> own, long currentLevel) {
        List<UsagePoint> points = new ArrayList<>(w.points());
        int next = 0;
        for (long s = w.firstMillis(); s < w.endMillis(); s += w.step().millis()) {
            while (next < own.size() && own.get(next).startMillis() < s) {
                next++;
            }
            Instant start = Instant.ofEpochMilli(s);
            if (next < own.size() && own.get(next).startMillis() == s) {
                HistoryBucket b = own.get(next);
                points.add(new UsagePoint(start, b.peak(), b.granted(), b.denied(), b.deniedByReason()));
            } else {
                long level = next > 0 ? own.get(next - 1).endLevel() : next < own.size() ? own.get(next).startLevel() : currentLevel;
                points.add(new UsagePoint(start, level, 0, 0, Map.of()));
            }
        }
        return points;
    }

    /** The buckets at the window's step, one per start, oldest first. */
    private static List<HistoryBucket> normalized(Collection<HistoryBucket> recorded, Window w) {
        List<HistoryBucket> sorted = new ArrayList<>(recorded.size());
        for (HistoryBucket b : recorded) {
            sorted.add(b.at(w.step()));
        }
        sorted.sort(BY_START); // stable: equal starts keep their recording order
        List<HistoryBucket> out = new ArrayList<>(sorted.size());
        for (HistoryBucket b : sorted) {
            int last = out.size() - 1;
            if (last >= 0 && out.get(last).startMillis() == b.startMillis()) {
                out.set(last, out.get(last).plus(b));
            } else {
                out.add(b);
            }
        }
        return out;
    }
}
