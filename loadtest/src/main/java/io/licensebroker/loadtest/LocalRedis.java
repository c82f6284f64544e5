package io.licensebroker.loadtest;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throwaway redis-server on a free loopback port for a benchmark run: the one on PATH if any,
 * else the Linux binary shipped inside the embedded-redis artifact. No persistence.
 */
final class LocalRedis implements AutoCloseable {
    private static final String BUNDLED = "/redis-server-6.2.6-v5-linux-amd64";

    private final Process process;
    private final Path dir;
    private final int port;

    private LocalRedis(Process process, Path dir, int port) {
        this.process = process;
        this.dir = dir;
        this.port = port;
    }

    static LocalRedis start() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("license-loadtest-redis-");
        Path binary = onPath().orElse(null);
        if (binary == null) {
            binary = dir.resolve("redis-server");
            try (InputStream in = LocalRedis.class.getResourceAsStream(BUNDLED)) {
                if (in == null) {
                    throw new IOException("no redis-server on PATH and none bundled at " + BUNDLED);
                }
                Files.copy(in, binary, StandardCopyOption.REPLACE_EXISTING);
            }
            if (!binary.toFile().setExecutable(true)) {
                throw new IOException("cannot make " + binary + " executable");
            }
        }
        int port = freePort();
        Process p = new ProcessBuilder(List.of(binary.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--protected-mode", "no"))
                .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
        LocalRedis redis = new LocalRedis(p, dir, port);
        redis.awaitPong();
        return redis;
    }

    String uri() {
        return "redis://127.0.0.1:" + port;
    }

    private void awaitPong() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("redis-server exited: " + Files.readString(dir.resolve("redis.log")));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                OutputStream out = s.getOutputStream();
                out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                byte[] buf = new byte[7];
                int n = s.getInputStream().read(buf);
                if (n > 0 && new String(buf, 0, n, StandardCharsets.US_ASCII).startsWith("+PONG")) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            process.waitFor(50, TimeUnit.MILLISECONDS);
        }
        throw new IOException("redis-server did not answer PING on port " + port);
    }

    private static java.util.Optional<Path> onPath() {
        String path = System.getenv("PATH");
        if (path == null) {
            return java.util.Optional.empty();
        }
        return Stream.of(path.split(java.io.File.pathSeparator)).map(d -> Path.of(d, "redis-server"))
                .filter(Files::isExecutable).findFirst();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
