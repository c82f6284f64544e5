package io.licensebroker.broker.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.licensebroker.broker.app.BrokerSettings.LogFormat;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Both log formats write exactly one line per event, whatever the event holds. */
final class LogfmtLayoutTest {
    /** The process's own context: a bare one has no MDC adapter, which events read. */
    private final LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    private final LogfmtLayout layout = new LogfmtLayout();

    LogfmtLayoutTest() {
        layout.setContext(context);
        layout.start();
    }

    @Test
    void plainValuesStayBareAndTheRestIsQuotedAndEscaped() {
        LoggingEvent event = event("admin change", null);
        event.addKeyValuePair(new KeyValuePair("rpc", "SetDedicatedLicenses"));
        event.addKeyValuePair(new KeyValuePair("dedicated", "5 -> 8"));
        event.addKeyValuePair(new KeyValuePair("name", "Ops \"EU\"\nlevel=ERROR msg=forged\\x"));
        event.addKeyValuePair(new KeyValuePair("empty", ""));
        event.addKeyValuePair(new KeyValuePair("count", 3));
        event.addKeyValuePair(new KeyValuePair("odd key!", "a=b"));
        event.addKeyValuePair(new KeyValuePair("sep", "x\u2028y\u0085z\u0001"));
        String line = layout.doLayout(event);
        assertTrue(line.matches("ts=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z level=INFO logger=io.licensebroker.test thread=main msg=\"admin change\" .*\n"), line);
        assertTrue(line.endsWith(" rpc=SetDedicatedLicenses dedicated=\"5 -> 8\" name=\"Ops \\\"EU\\\"\\nlevel=ERROR msg=forged\\\\x\""
                + " empty=\"\" count=3 odd_key_=\"a=b\" sep=\"x\\u2028y\\u0085z\\u0001\"\n"), line);
        assertEquals(1, line.split("\n", -1).length - 1, "one line");
    }

    @Test
    void anExceptionIsOneLineToo() {
        String line = layout.doLayout(event("lease reaping failed", new IllegalStateException("store\nunavailable")));
        assertEquals(1, line.split("\n", -1).length - 1, line);
        assertTrue(line.contains(" error=\"java.lang.IllegalStateException: store\\nunavailable\" stack=\"java.lang.IllegalStateException: store\\nunavailable\\n\\tat "), line);
    }

    @Test
    void jsonIsOneObjectPerLineWithTheKeyValuePairsAsFields() throws Exception {
        var encoder = Logging.encoder(LogFormat.JSON, context);
        LoggingEvent event = event("admin change", new IllegalStateException("boom"));
        event.addKeyValuePair(new KeyValuePair("rpc", "SetUsagePolicy"));
        event.addKeyValuePair(new KeyValuePair("policy", "UNRESTRICTED -> STRICT"));
        event.addKeyValuePair(new KeyValuePair("name", "line\nbreak"));
        String out = new String(encoder.encode(event), StandardCharsets.UTF_8);
        List<String> lines = new ArrayList<>(List.of(out.split("\n")));
        assertEquals(1, lines.size(), out);
        JsonNode json = new ObjectMapper().readTree(lines.get(0));
        assertEquals("admin change", json.get("message").asText());
        assertEquals("INFO", json.get("level").asText());
        assertEquals("io.licensebroker.test", json.get("logger_name").asText());
        assertEquals("SetUsagePolicy", json.get("rpc").asText());
        assertEquals("UNRESTRICTED -> STRICT", json.get("policy").asText());
        assertEquals("line\nbreak", json.get("name").asText());
        assertTrue(json.get("stack_trace").asText().startsWith("java.lang.IllegalStateException: boom"));
        assertTrue(json.has("@timestamp"));
    }

    private LoggingEvent event(String message, Throwable thrown) {
        LoggingEvent event = new LoggingEvent("test", context.getLogger("io.licensebroker.test"), Level.INFO, message, thrown, null);
        event.setThreadName("main");
        return event;
    }
}
