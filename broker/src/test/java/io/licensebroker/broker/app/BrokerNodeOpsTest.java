package io.licensebroker.broker.app;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.licensebroker.broker.metrics.BrokerMetrics;
import io.licensebroker.broker.testing.HealthWatch;
import io.licensebroker.broker.testing.Exposition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A real node: the ops port's endpoints, and what a shutdown tells health checkers while it drains. */
final class BrokerNodeOpsTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @TempDir
    Path dataDir;
    private BrokerNode node;

    @BeforeEach
    void start() {
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.DATA_DIR, dataDir.toString());
        flags.put(Setting.FSYNC, "false");
        flags.put(Setting.ADMIN_TOKEN, "ops-test-super-admin-token-0123456789");
        node = LocalNode.startNode(flags, true);
    }

    @AfterEach
    void stop() {
        node.close();
    }

    @Test
    void metricsAndHealthOnTheOpsPort() throws Exception {
        HttpResponse<String> health = get("/healthz", null);
        assertEquals(200, health.statusCode());
        assertEquals("ok\n", health.body());

        HttpResponse<String> metrics = get("/metrics", null);
        assertEquals(200, metrics.statusCode());
        assertEquals(BrokerMetrics.TEXT_FORMAT, metrics.headers().firstValue("Content-Type").orElseThrow());
        Exposition scrape = Exposition.parse(metrics.body());
        assertEquals(164, scrape.value("license_pool_available", "account", "demo", "pool", "demo", "product", "KRE"), "the demo account");
        assertEquals(5, scrape.named("license_pool_in_use").size());

        // What Prometheus asks for by default.
        HttpResponse<String> openMetrics = get("/metrics", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
        assertEquals(BrokerMetrics.OPENMETRICS_FORMAT, openMetrics.headers().firstValue("Content-Type").orElseThrow());
        assertTrue(openMetrics.body().endsWith("# EOF\n"), "OpenMetrics ends with # EOF");
        assertTrue(openMetrics.body().contains("# TYPE license_acquire counter"), "OpenMetrics names the counter family without _total");

        assertEquals(404, get("/metricsx", null).statusCode());
        assertEquals(404, get("/", null).statusCode());
        HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(uri("/metrics")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
        assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElseThrow());
        HttpResponse<String> head = HTTP.send(HttpRequest.newBuilder(uri("/healthz")).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
    }

    /**
     * A health watch is itself an in-flight call, so it holds the drain open: while it does, the
     * node must already say NOT_SERVING on both channels, gRPC health and /healthz.
     */
    @Test
    void aShutdownReportsNotServingOnBothHealthChecksWhileItDrains() throws Exception {
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", node.port()).usePlaintext().build();
        try {
            HealthWatch watch = HealthWatch.start(channel);
            assertEquals(ServingStatus.SERVING, watch.next());

            CompletableFuture<Void> closing = CompletableFuture.runAsync(node::close);
            assertEquals(ServingStatus.NOT_SERVING, watch.next());
            HttpResponse<String> health = get("/healthz", null);
            assertEquals(503, health.statusCode());
            assertEquals("not serving\n", health.body());
            assertFalse(closing.isDone(), "the drain waits for the watch");

            watch.close();
            closing.get(30, TimeUnit.SECONDS);
            assertThrows(ConnectException.class, () -> get("/healthz", null), "the ops port closes last");
        } finally {
            channel.shutdownNow();
        }
    }

    private HttpResponse<String> get(String path, String accept) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10));
        if (accept != null) {
            request.header("Accept", accept);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + node.metricsPort() + path);
    }
}
