/**
 * The broker's metrics, on Micrometer with its Prometheus registry, scraped from {@code /metrics}.
 *
 * <p>{@link io.licensebroker.broker.metrics.BrokerMetrics} is the only public type; it plugs into
 * the other packages through their own small interfaces, so none of them depends on Micrometer:
 * the core reports expired sessions through {@link io.licensebroker.broker.core.StoreObserver},
 * the gRPC edge reports acquire decisions through
 * {@link io.licensebroker.broker.grpc.AcquireObserver} and takes a {@code ServerInterceptor} for
 * per-call metrics, and the store is wrapped to be timed.
 *
 * <p>Exported (Prometheus names):
 * <ul>
 *   <li>the contract's: {@code license_pool_dedicated}, {@code license_pool_in_use},
 *       {@code license_pool_available} {account, pool, product}, read at scrape time;
 *       {@code license_acquire_total} {outcome, reason, fallback}; {@code license_acquire_seconds}
 *       (histogram); {@code license_sessions_expired_total};</li>
 *   <li>seats: {@code license_seats_granted_total} {product} and {@code license_activations_total}
 *       {outcome, reason, model}, reported by the gRPC edge through
 *       {@link io.licensebroker.broker.grpc.SeatObserver};</li>
 *   <li>{@code license_metrics_pools_dropped} and {@code license_metrics_pool_read_errors_total},
 *       so a bounded or failed pool export is visible;</li>
 *   <li>{@code grpc_server_handling_seconds} {grpc_service, grpc_method, grpc_type, grpc_code};</li>
 *   <li>{@code broker_store_operation_seconds} and {@code broker_store_errors_total} {store, operation};
 *       {@code broker_redis_errors_total} {kind} once a Redis store reports through its hook;</li>
 *   <li>Micrometer's JVM and process binders ({@code jvm_*}, {@code process_*}, {@code system_*}),
 *       and {@code process_cpu_seconds_total}.</li>
 * </ul>
 */
package io.licensebroker.broker.metrics;
