package io.licensebroker.broker.app;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;

import java.io.OutputStream;
import java.io.PrintStream;
import java.time.Clock;
import java.util.EnumMap;
import java.util.Map;
import java.util.UUID;

/**
 * A broker node started inside this JVM, as {@code serve} would start it, on ports the OS picks,
 * with a plaintext channel to its gRPC port: what the load tester's compare runs and the broker's
 * multi-node tests start. Ports (gRPC, metrics, console) default to 0 and the admin token to a random one; the data
 * directory is the caller's (a test's temporary directory), so it outlives a restart. The
 * operator output is discarded.
 */
public final class LocalNode implements AutoCloseable {
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final BrokerNode node;
    private final String adminToken;
    private ManagedChannel channel;

    private LocalNode(BrokerNode node, String adminToken) {
        this.node = node;
        this.adminToken = adminToken;
    }

    /** A node with {@code settings} (at least {@link Setting#DATA_DIR}) over the defaults above. */
    public static LocalNode start(Map<Setting, String> settings) {
        return start(settings, false);
    }

    /** With {@code demo}, the node loads the demo account as {@code serve --demo} does. */
    public static LocalNode start(Map<Setting, String> settings, boolean demo) {
        Map<Setting, String> flags = withDefaults(settings);
        return new LocalNode(BrokerNode.start(BrokerSettings.resolve(flags, Map.of()), demo, Clock.systemUTC(),
                new PrintStream(OutputStream.nullOutputStream())), flags.get(Setting.ADMIN_TOKEN));
    }

    /** Just the node, without a channel, for tests that dial it their own way; closing it is the caller's. */
    public static BrokerNode startNode(Map<Setting, String> settings, boolean demo) {
        return start(settings, demo).node;
    }

    private static Map<Setting, String> withDefaults(Map<Setting, String> settings) {
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.PORT, "0");
        flags.put(Setting.METRICS_PORT, "0");
        flags.put(Setting.CONSOLE_PORT, "0");
        flags.put(Setting.ADMIN_TOKEN, "local-node-" + UUID.randomUUID());
        flags.putAll(settings);
        if (!flags.containsKey(Setting.DATA_DIR)) {
            // The default (./data) would leave journals in the working directory.
            throw new IllegalArgumentException("a local node needs its data directory (Setting.DATA_DIR)");
        }
        return flags;
    }

    public BrokerNode node() {
        return node;
    }

    public int port() {
        return node.port();
    }

    /** {@code host:port} of the gRPC port, for a client's --target. */
    public String target() {
        return "127.0.0.1:" + node.port();
    }

    public String adminToken() {
        return adminToken;
    }

    /** A plaintext channel to the gRPC port (made on first use, closed with the node). */
    public synchronized ManagedChannel channel() {
        if (channel == null) {
            channel = NettyChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
        }
        return channel;
    }

    /** {@code stub} sending {@code token} as its bearer credential (no deadline: callers choose one). */
    public static <S extends AbstractStub<S>> S withToken(S stub, String token) {
        Metadata headers = new Metadata();
        headers.put(AUTHORIZATION, "Bearer " + token);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    /** Stops the node gracefully (as {@link BrokerNode#close()}); again is a no-op. */
    @Override
    public void close() {
        synchronized (this) {
            if (channel != null) {
                channel.shutdownNow();
            }
        }
        node.close();
    }
}
