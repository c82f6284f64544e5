package io.licensebroker.broker.console;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The page's files, from the jar's resources under {@code console/}: {@code /} is
 * {@code index.html}. Only plain names of known types are served; anything else is not found.
 */
final class StaticFiles {
    private static final String ROOT = "console/";
    /** Lower-case names, folders and one extension: no "..", no encoded characters, no dot files. */
    private static final Pattern SAFE = Pattern.compile("(/[a-z0-9][a-z0-9_-]*)*/[a-z0-9][a-z0-9_-]*\\.[a-z]+");
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "svg", "image/svg+xml",
            "png", "image/png",
            "ico", "image/x-icon");

    /** A file to send. */
    record File(String contentType, byte[] bytes) {
    }

    private final Map<String, Optional<File>> cache = new ConcurrentHashMap<>();

    Optional<File> get(String path) {
        String name = path.equals("/") ? "/index.html" : path;
        if (!SAFE.matcher(name).matches()) {
            return Optional.empty();
        }
        String type = TYPES.get(name.substring(name.lastIndexOf('.') + 1));
        if (type == null) {
            return Optional.empty();
        }
        return cache.computeIfAbsent(name, n -> load(n, type));
    }

    private static Optional<File> load(String name, String type) {
        try (InputStream in = StaticFiles.class.getClassLoader().getResourceAsStream(ROOT + name.substring(1))) {
            return in == null ? Optional.empty() : Optional.of(new File(type, in.readAllBytes()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the console's " + name, e);
        }
    }
}
