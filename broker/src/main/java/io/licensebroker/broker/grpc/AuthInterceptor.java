package io.licensebroker.broker.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Iterator;

/**
 * Extracts the bearer token of a call and hands it to the handlers through {@link #TOKEN}.
 *
 * <p>The interceptor only parses the header; it does not look the token up. Resolving a token is
 * a store read that may complete later (a remote store), and an interceptor must hand back a
 * listener synchronously: waiting there would block a gRPC thread. So each handler resolves the
 * token asynchronously through {@link Gate} before doing its work. Calls without a well-formed
 * header are refused here, cheaply, before any handler runs.
 */
final class AuthInterceptor implements ServerInterceptor {
    /** The raw bearer token of the current call; never logged. */
    static final Context.Key<String> TOKEN = Context.key("licensebroker-bearer-token");
    /** The caller's address without port (failed authentications of non-broker tokens are counted per address). */
    static final Context.Key<String> PEER = Context.key("licensebroker-peer-address");

    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    static final int MAX_TOKEN_LENGTH = 512;
    private static final String SCHEME = "Bearer";

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String token;
        try {
            token = bearerToken(headers);
        } catch (Errors.Refusal refusal) {
            StatusRuntimeException status = refusal.status();
            call.close(status.getStatus(), status.getTrailers());
            return new ServerCall.Listener<>() {
            };
        }
        return Contexts.interceptCall(Context.current().withValue(TOKEN, token).withValue(PEER, peer(call)), call, headers, next);
    }

    /** The remote host (no port: a guesser opening new connections must not get a fresh count each time). */
    static String peer(ServerCall<?, ?> call) {
        SocketAddress address = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        if (address instanceof InetSocketAddress inet) {
            return inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString();
        }
        return String.valueOf(address);
    }

    /**
     * The token of the single {@code authorization: Bearer <token>} header. The scheme is
     * case-insensitive (RFC 7235); the token must be visible ASCII without spaces and at most
     * {@value #MAX_TOKEN_LENGTH} characters, which bounds the hashing work an anonymous caller
     * can cause.
     */
    static String bearerToken(Metadata headers) {
        Iterable<String> values = headers.getAll(AUTHORIZATION);
        if (values == null) {
            throw Errors.unauthenticated("missing authorization header; expected \"Bearer <token>\"");
        }
        Iterator<String> it = values.iterator();
        String value = it.next();
        if (it.hasNext()) {
            throw Errors.unauthenticated("more than one authorization header");
        }
        int space = value.indexOf(' ');
        if (space != SCHEME.length() || !value.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            throw Errors.unauthenticated("the authorization scheme must be Bearer");
        }
        String token = value.substring(space + 1).strip();
        if (token.isEmpty()) {
            throw Errors.unauthenticated("empty bearer token");
        }
        if (token.length() > MAX_TOKEN_LENGTH) {
            throw Errors.unauthenticated("bearer token longer than " + MAX_TOKEN_LENGTH + " characters");
        }
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c <= 0x20 || c > 0x7e) {
                throw Errors.unauthenticated("malformed bearer token");
            }
        }
        return token;
    }
}
