package io.licensebroker.broker.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/** {@code java -jar license-broker.jar <command>}. */
@Command(name = "license-broker", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "License Broker: session and seat licenses under hard quotas, over gRPC.",
        subcommands = {CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, System.getenv()));
    }

    /** Runs a command line; answers the process exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        CommandLine cli = new CommandLine(new Main());
        cli.addSubcommand("serve", ServeCommand.commandLine(out, env));
        // The admin commands: gRPC clients of a running broker (--target, --token).
        for (Class<?> admin : List.of(AccountsCommand.class, SubscriptionsCommand.class, OrganizationsCommand.class,
                DedicatedCommand.class, UsersCommand.class, CredentialsCommands.ApiKeys.class, CredentialsCommands.AdminTokens.class,
                PolicyCommand.class, UsageCommand.class, SessionsCommand.class, MachinesCommand.class, OfflineCommand.class,
                LicensesCommand.class, ActivationsCommand.class, ReportCommand.class, AgentCommand.class)) {
            cli.addSubcommand(admin);
        }
        // Set after every subcommand is added: these settings apply to the commands present at the call.
        cli.setDefaultValueProvider(AdminOptions.environment(env));
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        // Every failure is one line on stderr: a person reads the reason, a script the exit code.
        cli.setParameterExceptionHandler((e, ignored) -> {
            e.getCommandLine().getErr().println("error: " + OneLine.of(e) + " (see '"
                    + e.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
            return ExitCode.USAGE;
        });
        cli.setExecutionExceptionHandler((e, commandLine, ignored) -> {
            commandLine.getErr().println("error: " + OneLine.of(e));
            return ExitCode.FAILED;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "name a command, e.g. 'serve' or 'usage'; see --help");
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"license-broker " + (v == null ? "dev" : v)};
        }
    }
}
