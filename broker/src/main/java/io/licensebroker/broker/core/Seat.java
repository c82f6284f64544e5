package io.licensebroker.broker.core;

import java.time.Instant;
import java.util.Objects;

/**
 * One seat of a seat product held by a user: one license of {@code poolId} (it counts in that
 * pool's in_use). A node-locked seat, once activated, is bound to {@code machineId} with the
 * binding's {@code activationId} since {@code boundAt}; all three are null while unbound and on
 * floating seats (whose activations are leases).
 */
public record Seat(String accountId, String product, String userId, String poolId, Instant grantedAt,
                   String machineId, String activationId, Instant boundAt) {
    public Seat {
        Objects.requireNonNull(accountId, "accountId");
        Objects.requireNonNull(product, "product");
        Objects.requireNonNull(userId, "userId");
        Objects.requireNonNull(poolId, "poolId");
        Objects.requireNonNull(grantedAt, "grantedAt");
        if ((machineId == null) != (activationId == null) || (machineId == null) != (boundAt == null)) {
            throw new IllegalArgumentException("a binding needs machine, activation id and time together");
        }
    }

    /** An unbound seat. */
    public static Seat granted(String accountId, String product, String userId, String poolId, Instant at) {
        return new Seat(accountId, product, userId, poolId, at, null, null, null);
    }

    public boolean isBound() {
        return machineId != null;
    }

    public Seat withPool(String newPoolId) {
        return new Seat(accountId, product, userId, newPoolId, grantedAt, machineId, activationId, boundAt);
    }

    public Seat boundTo(String machine, String activation, Instant at) {
        return new Seat(accountId, product, userId, poolId, grantedAt, machine, activation, at);
    }

    public Seat unbound() {
        return new Seat(accountId, product, userId, poolId, grantedAt, null, null, null);
    }
}
