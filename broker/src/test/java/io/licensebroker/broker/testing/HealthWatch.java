package io.licensebroker.broker.testing;

import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A streaming gRPC health watch, as a load balancer holds one: every status the server reports, in
 * order. Close it before draining a server, since an open watch is a call that holds a drain open.
 */
public final class HealthWatch implements AutoCloseable {
    private final BlockingQueue<ServingStatus> statuses = new LinkedBlockingQueue<>();
    private final Context.CancellableContext watching = Context.current().withCancellation();

    private HealthWatch(Channel channel) {
        watching.run(() -> HealthGrpc.newStub(channel).watch(HealthCheckRequest.getDefaultInstance(), new StreamObserver<>() {
            @Override
            public void onNext(HealthCheckResponse value) {
                statuses.add(value.getStatus());
            }

            @Override
            public void onError(Throwable t) {
                // the watch ends with the server or with close()
            }

            @Override
            public void onCompleted() {
                // same
            }
        }));
    }

    public static HealthWatch start(Channel channel) {
        return new HealthWatch(channel);
    }

    /** The next status reported, or null when none came within 10 seconds. */
    public ServingStatus next() throws InterruptedException {
        return statuses.poll(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        watching.cancel(null);
    }
}
