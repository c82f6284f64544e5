package io.licensebroker.broker.grpc;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.licensebroker.broker.cli.Main;
import io.licensebroker.broker.testing.TestCertificates;
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
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.licensebroker.broker.grpc.Refusals.assertUnauthenticated;
import static io.licensebroker.broker.testing.TestCertificates.CA;
import static io.licensebroker.broker.testing.TestCertificates.CLIENT;
import static io.licensebroker.broker.testing.TestCertificates.ROGUE_CLIENT;
import static io.licensebroker.broker.testing.TestCertificates.SERVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS on the real Netty server: the SDK connects with the CA's certificate, plaintext does not,
 * and with {@code --tls-client-ca} admin calls need a client certificate that CA signed while
 * agents still connect with an API key alone. Certificates are made per run with {@code openssl}
 * ({@link TestCertificates}).
 */
final class TlsTest {
    @TempDir
    static Path dir;
    private static TestCertificates certs;

    private final World world = World.standard();
    private final List<ManagedChannel> channels = new ArrayList<>();
    private BrokerServer server;

    @BeforeAll
    static void certificates() throws Exception {
        certs = TestCertificates.makeIn(dir);
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
                .trustCertificates(certs.pem(CA))
                .build();
             LicenseSession session = client.acquire("machine-1", AcquireOptions.builder().requestId("tls-1").build())) {
            assertTrue(session.isActive());
        }
        // Without a client CA, admins need no certificate either.
        assertEquals(2, rootOver(tls(false, CA)).listAccounts(ListAccountsRequest.getDefaultInstance()).getAccountsCount());

        ManagedChannel plain = track(NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> rootOver(plain).listAccounts(ListAccountsRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
    }

    @Test
    void clientCaRequiresACertificateForAdminsOnly() throws Exception {
        start(certs.pem(CA));

        assertUnauthenticated(() -> rootOver(tls(false, CA)).listAccounts(ListAccountsRequest.getDefaultInstance()));
        assertEquals(2, rootOver(tls(true, CLIENT)).listAccounts(ListAccountsRequest.getDefaultInstance()).getAccountsCount());

        // An agent without a certificate keeps working with its API key.
        LicenseBrokerGrpc.LicenseBrokerBlockingStub agent = World.withAuthorization(
                LicenseBrokerGrpc.newBlockingStub(tls(false, CA)), "Bearer " + world.aliceKey);
        assertTrue(agent.acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m-1").setRequestId("r-1").build())
                .getSessionId().length() > 0);

        // The admin SDK and the admin command line present the certificate.
        try (LicenseAdminClient admin = LicenseAdminClient.builder().target("localhost:" + server.port()).token(World.ROOT)
                .trustCertificates(certs.pem(CA)).clientCertificate(certs.pem(CLIENT), certs.key(CLIENT))
                .build()) {
            assertEquals(2, admin.listAccounts().getAccountsCount());
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = Main.run(new String[] {"accounts", "list", "--target", "localhost:" + server.port(), "--token", World.ROOT,
                        "--trust-cert", certs.pem(CA).toString(), "--client-cert", certs.pem(CLIENT).toString(),
                        "--client-key", certs.key(CLIENT).toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        assertEquals(0, exit, err.toString(StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("globex"), out.toString(StandardCharsets.UTF_8));

        // A certificate from another CA does not get through (the handshake or the call fails).
        StatusRuntimeException rogue = assertThrows(StatusRuntimeException.class,
                () -> rootOver(tls(true, ROGUE_CLIENT)).listAccounts(ListAccountsRequest.getDefaultInstance()));
        assertNotEquals(Status.Code.OK, rogue.getStatus().getCode());
    }

    private void start(Path clientCa) throws IOException {
        server = BrokerServer.start(BrokerServer.Options.defaults(0)
                .withTls(new BrokerServer.Tls(certs.pem(SERVER), certs.key(SERVER), clientCa)), world.service);
    }

    private ManagedChannel tls(boolean withClientCertificate, String name) throws IOException {
        TlsChannelCredentials.Builder credentials = TlsChannelCredentials.newBuilder().trustManager(certs.pem(CA).toFile());
        if (withClientCertificate) {
            credentials.keyManager(certs.pem(name).toFile(), certs.key(name).toFile());
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
}
