package io.licensebroker.broker.cli;

import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.CreateAdminTokenResponse;
import io.licensebroker.proto.v1.CreateApiKeyResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code api-keys} and {@code admin-tokens}. A new secret goes alone on stdout, so
 * {@code KEY=$(license-broker api-keys create ...)} works; the "shown once" note goes to stderr.
 */
final class CredentialsCommands {
    private static final String SHOWN_ONCE = "shown once: the broker stores only its hash";

    private CredentialsCommands() {
    }

    @Command(name = "api-keys", mixinStandardHelpOptions = true, description = "Create API keys for agents of a user.",
            subcommands = {ApiKeys.Create.class})
    static final class ApiKeys extends CommandGroup {

        @Command(name = "create", mixinStandardHelpOptions = true, description = "Creates an API key of the user; printed once.")
        static final class Create extends AdminCommand {
            @Option(names = "--account", required = true, paramLabel = "<account-id>")
            String account;

            @Option(names = "--user", required = true, paramLabel = "<user-id>")
            String user;

            @Override
            int run(LicenseAdminClient admin, Output out) {
                CreateApiKeyResponse key = admin.createApiKey(account, user);
                out.print(key, w -> w.println(key.getApiKey()));
                spec.commandLine().getErr().println("api key of " + user + " in " + account + " " + SHOWN_ONCE);
                return ExitCode.OK;
            }
        }
    }

    @Command(name = "admin-tokens", mixinStandardHelpOptions = true, description = "Create admin tokens.",
            subcommands = {AdminTokens.Create.class})
    static final class AdminTokens extends CommandGroup {

        @Command(name = "create", mixinStandardHelpOptions = true,
                description = "Creates an admin token; printed once. SUPER_ADMIN tokens only by a SUPER_ADMIN.")
        static final class Create extends AdminCommand {
            @Option(names = "--role", required = true, paramLabel = "<role>", converter = Converters.Role.class,
                    description = "account-admin or super-admin")
            AdminRole role;

            @Option(names = "--account", paramLabel = "<account-id>", description = "required for account-admin")
            String account = "";

            @Override
            int run(LicenseAdminClient admin, Output out) {
                CreateAdminTokenResponse token = admin.createAdminToken(account, role);
                out.print(token, w -> w.println(token.getToken()));
                spec.commandLine().getErr().println(role == AdminRole.ADMIN_ROLE_SUPER_ADMIN
                        ? "super-admin token " + SHOWN_ONCE : "account-admin token of " + account + " " + SHOWN_ONCE);
                return ExitCode.OK;
            }
        }
    }
}
