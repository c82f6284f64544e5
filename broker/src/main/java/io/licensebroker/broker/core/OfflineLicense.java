package io.licensebroker.broker.core;

import java.time.Instant;

/** A license bound to one machine until {@code expiresAt}; it counts against the account while live. */
public record OfflineLicense(String accountId, String product, String machineId, Instant issuedAt, Instant expiresAt) {
    public boolean isLiveAt(Instant now) {
        return now.isBefore(expiresAt);
    }
}
