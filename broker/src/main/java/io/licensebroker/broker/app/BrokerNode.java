package io.licensebroker.broker.app;

import io.licensebroker.broker.console.ConsoleServer;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.core.LicenseSigner;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.core.StoreRefusedException;
import io.licensebroker.broker.grpc.BrokerServer;
import io.licensebroker.broker.grpc.ServerConnections;
import io.licensebroker.broker.metrics.BrokerMetrics;
import io.licensebroker.broker.offline.Ed25519Signer;
import io.licensebroker.broker.store.memory.MemoryStore;
import io.licensebroker.broker.store.redis.RedisStore;
import io.licensebroker.broker.store.redis.RedisStoreOptions;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One running broker node: store, service, gRPC server, lease reaper, ops HTTP port and web console, wired from
 * {@link BrokerSettings}. The composition root: the only place that knows every adapter.
 *
 * <p>With {@code --store redis} the node is stateless: any number of nodes share one Redis (or
 * Redis Cluster), every node reaps every account's expired leases, and the offline signing key is
 * stored once in Redis (the first node to start creates it) so every node signs with the same key
 * ({@link SharedSigningKey}: re-read before each use and on every probe, re-published after a wipe).
 * While Redis cannot be reached the node reports NOT_SERVING (gRPC health and /healthz) and calls
 * answer UNAVAILABLE; it reports SERVING again by itself once Redis answers.
 *
 * <p>On the embedded store, while its journal cannot write (disk full, file system read-only)
 * the node reports NOT_SERVING the same way, refuses changes, still answers reads and renewals,
 * and reports SERVING again once the journal has written everything pending.
 */
public final class BrokerNode implements AutoCloseable {
    /** Expired leases return their license within this long. */
    private static final Duration REAP_EVERY = Duration.ofMillis(200);
    /** How often the node checks that Redis answers (health turns within about this long). */
    private static final Duration PROBE_EVERY = Duration.ofMillis(250);
    /** Journal size that triggers compaction into a snapshot. */
    private static final long COMPACT_AFTER_BYTES = 64L << 20;
    private static final Logger LOG = LoggerFactory.getLogger(BrokerNode.class);

    private final BrokerSettings settings;
    private final LicenseStore store;
    private final LicenseService service;
    private final BrokerServer server;
    private final OpsHttpServer ops;
    private final ConsoleServer console;
    private final BrokerMetrics metrics;
    private final RedisStore redis;
    private final MemoryStore memory;
    private final ScheduledExecutorService maintenance;
    private volatile boolean serving = true;
    private volatile boolean storeAvailable = true;
    /** Nodes on Redis: the shared offline signing key, re-read on every probe. */
    private volatile SharedSigningKey sharedKey;
    private final Object healthLock = new Object();
    private boolean closed;

    /** The store and the signer that goes with it. */
    private record Storage(LicenseStore store, LicenseSigner signer, RedisStore redis, MemoryStore memory) {
    }

    private BrokerNode(BrokerSettings settings, LicenseStore store, LicenseService service, BrokerServer server,
                       OpsHttpServer ops, ConsoleServer console, BrokerMetrics metrics, RedisStore redis, MemoryStore memory,
                       ScheduledExecutorService maintenance) {
        this.console = console;
        this.settings = settings;
        this.store = store;
        this.service = service;
        this.server = server;
        this.ops = ops;
        this.metrics = metrics;
        this.redis = redis;
        this.memory = memory;
        this.maintenance = maintenance;
    }

    /** Starts a node; {@code out} receives the lines meant for the operator (tokens shown once). */
    public static BrokerNode start(BrokerSettings settings, boolean demo, Clock clock, PrintStream out) {
        // Tombstones tell late renewals why their session ended; keep them for several lease lengths.
        Duration tombstones = max(Duration.ofMinutes(10), settings.leaseTtl().multipliedBy(10));
        BrokerServer.Tls tls = settings.tlsCert() == null ? null
                : new BrokerServer.Tls(settings.tlsCert(), settings.tlsKey(), settings.tlsClientCa());
        if (tls != null) {
            try {
                tls.verify();
            } catch (IllegalArgumentException e) {
                throw new BrokerSettings.InvalidSettingsException("invalid settings:\n  --tls-cert/--tls-key/--tls-client-ca: "
                        + e.getMessage());
            }
        }
        BrokerMetrics metrics = BrokerMetrics.create(settings.metricsMaxPools());
        Storage storage;
        try {
            storage = settings.store() == BrokerSettings.StoreKind.REDIS
                    ? redis(settings, tombstones, metrics)
                    : memory(settings, clock, tombstones, metrics);
        } catch (RuntimeException e) {
            metrics.close();
            throw e;
        }
        LicenseStore store = storage.store();
        ScheduledExecutorService maintenance = null;
        BrokerServer server = null;
        ConsoleServer console = null;
        try {
            LicenseService service = new LicenseService(store, clock, settings.leaseTtl(), storage.signer(),
                    new SecureRandom(), settings.adminToken());
            if (settings.adminToken() == null) {
                Optional<String> generated = service.generateBootstrapTokenOnce().toCompletableFuture().get(30, TimeUnit.SECONDS);
                generated.ifPresentOrElse(
                        token -> out.println("admin token (SUPER_ADMIN, shown once, stored only as a hash): " + token),
                        () -> out.println("admin token: the one generated on this " + (storage.redis() == null
                                ? "data directory's" : "Redis's") + " first start"));
            }
            if (demo) {
                DemoData.load(service, out);
            }
            metrics.watchPools(service);
            maintenance = Executors.newScheduledThreadPool(2, r -> {
                Thread t = new Thread(r, "broker-maintenance");
                t.setDaemon(true);
                return t;
            });
            BrokerServer.Options options = BrokerServer.Options.defaults(settings.port())
                    .withHost(settings.listenAddress())
                    .withConnections(ServerConnections.DEFAULTS
                            .withLimits(settings.maxConnections(), settings.maxConnectionsPerAddress())
                            .withMaxIdle(settings.maxConnectionIdle()));
            if (tls != null) {
                options = options.withTls(tls);
            }
            server = BrokerServer.start(options, service, metrics.instrumentation());
            metrics.watchConnections(server);
            console = ConsoleServer.start(ConsoleServer.Options.defaults(settings.consolePort()).withHost(settings.consoleListenAddress()),
                    server.inProcessChannel(), LicenseAdminGrpc.getServiceDescriptor());
            BrokerNode[] self = new BrokerNode[1];
            // The embedded store's state is read at each probe: never "ok" while changes cannot be acknowledged.
            OpsHttpServer ops = OpsHttpServer.start(settings.metricsListenAddress(), settings.metricsPort(), () -> self[0] != null && self[0].serving
                    && self[0].storeAvailable && (storage.memory() == null || storage.memory().writable()), metrics);
            self[0] = new BrokerNode(settings, store, service, server, ops, console, metrics, storage.redis(), storage.memory(), maintenance);
            if (storage.memory() != null) {
                storage.memory().onWritableChange(self[0]::journalWritabilityChanged);
                self[0].journalWritabilityChanged();
            }
            maintenance.scheduleWithFixedDelay(self[0]::reap, REAP_EVERY.toMillis(), REAP_EVERY.toMillis(), TimeUnit.MILLISECONDS);
            if (storage.redis() != null) {
                self[0].sharedKey = storage.signer() instanceof SharedSigningKey k ? k : null;
                self[0].watch(storage.redis());
            }
            LOG.atInfo().setMessage("broker started").addKeyValue("port", server.port()).addKeyValue("metrics_port", ops.port())
                    .addKeyValue("address", server.address().getAddress().getHostAddress())
                    .addKeyValue("metrics_address", ops.address().getAddress().getHostAddress())
                    .addKeyValue("console_port", console.port())
                    .addKeyValue("store", settings.store().name().toLowerCase()).log();
            return self[0];
        } catch (Exception e) {
            if (console != null) {
                console.close();
            }
            if (server != null) {
                server.shutdown(Duration.ZERO);
            }
            if (maintenance != null) {
                maintenance.shutdownNow();
            }
            store.close();
            metrics.close();
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("cannot start the broker", e);
        }
    }

    private static Storage memory(BrokerSettings settings, Clock clock, Duration tombstones, BrokerMetrics metrics) {
        MemoryStore store = MemoryStore.open(settings.dataDir(), settings.fsync(), tombstones, COMPACT_AFTER_BYTES,
                clock.instant().plus(settings.leaseTtl()), metrics.storeObserver());
        try {
            return new Storage(metrics.timed(store, "memory"), Ed25519Signer.loadOrCreate(settings.dataDir()), null, store);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    private static Storage redis(BrokerSettings settings, Duration tombstones, BrokerMetrics metrics) {
        RedisStore store;
        try {
            store = connect(settings, tombstones, metrics);
        } catch (StoreRefusedException e) {
            throw refusedAtStart(settings, e);
        }
        try {
            SharedSigningKey key = SharedSigningKey.load(store);
            return new Storage(metrics.timed(store, "redis"), key, store, null);
        } catch (Exception e) {
            store.close();
            Throwable cause = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
            if (cause instanceof StoreRefusedException refused) {
                // e.g. out of memory before any node published the key: nothing to sign with yet
                throw refusedAtStart(settings, refused);
            }
            if (e instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("cannot read the shared offline signing key from Redis", e);
        }
    }

    /** Only the Redis operator can fix it: one line saying what (serve prints it and exits 2), no stack trace. */
    private static BrokerSettings.InvalidSettingsException refusedAtStart(BrokerSettings settings, StoreRefusedException e) {
        return new BrokerSettings.InvalidSettingsException("cannot start on Redis at "
                + BrokerSettings.maskPassword(settings.redisUri()) + ": " + e.getMessage());
    }

    private static RedisStore connect(BrokerSettings settings, Duration tombstones, BrokerMetrics metrics) {
        return RedisStore.connect(RedisStoreOptions.builder(settings.redisUri())
                .commandTimeout(settings.redisTimeout())
                .tombstoneRetention(tombstones)
                .observer(metrics.storeObserver())
                .errorCounter(kind -> metrics.redisErrors(kind).increment())
                // Re-indexing repairs what a node that died mid-acquire left unindexed: once per
                // lease keeps "reclaimed within about one lease length" true even then.
                .reindexEvery(settings.leaseTtl())
                .learningPeriod(settings.redisLearningPeriod()).build());
    }

    /**
     * Probes Redis, sets health from the answer, and schedules the next probe once this one is
     * done (never two at once, whatever the timeout).
     */
    private void watch(RedisStore redis) {
        redis.probe().whenComplete((ok, failure) -> {
            boolean available = failure == null && Boolean.TRUE.equals(ok);
            if (available != storeAvailable) {
                storeAvailable = available;
                if (available) {
                    LOG.info("Redis answers again: serving");
                } else {
                    LOG.warn("Redis is unreachable: not serving");
                }
                if (serving) {
                    server.setServing(available);
                }
            }
            SharedSigningKey key = sharedKey;
            if (available && key != null) {
                // Notices a wipe within a probe: re-publishes this node's key before anyone needs it.
                key.current().whenComplete((k, e) -> {
                    if (e != null) {
                        LOG.debug("could not re-read the shared offline signing key: {}", e.toString());
                    }
                });
            }
            try {
                maintenance.schedule(() -> watch(redis), PROBE_EVERY.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // the node is closing
            }
        });
    }

    /**
     * The embedded store's journal started or stopped being able to write. Runs on the journal's
     * writer before the callers of a failed write hear of it; re-reads the state, so calls racing
     * with each other still leave health as the journal stands.
     */
    private void journalWritabilityChanged() {
        // Not the node's monitor: close() holds it while the journal's writer finishes.
        synchronized (healthLock) {
            boolean available = memory.writable();
            if (available != storeAvailable) {
                storeAvailable = available;
                if (available) {
                    LOG.info("the journal writes again: serving");
                } else {
                    LOG.warn("the journal cannot write: not serving (changes refused, reads answered)");
                }
                if (serving) {
                    server.setServing(available);
                }
            }
        }
    }

    private void reap() {
        try {
            service.reapExpiredLeases().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            // the node is closing
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // The next pass retries; expiry is idempotent. While the store is known to be down,
            // health already says so: no warning every pass.
            if (storeAvailable && !(e.getCause() instanceof StoreRefusedException)) {
                // (A refusal only the operator can fix is already warned about by the store.)
                LOG.warn("lease reaping failed: {}", e.toString());
            } else {
                LOG.debug("lease reaping failed: {}", e.toString());
            }
        }
    }

    public int port() {
        return server.port();
    }

    public int metricsPort() {
        return ops.port();
    }

    /** The web console's HTTP port. */
    public int consolePort() {
        return console.port();
    }

    /** The address and port of the web console. */
    public InetSocketAddress consoleAddress() {
        return console.address();
    }

    /** Connections open on the gRPC port now. */
    public int connectionsOpen() {
        return server.connectionsOpen();
    }

    /** The address and port gRPC listens on (the wildcard address when listening on every interface). */
    public InetSocketAddress address() {
        return server.address();
    }

    /** The address and port of the metrics and health port. */
    public InetSocketAddress metricsAddress() {
        return ops.address();
    }

    public LicenseService service() {
        return service;
    }

    public BrokerSettings settings() {
        return settings;
    }

    /** The Redis store when the node runs on Redis (the service's store is it, wrapped for metrics). */
    public Optional<RedisStore> redisStore() {
        return Optional.ofNullable(redis);
    }

    /** Whether the store answers (the embedded store: whether its journal can write); what health reports. */
    public boolean isStoreAvailable() {
        return storeAvailable;
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
            maintenance.shutdownNow();
            console.close();
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
