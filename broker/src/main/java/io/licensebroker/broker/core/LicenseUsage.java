package io.licensebroker.broker.core;

import java.time.Instant;
import java.util.List;

/**
 * A consistent snapshot of an account's pools for one product: the account row first,
 * then organizations, parents before children. {@code subscription} is null when none was bought.
 */
public record LicenseUsage(String accountId, String product, Subscription subscription, List<PoolRow> rows,
                           long registeredMachines, long offlineLicenses) {
    public LicenseUsage {
        rows = List.copyOf(rows);
    }

    public long licenses() {
        return subscription == null ? 0 : subscription.licenses();
    }

    public long machineQuota() {
        return subscription == null ? 0 : subscription.machineQuota();
    }

    public Instant expiresAt() {
        return subscription == null ? null : subscription.expiresAt();
    }

    public PoolRow row(String poolId) {
        for (PoolRow r : rows) {
            if (r.poolId().equals(poolId)) {
                return r;
            }
        }
        return null;
    }
}
