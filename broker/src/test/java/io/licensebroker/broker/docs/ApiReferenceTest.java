package io.licensebroker.broker.docs;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** docs/api.md is what the protos say today: a proto change without the doc fails here. */
final class ApiReferenceTest {
    private static final Path API_MD = Path.of(System.getProperty("user.dir")).getParent().resolve("docs/api.md");

    @Test
    void docsApiMdIsGeneratedFromTheProtos() throws Exception {
        String rendered = ApiReference.render();
        if (Boolean.getBoolean("api.reference.update")) {
            Files.writeString(API_MD, rendered);
        }
        assertTrue(Files.exists(API_MD), API_MD + " is missing: run with -Dapi.reference.update=true");
        assertEquals(rendered, Files.readString(API_MD),
                "docs/api.md is out of date: mvn -pl broker -am test -Dtest=ApiReferenceTest -Dapi.reference.update=true");
    }

    @Test
    void everyRpcAndEveryErrorReasonIsListed() {
        String rendered = ApiReference.render();
        for (String expected : new String[]{"### service LicenseBroker", "### service LicenseAdmin", "| `AcquireSession` |",
                "| `SetDedicatedLicenses` |", "### enum ErrorReason", "| `NO_LICENSE_AVAILABLE` |", "| `session_id` |"}) {
            assertTrue(rendered.contains(expected), expected);
        }
    }
}
