package io.licensebroker.broker.core;

import java.time.Instant;
import java.util.Objects;

/**
 * A seat in use on a machine ("Online Licenses"): a node-locked binding ({@code leaseExpiresAt}
 * null) or a floating activation, which is a lease whose id is {@code activationId}.
 */
public record Activation(String activationId, String accountId, String product, String userId, String machineId,
                         String poolId, Instant activatedAt, Instant leaseExpiresAt) {
    public Activation {
        Objects.requireNonNull(activationId, "activationId");
        Objects.requireNonNull(accountId, "accountId");
        Objects.requireNonNull(product, "product");
        Objects.requireNonNull(userId, "userId");
        Objects.requireNonNull(machineId, "machineId");
        Objects.requireNonNull(poolId, "poolId");
        Objects.requireNonNull(activatedAt, "activatedAt");
    }

    /** The activation a floating lease is. */
    static Activation ofLease(Session s) {
        return new Activation(s.id(), s.accountId(), s.product(), s.userId(), s.machineId(), s.poolId(),
                s.startedAt(), s.leaseExpiresAt());
    }

    /** The activation a node-locked binding is. */
    static Activation ofBinding(Seat seat) {
        return new Activation(seat.activationId(), seat.accountId(), seat.product(), seat.userId(), seat.machineId(),
                seat.poolId(), seat.boundAt(), null);
    }
}
