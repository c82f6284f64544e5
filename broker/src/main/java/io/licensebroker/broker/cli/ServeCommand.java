package io.licensebroker.broker.cli;

import io.licensebroker.broker.app.BrokerNode;
import io.licensebroker.broker.app.BrokerSettings;
import io.licensebroker.broker.app.Setting;
import io.licensebroker.broker.logging.Logging;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;
import sun.misc.Signal;

import java.io.PrintStream;
import java.time.Clock;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code serve}: runs one broker node until SIGTERM or SIGINT, then drains and exits 0. Its options
 * are built from {@link Setting}, the one list of settings.
 */
final class ServeCommand implements Callable<Integer> {
    private static final String DEMO = "--demo";
    private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

    private final PrintStream out;
    private final Map<String, String> env;
    private CommandSpec spec;

    private ServeCommand(PrintStream out, Map<String, String> env) {
        this.out = out;
        this.env = env;
    }

    static CommandLine commandLine(PrintStream out, Map<String, String> env) {
        ServeCommand command = new ServeCommand(out, env);
        CommandSpec spec = CommandSpec.wrapWithoutInspection(command);
        spec.name("serve");
        spec.usageMessage().description("Starts a broker node (embedded durable store by default).");
        spec.mixinStandardHelpOptions(true);
        for (Setting s : Setting.values()) {
            spec.addOption(OptionSpec.builder(s.flag())
                    .paramLabel("<" + s.name().toLowerCase().replace('_', '-') + ">")
                    .type(String.class)
                    .description(s.description() + " [env " + s.env() + (s.defaultValue() == null ? "" : ", default " + s.defaultValue()) + "]")
                    .build());
        }
        spec.addOption(OptionSpec.builder(DEMO).arity("0")
                .description("also load a demo account (200 KRE licenses; organizations with 20, 10, 1 and 5) and print its tokens")
                .build());
        command.spec = spec;
        return new CommandLine(spec);
    }

    @Override
    public Integer call() {
        ParseResult parsed = spec.commandLine().getParseResult();
        Map<Setting, String> flags = new EnumMap<>(Setting.class);
        for (Setting s : Setting.values()) {
            if (parsed.hasMatchedOption(s.flag())) {
                flags.put(s, parsed.matchedOptionValue(s.flag(), (String) null));
            }
        }
        BrokerSettings settings;
        try {
            settings = BrokerSettings.resolve(flags, env);
        } catch (BrokerSettings.InvalidSettingsException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return 2;
        }
        Logging.configure(settings.logFormat(), settings.logLevel());
        LOG.atInfo().setMessage("starting").addKeyValue("settings", settings).log();
        CountDownLatch stop = new CountDownLatch(1);
        stopOn("TERM", stop);
        stopOn("INT", stop);
        BrokerNode node;
        try {
            node = BrokerNode.start(settings, parsed.hasMatchedOption(DEMO), Clock.systemUTC(), out);
        } catch (BrokerSettings.InvalidSettingsException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return 2;
        } catch (RuntimeException e) {
            // A corrupt journal, a damaged key, an unusable data directory: one line for the
            // operator (the messages say what to do); the stack only for whoever debugs it.
            LOG.atDebug().setMessage("start failed").setCause(e).log();
            spec.commandLine().getErr().println("cannot start: " + oneLine(e));
            return 1;
        }
        out.println("metrics on " + node.metricsPort());
        out.println("console on " + node.consolePort());
        out.println("listening on " + node.port());
        out.flush();
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        node.close();
        out.println("stopped");
        return 0;
    }

    /** Replaces the JVM's default handling (an abrupt exit through shutdown hooks) by a graceful stop. */
    private static void stopOn(String signal, CountDownLatch stop) {
        Signal.handle(new Signal(signal), sig -> {
            LOG.atInfo().setMessage("signal received; shutting down").addKeyValue("signal", "SIG" + sig.getName()).log();
            stop.countDown();
        });
    }

    /** The message of {@code e} and of its causes, as long as they add something, on one line. */
    static String oneLine(Throwable e) {
        StringBuilder line = new StringBuilder(String.valueOf(e.getMessage() == null ? e : e.getMessage()));
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            String m = c.getMessage() == null ? c.toString() : c.getMessage();
            if (!line.toString().contains(m)) {
                line.append(": ").append(m);
            }
        }
        return line.toString().replace('\n', ' ').replace('\r', ' ');
    }
}
