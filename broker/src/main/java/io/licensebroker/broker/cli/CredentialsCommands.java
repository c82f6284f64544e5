package io.licensebroker.broker.cli;

import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.CreateAdminTokenResponse;
import io.licensebroker.proto.v1.CreateApiKeyResponse;
import io.licensebroker.proto.v1.RevokeAdminTokenResponse;
import io.licensebroker.proto.v1.RevokeApiKeyResponse;
import picocli.CommandLine;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code api-keys} and {@code admin-tokens}. A new secret goes alone on stdout, so
 * {@code KEY=$(license-broker api-keys create ...)} works; the "shown once" note and the id to
 * revoke it by go to stderr. The id is also the part of the secret between "lb_" and the next "_",
 * and {@code revoke} accepts the whole secret too (it sends only the id).
 */
final class CredentialsCommands {
    private static final String SHOWN_ONCE = "shown once: the broker stores only its hash";

    private CredentialsCommands() {
    }

    @Command(name = "api-keys", mixinStandardHelpOptions = true, description = "Create and revoke API keys for agents of a user.",
            subcommands = {ApiKeys.Create.class, ApiKeys.Revoke.class})
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
                spec.commandLine().getErr().println("api key of " + user + " in " + account + " " + SHOWN_ONCE
                        + "; its id (to revoke it): " + key.getKeyId());
                return ExitCode.OK;
            }
        }

        @Command(name = "revoke", mixinStandardHelpOptions = true,
                description = "Revokes an API key by its id; every node refuses it from its next request.")
        static final class Revoke extends AdminCommand {
            @Parameters(index = "0", paramLabel = "<key-id>", description = "the id create printed (or the key itself)")
            String keyId;

            @Override
            int run(LicenseAdminClient admin, Output out) {
                RevokeApiKeyResponse r = admin.revokeApiKey(LicenseAdminClient.credentialId(keyId));
                out.print(r, w -> w.println("revoked api key " + r.getKeyId() + " of " + r.getUserId() + " in " + r.getAccountId()));
                return ExitCode.OK;
            }
        }
    }

    @Command(name = "admin-tokens", mixinStandardHelpOptions = true, description = "Create and revoke admin tokens.",
            subcommands = {AdminTokens.Create.class, AdminTokens.Revoke.class})
    static final class AdminTokens extends CommandGroup {

        @Command(name = "create", mixinStandardHelpOptions = true,
                description = "Creates an admin token; printed once. SUPER_ADMIN tokens only by a SUPER_ADMIN.")
        static final class Create extends AdminCommand {
            @Option(names = "--role", required = true, paramLabel = "<role>", converter = Converters.Role.class,
                    description = "account-admin, super-admin or organization-admin")
            AdminRole role;

            @Option(names = "--account", paramLabel = "<account-id>", description = "required for account-admin")
            String account = "";

            @Option(names = "--org", paramLabel = "<org-id>",
                    description = "required for organization-admin: the organization whose subtree the token administers")
            String org = "";

            @Override
            int run(LicenseAdminClient admin, Output out) {
                boolean orgAdmin = role == AdminRole.ADMIN_ROLE_ORGANIZATION_ADMIN;
                if (orgAdmin == org.isEmpty()) {
                    throw new CommandLine.ParameterException(spec.commandLine(),
                            orgAdmin ? "--org is required for --role organization-admin" : "--org is for --role organization-admin only");
                }
                CreateAdminTokenResponse token = orgAdmin ? admin.createOrganizationAdminToken(org) : admin.createAdminToken(account, role);
                out.print(token, w -> w.println(token.getToken()));
                spec.commandLine().getErr().println(switch (role) {
                    case ADMIN_ROLE_SUPER_ADMIN -> "super-admin token " + SHOWN_ONCE;
                    case ADMIN_ROLE_ORGANIZATION_ADMIN -> "organization-admin token of " + org + " " + SHOWN_ONCE;
                    default -> "account-admin token of " + account + " " + SHOWN_ONCE;
                });
                spec.commandLine().getErr().println("its id (to revoke it): " + token.getTokenId());
                return ExitCode.OK;
            }
        }

        @Command(name = "revoke", mixinStandardHelpOptions = true,
                description = "Revokes an admin token by its id; every node refuses it from its next request.")
        static final class Revoke extends AdminCommand {
            @Parameters(index = "0", paramLabel = "<token-id>", description = "the id create printed (or the token itself)")
            String tokenId;

            @Override
            int run(LicenseAdminClient admin, Output out) {
                RevokeAdminTokenResponse r = admin.revokeAdminToken(LicenseAdminClient.credentialId(tokenId));
                out.print(r, w -> w.println("revoked " + switch (r.getRole()) {
                    case ADMIN_ROLE_SUPER_ADMIN -> "super-admin token " + r.getTokenId();
                    case ADMIN_ROLE_ORGANIZATION_ADMIN -> "organization-admin token " + r.getTokenId() + " of " + r.getOrgId()
                            + " in " + r.getAccountId();
                    default -> "account-admin token " + r.getTokenId() + " of " + r.getAccountId();
                }));
                return ExitCode.OK;
            }
        }
    }
}
