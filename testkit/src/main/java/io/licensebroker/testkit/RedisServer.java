package io.licensebroker.testkit;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A real {@code redis-server} process for tests and benchmark runs, on a free port of 127.0.0.1, in its own
 * directory, without persistence unless the arguments ask for it. The binary is the one on PATH
 * when there is one, else the one shipped inside {@code com.github.codemonstur:embedded-redis}
 * (extracted once per JVM); the system property {@value #BINARY_PROPERTY} ({@code path} or
 * {@code bundled}) insists on one, so the build runs the Redis tests against both. Start-up
 * completes when the server logs that it accepts connections.
 */
public final class RedisServer implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
    private static final String READY = "Ready to accept connections";
    /** {@code path}: the redis-server on PATH (fail without one); {@code bundled}: embedded-redis's; unset: PATH, else bundled. */
    public static final String BINARY_PROPERTY = "licensebroker.test.redis";
    private static Path binary;
    private static int majorVersion;

    private final int port;
    private final Path dir;
    private final List<String> extraArgs;
    /** The directory {@link #close()} deletes (one this class made), or null. */
    private final Scratch scratch;
    private final List<String> output = new CopyOnWriteArrayList<>();
    private Process process;

    private RedisServer(int port, Path dir, List<String> extraArgs, Scratch scratch) {
        this.port = port;
        this.dir = dir;
        this.extraArgs = List.copyOf(extraArgs);
        this.scratch = scratch;
    }

    /** A server on a free port; {@code extraArgs} are redis-server options ("--appendonly", "yes", ...). */
    public static RedisServer start(Path dir, String... extraArgs) {
        RedisServer server = new RedisServer(freePort(), dir, List.of(extraArgs), null);
        server.launch();
        return server;
    }

    /** A throwaway server (a benchmark run's) in a fresh temporary directory that {@link #close()} deletes. */
    public static RedisServer startTemporary(String... extraArgs) {
        Scratch scratch = Scratch.directory("license-broker-redis-");
        RedisServer server = new RedisServer(freePort(), scratch.path(), List.of(extraArgs), scratch);
        try {
            server.launch();
        } catch (RuntimeException e) {
            scratch.close();
            throw e;
        }
        return server;
    }

    /** A cluster-enabled server (no slots yet; see {@link RedisClusterFixture}). */
    public static RedisServer startClusterNode(Path dir) {
        return start(dir, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000");
    }

    public int port() {
        return port;
    }

    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** SIGKILL: no shutdown, no final save. */
    public void kill() {
        if (process != null) {
            process.destroyForcibly();
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("redis-server on " + port + " did not die");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** Starts the server again on the same port and directory (after {@link #kill()}). */
    public void restart() {
        if (isAlive()) {
            throw new IllegalStateException("redis-server on " + port + " is still running");
        }
        launch();
    }

    /** Runs {@code action} on a short-lived connection of its own (FLUSHALL, CLUSTER commands...). */
    public void with(Consumer<StatefulRedisConnection<String, String>> action) {
        RedisClient client = RedisClient.create(RedisURI.create(uri()));
        try (StatefulRedisConnection<String, String> connection = client.connect()) {
            action.accept(connection);
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
    }

    public void flushAll() {
        with(c -> c.sync().flushall());
    }

    public List<String> output() {
        return List.copyOf(output);
    }

    @Override
    public void close() {
        kill();
        if (scratch != null) {
            scratch.close();
        }
    }

    // ---------------------------------------------------------------- internals

    private void launch() {
        List<String> cmd = new ArrayList<>(List.of(binary().toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--dir", dir.toString(), "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", ""));
        if (majorVersion() >= 7) {
            // Redis 7 refuses DEBUG (the fault tests' DEBUG SLEEP) unless enabled; "local" keeps it to loopback.
            cmd.addAll(List.of("--enable-debug-command", "local"));
        }
        cmd.addAll(extraArgs);
        CompletableFuture<Void> ready = new CompletableFuture<>();
        try {
            Files.createDirectories(dir);
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
        Process p = process;
        Thread pump = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    output.add(line);
                    if (line.contains(READY)) {
                        ready.complete(null);
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
            ready.completeExceptionally(new IllegalStateException("redis-server exited: " + output));
        }, "redis-server-" + port);
        pump.setDaemon(true);
        pump.start();
        try {
            ready.get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            p.destroyForcibly();
            throw new IllegalStateException("redis-server did not start on " + port + ": " + output, e);
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The major version of the binary in use, read once from {@code redis-server --version}. */
    public static synchronized int majorVersion() {
        if (majorVersion == 0) {
            majorVersion = versionOf(binary());
        }
        return majorVersion;
    }

    private static int versionOf(Path redisServer) {
        try {
            Process p = new ProcessBuilder(redisServer.toString(), "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(20, TimeUnit.SECONDS);
            Matcher m = Pattern.compile("v=(\\d+)\\.").matcher(out);
            if (!m.find()) {
                throw new IllegalStateException(redisServer + " --version printed no version: " + out);
            }
            return Integer.parseInt(m.group(1));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + redisServer + " --version", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static synchronized Path binary() {
        if (binary == null) {
            String choice = System.getProperty(BINARY_PROPERTY, "");
            binary = switch (choice) {
                case "path" -> onPath().orElseThrow(() -> new IllegalStateException(
                        "-D" + BINARY_PROPERTY + "=path but no redis-server on PATH (apt-get install redis-server)"));
                case "bundled" -> extractBundled();
                case "" -> onPath().orElseGet(RedisServer::extractBundled);
                default -> throw new IllegalStateException("-D" + BINARY_PROPERTY + " must be path or bundled, not '" + choice + "'");
            };
        }
        return binary;
    }

    private static Optional<Path> onPath() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(dir, "redis-server");
            if (!dir.isEmpty() && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    private static Path extractBundled() {
        String resource = "/" + shippedBinaryName();
        try (InputStream in = RedisServer.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("no redis-server on PATH and no " + resource + " in embedded-redis");
            }
            Path dir = Files.createTempDirectory("license-broker-redis");
            Path target = dir.resolve("redis-server");
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            if (!target.toFile().setExecutable(true, true)) {
                throw new IllegalStateException("cannot make " + target + " executable");
            }
            target.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract " + resource, e);
        }
    }

    /** The binaries embedded-redis 1.4.3 ships, by platform. */
    private static String shippedBinaryName() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        boolean arm = arch.contains("aarch64") || arch.contains("arm");
        if (os.contains("mac")) {
            return arm ? "redis-server-6.2.6-v5-darwin-arm64" : "redis-server-6.2.6-v5-darwin-amd64";
        }
        if (os.contains("linux")) {
            if (arm) {
                return "redis-server-6.2.7-linux-arm64";
            }
            return arch.contains("64") ? "redis-server-6.2.6-v5-linux-amd64" : "redis-server-6.2.7-linux-386";
        }
        throw new IllegalStateException("no shipped redis-server for " + os + "/" + arch + "; put one on PATH");
    }
}
