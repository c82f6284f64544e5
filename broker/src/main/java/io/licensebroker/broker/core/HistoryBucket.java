package io.licensebroker.broker.core;

import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * What one pool of one product recorded in one bucket of the usage history (a minute, hour or day
 * starting at {@code startMillis}): the pool's in_use when the bucket's first change came
 * ({@code startLevel}), the highest in_use after any change in it and its start level
 * ({@code peak}), the in_use after its last change ({@code endLevel}), the licenses or seats
 * granted, and the counted denials by reason ({@link HistoryRules}). A bucket exists only when
 * something happened in it; in between the level stays what the bucket before ended at (see
 * {@link HistoryAssembly}). Stores keep and return these as they are; the core rolls them up and
 * assembles the answer.
 */
public record HistoryBucket(String product, String poolId, long startMillis, long startLevel, long peak, long endLevel,
                            long granted, Map<Reason, Long> deniedByReason) {

    public HistoryBucket {
        Objects.requireNonNull(product, "product");
        Objects.requireNonNull(poolId, "poolId");
        deniedByReason = deniedByReason.isEmpty() ? Map.of() : Map.copyOf(deniedByReason);
    }

    public Instant start() {
        return Instant.ofEpochMilli(startMillis);
    }

    /** All counted denials. */
    public long denied() {
        long sum = 0;
        for (long n : deniedByReason.values()) {
            sum += n;
        }
        return sum;
    }

    /** The same counts in the bucket of {@code step} that holds this one. */
    public HistoryBucket at(HistoryStep step) {
        long start = step.startOf(startMillis);
        return start == startMillis ? this : new HistoryBucket(product, poolId, start, startLevel, peak, endLevel, granted, deniedByReason);
    }

    /**
     * One bucket of two of the same pool and start, {@code later} recorded after this one: this
     * one's start level, the higher peak, the later one's end level, the sums of the counts.
     */
    public HistoryBucket plus(HistoryBucket later) {
        Map<Reason, Long> denied = new EnumMap<>(Reason.class);
        denied.putAll(deniedByReason);
        later.deniedByReason.forEach((r, n) -> denied.merge(r, n, Long::sum));
        return new HistoryBucket(product, poolId, startMillis, startLevel, Math.max(peak, later.peak), later.endLevel,
                granted + later.granted, denied);
    }

    /** The counts of {@code denied} (indexed as {@link HistoryRules#COUNTED}), without zeros. */
    static Map<Reason, Long> deniedOf(long[] denied) {
        if (denied == null) {
            return Map.of();
        }
        Map<Reason, Long> out = new EnumMap<>(Reason.class);
        for (int i = 0; i < denied.length; i++) {
            if (denied[i] != 0) {
                out.put(HistoryRules.COUNTED.get(i), denied[i]);
            }
        }
        return out;
    }
}
