package io.licensebroker.broker.core;

import java.time.Instant;

/**
 * A registered machine of one product. {@code offlineExpiresAt} is set while an offline license
 * is bound to it (null otherwise).
 */
public record Machine(String machineId, String product, Instant registeredAt, long liveSessions, Instant offlineExpiresAt) {
}
