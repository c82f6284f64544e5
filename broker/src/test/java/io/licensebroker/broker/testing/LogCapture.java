package io.licensebroker.broker.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.read.ListAppender;
import io.licensebroker.broker.app.BrokerSettings.LogFormat;
import io.licensebroker.broker.logging.Logging;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Captures what the process logs while open: the formatted output (through the broker's own
 * encoders, so a test sees exactly the bytes an operator would) and the events of one logger.
 * Adds to the running configuration instead of replacing it, and restores the level it changed.
 */
public final class LogCapture implements AutoCloseable {
    private final Logger root;
    private final Level previousLevel;
    private final OutputStreamAppender<ILoggingEvent> text;
    private final OutputStreamAppender<ILoggingEvent> json;
    private final ByteArrayOutputStream textBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream jsonBytes = new ByteArrayOutputStream();
    private final ListAppender<ILoggingEvent> events = new ListAppender<>();
    private final Logger watched;

    /** Captures everything at {@code level} and above, and the events of {@code logger}. */
    public LogCapture(Level level, String logger) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        this.root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        this.previousLevel = root.getLevel();
        this.text = appender(context, LogFormat.TEXT, textBytes, "capture-text");
        this.json = appender(context, LogFormat.JSON, jsonBytes, "capture-json");
        events.setContext(context);
        events.start();
        this.watched = context.getLogger(logger);
        watched.addAppender(events);
        root.addAppender(text);
        root.addAppender(json);
        root.setLevel(level);
    }

    private static OutputStreamAppender<ILoggingEvent> appender(LoggerContext context, LogFormat format, ByteArrayOutputStream sink, String name) {
        OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
        appender.setContext(context);
        appender.setName(name);
        appender.setEncoder(Logging.encoder(format, context));
        appender.setOutputStream(sink);
        appender.start();
        return appender;
    }

    /** The logfmt lines written so far. */
    public synchronized String text() {
        return textBytes.toString(StandardCharsets.UTF_8);
    }

    /** The JSON lines written so far. */
    public synchronized String json() {
        return jsonBytes.toString(StandardCharsets.UTF_8);
    }

    public List<ILoggingEvent> events() {
        return List.copyOf(events.list);
    }

    @Override
    public void close() {
        root.setLevel(previousLevel);
        root.detachAppender(text);
        root.detachAppender(json);
        watched.detachAppender(events);
        text.stop();
        json.stop();
        events.stop();
    }
}
