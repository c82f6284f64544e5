package io.licensebroker.loadtest;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar loadtest/target/license-loadtest.jar <run|compare|scale>}. */
@Command(name = "license-loadtest", mixinStandardHelpOptions = true,
        description = "Load tester and benchmarks for License Broker.",
        subcommands = {RunCommand.class, CompareCommand.class, ScaleCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "name a command: run, compare or scale");
    }
}
