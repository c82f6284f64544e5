package io.licensebroker.broker.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real, small tmpfs mounted for one test, to fill up like a real disk (needs root, or
 * CAP_SYS_ADMIN; the test is skipped, saying why, where mounting is not allowed).
 */
public final class SmallTmpfs implements AutoCloseable {
    private final Path root;

    private SmallTmpfs(Path root) {
        this.root = root;
    }

    /** Mounts a tmpfs of {@code size} (as mount(8) takes it, e.g. "4m") on {@code mountPoint}, created if missing. */
    public static SmallTmpfs mount(Path mountPoint, String size) throws IOException, InterruptedException {
        Files.createDirectories(mountPoint);
        String failure = run("mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700", "tmpfs", mountPoint.toString());
        assumeTrue(failure == null, "cannot mount a tmpfs here (the disk-full test needs root): " + failure);
        return new SmallTmpfs(mountPoint);
    }

    public Path root() {
        return root;
    }

    /** Fills every free byte with one file, as a runaway log would; returns it (delete it to free the space). */
    public Path fill() throws IOException {
        Path filler = root.resolve("filler");
        try (OutputStream out = Files.newOutputStream(filler)) {
            for (int chunk : new int[] {1 << 16, 1 << 12, 1}) {
                byte[] bytes = new byte[chunk];
                try {
                    while (true) {
                        out.write(bytes);
                        out.flush();
                    }
                } catch (IOException full) {
                    // this chunk size no longer fits: try a smaller one
                }
            }
        }
        return filler;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        String failure = run("umount", "-l", root.toString());
        if (failure != null) {
            throw new IOException("cannot unmount " + root + ": " + failure);
        }
    }

    /** Null when the command succeeded, else what it said. */
    private static String run(String... command) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        } catch (IOException e) {
            return e.getMessage();
        }
        p.getOutputStream().close();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return String.join(" ", command) + " did not finish";
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        return p.exitValue() == 0 ? null : "exit " + p.exitValue() + ": " + output;
    }
}
