package io.licensebroker.broker.cli;

import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.proto.v1.Account;
import io.licensebroker.proto.v1.ListAccountsResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;

@Command(name = "accounts", mixinStandardHelpOptions = true, description = "Create and list accounts (SUPER_ADMIN).",
        subcommands = {AccountsCommand.Create.class, AccountsCommand.ListAccounts.class})
final class AccountsCommand extends CommandGroup {

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Creates an account.")
    static final class Create extends AdminCommand {
        @Option(names = "--id", paramLabel = "<account-id>", description = "1-64 characters of [A-Za-z0-9_-]; generated when omitted")
        String id = "";

        @Option(names = "--name", required = true, paramLabel = "<name>", description = "display name")
        String name;

        @Override
        int run(LicenseAdminClient admin, Output out) {
            Account account = admin.createAccount(id, name);
            out.print(account, w -> table(List.of(account)).print(w));
            return ExitCode.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists every account.")
    static final class ListAccounts extends AdminCommand {
        @Override
        int run(LicenseAdminClient admin, Output out) {
            ListAccountsResponse accounts = admin.listAccounts();
            out.print(accounts, w -> table(accounts.getAccountsList()).print(w));
            return ExitCode.OK;
        }
    }

    private static TextTable table(List<Account> accounts) {
        TextTable t = new TextTable().text("Account id").text("Name");
        accounts.forEach(a -> t.row(a.getAccountId(), a.getName()));
        return t;
    }
}
