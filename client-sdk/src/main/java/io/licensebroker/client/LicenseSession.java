package io.licensebroker.client;

import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.licensebroker.proto.v1.AcquireSessionResponse;
import io.licensebroker.proto.v1.ReleaseSessionRequest;
import io.licensebroker.proto.v1.ReleaseSessionResponse;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.RenewSessionResponse;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One license held by this runtime: a lease the SDK renews by itself, at the broker's
 * {@code renew_interval}, until {@link #close()} gives the license back or the lease is lost.
 *
 * <pre>{@code
 * try (LicenseSession session = client.acquire(machineId)) {
 *     runTheJob();   // the SDK keeps the lease alive meanwhile
 * }                  // the license goes back exactly once
 * }</pre>
 *
 * <p>A renewal that fails for a transient reason (broker unreachable or slow, a node going down)
 * is retried with jittered backoff, over whichever broker node is up, until the lease runs out.
 * A lost lease (the broker ended the session, or the lease ran out while no broker could be
 * reached) is reported once to the {@link LeaseListener}s and makes {@link #isActive()} false.
 *
 * <p>A floating seat's {@link Activation} is held by one of these too ({@link Activation#lease()}):
 * same renewals, same listener, same exactly-once release.
 *
 * <p>Thread-safe. Lease times are judged by the client's clock against the broker's
 * {@code lease_expires_at}, so they assume clocks roughly in sync; the broker's answer decides
 * whenever it can be reached.
 */
public final class LicenseSession implements AutoCloseable {
    /**
     * The loss reason when the lease ran out before any broker node renewed it (all unreachable,
     * or failing). The broker ends such a session on its side too.
     */
    public static final String BROKER_UNREACHABLE = "BROKER_UNREACHABLE";

    private static final System.Logger LOG = System.getLogger(LicenseSession.class.getName());
    /**
     * Each renewal is due at a random point in the last fifth of the broker's interval: agents that
     * started together (a fleet restart) drift apart instead of renewing in bursts, and none
     * renews later than the broker asked.
     */
    private static final double EARLIEST_RENEWAL = 0.8;
    /** Renewal interval to use if a broker ever omits it: a third of the lease, as the broker does. */
    private static final int LEASE_FRACTION = 3;

    private enum Kind { CLOSED, LOST }

    /** How the session ended; null while active. Set once, by compare-and-set. */
    private record Ended(Kind kind, String reason) {
    }

    private final SessionRuntime runtime;
    private final String sessionId;
    private final String product;
    private final String machineId;
    private final String requestId;
    private final boolean fallback;
    private final LeaseListener listener;
    private final AtomicReference<Ended> ended = new AtomicReference<>();
    private final AtomicLong renewals = new AtomicLong();
    /** Confined to the renewal chain: at most one renewal is scheduled or in flight at a time. */
    private final Backoff backoff;
    private volatile String poolId;
    private volatile Instant leaseExpiresAt;
    private volatile Duration renewInterval;
    private volatile ScheduledFuture<?> nextRenewal;

    LicenseSession(SessionRuntime runtime, AcquireSessionResponse granted, String product, String machineId,
                   String requestId, LeaseListener listener) {
        this(runtime, granted.getSessionId(), granted.getPoolId(), granted.getFallback(), granted.getLeaseExpiresAt(),
                granted.hasRenewInterval() ? granted.getRenewInterval() : null, product, machineId, requestId, listener);
    }

    /**
     * The lease of a floating activation: a session to the broker, renewed and released by the
     * activation's id like any other, so it is held by exactly this machinery.
     */
    LicenseSession(SessionRuntime runtime, io.licensebroker.proto.v1.Activation activation, String product,
                   String requestId, LeaseListener listener) {
        this(runtime, activation.getActivationId(), activation.getPoolId(), false, activation.getLeaseExpiresAt(),
                activation.hasRenewInterval() ? activation.getRenewInterval() : null, product, activation.getMachineId(),
                requestId, listener);
    }

    private LicenseSession(SessionRuntime runtime, String sessionId, String poolId, boolean fallback, Timestamp leaseExpiresAt,
                           com.google.protobuf.Duration renewInterval, String product, String machineId, String requestId,
                           LeaseListener listener) {
        this.runtime = runtime;
        this.sessionId = sessionId;
        this.poolId = poolId;
        this.fallback = fallback;
        this.product = product;
        this.machineId = machineId;
        this.requestId = requestId;
        this.listener = listener;
        this.backoff = runtime.newBackoff();
        this.leaseExpiresAt = instant(leaseExpiresAt);
        this.renewInterval = interval(renewInterval);
    }

    /** Starts the renewal chain; called once, right after the broker granted the session. */
    void start() {
        runtime.track(this);
        scheduleRenewal(jittered(renewInterval));
    }

    /** The broker's id of this session (as listed by {@code sessions list}); for a floating activation's lease, its activation id. */
    public String sessionId() {
        return sessionId;
    }

    /**
     * The pool the license is drawn from: an organization id or the account id. Changes when a
     * renewal reports a new pool (an admin revoked the organization's licenses and the session
     * moved to the parent).
     */
    public String poolId() {
        return poolId;
    }

    /** True when the license came from the account pool because the user's organization pools were exhausted. */
    public boolean fallback() {
        return fallback;
    }

    /** True until the session is closed or its lease is lost. */
    public boolean isActive() {
        return ended.get() == null;
    }

    /** Why the lease was lost ({@link LeaseListener#onLost}); empty while active or after {@link #close()}. */
    public Optional<String> lossReason() {
        Ended e = ended.get();
        return e != null && e.kind() == Kind.LOST ? Optional.of(e.reason()) : Optional.empty();
    }

    /** The product code the session was acquired for; empty means the broker's default. */
    public String product() {
        return product;
    }

    public String machineId() {
        return machineId;
    }

    /** The idempotency key the session was acquired with (given or generated). */
    public String requestId() {
        return requestId;
    }

    /** When the lease ends unless renewed, as last reported by the broker. */
    public Instant leaseExpiresAt() {
        return leaseExpiresAt;
    }

    /** How many renewals have succeeded so far. */
    public long renewCount() {
        return renewals.get();
    }

    /**
     * Gives the license back. Releases exactly once: closing again, or closing after the lease was
     * lost, does not call the broker. Never throws: when the broker cannot be reached, the license
     * returns by itself once the lease runs out, since renewals have stopped.
     */
    @Override
    public void close() {
        try {
            release().get();
        } catch (ExecutionException e) {
            LOG.log(System.Logger.Level.WARNING, "could not release session " + sessionId
                    + "; its license returns when the lease runs out: " + e.getCause().getMessage());
        } catch (InterruptedException e) {
            // The release goes on in the background; the caller asked to stop waiting.
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Ends the session and releases it at the broker, asynchronously; completes with the broker's
     * {@code released}, or false at once when the session had already ended (nothing is sent).
     */
    CompletableFuture<Boolean> release() {
        if (!ended.compareAndSet(null, new Ended(Kind.CLOSED, ""))) {
            return CompletableFuture.completedFuture(false);
        }
        cancelRenewal();
        runtime.forget(this);
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        // The call carries its own deadline, so the future always completes.
        runtime.async().releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(sessionId).build(),
                new StreamObserver<>() {
                    @Override
                    public void onNext(ReleaseSessionResponse response) {
                        done.complete(response.getReleased());
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t instanceof StatusRuntimeException e
                                ? Statuses.failure("ReleaseSession", e) : t);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(false); // no-op when onNext completed it
                    }
                });
        return done;
    }

    // ---------------------------------------------------------------- the renewal chain

    private void scheduleRenewal(Duration delay) {
        if (!isActive()) {
            return;
        }
        try {
            nextRenewal = runtime.scheduler().schedule(this::renew, Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // The client is closing; its close() releases this session.
            return;
        }
        if (!isActive()) {
            // Closed while scheduling: drop the task now rather than let it wake up for nothing.
            cancelRenewal();
        }
    }

    private void renew() {
        if (!isActive()) {
            return;
        }
        try {
            runtime.async().renewSession(RenewSessionRequest.newBuilder().setSessionId(sessionId).build(),
                    new StreamObserver<>() {
                        @Override
                        public void onNext(RenewSessionResponse response) {
                            renewed(response);
                        }

                        @Override
                        public void onError(Throwable t) {
                            renewFailed(t);
                        }

                        @Override
                        public void onCompleted() {
                            // unary: onNext did the work
                        }
                    });
        } catch (RuntimeException e) {
            // Whatever went wrong, the chain must go on (or end the lease): a scheduled task that
            // throws would silently stop renewing.
            renewFailed(e);
        }
    }

    private void renewed(RenewSessionResponse response) {
        if (!isActive()) {
            return;
        }
        if (!response.getPoolId().isEmpty()) {
            poolId = response.getPoolId();
        }
        if (response.hasLeaseExpiresAt()) {
            leaseExpiresAt = instant(response.getLeaseExpiresAt());
        }
        if (response.hasRenewInterval()) {
            renewInterval = interval(response.getRenewInterval());
        }
        backoff.reset();
        renewals.incrementAndGet();
        // Scheduled before the listeners run, so a slow listener cannot delay the next renewal.
        scheduleRenewal(jittered(renewInterval));
        runtime.notifyRenewed(listener, this);
    }

    private void renewFailed(Throwable failure) {
        if (!isActive()) {
            return;
        }
        Status status = Status.fromThrowable(failure);
        if (Statuses.endsLease(status.getCode())) {
            lose(Statuses.reasonOrCode(failure));
            return;
        }
        Duration left = Duration.between(runtime.clock().instant(), leaseExpiresAt);
        if (left.isNegative() || left.isZero()) {
            lose(BROKER_UNREACHABLE);
            return;
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "renewal of " + sessionId + " failed (" + status.getCode() + "), "
                + left.toMillis() + " ms of lease left; retrying");
        runtime.reconnectNow();
        Duration delay = backoff.next();
        // The last attempt comes no later than the lease's end, where the outcome is decided.
        scheduleRenewal(delay.compareTo(left) < 0 ? delay : left);
    }

    private void lose(String reason) {
        if (!ended.compareAndSet(null, new Ended(Kind.LOST, reason))) {
            return;
        }
        cancelRenewal();
        runtime.forget(this);
        LOG.log(System.Logger.Level.WARNING, "session " + sessionId + " lost its license: " + reason);
        runtime.notifyLost(listener, this, reason);
    }

    private void cancelRenewal() {
        ScheduledFuture<?> f = nextRenewal;
        if (f != null) {
            f.cancel(false);
        }
    }

    private Duration interval(com.google.protobuf.Duration fromBroker) {
        if (fromBroker != null && (fromBroker.getSeconds() > 0 || fromBroker.getNanos() > 0)) {
            return Duration.ofSeconds(fromBroker.getSeconds(), fromBroker.getNanos());
        }
        Duration lease = Duration.between(runtime.clock().instant(), leaseExpiresAt);
        return lease.isNegative() || lease.isZero() ? Duration.ZERO : lease.dividedBy(LEASE_FRACTION);
    }

    private static Duration jittered(Duration interval) {
        double factor = EARLIEST_RENEWAL + (1 - EARLIEST_RENEWAL) * ThreadLocalRandom.current().nextDouble();
        return Duration.ofNanos((long) (interval.toNanos() * factor));
    }

    private static Instant instant(Timestamp t) {
        return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
    }

    @Override
    public String toString() {
        Ended e = ended.get();
        return "LicenseSession[" + sessionId + ", pool " + poolId + (e == null ? ", active" : ", " + e.kind().name().toLowerCase()
                + (e.reason().isEmpty() ? "" : " " + e.reason())) + "]";
    }
}
