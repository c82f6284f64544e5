package io.licensebroker.client;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with "equal jitter": the n-th delay is drawn from [d/2, d] where d doubles
 * from {@code initial} up to {@code max}. The random half spreads the retries of many clients (a
 * broker node restart would otherwise see every agent come back in the same millisecond); the
 * fixed half keeps a retry from following its failure immediately.
 *
 * <p>Not thread-safe: each retry loop (one acquire call, one session's renewal chain) owns one.
 */
final class Backoff {
    private final long initialNanos;
    private final long maxNanos;
    private long nextNanos;

    Backoff(Duration initial, Duration max) {
        if (initial.isNegative() || initial.isZero()) {
            throw new IllegalArgumentException("initial backoff must be positive: " + initial);
        }
        if (max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("max backoff " + max + " is below the initial " + initial);
        }
        this.initialNanos = initial.toNanos();
        this.maxNanos = max.toNanos();
        this.nextNanos = initialNanos;
    }

    /** The delay before the next attempt; each call doubles the following one, up to the max. */
    Duration next() {
        long base = nextNanos;
        nextNanos = base > maxNanos / 2 ? maxNanos : base * 2;
        long half = base / 2;
        return Duration.ofNanos(half + ThreadLocalRandom.current().nextLong(base - half + 1));
    }

    /** After a success: the next failure starts again from the initial delay. */
    void reset() {
        nextNanos = initialNanos;
    }
}
