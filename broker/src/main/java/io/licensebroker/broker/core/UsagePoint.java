package io.licensebroker.broker.core;

import java.time.Instant;
import java.util.Map;

/**
 * One step of one pool's usage history: the exact highest in_use within it, the licenses or seats
 * granted, and the counted denials ({@code denied} is the sum of {@code deniedByReason}).
 */
public record UsagePoint(Instant start, long peakInUse, long granted, long denied, Map<Reason, Long> deniedByReason) {
    public UsagePoint {
        deniedByReason = Map.copyOf(deniedByReason);
    }
}
