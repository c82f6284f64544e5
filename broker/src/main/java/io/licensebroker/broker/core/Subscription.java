package io.licensebroker.broker.core;

import java.time.Instant;
import java.util.Objects;

/** The quota an account bought for one product. */
public record Subscription(String accountId, String product, long licenses, long machineQuota, Instant expiresAt) {
    public Subscription {
        Objects.requireNonNull(accountId, "accountId");
        Objects.requireNonNull(product, "product");
        Objects.requireNonNull(expiresAt, "expiresAt");
        if (licenses < 0 || machineQuota < 0) {
            throw new IllegalArgumentException("licenses and machineQuota cannot be negative: " + licenses + ", " + machineQuota);
        }
    }

    public boolean isExpiredAt(Instant now) {
        return !now.isBefore(expiresAt);
    }
}
