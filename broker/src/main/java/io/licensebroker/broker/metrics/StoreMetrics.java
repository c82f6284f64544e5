package io.licensebroker.broker.metrics;

import io.licensebroker.broker.core.LicenseStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Store latency and store errors, per operation: {@code broker_store_operation_seconds{store,
 * operation}} (a histogram) and {@code broker_store_errors_total{store, operation}} (stages that
 * failed: a Redis timeout, a journal that cannot write). Every store fault surfaces as a failed
 * stage, so the errors counter of {@code store="redis"} is the Redis error rate.
 *
 * <p>A dynamic proxy rather than a hand-written decorator: it times every verb of
 * {@link LicenseStore}, including verbs added later, with no delegate method to forget. Meters
 * are registered once per verb up front; a call costs a map lookup by {@link Method} and a
 * completion callback.
 */
final class StoreMetrics implements InvocationHandler {
    static final String LATENCY = "broker.store.operation";
    static final String ERRORS = "broker.store.errors";

    private static final Duration[] BUCKETS = {
            Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1),
            Duration.ofNanos(2_500_000), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofSeconds(1)};

    private final LicenseStore delegate;
    private final Map<Method, Meters> byVerb = new HashMap<>();

    private record Meters(Timer latency, Counter errors) {
        void record(long started, boolean failed) {
            latency.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
            if (failed) {
                errors.increment();
            }
        }
    }

    private StoreMetrics(LicenseStore delegate, String kind, MeterRegistry registry) {
        this.delegate = delegate;
        for (Method verb : LicenseStore.class.getMethods()) {
            if (CompletionStage.class.isAssignableFrom(verb.getReturnType())) {
                // Overloads would share a series; the interface has none, and the map keys stay distinct anyway.
                byVerb.put(verb, new Meters(
                        Timer.builder(LATENCY).description("Store operations, from call to durable answer")
                                .tag("store", kind).tag("operation", verb.getName())
                                .serviceLevelObjectives(BUCKETS).register(registry),
                        Counter.builder(ERRORS).description("Store operations that failed (infrastructure faults, not refusals)")
                                .tag("store", kind).tag("operation", verb.getName()).register(registry)));
            }
        }
    }

    /** {@code store} with every asynchronous verb timed; {@code kind} names the store in the tags (memory, redis). */
    static LicenseStore timed(LicenseStore store, String kind, MeterRegistry registry) {
        return (LicenseStore) Proxy.newProxyInstance(LicenseStore.class.getClassLoader(), new Class<?>[]{LicenseStore.class},
                new StoreMetrics(store, kind, registry));
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        if (method.getDeclaringClass() == Object.class) {
            return switch (method.getName()) {
                case "equals" -> proxy == args[0];
                case "hashCode" -> System.identityHashCode(proxy);
                default -> "timed " + delegate;
            };
        }
        Meters meters = byVerb.get(method);
        long started = System.nanoTime();
        Object result;
        try {
            result = method.invoke(delegate, args);
        } catch (InvocationTargetException e) {
            if (meters != null) {
                meters.record(started, true);
            }
            throw e.getCause();
        }
        if (meters != null) {
            ((CompletionStage<?>) result).whenComplete((value, failure) -> meters.record(started, failure != null));
        }
        return result;
    }
}
