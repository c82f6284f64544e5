package io.licensebroker.loadtest;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Latencies per RPC (HdrHistogram recorders, safe from any thread), errors by status, and the
 * client-side oversubscription check: licenses held at once never exceed the quota.
 */
final class RunStats {
    enum Rpc { ACQUIRE, RENEW, RELEASE, OP }

    private static final long MAX_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final Map<Rpc, Recorder> recorders = new EnumMap<>(Rpc.class);
    private final Map<Rpc, Histogram> totals = new EnumMap<>(Rpc.class);
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final LongAdder denied = new LongAdder();
    private final AtomicLong held = new AtomicLong();
    private final AtomicLong maxHeld = new AtomicLong();
    private final LongAdder oversubscribed = new LongAdder();
    private final long quota;

    RunStats(long quota) {
        this.quota = quota;
        for (Rpc rpc : Rpc.values()) {
            recorders.put(rpc, new Recorder(MAX_NANOS, 3));
            totals.put(rpc, new Histogram(MAX_NANOS, 3));
        }
    }

    void record(Rpc rpc, long nanos) {
        recorders.get(rpc).recordValue(Math.min(Math.max(nanos, 1), MAX_NANOS));
    }

    void error(String status) {
        errors.computeIfAbsent(status, s -> new LongAdder()).increment();
    }

    /** A refusal for lack of licenses: expected under a quota, not an error. */
    void denied() {
        denied.increment();
    }

    /** A license was granted to us: check we do not hold more than the quota. */
    void granted() {
        long now = held.incrementAndGet();
        maxHeld.accumulateAndGet(now, Math::max);
        if (now > quota) {
            oversubscribed.increment();
        }
    }

    /**
     * We are about to give a license back. Counted before the release is sent, so a grant to
     * another agent that the broker makes after our release cannot look like oversubscription.
     */
    void releasing() {
        held.decrementAndGet();
    }

    /** Moves what was recorded since the last call into the totals and returns the interval. */
    Map<Rpc, Histogram> interval() {
        Map<Rpc, Histogram> out = new EnumMap<>(Rpc.class);
        for (Rpc rpc : Rpc.values()) {
            Histogram h = recorders.get(rpc).getIntervalHistogram();
            totals.get(rpc).add(h);
            out.put(rpc, h);
        }
        return out;
    }

    Map<Rpc, Histogram> totals() {
        interval();
        return totals;
    }

    Map<String, Long> errors() {
        Map<String, Long> out = new java.util.TreeMap<>();
        errors.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    long errorCount() {
        return errors.values().stream().mapToLong(LongAdder::sum).sum();
    }

    long deniedCount() {
        return denied.sum();
    }

    long oversubscribed() {
        return oversubscribed.sum();
    }

    long maxHeld() {
        return maxHeld.get();
    }

    long heldNow() {
        return held.get();
    }
}
