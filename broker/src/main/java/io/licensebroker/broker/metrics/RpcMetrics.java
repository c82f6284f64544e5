package io.licensebroker.broker.metrics;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Every gRPC call, by service, method and status code: {@code grpc_server_handling_seconds}
 * (count, sum, max) labelled {@code grpc_service}, {@code grpc_method}, {@code grpc_type},
 * {@code grpc_code}, the names of the widespread go-grpc-prometheus convention, so that existing
 * gRPC dashboards and alerts apply ({@code rate(grpc_server_handling_seconds_count{grpc_code!="OK"}[5m])}).
 *
 * <p>Written here rather than taken from Micrometer's gRPC binder: that one tags in camelCase
 * (which {@code promtool check metrics} rejects) and caches per status in an unsynchronized
 * EnumMap that many server threads write to. This one finds a method's meters in one concurrent
 * map lookup and a status's timer by array index, and builds no tags per call.
 */
final class RpcMetrics implements ServerInterceptor {
    static final String NAME = "grpc.server.handling";

    private final MeterRegistry registry;
    private final ConcurrentHashMap<String, MethodMeters> byMethod = new ConcurrentHashMap<>();

    RpcMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Registers the OK series of every method of {@code service} now, so rates start from zero. */
    void preregister(ServiceDescriptor service) {
        for (MethodDescriptor<?, ?> method : service.getMethods()) {
            meters(method).timer(Status.Code.OK);
        }
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        Timing<Q, R> timing = new Timing<>(call, meters(call.getMethodDescriptor()));
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(timing, headers)) {
            @Override
            public void onCancel() {
                // The client went away (or its deadline passed) before the server answered.
                timing.record(Status.Code.CANCELLED);
                super.onCancel();
            }
        };
    }

    private MethodMeters meters(MethodDescriptor<?, ?> method) {
        MethodMeters m = byMethod.get(method.getFullMethodName());
        return m != null ? m : byMethod.computeIfAbsent(method.getFullMethodName(), name -> new MethodMeters(method));
    }

    /** A call with its start time; records once, at close or cancel, whichever comes first. */
    private static final class Timing<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
        private final long started = System.nanoTime();
        private final MethodMeters meters;
        private final AtomicBoolean recorded = new AtomicBoolean();

        Timing(ServerCall<Q, R> call, MethodMeters meters) {
            super(call);
            this.meters = meters;
        }

        @Override
        public void close(Status status, Metadata trailers) {
            record(status.getCode());
            super.close(status, trailers);
        }

        void record(Status.Code code) {
            if (recorded.compareAndSet(false, true)) {
                meters.timer(code).record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
            }
        }
    }

    private final class MethodMeters {
        private final MethodDescriptor<?, ?> method;
        private final AtomicReferenceArray<Timer> byCode = new AtomicReferenceArray<>(Status.Code.values().length);

        MethodMeters(MethodDescriptor<?, ?> method) {
            this.method = method;
        }

        Timer timer(Status.Code code) {
            Timer t = byCode.get(code.ordinal());
            if (t == null) {
                // A lost race registers the same meter twice; the registry answers the existing one both times.
                t = Timer.builder(NAME)
                        .description("gRPC calls served, from arrival to the status being sent")
                        .tag("grpc_service", method.getServiceName())
                        .tag("grpc_method", method.getBareMethodName())
                        .tag("grpc_type", method.getType().name().toLowerCase(Locale.ROOT))
                        .tag("grpc_code", code.name())
                        .register(registry);
                byCode.set(code.ordinal(), t);
            }
            return t;
        }
    }
}
