package io.licensebroker.broker.core;

import java.time.Instant;
import java.util.Objects;

/**
 * One acquire, with everything the caller chose up front: the id the new session gets, and its
 * lease. {@code requestId} is empty when the agent sent no idempotency key.
 */
public record AcquireRequest(String product, String userId, String machineId, String requestId,
                             String newSessionId, Instant now, Instant leaseExpiresAt) {
    public AcquireRequest {
        Objects.requireNonNull(product, "product");
        Objects.requireNonNull(userId, "userId");
        Objects.requireNonNull(machineId, "machineId");
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(newSessionId, "newSessionId");
        Objects.requireNonNull(now, "now");
        Objects.requireNonNull(leaseExpiresAt, "leaseExpiresAt");
    }
}
