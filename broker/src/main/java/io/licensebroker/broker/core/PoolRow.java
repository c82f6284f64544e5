package io.licensebroker.broker.core;

/**
 * One row of the license management table. {@code parentId} is null for the account row.
 * Always {@code pool == dedicated - allocated} and {@code available == pool - inUse}.
 */
public record PoolRow(String poolId, String name, String parentId, long dedicated, long pool, long inUse) {
    public long available() {
        return pool - inUse;
    }
}
