package io.licensebroker.broker.core;

/**
 * The store cannot be reached or failed to make a change durable. The change did not happen or
 * was not acknowledged; the caller may retry. The edge answers UNAVAILABLE.
 */
public sealed class StoreUnavailableException extends RuntimeException permits StoreRefusedException {
    private static final long serialVersionUID = 1L;

    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
