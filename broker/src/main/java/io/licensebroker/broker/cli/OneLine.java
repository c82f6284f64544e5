package io.licensebroker.broker.cli;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A failure as one line for a terminal: the messages of the cause chain, each once and each cut
 * at its first line break (gRPC appends a Netty pipeline dump to its own).
 */
final class OneLine {
    private OneLine() {
    }

    static String of(Throwable failure) {
        Set<String> parts = new LinkedHashSet<>();
        for (Throwable t = failure; t != null && parts.size() < 4; t = t.getCause() == t ? null : t.getCause()) {
            String message = t.getMessage();
            if (message == null || message.isBlank()) {
                message = t.getClass().getSimpleName();
            }
            String first = message.lines().findFirst().orElse("").strip();
            if (parts.stream().noneMatch(p -> p.contains(first))) {
                parts.add(first);
            }
        }
        return String.join(": ", parts);
    }

    /** The first line of the failure's own message (the SDK's messages already name code, reason and field). */
    static String first(Throwable failure) {
        String message = failure.getMessage();
        return message == null ? failure.getClass().getSimpleName() : message.lines().findFirst().orElse("").strip();
    }

    /** The deepest cause of {@code type} in the chain, or null. */
    static <T extends Throwable> T cause(Throwable failure, Class<T> type) {
        T found = null;
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                found = type.cast(t);
            }
        }
        return found;
    }
}
