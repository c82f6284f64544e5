package io.licensebroker.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/**
 * Reads the broker's rich error model ({@code google.rpc.Status} with an {@code ErrorInfo} of domain
 * {@value #DOMAIN}) and turns failed calls into the SDK's exceptions, and classifies status codes
 * for the retry loops.
 */
final class Statuses {
    static final String DOMAIN = "licensebroker";
    static final String FIELD = "field";

    private Statuses() {
    }

    /** The broker's ErrorInfo of a failed call, or null when it carries none (network failures, proxies). */
    static ErrorInfo errorInfo(Throwable failure) {
        com.google.rpc.Status status = StatusProto.fromThrowable(failure);
        if (status == null) {
            return null;
        }
        for (Any detail : status.getDetailsList()) {
            if (detail.is(ErrorInfo.class)) {
                try {
                    ErrorInfo info = detail.unpack(ErrorInfo.class);
                    if (DOMAIN.equals(info.getDomain())) {
                        return info;
                    }
                } catch (InvalidProtocolBufferException e) {
                    // A garbled detail is as good as none: the status code still tells what happened.
                    return null;
                }
            }
        }
        return null;
    }

    /** The ErrorInfo reason, or the status code's name when there is none (a lost lease always names a cause). */
    static String reasonOrCode(Throwable failure) {
        ErrorInfo info = errorInfo(failure);
        return info != null && !info.getReason().isEmpty() ? info.getReason() : Status.fromThrowable(failure).getCode().name();
    }

    /** Any failed call of {@code rpc}, as the SDK's exception. */
    static LicenseBrokerException failure(String rpc, StatusRuntimeException e) {
        Status status = e.getStatus();
        ErrorInfo info = errorInfo(e);
        String reason = info == null ? "" : info.getReason();
        String field = info == null ? "" : info.getMetadataOrDefault(FIELD, "");
        return new LicenseBrokerException(status.getCode(), reason, field, describe(rpc, status, reason, field), e);
    }

    /**
     * A failed AcquireSession: a refusal with a contract reason on RESOURCE_EXHAUSTED or
     * FAILED_PRECONDITION is a denial of the license; anything else is a plain failure.
     */
    static LicenseBrokerException acquireFailure(StatusRuntimeException e) {
        return licenseFailure("AcquireSession", e);
    }

    /**
     * A failed call that asks for a license ({@code AcquireSession}, {@code ActivateLicense}): a
     * refusal with a contract reason on RESOURCE_EXHAUSTED or FAILED_PRECONDITION is a denial of
     * the license; anything else is a plain failure.
     */
    static LicenseBrokerException licenseFailure(String rpc, StatusRuntimeException e) {
        Status status = e.getStatus();
        ErrorInfo info = errorInfo(e);
        boolean denial = status.getCode() == Status.Code.RESOURCE_EXHAUSTED || status.getCode() == Status.Code.FAILED_PRECONDITION;
        if (denial && info != null && !info.getReason().isEmpty()) {
            return new LicenseDeniedException(status.getCode(), info.getReason(),
                    describe(rpc, status, info.getReason(), ""), e);
        }
        return failure(rpc, e);
    }

    /** UNAVAILABLE and DEADLINE_EXCEEDED: the broker was not reached or did not answer; a retry may succeed. */
    static boolean isTransient(Status.Code code) {
        return code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED;
    }

    /**
     * Renewal answers that end a lease: the broker said the session is gone (NOT_FOUND), or that
     * this caller may never renew it (expired subscription, revoked or foreign credentials, a
     * malformed id). Everything else (unreachable, overloaded, internal errors) is retried while
     * the lease lasts, since the broker has not said the session ended.
     */
    static boolean endsLease(Status.Code code) {
        return switch (code) {
            case NOT_FOUND, FAILED_PRECONDITION, PERMISSION_DENIED, UNAUTHENTICATED, INVALID_ARGUMENT -> true;
            default -> false;
        };
    }

    private static String describe(String rpc, Status status, String reason, String field) {
        StringBuilder b = new StringBuilder(rpc)
                .append(isTransient(status.getCode()) ? " failed: " : " refused: ")
                .append(status.getCode());
        if (!reason.isEmpty() && !reason.equals(status.getCode().name())) {
            b.append(' ').append(reason);
        }
        if (!field.isEmpty()) {
            b.append(" (field ").append(field).append(')');
        }
        if (status.getDescription() != null && !status.getDescription().isEmpty()) {
            b.append(": ").append(status.getDescription());
        }
        return b.toString();
    }
}
