package io.licensebroker.client;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

class BackoffTest {

    @RepeatedTest(20)
    void delaysDoubleWithinEqualJitterUpToTheMax() {
        Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofMillis(800));
        long[] bases = {100, 200, 400, 800, 800, 800};
        for (long base : bases) {
            long d = backoff.next().toNanos();
            assertTrue(d >= Duration.ofMillis(base).toNanos() / 2 && d <= Duration.ofMillis(base).toNanos(),
                    d + " ns outside [" + base / 2 + ", " + base + "] ms");
        }
        backoff.reset();
        assertTrue(backoff.next().compareTo(Duration.ofMillis(100)) <= 0, "reset starts over");
    }

    @Test
    void delaysAreSpreadNotIdentical() {
        Set<Duration> seen = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            seen.add(new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(1)).next());
        }
        assertTrue(seen.size() > 10, "jitter spreads clients: " + seen.size() + " distinct delays");
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new Backoff(Duration.ZERO, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)));
        assertTrue(new Backoff(Duration.ofNanos(1), Duration.ofNanos(1)).next().toNanos() <= 1, "the smallest backoff works");
    }
}
