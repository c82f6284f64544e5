package io.licensebroker.broker.cli;

import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.client.LicenseBrokerException;
import io.grpc.Status;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

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

    @Override
    public final Integer call() {
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
        if (e.isUnreachable()) {
            return "cannot reach the broker at " + targets + " (" + e.getMessage() + ")";
        }
        if (e.code() == Status.Code.UNAUTHENTICATED) {
            return e.getMessage() + " (check --token or " + AdminOptions.TOKEN_ENV + ")";
        }
        return e.getMessage();
    }
}
