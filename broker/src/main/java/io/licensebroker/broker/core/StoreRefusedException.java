package io.licensebroker.broker.core;

/**
 * The store answers but refuses the change for a reason only its operator can fix (Redis out of
 * memory under {@code maxmemory} with {@code noeviction}, an ACL user without a needed permission).
 * Nothing changed; retrying does not help until the operator acts, so the message says what to fix.
 * The edge answers UNAVAILABLE STORE_UNAVAILABLE with this message.
 */
public final class StoreRefusedException extends StoreUnavailableException {
    private static final long serialVersionUID = 1L;

    public StoreRefusedException(String message, Throwable cause) {
        super(message, cause);
    }
}
