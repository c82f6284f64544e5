package io.licensebroker.broker.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** The broker jar running as a real process, as an operator would start it. */
final class BrokerProcess implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final BlockingQueue<String> fresh = new LinkedBlockingQueue<>();
    private final int port;
    private final Thread pump;

    private BrokerProcess(Process process) throws IOException, InterruptedException {
        this.process = process;
        this.pump = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                    fresh.add(line);
                }
            } catch (IOException e) {
                // the process ended
            }
        }, "broker-output");
        pump.setDaemon(true);
        pump.start();
        this.port = Integer.parseInt(awaitLine("listening on ").substring("listening on ".length()).trim());
    }

    static BrokerProcess start(Path dataDir, String... extraArgs) throws IOException, InterruptedException {
        String jar = System.getProperty("broker.jar", "target/license-broker.jar");
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-jar", jar, "serve", "--port", "0", "--metrics-port", "0", "--console-port", "0", "--data-dir", dataDir.toString()));
        cmd.addAll(List.of(extraArgs));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        return new BrokerProcess(p);
    }

    int port() {
        return port;
    }

    List<String> output() {
        return List.copyOf(lines);
    }

    /** The first line (already printed or still to come) starting with {@code prefix}. */
    String awaitLine(String prefix) throws InterruptedException, IOException {
        for (String l : lines) {
            if (l.startsWith(prefix)) {
                return l;
            }
        }
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            String l = fresh.poll(100, TimeUnit.MILLISECONDS);
            if (l != null && l.startsWith(prefix)) {
                return l;
            }
            if (l == null && !process.isAlive() && fresh.isEmpty()) {
                throw new IOException("broker exited with " + process.exitValue() + " before printing '" + prefix + "': " + lines);
            }
        }
        throw new IOException("no line '" + prefix + "' within " + START_TIMEOUT + ": " + lines);
    }

    /** SIGKILL: no shutdown hook, no flush. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM, then the exit code. */
    int terminate() throws InterruptedException {
        // Through the handle: Process.destroy() would also close our end of its output pipe.
        process.toHandle().destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("broker did not stop within 60s of SIGTERM: " + lines);
        }
        pump.join(10_000); // the last lines are read once the process has closed its output
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
