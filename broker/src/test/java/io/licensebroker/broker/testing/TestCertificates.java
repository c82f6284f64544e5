package io.licensebroker.broker.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Certificates for TLS tests, made per run with {@code openssl} (EC P-256, valid two days) in a
 * directory: a CA ({@link #CA}) that signs a server certificate for {@code localhost} and
 * {@code 127.0.0.1} ({@link #SERVER}) and an admin client certificate ({@link #CLIENT}), and a
 * second, unrelated CA ({@link #ROGUE_CA}) that signs a client certificate of the same subject
 * ({@link #ROGUE_CLIENT}). Each is {@code <name>.pem} with its PKCS#8 key {@code <name>.key}.
 */
public final class TestCertificates {
    public static final String CA = "ca";
    public static final String ROGUE_CA = "rogue-ca";
    public static final String SERVER = "server";
    public static final String CLIENT = "client";
    public static final String ROGUE_CLIENT = "rogue-client";

    private final Path dir;

    private TestCertificates(Path dir) {
        this.dir = dir;
    }

    /**
     * Makes the certificates in {@code dir}. Skips the calling test or class (a JUnit assumption)
     * when {@code openssl} is not installed.
     */
    public static TestCertificates makeIn(Path dir) throws Exception {
        assumeTrue(opensslAvailable(), "openssl is not installed: the TLS tests need it to make certificates");
        TestCertificates certs = new TestCertificates(dir);
        Files.writeString(dir.resolve("server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
        Files.writeString(dir.resolve("client.ext"), "extendedKeyUsage=clientAuth\n");
        certs.selfSigned(CA, "/CN=License Broker test CA");
        certs.selfSigned(ROGUE_CA, "/CN=Someone else's CA");
        certs.signed(SERVER, "/CN=localhost", CA, "server.ext");
        certs.signed(CLIENT, "/CN=admin-tool", CA, "client.ext");
        certs.signed(ROGUE_CLIENT, "/CN=admin-tool", ROGUE_CA, "client.ext");
        return certs;
    }

    /** The PEM certificate {@code name} (one of the constants). */
    public Path pem(String name) {
        return dir.resolve(name + ".pem");
    }

    /** The PEM PKCS#8 private key of certificate {@code name}. */
    public Path key(String name) {
        return dir.resolve(name + ".key");
    }

    private void selfSigned(String name, String subject) throws Exception {
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", name + ".key", "-out", name + ".pem", "-days", "2", "-subj", subject);
    }

    private void signed(String name, String subject, String ca, String extensions) throws Exception {
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

    private void openssl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("openssl " + String.join(" ", args) + " failed:\n" + output);
        }
    }
}
