package io.licensebroker.broker.app;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** README's settings table lists exactly the settings of {@link Setting}, in its order, with their environment variables and defaults. */
final class ReadmeSettingsTest {
    private static final Path README = Path.of("..", "README.md");
    private static final Pattern ROW = Pattern.compile("^\\| `(--[a-z-]+)` \\| `([A-Z_]+)` \\| ([^|]+) \\|.*\\|$");

    @Test
    void theTableListsEverySettingWithItsEnvironmentVariableAndDefault() throws IOException {
        List<String> lines = Files.readAllLines(README);
        int start = lines.indexOf("## Settings");
        assertTrue(start >= 0, "README has a '## Settings' section");
        List<String> documented = new ArrayList<>();
        for (int i = start + 1; i < lines.size() && !lines.get(i).startsWith("## "); i++) {
            Matcher m = ROW.matcher(lines.get(i));
            if (m.matches()) {
                documented.add(m.group(1) + " " + m.group(2) + " " + m.group(3).trim());
            }
        }
        List<String> expected = new ArrayList<>();
        for (Setting s : Setting.values()) {
            expected.add(s.flag() + " " + s.env() + " " + (s.defaultValue() == null ? "—" : s.defaultValue()));
        }
        assertEquals(String.join("\n", expected), String.join("\n", documented),
                "README's settings table, one row per Setting: | `--flag` | `ENV` | default | meaning |");
    }
}
