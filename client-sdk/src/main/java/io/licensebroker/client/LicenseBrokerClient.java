package io.licensebroker.client;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.AcquireSessionResponse;
import io.licensebroker.proto.v1.ActivateLicenseRequest;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The runtime's connection to the license broker: acquires {@link LicenseSession}s, which then
 * renew themselves, and activates seats ({@link Activation}s: a floating one renews itself the
 * same way). One client per process is enough; it is thread-safe.
 *
 * <pre>{@code
 * try (LicenseBrokerClient client = LicenseBrokerClient.builder()
 *         .target("broker-1:7443").target("broker-2:7443")   // failover between nodes
 *         .apiKey(System.getenv("LICENSE_BROKER_API_KEY"))
 *         .leaseListener((session, reason) -> stopWork(session))
 *         .build();
 *      LicenseSession session = client.acquire("machine-42")) {
 *     doLicensedWork();
 * } catch (LicenseDeniedException e) {
 *     log("no license: " + e.reason());                   // e.g. NO_LICENSE_AVAILABLE
 * }
 * }</pre>
 *
 * <p>All sessions share the client's channel and one scheduler thread that times their
 * renewals (renewals themselves are asynchronous calls, so one thread serves thousands of
 * sessions). Several targets, or a {@code dns:///} name with several addresses, are spread by
 * gRPC's round_robin policy, which skips nodes that are down; calls that fail UNAVAILABLE are
 * retried by gRPC's retry policy on another node, and the SDK adds its own jittered backoff on top.
 */
public final class LicenseBrokerClient implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(LicenseBrokerClient.class.getName());
    /** Closing waits this long beyond the call timeout for the releases of live sessions. */
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(1);

    private final ManagedChannel channel;
    private final SessionRuntime runtime;
    private final ConnectionSpec spec;
    private final ScheduledExecutorService ownedScheduler;
    private final AtomicBoolean closed = new AtomicBoolean();

    private LicenseBrokerClient(Builder b) {
        this.spec = b.spec;
        if (b.apiKey == null) {
            throw new IllegalStateException("no API key: call apiKey(key)");
        }
        var credential = ConnectionSpec.bearer(b.apiKey, "apiKey");
        this.ownedScheduler = b.scheduler == null ? newScheduler() : null;
        ScheduledExecutorService scheduler = b.scheduler == null ? ownedScheduler : b.scheduler;
        // Every agent call may be repeated safely: acquires carry a request id, renewals and
        // releases are idempotent at the broker.
        try {
            this.channel = spec.open(List.of(LicenseBrokerGrpc.SERVICE_NAME));
        } catch (RuntimeException e) {
            if (ownedScheduler != null) {
                ownedScheduler.shutdownNow();
            }
            throw e;
        }
        this.runtime = new SessionRuntime(channel, credential, scheduler, b.clock, spec, b.listener);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Acquires a license of the default product for {@code machineId}, without waiting. */
    public LicenseSession acquire(String machineId) {
        return acquire(machineId, AcquireOptions.defaults());
    }

    /**
     * Acquires a license for {@code machineId} (a stable id of the machine the runtime runs on).
     * Every attempt of one call sends the same request id, so retries after a lost answer return
     * the same session instead of taking a second license.
     *
     * <p>UNAVAILABLE and DEADLINE_EXCEEDED are retried with jittered backoff (up to the retry
     * policy's attempts, and for as long as {@link AcquireOptions#waitUpTo()} allows). When every
     * pool is full, the call keeps asking until {@code waitUpTo} has passed.
     *
     * @throws LicenseDeniedException when the broker refuses the license ({@link LicenseDeniedException#reason()})
     * @throws LicenseBrokerException on any other failure (unreachable broker, bad credentials, bad input);
     *                                if an answer was lost and the call gave up, a session the broker may
     *                                have granted is never renewed and ends one lease length later
     */
    public LicenseSession acquire(String machineId, AcquireOptions options) {
        Objects.requireNonNull(options, "options");
        checkMachineId(machineId);
        ensureOpen();
        String requestId = options.requestId().orElseGet(() -> UUID.randomUUID().toString());
        AcquireSessionRequest request = AcquireSessionRequest.newBuilder()
                .setProduct(options.product()).setMachineId(machineId).setRequestId(requestId).build();
        AcquireSessionResponse granted = retrying("AcquireSession", options.waitUpTo(),
                () -> runtime.blocking().acquireSession(request));
        return started(new LicenseSession(runtime, granted, options.product(), machineId, requestId,
                options.listener().orElse(null)));
    }

    /** Activates the user's seat of the default product on {@code machineId}; see {@link #activate(String, ActivateOptions)}. */
    public Activation activate(String machineId) {
        return activate(machineId, ActivateOptions.defaults());
    }

    /**
     * Activates the API key's user's seat of a seat product (CONTRACT.md section 5) on
     * {@code machineId}. A FLOATING seat answers a lease that renews itself exactly like an
     * acquired session (same listeners, same handling of lost renewals, released exactly once by
     * {@link Activation#close()} or by closing the client). A NODE_LOCKED seat answers its binding
     * to the machine: nothing renews, and closing gives nothing back (an admin deactivates the
     * machine to move the seat).
     *
     * <p>UNAVAILABLE and DEADLINE_EXCEEDED are retried with jittered backoff and the same request
     * id; an activation is idempotent per machine, so a retry after a lost answer gets the same one.
     *
     * @throws LicenseDeniedException when the broker refuses: {@code NOT_LICENSED}, {@code SEAT_IN_USE},
     *                                {@code LICENSE_MODEL_MISMATCH} (a session product: acquire instead),
     *                                {@code MACHINE_QUOTA_EXCEEDED}, {@code NO_SUBSCRIPTION}, {@code SUBSCRIPTION_EXPIRED}
     * @throws LicenseBrokerException on any other failure (unreachable broker, bad credentials, bad input)
     */
    public Activation activate(String machineId, ActivateOptions options) {
        Objects.requireNonNull(options, "options");
        checkMachineId(machineId);
        ensureOpen();
        String requestId = options.requestId().orElseGet(() -> UUID.randomUUID().toString());
        ActivateLicenseRequest request = ActivateLicenseRequest.newBuilder().setProduct(options.product())
                .setMachineId(machineId).setRequestId(requestId).setTakeOver(options.takeOver()).build();
        io.licensebroker.proto.v1.Activation granted = retrying("ActivateLicense", Duration.ZERO,
                () -> runtime.blocking().activateLicense(request));
        if (!granted.hasLeaseExpiresAt()) {
            return Activation.nodeLocked(granted, options.product());
        }
        LicenseSession lease = started(new LicenseSession(runtime, granted, options.product(), requestId,
                options.listener().orElse(null)));
        return Activation.floating(granted, options.product(), lease);
    }

    /** Starts renewing a session the broker just granted, unless the client closed meanwhile. */
    private LicenseSession started(LicenseSession session) {
        session.start();
        if (closed.get()) {
            // The client closed while the call was in flight, after it released the sessions it knew.
            session.close();
            throw new IllegalStateException("the client is closed");
        }
        return session;
    }

    /**
     * Calls {@code attempt} until it answers: UNAVAILABLE and DEADLINE_EXCEEDED are retried with
     * jittered backoff (up to the retry policy's attempts, and for as long as {@code waitUpTo}
     * allows), and while every pool is full (RESOURCE_EXHAUSTED) the call keeps asking until
     * {@code waitUpTo} has passed. Anything else is thrown as the SDK's exception at once.
     */
    private <R> R retrying(String rpc, Duration waitUpTo, Supplier<R> attempt) {
        long start = System.nanoTime();
        long budget = waitUpTo.toNanos();
        Backoff transientBackoff = spec.newBackoff();
        Backoff fullPoolsBackoff = spec.newBackoff();
        int transientFailures = 0;
        while (true) {
            ensureOpen();
            try {
                return attempt.get();
            } catch (StatusRuntimeException e) {
                LicenseBrokerException failure = Statuses.licenseFailure(rpc, e);
                long left = budget - (System.nanoTime() - start);
                Duration pause;
                if (Statuses.isTransient(e.getStatus().getCode())) {
                    transientFailures++;
                    if (transientFailures >= spec.maxAttempts() && left <= 0) {
                        throw failure;
                    }
                    runtime.reconnectNow();
                    pause = transientBackoff.next();
                } else if (failure instanceof LicenseDeniedException && e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED && left > 0) {
                    pause = fullPoolsBackoff.next();
                } else {
                    throw failure;
                }
                if (left > 0 && pause.toNanos() > left) {
                    pause = Duration.ofNanos(left); // one last attempt right at the end of the wait
                }
                pause(pause, failure);
            }
        }
    }

    private static void checkMachineId(String machineId) {
        Objects.requireNonNull(machineId, "machineId");
        if (machineId.isBlank()) {
            throw new IllegalArgumentException("machineId must not be blank");
        }
    }

    /** The sessions of this client that are still active, the leases of its floating activations included. */
    public List<LicenseSession> sessions() {
        return runtime.liveSessions();
    }

    /**
     * Releases every active session and floating activation (in parallel, each with the call timeout), stops renewing and
     * closes the connection. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            CompletableFuture<?>[] releases = runtime.liveSessions().stream()
                    .map(s -> s.release().exceptionally(failure -> {
                        LOG.log(System.Logger.Level.WARNING, "could not release " + s.sessionId()
                                + "; its license returns when the lease runs out: " + failure.getMessage());
                        return false;
                    }))
                    .toArray(CompletableFuture<?>[]::new);
            CompletableFuture.allOf(releases).get(spec.callTimeout().plus(CLOSE_GRACE).toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException | TimeoutException e) {
            LOG.log(System.Logger.Level.WARNING, "releasing the sessions at close did not finish: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (ownedScheduler != null) {
                ownedScheduler.shutdownNow();
            }
            channel.shutdown();
            try {
                if (!channel.awaitTermination(CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                    channel.shutdownNow();
                }
            } catch (InterruptedException e) {
                channel.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "LicenseBrokerClient[" + spec.describeTargets() + (closed.get() ? ", closed" : "") + "]";
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("the client is closed");
        }
    }

    private static void pause(Duration pause, LicenseBrokerException lastFailure) {
        try {
            TimeUnit.NANOSECONDS.sleep(pause.toNanos());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LicenseBrokerException(Status.Code.CANCELLED, lastFailure.reason(), lastFailure.field(),
                    "interrupted while acquiring a license; last answer: " + lastFailure.getMessage(), lastFailure);
        }
    }

    /**
     * The one scheduler of the client: a single daemon thread (it only times renewals and starts
     * asynchronous calls, and must never keep a JVM alive). Cancelled renewals leave the queue at
     * once, so closed sessions do not pile up.
     */
    private static ScheduledExecutorService newScheduler() {
        AtomicInteger n = new AtomicInteger();
        ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "license-broker-renewals-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        scheduler.setRemoveOnCancelPolicy(true);
        return scheduler;
    }

    /** Builds a {@link LicenseBrokerClient}; {@link #target} and {@link #apiKey} are required. */
    public static final class Builder extends ClientBuilder<Builder> {
        private String apiKey;
        private LeaseListener listener;
        private Clock clock = Clock.systemUTC();
        private ScheduledExecutorService scheduler;

        private Builder() {
        }

        @Override
        Builder self() {
            return this;
        }

        /** The user's API key; sent as {@code authorization: Bearer <key>}. */
        public Builder apiKey(String apiKey) {
            this.apiKey = Objects.requireNonNull(apiKey, "apiKey");
            return this;
        }

        /** Hears about every session's lease (see {@link LeaseListener}). */
        public Builder leaseListener(LeaseListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** The clock leases are judged by (default: the system clock in UTC); tests pass their own. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * A scheduler to time renewals on, shared with the application; the client does not shut
         * it down. By default the client owns one daemon thread.
         */
        public Builder scheduler(ScheduledExecutorService scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        public LicenseBrokerClient build() {
            return new LicenseBrokerClient(this);
        }
    }
}
