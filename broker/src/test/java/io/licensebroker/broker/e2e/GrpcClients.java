package io.licensebroker.broker.e2e;

import com.google.rpc.ErrorInfo;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.licensebroker.broker.app.LocalNode;
import io.licensebroker.broker.testing.ErrorReasons;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.AbstractStub;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Real Netty channels and bearer-token stubs for end-to-end tests. */
final class GrpcClients {
    private GrpcClients() {
    }

    static ManagedChannel channel(int port) {
        return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    }

    /** A TLS channel to {@code localhost:port} trusting only the certificates in {@code trustedPem}. */
    static ManagedChannel tlsChannel(int port, Path trustedPem) throws IOException {
        return Grpc.newChannelBuilderForAddress("localhost", port,
                TlsChannelCredentials.newBuilder().trustManager(trustedPem.toFile()).build()).build();
    }

    static <S extends AbstractStub<S>> S withToken(S stub, String token) {
        return LocalNode.withToken(stub, token).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    /** The ErrorInfo reason of a refusal. */
    static String reason(StatusRuntimeException e) {
        return ErrorReasons.of(e);
    }
}
