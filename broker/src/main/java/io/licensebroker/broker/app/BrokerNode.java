package io.licensebroker.broker.app;

import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.grpc.BrokerServer;
import io.licensebroker.broker.metrics.BrokerMetrics;
import io.licensebroker.broker.offline.Ed25519Signer;
import io.licensebroker.broker.store.memory.MemoryStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One running broker node: store, service, gRPC server, lease reaper and ops HTTP port, wired from
 * {@link BrokerSettings}. The composition root: the only place that knows every adapter.
 */
public final class BrokerNode implements AutoCloseable {
    /** Expired leases return their license within this long. */
    private static final Duration REAP_EVERY = Duration.ofMillis(200);
    /** Journal size that triggers compaction into a snapshot. */
    private static final long COMPACT_AFTER_BYTES = 64L << 20;
    private static final Logger LOG = LoggerFactory.getLogger(BrokerNode.class);

    private final BrokerSettings settings;
    private final LicenseStore store;
    private final LicenseService service;
    private final BrokerServer server;
    private final OpsHttpServer ops;
    private final BrokerMetrics metrics;
    private final ScheduledExecutorService reaper;
    private volatile boolean serving = true;
    private boolean closed;

    private BrokerNode(BrokerSettings settings, LicenseStore store, LicenseService service, BrokerServer server,
                       OpsHttpServer ops, BrokerMetrics metrics, ScheduledExecutorService reaper) {
        this.settings = settings;
        this.store = store;
        this.service = service;
        this.server = server;
        this.ops = ops;
        this.metrics = metrics;
        this.reaper = reaper;
    }

    /** Starts a node; {@code out} receives the lines meant for the operator (tokens shown once). */
    public static BrokerNode start(BrokerSettings settings, boolean demo, Clock clock, PrintStream out) {
        if (settings.store() != BrokerSettings.StoreKind.MEMORY) {
            throw new BrokerSettings.InvalidSettingsException("--store " + settings.store().name().toLowerCase()
                    + " is not available in this build; use --store memory");
        }
        // Tombstones tell late renewals why their session ended; keep them for several lease lengths.
        Duration tombstones = max(Duration.ofMinutes(10), settings.leaseTtl().multipliedBy(10));
        BrokerMetrics metrics = BrokerMetrics.create(settings.metricsMaxPools());
        LicenseStore store;
        try {
            store = metrics.timed(MemoryStore.open(settings.dataDir(), settings.fsync(), tombstones, COMPACT_AFTER_BYTES,
                    clock.instant().plus(settings.leaseTtl()), metrics.storeObserver()), "memory");
        } catch (RuntimeException e) {
            metrics.close();
            throw e;
        }
        try {
            LicenseService service = new LicenseService(store, clock, settings.leaseTtl(),
                    Ed25519Signer.loadOrCreate(settings.dataDir()), new SecureRandom(), settings.adminToken());
            if (settings.adminToken() == null) {
                Optional<String> generated = service.generateBootstrapTokenOnce().toCompletableFuture().get(30, TimeUnit.SECONDS);
                generated.ifPresentOrElse(
                        token -> out.println("admin token (SUPER_ADMIN, shown once, stored only as a hash): " + token),
                        () -> out.println("admin token: the one generated on this data directory's first start"));
            }
            if (demo) {
                DemoData.load(service, out);
            }
            metrics.watchPools(service);
            ScheduledExecutorService reaper = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "lease-reaper");
                t.setDaemon(true);
                return t;
            });
            BrokerServer server = BrokerServer.start(BrokerServer.Options.defaults(settings.port()), service, metrics.instrumentation());
            BrokerNode[] self = new BrokerNode[1];
            OpsHttpServer ops;
            try {
                ops = OpsHttpServer.start(settings.metricsPort(), () -> self[0] != null && self[0].serving, metrics);
            } catch (RuntimeException e) {
                server.shutdown(Duration.ZERO);
                reaper.shutdownNow();
                throw e;
            }
            self[0] = new BrokerNode(settings, store, service, server, ops, metrics, reaper);
            reaper.scheduleWithFixedDelay(self[0]::reap, REAP_EVERY.toMillis(), REAP_EVERY.toMillis(), TimeUnit.MILLISECONDS);
            LOG.atInfo().setMessage("broker started").addKeyValue("port", server.port()).addKeyValue("metrics_port", ops.port())
                    .addKeyValue("store", settings.store().name().toLowerCase()).log();
            return self[0];
        } catch (Exception e) {
            store.close();
            metrics.close();
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("cannot start the broker", e);
        }
    }

    private void reap() {
        try {
            service.reapExpiredLeases().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // the next pass retries; expiry is idempotent
            LOG.warn("lease reaping failed: {}", e.toString());
        }
    }

    public int port() {
        return server.port();
    }

    public int metricsPort() {
        return ops.port();
    }

    public LicenseService service() {
        return service;
    }

    public BrokerSettings settings() {
        return settings;
    }

    /**
     * Graceful stop: report not serving, stop accepting, drain in-flight calls within the grace
     * period, then flush the store.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        // First, so that /healthz answers 503 for as long as the drain lasts.
        serving = false;
        long started = System.nanoTime();
        LOG.atInfo().setMessage("draining").addKeyValue("grace", settings.shutdownGrace()).log();
        try {
            server.shutdown(settings.shutdownGrace());
        } finally {
            reaper.shutdownNow();
            // Flushes the journal: every acknowledged change is on disk before the process exits.
            store.close();
            ops.close();
            metrics.close();
        }
        LOG.atInfo().setMessage("stopped").addKeyValue("drain_ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).log();
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }
}
