package io.licensebroker.broker.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.proto.v1.LicenseUsage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The admin command line as shipped: {@code java -jar license-broker.jar <command>} in its own
 * process (the shaded jar must carry the SDK, picocli's reflection and the JSON printer) against a
 * broker process started with {@code serve --demo}.
 */
class AdminCliJarIT {
    private static final String ADMIN = "e2e-cli-super-admin-token-0123456789";

    @TempDir
    Path dataDir;

    private static JarCli.Run cli(int port, String... args) throws IOException, InterruptedException {
        // Two targets on the same node: the multi-node resolver works inside the shaded jar.
        return JarCli.run(Map.of("BROKER_TARGET", "127.0.0.1:" + port + ",localhost:" + port, "BROKER_TOKEN", ADMIN), args);
    }

    @Test
    void usageFromTheJarEqualsGetLicenseUsage() throws Exception {
        try (BrokerProcess broker = BrokerProcess.start(dataDir, "--demo", "--admin-token", ADMIN);
             LicenseAdminClient admin = LicenseAdminClient.builder().target("127.0.0.1:" + broker.port()).token(ADMIN).build()) {
            LicenseUsage rpc = admin.getLicenseUsage("demo", "");

            JarCli.Run json = cli(broker.port(), "usage", "--account", "demo", "--output", "json");
            assertEquals(0, json.exit(), json.out());
            LicenseUsage.Builder parsed = LicenseUsage.newBuilder();
            JsonFormat.parser().merge(json.out(), parsed);
            assertEquals(rpc, parsed.build());

            JarCli.Run table = cli(broker.port(), "usage", "--account", "demo");
            assertEquals(0, table.exit(), table.out());
            assertTrue(table.out().lines().anyMatch(l -> l.matches("OG-1 +Engineering +demo +20 +20 +0 +20")), table.out());

            JarCli.Run refused = cli(broker.port(), "usage", "--account", "nobody");
            assertEquals(1, refused.exit());
            assertTrue(refused.out().contains("ACCOUNT_NOT_FOUND"), refused.out());
        }
    }
}
