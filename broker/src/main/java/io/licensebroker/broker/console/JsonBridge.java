package io.licensebroker.broker.console;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * HTTP/JSON to gRPC, generic over a service's method descriptors: {@code POST
 * /api/<service>/<Method>} with the request message in proto3 JSON calls that unary method with the
 * caller's {@code Authorization} header as its {@code authorization} metadata, and answers the
 * response message in proto3 JSON (contract field names, zero values printed), or the refusal as
 * {@link ErrorBody}. There is no per-method code: every rule, check and message is the service's.
 */
final class JsonBridge {
    /** The gRPC metadata key the broker reads the bearer token from. */
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().preservingProtoFieldNames().includingDefaultValueFields()
            .omittingInsignificantWhitespace();
    private static final JsonFormat.Parser PARSER = JsonFormat.parser();

    /** What the HTTP side answers: a status and a JSON body. */
    record Answer(int status, byte[] json) {
    }

    private final Channel channel;
    private final Duration deadline;
    private final String prefix;
    private final Map<String, MethodDescriptor<Message, Message>> methods = new HashMap<>();

    /** Bridges the unary methods of {@code service}, reached at {@code /api/<service name>/<Method>}. */
    @SuppressWarnings("unchecked")
    JsonBridge(Channel channel, ServiceDescriptor service, Duration deadline) {
        this.channel = channel;
        this.deadline = deadline;
        this.prefix = "/api/" + service.getName() + "/";
        for (MethodDescriptor<?, ?> m : service.getMethods()) {
            if (m.getType() == MethodDescriptor.MethodType.UNARY
                    && m.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?>) {
                methods.put(m.getBareMethodName(), (MethodDescriptor<Message, Message>) m);
            }
        }
    }

    /** The path prefix this bridge answers under. */
    String prefix() {
        return prefix;
    }

    /** The method a request path names, if this bridge has it. */
    Optional<MethodDescriptor<Message, Message>> method(String path) {
        if (!path.startsWith(prefix)) {
            return Optional.empty();
        }
        return Optional.ofNullable(methods.get(path.substring(prefix.length())));
    }

    /** Calls {@code method} with {@code json} as its request; blocks this (HTTP) thread until the answer or the deadline. */
    Answer call(MethodDescriptor<Message, Message> method, String authorization, byte[] json) {
        Message request;
        try {
            Message prototype = (Message) ((MethodDescriptor.PrototypeMarshaller<?>) method.getRequestMarshaller()).getMessagePrototype();
            Message.Builder builder = prototype.newBuilderForType();
            String text = new String(json, StandardCharsets.UTF_8);
            PARSER.merge(text.isBlank() ? "{}" : text, builder);
            request = builder.build();
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            return refusal(ErrorBody.of(Status.Code.INVALID_ARGUMENT, "the request is not a " + method.getBareMethodName()
                    + " request in proto3 JSON: " + e.getMessage(), "INVALID_ARGUMENT", "body"));
        }
        Metadata headers = new Metadata();
        headers.put(AUTHORIZATION, authorization);
        Channel authorized = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
        try {
            Message response = ClientCalls.futureUnaryCall(
                    authorized.newCall(method, CallOptions.DEFAULT.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)), request)
                    .get(deadline.toMillis() + 1_000, TimeUnit.MILLISECONDS);
            return new Answer(200, PRINTER.print(response).getBytes(StandardCharsets.UTF_8));
        } catch (ExecutionException e) {
            return refusal(ErrorBody.of(e.getCause()));
        } catch (TimeoutException e) {
            return refusal(ErrorBody.of(Status.Code.DEADLINE_EXCEEDED, "the broker did not answer within " + deadline, "", ""));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return refusal(ErrorBody.of(Status.Code.UNAVAILABLE, "the console is shutting down", "", ""));
        } catch (InvalidProtocolBufferException e) {
            return refusal(ErrorBody.of(Status.Code.INTERNAL, "cannot print the answer as JSON: " + e.getMessage(), "", ""));
        }
    }

    static Answer refusal(ErrorBody body) {
        return new Answer(body.httpStatus(), body.json());
    }
}
