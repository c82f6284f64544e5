package io.licensebroker.broker.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The admin command line as shipped: {@code java -jar license-broker.jar <command>} in its own process. */
final class JarCli {
    private JarCli() {
    }

    /** A finished command: its exit code and its stdout and stderr together. */
    record Run(int exit, String out) {
    }

    /** Runs one command with these variables added to the environment (BROKER_TARGET, BROKER_TOKEN). */
    static Run run(Map<String, String> env, String... args) throws IOException, InterruptedException {
        String jar = System.getProperty("broker.jar", "target/license-broker.jar");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-jar", jar));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("the command did not finish: " + String.join(" ", args));
        }
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
