package io.licensebroker.broker.core;

/**
 * The store cannot be reached or failed to make a change durable. The change did not happen or
 * was not acknowledged; the caller may retry. The edge answers UNAVAILABLE.
 */
public sealed class StoreUnavailableException extends RuntimeException permits StoreRefusedException {
    private static final long serialVersionUID = 1L;

    /** What the caller is told; null for the edge's generic "retry later". */
    private final String clientMessage;

    public StoreUnavailableException(String message, Throwable cause) {
        this(message, null, cause);
    }

    /** {@code clientMessage} is for the caller, so it names no path or other internal detail. */
    public StoreUnavailableException(String message, String clientMessage, Throwable cause) {
        super(message, cause);
        this.clientMessage = clientMessage;
    }

    /** What the caller is told, or null for the generic message. */
    public String clientMessage() {
        return clientMessage;
    }
}
