package io.licensebroker.client;

import io.grpc.Status;

import java.util.Objects;

/**
 * A call to the broker failed. Carries the gRPC status code and, when the broker refused the call
 * on purpose, the contract's {@code google.rpc.ErrorInfo} reason (e.g. {@code ACCOUNT_NOT_FOUND},
 * {@code INVALID_ARGUMENT}) and the offending request field. Match on {@link #reason()}, never on
 * the message text.
 *
 * <p>Unchecked, because nothing a caller can do at each call site differs from what it does with
 * any other runtime failure; callers that care catch it (or {@link LicenseDeniedException}) once.
 */
public class LicenseBrokerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final Status.Code code;
    private final String reason;
    private final String field;

    /**
     * @param code    the gRPC status code
     * @param reason  the ErrorInfo reason, or empty when the status carried none
     * @param field   the request field the refusal names, or empty
     * @param message what failed, for people
     * @param cause   the underlying exception, may be null
     */
    public LicenseBrokerException(Status.Code code, String reason, String field, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
        this.reason = reason == null ? "" : reason;
        this.field = field == null ? "" : field;
    }

    /** The gRPC status code of the failure. */
    /**
     * A failed call of {@code rpc} made on the generated stubs directly (tools that need a call the
     * clients do not make, such as a session that outlives the process), described as the SDK does.
     */
    public static LicenseBrokerException of(String rpc, io.grpc.StatusRuntimeException failure) {
        return Statuses.failure(rpc, failure);
    }

    public Status.Code code() {
        return code;
    }

    /** The contract's ErrorInfo reason, or empty when the status carried none (e.g. a network failure). */
    public String reason() {
        return reason;
    }

    /** The request field the broker named (ErrorInfo metadata {@code field}), or empty. */
    public String field() {
        return field;
    }

    /**
     * True when the broker could not be reached or did not answer in time (UNAVAILABLE,
     * DEADLINE_EXCEEDED): the call may or may not have taken effect, and retrying may help.
     */
    public boolean isUnreachable() {
        return code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED;
    }
}
