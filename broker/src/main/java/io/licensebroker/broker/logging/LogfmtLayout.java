package io.licensebroker.broker.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import org.slf4j.event.KeyValuePair;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;

/**
 * The {@code text} log format: one logfmt line per event,
 * {@code ts=... level=INFO logger=... thread=... msg="..." key=value ...}, with the event's SLF4J
 * key-value pairs and MDC entries as further pairs and an exception as {@code error} and
 * {@code stack}.
 *
 * <p>Exactly one line per event, whatever the values hold: a value with a space, quote, equals sign
 * or any control or line-separator character is quoted and escaped ({@code \n}, {@code \"},
 * {@code \\}, {@code \}{@code uXXXX}), so an organization named {@code "x\nlevel=ERROR"} cannot forge a
 * log line. Greppable by humans, parseable by logfmt tools (Loki, Vector, humanlog).
 */
public final class LogfmtLayout extends LayoutBase<ILoggingEvent> {
    /** Fixed width, UTC, milliseconds: lines sort and align as text. */
    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    @Override
    public String doLayout(ILoggingEvent event) {
        StringBuilder line = new StringBuilder(256);
        pair(line, "ts", TIMESTAMP.format(event.getInstant()));
        pair(line, "level", event.getLevel().toString());
        pair(line, "logger", event.getLoggerName());
        pair(line, "thread", event.getThreadName());
        pair(line, "msg", event.getFormattedMessage());
        List<KeyValuePair> pairs = event.getKeyValuePairs();
        if (pairs != null) {
            for (KeyValuePair p : pairs) {
                pair(line, p.key, String.valueOf(p.value));
            }
        }
        Map<String, String> mdc = event.getMDCPropertyMap();
        if (mdc != null) {
            mdc.forEach((k, v) -> pair(line, k, v));
        }
        IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown != null) {
            pair(line, "error", thrown.getClassName() + (thrown.getMessage() == null ? "" : ": " + thrown.getMessage()));
            pair(line, "stack", ThrowableProxyUtil.asString(thrown));
        }
        return line.append(CoreConstants.LINE_SEPARATOR).toString();
    }

    private static void pair(StringBuilder line, String key, String value) {
        if (line.length() > 0) {
            line.append(' ');
        }
        key(line, key);
        line.append('=');
        value(line, value);
    }

    /** Keys are ours, but MDC keys may come from a library: anything outside [A-Za-z0-9_.-] becomes '_'. */
    private static void key(StringBuilder line, String key) {
        if (key == null || key.isEmpty()) {
            line.append('_');
            return;
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            boolean plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
            line.append(plain ? c : '_');
        }
    }

    static void value(StringBuilder line, String value) {
        if (value == null) {
            line.append("null");
            return;
        }
        if (!value.isEmpty() && isBare(value)) {
            line.append(value);
            return;
        }
        line.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> line.append("\\\"");
                case '\\' -> line.append("\\\\");
                case '\n' -> line.append("\\n");
                case '\r' -> line.append("\\r");
                case '\t' -> line.append("\\t");
                default -> {
                    if (isControl(c)) {
                        line.append(String.format("\\u%04x", (int) c));
                    } else {
                        line.append(c);
                    }
                }
            }
        }
        line.append('"');
    }

    private static boolean isBare(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c <= ' ' || c == '"' || c == '=' || c == '\\' || isControl(c)) {
                return false;
            }
        }
        return true;
    }

    /** C0 and C1 controls, DEL, and the Unicode line and paragraph separators some viewers break lines at. */
    private static boolean isControl(char c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029';
    }
}
