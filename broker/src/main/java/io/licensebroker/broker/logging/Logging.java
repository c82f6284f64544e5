package io.licensebroker.broker.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.jul.LevelChangePropagator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.Context;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import io.licensebroker.broker.app.BrokerSettings.LogFormat;
import net.logstash.logback.encoder.LogstashEncoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

import java.util.List;

/**
 * One logging backend for everything: the broker logs through SLF4J to Logback; the JDK-only core
 * and store use {@code System.Logger}, which {@code slf4j-jdk-platform-logging} routes to SLF4J;
 * grpc-java and Netty use {@code java.util.logging}, routed by {@code jul-to-slf4j}. Logback writes
 * one event per line on stderr (stdout carries the lines meant for the operator, such as
 * {@code listening on <port>}), as logfmt ({@link LogfmtLayout}) or as JSON (logstash-logback-encoder).
 *
 * <p>{@code logback.xml} in the jar sets the same text format up for the moments before the
 * settings are read; {@link #configure} then applies {@code --log-format} and {@code --log-level}.
 * An operator who brings a Logback file ({@code -Dlogback.configurationFile=...}) keeps it: those
 * two settings are then left to that file, and so is capping {@link #CAPPED_AT_INFO}.
 */
public final class Logging {
    /** Logback's own property naming an operator's configuration file. */
    static final String OPERATOR_FILE_PROPERTY = "logback.configurationFile";

    /**
     * Loggers that print secrets below INFO, held at INFO whatever the log level: grpc-java's
     * HTTP/2 frame loggers dump every request's headers (the bearer token) and the first bytes of
     * every message (a new API key, in hex) at DEBUG. Mirrored in {@code logback.xml}.
     */
    public static final List<String> CAPPED_AT_INFO = List.of(
            "io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler",
            "io.grpc.netty.shaded.io.grpc.netty.NettyClientHandler");

    private Logging() {
    }

    /** Applies the format and level to the whole process; routes java.util.logging to SLF4J. */
    public static void configure(LogFormat format, String level) {
        routeJavaUtilLogging();
        if (System.getProperty(OPERATOR_FILE_PROPERTY) != null) {
            LoggerFactory.getLogger(Logging.class).info("logging configured by {}; --log-format and --log-level are left to it",
                    System.getProperty(OPERATOR_FILE_PROPERTY));
            return;
        }
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        context.reset();
        // Keeps java.util.logging's levels in step with Logback's, so disabled JUL logging costs nothing.
        LevelChangePropagator propagator = new LevelChangePropagator();
        propagator.setContext(context);
        propagator.setResetJUL(true);
        context.addListener(propagator);
        propagator.start();

        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName("console");
        console.setTarget("System.err");
        console.setEncoder(encoder(format, context));
        console.start();

        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(level, Level.INFO));
        root.addAppender(console);
        for (String name : CAPPED_AT_INFO) {
            context.getLogger(name).setLevel(Level.INFO);
        }
    }

    /** A started encoder writing {@code format}, one event per line. */
    public static Encoder<ILoggingEvent> encoder(LogFormat format, Context context) {
        Encoder<ILoggingEvent> encoder;
        if (format == LogFormat.JSON) {
            LogstashEncoder json = new LogstashEncoder();
            // The event's SLF4J key-value pairs become top-level fields, as in the text format.
            json.setIncludeKeyValuePairs(true);
            encoder = json;
        } else {
            LogfmtLayout layout = new LogfmtLayout();
            layout.setContext(context);
            layout.start();
            LayoutWrappingEncoder<ILoggingEvent> text = new LayoutWrappingEncoder<>();
            text.setLayout(layout);
            encoder = text;
        }
        encoder.setContext(context);
        encoder.start();
        return encoder;
    }

    private static synchronized void routeJavaUtilLogging() {
        if (!SLF4JBridgeHandler.isInstalled()) {
            SLF4JBridgeHandler.removeHandlersForRootLogger();
            SLF4JBridgeHandler.install();
        }
    }
}
