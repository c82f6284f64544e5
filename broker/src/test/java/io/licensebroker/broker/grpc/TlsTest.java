package io.licensebroker.broker.grpc;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.licensebroker.broker.cli.Main;
import io.licensebroker.client.AcquireOptions;
import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.client.LicenseBrokerClient;
import io.licensebroker.client.LicenseSession;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.ListAccountsRequest;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.licensebroker.broker.grpc.Refusals.assertUnauthenticated;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * TLS on the real Netty server: the SDK connects with the CA's certificate, plaintext does not,
 * and with {@code --tls-client-ca} admin calls need a client certificate that CA signed while
 * agents still connect with an API key alone. Certificates are made per run with {@code openssl}.
 */
final class TlsTest {
    @TempDir
    static Path dir;

    private final World world = World.standard();
    private final List<ManagedChannel> channels = new ArrayList<>();
    private BrokerServer server;

    @BeforeAll
    static void certificates() throws Exception {
        assumeTrue(opensslAvailable(), "openssl is not installed: the TLS tests need it to make certificates");
        Files.writeString(dir.resolve("server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
        Files.writeString(dir.resolve("client.ext"), "extendedKeyUsage=clientAuth\n");
        selfSigned("ca", "/CN=License Broker test CA");
        selfSigned("rogue-ca", "/CN=Someone else's CA");
        signed("server", "/CN=localhost", "ca", "server.ext");
        signed("client", "/CN=admin-tool", "ca", "client.ext");
        signed("rogue-client", "/CN=admin-tool", "rogue-ca", "client.ext");
    }

    @AfterEach
    void stop() {
        channels.forEach(ManagedChannel::shutdownNow);
        if (server != null) {
            server.shutdown(Duration.ZERO);
        }
        world.close();
    }

    @Test
    void sdkConnectsOverTlsAndPlaintextDoesNot() throws Exception {
        start(null);
        try (LicenseBrokerClient client = LicenseBrokerClient.builder()
                .target("localhost:" + server.port())
                .apiKey(world.aliceKey)
                .trustCertificates(dir.resolve("ca.pem"))
                .build();
             LicenseSession session = client.acquire("machine-1", AcquireOptions.builder().requestId("tls-1").build())) {
            assertTrue(session.isActive());
        }
        // Without a client CA, admins need no certificate either.
        assertEquals(2, rootOver(tls(false, "ca")).listAccounts(ListAccountsRequest.getDefaultInstance()).getAccountsCount());

        ManagedChannel plain = track(NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> rootOver(plain).listAccounts(ListAccountsRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
    }

    @Test
    void clientCaRequiresACertificateForAdminsOnly() throws Exception {
        start(dir.resolve("ca.pem"));

        assertUnauthenticated(() -> rootOver(tls(false, "ca")).listAccounts(ListAccountsRequest.getDefaultInstance()));
        assertEquals(2, rootOver(tls(true, "client")).listAccounts(ListAccountsRequest.getDefaultInstance()).getAccountsCount());

        // An agent without a certificate keeps working with its API key.
        LicenseBrokerGrpc.LicenseBrokerBlockingStub agent = World.withAuthorization(
                LicenseBrokerGrpc.newBlockingStub(tls(false, "ca")), "Bearer " + world.aliceKey);
        assertTrue(agent.acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m-1").setRequestId("r-1").build())
                .getSessionId().length() > 0);

        // The admin SDK and the admin command line present the certificate.
        try (LicenseAdminClient admin = LicenseAdminClient.builder().target("localhost:" + server.port()).token(World.ROOT)
                .trustCertificates(dir.resolve("ca.pem")).clientCertificate(dir.resolve("client.pem"), dir.resolve("client.key"))
                .build()) {
            assertEquals(2, admin.listAccounts().getAccountsCount());
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = Main.run(new String[] {"accounts", "list", "--target", "localhost:" + server.port(), "--token", World.ROOT,
                        "--trust-cert", dir.resolve("ca.pem").toString(), "--client-cert", dir.resolve("client.pem").toString(),
                        "--client-key", dir.resolve("client.key").toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        assertEquals(0, exit, err.toString(StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("globex"), out.toString(StandardCharsets.UTF_8));

        // A certificate from another CA does not get through (the handshake or the call fails).
        StatusRuntimeException rogue = assertThrows(StatusRuntimeException.class,
                () -> rootOver(tls(true, "rogue-client")).listAccounts(ListAccountsRequest.getDefaultInstance()));
        assertNotEquals(Status.Code.OK, rogue.getStatus().getCode());
    }

    private void start(Path clientCa) throws IOException {
        server = BrokerServer.start(BrokerServer.Options.defaults(0)
                .withTls(new BrokerServer.Tls(dir.resolve("server.pem"), dir.resolve("server.key"), clientCa)), world.service);
    }

    private ManagedChannel tls(boolean withClientCertificate, String name) throws IOException {
        TlsChannelCredentials.Builder credentials = TlsChannelCredentials.newBuilder().trustManager(dir.resolve("ca.pem").toFile());
        if (withClientCertificate) {
            credentials.keyManager(dir.resolve(name + ".pem").toFile(), dir.resolve(name + ".key").toFile());
        }
        ChannelCredentials built = credentials.build();
        return track(Grpc.newChannelBuilderForAddress("localhost", server.port(), built).build());
    }

    private ManagedChannel track(ManagedChannel channel) {
        channels.add(channel);
        return channel;
    }

    private static LicenseAdminGrpc.LicenseAdminBlockingStub rootOver(ManagedChannel channel) {
        return World.withAuthorization(LicenseAdminGrpc.newBlockingStub(channel), "Bearer " + World.ROOT)
                .withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static void selfSigned(String name, String subject) throws Exception {
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", name + ".key", "-out", name + ".pem", "-days", "2", "-subj", subject);
    }

    private static void signed(String name, String subject, String ca, String extensions) throws Exception {
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", subject);
        openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial",
                "-out", name + ".pem", "-days", "2", "-extfile", extensions);
    }

    private static boolean opensslAvailable() {
        try {
            return new ProcessBuilder("openssl", "version").redirectErrorStream(true).start().waitFor(30, TimeUnit.SECONDS);
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void openssl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("openssl " + String.join(" ", args) + " failed:\n" + output);
        }
    }
}
