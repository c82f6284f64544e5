package io.licensebroker.broker.cli;

import io.licensebroker.client.LicenseAdminClient;
import io.licensebroker.proto.v1.GetUsageHistoryResponse;
import io.licensebroker.proto.v1.UsagePoint;
import io.licensebroker.proto.v1.UsageSeries;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/** {@code usage history}: GetUsageHistory (CONTRACT.md section 7) as a table, JSON or CSV. */
@Command(name = "history", mixinStandardHelpOptions = true,
        description = "Shows per pool and step the highest in-use (the exact peak within the step), the licenses or seats "
                + "granted and the denials by reason. Minutes are kept 48 hours, hours 90 days, days 2 years.")
final class UsageHistoryCommand extends AdminCommand {
    @Option(names = "--account", required = true, paramLabel = "<account-id>")
    String account;

    @Option(names = "--product", paramLabel = "<product>", description = "default KRE")
    String product = "KRE";

    @Option(names = "--pool", paramLabel = "<pool-id>", description = "one organization (or the account id); default every pool")
    String pool = "";

    @Option(names = "--from", required = true, paramLabel = "<time>", converter = Converters.Moment.class,
            description = "the first step holds it: 2030-01-01T10:00:00Z, 2030-01-01, now, or a time before now (-2h, -7d)")
    Instant from;

    @Option(names = "--to", paramLabel = "<time>", converter = Converters.Moment.class, defaultValue = "now",
            description = "the end (exclusive), written like --from [default now]")
    Instant to;

    @Option(names = "--step", required = true, paramLabel = "<step>", converter = Converters.Step.class, description = "1m, 1h or 1d")
    Duration step;

    @Override
    boolean printsCsv() {
        return true;
    }

    @Override
    int run(LicenseAdminClient admin, Output out) {
        GetUsageHistoryResponse history = admin.usageHistory(account, product, pool, from, to, step);
        out.print(history, w -> table(history, w), w -> csv(history, w));
        return ExitCode.OK;
    }

    /** One line per pool and step; the denial reasons as "REASON=n" pairs. */
    static void table(GetUsageHistoryResponse history, PrintWriter out) {
        TextTable t = new TextTable().text("Pool").text("Start").number("Peak in use").number("Granted").number("Denied")
                .text("Denied by reason");
        for (UsageSeries s : history.getSeriesList()) {
            for (UsagePoint p : s.getPointsList()) {
                String reasons = new TreeMap<>(p.getDeniedByReasonMap()).entrySet().stream()
                        .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
                t.row(s.getPoolId(), Output.time(p.hasStartTime(), p.getStartTime()), p.getPeakInUse(), p.getGranted(), p.getDenied(), reasons);
            }
        }
        t.print(out);
    }

    /** For spreadsheets: one row per pool and step, a column per denial reason that occurs in the answer. */
    static void csv(GetUsageHistoryResponse history, PrintWriter out) {
        TreeSet<String> reasons = new TreeSet<>();
        history.getSeriesList().forEach(s -> s.getPointsList().forEach(p -> reasons.addAll(p.getDeniedByReasonMap().keySet())));
        List<Object> header = new ArrayList<>(List.of("pool_id", "start_time", "peak_in_use", "granted", "denied"));
        header.addAll(reasons);
        Output.csv(out, header);
        for (UsageSeries s : history.getSeriesList()) {
            for (UsagePoint p : s.getPointsList()) {
                List<Object> row = new ArrayList<>(List.of(s.getPoolId(), Output.time(p.hasStartTime(), p.getStartTime()),
                        p.getPeakInUse(), p.getGranted(), p.getDenied()));
                Map<String, Long> byReason = p.getDeniedByReasonMap();
                reasons.forEach(r -> row.add(byReason.getOrDefault(r, 0L)));
                Output.csv(out, row);
            }
        }
        out.flush();
    }
}
