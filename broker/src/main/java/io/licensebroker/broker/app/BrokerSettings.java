package io.licensebroker.broker.app;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A broker node's configuration, resolved once at start and immutable after. Bad values stop the
 * node with one message naming every offending setting.
 */
public record BrokerSettings(int port, String listenAddress, int metricsPort, String metricsListenAddress, String adminToken, StoreKind store, String redisUri,
                             Duration redisTimeout, Path dataDir, Duration leaseTtl, boolean fsync, Duration shutdownGrace,
                             int metricsMaxPools, LogFormat logFormat, String logLevel, Path tlsCert, Path tlsKey,
                             Path tlsClientCa, Duration redisLearningPeriod, int maxConnections, int maxConnectionsPerAddress,
                             Duration maxConnectionIdle, int consolePort, String consoleListenAddress) {

    public enum StoreKind { MEMORY, REDIS }

    public enum LogFormat { TEXT, JSON }

    /** Bounds --metrics-max-pools: three series each, beyond this no Prometheus would want them. */
    static final int MAX_METRICS_POOLS = 1_000_000;
    /** Bounds --max-connections and --max-connections-per-address: far beyond any descriptor limit. */
    static final int MAX_CONNECTIONS = 10_000_000;
    private static final List<String> LOG_LEVELS = List.of("error", "warn", "info", "debug", "trace");

    /** Thrown for settings that cannot start a broker; the message names each bad setting. */
    public static final class InvalidSettingsException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        InvalidSettingsException(String message) {
            super(message);
        }
    }

    public BrokerSettings {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(redisTimeout, "redisTimeout");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(leaseTtl, "leaseTtl");
        Objects.requireNonNull(redisLearningPeriod, "redisLearningPeriod");
        Objects.requireNonNull(shutdownGrace, "shutdownGrace");
        Objects.requireNonNull(logFormat, "logFormat");
        Objects.requireNonNull(logLevel, "logLevel");
        Objects.requireNonNull(maxConnectionIdle, "maxConnectionIdle");
    }

    /**
     * Resolves each setting from the flags given, else the environment, else the config file
     * (named by {@code --config} or {@code BROKER_CONFIG}, when given), else its default.
     *
     * @param flags values given on the command line (absent settings are not in the map)
     * @param env   the process environment
     */
    public static BrokerSettings resolve(Map<Setting, String> flags, Map<String, String> env) {
        List<String> problems = new ArrayList<>();
        String config = flags.containsKey(Setting.CONFIG) ? flags.get(Setting.CONFIG) : env.get(Setting.CONFIG.env());
        Map<Setting, String> file = Map.of();
        if (config != null) {
            try {
                file = ConfigFile.read(Path.of(config), problems);
            } catch (InvalidPathException e) {
                problems.add(describe(Setting.CONFIG) + " is not a path: " + e.getMessage());
            }
        }
        Map<Setting, String> raw = new EnumMap<>(Setting.class);
        for (Setting s : Setting.values()) {
            String v = flags.get(s);
            if (v == null) {
                v = env.get(s.env());
            }
            if (v == null) {
                v = file.get(s);
            }
            if (v == null) {
                v = s.defaultValue();
            }
            if (v != null) {
                raw.put(s, v);
            }
        }
        int port = port(raw, Setting.PORT, problems);
        String listenAddress = address(raw, Setting.LISTEN_ADDRESS, problems);
        int metricsPort = port(raw, Setting.METRICS_PORT, problems);
        String metricsListenAddress = address(raw, Setting.METRICS_LISTEN_ADDRESS, problems);
        int consolePort = port(raw, Setting.CONSOLE_PORT, problems);
        String consoleListenAddress = address(raw, Setting.CONSOLE_LISTEN_ADDRESS, problems);
        int maxConnections = positiveCount(raw, Setting.MAX_CONNECTIONS, problems);
        int maxConnectionsPerAddress = positiveCount(raw, Setting.MAX_CONNECTIONS_PER_ADDRESS, problems);
        Duration maxConnectionIdle = duration(raw, Setting.MAX_CONNECTION_IDLE, problems);
        if (maxConnectionIdle != null && (maxConnectionIdle.compareTo(Duration.ofSeconds(1)) < 0
                || maxConnectionIdle.compareTo(Duration.ofHours(24)) > 0)) {
            problems.add(describe(Setting.MAX_CONNECTION_IDLE) + " must be between 1s and 24h, not " + raw.get(Setting.MAX_CONNECTION_IDLE));
        }
        String adminToken = raw.get(Setting.ADMIN_TOKEN);
        if (adminToken != null && (adminToken.length() < 16 || adminToken.length() > 512 || adminToken.isBlank())) {
            problems.add(describe(Setting.ADMIN_TOKEN) + " must be 16 to 512 characters long");
        }
        StoreKind store = StoreKind.MEMORY;
        String storeText = raw.get(Setting.STORE);
        switch (storeText) {
            case "memory" -> store = StoreKind.MEMORY;
            case "redis" -> store = StoreKind.REDIS;
            default -> problems.add(describe(Setting.STORE) + " must be memory or redis, not '" + storeText + "'");
        }
        String redisUri = raw.get(Setting.REDIS_URI);
        if (store == StoreKind.REDIS && (redisUri == null || redisUri.isBlank())) {
            problems.add(describe(Setting.REDIS_URI) + " is required with --store redis");
        }
        Duration redisTimeout = duration(raw, Setting.REDIS_TIMEOUT, problems);
        if (redisTimeout != null && (redisTimeout.compareTo(Duration.ofMillis(10)) < 0 || redisTimeout.compareTo(Duration.ofMinutes(1)) > 0)) {
            problems.add(describe(Setting.REDIS_TIMEOUT) + " must be between 10ms and 1m, not " + raw.get(Setting.REDIS_TIMEOUT));
        }
        Duration ttl = duration(raw, Setting.LEASE_TTL, problems);
        if (ttl != null && (ttl.compareTo(Duration.ofSeconds(1)) < 0 || ttl.compareTo(Duration.ofHours(24)) > 0)) {
            problems.add(describe(Setting.LEASE_TTL) + " must be between 1s and 24h, not " + raw.get(Setting.LEASE_TTL));
        }
        Duration learning = ttl;
        if (raw.get(Setting.REDIS_LEARNING_PERIOD) != null) {
            try {
                learning = Durations.parse(raw.get(Setting.REDIS_LEARNING_PERIOD));
                if (!learning.isZero() && (learning.compareTo(Duration.ofSeconds(1)) < 0 || learning.compareTo(Duration.ofHours(24)) > 0)) {
                    problems.add(describe(Setting.REDIS_LEARNING_PERIOD) + " must be 0s (off) or between 1s and 24h, not "
                            + raw.get(Setting.REDIS_LEARNING_PERIOD));
                }
            } catch (IllegalArgumentException e) {
                problems.add(describe(Setting.REDIS_LEARNING_PERIOD) + ": " + e.getMessage());
            }
        }
        Duration grace = duration(raw, Setting.SHUTDOWN_GRACE, problems);
        String fsyncText = raw.get(Setting.FSYNC);
        if (!fsyncText.equals("true") && !fsyncText.equals("false")) {
            problems.add(describe(Setting.FSYNC) + " must be true or false, not '" + fsyncText + "'");
        }
        Path dataDir = null;
        try {
            dataDir = Path.of(raw.get(Setting.DATA_DIR));
        } catch (RuntimeException e) {
            problems.add(describe(Setting.DATA_DIR) + " is not a path: " + e.getMessage());
        }
        int maxPools = count(raw, Setting.METRICS_MAX_POOLS, MAX_METRICS_POOLS, problems);
        LogFormat logFormat = LogFormat.TEXT;
        String formatText = raw.get(Setting.LOG_FORMAT);
        switch (formatText) {
            case "text" -> logFormat = LogFormat.TEXT;
            case "json" -> logFormat = LogFormat.JSON;
            default -> problems.add(describe(Setting.LOG_FORMAT) + " must be text or json, not '" + formatText + "'");
        }
        String logLevel = raw.get(Setting.LOG_LEVEL).trim().toLowerCase(Locale.ROOT);
        if (!LOG_LEVELS.contains(logLevel)) {
            problems.add(describe(Setting.LOG_LEVEL) + " must be one of " + String.join(", ", LOG_LEVELS)
                    + ", not '" + raw.get(Setting.LOG_LEVEL) + "'");
        }
        Path tlsCert = readableFile(raw, Setting.TLS_CERT, problems);
        Path tlsKey = readableFile(raw, Setting.TLS_KEY, problems);
        Path tlsClientCa = readableFile(raw, Setting.TLS_CLIENT_CA, problems);
        if (raw.containsKey(Setting.TLS_CERT) != raw.containsKey(Setting.TLS_KEY)) {
            problems.add(describe(Setting.TLS_CERT) + " and " + describe(Setting.TLS_KEY) + " go together: give both or neither");
        }
        if (raw.containsKey(Setting.TLS_CLIENT_CA) && !raw.containsKey(Setting.TLS_CERT)) {
            problems.add(describe(Setting.TLS_CLIENT_CA) + " needs TLS: give " + describe(Setting.TLS_CERT) + " and "
                    + describe(Setting.TLS_KEY) + " too");
        }
        if (!problems.isEmpty()) {
            StringBuilder message = new StringBuilder("invalid settings:\n  ").append(String.join("\n  ", problems));
            if (!file.isEmpty()) {
                // Name where the values came from, so a bad value in the file is not hunted on the command line.
                message.append("\n  (read from ").append(ConfigFile.describe(Path.of(config))).append(": ")
                        .append(file.keySet().stream().map(Setting::key).collect(Collectors.joining(", "))).append(')');
            }
            throw new InvalidSettingsException(message.toString());
        }
        return new BrokerSettings(port, listenAddress, metricsPort, metricsListenAddress, adminToken, store, redisUri, redisTimeout,
                dataDir, ttl, Boolean.parseBoolean(fsyncText), grace, maxPools, logFormat, logLevel, tlsCert, tlsKey, tlsClientCa,
                learning, maxConnections, maxConnectionsPerAddress, maxConnectionIdle, consolePort, consoleListenAddress);
    }

    /** The readable file a setting names, or null when the setting is absent or bad (then a problem is added). */
    private static Path readableFile(Map<Setting, String> raw, Setting s, List<String> problems) {
        String v = raw.get(s);
        if (v == null) {
            return null;
        }
        try {
            Path p = Path.of(v);
            if (Files.isRegularFile(p) && Files.isReadable(p)) {
                return p;
            }
            problems.add(describe(s) + " is not a readable file: '" + v + "'");
        } catch (InvalidPathException e) {
            problems.add(describe(s) + " is not a path: " + e.getMessage());
        }
        return null;
    }

    private static int count(Map<Setting, String> raw, Setting s, int max, List<String> problems) {
        String v = raw.get(s);
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= 0 && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        problems.add(describe(s) + " must be a whole number 0.." + max + ", not '" + v + "'");
        return -1;
    }

    private static int positiveCount(Map<Setting, String> raw, Setting s, List<String> problems) {
        String v = raw.get(s);
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= 1 && n <= MAX_CONNECTIONS) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        problems.add(describe(s) + " must be a whole number 1.." + MAX_CONNECTIONS + ", not '" + v + "'");
        return -1;
    }

    /**
     * An address to listen on, checked now (a host name is resolved) so that a typo stops the node
     * with the others; null when the setting is absent: every interface.
     */
    private static String address(Map<Setting, String> raw, Setting s, List<String> problems) {
        String v = raw.get(s);
        if (v == null) {
            return null;
        }
        String host = v.trim();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1); // [::1], as in URLs
        }
        if (host.isEmpty() || host.chars().anyMatch(c -> c <= ' ' || c > '~')) {
            problems.add(describe(s) + " must be an IP address or a host name, not '" + v + "'");
            return null;
        }
        try {
            InetAddress.getByName(host);
            return host;
        } catch (UnknownHostException e) {
            problems.add(describe(s) + " names no address this host can resolve: '" + v + "'");
            return null;
        }
    }

    private static int port(Map<Setting, String> raw, Setting s, List<String> problems) {
        String v = raw.get(s);
        try {
            int p = Integer.parseInt(v.trim());
            if (p >= 0 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        problems.add(describe(s) + " must be a port number 0..65535, not '" + v + "'");
        return -1;
    }

    private static Duration duration(Map<Setting, String> raw, Setting s, List<String> problems) {
        try {
            Duration d = Durations.parse(raw.get(s));
            if (d.isNegative() || d.isZero()) {
                problems.add(describe(s) + " must be positive, not " + raw.get(s));
            }
            return d;
        } catch (IllegalArgumentException e) {
            problems.add(describe(s) + ": " + e.getMessage());
            return null;
        }
    }

    private static String describe(Setting s) {
        return s.flag() + " [" + s.env() + "]";
    }

    /** The settings for humans: secrets masked. */
    @Override
    public String toString() {
        return "port=" + port + (listenAddress == null ? "" : " listenAddress=" + listenAddress) + " metricsPort=" + metricsPort
                + (metricsListenAddress == null ? "" : " metricsListenAddress=" + metricsListenAddress) + " adminToken=" + (adminToken == null ? "(generated)" : "****")
                + " store=" + store.name().toLowerCase()
                + (redisUri == null ? "" : " redisUri=" + maskPassword(redisUri) + " redisTimeout=" + redisTimeout
                        + " redisLearningPeriod=" + redisLearningPeriod)
                + " dataDir=" + dataDir + " leaseTtl=" + leaseTtl + " fsync=" + fsync + " shutdownGrace=" + shutdownGrace
                + " metricsMaxPools=" + metricsMaxPools + " logFormat=" + logFormat.name().toLowerCase() + " logLevel=" + logLevel
                + (tlsCert == null ? " tls=off" : " tlsCert=" + tlsCert + " tlsKey=" + tlsKey
                        + (tlsClientCa == null ? "" : " tlsClientCa=" + tlsClientCa))
                + " maxConnections=" + maxConnections + " maxConnectionsPerAddress=" + maxConnectionsPerAddress
                + " maxConnectionIdle=" + maxConnectionIdle + " consolePort=" + consolePort
                + (consoleListenAddress == null ? "" : " consoleListenAddress=" + consoleListenAddress);
    }

    /**
     * {@code redis://user:secret@host} (or {@code redis://secret@host}, a password alone) shows as
     * {@code redis://****@host}: a Redis URI may carry a password. Every seed of a list is masked.
     */
    static String maskPassword(String uri) {
        return uri.replaceAll("(://)[^@/,]*@", "$1****@");
    }
}
