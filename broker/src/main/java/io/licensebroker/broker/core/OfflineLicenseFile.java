package io.licensebroker.broker.core;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The signed offline license file: a few "key=value" lines naming account, product, machine and
 * expiry, then a "signature=" line with the signature over every byte before it. The format is
 * strict (fixed keys, one trailing newline, canonical base64) so that any changed byte makes the
 * file invalid.
 */
public final class OfflineLicenseFile {
    private static final String FORMAT = "licensebroker-offline-v1";
    private static final String SIGNATURE_PREFIX = "signature=";

    private OfflineLicenseFile() {
    }

    /** {@code <PRODUCT>_<machineId>.lic} */
    public static String fileName(OfflineLicense license) {
        return license.product() + "_" + license.machineId() + ".lic";
    }

    public static byte[] write(OfflineLicense license, LicenseSigner signer) {
        String body = "format=" + FORMAT + "\n"
                + "account=" + license.accountId() + "\n"
                + "product=" + license.product() + "\n"
                + "machine=" + license.machineId() + "\n"
                + "issued=" + license.issuedAt() + "\n"
                + "expires=" + license.expiresAt() + "\n";
        byte[] bodyBytes = body.getBytes(StandardCharsets.UTF_8);
        String signature = Base64.getEncoder().encodeToString(signer.sign(bodyBytes));
        return (body + SIGNATURE_PREFIX + signature + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** The license the file grants, or empty when it is malformed or its signature does not verify. */
    public static Optional<OfflineLicense> verify(byte[] file, LicenseSigner signer) {
        String text = new String(file, StandardCharsets.UTF_8);
        if (!java.util.Arrays.equals(text.getBytes(StandardCharsets.UTF_8), file) || !text.endsWith("\n")) {
            return Optional.empty();
        }
        int sigStart = text.lastIndexOf("\n" + SIGNATURE_PREFIX);
        if (sigStart < 0) {
            return Optional.empty();
        }
        String body = text.substring(0, sigStart + 1);
        String encoded = text.substring(sigStart + 1 + SIGNATURE_PREFIX.length(), text.length() - 1);
        byte[] signature;
        try {
            signature = Base64.getDecoder().decode(encoded);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        // Base64 tolerates some bit changes in padding characters; only the canonical form counts.
        if (!Base64.getEncoder().encodeToString(signature).equals(encoded)
                || !signer.verify(body.getBytes(StandardCharsets.UTF_8), signature)) {
            return Optional.empty();
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (String line : body.split("\n")) {
            int eq = line.indexOf('=');
            if (eq <= 0 || fields.put(line.substring(0, eq), line.substring(eq + 1)) != null) {
                return Optional.empty();
            }
        }
        if (!FORMAT.equals(fields.get("format")) || fields.size() != 6) {
            return Optional.empty();
        }
        try {
            return Optional.of(new OfflineLicense(fields.get("account"), fields.get("product"), fields.get("machine"),
                    Instant.parse(fields.get("issued")), Instant.parse(fields.get("expires"))));
        } catch (DateTimeParseException | NullPointerException e) {
            return Optional.empty();
        }
    }
}
