package io.licensebroker.broker.cli;

import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.proto.v1.DenialRow;
import io.licensebroker.proto.v1.GetDenialReportResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** {@code report}: reports over the usage history for capacity planning. */
@Command(name = "report", mixinStandardHelpOptions = true, description = "Reports for capacity planning.",
        subcommands = ReportCommand.Denials.class)
final class ReportCommand extends CommandGroup {

    @Command(name = "denials", mixinStandardHelpOptions = true,
            description = "Who was denied a license, a seat or an activation, how often and why, per pool (the pool the user "
                    + "would have drawn from), most denied first. The range is rounded out to whole hours (whole days when it "
                    + "starts more than 90 days ago); user '*' counts the users past a bucket's bound (256 per hour or day).")
    static final class Denials extends AdminCommand {
        @Option(names = "--account", required = true, paramLabel = "<account-id>")
        String account;

        @Option(names = "--product", paramLabel = "<product>", description = "default KRE")
        String product = "KRE";

        @Option(names = "--pool", paramLabel = "<pool-id>", description = "one organization (or the account id); default every pool")
        String pool = "";

        @Option(names = "--from", required = true, paramLabel = "<time>", converter = Converters.Moment.class,
                description = "2030-01-01T10:00:00Z, 2030-01-01, now, or a time before now (-24h, -30d)")
        Instant from;

        @Option(names = "--to", paramLabel = "<time>", converter = Converters.Moment.class, defaultValue = "now",
                description = "the end (exclusive), written like --from [default now]")
        Instant to;

        @Override
        boolean printsCsv() {
            return true;
        }

        @Override
        int run(LicenseAdminClient admin, Output out) {
            GetDenialReportResponse report = admin.denialReport(account, product, pool, from, to);
            out.print(report, w -> table(report, w), w -> csv(report, w));
            return ExitCode.OK;
        }

        static void table(GetDenialReportResponse report, PrintWriter out) {
            Duration resolution = Duration.ofSeconds(report.getResolution().getSeconds());
            out.println("Denials from " + Output.time(report.hasStartTime(), report.getStartTime()) + " to "
                    + Output.time(report.hasEndTime(), report.getEndTime()) + " (" + (resolution.toDays() >= 1 ? "by day" : "by hour") + ")");
            out.println();
            TextTable t = new TextTable().text("Pool").text("User").text("Reason").number("Count").text("Last denied");
            for (DenialRow r : report.getRowsList()) {
                t.row(r.getPoolId(), r.getUserId(), r.getReason(), r.getCount(), Output.time(r.hasLastDeniedAt(), r.getLastDeniedAt()));
            }
            t.print(out);
        }

        static void csv(GetDenialReportResponse report, PrintWriter out) {
            Output.csv(out, List.of("pool_id", "user_id", "reason", "count", "last_denied_at"));
            for (DenialRow r : report.getRowsList()) {
                Output.csv(out, List.of(r.getPoolId(), r.getUserId(), r.getReason(), r.getCount(),
                        Output.time(r.hasLastDeniedAt(), r.getLastDeniedAt())));
            }
            out.flush();
        }
    }
}
