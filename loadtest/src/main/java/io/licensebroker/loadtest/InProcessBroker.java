package io.licensebroker.loadtest;

import io.licensebroker.broker.app.BrokerNode;
import io.licensebroker.broker.app.BrokerSettings;
import io.licensebroker.broker.app.Setting;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/** A broker node started inside the load tester's JVM, with its own data directory, for compare runs. */
final class InProcessBroker implements AutoCloseable {
    private final BrokerNode node;
    private final Path dataDir;
    private final String adminToken;

    private InProcessBroker(BrokerNode node, Path dataDir, String adminToken) {
        this.node = node;
        this.dataDir = dataDir;
        this.adminToken = adminToken;
    }

    /** {@code extra} adds or overrides settings (e.g. the store and Redis URI). */
    static InProcessBroker start(Map<Setting, String> extra) throws IOException {
        Path dir = Files.createTempDirectory("license-loadtest-");
        String token = "loadtest-" + UUID.randomUUID();
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        flags.put(Setting.PORT, "0");
        flags.put(Setting.METRICS_PORT, "0");
        flags.put(Setting.DATA_DIR, dir.toString());
        flags.put(Setting.ADMIN_TOKEN, token);
        flags.putAll(extra);
        BrokerSettings settings = BrokerSettings.resolve(flags, Map.of());
        BrokerNode node = BrokerNode.start(settings, false, Clock.systemUTC(), new PrintStream(OutputStream.nullOutputStream()));
        return new InProcessBroker(node, dir, token);
    }

    String target() {
        return "127.0.0.1:" + node.port();
    }

    String adminToken() {
        return adminToken;
    }

    @Override
    public void close() throws IOException {
        node.close();
        try (Stream<Path> files = Files.walk(dataDir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
