package io.licensebroker.broker.cli;

import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.proto.v1.Activation;
import io.licensebroker.proto.v1.ListActivationsRequest;
import io.licensebroker.proto.v1.ListActivationsResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code activations list}: seats in use on machines, the product documents' "Online Licenses". */
@Command(name = "activations", mixinStandardHelpOptions = true,
        description = "List the activations of a seat product (Online Licenses): node-locked bindings and live floating leases.",
        subcommands = {ActivationsCommand.ListActivations.class})
final class ActivationsCommand extends CommandGroup {

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Lists activations, one page at a time (or --all). A node-locked binding has no lease end; "
                    + "it stays until an admin deactivates its machine.")
    static final class ListActivations extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Option(names = "--product", required = true, paramLabel = "<product>")
        String product;

        @Option(names = "--user", paramLabel = "<user-id>", description = "only this user's activations")
        String user = "";

        @Mixin
        Paging paging = new Paging();

        @Override
        int run(LicenseAdminClient admin, Output out) {
            ListActivationsRequest.Builder request = ListActivationsRequest.newBuilder().setAccountId(account).setProduct(product)
                    .setUserId(user).setPageSize(paging.pageSize);
            ListActivationsResponse shown = paging.fetch(token -> admin.listActivations(request.setPageToken(token).build()),
                    ListActivationsResponse::getNextPageToken, (page, next) -> page.toBuilder()
                            .addAllActivations(next.getActivationsList()).setNextPageToken(next.getNextPageToken()).build());
            out.print(shown, w -> {
                TextTable t = new TextTable().text("Activation id").text("User").text("Machine").text("Product").text("Pool")
                        .text("Activated").text("Lease expires");
                for (Activation a : shown.getActivationsList()) {
                    t.row(a.getActivationId(), a.getUserId(), a.getMachineId(), a.getProduct(), a.getPoolId(),
                            Output.time(a.hasActivatedAt(), a.getActivatedAt()), Output.time(a.hasLeaseExpiresAt(), a.getLeaseExpiresAt()));
                }
                t.print(w);
                Output.nextPage(w, shown.getNextPageToken());
            });
            return ExitCode.OK;
        }
    }
}
