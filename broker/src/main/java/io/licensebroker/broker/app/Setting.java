package io.licensebroker.broker.app;

/**
 * Every setting of a broker node: its flag, environment variable, config file key, default and
 * meaning. This is the one list; the command line, the environment, the config file and the
 * README all follow it (a test holds the README's table to it). A flag beats the environment,
 * which beats the config file ({@code --config}), which beats the default.
 */
public enum Setting {
    PORT("--port", "BROKER_PORT", "7443", "gRPC port (0 picks a free one)"),
    LISTEN_ADDRESS("--listen-address", "BROKER_LISTEN_ADDRESS", null,
            "address the gRPC port listens on (an IP address such as 127.0.0.1 or ::1, or a host name); default every interface"),
    METRICS_PORT("--metrics-port", "BROKER_METRICS_PORT", "9464", "HTTP port serving /metrics and /healthz (0 picks a free one)"),
    METRICS_LISTEN_ADDRESS("--metrics-listen-address", "BROKER_METRICS_LISTEN_ADDRESS", null,
            "address the metrics and health port listens on; default every interface"),
    CONSOLE_PORT("--console-port", "BROKER_CONSOLE_PORT", "8080",
            "HTTP port serving the web console, the License Management page (0 picks a free one)"),
    CONSOLE_LISTEN_ADDRESS("--console-listen-address", "BROKER_CONSOLE_LISTEN_ADDRESS", null,
            "address the console port listens on; default every interface"),
    ADMIN_TOKEN("--admin-token", "BROKER_ADMIN_TOKEN", null,
            "bootstrap SUPER_ADMIN token; when absent one is generated on the first start and printed once"),
    STORE("--store", "BROKER_STORE", "memory", "memory (embedded, durable in --data-dir) or redis"),
    REDIS_URI("--redis-uri", "BROKER_REDIS_URI", null, "redis://host:port, or a comma list of Redis Cluster seeds"),
    REDIS_TIMEOUT("--redis-timeout", "BROKER_REDIS_TIMEOUT", "500ms",
            "with --store redis: how long one Redis command may take before the call answers UNAVAILABLE"),
    REDIS_LEARNING_PERIOD("--redis-learning-period", "BROKER_REDIS_LEARNING_PERIOD", null,
            "with --store redis: after Redis is found to have lost acknowledged state, how long free licenses are kept for"
                    + " the sessions granted before the loss (they come back as their agents renew) while new acquires answer"
                    + " UNAVAILABLE STORE_RECOVERING; default the --lease-ttl, 0s turns it off"),
    DATA_DIR("--data-dir", "BROKER_DATA_DIR", "./data", "where the embedded store keeps its journal, snapshots and signing key"),
    LEASE_TTL("--lease-ttl", "BROKER_LEASE_TTL", "60s", "session lease length (ISO-8601 like PT1M, or 500ms, 30s, 2m, 1h)"),
    FSYNC("--fsync", "BROKER_FSYNC", "true", "fsync the journal before answering (false: survive a process crash, not a power loss)"),
    SHUTDOWN_GRACE("--shutdown-grace", "BROKER_SHUTDOWN_GRACE", "20s", "how long SIGTERM waits for in-flight calls to finish"),
    MAX_CONNECTIONS("--max-connections", "BROKER_MAX_CONNECTIONS", "10000",
            "most connections the gRPC port holds at once; more are closed as soon as they arrive"),
    MAX_CONNECTIONS_PER_ADDRESS("--max-connections-per-address", "BROKER_MAX_CONNECTIONS_PER_ADDRESS", "1000",
            "most connections the gRPC port holds from one client address (agents behind one NAT share one: size it for the largest site)"),
    MAX_CONNECTION_IDLE("--max-connection-idle", "BROKER_MAX_CONNECTION_IDLE", "10m",
            "a gRPC connection without a call for this long is closed (clients reconnect on their next call)"),
    CONFIG("--config", "BROKER_CONFIG", null,
            "optional YAML file of settings keyed by flag name without the dashes (lease-ttl: 30s); flags and environment variables win over it"),
    METRICS_MAX_POOLS("--metrics-max-pools", "BROKER_METRICS_MAX_POOLS", "10000",
            "most (account, pool, product) series per pool gauge on /metrics; the rest are counted in license_metrics_pools_dropped"),
    LOG_FORMAT("--log-format", "BROKER_LOG_FORMAT", "text", "text (one key=value line per event) or json (one JSON object per line), on stderr"),
    LOG_LEVEL("--log-level", "BROKER_LOG_LEVEL", "info", "error, warn, info, debug or trace"),
    TLS_CERT("--tls-cert", "BROKER_TLS_CERT", null, "PEM certificate chain: serve gRPC over TLS (with --tls-key; the metrics port stays plain HTTP)"),
    TLS_KEY("--tls-key", "BROKER_TLS_KEY", null, "PEM PKCS#8 private key of --tls-cert"),
    TLS_CLIENT_CA("--tls-client-ca", "BROKER_TLS_CLIENT_CA", null,
            "PEM CA certificates: admin calls then require a client certificate it signed (agents keep using API keys)");

    private final String flag;
    private final String env;
    private final String defaultValue;
    private final String description;

    Setting(String flag, String env, String defaultValue, String description) {
        this.flag = flag;
        this.env = env;
        this.defaultValue = defaultValue;
        this.description = description;
    }

    public String flag() {
        return flag;
    }

    public String env() {
        return env;
    }

    /** Null when the setting has no default. */
    public String defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }

    /** The setting's key in a config file: its flag without the leading dashes ({@code lease-ttl}). */
    public String key() {
        return flag.substring(2);
    }

    /** The setting a config file key names, or null. */
    public static Setting byKey(String key) {
        for (Setting s : values()) {
            if (s.key().equals(key)) {
                return s;
            }
        }
        return null;
    }

    public static Setting byFlag(String flag) {
        for (Setting s : values()) {
            if (s.flag.equals(flag)) {
                return s;
            }
        }
        throw new IllegalArgumentException("no setting with flag " + flag);
    }
}
