package io.licensebroker.broker.grpc;

import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Session;

/**
 * Hears each decision the broker takes on an AcquireSession call, with how long the core took to
 * take it. The edge reports here rather than the core because the core stays free of any metrics
 * library; metrics implement it. Called on the thread that completed the decision, once per
 * decided call (not for calls refused before reaching the core: authentication, validation), so
 * implementations must be cheap and must not block.
 */
@FunctionalInterface
public interface AcquireObserver {
    /** Hears nothing. */
    AcquireObserver NONE = (decision, nanos) -> { };

    /**
     * @param decision the granted session (whose {@code fallback} says where it came from) or the denial
     * @param nanos    from the call reaching the core to the decision being durable
     */
    void decided(Decision<Session> decision, long nanos);
}
