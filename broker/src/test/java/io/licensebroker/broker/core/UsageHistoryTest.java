package io.licensebroker.broker.core;

import io.licensebroker.broker.testing.LedgerHarness;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.licensebroker.broker.testing.LedgerHarness.ACCOUNT;
import static io.licensebroker.broker.testing.LedgerHarness.KRE;
import static io.licensebroker.broker.testing.LedgerHarness.id;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The usage history as the ledger records it, with a fake clock across minute, hour and day
 * boundaries: exact peaks, grants, denials by reason and the pool they are charged to, carry-forward,
 * retention, roll-ups, seats, and what is journaled (one event per closed minute) and replayed.
 */
class UsageHistoryTest {
    private static final Instant DAY_END = Instant.parse("2030-01-01T23:59:10Z");

    private static LedgerHarness strictAccountWithOrgA(int orgLicenses) {
        LedgerHarness h = new LedgerHarness();
        h.leaseTtl = Duration.ofDays(7); // no lease runs out in these tests unless one says so
        h.clock.set(DAY_END);
        h.subscribe(10, 100);
        h.org("A", null);
        h.dedicated("A", orgLicenses);
        h.policy(UsagePolicy.STRICT, false);
        for (String u : List.of("u1", "u2", "u3", "u4", "u5", "u6", "u7")) {
            h.user(u, "A");
        }
        h.user("free", null);
        return h;
    }

    static List<UsageSeries> history(LedgerHarness h, String pool, Instant from, Instant to, HistoryStep step) {
        return h.ledger.history().usageHistory(new HistoryQuery(KRE, pool == null ? null : id(pool), from, to, step), h.now()).value();
    }

    static UsageSeries series(LedgerHarness h, String pool, Instant from, Instant to, HistoryStep step) {
        return history(h, pool, from, to, step).get(0);
    }

    private static List<Long> peaks(UsageSeries s) {
        return s.points().stream().map(UsagePoint::peakInUse).toList();
    }

    private static List<Long> granted(UsageSeries s) {
        return s.points().stream().map(UsagePoint::granted).toList();
    }

    private static void at(LedgerHarness h, String instant) {
        h.clock.set(Instant.parse(instant));
    }

    /** Drives the load of {@link #exactPeaksGrantsAndDenialsAtEveryStepAcrossMinuteHourAndDay}. */
    static LedgerHarness knownLoad() {
        LedgerHarness h = strictAccountWithOrgA(4);
        // 23:59 - up to 3, down to 2, up to 4, then a denial (STRICT: A is all there is)
        h.acquire("s1", "u1", "m1");
        h.acquire("s2", "u2", "m2");
        h.acquire("s3", "u3", "m3");
        h.release("s1", "u1");
        h.acquire("s4", "u4", "m4");
        h.acquire("s5", "u5", "m5");
        assertEquals(Reason.ORGANIZATION_POOL_EXHAUSTED, ((Decision.Denied<Session>) h.acquire("s6", "u6", "m6")).reason());
        // the next day: 00:00 one release, then nothing until 01:00
        at(h, "2030-01-02T00:00:20Z");
        h.release("s2", "u2");
        at(h, "2030-01-02T01:00:30Z");
        h.acquire("s7", "u7", "m7");
        return h;
    }

    @Test
    void exactPeaksGrantsAndDenialsAtEveryStepAcrossMinuteHourAndDay() {
        LedgerHarness h = knownLoad();
        Instant from = Instant.parse("2030-01-01T23:59:00Z");
        UsageSeries minutes = series(h, "A", from, Instant.parse("2030-01-02T02:00:00Z"), HistoryStep.MINUTE);
        // 23:59, 00:00, 00:01..00:59 (held 3), 01:00 (in progress; nothing after it)
        assertEquals(62, minutes.points().size());
        assertEquals(4, minutes.points().get(0).peakInUse());
        assertEquals(5, minutes.points().get(0).granted());
        assertEquals(Map.of(Reason.ORGANIZATION_POOL_EXHAUSTED, 1L), minutes.points().get(0).deniedByReason());
        assertEquals(4, minutes.points().get(1).peakInUse());
        for (int m = 2; m <= 60; m++) {
            assertEquals(3, minutes.points().get(m).peakInUse(), "minute " + m);
            assertEquals(0, minutes.points().get(m).granted());
        }
        assertEquals(4, minutes.points().get(61).peakInUse());
        assertEquals(1, minutes.points().get(61).granted());

        UsageSeries hours = series(h, "A", Instant.parse("2030-01-01T23:00:00Z"), Instant.parse("2030-01-02T02:00:00Z"), HistoryStep.HOUR);
        assertEquals(List.of(4L, 4L, 4L), peaks(hours));
        assertEquals(List.of(5L, 0L, 1L), granted(hours));
        assertEquals(List.of(1L, 0L, 0L), hours.points().stream().map(UsagePoint::denied).toList());

        UsageSeries days = series(h, "A", Instant.parse("2030-01-01T00:00:00Z"), Instant.parse("2030-01-03T00:00:00Z"), HistoryStep.DAY);
        assertEquals(List.of(4L, 4L), peaks(days));
        assertEquals(List.of(5L, 1L), granted(days));

        // every pool by default, the account pool first; it was never used
        List<UsageSeries> all = history(h, null, from, Instant.parse("2030-01-02T00:01:00Z"), HistoryStep.MINUTE);
        assertEquals(List.of(ACCOUNT, id("A")), all.stream().map(UsageSeries::poolId).toList());
        assertEquals(List.of(0L, 0L), peaks(all.get(0)));
    }

    @Test
    void aPeakWithinAMinuteIsKeptThoughTheMinuteEndsLower() {
        LedgerHarness h = strictAccountWithOrgA(4);
        h.acquire("s1", "u1", "m1");
        h.acquire("s2", "u2", "m2");
        h.acquire("s3", "u3", "m3");
        h.release("s1", "u1");
        h.release("s2", "u2");
        h.release("s3", "u3");
        h.advance(Duration.ofMinutes(3));
        UsageSeries s = series(h, "A", Instant.parse("2030-01-01T23:59:00Z"), h.now().plusSeconds(60), HistoryStep.MINUTE);
        assertEquals(List.of(3L, 0L, 0L, 0L), peaks(s));
    }

    @Test
    void aPoolHoldingLicensesShowsThemEveryMinuteItHeldThem() {
        LedgerHarness h = strictAccountWithOrgA(10);
        Instant start = h.now();
        for (int i = 1; i <= 5; i++) {
            h.acquire("s" + i, "u" + i, "m" + i);
            h.renew("s" + i, "u" + i);
        }
        h.advance(Duration.ofMinutes(61));
        UsageSeries s = series(h, "A", start, h.now(), HistoryStep.MINUTE);
        assertEquals(62, s.points().size());
        assertTrue(s.points().stream().allMatch(p -> p.peakInUse() == 5), peaks(s).toString());
    }

    @Test
    void oneJournaledEventPerClosedMinuteHoweverManyChanges() {
        LedgerHarness h = knownLoad();
        List<Long> minutes = new ArrayList<>();
        for (LedgerHarness.Recorded r : h.journal) {
            if (r.event() instanceof LedgerEvent.UsageRecorded u) {
                minutes.add(u.minuteMillis());
            }
        }
        assertEquals(List.of(Instant.parse("2030-01-01T23:59:00Z").toEpochMilli(), Instant.parse("2030-01-02T00:00:00Z").toEpochMilli()),
                minutes);
        LedgerEvent.UsageRecorded first = (LedgerEvent.UsageRecorded) h.journal.stream()
                .filter(r -> r.event() instanceof LedgerEvent.UsageRecorded).findFirst().orElseThrow().event();
        assertEquals(1, first.buckets().size());
        assertEquals(List.of(new DenialCount(KRE, id("A"), "u6", Reason.ORGANIZATION_POOL_EXHAUSTED,
                Instant.parse("2030-01-01T23:59:00Z").toEpochMilli(), 1, DAY_END.toEpochMilli())), first.denials());
        // a minute in which nothing happened journals nothing, the periodic expiry included
        int before = h.journal.size();
        h.advance(Duration.ofMinutes(1));
        h.expire();
        assertEquals(before + 1, h.journal.size(), "the 01:00 minute closes");
        h.advance(Duration.ofMinutes(5));
        h.expire();
        assertEquals(before + 1, h.journal.size());
    }

    @Test
    void theJournalAndASnapshotRebuildTheSameHistory() {
        LedgerHarness h = knownLoad();
        h.advance(Duration.ofMinutes(1));
        h.expire(); // closes the minute in progress
        AccountLedger replayed = new AccountLedger(ACCOUNT, Journal.NONE, Duration.ofMinutes(10));
        h.journal.forEach(r -> replayed.replay(r.seq(), r.event()));
        LedgerHarness fromJournal = new LedgerHarness(replayed, h.now());
        LedgerHarness fromSnapshot = AccountLedgerTest.replayedFromExport(h);
        LedgerHarness snapshotOfSnapshot = AccountLedgerTest.replayedFromExport(fromSnapshot);
        Instant from = Instant.parse("2030-01-01T00:00:00Z");
        for (HistoryStep step : HistoryStep.values()) {
            List<UsageSeries> expected = history(h, null, from, h.now().plusSeconds(1), step);
            assertEquals(expected, history(fromJournal, null, from, h.now().plusSeconds(1), step), "journal, " + step);
            assertEquals(expected, history(fromSnapshot, null, from, h.now().plusSeconds(1), step), "snapshot, " + step);
            assertEquals(expected, history(snapshotOfSnapshot, null, from, h.now().plusSeconds(1), step), "snapshot twice, " + step);
        }
        DenialQuery q = new DenialQuery(KRE, null, from, h.now());
        assertEquals(h.ledger.history().denialReport(q, h.now()), fromJournal.ledger.history().denialReport(q, h.now()));
        assertEquals(h.ledger.history().denialReport(q, h.now()), fromSnapshot.ledger.history().denialReport(q, h.now()));
        // and the replayed ledger records on from there: A is full
        fromJournal.acquire("s8", "u1", "m1");
        UsagePoint now = series(fromJournal, "A", fromJournal.now(), fromJournal.now().plusSeconds(60), HistoryStep.MINUTE).points().get(0);
        assertEquals(4, now.peakInUse());
        assertEquals(1, now.denied());
    }

    @Test
    void minutesAreKept48HoursHoursAndDaysLonger() {
        LedgerHarness h = knownLoad();
        Instant first = Instant.parse("2030-01-01T23:59:00Z");
        h.advance(Duration.ofHours(49));
        h.expire();
        UsageSeries minutes = series(h, "A", first, h.now(), HistoryStep.MINUTE);
        assertEquals(HistoryStep.MINUTE.oldestKept(h.now().toEpochMilli()), minutes.points().get(0).start().toEpochMilli());
        assertEquals(HistoryStep.MINUTE.capacity(), minutes.points().size());
        assertTrue(minutes.points().stream().allMatch(p -> p.peakInUse() == 4 && p.granted() == 0));
        UsageSeries hours = series(h, "A", Instant.parse("2030-01-01T23:00:00Z"), Instant.parse("2030-01-02T01:00:00Z"), HistoryStep.HOUR);
        assertEquals(List.of(4L, 4L), peaks(hours));
        assertEquals(List.of(5L, 0L), granted(hours));
        h.advance(Duration.ofDays(91));
        h.expire();
        assertTrue(series(h, "A", first, h.now(), HistoryStep.HOUR).points().get(0).start().isAfter(first));
        UsageSeries days = series(h, "A", first, Instant.parse("2030-01-03T00:00:00Z"), HistoryStep.DAY);
        assertEquals(List.of(5L, 1L), granted(days));
    }

    @Test
    void ringsAreBoundedByTheirRetention() {
        HistoryRing ring = new HistoryRing(HistoryStep.MINUTE);
        long t = Instant.parse("2030-01-01T00:00:00Z").toEpochMilli();
        for (int m = 0; m < 3 * HistoryStep.MINUTE.capacity(); m++) {
            ring.add(t + m * 60_000L, m, m, m, 1, null);
        }
        assertEquals(HistoryStep.MINUTE.capacity(), ring.size());
        List<HistoryBucket> kept = ring.from(KRE, ACCOUNT, Long.MIN_VALUE);
        assertEquals(t + (2L * HistoryStep.MINUTE.capacity()) * 60_000L, kept.get(0).startMillis());
        // a late bucket merges where it belongs; one older than what is kept is dropped
        ring.add(kept.get(5).startMillis() + 30_000, 0, 99_999, 7, 1, null);
        ring.add(t, 0, 99_999, 7, 1, null);
        List<HistoryBucket> after = ring.from(KRE, ACCOUNT, Long.MIN_VALUE);
        assertEquals(HistoryStep.MINUTE.capacity(), after.size());
        assertEquals(99_999, after.get(5).peak());
        assertEquals(2, after.get(5).granted());
        assertEquals(kept.get(5).startLevel(), after.get(5).startLevel());
        assertEquals(7, after.get(5).endLevel());
    }

    @Test
    void aRevokeMovesTheLevelToTheParentPool() {
        LedgerHarness h = strictAccountWithOrgA(4);
        h.acquire("s1", "u1", "m1");
        h.acquire("s2", "u2", "m2");
        h.advance(Duration.ofMinutes(1));
        h.dedicated("A", 0);
        h.advance(Duration.ofMinutes(1));
        Instant from = Instant.parse("2030-01-01T23:59:00Z");
        assertEquals(List.of(2L, 2L, 0L), peaks(series(h, "A", from, h.now().plusSeconds(1), HistoryStep.MINUTE)));
        assertEquals(List.of(0L, 2L, 2L), peaks(series(h, "account", from, h.now().plusSeconds(1), HistoryStep.MINUTE)));
        assertEquals(List.of(0L, 0L, 0L), granted(series(h, "account", from, h.now().plusSeconds(1), HistoryStep.MINUTE)));
    }

    @Test
    void deniedAcquiresAreChargedToTheUsersOwnPoolWhenTheirReasonCounts() {
        LedgerHarness h = strictAccountWithOrgA(1);
        h.acquire("s1", "u1", "m1");
        h.acquire("s2", "u2", "m2");                   // A exhausted
        h.ledger.setSubscription(KRE, 10, 1, h.now().plusSeconds(3600), h.now());
        h.acquire("s3", "free", "m3");                 // machine quota (1 machine)
        h.acquire("s4", "nobody", "m1");               // unknown user: not counted
        h.ledger.acquire(new AcquireRequest("OTHER", "u1", "m1", "", "x", h.now(), h.now().plusSeconds(60))); // no subscription
        UsageSeries a = series(h, "A", h.now(), h.now().plusSeconds(60), HistoryStep.MINUTE);
        UsageSeries account = series(h, "account", h.now(), h.now().plusSeconds(60), HistoryStep.MINUTE);
        assertEquals(Map.of(Reason.ORGANIZATION_POOL_EXHAUSTED, 1L), a.points().get(0).deniedByReason());
        assertEquals(Map.of(Reason.MACHINE_QUOTA_EXCEEDED, 1L), account.points().get(0).deniedByReason());
        List<DenialRow> report = h.ledger.history().denialReport(new DenialQuery(KRE, null, h.now().minusSeconds(60), h.now().plusSeconds(1)), h.now()).value();
        assertEquals(List.of(
                new DenialRow(ACCOUNT, "free", Reason.MACHINE_QUOTA_EXCEEDED, 1, h.now()),
                new DenialRow(id("A"), "u2", Reason.ORGANIZATION_POOL_EXHAUSTED, 1, h.now())), report);
        assertEquals(List.of(), h.ledger.history().denialReport(new DenialQuery("OTHER", null, h.now().minusSeconds(60), h.now().plusSeconds(1)),
                h.now()).value());
    }

    @Test
    void aDenialReportBucketKeepsItsBoundAndCountsFurtherUsersTogether() {
        LedgerHarness h = strictAccountWithOrgA(10); // the account pool keeps none
        int users = DenialReport.MAX_KEYS_PER_BUCKET + 44;
        for (int i = 0; i < users; i++) {
            h.user("x" + i, null);
            h.acquire("d" + i, "x" + i, "m");
            h.acquire("e" + i, "x" + i, "m");
        }
        h.advance(Duration.ofMinutes(1));
        h.expire();
        List<DenialRow> rows = h.ledger.history().denialReport(new DenialQuery(KRE, null, h.now().minusSeconds(600), h.now()), h.now()).value();
        assertEquals(DenialReport.MAX_KEYS_PER_BUCKET + 1, rows.size());
        assertEquals(new DenialRow(ACCOUNT, DenialReport.OTHER_USERS, Reason.NO_LICENSE_AVAILABLE, 88, DAY_END), rows.get(0));
        assertEquals(2L * users, rows.stream().mapToLong(DenialRow::count).sum());
        assertEquals(2L * users, series(h, "account", DAY_END, h.now(), HistoryStep.MINUTE).points().get(0).denied());
    }

    @Test
    void seatsCountInUseAndGrantsAndRefusedGrantsAndActivationsAreDenials() {
        LedgerHarness h = strictAccountWithOrgA(0);
        String cad = "CAD";
        h.ledger.setSubscription(cad, 3, 100, h.now().plusSeconds(86_400), LicenseModel.NODE_LOCKED, h.now());
        for (String u : List.of("free", "f2", "f3", "f4", "f5", "f6")) {
            h.user(u, null);
        }
        h.ledger.grantLicense(cad, "free", null, h.now());
        h.ledger.grantLicense(cad, "f2", null, h.now());
        h.ledger.grantLicense(cad, "f3", null, h.now());
        assertEquals(Reason.INSUFFICIENT_LICENSES, ((Decision.Denied<?>) h.ledger.grantLicense(cad, "f4", null, h.now())).reason());
        h.ledger.removeLicense(cad, "free", h.now());
        h.ledger.transferLicense(cad, "f2", "f5", null, h.now());
        Decision<Activation> notLicensed = h.ledger.activate(new ActivationRequest(cad, "f6", "m9", "", false, "act", h.now(), h.now().plusSeconds(60)));
        assertEquals(Reason.NOT_LICENSED, ((Decision.Denied<?>) notLicensed).reason());
        h.advance(Duration.ofMinutes(2));
        List<UsageSeries> s = h.ledger.history().usageHistory(new HistoryQuery(cad, ACCOUNT, DAY_END, h.now().plusSeconds(1), HistoryStep.MINUTE), h.now()).value();
        UsagePoint first = s.get(0).points().get(0);
        assertEquals(3, first.peakInUse());
        assertEquals(4, first.granted());
        assertEquals(Map.of(Reason.INSUFFICIENT_LICENSES, 1L, Reason.NOT_LICENSED, 1L), first.deniedByReason());
        assertEquals(List.of(3L, 2L, 2L), peaks(s.get(0)));
    }

    @Test
    void floatingActivationsDoNotCountTheirSeatTwice() {
        LedgerHarness h = strictAccountWithOrgA(0);
        h.ledger.setSubscription("FLT", 2, 100, h.now().plusSeconds(86_400), LicenseModel.FLOATING, h.now());
        h.ledger.grantLicense("FLT", "free", null, h.now());
        h.ledger.activate(new ActivationRequest("FLT", "free", "m1", "", false, "a1", h.now(), h.now().plusSeconds(60)));
        h.ledger.activate(new ActivationRequest("FLT", "free", "m2", "", true, "a2", h.now(), h.now().plusSeconds(60)));
        UsagePoint p = h.ledger.history().usageHistory(new HistoryQuery("FLT", ACCOUNT, h.now(), h.now().plusSeconds(60), HistoryStep.MINUTE), h.now())
                .value().get(0).points().get(0);
        assertEquals(1, p.peakInUse());
        assertEquals(1, p.granted());
    }

    @Test
    void anUnknownProductAnswersEveryPoolAtZeroAndAnUnknownPoolIsNotFound() {
        LedgerHarness h = strictAccountWithOrgA(1);
        h.acquire("s1", "u1", "m1");
        List<UsageSeries> other = h.ledger.history().usageHistory(new HistoryQuery("NOPE", null, h.now(), h.now().plusSeconds(120), HistoryStep.MINUTE),
                h.now()).value();
        assertEquals(List.of(ACCOUNT, id("A")), other.stream().map(UsageSeries::poolId).toList());
        assertTrue(other.stream().allMatch(s -> s.points().size() == 1 && s.points().get(0).peakInUse() == 0));
        Decision<List<UsageSeries>> unknown = h.ledger.history().usageHistory(new HistoryQuery(KRE, "OG-nope", h.now(), h.now().plusSeconds(60),
                HistoryStep.MINUTE), h.now());
        assertEquals(Reason.ORGANIZATION_NOT_FOUND, ((Decision.Denied<?>) unknown).reason());
        assertEquals("pool_id", ((Decision.Denied<?>) unknown).field());
        assertEquals(Reason.ORGANIZATION_NOT_FOUND, ((Decision.Denied<?>) h.ledger.history().denialReport(
                new DenialQuery(KRE, "OG-nope", h.now(), h.now().plusSeconds(60)), h.now())).reason());
    }

    @Test
    void aMirrorOfASharedStoreRecordsNothing() {
        LedgerHarness h = strictAccountWithOrgA(2);
        List<LedgerEvent> changes = new ArrayList<>();
        AccountLedger mirror = AccountLedger.ofConfiguration(ACCOUNT, h.ledger.exportConfiguration(), (a, seq, e) -> changes.add(e));
        mirror.setDedicated(id("A"), KRE, 0, h.now());
        mirror.setDedicated(id("A"), KRE, 1, h.now().plusSeconds(120));
        assertTrue(changes.stream().noneMatch(e -> e instanceof LedgerEvent.UsageRecorded), changes.toString());
    }
}
