package io.licensebroker.broker.console;

import com.google.protobuf.Message;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The console's HTTP port: the page ({@link StaticFiles}) and the JSON bridge to one gRPC service
 * ({@link JsonBridge}), with a strict Content-Security-Policy on every answer.
 *
 * <p>CSRF: the admin token travels in the {@code Authorization} header, which a page of another
 * site cannot make a browser send here, and never in a cookie. On top, an API call must be a POST
 * of {@code application/json} (no form can send that without a preflight, which this port never
 * grants) and is refused when its {@code Origin} is not this port's own.
 *
 * <pre>{@code
 * ConsoleServer console = ConsoleServer.start(ConsoleServer.Options.defaults(8080), server.inProcessChannel(),
 *         LicenseAdminGrpc.getServiceDescriptor());
 * }</pre>
 */
public final class ConsoleServer implements AutoCloseable {
    /** Every answer: only this origin's files run, no inline script or style, never inside a frame. */
    static final String CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    private static final Logger LOG = LoggerFactory.getLogger(ConsoleServer.class);

    /**
     * @param host         address to listen on, null for every interface
     * @param port         0 picks a free one
     * @param threads      HTTP threads (each waits for its call's answer: a few admins, a few threads)
     * @param maxBodyBytes largest request body accepted
     * @param deadline     how long a bridged call may take
     */
    public record Options(String host, int port, int threads, int maxBodyBytes, Duration deadline) {
        public static final int DEFAULT_THREADS = 8;
        public static final int DEFAULT_MAX_BODY_BYTES = 1 << 20;
        public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(30);

        public static Options defaults(int port) {
            return new Options(null, port, DEFAULT_THREADS, DEFAULT_MAX_BODY_BYTES, DEFAULT_DEADLINE);
        }

        public Options withHost(String host) {
            return new Options(host, port, threads, maxBodyBytes, deadline);
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final JsonBridge bridge;
    private final StaticFiles files = new StaticFiles();
    private final int maxBodyBytes;

    private ConsoleServer(HttpServer server, ExecutorService executor, JsonBridge bridge, int maxBodyBytes) {
        this.server = server;
        this.executor = executor;
        this.bridge = bridge;
        this.maxBodyBytes = maxBodyBytes;
    }

    /** Serves the page and bridges {@code service}'s unary methods over {@code channel}. */
    public static ConsoleServer start(Options options, Channel channel, ServiceDescriptor service) {
        InetSocketAddress address = options.host() == null ? new InetSocketAddress(options.port())
                : new InetSocketAddress(options.host(), options.port());
        HttpServer http;
        try {
            http = HttpServer.create(address, 64);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on console port " + (options.host() == null ? "" : options.host() + ":")
                    + options.port(), e);
        }
        AtomicInteger n = new AtomicInteger();
        ExecutorService executor = Executors.newFixedThreadPool(options.threads(), r -> {
            Thread t = new Thread(r, "console-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        http.setExecutor(executor);
        ConsoleServer console = new ConsoleServer(http, executor, new JsonBridge(channel, service, options.deadline()),
                options.maxBodyBytes());
        http.createContext("/", console::handle);
        http.start();
        return console;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    private void handle(HttpExchange exchange) {
        try {
            Headers h = exchange.getResponseHeaders();
            h.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
            h.set("X-Content-Type-Options", "nosniff");
            h.set("X-Frame-Options", "DENY");
            h.set("Referrer-Policy", "no-referrer");
            h.set("Cross-Origin-Opener-Policy", "same-origin");
            h.set("Cross-Origin-Resource-Policy", "same-origin");
            String path = exchange.getRequestURI().getRawPath();
            if (path.startsWith("/api/")) {
                api(exchange, path);
            } else {
                page(exchange, path);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("console request {} failed", exchange.getRequestURI().getRawPath(), e);
            try {
                exchange.sendResponseHeaders(500, -1);
            } catch (IOException | RuntimeException ignored) {
                // headers already sent or the client left
            }
        } finally {
            exchange.close();
        }
    }

    private void page(HttpExchange exchange, String path) throws IOException {
        String method = exchange.getRequestMethod();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            exchange.getResponseHeaders().set("Allow", "GET, HEAD");
            send(exchange, 405, "text/plain; charset=utf-8", "method not allowed\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return;
        }
        Optional<StaticFiles.File> file = files.get(path);
        if (file.isEmpty()) {
            send(exchange, 404, "text/plain; charset=utf-8", "not found\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return;
        }
        // Revalidated on every load: a new jar's page is never mixed with an old one's modules.
        exchange.getResponseHeaders().set("Cache-Control", "no-cache");
        send(exchange, 200, file.get().contentType(), file.get().bytes());
    }

    private void api(HttpExchange exchange, String path) throws IOException {
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        Optional<MethodDescriptor<Message, Message>> method = bridge.method(path);
        if (method.isEmpty()) {
            refuse(exchange, ErrorBody.of(Status.Code.UNIMPLEMENTED, "no method " + path + " (the console bridges "
                    + bridge.prefix() + "<Method>)", "", ""));
            return;
        }
        if (!exchange.getRequestMethod().equals("POST")) {
            exchange.getResponseHeaders().set("Allow", "POST");
            send(exchange, 405, "application/json", ErrorBody.of(Status.Code.INVALID_ARGUMENT, "API calls are POST requests", "", "").json());
            return;
        }
        Headers in = exchange.getRequestHeaders();
        String origin = in.getFirst("Origin");
        String host = in.getFirst("Host");
        if (origin != null && (host == null || !(origin.equals("http://" + host) || origin.equals("https://" + host)))) {
            refuse(exchange, ErrorBody.of(Status.Code.PERMISSION_DENIED, "requests from another origin are refused", "FOREIGN_ORIGIN", ""));
            return;
        }
        String contentType = in.getFirst("Content-Type");
        if (contentType == null || !contentType.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
            send(exchange, 415, "application/json", ErrorBody.of(Status.Code.INVALID_ARGUMENT,
                    "the request body must be application/json", "INVALID_ARGUMENT", "Content-Type").json());
            return;
        }
        String authorization = in.getFirst("Authorization");
        if (authorization == null || authorization.isBlank()) {
            refuse(exchange, ErrorBody.of(Status.Code.UNAUTHENTICATED, "sign in: API calls need an Authorization: Bearer <admin token> header",
                    "UNAUTHENTICATED", ""));
            return;
        }
        byte[] body;
        try (InputStream stream = exchange.getRequestBody()) {
            body = stream.readNBytes(maxBodyBytes + 1);
        }
        if (body.length > maxBodyBytes) {
            send(exchange, 413, "application/json", ErrorBody.of(Status.Code.INVALID_ARGUMENT,
                    "the request body is larger than " + maxBodyBytes + " bytes", "INVALID_ARGUMENT", "body").json());
            return;
        }
        JsonBridge.Answer answer = bridge.call(method.get(), authorization, body);
        send(exchange, answer.status(), "application/json", answer.json());
    }

    private static void refuse(HttpExchange exchange, ErrorBody body) throws IOException {
        send(exchange, body.httpStatus(), "application/json", body.json());
    }

    private static void send(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            try (OutputStream os = exchange.getResponseBody()) {
                os.write(body);
            }
        }
    }

    /** Stops accepting and ends the exchanges in progress. */
    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
