package io.licensebroker.broker.core;

import java.time.Instant;
import java.util.Objects;

/** A live session: one license drawn from {@code poolId}, leased until {@code leaseExpiresAt}. */
public record Session(String id, String accountId, String product, String userId, String machineId,
                      String poolId, boolean fallback, String requestId, Instant startedAt, Instant leaseExpiresAt) {
    public Session {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(accountId, "accountId");
        Objects.requireNonNull(product, "product");
        Objects.requireNonNull(userId, "userId");
        Objects.requireNonNull(machineId, "machineId");
        Objects.requireNonNull(poolId, "poolId");
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(startedAt, "startedAt");
        Objects.requireNonNull(leaseExpiresAt, "leaseExpiresAt");
    }

    public Session withLease(Instant expiresAt) {
        return new Session(id, accountId, product, userId, machineId, poolId, fallback, requestId, startedAt, expiresAt);
    }

    public Session withPool(String newPoolId) {
        return new Session(id, accountId, product, userId, machineId, newPoolId, fallback, requestId, startedAt, leaseExpiresAt);
    }
}
