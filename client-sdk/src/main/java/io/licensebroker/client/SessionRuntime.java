package io.licensebroker.client;

import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What one client's sessions share: the channel, the credential, the one scheduler that times
 * every renewal, the clock leases are judged by, the retry settings, the client's listener, and
 * the set of live sessions (so closing the client releases them).
 */
final class SessionRuntime {
    private static final System.Logger LOG = System.getLogger(LicenseSession.class.getName());

    private final ManagedChannel channel;
    private final ClientInterceptor credential;
    private final ScheduledExecutorService scheduler;
    private final Clock clock;
    private final ConnectionSpec spec;
    private final LeaseListener clientListener;
    private final Set<LicenseSession> live = ConcurrentHashMap.newKeySet();

    SessionRuntime(ManagedChannel channel, ClientInterceptor credential, ScheduledExecutorService scheduler, Clock clock,
                   ConnectionSpec spec, LeaseListener clientListener) {
        this.channel = channel;
        this.credential = credential;
        this.scheduler = scheduler;
        this.clock = clock;
        this.spec = spec;
        this.clientListener = clientListener;
    }

    /** A blocking stub with the credential and a fresh per-call deadline. */
    LicenseBrokerGrpc.LicenseBrokerBlockingStub blocking() {
        return LicenseBrokerGrpc.newBlockingStub(channel).withInterceptors(credential)
                .withDeadlineAfter(spec.callTimeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    /** An async stub with the credential and a fresh per-call deadline; renewals never block a thread. */
    LicenseBrokerGrpc.LicenseBrokerStub async() {
        return LicenseBrokerGrpc.newStub(channel).withInterceptors(credential)
                .withDeadlineAfter(spec.callTimeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    ScheduledExecutorService scheduler() {
        return scheduler;
    }

    Clock clock() {
        return clock;
    }

    Duration callTimeout() {
        return spec.callTimeout();
    }

    Backoff newBackoff() {
        return spec.newBackoff();
    }

    /**
     * After a transient failure: connections in backoff reconnect now. gRPC's own reconnect backoff
     * grows to two minutes, longer than a lease; the SDK's jittered retry schedule is what paces
     * the attempts instead.
     */
    void reconnectNow() {
        channel.resetConnectBackoff();
    }

    void track(LicenseSession session) {
        live.add(session);
    }

    void forget(LicenseSession session) {
        live.remove(session);
    }

    List<LicenseSession> liveSessions() {
        return List.copyOf(live);
    }

    void notifyLost(LeaseListener sessionListener, LicenseSession session, String reason) {
        for (LeaseListener l : listeners(sessionListener)) {
            try {
                l.onLost(session, reason);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "a lease listener failed on the loss of " + session.sessionId(), e);
            }
        }
    }

    void notifyRenewed(LeaseListener sessionListener, LicenseSession session) {
        for (LeaseListener l : listeners(sessionListener)) {
            try {
                l.onRenewed(session);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "a lease listener failed on the renewal of " + session.sessionId(), e);
            }
        }
    }

    private List<LeaseListener> listeners(LeaseListener sessionListener) {
        if (sessionListener == null) {
            return clientListener == null ? List.of() : List.of(clientListener);
        }
        return clientListener == null ? List.of(sessionListener) : List.of(sessionListener, clientListener);
    }
}
