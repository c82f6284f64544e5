package io.licensebroker.broker.console;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;

import java.nio.charset.StandardCharsets;

/**
 * A refusal as the console's JSON: {@code {code, message, reason, field}} taken from the gRPC status
 * and its {@code ErrorInfo}, so the page shows the broker's own words and can match on the reason.
 */
record ErrorBody(int httpStatus, String code, String message, String reason, String field) {
    private static final String DOMAIN = "licensebroker";

    /** The refusal a failed call carries. */
    static ErrorBody of(Throwable failure) {
        Status status = Status.fromThrowable(failure);
        String reason = "";
        String field = "";
        com.google.rpc.Status rich = StatusProto.fromThrowable(failure);
        if (rich != null) {
            for (Any detail : rich.getDetailsList()) {
                if (detail.is(ErrorInfo.class)) {
                    try {
                        ErrorInfo info = detail.unpack(ErrorInfo.class);
                        if (DOMAIN.equals(info.getDomain())) {
                            reason = info.getReason();
                            field = info.getMetadataOrDefault("field", "");
                        }
                    } catch (InvalidProtocolBufferException e) {
                        // a detail that does not parse says nothing: the code and message remain
                    }
                }
            }
        }
        String message = status.getDescription() == null ? status.getCode().name() : status.getDescription();
        return new ErrorBody(HttpStatuses.of(status.getCode()), status.getCode().name(), message, reason, field);
    }

    /** A refusal of the bridge itself, before any call (no token, a foreign origin, bad JSON). */
    static ErrorBody of(Status.Code code, String message, String reason, String field) {
        return new ErrorBody(HttpStatuses.of(code), code.name(), message, reason, field);
    }

    /** Printed by protobuf's JSON mapping, like every answer of the bridge: no hand-rolled escaping. */
    byte[] json() {
        Struct body = Struct.newBuilder()
                .putFields("code", text(code))
                .putFields("message", text(message))
                .putFields("reason", text(reason))
                .putFields("field", text(field))
                .build();
        try {
            return JsonFormat.printer().omittingInsignificantWhitespace().print(body).getBytes(StandardCharsets.UTF_8);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("a Struct of strings always prints", e);
        }
    }

    private static Value text(String s) {
        return Value.newBuilder().setStringValue(s).build();
    }
}
