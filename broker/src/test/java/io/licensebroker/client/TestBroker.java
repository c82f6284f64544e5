package io.licensebroker.client;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.grpc.BrokerServer;
import io.licensebroker.broker.offline.Ed25519Signer;
import io.licensebroker.broker.store.memory.MemoryStore;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.PoolRow;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * One broker (service and store) for SDK tests, served in-process or by real Netty servers (several
 * servers over the same service are several broker nodes sharing a store), with an admin client
 * for setup and checks, and counters of the calls each in-process server received.
 */
final class TestBroker implements AutoCloseable {
    static final String ROOT = "sdk-tests-root-token";

    final LicenseService service;
    private final MemoryStore store;
    /** Calls received by in-process servers, by full method name. */
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    private final List<Server> inProcessServers = new ArrayList<>();
    private final List<BrokerServer> nettyServers = new ArrayList<>();
    private final List<AutoCloseable> clients = new ArrayList<>();
    private final LicenseAdminClient admin;
    private final Object changes = new Object();
    private ScheduledExecutorService reaper;

    TestBroker(Clock clock, Duration leaseTtl) {
        this.store = MemoryStore.volatileStore(Duration.ofMinutes(10));
        this.service = new LicenseService(store, clock, leaseTtl, Ed25519Signer.generate(), new SecureRandom(), ROOT);
        this.admin = LicenseAdminClient.builder().channelBuilder(InProcessChannelBuilder.forName(inProcess())).token(ROOT).build();
        clients.add(admin);
    }

    /** A broker whose clock stands still: leases never run out unless a test says so. */
    static TestBroker frozen(Duration leaseTtl) {
        return new TestBroker(Clock.fixed(Instant.now(), java.time.ZoneOffset.UTC), leaseTtl);
    }

    /** A broker on the system clock that reaps expired leases every 50 ms, as a running node does. */
    static TestBroker live(Duration leaseTtl) {
        TestBroker broker = new TestBroker(Clock.systemUTC(), leaseTtl);
        broker.reaper = Executors.newSingleThreadScheduledExecutor();
        broker.reaper.scheduleWithFixedDelay(() -> {
            if (broker.service.reapExpiredLeases().toCompletableFuture().join() > 0) {
                broker.signal();
            }
        }, 50, 50, TimeUnit.MILLISECONDS);
        return broker;
    }

    /** Serves the broker on a new in-process server (counting calls); answers its name. */
    String inProcess(ServerInterceptor... faults) {
        String name = InProcessServerBuilder.generateName();
        InProcessServerBuilder builder = InProcessServerBuilder.forName(name);
        for (var definition : BrokerServer.services(service)) {
            var withFaults = ServerInterceptors.intercept(definition, faults);
            builder.addService(ServerInterceptors.intercept(withFaults, counting()));
        }
        try {
            inProcessServers.add(builder.build().start());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return name;
    }

    /** A real Netty broker node on {@code port} (0: a free one). */
    BrokerServer netty(int port) {
        try {
            BrokerServer server = BrokerServer.start(port, service);
            nettyServers.add(server);
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Stops a node abruptly, cancelling the calls in flight, as a crash would. */
    void kill(BrokerServer server) {
        nettyServers.remove(server);
        server.shutdown(Duration.ZERO);
    }

    LicenseAdminClient admin() {
        return admin;
    }

    /** An SDK client over a new in-process server of this broker. */
    LicenseBrokerClient.Builder inProcessClient(String apiKey, ServerInterceptor... faults) {
        return LicenseBrokerClient.builder().channelBuilder(InProcessChannelBuilder.forName(inProcess(faults))).apiKey(apiKey);
    }

    <T extends AutoCloseable> T closeLater(T closeable) {
        clients.add(closeable);
        return closeable;
    }

    /** Creates the account with a subscription and the user, and answers a fresh API key of the user. */
    String agent(String account, long licenses, String user) {
        admin.createAccount(account, account + " Inc.");
        admin.setSubscription(account, "", licenses, 100, Instant.now().plus(Duration.ofDays(365)));
        admin.upsertUser(account, user, "", List.of());
        return admin.createApiKey(account, user).getApiKey();
    }

    /** A seat subscription of {@code product} (NODE_LOCKED or FLOATING) for an account {@link #agent} made. */
    void seats(String account, String product, long licenses, io.licensebroker.proto.v1.LicenseModel model) {
        admin.setSubscription(account, product, licenses, 100, Instant.now().plus(Duration.ofDays(365)), model);
    }

    String keyOf(String account, String user, String assignedOrg) {
        admin.upsertUser(account, user, assignedOrg, List.of());
        return admin.createApiKey(account, user).getApiKey();
    }

    LicenseUsage usage(String account) {
        return admin.getLicenseUsage(account, "");
    }

    long inUse(String account) {
        return usage(account).getRowsList().stream().filter(r -> r.getPoolId().equals(account))
                .mapToLong(PoolRow::getInUse).sum();
    }

    /** How many calls of {@code method} (e.g. "ReleaseSession") the in-process servers received. */
    int calls(String method) {
        AtomicInteger n = calls.get("licensebroker.v1.LicenseBroker/" + method);
        return n == null ? 0 : n.get();
    }

    /** Something a test may wait for happened: a call arrived, a lease was renewed or lost. */
    void signal() {
        synchronized (changes) {
            changes.notifyAll();
        }
    }

    /**
     * Waits until {@code condition} holds, woken by {@link #signal()} (calls, renewals, losses),
     * never by a fixed sleep; fails after 30 s. The timed wait only bounds a missed wake-up.
     */
    void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        synchronized (changes) {
            while (!condition.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("timed out waiting until " + what);
                }
                try {
                    changes.wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 100)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted waiting until " + what, e);
                }
            }
        }
    }

    /** A lease listener that records what happened and wakes {@link #await}ers. */
    Recorder recorder() {
        return new Recorder(this);
    }

    static final class Recorder implements LeaseListener {
        private final TestBroker broker;
        final Map<String, String> lost = new ConcurrentHashMap<>();
        final AtomicInteger renewals = new AtomicInteger();

        private Recorder(TestBroker broker) {
            this.broker = broker;
        }

        @Override
        public void onLost(LicenseSession session, String reason) {
            if (lost.putIfAbsent(session.sessionId(), reason) != null) {
                throw new AssertionError("lost reported twice for " + session);
            }
            broker.signal();
        }

        @Override
        public void onRenewed(LicenseSession session) {
            renewals.incrementAndGet();
            broker.signal();
        }
    }

    private ServerInterceptor counting() {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                calls.computeIfAbsent(call.getMethodDescriptor().getFullMethodName(), k -> new AtomicInteger()).incrementAndGet();
                signal();
                return next.startCall(call, headers);
            }
        };
    }

    /**
     * A fault: the first call of {@code method} is carried out by the broker, but its answer is
     * lost on the way back and the client sees UNAVAILABLE, as when a connection breaks mid-call.
     */
    static ServerInterceptor loseFirstAnswer(String method) {
        AtomicBoolean lost = new AtomicBoolean();
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                if (!call.getMethodDescriptor().getFullMethodName().endsWith("/" + method) || lost.get()) {
                    return next.startCall(call, headers);
                }
                return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                    private boolean swallowed;

                    @Override
                    public void sendMessage(R message) {
                        if (lost.compareAndSet(false, true)) {
                            swallowed = true;
                            return;
                        }
                        super.sendMessage(message);
                    }

                    @Override
                    public void close(Status status, Metadata trailers) {
                        super.close(swallowed ? Status.UNAVAILABLE.withDescription("answer lost in transit (test fault)") : status,
                                swallowed ? new Metadata() : trailers);
                    }
                }, headers);
            }
        };
    }

    /** A fault: every call of {@code method} fails UNAVAILABLE without reaching the broker. */
    static final class Unreachable implements ServerInterceptor {
        private final String method;

        Unreachable(String method) {
            this.method = method;
        }

        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            if (!call.getMethodDescriptor().getFullMethodName().endsWith("/" + method)) {
                return next.startCall(call, headers);
            }
            call.close(Status.UNAVAILABLE.withDescription("broker unreachable (test fault)"), new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
    }

    @Override
    public void close() {
        for (AutoCloseable c : clients) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        if (reaper != null) {
            reaper.shutdownNow();
        }
        nettyServers.forEach(s -> s.shutdown(Duration.ZERO));
        inProcessServers.forEach(Server::shutdownNow);
        store.close();
    }
}
