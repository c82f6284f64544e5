package io.licensebroker.loadtest;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import io.grpc.stub.StreamObserver;
import io.licensebroker.broker.grpc.BrokerServer;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.AcquireSessionResponse;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.ReleaseSessionRequest;
import io.licensebroker.proto.v1.ReleaseSessionResponse;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.RenewSessionResponse;

import java.io.IOException;
import java.time.Instant;
import java.util.List;

/**
 * What gRPC itself costs here: the broker's agent service on the broker's own server stack and
 * settings, answering canned responses of the real sizes without doing any work.
 */
final class FloorServer implements AutoCloseable {
    private final BrokerServer server;

    private FloorServer(BrokerServer server) {
        this.server = server;
    }

    static FloorServer start() throws IOException {
        Instant now = Instant.now();
        AcquireSessionResponse acquired = AcquireSessionResponse.newBuilder()
                .setSessionId("lt-12345678." + "a".repeat(26))
                .setPoolId("lt-12345678")
                .setFallback(false)
                .setLeaseExpiresAt(Timestamp.newBuilder().setSeconds(now.getEpochSecond() + 60).setNanos(123_456_789))
                .setRenewInterval(Duration.newBuilder().setSeconds(20))
                .build();
        RenewSessionResponse renewed = RenewSessionResponse.newBuilder()
                .setLeaseExpiresAt(acquired.getLeaseExpiresAt()).setPoolId(acquired.getPoolId())
                .setRenewInterval(acquired.getRenewInterval()).build();
        ReleaseSessionResponse released = ReleaseSessionResponse.newBuilder().setReleased(true).build();
        LicenseBrokerGrpc.LicenseBrokerImplBase noop = new LicenseBrokerGrpc.LicenseBrokerImplBase() {
            @Override
            public void acquireSession(AcquireSessionRequest request, StreamObserver<AcquireSessionResponse> out) {
                out.onNext(acquired);
                out.onCompleted();
            }

            @Override
            public void renewSession(RenewSessionRequest request, StreamObserver<RenewSessionResponse> out) {
                out.onNext(renewed);
                out.onCompleted();
            }

            @Override
            public void releaseSession(ReleaseSessionRequest request, StreamObserver<ReleaseSessionResponse> out) {
                out.onNext(released);
                out.onCompleted();
            }
        };
        return new FloorServer(BrokerServer.start(BrokerServer.Options.defaults(0), List.of(noop.bindService())));
    }

    int port() {
        return server.port();
    }

    @Override
    public void close() {
        server.shutdown(java.time.Duration.ofSeconds(5));
    }
}
