package io.licensebroker.broker.cli;

import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.client.LicenseBrokerException;
import io.grpc.Status;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import javax.net.ssl.SSLException;
import java.util.concurrent.Callable;

/**
 * An admin command: connects with the shared {@link AdminOptions}, runs, and turns failures into
 * one clear line on stderr and an exit code ({@link ExitCode}): refusals name the status code, the
 * contract reason and the field; an unreachable broker names the target.
 */
abstract class AdminCommand implements Callable<Integer> {
    @Mixin
    AdminOptions options;

    @Spec
    CommandSpec spec;

    /** Does the command's work; answers the exit code (normally {@link ExitCode#OK}). */
    abstract int run(LicenseAdminClient admin, Output out);

    /** Whether the command prints {@code --output csv}; the others refuse it before calling the broker. */
    boolean printsCsv() {
        return false;
    }

    /** Checks of options picocli cannot express, before connecting; throws a usage error. */
    void checkOptions() {
    }

    @Override
    public final Integer call() {
        if (options.output == AdminOptions.Format.CSV && !printsCsv()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--output csv is for usage history and report denials");
        }
        checkOptions();
        LicenseAdminClient admin = options.connect(spec.commandLine());
        try (admin) {
            return run(admin, new Output(spec.commandLine().getOut(), options.output));
        } catch (LicenseBrokerException e) {
            spec.commandLine().getErr().println("error: " + describe(e, admin.targets()));
            return e.isUnreachable() ? ExitCode.UNREACHABLE : ExitCode.FAILED;
        } catch (CommandFailure e) {
            spec.commandLine().getErr().println("error: " + e.getMessage());
            return ExitCode.FAILED;
        }
    }

    static String describe(LicenseBrokerException e, String targets) {
        SSLException tls = OneLine.cause(e, SSLException.class);
        if (tls != null) {
            return "TLS with the broker at " + targets + " failed (" + OneLine.of(tls)
                    + "); check that --trust-cert holds the CA that signed the broker's certificate and --authority its name";
        }
        if (e.isUnreachable()) {
            return "cannot reach the broker at " + targets + " (" + OneLine.first(e) + ")";
        }
        if (e.code() == Status.Code.UNAUTHENTICATED) {
            return OneLine.first(e) + (e.getMessage().contains("client certificate")
                    ? " (pass --client-cert and --client-key, a certificate the broker's --tls-client-ca signed)"
                    : " (check --token or " + AdminOptions.TOKEN_ENV + ")");
        }
        return OneLine.first(e);
    }
}
