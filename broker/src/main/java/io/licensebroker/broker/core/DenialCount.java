package io.licensebroker.broker.core;

import java.util.Objects;

/**
 * How often one user was denied a license of one product for one reason, charged to one pool,
 * within the bucket starting at {@code startMillis}; {@code lastDeniedMillis} is the latest of
 * those denials. {@link DenialReport#OTHER_USERS} stands for the users past a bucket's bound.
 */
public record DenialCount(String product, String poolId, String userId, Reason reason, long startMillis, long count,
                          long lastDeniedMillis) {
    public DenialCount {
        Objects.requireNonNull(product, "product");
        Objects.requireNonNull(poolId, "poolId");
        Objects.requireNonNull(userId, "userId");
        Objects.requireNonNull(reason, "reason");
    }
}
