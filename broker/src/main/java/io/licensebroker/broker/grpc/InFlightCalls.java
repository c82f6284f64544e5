package io.licensebroker.broker.grpc;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the calls a handler may still be working on, from their start until gRPC reports them
 * complete or cancelled (every call ends with exactly one of the two).
 *
 * <p>This, not the transport, is what a graceful shutdown waits for: an HTTP/2 stream can outlive
 * its call. When a request is over the message limit, gRPC answers RESOURCE_EXHAUSTED in trailers
 * without resetting the stream; a client still sending the rest of the message then waits for
 * flow-control credit that never comes, and the stream stays open until the connection closes,
 * holding the server's termination for the whole drain although no call is left.
 */
final class InFlightCalls implements ServerInterceptor {
    private final AtomicInteger count = new AtomicInteger();

    int count() {
        return count.get();
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        count.incrementAndGet();
        AtomicBoolean done = new AtomicBoolean();
        ServerCall.Listener<Q> listener;
        try {
            listener = next.startCall(call, headers);
        } catch (RuntimeException | Error e) {
            // gRPC closes a call whose start threw, without telling this listener.
            if (done.compareAndSet(false, true)) {
                count.decrementAndGet();
            }
            throw e;
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onComplete() {
                try {
                    super.onComplete();
                } finally {
                    end();
                }
            }

            @Override
            public void onCancel() {
                try {
                    super.onCancel();
                } finally {
                    end();
                }
            }

            private void end() {
                if (done.compareAndSet(false, true)) {
                    count.decrementAndGet();
                }
            }
        };
    }
}
