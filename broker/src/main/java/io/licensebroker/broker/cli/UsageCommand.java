package io.licensebroker.broker.cli;

import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.proto.v1.LicenseUsage;
import io.licensebroker.proto.v1.PoolRow;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.List;

/** {@code usage}: the license management table, exactly the figures of GetLicenseUsage. */
@Command(name = "usage", mixinStandardHelpOptions = true, subcommands = UsageHistoryCommand.class,
        description = "Shows the license management table of an account: every pool with its dedicated, pool, in-use "
                + "(the console's Assigned: live sessions, and seats granted to licensed users) and available licenses, "
                + "and the account's totals. 'usage history' shows how it went over time.")
final class UsageCommand extends AdminCommand {
    // Not required to picocli, which would then ask for it before 'usage history' too; checkOptions requires it.
    @Option(names = "--account", paramLabel = "<account-id>", description = "required")
    String account;

    @Option(names = "--product", paramLabel = "<product>", description = "default KRE")
    String product = "";

    @Override
    void checkOptions() {
        if (account == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Missing required option: '--account=<account-id>'");
        }
    }

    @Override
    int run(LicenseAdminClient admin, Output out) {
        LicenseUsage usage = admin.getLicenseUsage(account, product);
        out.print(usage, w -> print(usage, w));
        return ExitCode.OK;
    }

    /**
     * The account's totals, then one row per pool: the account row first, organizations parents
     * before children, as the broker lists them.
     */
    static void print(LicenseUsage usage, PrintWriter out) {
        Output.fields(out, List.of(
                Output.field("Account", usage.getAccountId()),
                Output.field("Product", usage.getProduct()),
                Output.field("License model", Converters.modelName(usage.getLicenseModel())),
                Output.field("Licenses", usage.getLicenses()),
                Output.field("Machine quota", usage.getMachineQuota()),
                Output.field("Registered machines", usage.getRegisteredMachines()),
                Output.field("Offline licenses", usage.getOfflineLicenses()),
                Output.field("Expires at", Output.time(usage.hasExpiresAt(), usage.getExpiresAt()))));
        out.println();
        TextTable table = new TextTable().text("Pool id").text("Name").text("Parent")
                .number("Dedicated").number("Pool").number("In use").number("Available");
        for (PoolRow r : usage.getRowsList()) {
            table.row(r.getPoolId(), r.getName(), r.getParentId(), r.getDedicated(), r.getPool(), r.getInUse(), r.getAvailable());
        }
        table.print(out);
    }
}
