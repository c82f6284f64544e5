package io.licensebroker.broker.cli;

import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.proto.v1.LicensedUser;
import io.licensebroker.proto.v1.ListLicensedUsersRequest;
import io.licensebroker.proto.v1.ListLicensedUsersResponse;
import io.licensebroker.proto.v1.RemoveLicenseResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;

/** {@code licenses}: the seats of a seat product, the product documents' "Licensed Users". */
@Command(name = "licenses", mixinStandardHelpOptions = true,
        description = "Grant, remove, transfer and list the seats of a node-locked or floating product (Licensed Users).",
        subcommands = {LicensesCommand.Grant.class, LicensesCommand.Remove.class, LicensesCommand.Transfer.class,
                LicensesCommand.ListLicenses.class})
final class LicensesCommand extends CommandGroup {

    @Command(name = "grant", mixinStandardHelpOptions = true,
            description = "Gives a user a seat: one license of the pool, in use (Assigned) from now on. Refused "
                    + "INSUFFICIENT_LICENSES when the pool is full (seats never fall back); granting again shows the same seat.")
    static final class Grant extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Option(names = "--product", required = true, paramLabel = "<product>", description = "a node-locked or floating product")
        String product;

        @Option(names = "--user", required = true, paramLabel = "<user-id>")
        String user;

        @Option(names = "--pool", paramLabel = "<pool-id>",
                description = "the organization (or the account id) whose pool the seat draws from; default the user's assigned organization, else the account")
        String pool = "";

        @Override
        int run(LicenseAdminClient admin, Output out) {
            LicensedUser u = admin.grantLicense(account, product, user, pool);
            out.print(u, w -> table(List.of(u)).print(w));
            return ExitCode.OK;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Frees a user's seat and ends its activations (a floating one's next renewal answers "
                    + "SESSION_TERMINATED). Refused OFFLINE_BOUND while an offline license binds the seat.")
    static final class Remove extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Option(names = "--product", required = true, paramLabel = "<product>")
        String product;

        @Option(names = "--user", required = true, paramLabel = "<user-id>")
        String user;

        @Override
        int run(LicenseAdminClient admin, Output out) {
            RemoveLicenseResponse r = admin.removeLicense(account, product, user);
            out.print(r, w -> w.println(r.getRemoved()
                    ? "removed the " + product + " seat of " + user
                    : "user " + user + " held no " + product + " seat"));
            return ExitCode.OK;
        }
    }

    @Command(name = "transfer", mixinStandardHelpOptions = true,
            description = "Moves a seat from one user to another in one step (nobody can take it in between); the giver's "
                    + "activations end. Refused OFFLINE_BOUND while an offline license binds the seat.")
    static final class Transfer extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Option(names = "--product", required = true, paramLabel = "<product>")
        String product;

        @Option(names = "--from", required = true, paramLabel = "<user-id>", description = "the user holding the seat")
        String from;

        @Option(names = "--to", required = true, paramLabel = "<user-id>", description = "the user receiving it")
        String to;

        @Option(names = "--pool", paramLabel = "<pool-id>", description = "the pool the seat counts in afterwards; default where it was")
        String pool = "";

        @Override
        int run(LicenseAdminClient admin, Output out) {
            LicensedUser u = admin.transferLicense(account, product, from, to, pool);
            out.print(u, w -> table(List.of(u)).print(w));
            return ExitCode.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the licensed users of a product, one page at a time (or --all).")
    static final class ListLicenses extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Option(names = "--product", required = true, paramLabel = "<product>")
        String product;

        @Option(names = "--pool", paramLabel = "<pool-id>", description = "only seats of this pool")
        String pool = "";

        @Mixin
        Paging paging = new Paging();

        @Override
        int run(LicenseAdminClient admin, Output out) {
            ListLicensedUsersRequest.Builder request = ListLicensedUsersRequest.newBuilder().setAccountId(account).setProduct(product)
                    .setPoolId(pool).setPageSize(paging.pageSize);
            ListLicensedUsersResponse shown = paging.fetch(token -> admin.listLicensedUsers(request.setPageToken(token).build()),
                    ListLicensedUsersResponse::getNextPageToken, (page, next) -> page.toBuilder()
                            .addAllLicensedUsers(next.getLicensedUsersList()).setNextPageToken(next.getNextPageToken()).build());
            out.print(shown, w -> {
                table(shown.getLicensedUsersList()).print(w);
                Output.nextPage(w, shown.getNextPageToken());
            });
            return ExitCode.OK;
        }
    }

    /** Machine: where a node-locked seat is bound (empty until activated); Offline until: while a file binds it. */
    private static TextTable table(List<LicensedUser> users) {
        TextTable t = new TextTable().text("User").text("Product").text("Pool").text("Machine").text("Granted").text("Offline until");
        for (LicensedUser u : users) {
            t.row(u.getUserId(), u.getProduct(), u.getPoolId(), u.getMachineId(), Output.time(u.hasGrantedAt(), u.getGrantedAt()),
                    Output.time(u.hasOfflineUntil(), u.getOfflineUntil()));
        }
        return t;
    }
}
