package io.licensebroker.broker.grpc;

import io.grpc.Channel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.ServerInterceptor;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptors;
import io.grpc.TlsServerCredentials;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The broker's gRPC server: both services behind bearer-token authentication, plus
 * {@code grpc.health.v1.Health} and server reflection (v1 and v1alpha) without authentication, so
 * stock tools (grpc_health_probe, grpcurl) work.
 *
 * <pre>{@code
 * BrokerServer server = BrokerServer.start(7443, licenseService);
 * ...
 * server.shutdown(Duration.ofSeconds(20)); // on SIGTERM
 * }</pre>
 */
public final class BrokerServer {
    private static final Executor DIRECT = Runnable::run;
    /** How often a shutdown looks at the calls in flight. */
    private static final Duration POLL = Duration.ofMillis(50);
    /** How long no call must be in flight before a shutdown closes the connections left. */
    private static final Duration SETTLED = Duration.ofSeconds(1);
    private static final Logger LOG = LoggerFactory.getLogger(BrokerServer.class);

    /** Both contract services, for {@link HealthStatusManager} and tests. */
    public static final List<String> SERVICE_NAMES = List.of(LicenseBrokerGrpc.SERVICE_NAME, LicenseAdminGrpc.SERVICE_NAME);

    private final Server server;
    /** The same services, interceptors and executor inside this JVM: what the web console calls. */
    private final InProcessTwin twin;
    /** Kept: the server stops answering getPort() once terminated, but callers may still log it. */
    private final int port;
    private final HealthStatusManager health;
    private final ExecutorService executor;
    private final InFlightCalls calls;
    private final ConnectionLimiter connections;
    private final EventLoops loops;

    /**
     * Server settings; {@link #defaults(int)} for the usual ones.
     *
     * @param port                 TCP port; 0 picks a free one
     * @param threads              size of the fixed pool running handlers (they never block, so a few
     *                             per core are enough; a bound keeps a burst from spawning thousands)
     * @param maxInboundMessageBytes largest request accepted (the biggest legitimate one, a 64 KiB
     *                             license file or 1000 project ids, is far below)
     * @param maxInboundMetadataBytes largest header block accepted
     * @param handshakeTimeout     how long a new connection may take to negotiate before it is dropped
     * @param keepAliveTime        server pings an idle connection after this long, to find dead peers
     * @param keepAliveTimeout     and closes it when the ping is not answered within this
     * @param permitKeepAliveTime  clients may ping at most this often (agents renew every ~20 s and may
     *                             keep their connection warm in between); more often is abuse
     * @param tls                  TLS files, or null to serve plaintext
     * @param host                 the address to listen on (an IP address or a host name), or null for
     *                             every interface
     * @param connections          how many connections are held, and for how long
     */
    public record Options(int port, int threads, int maxInboundMessageBytes, int maxInboundMetadataBytes,
                          Duration handshakeTimeout, Duration keepAliveTime, Duration keepAliveTimeout,
                          Duration permitKeepAliveTime, Tls tls, String host, ServerConnections connections) {
        public Options {
            if (port < 0 || port > 65_535) {
                throw new IllegalArgumentException("port must be 0..65535: " + port);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be positive: " + threads);
            }
            Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
            Objects.requireNonNull(keepAliveTime, "keepAliveTime");
            Objects.requireNonNull(keepAliveTimeout, "keepAliveTimeout");
            Objects.requireNonNull(permitKeepAliveTime, "permitKeepAliveTime");
            Objects.requireNonNull(connections, "connections");
        }

        public static Options defaults(int port) {
            return new Options(port, Math.max(4, 2 * Runtime.getRuntime().availableProcessors()),
                    1024 * 1024, 16 * 1024, Duration.ofSeconds(10), Duration.ofMinutes(2), Duration.ofSeconds(20),
                    Duration.ofSeconds(10), null, null, ServerConnections.DEFAULTS);
        }

        /** These options served over TLS ({@code tls} null: plaintext). */
        public Options withTls(Tls tls) {
            return new Options(port, threads, maxInboundMessageBytes, maxInboundMetadataBytes, handshakeTimeout,
                    keepAliveTime, keepAliveTimeout, permitKeepAliveTime, tls, host, connections);
        }

        /** These options listening on {@code host} only (null: every interface). */
        public Options withHost(String host) {
            return new Options(port, threads, maxInboundMessageBytes, maxInboundMetadataBytes, handshakeTimeout,
                    keepAliveTime, keepAliveTimeout, permitKeepAliveTime, tls, host, connections);
        }

        public Options withConnections(ServerConnections connections) {
            return new Options(port, threads, maxInboundMessageBytes, maxInboundMetadataBytes, handshakeTimeout,
                    keepAliveTime, keepAliveTimeout, permitKeepAliveTime, tls, host, connections);
        }
    }

    /**
     * Server-side TLS, optionally with client certificates for admins.
     *
     * @param certChain PEM certificate chain of the server
     * @param key       PEM PKCS#8 private key of the server
     * @param clientCa  PEM certificates of the CA that signs admin client certificates, or null.
     *                  When set, every {@code LicenseAdmin} call must come over a connection whose
     *                  client presented a certificate that CA signed; agents still connect without
     *                  one (they authenticate with API keys), which is why the handshake asks for a
     *                  client certificate without requiring it and {@link ClientCertificateInterceptor}
     *                  enforces it per call.
     */
    public record Tls(Path certChain, Path key, Path clientCa) {
        public Tls {
            Objects.requireNonNull(certChain, "certChain");
            Objects.requireNonNull(key, "key");
        }

        /**
         * Reads and parses the files now (the server would only at start), so a bad certificate
         * or key stops a node before it changes anything, such as generating its one-time token.
         *
         * @throws IllegalArgumentException saying what is wrong with which file
         */
        public void verify() {
            try {
                SslContextBuilder server = GrpcSslContexts.forServer(certChain.toFile(), key.toFile());
                if (clientCa != null) {
                    server.trustManager(clientCa.toFile());
                }
                server.build();
            } catch (SSLException | RuntimeException e) {
                throw new IllegalArgumentException("cannot serve TLS with certificate " + certChain + ", key " + key
                        + (clientCa == null ? "" : " and client CA " + clientCa) + ": " + e.getMessage(), e);
            }
        }

        ServerCredentials credentials() throws IOException {
            TlsServerCredentials.Builder tls = TlsServerCredentials.newBuilder().keyManager(certChain.toFile(), key.toFile());
            if (clientCa != null) {
                // OPTIONAL: the handshake verifies a certificate against clientCa when one is sent,
                // and lets agents without one through; admin calls are checked per call.
                tls.trustManager(clientCa.toFile()).clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL);
            }
            return tls.build();
        }
    }

    /**
     * What the server reports for monitoring, kept out of this package so that the gRPC edge does
     * not depend on a metrics library.
     *
     * @param acquires hears every AcquireSession decision
     * @param calls    wraps every call of every service (health and reflection included), outermost
     * @param seats    hears new seats and every ActivateLicense decision
     */
    public record Instrumentation(AcquireObserver acquires, ServerInterceptor calls, SeatObserver seats) {
        /** Reports nothing. */
        public static final Instrumentation NONE = new Instrumentation(AcquireObserver.NONE, new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                return next.startCall(call, headers);
            }
        }, SeatObserver.NONE);

        public Instrumentation {
            Objects.requireNonNull(acquires, "acquires");
            Objects.requireNonNull(calls, "calls");
            Objects.requireNonNull(seats, "seats");
        }

        /** Acquires and calls only; seats are not reported. */
        public Instrumentation(AcquireObserver acquires, ServerInterceptor calls) {
            this(acquires, calls, SeatObserver.NONE);
        }
    }

    private BrokerServer(Server server, InProcessTwin twin, HealthStatusManager health, ExecutorService executor, InFlightCalls calls,
                         ConnectionLimiter connections, EventLoops loops) {
        this.server = server;
        this.twin = twin;
        this.port = server.getPort();
        this.health = health;
        this.executor = executor;
        this.calls = calls;
        this.connections = connections;
        this.loops = loops;
    }

    /** Starts serving on {@code port} (0: a free port) with the default options. */
    public static BrokerServer start(int port, LicenseService service) throws IOException {
        return start(Options.defaults(port), service);
    }

    public static BrokerServer start(Options options, LicenseService service) throws IOException {
        return start(options, service, Instrumentation.NONE);
    }

    public static BrokerServer start(Options options, LicenseService service, Instrumentation instrumentation) throws IOException {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(instrumentation, "instrumentation");
        return serve(options, contractServices(service, instrumentation), instrumentation.calls());
    }

    /**
     * Serves {@code services} on the broker's own stack and settings. The load tester's gRPC floor
     * uses it, so that the floor measures exactly what the broker's transport costs.
     */
    public static BrokerServer start(Options options, List<ServerServiceDefinition> services) throws IOException {
        return serve(options, services, Instrumentation.NONE.calls());
    }

    private static BrokerServer serve(Options options, List<ServerServiceDefinition> services, ServerInterceptor instrumentation)
            throws IOException {
        Objects.requireNonNull(options, "options");
        HealthStatusManager health = new HealthStatusManager();
        ExecutorService executor = newExecutor(options.threads());
        InFlightCalls calls = new InFlightCalls();
        ServerConnections limits = options.connections();
        ConnectionLimiter connections = new ConnectionLimiter(limits.max(), limits.maxPerAddress());
        EventLoops loops = EventLoops.create(connections);
        InetSocketAddress address = options.host() == null ? new InetSocketAddress(options.port())
                : new InetSocketAddress(options.host(), options.port());
        NettyServerBuilder builder;
        try {
            builder = options.tls() == null ? NettyServerBuilder.forAddress(address)
                    : NettyServerBuilder.forAddress(address, options.tls().credentials());
        } catch (IOException | RuntimeException e) {
            executor.shutdownNow();
            loops.shutdown();
            throw e;
        }
        loops.configure(builder);
        builder
                .executor(executor)
                // The agent RPCs never block (their handlers only chain stages): run them on the
                // transport thread and save a thread hop per call. Admin RPCs, which may walk a whole
                // tree, keep the pool.
                .callExecutor(new ServerCallExecutorSupplier() {
                    @Override
                    public <Q, R> Executor getExecutor(ServerCall<Q, R> call, Metadata metadata) {
                        return LicenseBrokerGrpc.SERVICE_NAME.equals(call.getMethodDescriptor().getServiceName())
                                ? DIRECT : null;
                    }
                })
                .maxInboundMessageSize(options.maxInboundMessageBytes())
                .maxInboundMetadataSize(options.maxInboundMetadataBytes())
                .handshakeTimeout(options.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .keepAliveTime(options.keepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
                .keepAliveTimeout(options.keepAliveTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .permitKeepAliveTime(options.permitKeepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
                .permitKeepAliveWithoutCalls(true)
                .maxConnectionIdle(limits.maxIdle().toMillis(), TimeUnit.MILLISECONDS)
                .maxConnectionAge(limits.maxAge().toMillis(), TimeUnit.MILLISECONDS)
                .maxConnectionAgeGrace(limits.maxAgeGrace().toMillis(), TimeUnit.MILLISECONDS);
        // Server interceptors run in reverse order of addition: the client certificate check runs
        // inside the instrumentation, so refused admin calls are still counted, and the count of
        // calls in flight, added last, is outermost: every call of every service until it ends.
        List<ServerInterceptor> chain = new ArrayList<>();
        if (options.tls() != null && options.tls().clientCa() != null) {
            chain.add(new ClientCertificateInterceptor());
        }
        chain.add(instrumentation);
        chain.add(calls);
        chain.forEach(builder::intercept);
        builder.addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .addService(legacyReflection());
        services.forEach(builder::addService);
        Server server;
        InProcessTwin twin;
        try {
            server = builder.build().start();
            twin = InProcessTwin.start(services, chain, executor);
        } catch (IOException | RuntimeException e) {
            executor.shutdownNow();
            loops.shutdown();
            throw e;
        }
        health.setStatus("", ServingStatus.SERVING);
        SERVICE_NAMES.forEach(name -> health.setStatus(name, ServingStatus.SERVING));
        return new BrokerServer(server, twin, health, executor, calls, connections, loops);
    }

    /**
     * The two contract services, each behind the authentication interceptor, ready to mount on
     * any server builder (tests use an in-process server; another transport may reuse them).
     */
    public static List<ServerServiceDefinition> services(LicenseService service) {
        return services(service, Instrumentation.NONE);
    }

    /** {@link #services(LicenseService)}, each also behind {@code instrumentation}'s call interceptor. */
    public static List<ServerServiceDefinition> services(LicenseService service, Instrumentation instrumentation) {
        return contractServices(service, instrumentation).stream()
                .map(definition -> ServerInterceptors.intercept(definition, instrumentation.calls()))
                .toList();
    }

    private static List<ServerServiceDefinition> contractServices(LicenseService service, Instrumentation instrumentation) {
        return contractServices(service, instrumentation.acquires(), instrumentation.seats(), new AuthFailureLimiter());
    }

    /** Nothing reported about seats. */
    static List<ServerServiceDefinition> contractServices(LicenseService service, AcquireObserver acquires,
                                                          AuthFailureLimiter failures) {
        return contractServices(service, acquires, SeatObserver.NONE, failures);
    }

    /** One limiter for both services: a guesser gains nothing by switching service. */
    static List<ServerServiceDefinition> contractServices(LicenseService service, AcquireObserver acquires, SeatObserver seats,
                                                          AuthFailureLimiter failures) {
        Gate gate = new Gate(service, failures);
        AuthInterceptor auth = new AuthInterceptor();
        return List.of(
                ServerInterceptors.intercept(new LicenseBrokerService(gate, acquires, seats), auth),
                ServerInterceptors.intercept(new LicenseAdminService(gate, seats), auth));
    }

    /**
     * Reports SERVING or NOT_SERVING on the health service (overall and per contract service), e.g.
     * while the store is unreachable, so load balancers route elsewhere. Ignored once shutting down.
     */
    public void setServing(boolean serving) {
        ServingStatus status = serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
        health.setStatus("", status);
        SERVICE_NAMES.forEach(name -> health.setStatus(name, status));
    }

    /**
     * A channel to the same services behind the same interceptors, without a network hop (the web
     * console's bridge). It carries no TLS session, so with a client CA every admin call is refused.
     */
    public Channel inProcessChannel() {
        return twin.channel();
    }

    /** The bound port (the chosen one when started with 0). */
    public int port() {
        return port;
    }

    /** The address and port listened on. */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.getListenSockets().get(0);
    }

    /** Calls started and not yet complete or cancelled, of every service. */
    public int callsInFlight() {
        return calls.count();
    }

    /** Connections open on the gRPC port now. */
    public int connectionsOpen() {
        return connections.open();
    }

    /** Connections closed on arrival because a limit was reached, since start. */
    public long connectionsRefused() {
        return connections.refused();
    }

    /**
     * Graceful stop: reports NOT_SERVING (so load balancers stop routing here), stops accepting
     * new calls, lets in-flight calls finish for up to {@code drain}, then cancels what is left.
     * Returns once the server has terminated. Idempotent.
     *
     * <p>The drain waits for calls, not connections: once no call has been in flight for
     * {@link #SETTLED}, what still holds a connection open is a stream without a call (see
     * {@link InFlightCalls}), and the server stops at once instead of waiting out the drain.
     */
    public void shutdown(Duration drain) {
        health.enterTerminalState();
        server.shutdown();
        twin.shutdown();
        boolean interrupted = false;
        try {
            long deadline = System.nanoTime() + drain.toNanos();
            long idleSince = Long.MAX_VALUE;
            while (!server.awaitTermination(Math.min(POLL.toNanos(), Math.max(0, deadline - System.nanoTime())), TimeUnit.NANOSECONDS)) {
                long now = System.nanoTime();
                if (now - deadline >= 0) {
                    if (calls.count() > 0) {
                        LOG.warn("{} calls still running after the {} drain; cancelling them", calls.count(), drain);
                    }
                    break;
                }
                if (calls.count() > 0) {
                    idleSince = Long.MAX_VALUE;
                } else if (idleSince == Long.MAX_VALUE) {
                    idleSince = now;
                } else if (now - idleSince >= SETTLED.toNanos()) {
                    // Long enough for every client to have seen the GOAWAY: no new call can start.
                    LOG.info("no call in flight; closing the connections still open");
                    break;
                }
            }
            server.shutdownNow();
            twin.shutdownNow();
            server.awaitTermination();
        } catch (InterruptedException e) {
            interrupted = true;
            server.shutdownNow();
            twin.shutdownNow();
        } finally {
            // Handlers never block, so once the server is done the pool has nothing left to do.
            executor.shutdown();
            loops.shutdown();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Blocks until the server has terminated (after {@link #shutdown(Duration)}, from another thread). */
    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
        executor.awaitTermination(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
    }

    public boolean isTerminated() {
        return server.isTerminated();
    }

    @SuppressWarnings("deprecation") // v1alpha: still what many grpcurl and IDE versions ask for
    private static io.grpc.BindableService legacyReflection() {
        return ProtoReflectionService.newInstance();
    }

    /**
     * A fixed pool of named daemon threads. The queue is unbounded on purpose: gRPC hands the
     * executor short tasks and does not expect rejection; the thread count is what is bounded.
     */
    private static ExecutorService newExecutor(int threads) {
        AtomicInteger n = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, "broker-grpc-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        return new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), factory);
    }
}
