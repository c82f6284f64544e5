package io.licensebroker.broker.core;

import java.time.Instant;
import java.util.Objects;

/** The quota an account bought for one product, and how one of its licenses is used. */
public record Subscription(String accountId, String product, long licenses, long machineQuota, Instant expiresAt,
                           LicenseModel model) {
    public Subscription {
        Objects.requireNonNull(accountId, "accountId");
        Objects.requireNonNull(product, "product");
        Objects.requireNonNull(expiresAt, "expiresAt");
        Objects.requireNonNull(model, "model");
        if (licenses < 0 || machineQuota < 0) {
            throw new IllegalArgumentException("licenses and machineQuota cannot be negative: " + licenses + ", " + machineQuota);
        }
    }

    /** A session (KRE) subscription. */
    public Subscription(String accountId, String product, long licenses, long machineQuota, Instant expiresAt) {
        this(accountId, product, licenses, machineQuota, expiresAt, LicenseModel.SESSION);
    }

    public boolean isExpiredAt(Instant now) {
        return !now.isBefore(expiresAt);
    }
}
