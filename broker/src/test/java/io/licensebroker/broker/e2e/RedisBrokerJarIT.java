package io.licensebroker.broker.e2e;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.licensebroker.testkit.Await;
import io.licensebroker.testkit.RedisServer;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseRequest;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseAdminGrpc.LicenseAdminBlockingStub;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.PoolRow;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import io.licensebroker.proto.v1.VerifyOfflineLicenseRequest;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.licensebroker.broker.e2e.GrpcClients.reason;
import static io.licensebroker.broker.e2e.GrpcClients.withToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two broker jars on one Redis, as an operator runs them: one is SIGKILLed while its agents hold
 * licenses, and the other reclaims them within about one lease length. Both sign offline licenses
 * with the one key they share through Redis.
 */
class RedisBrokerJarIT {
    private static final String ADMIN = "e2e-redis-super-admin-token-0123456789";
    private static final Duration LEASE = Duration.ofSeconds(2);

    @TempDir
    Path dir;

    @Test
    void theSurvivorReclaimsASigkilledNodesSessionsAndBothShareTheSigningKey() throws Exception {
        RedisServer redis = RedisServer.start(dir.resolve("redis"));
        BrokerProcess one = null;
        BrokerProcess two = null;
        try {
            one = start(dir.resolve("one"), redis);
            two = start(dir.resolve("two"), redis);
            ManagedChannel toOne = GrpcClients.channel(one.port());
            ManagedChannel toTwo = GrpcClients.channel(two.port());
            try {
                LicenseAdminBlockingStub adminOne = withToken(LicenseAdminGrpc.newBlockingStub(toOne), ADMIN);
                LicenseAdminBlockingStub adminTwo = withToken(LicenseAdminGrpc.newBlockingStub(toTwo), ADMIN);
                adminOne.createAccount(CreateAccountRequest.newBuilder().setAccountId("acme").setName("Acme").build());
                adminOne.setSubscription(SetSubscriptionRequest.newBuilder().setAccountId("acme").setLicenses(10).setMachineQuota(10)
                        .setExpiresAt(Timestamp.newBuilder().setSeconds(Instant.now().plus(Duration.ofDays(365)).getEpochSecond())).build());
                adminTwo.upsertUser(UpsertUserRequest.newBuilder().setAccountId("acme").setUserId("bob").build());
                String key = adminTwo.createApiKey(CreateApiKeyRequest.newBuilder().setAccountId("acme").setUserId("bob").build()).getApiKey();

                // An offline license signed by one node verifies on the other.
                ByteString file = adminOne.issueOfflineLicense(IssueOfflineLicenseRequest.newBuilder().setAccountId("acme")
                        .setMachineId("offline-1").build()).getLicenseFile();
                assertTrue(adminTwo.verifyOfflineLicense(VerifyOfflineLicenseRequest.newBuilder().setLicenseFile(file).build()).getValid());

                var agentOne = withToken(LicenseBrokerGrpc.newBlockingStub(toOne), key);
                long acquiredAt = System.nanoTime();
                List<String> sessions = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    sessions.add(agentOne.acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m-" + i).build()).getSessionId());
                }
                assertEquals(3, inUse(adminTwo));

                one.kill();
                Await.until(LEASE.plusSeconds(8), () -> inUse(adminTwo) == 0, () -> "the survivor reclaims the licenses");
                Duration took = Duration.ofNanos(System.nanoTime() - acquiredAt);
                assertTrue(took.compareTo(LEASE.plusSeconds(2)) <= 0, "within about one lease length: " + took);
                var agentTwo = withToken(LicenseBrokerGrpc.newBlockingStub(toTwo), key);
                StatusRuntimeException expired = assertThrows(StatusRuntimeException.class,
                        () -> agentTwo.renewSession(RenewSessionRequest.newBuilder().setSessionId(sessions.get(0)).build()));
                assertEquals("SESSION_EXPIRED", reason(expired));
                assertEquals(9, adminTwo.getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId("acme").build())
                        .getRows(0).getAvailable(), "10 licenses, one bound offline, none in use");
            } finally {
                toOne.shutdownNow();
                toTwo.shutdownNow();
            }
        } finally {
            // BrokerProcess.close() may throw InterruptedException: closed by hand, not by try-with-resources
            if (two != null) {
                two.close();
            }
            if (one != null) {
                one.close();
            }
            redis.close();
        }
    }

    @Test
    void serveOnARedisUserWithoutScriptingExitsWithOneLineNamingThePermission() throws Exception {
        RedisServer redis = RedisServer.start(dir.resolve("redis"));
        try {
            redis.with(c -> c.sync().dispatch(CommandType.ACL, new StatusOutput<>(StringCodec.UTF8), new CommandArgs<>(StringCodec.UTF8)
                    .add("SETUSER").add("noscript").add("on").add(">pw").add("~lb:*").add("+@all").add("-@scripting")));
            String jar = System.getProperty("broker.jar", "target/license-broker.jar");
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar, "serve",
                    "--port", "0", "--metrics-port", "0", "--store", "redis", "--admin-token", ADMIN,
                    "--redis-uri", "redis://noscript:pw@127.0.0.1:" + redis.port()).start();
            p.getOutputStream().close();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "serve stopped");
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(2, p.exitValue(), err);
            assertFalse(out.contains("listening on"), out);
            // Log lines (logfmt) may come first; the error itself is one line, without a stack trace.
            List<String> lines = err.strip().lines().toList();
            String last = lines.get(lines.size() - 1);
            assertTrue(last.startsWith("cannot start on Redis at redis://****@127.0.0.1:"), err);
            assertTrue(last.contains("NOPERM") && last.contains("@scripting"), err);
            assertFalse(err.contains("\tat ") || err.contains("Exception"), "no stack trace: " + err);
            assertFalse(err.contains(":pw@"), "the password is never printed: " + err);
        } finally {
            redis.close();
        }
    }

    private static BrokerProcess start(Path dataDir, RedisServer redis) throws Exception {
        return BrokerProcess.start(dataDir, "--store", "redis", "--redis-uri", redis.uri(), "--lease-ttl", LEASE.toMillis() + "ms",
                "--admin-token", ADMIN);
    }

    private static long inUse(LicenseAdminBlockingStub admin) {
        return admin.getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId("acme").build())
                .getRowsList().stream().mapToLong(PoolRow::getInUse).sum();
    }
}
