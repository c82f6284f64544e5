package io.licensebroker.broker.core;

import java.util.Objects;

/** A listing of licensed users (pool null: any) or of activations (user null: any), by id order. */
public record SeatQuery(String product, String poolId, String userId, int pageSize, String pageToken) {
    public SeatQuery {
        Objects.requireNonNull(product, "product");
        if (pageSize <= 0) {
            throw new IllegalArgumentException("pageSize must be positive: " + pageSize);
        }
    }
}
