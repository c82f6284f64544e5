package io.licensebroker.broker.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The domain core depends on the JDK only; adapters depend on it, never the other way round. */
class CorePurityTest {
    private static final Path CORE = Path.of("src/main/java/io/licensebroker/broker/core");
    private static final Pattern IMPORT = Pattern.compile("^import\\s+(static\\s+)?([\\w.]+)", Pattern.MULTILINE);

    @Test
    void coreImportsOnlyTheJdkAndItself() throws IOException {
        List<String> offending = new ArrayList<>();
        int files = 0;
        try (Stream<Path> sources = Files.walk(CORE)) {
            for (Path source : sources.filter(p -> p.toString().endsWith(".java")).toList()) {
                files++;
                Matcher m = IMPORT.matcher(Files.readString(source));
                while (m.find()) {
                    String imported = m.group(2);
                    if (!imported.startsWith("java.") && !imported.startsWith("io.licensebroker.broker.core.")) {
                        offending.add(source.getFileName() + " imports " + imported);
                    }
                }
            }
        }
        assertTrue(files > 10, "found the core sources");
        assertEquals(List.of(), offending);
    }
}
