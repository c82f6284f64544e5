package io.licensebroker.broker.grpc;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/** Assertions on refusals in the contract's rich error model: code, ErrorInfo reason, field. */
final class Refusals {
    private Refusals() {
    }

    /** Asserts code and reason; the field too when {@code field} is not null. */
    static StatusRuntimeException assertRefused(Status.Code code, String reason, String field, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call,
                "expected " + code + " " + reason + (field == null ? "" : " on " + field));
        ErrorInfo info = errorInfo(e);
        assertEquals(code, e.getStatus().getCode(), () -> "status code of " + describe(e, info));
        assertEquals(reason, info.getReason(), () -> "ErrorInfo reason of " + describe(e, info));
        assertEquals(Errors.DOMAIN, info.getDomain(), () -> "ErrorInfo domain of " + describe(e, info));
        if (field != null) {
            assertEquals(field, info.getMetadataMap().get(Errors.FIELD), () -> "ErrorInfo field of " + describe(e, info));
        }
        if (code == Status.Code.INVALID_ARGUMENT) {
            assertNotNull(info.getMetadataMap().get(Errors.FIELD), () -> "INVALID_ARGUMENT must name a field: " + describe(e, info));
        }
        return e;
    }

    static StatusRuntimeException assertRefused(Status.Code code, String reason, Executable call) {
        return assertRefused(code, reason, null, call);
    }

    static StatusRuntimeException assertInvalid(String field, Executable call) {
        return assertRefused(Status.Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", field, call);
    }

    static StatusRuntimeException assertDenied(Executable call) {
        return assertRefused(Status.Code.PERMISSION_DENIED, "PERMISSION_DENIED", call);
    }

    static StatusRuntimeException assertUnauthenticated(Executable call) {
        return assertRefused(Status.Code.UNAUTHENTICATED, "UNAUTHENTICATED", call);
    }

    /** The single ErrorInfo detail of a refusal (fails when there is none). */
    static ErrorInfo errorInfo(Throwable e) {
        com.google.rpc.Status status = StatusProto.fromThrowable(e);
        if (status == null) {
            fail("no rich status details in " + e);
        }
        ErrorInfo found = null;
        for (Any any : status.getDetailsList()) {
            if (any.is(ErrorInfo.class)) {
                if (found != null) {
                    fail("more than one ErrorInfo in " + e);
                }
                try {
                    found = any.unpack(ErrorInfo.class);
                } catch (InvalidProtocolBufferException ex) {
                    throw new AssertionError(ex);
                }
            }
        }
        if (found == null) {
            fail("no ErrorInfo in " + e);
        }
        return found;
    }

    private static String describe(StatusRuntimeException e, ErrorInfo info) {
        return e.getStatus() + " " + info.getReason() + " " + info.getMetadataMap();
    }
}
