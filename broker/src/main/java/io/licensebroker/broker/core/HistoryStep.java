package io.licensebroker.broker.core;

import java.time.Duration;
import java.time.Instant;

/**
 * The resolutions of the usage history (CONTRACT.md section 7) and how long each is kept: minutes
 * for 48 hours, hours for 90 days, days for 2 years (731 days, a leap year included). Buckets are
 * aligned to the epoch (UTC minutes, hours and days). Each step keeps {@link #capacity()} buckets:
 * its retention and the bucket in progress.
 */
public enum HistoryStep {
    MINUTE(Duration.ofMinutes(1), Duration.ofHours(48)),
    HOUR(Duration.ofHours(1), Duration.ofDays(90)),
    DAY(Duration.ofDays(1), Duration.ofDays(731));

    private final Duration length;
    private final Duration retention;
    private final long millis;

    HistoryStep(Duration length, Duration retention) {
        this.length = length;
        this.retention = retention;
        this.millis = length.toMillis();
    }

    public Duration length() {
        return length;
    }

    public Duration retention() {
        return retention;
    }

    public long millis() {
        return millis;
    }

    /** How many buckets are kept: the retention's and the one in progress. */
    public int capacity() {
        return (int) (retention.toMillis() / millis) + 1;
    }

    /** The start of the bucket that holds {@code epochMillis}. */
    public long startOf(long epochMillis) {
        return Math.floorDiv(epochMillis, millis) * millis;
    }

    public Instant startOf(Instant at) {
        return Instant.ofEpochMilli(startOf(at.toEpochMilli()));
    }

    /** The start of the oldest bucket still kept at {@code nowMillis}. */
    public long oldestKept(long nowMillis) {
        return startOf(nowMillis) - (capacity() - 1L) * millis;
    }

    /** The step of that length, or null when it is none of the three. */
    public static HistoryStep of(Duration length) {
        for (HistoryStep s : values()) {
            if (s.length.equals(length)) {
                return s;
            }
        }
        return null;
    }
}
