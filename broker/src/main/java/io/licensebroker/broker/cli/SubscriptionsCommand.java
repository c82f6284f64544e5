package io.licensebroker.broker.cli;

import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.Subscription;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Instant;

@Command(name = "subscriptions", mixinStandardHelpOptions = true, description = "Set and show an account's subscription of a product.",
        subcommands = {SubscriptionsCommand.Set.class, SubscriptionsCommand.Show.class})
final class SubscriptionsCommand extends CommandGroup {

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = "Sets licenses, machine quota, expiry and license model (SUPER_ADMIN). Lowering licenses below what "
                    + "is in use or allocated is refused.")
    static final class Set extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Option(names = "--product", paramLabel = "<product>", description = "default KRE")
        String product = "";

        @Option(names = "--licenses", required = true, paramLabel = "<n>", description = "licenses bought")
        long licenses;

        @Option(names = "--machine-quota", required = true, paramLabel = "<n>", description = "machines that may be registered at once")
        long machineQuota;

        @Option(names = "--expires-at", required = true, paramLabel = "<when>", converter = Converters.Expiry.class,
                description = "2027-01-01T00:00:00Z, 2027-01-01 (its start, UTC) or a duration from now (365d)")
        Instant expiresAt;

        @Option(names = "--model", paramLabel = "<model>", converter = Converters.Model.class,
                description = "session (one license per live session, KRE), node-locked (a seat per licensed user, bound to one "
                        + "machine) or floating (a seat per licensed user, one machine at a time); default session. "
                        + "Changing it while sessions or seats exist is refused LICENSE_MODEL_MISMATCH")
        LicenseModel model = LicenseModel.LICENSE_MODEL_SESSION;

        @Override
        int run(LicenseAdminClient admin, Output out) {
            Subscription s = admin.setSubscription(account, product, licenses, machineQuota, expiresAt, model);
            out.print(s, w -> table(s).print(w));
            return ExitCode.OK;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows the subscription.")
    static final class Show extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Option(names = "--product", paramLabel = "<product>", description = "default KRE")
        String product = "";

        @Override
        int run(LicenseAdminClient admin, Output out) {
            Subscription s = admin.getSubscription(account, product);
            out.print(s, w -> table(s).print(w));
            return ExitCode.OK;
        }
    }

    private static TextTable table(Subscription s) {
        return new TextTable().text("Account").text("Product").text("Model").number("Licenses").number("Machine quota").text("Expires at")
                .row(s.getAccountId(), s.getProduct(), Converters.modelName(s.getLicenseModel()), s.getLicenses(), s.getMachineQuota(),
                        Output.time(s.hasExpiresAt(), s.getExpiresAt()));
    }
}
