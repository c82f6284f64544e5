package io.licensebroker.client;

/**
 * Hears about a session's lease. Register one on the client builder (every session) or per
 * acquire ({@link AcquireOptions.Builder#listener}); both are called when both are set, the
 * per-acquire one first. A floating {@link Activation}'s lease is a session too: the listener hears
 * it the same way (per activation: {@link ActivateOptions.Builder#listener}), with
 * {@link LicenseSession#sessionId()} equal to the activation id.
 *
 * <p>Called on a gRPC callback thread: return quickly and hand long work (stopping a job) to a
 * thread of your own. An exception thrown here is logged and otherwise ignored.
 */
@FunctionalInterface
public interface LeaseListener {

    /**
     * The session lost its license and the runtime should stop the work it covers. Called at most
     * once per session, never after {@link LicenseSession#close()}.
     *
     * @param reason {@code SESSION_TERMINATED} (an admin ended it or deactivated its machine; for a
     *               floating activation also: the seat was removed or transferred, or another
     *               machine took it over),
     *               {@code SESSION_EXPIRED} or {@code SESSION_NOT_FOUND} (the broker no longer knows
     *               it), another contract reason the broker refused the renewal with (e.g.
     *               {@code SUBSCRIPTION_EXPIRED}), or {@link LicenseSession#BROKER_UNREACHABLE} when
     *               the lease ran out while no broker could be reached
     */
    void onLost(LicenseSession session, String reason);

    /** The lease was extended (useful for health reporting); does nothing by default. */
    default void onRenewed(LicenseSession session) {
    }
}
