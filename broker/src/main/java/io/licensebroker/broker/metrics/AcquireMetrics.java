package io.licensebroker.broker.metrics;

import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.grpc.AcquireObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * {@code license_acquire_total{outcome, reason, fallback}} and {@code license_acquire_seconds}.
 *
 * <p>Every counter is looked up by array index, never by building tags on the hot path: the two
 * granted series and the contract's denial reasons are registered up front (so that
 * {@code rate()} starts from zero, not from the first denial), any other reason once, on first use.
 */
final class AcquireMetrics implements AcquireObserver {
    static final String NAME = "license.acquire";

    /** The refusals of AcquireSession named by the contract; others (a malformed request id...) are registered when seen. */
    private static final Set<Reason> CONTRACT_DENIALS = EnumSet.of(Reason.NO_LICENSE_AVAILABLE,
            Reason.ORGANIZATION_POOL_EXHAUSTED, Reason.MACHINE_QUOTA_EXCEEDED, Reason.SUBSCRIPTION_EXPIRED,
            Reason.NO_SUBSCRIPTION);

    /**
     * Buckets sized for a broker that answers in well under a millisecond from memory and in a few
     * milliseconds when it waits for an fsync or a Redis round trip; the tail buckets catch stalls.
     */
    static final Duration[] BUCKETS = {
            Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofNanos(2_500_000),
            Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
            Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
            Duration.ofMillis(2_500), Duration.ofSeconds(5), Duration.ofSeconds(10)};

    private final MeterRegistry registry;
    private final Counter granted;
    private final Counter grantedFallback;
    private final AtomicReferenceArray<Counter> denied = new AtomicReferenceArray<>(Reason.values().length);
    private final Timer latency;

    AcquireMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.granted = counter("granted", "ok", false);
        this.grantedFallback = counter("granted", "ok", true);
        CONTRACT_DENIALS.forEach(this::deniedCounter);
        this.latency = Timer.builder(NAME)
                .description("Time from an AcquireSession reaching the core to its decision being durable, granted or denied")
                .serviceLevelObjectives(BUCKETS)
                .register(registry);
    }

    @Override
    public void decided(Decision<Session> decision, long nanos) {
        latency.record(nanos, TimeUnit.NANOSECONDS);
        if (decision instanceof Decision.Granted<Session> g) {
            (g.value().fallback() ? grantedFallback : granted).increment();
        } else if (decision instanceof Decision.Denied<Session> d) {
            deniedCounter(d.reason()).increment();
        }
    }

    private Counter deniedCounter(Reason reason) {
        Counter c = denied.get(reason.ordinal());
        if (c == null) {
            // A lost race registers the same meter twice; the registry answers the existing one both times.
            c = counter("denied", reason.name(), false);
            denied.set(reason.ordinal(), c);
        }
        return c;
    }

    private Counter counter(String outcome, String reason, boolean fallback) {
        return Counter.builder(NAME)
                .description("AcquireSession decisions: granted (from the user's own pools or, fallback=true, from the account pool) or denied, with the denial reason")
                .tag("outcome", outcome)
                .tag("reason", reason)
                .tag("fallback", Boolean.toString(fallback))
                .register(registry);
    }
}
