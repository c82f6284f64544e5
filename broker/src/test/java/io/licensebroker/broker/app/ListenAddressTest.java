package io.licensebroker.broker.app;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * --listen-address and --metrics-listen-address bind the ports to one address; without them both
 * listen on every interface, as before. 127.0.0.2 stands for "another interface": Linux routes all
 * of 127/8 to the loopback interface, so only a wildcard listener answers there.
 */
final class ListenAddressTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @TempDir
    Path dataDir;
    private BrokerNode node;

    @AfterEach
    void stop() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    void bothPortsListenOnlyOnTheGivenAddress() throws Exception {
        node = start(Map.of(Setting.LISTEN_ADDRESS, "127.0.0.1", Setting.METRICS_LISTEN_ADDRESS, "127.0.0.1"));
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        assertEquals(loopback, node.address().getAddress());
        assertEquals(loopback, node.metricsAddress().getAddress());

        assertTrue(connects("127.0.0.1", node.port()), "gRPC answers on the given address");
        assertEquals(200, healthz("127.0.0.1"));
        assertTrue(!connects("127.0.0.2", node.port()), "gRPC does not answer on another address");
        assertThrows(ConnectException.class, () -> healthz("127.0.0.2"), "nor does the ops port");
    }

    @Test
    void withoutAnAddressBothPortsListenOnEveryInterface() throws Exception {
        node = start(Map.of());
        assertTrue(node.address().getAddress().isAnyLocalAddress(), node.address().toString());
        assertTrue(node.metricsAddress().getAddress().isAnyLocalAddress(), node.metricsAddress().toString());
        assertTrue(connects("127.0.0.2", node.port()));
        assertEquals(200, healthz("127.0.0.2"));
    }

    private BrokerNode start(Map<Setting, String> extra) {
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.DATA_DIR, dataDir.toString());
        flags.put(Setting.FSYNC, "false");
        flags.put(Setting.ADMIN_TOKEN, "listen-address-super-admin-token-0123");
        flags.putAll(extra);
        return LocalNode.startNode(flags, false);
    }

    private static boolean connects(String host, int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 5_000);
            return true;
        } catch (ConnectException refused) {
            return false;
        }
    }

    private int healthz(String host) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + node.metricsPort() + "/healthz"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }
}
