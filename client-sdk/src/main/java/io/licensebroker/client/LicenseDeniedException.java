package io.licensebroker.client;

import io.grpc.Status;

/**
 * The broker refused a license: {@link #reason()} is the contract's reason, one of
 * {@code NO_LICENSE_AVAILABLE}, {@code ORGANIZATION_POOL_EXHAUSTED}, {@code MACHINE_QUOTA_EXCEEDED}
 * (status RESOURCE_EXHAUSTED), {@code SUBSCRIPTION_EXPIRED} or {@code NO_SUBSCRIPTION} (status
 * FAILED_PRECONDITION); for an activation of a seat also {@code NOT_LICENSED} (the user holds no
 * seat), {@code SEAT_IN_USE} (the seat is in use on another machine) or
 * {@code LICENSE_MODEL_MISMATCH} (the product is licensed per session: acquire instead), all
 * FAILED_PRECONDITION. The runtime should not start its work.
 */
public final class LicenseDeniedException extends LicenseBrokerException {
    private static final long serialVersionUID = 1L;

    public LicenseDeniedException(Status.Code code, String reason, String message) {
        super(code, requireReason(reason), "", message, null);
    }

    LicenseDeniedException(Status.Code code, String reason, String message, Throwable cause) {
        super(code, requireReason(reason), "", message, cause);
    }

    private static String requireReason(String reason) {
        if (reason == null || reason.isEmpty()) {
            throw new IllegalArgumentException("a denial always names its reason");
        }
        return reason;
    }
}
