package io.licensebroker.broker.cli;

import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.proto.v1.ListOrganizationsResponse;
import io.licensebroker.proto.v1.Organization;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "organizations", mixinStandardHelpOptions = true, description = "Create organizations and show the tree.",
        subcommands = {OrganizationsCommand.Create.class, OrganizationsCommand.Tree.class, OrganizationsCommand.ListOrganizations.class})
final class OrganizationsCommand extends CommandGroup {

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Creates an organization under the account or under another organization.")
    static final class Create extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Option(names = "--parent", paramLabel = "<org-id>", description = "parent organization; omitted: directly under the account")
        String parent = "";

        @Option(names = "--name", required = true, paramLabel = "<name>")
        String name;

        @Override
        int run(LicenseAdminClient admin, Output out) {
            Organization org = admin.createOrganization(account, parent, name);
            out.print(org, w -> table(List.of(org)).print(w));
            return ExitCode.OK;
        }
    }

    @Command(name = "tree", mixinStandardHelpOptions = true, description = "Shows the account's organizations as a tree.")
    static final class Tree extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Override
        int run(LicenseAdminClient admin, Output out) {
            ListOrganizationsResponse orgs = admin.listOrganizations(account);
            out.print(orgs, w -> tree(account, orgs.getOrganizationsList(), w));
            return ExitCode.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the account's organizations, parents first.")
    static final class ListOrganizations extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Override
        int run(LicenseAdminClient admin, Output out) {
            ListOrganizationsResponse orgs = admin.listOrganizations(account);
            out.print(orgs, w -> table(orgs.getOrganizationsList()).print(w));
            return ExitCode.OK;
        }
    }

    private static TextTable table(List<Organization> orgs) {
        TextTable t = new TextTable().text("Org id").text("Name").text("Parent");
        orgs.forEach(o -> t.row(o.getOrgId(), o.getName(), o.getParentId()));
        return t;
    }

    /**
     * <pre>
     * acme
     * +-- OG-1  Engineering
     * |   `-- OG-3  Platform
     * `-- OG-2  Sales
     * </pre>
     * ASCII only, so it survives every terminal and log viewer.
     */
    static void tree(String account, List<Organization> orgs, PrintWriter out) {
        Map<String, List<Organization>> children = new LinkedHashMap<>();
        for (Organization o : orgs) {
            children.computeIfAbsent(o.getParentId().isEmpty() ? account : o.getParentId(), k -> new ArrayList<>()).add(o);
        }
        out.println(account);
        branch(account, "", children, out);
    }

    private static void branch(String parent, String indent, Map<String, List<Organization>> children, PrintWriter out) {
        List<Organization> kids = children.getOrDefault(parent, List.of());
        for (int i = 0; i < kids.size(); i++) {
            boolean last = i == kids.size() - 1;
            Organization o = kids.get(i);
            out.println(indent + (last ? "`-- " : "+-- ") + o.getOrgId() + "  " + o.getName());
            branch(o.getOrgId(), indent + (last ? "    " : "|   "), children, out);
        }
    }
}
