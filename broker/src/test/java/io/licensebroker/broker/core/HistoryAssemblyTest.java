package io.licensebroker.broker.core;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The store-independent rules: query checks, the window, carry-forward, roll-ups, the denial report. */
class HistoryAssemblyTest {
    private static final Instant T0 = Instant.parse("2030-01-01T10:00:00Z");
    private static final String P = "KRE";

    private static HistoryBucket bucket(String pool, Instant start, long startLevel, long peak, long end, long granted,
                                        Map<Reason, Long> denied) {
        return new HistoryBucket(P, pool, start.toEpochMilli(), startLevel, peak, end, granted, denied);
    }

    private static Instant min(int m) {
        return T0.plus(Duration.ofMinutes(m));
    }

    private static List<Long> peaks(UsageSeries s) {
        return s.points().stream().map(UsagePoint::peakInUse).toList();
    }

    @Test
    void aStepWithoutChangesHoldsTheLevelTheStepBeforeEndedAt() {
        HistoryQuery q = new HistoryQuery(P, null, min(1), min(7), HistoryStep.MINUTE);
        List<HistoryBucket> a = List.of(
                bucket("AC", min(0), 9, 9, 2, 0, Map.of()),                        // before the range: its end carries
                bucket("AC", min(2), 2, 5, 5, 3, Map.of()),
                bucket("AC", min(5), 4, 5, 3, 0, Map.of(Reason.NO_LICENSE_AVAILABLE, 2L)));
        List<UsageSeries> out = HistoryAssembly.assemble(q, List.of("AC", "OG-1"), Map.of("AC", a), Map.of("AC", 7L), min(10));
        assertEquals(2, out.size());
        assertEquals("AC", out.get(0).poolId());
        // 1: what minute 0 ended at; 3-4: held 5; 6: what minute 5 ended at (the level now is not asked)
        assertEquals(List.of(2L, 5L, 5L, 5L, 5L, 3L), peaks(out.get(0)));
        UsagePoint five = out.get(0).points().get(4);
        assertEquals(2, five.denied());
        assertEquals(Map.of(Reason.NO_LICENSE_AVAILABLE, 2L), five.deniedByReason());
        assertEquals(3, out.get(0).points().get(1).granted());
        // a pool with nothing recorded: its level now, every step
        assertEquals(List.of(0L, 0L, 0L, 0L, 0L, 0L), peaks(out.get(1)));
        assertEquals(min(1), out.get(1).points().get(0).start());
        assertEquals(min(6), out.get(1).points().get(5).start());
        // nothing kept before the first bucket: the steps before it held what it started from
        List<HistoryBucket> late = List.of(bucket("AC", min(4), 6, 6, 6, 0, Map.of()));
        assertEquals(List.of(6L, 6L, 6L, 6L, 6L, 6L), peaks(HistoryAssembly.assemble(q, List.of("AC"), Map.of("AC", late),
                Map.of("AC", 1L), min(10)).get(0)));
        assertEquals(List.of(7L, 7L), peaks(HistoryAssembly.assemble(new HistoryQuery(P, "AC", min(8), min(10), HistoryStep.MINUTE),
                List.of("AC"), Map.of(), Map.of("AC", 7L), min(10)).get(0)));
    }

    @Test
    void minutesRollUpIntoTheStepAskedForInRecordingOrder() {
        HistoryQuery q = new HistoryQuery(P, "AC", T0, T0.plus(Duration.ofHours(2)), HistoryStep.HOUR);
        List<HistoryBucket> minutes = List.of(
                bucket("AC", min(3), 2, 7, 4, 5, Map.of(Reason.NO_LICENSE_AVAILABLE, 1L)),
                bucket("AC", min(50), 4, 4, 4, 1, Map.of(Reason.NO_LICENSE_AVAILABLE, 2L, Reason.MACHINE_QUOTA_EXCEEDED, 1L)),
                bucket("AC", min(61), 1, 3, 3, 2, Map.of()));
        UsageSeries s = HistoryAssembly.assemble(q, List.of("AC", "OG-1"), Map.of("AC", minutes), Map.of(), min(90)).get(0);
        assertEquals(1, HistoryAssembly.assemble(q, List.of("AC", "OG-1"), Map.of("AC", minutes), Map.of(), min(90)).size());
        assertEquals(List.of(7L, 3L), peaks(s));
        assertEquals(6, s.points().get(0).granted());
        assertEquals(Map.of(Reason.NO_LICENSE_AVAILABLE, 3L, Reason.MACHINE_QUOTA_EXCEEDED, 1L), s.points().get(0).deniedByReason());
        assertEquals(4, s.points().get(0).denied());
    }

    @Test
    void theWindowKeepsToTheRetentionAndStopsAtTheStepInProgress() {
        Instant now = Instant.parse("2030-03-10T12:34:56Z");
        HistoryAssembly.Window w = HistoryAssembly.window(HistoryStep.MINUTE, now.minus(Duration.ofDays(5)), now.plus(Duration.ofDays(1)), now);
        assertEquals(HistoryStep.MINUTE.oldestKept(now.toEpochMilli()), w.firstMillis());
        assertEquals(Instant.parse("2030-03-10T12:35:00Z").toEpochMilli(), w.endMillis());
        assertEquals(48 * 60 + 1, w.points());
        HistoryAssembly.Window days = HistoryAssembly.window(HistoryStep.DAY, Instant.parse("2020-01-01T00:00:00Z"), now, now);
        assertEquals(732, days.points());
        // an unaligned start takes the step that holds it; an end inside a step takes that step
        HistoryAssembly.Window part = HistoryAssembly.window(HistoryStep.HOUR, Instant.parse("2030-03-10T09:30:00Z"),
                Instant.parse("2030-03-10T11:00:01Z"), now);
        assertEquals(Instant.parse("2030-03-10T09:00:00Z").toEpochMilli(), part.firstMillis());
        assertEquals(3, part.points());
        assertEquals(Instant.parse("2030-03-10T12:00:00Z").toEpochMilli(), part.coveredEndMillis());
        // entirely in the future: no points
        assertEquals(0, HistoryAssembly.window(HistoryStep.HOUR, now.plus(Duration.ofHours(2)), now.plus(Duration.ofHours(3)), now).points());
    }

    @Test
    void retentionIsAtLeastWhatTheContractPromises() {
        assertTrue(HistoryStep.MINUTE.capacity() * HistoryStep.MINUTE.millis() > Duration.ofHours(48).toMillis());
        assertTrue(HistoryStep.HOUR.capacity() * HistoryStep.HOUR.millis() > Duration.ofDays(90).toMillis());
        assertTrue(HistoryStep.DAY.capacity() * HistoryStep.DAY.millis() > Duration.ofDays(2 * 365 + 1).toMillis());
        assertEquals(HistoryStep.HOUR, HistoryStep.of(Duration.ofHours(1)));
        assertEquals(null, HistoryStep.of(Duration.ofMinutes(5)));
    }

    @Test
    void queriesNameTheFieldThatIsWrong() {
        assertEquals("product", field(new HistoryQuery("", null, T0, min(1), HistoryStep.MINUTE).check()));
        assertEquals("start_time", field(new HistoryQuery(P, null, null, min(1), HistoryStep.MINUTE).check()));
        assertEquals("end_time", field(new HistoryQuery(P, null, T0, null, HistoryStep.MINUTE).check()));
        assertEquals("end_time", field(new HistoryQuery(P, null, T0, T0, HistoryStep.MINUTE).check()));
        assertEquals("step", field(new HistoryQuery(P, null, T0, min(1), null).check()));
        assertEquals("step", field(new HistoryQuery(P, null, T0, min(HistoryQuery.MAX_POINTS + 1), HistoryStep.MINUTE).check()));
        assertTrue(new HistoryQuery(P, null, T0, min(HistoryQuery.MAX_POINTS), HistoryStep.MINUTE).check().isGranted());
        assertEquals("end_time", field(new DenialQuery(P, null, min(2), min(1)).check()));
        assertTrue(new DenialQuery(P, "OG-1", min(1), min(2)).check().isGranted());
    }

    private static String field(Decision<?> d) {
        assertFalse(d.isGranted());
        Decision.Denied<?> no = (Decision.Denied<?>) d;
        assertEquals(Reason.INVALID_ARGUMENT, no.reason());
        return no.field();
    }

    @Test
    void theDenialReportSumsPerPoolUserAndReasonMostDeniedFirst() {
        Instant now = min(200);
        List<DenialCount> counts = List.of(
                new DenialCount(P, "AC", "ann", Reason.NO_LICENSE_AVAILABLE, min(1).toEpochMilli(), 2, min(1).toEpochMilli() + 5),
                new DenialCount(P, "AC", "ann", Reason.NO_LICENSE_AVAILABLE, min(70).toEpochMilli(), 1, min(70).toEpochMilli() + 9),
                new DenialCount(P, "OG-1", "bob", Reason.ORGANIZATION_POOL_EXHAUSTED, min(2).toEpochMilli(), 5, min(2).toEpochMilli()),
                new DenialCount(P, "AC", "cid", Reason.MACHINE_QUOTA_EXCEEDED, min(190).toEpochMilli(), 1, min(190).toEpochMilli()),
                new DenialCount("CAD", "AC", "dan", Reason.NOT_LICENSED, min(2).toEpochMilli(), 9, min(2).toEpochMilli()));
        List<DenialRow> rows = DenialReport.assemble(new DenialQuery(P, null, T0, min(120)), counts, now);
        assertEquals(List.of(
                new DenialRow("OG-1", "bob", Reason.ORGANIZATION_POOL_EXHAUSTED, 5, min(2)),
                new DenialRow("AC", "ann", Reason.NO_LICENSE_AVAILABLE, 3, min(70).plusMillis(9))), rows);
        assertEquals(List.of(new DenialRow("AC", "cid", Reason.MACHINE_QUOTA_EXCEEDED, 1, min(190))),
                DenialReport.assemble(new DenialQuery(P, "AC", min(180), now), counts, now));
        assertEquals(HistoryStep.HOUR, DenialReport.step(now.minus(Duration.ofDays(89)), now));
        assertEquals(HistoryStep.DAY, DenialReport.step(now.minus(Duration.ofDays(91)), now));
    }
}
