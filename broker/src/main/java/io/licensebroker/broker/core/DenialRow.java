package io.licensebroker.broker.core;

import java.time.Instant;

/** One line of a denial report: how often the user was denied in the pool for the reason, and when last. */
public record DenialRow(String poolId, String userId, Reason reason, long count, Instant lastDenied) {
}
