package io.licensebroker.broker.testing;

import io.grpc.ManagedChannel;
import io.grpc.stub.AbstractStub;
import io.licensebroker.broker.app.LocalNode;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.grpc.BrokerServer;
import io.licensebroker.broker.metrics.BrokerMetrics;
import io.licensebroker.broker.offline.Ed25519Signer;
import io.licensebroker.broker.store.memory.MemoryStore;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.testkit.MutableClock;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * A metered broker as the node wires it (timed volatile store reporting expiries, service, both
 * services with the metrics' instrumentation) behind an in-process gRPC server, with a clock the
 * test moves.
 */
public final class InProcessBroker implements AutoCloseable {
    public static final String ROOT = "root-bootstrap-token-for-ops-tests";
    public static final Duration LEASE = Duration.ofSeconds(60);

    public final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    public final BrokerMetrics metrics;
    public final LicenseService service;
    private final LicenseStore store;
    private final InProcessServer server;
    private final ManagedChannel channel;

    public InProcessBroker(int maxPools) {
        this.metrics = BrokerMetrics.create(maxPools);
        this.store = metrics.timed(MemoryStore.volatileStore(Duration.ofMinutes(10), metrics.storeObserver()), "memory");
        this.service = new LicenseService(store, clock, LEASE, Ed25519Signer.generate(), new SecureRandom(), ROOT);
        metrics.watchPools(service);
        this.server = InProcessServer.serve(BrokerServer.services(service, metrics.instrumentation()));
        this.channel = server.channel();
    }

    public LicenseAdminGrpc.LicenseAdminBlockingStub admin(String token) {
        return withToken(LicenseAdminGrpc.newBlockingStub(channel), token);
    }

    public LicenseAdminGrpc.LicenseAdminBlockingStub root() {
        return admin(ROOT);
    }

    public LicenseBrokerGrpc.LicenseBrokerBlockingStub agent(String apiKey) {
        return withToken(LicenseBrokerGrpc.newBlockingStub(channel), apiKey);
    }

    public static <S extends AbstractStub<S>> S withToken(S stub, String token) {
        return LocalNode.withToken(stub, token).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        server.close();
        store.close();
        metrics.close();
    }
}
