package io.licensebroker.broker.core;

import io.licensebroker.broker.offline.Ed25519Signer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OfflineLicenseFileTest {
    private static final Ed25519Signer SIGNER = Ed25519Signer.generate();
    private static final OfflineLicense LICENSE = new OfflineLicense("AC-1", "KRE", "machine-7f3a",
            Instant.parse("2030-01-01T00:00:00Z"), Instant.parse("2030-02-15T12:30:00Z"));

    @Test
    void anIssuedFileVerifies() {
        byte[] file = OfflineLicenseFile.write(LICENSE, SIGNER);
        assertEquals(Optional.of(LICENSE), OfflineLicenseFile.verify(file, SIGNER));
        String text = new String(file, StandardCharsets.UTF_8);
        assertTrue(text.contains("machine=machine-7f3a\n"), text);
        assertTrue(text.endsWith("\n"), text);
    }

    @Test
    void fileNameIsProductUnderscoreMachineId() {
        assertEquals("KRE_machine-7f3a.lic", OfflineLicenseFile.fileName(LICENSE));
        assertEquals("KSE_abc.lic", OfflineLicenseFile.fileName(new OfflineLicense("AC-1", "KSE", "abc", LICENSE.issuedAt(), LICENSE.expiresAt())));
    }

    @Test
    void flippingAnyByteInvalidatesTheFile() {
        byte[] file = OfflineLicenseFile.write(LICENSE, SIGNER);
        List<String> accepted = new ArrayList<>();
        for (int i = 0; i < file.length; i++) {
            for (int mask : new int[]{0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xFF}) {
                byte[] changed = file.clone();
                changed[i] = (byte) (changed[i] ^ mask);
                if (OfflineLicenseFile.verify(changed, SIGNER).isPresent()) {
                    accepted.add("byte " + i + " xor " + Integer.toHexString(mask));
                }
            }
        }
        assertEquals(List.of(), accepted);
    }

    @Test
    void insertingAnyByteAnywhereInvalidatesTheFile() {
        byte[] file = OfflineLicenseFile.write(LICENSE, SIGNER);
        List<String> accepted = new ArrayList<>();
        byte[] inserts = {'A', '=', '\n', '\r', ' ', 0, (byte) 0x80, '/', '+'};
        for (int i = 0; i <= file.length; i++) {
            for (byte b : inserts) {
                byte[] changed = new byte[file.length + 1];
                System.arraycopy(file, 0, changed, 0, i);
                changed[i] = b;
                System.arraycopy(file, i, changed, i + 1, file.length - i);
                if (OfflineLicenseFile.verify(changed, SIGNER).isPresent()) {
                    accepted.add("insert " + b + " at " + i);
                }
            }
        }
        assertEquals(List.of(), accepted);
    }

    @Test
    void deletingAnyByteInvalidatesTheFile() {
        byte[] file = OfflineLicenseFile.write(LICENSE, SIGNER);
        List<String> accepted = new ArrayList<>();
        for (int i = 0; i < file.length; i++) {
            byte[] changed = new byte[file.length - 1];
            System.arraycopy(file, 0, changed, 0, i);
            System.arraycopy(file, i + 1, changed, i, file.length - i - 1);
            if (OfflineLicenseFile.verify(changed, SIGNER).isPresent()) {
                accepted.add("delete at " + i);
            }
        }
        assertEquals(List.of(), accepted);
    }

    @Test
    void truncatedOrExtendedFilesAreInvalid() {
        byte[] file = OfflineLicenseFile.write(LICENSE, SIGNER);
        for (int n = 0; n < file.length; n++) {
            assertEquals(Optional.empty(), OfflineLicenseFile.verify(Arrays.copyOf(file, n), SIGNER), "first " + n + " bytes");
        }
        byte[] doubled = new byte[file.length * 2];
        System.arraycopy(file, 0, doubled, 0, file.length);
        System.arraycopy(file, 0, doubled, file.length, file.length);
        assertEquals(Optional.empty(), OfflineLicenseFile.verify(doubled, SIGNER));
    }

    @Test
    void aFileSignedByAnotherKeyIsInvalid() {
        Ed25519Signer other = Ed25519Signer.generate();
        byte[] forged = OfflineLicenseFile.write(LICENSE, other);
        assertEquals(Optional.of(LICENSE), OfflineLicenseFile.verify(forged, other));
        assertEquals(Optional.empty(), OfflineLicenseFile.verify(forged, SIGNER));
    }

    @Test
    void aSignedBodyWithExtraOrMissingFieldsIsInvalid() {
        // correctly signed, but not the format: extra field, missing field, duplicate field
        for (String body : List.of(
                "format=licensebroker-offline-v1\naccount=AC-1\nproduct=KRE\nmachine=m\nissued=2030-01-01T00:00:00Z\nexpires=2030-02-01T00:00:00Z\nextra=1\n",
                "format=licensebroker-offline-v1\naccount=AC-1\nproduct=KRE\nmachine=m\nissued=2030-01-01T00:00:00Z\n",
                "format=licensebroker-offline-v1\naccount=AC-1\naccount=AC-2\nproduct=KRE\nmachine=m\nissued=2030-01-01T00:00:00Z\nexpires=2030-02-01T00:00:00Z\n",
                "format=licensebroker-offline-v2\naccount=AC-1\nproduct=KRE\nmachine=m\nissued=2030-01-01T00:00:00Z\nexpires=2030-02-01T00:00:00Z\n",
                "format=licensebroker-offline-v1\naccount=AC-1\nproduct=KRE\nmachine=m\nissued=yesterday\nexpires=2030-02-01T00:00:00Z\n")) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            String sig = java.util.Base64.getEncoder().encodeToString(SIGNER.sign(bytes));
            byte[] file = (body + "signature=" + sig + "\n").getBytes(StandardCharsets.UTF_8);
            assertEquals(Optional.empty(), OfflineLicenseFile.verify(file, SIGNER), body);
        }
    }

    @Test
    void garbageIsInvalid() {
        for (String s : List.of("", "\n", "signature=\n", "format=licensebroker-offline-v1\nsignature=AAAA\n")) {
            assertEquals(Optional.empty(), OfflineLicenseFile.verify(s.getBytes(StandardCharsets.UTF_8), SIGNER), s);
        }
        assertEquals(Optional.empty(), OfflineLicenseFile.verify(new byte[]{(byte) 0xC3, (byte) 0x28, '\n'}, SIGNER));
    }
}
