package io.licensebroker.broker.app;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.licensebroker.testkit.Await;
import io.licensebroker.broker.testing.Exposition;
import io.licensebroker.broker.testing.InProcessBroker;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.ListAccountsRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A real node on a real port, flooded with connections from other loopback addresses (Linux
 * routes all of 127/8 to the loopback interface): those over the per-address or the total limit
 * are closed at once, /healthz and a normal client keep working, and idle connections are closed
 * after --max-connection-idle.
 */
final class ConnectionLimitsTest {
    private static final String ADMIN = "connection-limits-super-admin-token-0123";
    private static final int PER_ADDRESS = 10;
    private static final int TOTAL = 25;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @TempDir
    Path dataDir;
    private BrokerNode node;
    private final List<Socket> sockets = new ArrayList<>();
    private final List<ManagedChannel> channels = new ArrayList<>();

    @AfterEach
    void stop() {
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // already closed by the broker
            }
        }
        channels.forEach(ManagedChannel::shutdownNow);
        if (node != null) {
            node.close();
        }
    }

    @Test
    void connectionsOverTheLimitsAreClosedAtOnceAndTheNodeKeepsServing() throws Exception {
        node = start("1m");
        // One address over its limit: the first ten are held, the rest closed at once.
        assertEquals(PER_ADDRESS, flood("127.0.0.2", 15));
        assertEquals(200, healthz(), "the ops port answers");
        ManagedChannel normal = channel();
        assertEquals(1, admin(normal).listAccounts(ListAccountsRequest.getDefaultInstance()).getAccountsCount(), "a normal client works");

        // More addresses, until the total is reached: 10 held, then 25 - 21 = 4.
        assertEquals(PER_ADDRESS, flood("127.0.0.3", 15));
        assertEquals(TOTAL - 2 * PER_ADDRESS - 1, flood("127.0.0.4", 15));
        assertEquals(200, healthz(), "the ops port still answers at the limit");
        assertEquals(1, admin(normal).listAccounts(ListAccountsRequest.getDefaultInstance()).getAccountsCount(),
                "a client connected before the limit was reached keeps working");

        Exposition metrics = Exposition.parse(get("/metrics").body());
        assertEquals(TOTAL, metrics.value("broker_grpc_connections"));
        assertEquals(5 + 5 + 11, metrics.value("broker_grpc_connections_refused_total"));
    }

    @Test
    void idleConnectionsAreClosedAfterTheIdleTime() throws Exception {
        node = start("1s");
        List<ManagedChannel> idle = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ManagedChannel c = channel();
            admin(c).listAccounts(ListAccountsRequest.getDefaultInstance());
            assertEquals(ConnectivityState.READY, c.getState(false));
            idle.add(c);
        }
        // Connections that never speak HTTP/2 are reaped too (after the GOAWAY's ping goes unanswered).
        List<Socket> silent = connect("127.0.0.2", 3);
        Await.until(Duration.ofSeconds(30), () -> idle.stream().allMatch(c -> c.getState(false) == ConnectivityState.IDLE)
                && silent.stream().allMatch(ConnectionLimitsTest::closedByPeer) && node.connectionsOpen() == 0,
                () -> "idle connections reaped: channels " + idle.stream().map(c -> c.getState(false)).toList()
                        + ", " + node.connectionsOpen() + " open");
        // A reaped client just reconnects on its next call.
        assertEquals(1, admin(idle.get(0)).listAccounts(ListAccountsRequest.getDefaultInstance()).getAccountsCount());
    }

    private BrokerNode start(String maxIdle) {
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.DATA_DIR, dataDir.toString());
        flags.put(Setting.FSYNC, "false");
        flags.put(Setting.ADMIN_TOKEN, ADMIN);
        flags.put(Setting.MAX_CONNECTIONS, String.valueOf(TOTAL));
        flags.put(Setting.MAX_CONNECTIONS_PER_ADDRESS, String.valueOf(PER_ADDRESS));
        flags.put(Setting.MAX_CONNECTION_IDLE, maxIdle);
        return LocalNode.startNode(flags, true);
    }

    /** Opens {@code n} connections from {@code from} and answers how many the broker kept open. */
    private int flood(String from, int n) throws IOException {
        int held = 0;
        for (Socket s : connect(from, n)) {
            if (!closedByPeer(s)) {
                held++;
            }
        }
        return held;
    }

    private List<Socket> connect(String from, int n) throws IOException {
        List<Socket> opened = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Socket s = new Socket();
            sockets.add(s);
            s.bind(new InetSocketAddress(from, 0));
            s.connect(new InetSocketAddress("127.0.0.1", node.port()), 5_000);
            opened.add(s);
        }
        return opened;
    }

    /**
     * Whether the broker closed the connection: a read sees the end of the stream (or a reset)
     * within a moment. A held connection gets the server's HTTP/2 settings, or nothing.
     */
    private static boolean closedByPeer(Socket s) {
        try {
            s.setSoTimeout(300);
            InputStream in = s.getInputStream();
            byte[] buffer = new byte[4096];
            while (true) {
                if (in.read(buffer) < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    private ManagedChannel channel() {
        ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
        channels.add(c);
        return c;
    }

    private static LicenseAdminGrpc.LicenseAdminBlockingStub admin(ManagedChannel c) {
        return InProcessBroker.withToken(LicenseAdminGrpc.newBlockingStub(c), ADMIN);
    }

    private int healthz() throws Exception {
        return get("/healthz").statusCode();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.metricsPort() + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
