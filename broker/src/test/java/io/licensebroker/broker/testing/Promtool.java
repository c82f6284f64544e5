package io.licensebroker.broker.testing;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Prometheus' own binaries, when installed ({@code apt-get install prometheus} provides both).
 * Tests that need one call {@link #require}: without the binary they are skipped with a message
 * saying so; nothing else ever skips them.
 */
public final class Promtool {
    public record Result(int exitCode, String output) {
    }

    private Promtool() {
    }

    /** The binary's path on PATH, or empty. */
    public static Optional<Path> find(String binary) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir, binary);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** The binary, or the test is skipped (only for this reason: the binary is not installed). */
    public static Path require(String binary) {
        Optional<Path> found = find(binary);
        assumeTrue(found.isPresent(), binary + " is not on PATH (apt-get install prometheus provides it); skipping the check that needs it");
        return found.get();
    }

    /** Runs promtool with {@code args}, feeding {@code stdin} (may be null). */
    public static Result run(String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(require("promtool").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("promtool did not finish within 60s");
        }
        return new Result(p.exitValue(), output);
    }
}
