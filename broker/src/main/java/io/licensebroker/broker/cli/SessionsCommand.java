package io.licensebroker.broker.cli;

import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.proto.v1.ListSessionsRequest;
import io.licensebroker.proto.v1.ListSessionsResponse;
import io.licensebroker.proto.v1.Session;
import io.licensebroker.proto.v1.TerminateSessionResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "sessions", mixinStandardHelpOptions = true, description = "List live sessions and terminate them.",
        subcommands = {SessionsCommand.ListSessions.class, SessionsCommand.Terminate.class})
final class SessionsCommand extends CommandGroup {

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists live sessions, one page at a time (or --all).")
    static final class ListSessions extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Option(names = "--pool", paramLabel = "<pool-id>", description = "only sessions drawing from this pool")
        String pool = "";

        @Option(names = "--user", paramLabel = "<user-id>", description = "only sessions of this user")
        String user = "";

        @Option(names = "--machine", paramLabel = "<machine-id>", description = "only sessions on this machine")
        String machine = "";

        @Option(names = "--product", paramLabel = "<product>", description = "only sessions of this product (default: every product)")
        String product = "";

        @Mixin
        Paging paging = new Paging();

        @Override
        int run(LicenseAdminClient admin, Output out) {
            ListSessionsRequest.Builder request = ListSessionsRequest.newBuilder().setAccountId(account).setPoolId(pool)
                    .setUserId(user).setMachineId(machine).setProduct(product).setPageSize(paging.pageSize);
            ListSessionsResponse shown = paging.fetch(token -> admin.listSessions(request.setPageToken(token).build()),
                    ListSessionsResponse::getNextPageToken, (page, next) -> page.toBuilder()
                            .addAllSessions(next.getSessionsList()).setNextPageToken(next.getNextPageToken()).build());
            out.print(shown, w -> {
                TextTable t = new TextTable().text("Session id").text("User").text("Machine").text("Product").text("Pool")
                        .text("Fallback").text("Started").text("Lease expires");
                for (Session s : shown.getSessionsList()) {
                    t.row(s.getSessionId(), s.getUserId(), s.getMachineId(), s.getProduct(), s.getPoolId(), Output.yesNo(s.getFallback()),
                            Output.time(s.hasStartedAt(), s.getStartedAt()), Output.time(s.hasLeaseExpiresAt(), s.getLeaseExpiresAt()));
                }
                t.print(w);
                Output.nextPage(w, shown.getNextPageToken());
            });
            return ExitCode.OK;
        }
    }

    @Command(name = "terminate", mixinStandardHelpOptions = true,
            description = "Ends a live session; the agent's next renewal is refused SESSION_TERMINATED.")
    static final class Terminate extends AdminCommand {
        @Parameters(paramLabel = "<session-id>")
        String sessionId;

        @Override
        int run(LicenseAdminClient admin, Output out) {
            TerminateSessionResponse r = admin.terminateSession(sessionId);
            out.print(r, w -> w.println(r.getTerminated()
                    ? "terminated " + sessionId
                    : "session " + sessionId + " had already ended"));
            return ExitCode.OK;
        }
    }
}
