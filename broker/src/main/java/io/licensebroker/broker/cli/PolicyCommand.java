package io.licensebroker.broker.cli;

import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.proto.v1.UsagePolicy;
import io.licensebroker.proto.v1.UsagePolicySettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "policy", mixinStandardHelpOptions = true, description = "Set, show or restore an account's usage policy.",
        subcommands = {PolicyCommand.Set.class, PolicyCommand.Show.class, PolicyCommand.RestoreDefault.class})
final class PolicyCommand extends CommandGroup {

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Sets the usage policy and whether users may fall back to the account pool.")
    static final class Set extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Option(names = "--policy", required = true, paramLabel = "<policy>", converter = Converters.Policy.class,
                description = "unrestricted, member-based or strict")
        UsagePolicy policy;

        @Option(names = "--fallback", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "fall back to the account pool when the user's organization pools are exhausted (default); --no-fallback denies instead")
        boolean fallback;

        @Override
        int run(LicenseAdminClient admin, Output out) {
            UsagePolicySettings s = admin.setUsagePolicy(account, policy, fallback);
            out.print(s, w -> table(s).print(w));
            return ExitCode.OK;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows the usage policy.")
    static final class Show extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Override
        int run(LicenseAdminClient admin, Output out) {
            UsagePolicySettings s = admin.getUsagePolicy(account);
            out.print(s, w -> table(s).print(w));
            return ExitCode.OK;
        }
    }

    @Command(name = "restore-default", mixinStandardHelpOptions = true, description = "Restores the default: unrestricted, with fallback.")
    static final class RestoreDefault extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Override
        int run(LicenseAdminClient admin, Output out) {
            UsagePolicySettings s = admin.restoreDefaultUsagePolicy(account);
            out.print(s, w -> table(s).print(w));
            return ExitCode.OK;
        }
    }

    private static TextTable table(UsagePolicySettings s) {
        return new TextTable().text("Policy").text("Fallback").row(Converters.policyName(s.getPolicy()), Output.yesNo(s.getAllowFallback()));
    }
}
