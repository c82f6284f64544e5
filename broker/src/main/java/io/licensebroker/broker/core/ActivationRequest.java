package io.licensebroker.broker.core;

import java.time.Instant;
import java.util.Objects;

/**
 * One activation of a seat, with what the caller chose up front: the id a new activation gets, and
 * (floating) its lease. Activations are idempotent per machine: activating again on the machine
 * that holds the seat answers that activation, so {@code requestId} (empty: none) adds nothing.
 */
public record ActivationRequest(String product, String userId, String machineId, String requestId, boolean takeOver,
                                String newActivationId, Instant now, Instant leaseExpiresAt) {
    public ActivationRequest {
        Objects.requireNonNull(product, "product");
        Objects.requireNonNull(userId, "userId");
        Objects.requireNonNull(machineId, "machineId");
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(newActivationId, "newActivationId");
        Objects.requireNonNull(now, "now");
        Objects.requireNonNull(leaseExpiresAt, "leaseExpiresAt");
    }
}
