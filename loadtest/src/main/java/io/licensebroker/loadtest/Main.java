package io.licensebroker.loadtest;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintStream;
import java.io.PrintWriter;

/** {@code java -jar loadtest/target/license-loadtest.jar <run|compare|scale>}. */
@Command(name = "license-loadtest", mixinStandardHelpOptions = true,
        description = "Load tester and benchmarks for License Broker.",
        subcommands = {RunCommand.class, CompareCommand.class, ScaleCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args, System.err));
    }

    /** Runs a command line; a failure is one line on {@code err} (exit 1), not a stack trace. */
    static int run(String[] args, PrintStream err) {
        CommandLine cli = new CommandLine(new Main());
        cli.setErr(new PrintWriter(err, true));
        cli.setExecutionExceptionHandler((e, commandLine, ignored) -> {
            String message = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
            commandLine.getErr().println("error: " + message);
            return 1;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "name a command: run, compare or scale");
    }
}
