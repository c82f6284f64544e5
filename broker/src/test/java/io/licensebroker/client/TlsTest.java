package io.licensebroker.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Grpc;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.Status;
import io.grpc.TlsServerCredentials;
import io.grpc.testing.TlsTesting;
import io.licensebroker.broker.grpc.BrokerServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * TLS with gRPC's test certificates: a CA, and a server certificate for {@code *.test.google.fr}
 * (so clients connecting to 127.0.0.1 name the expected host through {@code authority}).
 */
class TlsTest {
    private static final String HOST_IN_CERTIFICATE = "broker.test.google.fr";

    private final TestBroker broker = TestBroker.frozen(Duration.ofSeconds(60));
    @TempDir
    Path dir;
    private Path ca;
    private String key;

    @BeforeEach
    void certificates() throws IOException {
        ca = copy("ca.pem");
        copy("server1.pem");
        copy("server1.key");
        key = broker.agent("acme", 10, "alice");
    }

    @AfterEach
    void close() {
        broker.close();
    }

    private Path copy(String name) throws IOException {
        Path target = dir.resolve(name);
        try (InputStream in = TlsTesting.loadCert(name)) {
            Files.copy(in, target);
        }
        return target;
    }

    private int tlsNode() throws IOException {
        ServerBuilder<?> builder = Grpc.newServerBuilderForPort(0,
                TlsServerCredentials.create(dir.resolve("server1.pem").toFile(), dir.resolve("server1.key").toFile()));
        BrokerServer.services(broker.service).forEach(builder::addService);
        Server server = builder.build().start();
        broker.closeLater(server::shutdownNow);
        return server.getPort();
    }

    @Test
    void acquiresOverTlsTrustingTheGivenCertificates() throws IOException {
        int port = tlsNode();
        LicenseBrokerClient client = broker.closeLater(LicenseBrokerClient.builder().target("127.0.0.1:" + port)
                .trustCertificates(ca).authority(HOST_IN_CERTIFICATE).apiKey(key).build());
        try (LicenseSession session = client.acquire("m-1")) {
            assertTrue(session.isActive());
            assertEquals(1, broker.inUse("acme"));
        }
        assertEquals(0, broker.inUse("acme"));
    }

    @Test
    void severalTlsNodesBehindOneClient() throws IOException {
        int a = tlsNode();
        int b = tlsNode();
        LicenseAdminClient admin = broker.closeLater(LicenseAdminClient.builder()
                .target("127.0.0.1:" + a + ",127.0.0.1:" + b).trustCertificates(ca).authority(HOST_IN_CERTIFICATE)
                .token(TestBroker.ROOT).build());
        assertEquals("acme", admin.getLicenseUsage("acme", "").getAccountId());
    }

    @Test
    void anUntrustedCertificateIsRefused() throws IOException {
        int port = tlsNode();
        LicenseBrokerClient client = broker.closeLater(LicenseBrokerClient.builder().target("127.0.0.1:" + port)
                .useTransportSecurity().authority(HOST_IN_CERTIFICATE).apiKey(key)
                .retryPolicy(1, Duration.ofMillis(10), Duration.ofMillis(10)).build());
        LicenseBrokerException e = assertThrows(LicenseBrokerException.class, () -> client.acquire("m-1"));
        assertEquals(Status.Code.UNAVAILABLE, e.code());
        assertEquals(0, broker.inUse("acme"));
    }
}
