package io.licensebroker.broker.cli;

import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.grpc.BrokerServer;
import io.licensebroker.broker.offline.Ed25519Signer;
import io.licensebroker.broker.store.memory.MemoryStore;
import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.client.LicenseBrokerClient;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What the command line tests run against: a real broker on a real port (embedded volatile store,
 * system clock), an admin client for setup and checks, and the environment the commands read
 * ({@code BROKER_TARGET}, {@code BROKER_TOKEN}; tests may change it). Commands run in-process
 * through {@link Main#run}.
 */
final class CliBroker implements AutoCloseable {
    static final String ROOT = "cli-tests-root-token";

    final LicenseAdminClient admin;
    /** The environment {@link #cli} passes to the commands. */
    final Map<String, String> env;
    private final MemoryStore store;
    private final BrokerServer server;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    record Result(int exit, String out, String err) {
        Result ok() {
            assertEquals(0, exit, "exit code; stderr: " + err);
            return this;
        }
    }

    CliBroker() throws IOException {
        store = MemoryStore.volatileStore(Duration.ofMinutes(10));
        LicenseService service = new LicenseService(store, Clock.systemUTC(), Duration.ofSeconds(60), Ed25519Signer.generate(),
                new SecureRandom(), ROOT);
        server = BrokerServer.start(0, service);
        String target = "127.0.0.1:" + server.port();
        admin = LicenseAdminClient.builder().target(target).token(ROOT).build();
        env = new HashMap<>(Map.of(AdminOptions.TARGET_ENV, target, AdminOptions.TOKEN_ENV, ROOT));
    }

    String target() {
        return env.get(AdminOptions.TARGET_ENV);
    }

    /** Runs a command line with this broker's environment. */
    Result cli(String... args) {
        return run(env, args);
    }

    /** Runs a command line with the given environment. */
    static Result run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), env);
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Parses a command's JSON output into the message type of {@code prototype}. */
    @SuppressWarnings("unchecked")
    static <M extends Message> M json(String text, M prototype) throws IOException {
        Message.Builder builder = prototype.newBuilderForType();
        JsonFormat.parser().merge(text, builder);
        return (M) builder.build();
    }

    /** An SDK client with a fresh API key of the user, closed with the broker. */
    LicenseBrokerClient agent(String account, String user) {
        String key = admin.createApiKey(account, user).getApiKey();
        LicenseBrokerClient client = LicenseBrokerClient.builder().target(target()).apiKey(key).build();
        closeables.add(client);
        return client;
    }

    @Override
    public void close() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        admin.close();
        server.shutdown(Duration.ZERO);
        store.close();
    }
}
