package io.licensebroker.broker.grpc;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.StoreRefusedException;
import io.licensebroker.broker.core.StoreUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * The one place refusals become gRPC statuses. Every status carries a {@code google.rpc.ErrorInfo}
 * (domain {@value #DOMAIN}) whose reason is the contract's ErrorReason name, because clients match
 * on the reason, never on the message text; INVALID_ARGUMENT (and any refusal caused by one
 * request field) names that field in metadata {@code field}.
 */
final class Errors {
    static final String DOMAIN = "licensebroker";
    static final String FIELD = "field";

    /** Edge-only reasons: the core never decides these, so they are not {@link Reason} constants. */
    static final String UNAUTHENTICATED = "UNAUTHENTICATED";
    static final String STORE_UNAVAILABLE = "STORE_UNAVAILABLE";
    static final String INVALID_LICENSE_FILE = "INVALID_LICENSE_FILE";
    static final String TOO_MANY_FAILED_AUTHENTICATIONS = "TOO_MANY_FAILED_AUTHENTICATIONS";

    private static final Logger LOG = LoggerFactory.getLogger(Errors.class);
    /** Bounds the cause-chain walk: a self-referencing chain must not spin forever. */
    private static final int MAX_CAUSE_DEPTH = 32;

    private Errors() {
    }

    /**
     * A refusal raised at the edge (validation, authentication) before or instead of a core call.
     * It carries its finished status; it is a control-flow signal, so it skips the stack trace.
     */
    static final class Refusal extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient StatusRuntimeException status;

        Refusal(StatusRuntimeException status) {
            super(status.getStatus().getDescription(), null, false, false);
            this.status = status;
        }

        StatusRuntimeException status() {
            return status;
        }
    }

    static StatusRuntimeException denied(Decision.Denied<?> denied) {
        return status(code(denied.reason()), denied.reason().name(), denied.detail(), denied.field());
    }

    /**
     * The status code of each core reason. An exhaustive switch: a new Reason does not compile
     * until someone decides its code.
     */
    static Code code(Reason reason) {
        return switch (reason) {
            case NO_LICENSE_AVAILABLE, ORGANIZATION_POOL_EXHAUSTED, MACHINE_QUOTA_EXCEEDED -> Code.RESOURCE_EXHAUSTED;
            case SUBSCRIPTION_EXPIRED, NO_SUBSCRIPTION, INSUFFICIENT_LICENSES, BELOW_IN_USE, NOT_LICENSED, SEAT_IN_USE,
                 LICENSE_MODEL_MISMATCH, OFFLINE_BOUND -> Code.FAILED_PRECONDITION;
            case SESSION_EXPIRED, SESSION_TERMINATED, SESSION_NOT_FOUND, ACCOUNT_NOT_FOUND, ORGANIZATION_NOT_FOUND,
                 USER_NOT_FOUND, MACHINE_NOT_FOUND, CREDENTIAL_NOT_FOUND -> Code.NOT_FOUND;
            case INVALID_ARGUMENT -> Code.INVALID_ARGUMENT;
            case ALREADY_EXISTS -> Code.ALREADY_EXISTS;
            case PERMISSION_DENIED -> Code.PERMISSION_DENIED;
            case STORE_RECOVERING -> Code.UNAVAILABLE;
        };
    }

    static Refusal invalid(String field, String why) {
        return new Refusal(status(Code.INVALID_ARGUMENT, Reason.INVALID_ARGUMENT.name(), field + ": " + why, field));
    }

    static Refusal invalidLicenseFile(String why) {
        return new Refusal(status(Code.INVALID_ARGUMENT, INVALID_LICENSE_FILE, why, "license_file"));
    }

    static Refusal unauthenticated(String why) {
        return new Refusal(status(Code.UNAUTHENTICATED, UNAUTHENTICATED, why, null));
    }

    static Refusal tooManyFailedAuthentications() {
        return new Refusal(status(Code.RESOURCE_EXHAUSTED, TOO_MANY_FAILED_AUTHENTICATIONS,
                "too many failed authentications; retry after " + AuthFailureLimiter.WINDOW.toSeconds()
                        + " s without failures", null));
    }

    static <T> Decision<T> permissionDenied(String why, String field) {
        return Decision.denied(Reason.PERMISSION_DENIED, why, field);
    }

    /**
     * What a failed stage tells the client. Edge refusals keep their status; a store fault
     * anywhere in the cause chain is UNAVAILABLE (the call changed nothing and may be retried);
     * anything else is a bug, logged here in full and answered INTERNAL without details, so no
     * stack trace, token or internal state reaches the client.
     */
    static StatusRuntimeException fromThrowable(Throwable failure) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Throwable t = failure; t != null && seen.add(t) && seen.size() <= MAX_CAUSE_DEPTH; t = t.getCause()) {
            if (t instanceof Refusal refusal) {
                return refusal.status();
            }
            if (t instanceof StoreRefusedException refused) {
                // Retrying does not help until the operator acts: the message says what to fix.
                return status(Code.UNAVAILABLE, STORE_UNAVAILABLE, refused.getMessage(), null);
            }
            if (t instanceof StoreUnavailableException unavailable) {
                LOG.warn("store unavailable: {}", t.getMessage());
                String message = unavailable.clientMessage() != null ? unavailable.clientMessage() : "the store is unavailable; retry later";
                return status(Code.UNAVAILABLE, STORE_UNAVAILABLE, message, null);
            }
        }
        LOG.error("unexpected failure while serving a call", failure);
        // No ErrorInfo: INTERNAL is not a refusal with a contract reason but a bug of ours.
        return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                .setCode(Code.INTERNAL.getNumber()).setMessage("internal error").build());
    }

    static StatusRuntimeException status(Code code, String reason, String message, String field) {
        ErrorInfo.Builder info = ErrorInfo.newBuilder().setDomain(DOMAIN).setReason(reason);
        if (field != null && !field.isEmpty()) {
            info.putMetadata(FIELD, field);
        }
        com.google.rpc.Status status = com.google.rpc.Status.newBuilder()
                .setCode(code.getNumber())
                .setMessage(message == null ? "" : message)
                .addDetails(Any.pack(info.build()))
                .build();
        return StatusProto.toStatusRuntimeException(status);
    }

    /** The ErrorInfo reason of a status made here, or null when it carries none (INTERNAL, transport statuses). */
    static String reason(StatusRuntimeException status) {
        com.google.rpc.Status proto = StatusProto.fromThrowable(status);
        if (proto != null) {
            for (Any detail : proto.getDetailsList()) {
                if (detail.is(ErrorInfo.class)) {
                    try {
                        return detail.unpack(ErrorInfo.class).getReason();
                    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                        return null;
                    }
                }
            }
        }
        return null;
    }
}
