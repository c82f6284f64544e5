package io.licensebroker.broker.app;

import io.licensebroker.broker.cli.Main;
import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.store.memory.MemoryStore;
import io.licensebroker.broker.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import io.licensebroker.broker.testing.TestCertificates;

import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Settings from flags, environment, config file and defaults: precedence, and a clear refusal of anything wrong. */
final class BrokerSettingsTest {
    private static final String TOKEN = "s3cret-admin-token-from-the-file-0123456789";

    @TempDir
    Path dir;

    @Test
    void defaultsAreTheOneListsDefaults() {
        BrokerSettings s = BrokerSettings.resolve(Map.of(), Map.of());
        assertEquals(Integer.parseInt(Setting.PORT.defaultValue()), s.port());
        assertEquals(Duration.ofSeconds(60), s.leaseTtl());
        assertEquals(10_000, s.metricsMaxPools());
        assertEquals(BrokerSettings.LogFormat.TEXT, s.logFormat());
        assertEquals("info", s.logLevel());
    }

    @Test
    void flagBeatsEnvironmentBeatsFileBeatsDefault() throws IOException {
        Path file = write("broker.yaml", """
                port: 7001
                metrics-port: 9001
                lease-ttl: 10s
                log-format: json
                fsync: no
                """);
        Map<Setting, String> flags = flags(Setting.CONFIG, file.toString(), Setting.PORT, "7003");
        Map<String, String> env = Map.of("BROKER_PORT", "7002", "BROKER_METRICS_PORT", "9002");
        BrokerSettings s = BrokerSettings.resolve(flags, env);
        assertEquals(7003, s.port(), "flag over environment and file");
        assertEquals(9002, s.metricsPort(), "environment over file");
        assertEquals(Duration.ofSeconds(10), s.leaseTtl(), "file over default");
        assertEquals(BrokerSettings.LogFormat.JSON, s.logFormat());
        assertFalse(s.fsync(), "YAML's 'no' is false");
        assertEquals(Duration.ofSeconds(20), s.shutdownGrace(), "default where nobody says otherwise");
    }

    @Test
    void theConfigFileMayBeNamedByTheEnvironment() throws IOException {
        Path file = write("env.yaml", "metrics-max-pools: 7\n");
        assertEquals(7, BrokerSettings.resolve(Map.of(), Map.of("BROKER_CONFIG", file.toString())).metricsMaxPools());
    }

    @Test
    void anEmptyFileSetsNothing() throws IOException {
        Path file = write("empty.yaml", "# nothing here yet\n");
        assertEquals(BrokerSettings.resolve(Map.of(), Map.of()), BrokerSettings.resolve(flags(Setting.CONFIG, file.toString()), Map.of()));
    }

    @Test
    void unknownKeysAreRefusedWithTheKnownOnesAndASuggestion() throws IOException {
        Path file = write("typo.yaml", "lease_ttl: 30s\ncolour: blue\n");
        String message = refusal(file);
        assertTrue(message.contains("unknown setting 'lease_ttl' (did you mean 'lease-ttl'?)"), message);
        assertTrue(message.contains("unknown setting 'colour'"), message);
        assertTrue(message.contains("known settings: port, listen-address, metrics-port, metrics-listen-address, console-port, console-listen-address, admin-token"), message);
        assertTrue(message.contains(file.toString()), message);
    }

    @Test
    void badValuesNameTheSettingAndTheFile() throws IOException {
        Path file = write("bad.yaml", "lease-ttl: 60\nport: 70000\nlog-format: xml\nmetrics-max-pools: -1\nlog-level: loud\n");
        String message = refusal(file);
        assertTrue(message.contains("--lease-ttl [BROKER_LEASE_TTL]: not a duration: '60'"), message);
        assertTrue(message.contains("--port [BROKER_PORT] must be a port number 0..65535, not '70000'"), message);
        assertTrue(message.contains("--log-format [BROKER_LOG_FORMAT] must be text or json, not 'xml'"), message);
        assertTrue(message.contains("--metrics-max-pools [BROKER_METRICS_MAX_POOLS] must be a whole number 0..1000000, not '-1'"), message);
        assertTrue(message.contains("--log-level [BROKER_LOG_LEVEL] must be one of error, warn, info, debug, trace, not 'loud'"), message);
        assertTrue(message.contains("(read from config file " + file + ": port, lease-ttl, metrics-max-pools, log-format, log-level)"), message);
    }

    @Test
    void structureMistakesAreRefused() throws IOException {
        assertTrue(refusal(write("list.yaml", "- port\n- 7443\n")).contains("must be a mapping of setting names to values"));
        assertTrue(refusal(write("nested.yaml", "port:\n  grpc: 7443\n")).contains("setting 'port' must be a single value, not a mapping"));
        assertTrue(refusal(write("seq.yaml", "port: [1, 2]\n")).contains("setting 'port' must be a single value, not a list"));
        assertTrue(refusal(write("novalue.yaml", "port:\n")).contains("setting 'port' has no value"));
        assertTrue(refusal(write("dup.yaml", "port: 1\nport: 2\n")).contains("duplicate key port"));
        assertTrue(refusal(write("self.yaml", "config: other.yaml\n")).contains("'config' cannot be set inside the config file"));
        assertTrue(refusal(dir.resolve("missing.yaml")).contains("cannot read it (NoSuchFileException"));
    }

    @Test
    void brokenYamlIsReportedByLineWithoutQuotingTheFile() throws IOException {
        Path file = write("broken.yaml", "port: 7443\nadmin-token: \"" + TOKEN + "\n  : :\n");
        String message = refusal(file);
        assertTrue(message.contains("not valid YAML"), message);
        assertTrue(message.contains("(line "), message);
        assertFalse(message.contains(TOKEN), "the file may hold the admin token: " + message);
    }

    @Test
    void secretsAreMaskedWhenSettingsArePrinted() throws IOException {
        Path file = write("secret.yaml", "admin-token: " + TOKEN + "\n");
        BrokerSettings s = BrokerSettings.resolve(flags(Setting.CONFIG, file.toString(), Setting.REDIS_URI,
                "redis://app:hunter2@cache-1:6379,rediss://hunter3@cache-2:6379"), Map.of());
        assertEquals(TOKEN, s.adminToken());
        assertFalse(s.toString().contains(TOKEN), s.toString());
        assertFalse(s.toString().contains("hunter"), s.toString());
        assertTrue(s.toString().contains("redisUri=redis://****@cache-1:6379,rediss://****@cache-2:6379"), s.toString());
        assertEquals("redis://cache:6379", BrokerSettings.maskPassword("redis://cache:6379"), "nothing to mask");
    }

    @Test
    void serveStopsWithExitCodeTwoAndTheMessage() throws IOException {
        Path file = write("serve.yaml", "lease-ttl: forever\n");
        Outcome outcome = serve("serve", "--config", file.toString());
        assertEquals(2, outcome.exitCode());
        assertTrue(outcome.err().contains("invalid settings:"), outcome.err());
        assertTrue(outcome.err().contains("--lease-ttl [BROKER_LEASE_TTL]: not a duration: 'forever'"), outcome.err());
        assertEquals("", outcome.out(), "nothing was started");
        Outcome unknown = serve("serve", "--config", write("unknown.yaml", "prot: 1\n").toString());
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.err().contains("unknown setting 'prot'"), unknown.err());
    }

    private record Outcome(int exitCode, String out, String err) {
    }

    /**
     * A certificate or key the TLS library cannot use (here: the key file holds a certificate) stops
     * serve like any bad setting, before the data directory is opened: a first start must not use
     * up its one-time admin token on a node that then cannot serve.
     */
    @Test
    void anUnusableTlsKeyStopsServeBeforeAnythingIsCreated() throws Exception {
        TestCertificates certificates = TestCertificates.makeIn(Files.createDirectories(dir.resolve("certs")));
        Path data = dir.resolve("data");
        Outcome outcome = serve("serve", "--data-dir", data.toString(), "--port", "0", "--metrics-port", "0",
                "--tls-cert", certificates.pem(TestCertificates.SERVER).toString(),
                "--tls-key", certificates.pem(TestCertificates.SERVER).toString());
        assertEquals(2, outcome.exitCode(), outcome.err());
        assertTrue(outcome.err().contains("invalid settings:"), outcome.err());
        assertTrue(outcome.err().contains("cannot serve TLS with certificate"), outcome.err());
        assertEquals("", outcome.out(), "no admin token was generated or printed");
        assertFalse(Files.exists(data), "the data directory was not created");
    }

    /** A journal that is corrupt (not merely torn) stops serve with one line naming file and offset, exit code 1. */
    @Test
    void aCorruptJournalStopsServeWithOneLineAndExitCodeOne() throws Exception {
        Path data = dir.resolve("data");
        try (MemoryStore store = MemoryStore.open(data, true, Duration.ofMinutes(10), Long.MAX_VALUE, Instant.EPOCH)) {
            for (int i = 0; i < 20; i++) {
                assertTrue(store.createAccount(new Account("a" + i, "A")).toCompletableFuture().get(10, TimeUnit.SECONDS).isGranted());
            }
        }
        Path segment = data.resolve("journal-0000000001.log");
        byte[] bytes = Files.readAllBytes(segment);
        bytes[bytes.length / 2] ^= 0x5A;
        Files.write(segment, bytes);

        Outcome outcome = serve("serve", "--data-dir", data.toString(), "--port", "0", "--metrics-port", "0");

        assertEquals(1, outcome.exitCode(), outcome.err());
        assertTrue(outcome.err().startsWith("cannot start: corrupt journal segment " + segment + " at offset "), outcome.err());
        assertEquals(1, outcome.err().lines().count(), "one line, no stack trace: " + outcome.err());
        assertArrayEquals(bytes, Files.readAllBytes(segment));
    }

    @Test
    void tlsCertificateAndKeyGoTogetherAndFilesMustBeReadable() throws IOException {
        Path cert = write("cert.pem", "cert");
        Path key = write("key.pem", "key");
        String alone = assertThrows(BrokerSettings.InvalidSettingsException.class,
                () -> BrokerSettings.resolve(flags(Setting.TLS_CERT, cert.toString()), Map.of())).getMessage();
        assertTrue(alone.contains("--tls-cert [BROKER_TLS_CERT] and --tls-key [BROKER_TLS_KEY] go together"), alone);
        String caOnly = assertThrows(BrokerSettings.InvalidSettingsException.class,
                () -> BrokerSettings.resolve(flags(Setting.TLS_CLIENT_CA, cert.toString()), Map.of())).getMessage();
        assertTrue(caOnly.contains("--tls-client-ca [BROKER_TLS_CLIENT_CA] needs TLS"), caOnly);
        String missing = assertThrows(BrokerSettings.InvalidSettingsException.class, () -> BrokerSettings.resolve(
                flags(Setting.TLS_CERT, cert.toString(), Setting.TLS_KEY, dir.resolve("nope.pem").toString()), Map.of())).getMessage();
        assertTrue(missing.contains("--tls-key [BROKER_TLS_KEY] is not a readable file"), missing);

        BrokerSettings s = BrokerSettings.resolve(flags(Setting.TLS_CERT, cert.toString()), Map.of("BROKER_TLS_KEY", key.toString()));
        assertEquals(cert, s.tlsCert());
        assertEquals(key, s.tlsKey());
        assertNull(s.tlsClientCa());
        assertNull(BrokerSettings.resolve(Map.of(), Map.of()).tlsCert());
    }

    @Test
    void theRedisLearningPeriodFollowsTheLeaseUnlessGivenAndZeroTurnsItOff() {
        assertEquals(Duration.ofSeconds(30), BrokerSettings.resolve(flags(Setting.LEASE_TTL, "30s"), Map.of()).redisLearningPeriod());
        assertEquals(Duration.ZERO, BrokerSettings.resolve(flags(Setting.REDIS_LEARNING_PERIOD, "0s"), Map.of()).redisLearningPeriod());
        assertEquals(Duration.ofMinutes(5), BrokerSettings.resolve(Map.of(), Map.of("BROKER_REDIS_LEARNING_PERIOD", "5m"))
                .redisLearningPeriod());
        for (String bad : new String[]{"500ms", "25h", "-1s", "soon"}) {
            String message = assertThrows(BrokerSettings.InvalidSettingsException.class,
                    () -> BrokerSettings.resolve(flags(Setting.REDIS_LEARNING_PERIOD, bad), Map.of())).getMessage();
            assertTrue(message.contains("--redis-learning-period [BROKER_REDIS_LEARNING_PERIOD]"), message);
        }
    }

    @Test
    void listenAddressesAndConnectionLimitsHaveDefaultsAndRefuseBadValues() {
        BrokerSettings defaults = BrokerSettings.resolve(Map.of(), Map.of());
        assertNull(defaults.listenAddress(), "every interface, as before");
        assertNull(defaults.metricsListenAddress());
        assertEquals(10_000, defaults.maxConnections());
        assertEquals(1_000, defaults.maxConnectionsPerAddress());
        assertEquals(Duration.ofMinutes(10), defaults.maxConnectionIdle());

        BrokerSettings given = BrokerSettings.resolve(flags(Setting.LISTEN_ADDRESS, "127.0.0.1", Setting.METRICS_LISTEN_ADDRESS, "[::1]",
                Setting.MAX_CONNECTIONS, "50", Setting.MAX_CONNECTIONS_PER_ADDRESS, "5", Setting.MAX_CONNECTION_IDLE, "30s"), Map.of());
        assertEquals("127.0.0.1", given.listenAddress());
        assertEquals("::1", given.metricsListenAddress());
        assertEquals(50, given.maxConnections());
        assertEquals(5, given.maxConnectionsPerAddress());
        assertEquals(Duration.ofSeconds(30), given.maxConnectionIdle());
        assertEquals("localhost", BrokerSettings.resolve(Map.of(), Map.of("BROKER_LISTEN_ADDRESS", "localhost")).listenAddress());

        String message = assertThrows(BrokerSettings.InvalidSettingsException.class, () -> BrokerSettings.resolve(flags(
                Setting.LISTEN_ADDRESS, "no such host", Setting.METRICS_LISTEN_ADDRESS, "", Setting.MAX_CONNECTIONS, "0",
                Setting.MAX_CONNECTIONS_PER_ADDRESS, "many", Setting.MAX_CONNECTION_IDLE, "10ms"), Map.of())).getMessage();
        for (String named : List.of("--listen-address [BROKER_LISTEN_ADDRESS]", "--metrics-listen-address [BROKER_METRICS_LISTEN_ADDRESS]",
                "--max-connections [BROKER_MAX_CONNECTIONS]", "--max-connections-per-address [BROKER_MAX_CONNECTIONS_PER_ADDRESS]",
                "--max-connection-idle [BROKER_MAX_CONNECTION_IDLE]")) {
            assertTrue(message.contains(named), named + " in: " + message);
        }
    }

    /** The command line in-process; only for refusals, which return before anything starts. */
    private static Outcome serve(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private String refusal(Path file) {
        return assertThrows(BrokerSettings.InvalidSettingsException.class,
                () -> BrokerSettings.resolve(flags(Setting.CONFIG, file.toString()), Map.of())).getMessage();
    }

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    private static Map<Setting, String> flags(Object... pairs) {
        Map<Setting, String> out = new EnumMap<>(Setting.class);
        for (int i = 0; i < pairs.length; i += 2) {
            out.put((Setting) pairs[i], (String) pairs[i + 1]);
        }
        return out;
    }
}
