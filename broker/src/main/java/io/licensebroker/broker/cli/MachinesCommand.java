package io.licensebroker.broker.cli;

import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.proto.v1.DeactivateMachineResponse;
import io.licensebroker.proto.v1.ListMachinesResponse;
import io.licensebroker.proto.v1.Machine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "machines", mixinStandardHelpOptions = true, description = "List registered machines and deactivate them.",
        subcommands = {MachinesCommand.ListMachines.class, MachinesCommand.Deactivate.class})
final class MachinesCommand extends CommandGroup {

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the machines registered against the subscription's machine quota.")
    static final class ListMachines extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Option(names = "--product", paramLabel = "<product>", description = "default KRE")
        String product = "";

        @Override
        int run(LicenseAdminClient admin, Output out) {
            ListMachinesResponse machines = admin.listMachines(account, product);
            out.print(machines, w -> {
                TextTable t = new TextTable().text("Machine").text("Product").text("Registered").number("Live sessions").text("Offline until");
                for (Machine m : machines.getMachinesList()) {
                    t.row(m.getMachineId(), m.getProduct(), Output.time(m.hasRegisteredAt(), m.getRegisteredAt()), m.getLiveSessions(),
                            Output.time(m.hasOfflineExpiresAt(), m.getOfflineExpiresAt()));
                }
                t.print(w);
            });
            return ExitCode.OK;
        }
    }

    @Command(name = "deactivate", mixinStandardHelpOptions = true,
            description = "Unregisters a machine (freeing machine quota) and ends its live sessions.")
    static final class Deactivate extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Option(names = "--machine", required = true, paramLabel = "<machine-id>")
        String machine;

        @Option(names = "--product", paramLabel = "<product>", description = "default KRE")
        String product = "";

        @Override
        int run(LicenseAdminClient admin, Output out) {
            DeactivateMachineResponse r = admin.deactivateMachine(account, product, machine);
            out.print(r, w -> w.println(r.getDeactivated()
                    ? "deactivated " + machine
                    : "machine " + machine + " was not registered"));
            return ExitCode.OK;
        }
    }
}
