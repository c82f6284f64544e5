package io.licensebroker.broker.core;

import java.util.ArrayList;
import java.util.List;

/**
 * The recorded buckets of one pool at one step, oldest first, in parallel primitive arrays that
 * grow (by doubling) to at most the step's {@link HistoryStep#capacity()}: a pool that rarely
 * changes costs little, a busy one at most capacity times six words. Adding to the newest bucket,
 * or after it, is O(1) and allocates nothing once grown; the oldest bucket goes when a bucket
 * past the retention comes. Not thread-safe.
 */
final class HistoryRing {
    private static final int INITIAL = 4;

    private final HistoryStep step;
    private final int maxCapacity;
    private long[] start = new long[INITIAL];
    private long[] startLevel = new long[INITIAL];
    private long[] peak = new long[INITIAL];
    private long[] endLevel = new long[INITIAL];
    private long[] granted = new long[INITIAL];
    /** Per bucket: null, or the denials indexed as {@link HistoryRules#COUNTED}. */
    private long[][] denied = new long[INITIAL][];
    private int head;
    private int size;

    HistoryRing(HistoryStep step) {
        this.step = step;
        this.maxCapacity = step.capacity();
    }

    int size() {
        return size;
    }

    /**
     * Adds counts recorded at {@code atMillis} (any time within the bucket) to their bucket of this
     * step: into it when it exists (its start level stays, the end level is the new one), else as
     * a new bucket.
     */
    void add(long atMillis, long level, long peakLevel, long end, long grants, long[] denials) {
        long s = step.startOf(atMillis);
        int pos = size == 0 || start[slot(size - 1)] < s ? size : find(s);
        if (pos < size && start[slot(pos)] == s) {
            int i = slot(pos);
            peak[i] = Math.max(peak[i], peakLevel);
            endLevel[i] = end;
            granted[i] += grants;
            addDenials(i, denials);
            return;
        }
        if (size > 0 && s < newest() - (maxCapacity - 1L) * step.millis()) {
            return; // older than what is kept
        }
        pos = insertAt(pos);
        int i = slot(pos);
        start[i] = s;
        startLevel[i] = level;
        peak[i] = Math.max(level, peakLevel);
        endLevel[i] = end;
        granted[i] = grants;
        denied[i] = null;
        addDenials(i, denials);
        dropExpired();
    }

    /**
     * The buckets starting at or after {@code fromMillis}, oldest first, after the last one before
     * it (whose end level the steps before the first one held), if any.
     */
    List<HistoryBucket> from(String product, String poolId, long fromMillis) {
        List<HistoryBucket> out = new ArrayList<>();
        for (int pos = Math.max(0, find(fromMillis) - 1); pos < size; pos++) {
            int i = slot(pos);
            out.add(new HistoryBucket(product, poolId, start[i], startLevel[i], peak[i], endLevel[i], granted[i],
                    HistoryBucket.deniedOf(denied[i])));
        }
        return out;
    }

    private long newest() {
        return start[slot(size - 1)];
    }

    private void addDenials(int i, long[] denials) {
        if (denials == null) {
            return;
        }
        for (int r = 0; r < denials.length; r++) {
            if (denials[r] != 0) {
                if (denied[i] == null) {
                    denied[i] = new long[HistoryRules.COUNTED.size()];
                }
                denied[i][r] += denials[r];
            }
        }
    }

    /** The first logical position whose start is at or after {@code s}. */
    private int find(long s) {
        int lo = 0;
        int hi = size;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (start[slot(mid)] < s) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Makes room at logical position {@code pos} (appending is the common case); answers where it went. */
    private int insertAt(int pos) {
        if (size == start.length) {
            if (start.length < maxCapacity) {
                grow();
            } else {
                head = (head + 1) % start.length; // full: the oldest goes
                size--;
                pos--;
                if (pos < 0) {
                    pos = 0;
                }
            }
        }
        for (int p = size; p > pos; p--) {
            move(slot(p - 1), slot(p));
        }
        size++;
        return pos;
    }

    private void dropExpired() {
        long oldest = newest() - (maxCapacity - 1L) * step.millis();
        while (size > 0 && start[head] < oldest) {
            denied[head] = null;
            head = (head + 1) % start.length;
            size--;
        }
    }

    private void move(int from, int to) {
        start[to] = start[from];
        startLevel[to] = startLevel[from];
        peak[to] = peak[from];
        endLevel[to] = endLevel[from];
        granted[to] = granted[from];
        denied[to] = denied[from];
    }

    private void grow() {
        int capacity = Math.min(maxCapacity, start.length * 2);
        long[] s = new long[capacity];
        long[] l = new long[capacity];
        long[] p = new long[capacity];
        long[] e = new long[capacity];
        long[] g = new long[capacity];
        long[][] d = new long[capacity][];
        for (int pos = 0; pos < size; pos++) {
            int i = slot(pos);
            s[pos] = start[i];
            l[pos] = startLevel[i];
            p[pos] = peak[i];
            e[pos] = endLevel[i];
            g[pos] = granted[i];
            d[pos] = denied[i];
        }
        start = s;
        startLevel = l;
        peak = p;
        endLevel = e;
        granted = g;
        denied = d;
        head = 0;
    }

    private int slot(int pos) {
        return (head + pos) % start.length;
    }
}
