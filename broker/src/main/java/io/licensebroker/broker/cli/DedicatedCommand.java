package io.licensebroker.broker.cli;

import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.proto.v1.LicenseUsage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "dedicated", mixinStandardHelpOptions = true, description = "Assign or revoke an organization's dedicated licenses.",
        subcommands = {DedicatedCommand.Set.class, DedicatedCommand.Revoke.class})
final class DedicatedCommand extends CommandGroup {

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = "Sets the organization's dedicated licenses (0 revokes) and shows the account's usage afterwards.")
    static final class Set extends AdminCommand {
        @Option(names = "--org", required = true, paramLabel = "<org-id>")
        String org;

        @Option(names = "--product", paramLabel = "<product>", description = "default KRE")
        String product = "";

        @Option(names = "--licenses", required = true, paramLabel = "<n>")
        long licenses;

        @Override
        int run(LicenseAdminClient admin, Output out) {
            LicenseUsage usage = admin.setDedicatedLicenses(org, product, licenses);
            out.print(usage, w -> UsageCommand.print(usage, w));
            return ExitCode.OK;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revokes the dedicated licenses of the organization and its whole subtree; live sessions move to the parent.")
    static final class Revoke extends AdminCommand {
        @Option(names = "--org", required = true, paramLabel = "<org-id>")
        String org;

        @Option(names = "--product", paramLabel = "<product>", description = "default KRE")
        String product = "";

        @Override
        int run(LicenseAdminClient admin, Output out) {
            LicenseUsage usage = admin.revokeDedicatedLicenses(org, product);
            out.print(usage, w -> UsageCommand.print(usage, w));
            return ExitCode.OK;
        }
    }
}
