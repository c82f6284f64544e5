package io.licensebroker.broker.cli;

import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.proto.v1.ListUsersResponse;
import io.licensebroker.proto.v1.User;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

@Command(name = "users", mixinStandardHelpOptions = true, description = "Create or change users and list them.",
        subcommands = {UsersCommand.Upsert.class, UsersCommand.ListUsers.class})
final class UsersCommand extends CommandGroup {

    @Command(name = "upsert", mixinStandardHelpOptions = true,
            description = "Creates the user or replaces its assigned organization and project memberships.")
    static final class Upsert extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Option(names = "--user", required = true, paramLabel = "<user-id>")
        String user;

        @Option(names = "--org", paramLabel = "<org-id>", description = "assigned organization; omitted: the user draws from the account pool")
        String org = "";

        @Option(names = "--project-org", paramLabel = "<org-id>", split = ",",
                description = "an organization where the user is a project member (repeat, or separate with commas)")
        List<String> projectOrgs = new ArrayList<>();

        @Override
        int run(LicenseAdminClient admin, Output out) {
            User u = admin.upsertUser(account, user, org, projectOrgs);
            out.print(u, w -> table(List.of(u)).print(w));
            return ExitCode.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the account's users.")
    static final class ListUsers extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Override
        int run(LicenseAdminClient admin, Output out) {
            ListUsersResponse users = admin.listUsers(account);
            out.print(users, w -> table(users.getUsersList()).print(w));
            return ExitCode.OK;
        }
    }

    private static TextTable table(List<User> users) {
        TextTable t = new TextTable().text("User").text("Assigned org").text("Project orgs");
        users.forEach(u -> t.row(u.getUserId(), u.getAssignedOrgId(), String.join(",", u.getProjectOrgIdsList())));
        return t;
    }
}
