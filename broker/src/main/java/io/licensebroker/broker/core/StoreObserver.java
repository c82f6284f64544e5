package io.licensebroker.broker.core;

/**
 * What a store reports besides its answers, for operators: events that no caller asks about, such
 * as leases that ran out while nobody was looking. Stores call it synchronously, often while
 * holding an account's lock, so implementations must be cheap and must not call back into the
 * store. Metrics implement it; the core only defines it (and stays free of any metrics library).
 */
public interface StoreObserver {
    /** Reports nothing. */
    StoreObserver NONE = new StoreObserver() {
    };

    /**
     * {@code count} sessions ended because their lease ran out, however the store found out: the
     * reaper, an acquire that freed the license on the spot, or a late renew.
     */
    default void sessionsExpired(int count) {
    }

    /**
     * The store found it had lost state of {@code accountId}: {@code lostAcquires} acquires this
     * node had seen are gone (Redis restarted without its data, or a replica that lacked the last
     * writes took over).
     */
    default void stateLost(String accountId, long lostAcquires) {
    }

    /** A session the store had lost was taken back when its agent renewed it. */
    default void sessionReadmitted() {
    }
}
