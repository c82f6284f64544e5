package io.licensebroker.broker.grpc;

import io.grpc.stub.StreamObserver;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.LicenseModel;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.core.Principal;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.Subscription;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.AcquireSessionResponse;
import io.licensebroker.proto.v1.ActivateLicenseRequest;
import io.licensebroker.proto.v1.Activation;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.ReleaseSessionRequest;
import io.licensebroker.proto.v1.ReleaseSessionResponse;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.RenewSessionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The agents' service. Each handler validates, then calls the core; the core itself refuses
 * another account's or another user's session (PERMISSION_DENIED), since only it knows who
 * holds a session.
 */
final class LicenseBrokerService extends LicenseBrokerGrpc.LicenseBrokerImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(LicenseBrokerService.class);

    private final Gate gate;
    private final LicenseService service;
    private final AcquireObserver acquires;
    private final SeatObserver seats;

    LicenseBrokerService(Gate gate, AcquireObserver acquires) {
        this(gate, acquires, SeatObserver.NONE);
    }

    LicenseBrokerService(Gate gate, AcquireObserver acquires, SeatObserver seats) {
        this.gate = gate;
        this.service = gate.service();
        this.acquires = acquires;
        this.seats = seats;
    }

    @Override
    public void acquireSession(AcquireSessionRequest request, StreamObserver<AcquireSessionResponse> out) {
        gate.agent(out, agent -> {
            String product = Validation.product(request.getProduct());
            String machineId = Validation.machineId(request.getMachineId());
            String requestId = Validation.requestId(request.getRequestId());
            long started = System.nanoTime();
            return service.acquire(agent, product, machineId, requestId).thenApply(d -> {
                report(d, System.nanoTime() - started);
                return d;
            }).thenApply(d -> d.map(s -> AcquireSessionResponse.newBuilder()
                    .setSessionId(s.id())
                    .setPoolId(s.poolId())
                    .setFallback(s.fallback())
                    .setLeaseExpiresAt(Protos.timestamp(s.leaseExpiresAt()))
                    .setRenewInterval(Protos.duration(service.renewInterval()))
                    .build()));
        });
    }

    /** Monitoring must never fail a call that the broker decided. */
    private void report(Decision<Session> decision, long nanos) {
        try {
            acquires.decided(decision, nanos);
        } catch (RuntimeException e) {
            LOG.warn("the acquire observer failed", e);
        }
    }

    @Override
    public void renewSession(RenewSessionRequest request, StreamObserver<RenewSessionResponse> out) {
        gate.agent(out, agent -> {
            String sessionId = Validation.sessionId(request.getSessionId());
            return service.renew(agent, sessionId).thenApply(d -> d.map(s -> RenewSessionResponse.newBuilder()
                    .setLeaseExpiresAt(Protos.timestamp(s.leaseExpiresAt()))
                    .setPoolId(s.poolId())
                    .setRenewInterval(Protos.duration(service.renewInterval()))
                    .build()));
        });
    }

    @Override
    public void releaseSession(ReleaseSessionRequest request, StreamObserver<ReleaseSessionResponse> out) {
        gate.agent(out, agent -> {
            String sessionId = Validation.sessionId(request.getSessionId());
            return service.release(agent, sessionId)
                    .thenApply(d -> d.map(released -> ReleaseSessionResponse.newBuilder().setReleased(released).build()));
        });
    }

    /**
     * A floating activation is a lease of the session kind: RenewSession and ReleaseSession take
     * its activation_id, so only this call is new to an agent.
     */
    @Override
    public void activateLicense(ActivateLicenseRequest request, StreamObserver<Activation> out) {
        gate.agent(out, agent -> {
            String product = Validation.product(request.getProduct());
            String machineId = Validation.machineId(request.getMachineId());
            String requestId = Validation.requestId(request.getRequestId());
            return service.activate(agent, product, machineId, requestId, request.getTakeOver())
                    .thenCompose(d -> reportActivation(agent, product, d))
                    .thenApply(d -> d.map(a -> Protos.activation(a, service.renewInterval())));
        });
    }

    /**
     * Reports the decision with the product's model: a granted activation tells its kind itself (a
     * binding has no lease); for a denial the subscription is read, since a denial may come before
     * the core looked at the model. A failed read reports no model rather than failing the call.
     */
    private CompletionStage<Decision<io.licensebroker.broker.core.Activation>> reportActivation(
            Principal agent, String product, Decision<io.licensebroker.broker.core.Activation> d) {
        if (seats == SeatObserver.NONE) {
            return CompletableFuture.completedFuture(d);
        }
        if (d.isGranted()) {
            report(d, d.value().leaseExpiresAt() == null ? LicenseModel.NODE_LOCKED : LicenseModel.FLOATING);
            return CompletableFuture.completedFuture(d);
        }
        return service.subscription(agent.accountId(), product).handle((sub, failure) -> {
            Subscription s = failure == null && sub.isGranted() ? sub.value() : null;
            report(d, s == null ? null : s.model());
            return d;
        });
    }

    private void report(Decision<io.licensebroker.broker.core.Activation> decision, LicenseModel model) {
        try {
            seats.activationDecided(decision, model);
        } catch (RuntimeException e) {
            LOG.warn("the seat observer failed", e);
        }
    }
}
