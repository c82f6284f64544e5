package io.licensebroker.broker.cli;

import io.licensebroker.broker.cli.CliBroker.Result;
import io.licensebroker.client.LicenseBrokerClient;
import io.licensebroker.client.LicenseBrokerException;
import io.licensebroker.proto.v1.GetDenialReportResponse;
import io.licensebroker.proto.v1.GetUsageHistoryResponse;
import io.licensebroker.proto.v1.UsagePoint;
import io.licensebroker.proto.v1.UsageSeries;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Instant;
import java.util.List;

import static io.licensebroker.broker.cli.CliBroker.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code usage history} and {@code report denials} against a real broker (system clock): acme has
 * one license, ann holds it and ben is refused; the commands show it as a table, JSON and CSV.
 */
class HistoryCommandsTest {
    private CliBroker broker;

    @BeforeEach
    void start() throws IOException {
        broker = new CliBroker();
    }

    @AfterEach
    void stop() throws Exception {
        broker.close();
    }

    private Result cli(String... args) {
        return broker.cli(args);
    }

    /** ann takes acme's only license, ben is refused. */
    private void load() {
        broker.admin.createAccount("acme", "Acme Inc.");
        broker.admin.setSubscription("acme", "KRE", 1, 10, Instant.now().plusSeconds(86_400));
        broker.admin.upsertUser("acme", "ann", "", List.of());
        broker.admin.upsertUser("acme", "ben", "", List.of());
        broker.agent("acme", "ann").acquire("m-ann");
        LicenseBrokerClient ben = broker.agent("acme", "ben");
        assertThrows(LicenseBrokerException.class, () -> ben.acquire("m-ben"));
    }

    @Test
    void usageHistoryAsATableJsonAndCsv() throws IOException {
        load();
        String[] query = {"usage", "history", "--account", "acme", "--from", "-5m", "--step", "1m"};
        GetUsageHistoryResponse history = json(cli(concat(query, "-o", "json")).ok().out(), GetUsageHistoryResponse.getDefaultInstance());
        assertEquals(List.of("acme"), history.getSeriesList().stream().map(UsageSeries::getPoolId).toList());
        List<UsagePoint> points = history.getSeries(0).getPointsList();
        // five minutes back and the one in progress (one more when the broker's minute turned since --from was read)
        assertTrue(points.size() == 6 || points.size() == 7, points.toString());
        assertEquals(1, points.stream().mapToLong(UsagePoint::getPeakInUse).max().orElseThrow());
        assertEquals(1, points.stream().mapToLong(UsagePoint::getGranted).sum());
        assertEquals(1, points.stream().mapToLong(p -> p.getDeniedByReasonOrDefault("NO_LICENSE_AVAILABLE", 0)).sum());

        List<String> table = cli(query).ok().out().lines().toList();
        assertTrue(table.get(0).matches("Pool +Start +Peak in use +Granted +Denied +Denied by reason"), table.get(0));
        assertTrue(table.size() == 7 || table.size() == 8, String.join("\n", table));
        assertTrue(table.stream().anyMatch(l -> l.matches("acme +\\S+Z +1 +1 +1 +NO_LICENSE_AVAILABLE=1")), String.join("\n", table));

        List<String> csv = cli(concat(query, "--output", "csv")).ok().out().lines().toList();
        assertEquals("pool_id,start_time,peak_in_use,granted,denied,NO_LICENSE_AVAILABLE", csv.get(0));
        assertTrue(csv.size() == 7 || csv.size() == 8, String.join("\n", csv));
        assertTrue(csv.stream().anyMatch(l -> l.matches("acme,\\S+Z,1,1,1,1")), String.join("\n", csv));
    }

    @Test
    void reportDenialsAsATableJsonAndCsv() throws IOException {
        load();
        String[] query = {"report", "denials", "--account", "acme", "--from", "-1h", "--to", "now"};
        List<String> table = cli(query).ok().out().lines().toList();
        assertTrue(table.get(0).matches("Denials from \\S+T\\d\\d:00:00Z to \\S+T\\d\\d:00:00Z \\(by hour\\)"), table.get(0));
        assertTrue(table.get(2).matches("Pool +User +Reason +Count +Last denied"), table.get(2));
        assertTrue(table.get(3).matches("acme +ben +NO_LICENSE_AVAILABLE +1 +\\S+Z"), table.get(3));
        assertEquals(4, table.size());

        GetDenialReportResponse report = json(cli(concat(query, "-o", "json")).ok().out(), GetDenialReportResponse.getDefaultInstance());
        assertEquals(1, report.getRowsCount());
        assertEquals("ben", report.getRows(0).getUserId());
        assertEquals(3600, report.getResolution().getSeconds());

        List<String> csv = cli(concat(query, "-o", "csv")).ok().out().lines().toList();
        assertEquals("pool_id,user_id,reason,count,last_denied_at", csv.get(0));
        assertTrue(csv.get(1).matches("acme,ben,NO_LICENSE_AVAILABLE,1,\\S+Z"), csv.get(1));
    }

    @Test
    void badOptionsAreUsageErrors() {
        broker.admin.createAccount("acme", "Acme Inc.");
        Result fiveMinutes = cli("usage", "history", "--account", "acme", "--from", "-1h", "--step", "5m");
        assertEquals(ExitCode.USAGE, fiveMinutes.exit());
        assertTrue(fiveMinutes.err().contains("1m, 1h or 1d"), fiveMinutes.err());
        Result badTime = cli("usage", "history", "--account", "acme", "--from", "yesterday", "--step", "1h");
        assertEquals(ExitCode.USAGE, badTime.exit());
        assertTrue(badTime.err().contains("-2h"), badTime.err());
        assertEquals(ExitCode.USAGE, cli("usage", "history", "--from", "-1h", "--step", "1h").exit(), "--account is required");
        Result csvElsewhere = cli("usage", "--account", "acme", "-o", "csv");
        assertEquals(ExitCode.USAGE, csvElsewhere.exit());
        assertTrue(csvElsewhere.err().contains("usage history and report denials"), csvElsewhere.err());
        Result backwards = cli("report", "denials", "--account", "acme", "--from", "now", "--to", "-1h");
        assertEquals(ExitCode.FAILED, backwards.exit());
        assertTrue(backwards.err().contains("INVALID_ARGUMENT") && backwards.err().contains("end_time"), backwards.err());
        assertEquals(ExitCode.USAGE, cli("report").exit());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
