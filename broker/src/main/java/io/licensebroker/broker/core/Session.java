package io.licensebroker.broker.core;

import java.time.Instant;
import java.util.Objects;

/**
 * A live session: one license drawn from {@code poolId}, leased until {@link #leaseExpiresAt()}.
 * Times are kept as epoch milliseconds: a broker holds a million of these, and two {@link Instant}
 * objects per session would cost more than the rest of the record.
 */
public record Session(String id, String accountId, String product, String userId, String machineId,
                      String poolId, boolean fallback, String requestId, long startedAtMillis, long leaseExpiresAtMillis) {
    public Session {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(accountId, "accountId");
        Objects.requireNonNull(product, "product");
        Objects.requireNonNull(userId, "userId");
        Objects.requireNonNull(machineId, "machineId");
        Objects.requireNonNull(poolId, "poolId");
        Objects.requireNonNull(requestId, "requestId");
    }

    /** Times are kept to the millisecond. */
    public Session(String id, String accountId, String product, String userId, String machineId,
                   String poolId, boolean fallback, String requestId, Instant startedAt, Instant leaseExpiresAt) {
        this(id, accountId, product, userId, machineId, poolId, fallback, requestId,
                Objects.requireNonNull(startedAt, "startedAt").toEpochMilli(),
                Objects.requireNonNull(leaseExpiresAt, "leaseExpiresAt").toEpochMilli());
    }

    public Instant startedAt() {
        return Instant.ofEpochMilli(startedAtMillis);
    }

    public Instant leaseExpiresAt() {
        return Instant.ofEpochMilli(leaseExpiresAtMillis);
    }

    public Session withLease(Instant expiresAt) {
        return new Session(id, accountId, product, userId, machineId, poolId, fallback, requestId, startedAtMillis, expiresAt.toEpochMilli());
    }

    public Session withId(String newId) {
        return new Session(newId, accountId, product, userId, machineId, poolId, fallback, requestId, startedAtMillis, leaseExpiresAtMillis);
    }

    public Session withPool(String newPoolId) {
        return new Session(id, accountId, product, userId, machineId, newPoolId, fallback, requestId, startedAtMillis, leaseExpiresAtMillis);
    }
}
