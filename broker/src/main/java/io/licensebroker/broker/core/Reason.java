package io.licensebroker.broker.core;

/**
 * Why the core refused something. The names are the contract's ErrorInfo reasons;
 * the gRPC edge maps each to its status code.
 */
public enum Reason {
    NO_LICENSE_AVAILABLE,
    ORGANIZATION_POOL_EXHAUSTED,
    MACHINE_QUOTA_EXCEEDED,
    SUBSCRIPTION_EXPIRED,
    NO_SUBSCRIPTION,
    SESSION_EXPIRED,
    SESSION_TERMINATED,
    SESSION_NOT_FOUND,
    INSUFFICIENT_LICENSES,
    BELOW_IN_USE,
    INVALID_ARGUMENT,
    ACCOUNT_NOT_FOUND,
    ORGANIZATION_NOT_FOUND,
    USER_NOT_FOUND,
    ALREADY_EXISTS,
    PERMISSION_DENIED,
    MACHINE_NOT_FOUND,
    /** No API key or admin token of that id (never created, or revoked). */
    CREDENTIAL_NOT_FOUND,
    /**
     * A shared store lost recent changes and keeps its free licenses, for a while, for the sessions
     * granted before the loss (a "learning period"); new sessions have to wait.
     */
    STORE_RECOVERING,
    /** The user holds no seat of the seat product. */
    NOT_LICENSED,
    /** The seat is in use on another machine. */
    SEAT_IN_USE,
    /** The call does not fit the product's license model. */
    LICENSE_MODEL_MISMATCH,
    /** An offline license binds the seat to its machine until the file's expiry. */
    OFFLINE_BOUND
}
