package io.licensebroker.broker.e2e;

import static io.licensebroker.broker.e2e.GrpcClients.withToken;
import static io.licensebroker.broker.testing.TestCertificates.CA;
import static io.licensebroker.broker.testing.TestCertificates.CLIENT;
import static io.licensebroker.broker.testing.TestCertificates.ROGUE_CA;
import static io.licensebroker.broker.testing.TestCertificates.ROGUE_CLIENT;
import static io.licensebroker.broker.testing.TestCertificates.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.licensebroker.testkit.Await;
import io.licensebroker.broker.testing.TestCertificates;
import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.client.LicenseBrokerClient;
import io.licensebroker.client.LicenseBrokerException;
import io.licensebroker.client.LicenseSession;
import io.licensebroker.proto.v1.Account;
import io.licensebroker.proto.v1.ListAccountsRequest;
import io.licensebroker.proto.v1.ListAccountsResponse;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.PoolRow;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * TLS through the shipped jar: {@code serve --tls-cert --tls-key} (and {@code --tls-client-ca})
 * as an operator starts it, reached by the SDK's clients, a raw gRPC channel, the jar's own admin
 * command line and plain HTTP on the ops port. Certificates are made per run with {@code openssl}
 * ({@link TestCertificates}); without it the class is skipped.
 */
class TlsJarIT {
    private static final String ADMIN = "e2e-tls-super-admin-token-0123456789";
    /** Short, so the SDK renews (every third of the lease) within a second or so. */
    private static final String LEASE_TTL = "3s";

    @TempDir
    static Path certDir;
    private static TestCertificates certs;

    @TempDir
    Path dataDir;

    @BeforeAll
    static void certificates() throws Exception {
        certs = TestCertificates.makeIn(certDir);
    }

    @Test
    void serverTlsServesTheSdkAndRefusesPlaintext() throws Exception {
        try (BrokerProcess broker = serve()) {
            int port = broker.port();
            String apiKey = demoApiKey(broker);

            // The same health check: refused in plaintext, answered over TLS.
            ManagedChannel plain = GrpcClients.channel(port);
            ManagedChannel tls = GrpcClients.tlsChannel(port, certs.pem(CA));
            try {
                StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
                        () -> withToken(HealthGrpc.newBlockingStub(plain), ADMIN).check(HealthCheckRequest.getDefaultInstance()));
                assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode(), refused.toString());
                StatusRuntimeException plainAdmin = assertThrows(StatusRuntimeException.class,
                        () -> withToken(LicenseAdminGrpc.newBlockingStub(plain), ADMIN).listAccounts(ListAccountsRequest.getDefaultInstance()));
                assertEquals(Status.Code.UNAVAILABLE, plainAdmin.getStatus().getCode(), plainAdmin.toString());
                assertEquals(HealthCheckResponse.ServingStatus.SERVING,
                        withToken(HealthGrpc.newBlockingStub(tls), ADMIN).check(HealthCheckRequest.getDefaultInstance()).getStatus());
            } finally {
                plain.shutdownNow();
                tls.shutdownNow();
            }

            // A client trusting another CA does not accept the broker's certificate.
            try (LicenseAdminClient wrongTrust = LicenseAdminClient.builder().target("localhost:" + port).token(ADMIN)
                    .trustCertificates(certs.pem(ROGUE_CA)).build()) {
                LicenseBrokerException e = assertThrows(LicenseBrokerException.class, wrongTrust::listAccounts);
                assertEquals(Status.Code.UNAVAILABLE, e.code(), e.toString());
            }

            // Without --tls-client-ca an admin needs no client certificate.
            try (LicenseAdminClient admin = admin(port, null)) {
                assertEquals(List.of("demo"), accountIds(admin.listAccounts()));
                agentAcquiresRenewsAndReleases(port, apiKey, admin);
            }

            // The admin command line without --trust-cert speaks plaintext: it cannot reach a TLS broker.
            JarCli.Run plaintextCli = JarCli.run(Map.of("BROKER_TOKEN", ADMIN), "accounts", "list", "--target", "localhost:" + port);
            assertEquals(3, plaintextCli.exit(), plaintextCli.out());
            assertTrue(plaintextCli.out().contains("cannot reach the broker at localhost:" + port), plaintextCli.out());

            // Trusting another CA: one line that says it is the TLS trust, not a generic "io exception".
            JarCli.Run wrongCa = JarCli.run(Map.of("BROKER_TOKEN", ADMIN), "accounts", "list", "--target", "localhost:" + port,
                    "--trust-cert", certs.pem(ROGUE_CA).toString());
            assertEquals(3, wrongCa.exit(), wrongCa.out());
            assertEquals(1, wrongCa.out().strip().lines().count(), wrongCa.out());
            assertTrue(wrongCa.out().startsWith("error: TLS with the broker at localhost:" + port + " failed (")
                    && wrongCa.out().contains("--trust-cert"), wrongCa.out());

            // The ops port stays plain HTTP.
            int metricsPort = Integer.parseInt(after(broker.awaitLine("metrics on "), "metrics on "));
            HttpResponse<String> healthz = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, healthz.statusCode());
            assertEquals("ok\n", healthz.body());
        }
    }

    @Test
    void clientCaGatesAdminCallsOnly() throws Exception {
        try (BrokerProcess broker = serve("--tls-client-ca", certs.pem(CA).toString())) {
            int port = broker.port();
            String apiKey = demoApiKey(broker);

            // No client certificate: the admin token alone is refused.
            try (LicenseAdminClient noCertificate = admin(port, null)) {
                LicenseBrokerException e = assertThrows(LicenseBrokerException.class, noCertificate::listAccounts);
                assertEquals(Status.Code.UNAUTHENTICATED, e.code(), e.toString());
                assertEquals("UNAUTHENTICATED", e.reason());
                assertTrue(e.getMessage().contains("admin calls require a client certificate"), e.getMessage());
            }

            // A certificate another CA signed: the handshake names only the broker's client CA as
            // acceptable, so the client presents no certificate and the call is refused the same way.
            // A write is tried, and shown below to have had no effect.
            try (LicenseAdminClient rogue = admin(port, ROGUE_CLIENT)) {
                LicenseBrokerException e = assertThrows(LicenseBrokerException.class, () -> rogue.createAccount("rogue", "Rogue"));
                assertEquals(Status.Code.UNAUTHENTICATED, e.code(), e.toString());
                assertEquals("UNAUTHENTICATED", e.reason());
            }

            try (LicenseAdminClient admin = admin(port, CLIENT)) {
                ListAccountsResponse accounts = admin.listAccounts();
                assertEquals(List.of("demo"), accountIds(accounts), "the rogue createAccount did not happen");

                // An agent with only its API key still works.
                agentAcquiresRenewsAndReleases(port, apiKey, admin);

                // The jar's admin command line presents the certificate: same answer as the SDK.
                JarCli.Run json = cli(port, true, "accounts", "list", "--output", "json");
                assertEquals(0, json.exit(), json.out());
                ListAccountsResponse.Builder parsed = ListAccountsResponse.newBuilder();
                JsonFormat.parser().merge(json.out(), parsed);
                assertEquals(accounts, parsed.build());

                JarCli.Run usage = cli(port, true, "usage", "--account", "demo");
                assertEquals(0, usage.exit(), usage.out());
                assertTrue(usage.out().lines().anyMatch(l -> l.matches("OG-1 +Engineering +demo +20 +20 +0 +20")), usage.out());
            }

            // Without --client-cert the command line is refused, and says why.
            JarCli.Run refused = cli(port, false, "accounts", "list");
            assertEquals(1, refused.exit(), refused.out());
            assertTrue(refused.out().contains("UNAUTHENTICATED: admin calls require a client certificate signed by the broker's --tls-client-ca"),
                    refused.out());
            assertEquals(1, refused.out().strip().lines().count(), refused.out());
            assertTrue(refused.out().contains("(pass --client-cert and --client-key"), refused.out());
        }
    }

    /** Through the SDK over TLS: the demo user's license comes from Engineering, is renewed, and goes back on close. */
    private static void agentAcquiresRenewsAndReleases(int port, String apiKey, LicenseAdminClient admin) {
        String engineering = row(admin, "Engineering").getPoolId();
        assertEquals(0, row(admin, "Engineering").getInUse());
        try (LicenseBrokerClient agent = LicenseBrokerClient.builder().target("localhost:" + port).apiKey(apiKey)
                .trustCertificates(certs.pem(CA)).build()) {
            LicenseSession session = agent.acquire("tls-machine-1");
            assertEquals(engineering, session.poolId());
            assertEquals(1, row(admin, "Engineering").getInUse());

            Instant firstExpiry = session.leaseExpiresAt();
            Await.until(Duration.ofSeconds(30), () -> session.renewCount() >= 1, () -> "a renewal over TLS: " + session);
            assertTrue(session.isActive(), session.toString());
            assertTrue(session.leaseExpiresAt().isAfter(firstExpiry), "the renewal extended the lease: " + session.leaseExpiresAt());

            session.close();
            assertFalse(session.isActive());
            assertEquals(Optional.empty(), session.lossReason());
            assertEquals(0, row(admin, "Engineering").getInUse(), "the release reached the broker");
        }
    }

    private BrokerProcess serve(String... extraArgs) throws Exception {
        List<String> args = new ArrayList<>(List.of("--demo", "--admin-token", ADMIN, "--lease-ttl", LEASE_TTL,
                "--tls-cert", certs.pem(SERVER).toString(), "--tls-key", certs.key(SERVER).toString()));
        args.addAll(List.of(extraArgs));
        return BrokerProcess.start(dataDir, args.toArray(String[]::new));
    }

    /** An admin client trusting the test CA, presenting certificate {@code clientCertificate} unless null. */
    private static LicenseAdminClient admin(int port, String clientCertificate) {
        LicenseAdminClient.Builder builder = LicenseAdminClient.builder().target("localhost:" + port).token(ADMIN)
                .trustCertificates(certs.pem(CA));
        if (clientCertificate != null) {
            builder.clientCertificate(certs.pem(clientCertificate), certs.key(clientCertificate));
        }
        return builder.build();
    }

    /** The jar's admin command line over TLS trusting the test CA, with the admin client certificate or none. */
    private static JarCli.Run cli(int port, boolean withClientCertificate, String... command) throws Exception {
        List<String> args = new ArrayList<>(List.of(command));
        args.addAll(List.of("--target", "localhost:" + port, "--trust-cert", certs.pem(CA).toString()));
        if (withClientCertificate) {
            args.addAll(List.of("--client-cert", certs.pem(CLIENT).toString(), "--client-key", certs.key(CLIENT).toString()));
        }
        return JarCli.run(Map.of("BROKER_TOKEN", ADMIN), args.toArray(String[]::new));
    }

    private static String demoApiKey(BrokerProcess broker) throws Exception {
        return after(broker.awaitLine("demo api key"), ": ");
    }

    private static List<String> accountIds(ListAccountsResponse accounts) {
        return accounts.getAccountsList().stream().map(Account::getAccountId).toList();
    }

    private static PoolRow row(LicenseAdminClient admin, String name) {
        return admin.getLicenseUsage("demo", "").getRowsList().stream().filter(r -> r.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no pool named " + name));
    }

    private static String after(String line, String marker) {
        return line.substring(line.lastIndexOf(marker) + marker.length()).trim();
    }
}
