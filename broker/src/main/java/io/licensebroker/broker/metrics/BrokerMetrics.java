package io.licensebroker.broker.metrics;

import io.grpc.ServerInterceptor;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.core.StoreObserver;
import io.licensebroker.broker.grpc.AcquireObserver;
import io.licensebroker.broker.grpc.BrokerServer;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmHeapPressureMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Set;

/**
 * A broker node's metrics: one Prometheus registry of its own (never the global one, so that
 * several nodes in one JVM, as in tests, do not mix), the contract's metrics, RPC and store
 * metrics, JVM and process metrics, and the scrape.
 *
 * <pre>{@code
 * BrokerMetrics metrics = BrokerMetrics.create(10_000);
 * LicenseStore store = metrics.timed(MemoryStore.open(..., metrics.storeObserver()), "memory");
 * LicenseService service = new LicenseService(store, ...);
 * metrics.watchPools(service);
 * BrokerServer.start(options, service, metrics.instrumentation());
 * ...
 * String contentType = metrics.scrape(acceptHeader, responseBody);
 * }</pre>
 */
public final class BrokerMetrics implements AutoCloseable {
    /** The Prometheus text format, what a scraper gets unless it asks for OpenMetrics. */
    public static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";
    public static final String OPENMETRICS_FORMAT = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private static final String REDIS = "redis";
    private static final Set<String> LINT_REJECTED = Set.of("system.cpu.count", "process.cpu.time");

    private final PrometheusMeterRegistry registry;
    private final int maxPools;
    private final AcquireMetrics acquires;
    private final SeatMetrics seats;
    private final RpcMetrics rpc;
    private final Counter expired;
    private final JvmGcMetrics gc;
    private final JvmHeapPressureMetrics heapPressure;
    private PoolGauges pools;

    private BrokerMetrics(int maxPools) {
        this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, new PrometheusRegistry(), Clock.SYSTEM);
        // Meters whose Prometheus names promtool's lint rejects ("_count" on a gauge, a unit
        // abbreviation); process CPU time comes back below under its conventional name.
        registry.config().meterFilter(MeterFilter.deny(id -> LINT_REJECTED.contains(id.getName())));
        this.maxPools = maxPools;
        this.acquires = new AcquireMetrics(registry);
        this.seats = new SeatMetrics(registry);
        this.rpc = new RpcMetrics(registry);
        rpc.preregister(LicenseBrokerGrpc.getServiceDescriptor());
        rpc.preregister(LicenseAdminGrpc.getServiceDescriptor());
        this.expired = Counter.builder("license.sessions.expired")
                .description("Sessions ended because their lease ran out (the agent stopped renewing)")
                .register(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new JvmInfoMetrics().bindTo(registry);
        this.gc = new JvmGcMetrics();
        gc.bindTo(registry);
        this.heapPressure = new JvmHeapPressureMetrics();
        heapPressure.bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        processCpuSeconds(registry);
    }

    /** {@code process_cpu_seconds_total}, as every Prometheus client library names it; absent when the JVM cannot tell. */
    private static void processCpuSeconds(MeterRegistry registry) {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                && os.getProcessCpuTime() >= 0) {
            FunctionCounter.builder("process.cpu", os, bean -> bean.getProcessCpuTime() / 1e9)
                    .description("CPU time the broker process used, all threads together")
                    .baseUnit("seconds")
                    .register(registry);
        }
    }

    /**
     * @param maxPools most (account, pool, product) triples the pool gauges export (each is three
     *                 series); the rest are counted in {@code license_metrics_pools_dropped}
     */
    public static BrokerMetrics create(int maxPools) {
        if (maxPools < 0) {
            throw new IllegalArgumentException("maxPools cannot be negative: " + maxPools);
        }
        return new BrokerMetrics(maxPools);
    }

    /**
     * The registry, for adapters that bring their own Micrometer instrumentation; the Redis store
     * binds its client's command latency metrics here.
     */
    public MeterRegistry registry() {
        return registry;
    }

    /**
     * {@code broker_grpc_connections} (open on the gRPC port now) and
     * {@code broker_grpc_connections_refused_total} (closed on arrival, over a connection limit).
     */
    public void watchConnections(BrokerServer server) {
        // Micrometer holds the object weakly: the server, which the node holds, not a lambda.
        Gauge.builder("broker.grpc.connections", server, BrokerServer::connectionsOpen)
                .description("Connections open on the gRPC port")
                .register(registry);
        FunctionCounter.builder("broker.grpc.connections.refused", server, BrokerServer::connectionsRefused)
                .description("Connections closed as soon as they arrived because a connection limit was reached")
                .register(registry);
    }

    /** What the gRPC server reports: acquire decisions, new seats and activations, and every call. */
    public BrokerServer.Instrumentation instrumentation() {
        return new BrokerServer.Instrumentation(acquires, rpc, seats);
    }

    public AcquireObserver acquires() {
        return acquires;
    }

    public ServerInterceptor calls() {
        return rpc;
    }

    /**
     * Where a store reports what no caller asks about: {@code license_sessions_expired_total}, and
     * for Redis {@code broker_redis_state_losses_total} and {@code license_sessions_readmitted_total}
     * (registered at 0 when a Redis store is {@linkplain #timed timed}, so an embedded store exports
     * neither and an alert's {@code increase()} sees the first event).
     */
    public StoreObserver storeObserver() {
        return new StoreObserver() {
            @Override
            public void sessionsExpired(int count) {
                expired.increment(count);
            }

            @Override
            public void stateLost(String accountId, long lostAcquires) {
                // Per event, not per account: an account label would be unbounded.
                stateLosses().increment();
            }

            @Override
            public void sessionReadmitted() {
                readmitted().increment();
            }
        };
    }

    private Counter stateLosses() {
        return Counter.builder("broker.redis.state.losses")
                .description("Times this node found that Redis had lost acknowledged state of an account")
                .register(registry);
    }

    private Counter readmitted() {
        return Counter.builder("license.sessions.readmitted")
                .description("Sessions Redis had lost that were taken back when their agents renewed")
                .register(registry);
    }

    /** {@code store} with latency and errors of every operation measured; {@code kind} is memory or redis. */
    public LicenseStore timed(LicenseStore store, String kind) {
        if (REDIS.equals(kind)) {
            stateLosses();
            readmitted();
        }
        return StoreMetrics.timed(Objects.requireNonNull(store, "store"), kind, registry);
    }

    /**
     * Hook for the Redis store: connection-level failures that fail no single operation
     * (disconnects, failed reconnects, cluster topology refresh errors), as
     * {@code broker_redis_errors_total{kind}}. Failed operations are already counted by
     * {@code broker_store_errors_total{store="redis"}}. Registered on first use, so an embedded
     * store exports no such series.
     */
    public Counter redisErrors(String kind) {
        return Counter.builder("broker.redis.errors")
                .description("Redis connection-level failures that failed no single store operation")
                .tag("kind", kind)
                .register(registry);
    }

    /** Starts exporting the pool gauges of every account that {@code service} holds. Once per node. */
    public synchronized void watchPools(LicenseService service) {
        if (pools != null) {
            throw new IllegalStateException("the pool gauges are already watching a service");
        }
        pools = new PoolGauges(Objects.requireNonNull(service, "service"), maxPools);
        registry.getPrometheusRegistry().register(pools);
    }

    /**
     * Writes a scrape to {@code out} in the format the scraper asked for (its Accept header;
     * null: the Prometheus text format) and answers that format's Content-Type.
     */
    public String scrape(String accept, OutputStream out) throws IOException {
        String contentType = accept != null && accept.contains("application/openmetrics-text") ? OPENMETRICS_FORMAT : TEXT_FORMAT;
        registry.scrape(out, contentType);
        return contentType;
    }

    /** A scrape in the Prometheus text format. */
    public String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            scrape(null, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public synchronized void close() {
        if (pools != null) {
            registry.getPrometheusRegistry().unregister(pools);
        }
        gc.close();
        heapPressure.close();
        registry.close();
    }
}
