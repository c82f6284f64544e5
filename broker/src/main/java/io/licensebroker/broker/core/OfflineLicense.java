package io.licensebroker.broker.core;

import java.time.Instant;

/**
 * A license bound to one machine until {@code expiresAt}. On a session product it takes one of the
 * account's licenses while live; on a node-locked product it binds the seat of {@code userId}
 * (null on a session product), which then cannot be removed or transferred.
 */
public record OfflineLicense(String accountId, String product, String machineId, Instant issuedAt, Instant expiresAt,
                             String userId) {

    public OfflineLicense(String accountId, String product, String machineId, Instant issuedAt, Instant expiresAt) {
        this(accountId, product, machineId, issuedAt, expiresAt, null);
    }

    public boolean isLiveAt(Instant now) {
        return now.isBefore(expiresAt);
    }

    /** Whether it binds a seat (node-locked) rather than taking an account license (session). */
    public boolean bindsSeat() {
        return userId != null;
    }
}
