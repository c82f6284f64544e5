package io.licensebroker.broker.testing;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/** Reads the contract's ErrorInfo reason off a gRPC refusal, for tests that talk to real servers. */
public final class ErrorReasons {
    private ErrorReasons() {
    }

    /** The ErrorInfo reason of a refusal, or a description of the status when it carries none. */
    public static String of(StatusRuntimeException e) {
        com.google.rpc.Status status = StatusProto.fromThrowable(e);
        if (status != null) {
            for (var any : status.getDetailsList()) {
                if (any.is(ErrorInfo.class)) {
                    try {
                        return any.unpack(ErrorInfo.class).getReason();
                    } catch (InvalidProtocolBufferException ex) {
                        throw new AssertionError(ex);
                    }
                }
            }
        }
        return "(no ErrorInfo: " + e.getStatus() + ")";
    }
}
