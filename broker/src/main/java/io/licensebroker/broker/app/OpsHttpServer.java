package io.licensebroker.broker.app;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.licensebroker.broker.metrics.BrokerMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The operators' HTTP port: {@code /healthz} (200 while serving, 503 from the moment a shutdown
 * begins) and {@code /metrics} (the Prometheus scrape, text format or OpenMetrics as the Accept
 * header asks).
 */
final class OpsHttpServer implements AutoCloseable {
    /**
     * Two threads: a scrape reads every license table and may take a while on a remote store; a
     * health probe arriving meanwhile must not wait behind it (a late probe gets a pod restarted).
     */
    private static final int THREADS = 2;
    private static final Logger LOG = LoggerFactory.getLogger(OpsHttpServer.class);
    /** Scrapers and probes are few; unbounded, the ops port could itself become a descriptor sink. */
    private static final String MAX_CONNECTIONS = "256";

    static {
        // Read once, when the JDK server first starts; an operator's own -D value wins.
        if (System.getProperty("jdk.httpserver.maxConnections") == null) {
            System.setProperty("jdk.httpserver.maxConnections", MAX_CONNECTIONS);
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;

    private OpsHttpServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** {@code host} null: every interface. */
    static OpsHttpServer start(String host, int port, BooleanSupplier serving, BrokerMetrics metrics) {
        try {
            HttpServer server = HttpServer.create(host == null ? new InetSocketAddress(port) : new InetSocketAddress(host, port), 64);
            AtomicInteger n = new AtomicInteger();
            ExecutorService executor = Executors.newFixedThreadPool(THREADS, r -> {
                Thread t = new Thread(r, "ops-http-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            server.setExecutor(executor);
            server.createContext("/healthz", exactly("/healthz", exchange -> {
                boolean ok = serving.getAsBoolean();
                respond(exchange, ok ? 200 : 503, "text/plain; charset=utf-8", (ok ? "ok\n" : "not serving\n").getBytes(StandardCharsets.UTF_8));
            }));
            server.createContext("/metrics", exactly("/metrics", exchange -> {
                ByteArrayOutputStream body = new ByteArrayOutputStream(64 * 1024);
                String contentType = metrics.scrape(exchange.getRequestHeaders().getFirst("Accept"), body);
                respond(exchange, 200, contentType, body.toByteArray());
            }));
            server.createContext("/", exactly("", exchange -> respond(exchange, 404, "text/plain; charset=utf-8",
                    "not found; try /metrics or /healthz\n".getBytes(StandardCharsets.UTF_8))));
            server.start();
            return new OpsHttpServer(server, executor);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on metrics port " + (host == null ? "" : host + ":") + port, e);
        }
    }

    int port() {
        return server.getAddress().getPort();
    }

    InetSocketAddress address() {
        return server.getAddress();
    }

    /**
     * The JDK server matches contexts by prefix; this answers 404 for anything but {@code path}
     * itself, 405 for anything but GET and HEAD, and 500 (logged) when the handler fails.
     */
    private static HttpHandler exactly(String path, HttpHandler handler) {
        return exchange -> {
            try {
                String method = exchange.getRequestMethod();
                if (!exchange.getRequestURI().getPath().equals(path)) {
                    respond(exchange, 404, "text/plain; charset=utf-8", "not found; try /metrics or /healthz\n".getBytes(StandardCharsets.UTF_8));
                } else if (!method.equals("GET") && !method.equals("HEAD")) {
                    exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                    respond(exchange, 405, "text/plain; charset=utf-8", "method not allowed\n".getBytes(StandardCharsets.UTF_8));
                } else {
                    handler.handle(exchange);
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("ops endpoint {} failed", exchange.getRequestURI().getPath(), e);
                try {
                    exchange.sendResponseHeaders(500, -1);
                } catch (IOException | RuntimeException ignored) {
                    // headers already sent or the client left: nothing more to tell it
                }
            } finally {
                exchange.close();
            }
        };
    }

    private static void respond(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            try (OutputStream os = exchange.getResponseBody()) {
                os.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
