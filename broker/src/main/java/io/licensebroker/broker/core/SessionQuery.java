package io.licensebroker.broker.core;

/** Filters (null = any) and paging of a session listing. Pages are in session id order. */
public record SessionQuery(String product, String poolId, String userId, String machineId, int pageSize, String pageToken) {
    public SessionQuery {
        if (pageSize <= 0) {
            throw new IllegalArgumentException("pageSize must be positive: " + pageSize);
        }
    }
}
