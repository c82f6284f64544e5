package io.licensebroker.broker.grpc;

import io.licensebroker.broker.core.Activation;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.LicenseModel;

/**
 * Hears the seat decisions monitoring counts: a GrantLicense that gave a user a seat, and every
 * decided ActivateLicense. Like {@link AcquireObserver}, it keeps the edge free of any metrics
 * library; it is called on the thread that completed the decision, so implementations must be
 * cheap and must not block. Calls refused before the core (authentication, validation) are not reported.
 */
public interface SeatObserver {
    /** Hears nothing. */
    SeatObserver NONE = new SeatObserver() {
    };

    /** A GrantLicense created a seat of {@code product} (a grant that found the seat already held is not reported). */
    default void seatGranted(String product) {
    }

    /**
     * An ActivateLicense was decided.
     *
     * @param model the product's license model (for a granted activation, the kind it is), or null
     *              when the account has no subscription for the product or it could not be read
     */
    default void activationDecided(Decision<Activation> decision, LicenseModel model) {
    }
}
