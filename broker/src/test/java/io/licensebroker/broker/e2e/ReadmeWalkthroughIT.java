package io.licensebroker.broker.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README as a newcomer meets it: the walk-through's shell block, pasted as it stands into one
 * bash (with {@code set -e}, so any failing command fails the test), in a directory holding the jar
 * where the README's first command puts it. The Redis walk-through is checked for what makes it safe
 * to paste beside the demo.
 */
final class ReadmeWalkthroughIT {
    private static final Path README = Path.of(System.getProperty("user.dir")).getParent().resolve("README.md");
    private static final Pattern SH_BLOCK = Pattern.compile("```sh\n(.*?)```", Pattern.DOTALL);

    @Test
    void theWalkThroughRunsAsPastedAndSaysWhatItPromises(@TempDir Path checkout) throws Exception {
        assertTrue(portFree(7443) && portFree(9464) && portFree(8080),
                "the walk-through uses the default ports 7443, 9464 and 8080; something holds them");
        String firstCommand = blocks(section("## Two commands")).get(0);
        assertTrue(firstCommand.contains("cp broker/target/license-broker.jar . && java -jar license-broker.jar serve --demo"), firstCommand);
        Files.copy(Path.of(System.getProperty("broker.jar", "target/license-broker.jar")), checkout.resolve("license-broker.jar"));
        String walk = blocks(section("## A walk through the demo")).get(0);

        Run run = paste(walk, checkout, "broker.log");
        String out = run.out();
        String log = run.log();

        assertTrue(out.lines().anyMatch(l -> l.matches("OG-1 +Engineering +demo +20 +20 +0 +20")), "the usage table:\n" + out);
        Matcher released = Pattern.compile("(?m)^released (demo\\.\\S+)$").matcher(out);
        assertTrue(released.find(), "the session went back:\n" + out);
        assertTrue(out.contains(released.group(1)), "sessions list showed the session");
        assertTrue(out.lines().anyMatch(l -> l.matches("OG-1 +Engineering +demo +25 +25 +0 +25")), "dedicated set printed the new table:\n" + out);
        assertTrue(out.toLowerCase(java.util.Locale.ROOT).contains("strict"), "policy show:\n" + out);
        assertFalse(out.contains("error:"), out);
        assertTrue(log.contains("stopped"), "the broker drained and stopped:\n" + log);
        assertTrue(log.lines().anyMatch("console on 8080"::equals), "the start prints the console's port:\n" + log);
    }

    /**
     * The seat example: the refusals it shows on purpose happen (each with its reason, and no other
     * error), and the tables say what its comments promise.
     */
    @Test
    void theSeatExampleRunsAsPastedAndRefusesWhatItSays(@TempDir Path checkout) throws Exception {
        assertTrue(portFree(7443) && portFree(9464) && portFree(8080),
                "the example uses the default ports 7443, 9464 and 8080; something holds them");
        Files.copy(Path.of(System.getProperty("broker.jar", "target/license-broker.jar")), checkout.resolve("license-broker.jar"));
        Run run = paste(blocks(section("## Two kinds of licenses")).get(0), checkout, "seats.log");
        String out = run.out();

        List<String> errors = out.lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(4, errors.size(), "exactly the four refusals the example shows:\n" + out);
        assertTrue(errors.get(0).contains("GrantLicense refused: FAILED_PRECONDITION INSUFFICIENT_LICENSES"), errors.get(0));
        assertTrue(errors.get(1).contains("RenewSession refused: NOT_FOUND SESSION_TERMINATED"), errors.get(1));
        assertTrue(errors.get(2).contains("ActivateLicense refused: FAILED_PRECONDITION SEAT_IN_USE"), errors.get(2));
        assertTrue(errors.get(3).contains("TransferLicense refused: FAILED_PRECONDITION OFFLINE_BOUND"), errors.get(3));
        assertTrue(out.lines().anyMatch(l -> l.matches("acme +Acme Inc\\. +3 +3 +3 +0")), "usage: In use 3, Available 0:\n" + out);
        assertTrue(out.lines().anyMatch(l -> l.matches("\\S+ +ann +ann-laptop +KSE +acme +\\S+ +\\S+")), "activations list:\n" + out);
        assertTrue(out.lines().anyMatch(l -> l.matches("cid +KSE-NL +acme +cid-pc +\\S+ +\\S+")), "the seat bound offline:\n" + out);
        assertTrue(out.contains("removed the KSE seat of ben"), out);
        assertTrue(Files.exists(checkout.resolve("KSE-NL_cid-pc.lic")), "the offline license file");
        assertTrue(run.log().contains("stopped"), "the broker drained and stopped:\n" + run.log());
    }

    private record Run(String out, String log) {
    }

    /** Runs a README block as pasted into one bash with {@code set -e}: any failing command fails the test. */
    private static Run paste(String block, Path checkout, String logFile) throws Exception {
        List<String> cmd = List.of("bash", "-e", "-u", "-o", "pipefail", "-c", block);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(checkout.toFile()).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("BROKER_") || k.startsWith("LICENSE_BROKER_"));
        env.put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":" + env.getOrDefault("PATH", "/usr/bin:/bin"));
        Process bash = pb.start();
        String out;
        try {
            out = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(bash.waitFor(180, TimeUnit.SECONDS), "the block did not finish");
        } finally {
            bash.descendants().forEach(ProcessHandle::destroyForcibly);
            bash.destroyForcibly();
        }
        String log = Files.exists(checkout.resolve(logFile)) ? Files.readString(checkout.resolve(logFile)) : "(no " + logFile + ")";
        assertEquals(0, bash.exitValue(), "output:\n" + out + "\n" + logFile + ":\n" + log);
        return new Run(out, log);
    }

    @Test
    void theRedisWalkThroughKeepsOffTheDemosPortsBindsLoopbackAndWritesOutsideTheCheckout() throws IOException {
        for (String block : blocks(section("## Several nodes on Redis"))) {
            if (!block.contains("redis-server")) {
                continue;
            }
            for (String line : block.split("\n")) {
                if (line.contains("redis-server --port")) {
                    assertTrue(line.contains("--bind 127.0.0.1"), "Redis on loopback only: " + line);
                    assertTrue(line.matches(".*--dir /tmp/\\S+.*"), "Redis files outside the checkout: " + line);
                }
            }
            assertFalse(block.matches("(?s).*--port 7443\\b.*") || block.matches("(?s).*--metrics-port 9464\\b.*")
                    || block.matches("(?s).*--console-port 8080\\b.*"), "the demo's ports: " + block);
            assertTrue(block.matches("(?s).*serve --store redis.*--port \\d+ --metrics-port \\d+ --console-port \\d+.*"),
                    "every node names its ports: " + block);
        }
    }

    private static String section(String heading) throws IOException {
        String readme = Files.readString(README);
        int start = readme.indexOf("\n" + heading + "\n");
        assertTrue(start >= 0, "README has no section " + heading);
        int end = readme.indexOf("\n## ", start + heading.length() + 2);
        return readme.substring(start, end < 0 ? readme.length() : end);
    }

    private static List<String> blocks(String section) {
        List<String> found = new ArrayList<>();
        Matcher m = SH_BLOCK.matcher(section);
        while (m.find()) {
            found.add(m.group(1));
        }
        assertFalse(found.isEmpty(), "no sh block in " + section);
        return found;
    }

    private static boolean portFree(int port) {
        try (ServerSocket s = new ServerSocket(port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
