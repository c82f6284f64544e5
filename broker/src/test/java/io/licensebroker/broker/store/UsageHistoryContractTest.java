package io.licensebroker.broker.store;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.ActivationRequest;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.DenialQuery;
import io.licensebroker.broker.core.DenialRow;
import io.licensebroker.broker.core.HistoryQuery;
import io.licensebroker.broker.core.HistoryStep;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.LicenseModel;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.UsagePoint;
import io.licensebroker.broker.core.UsagePolicy;
import io.licensebroker.broker.core.UsageSeries;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every {@link LicenseStore} must answer about usage history and denials (CONTRACT.md section
 * 7), through the interface only: a known load driven with the test clock across minute, hour and
 * day boundaries, read back exactly at every step, on session and seat products; each store
 * subclasses it with its factory. A store that keeps history across a restart overrides
 * {@link #restarted}; the scenario then reads everything again from the restarted store.
 */
public abstract class UsageHistoryContractTest extends StoreSuite {
    protected static final String KRE = "KRE";
    protected static final String KSE = "KSE";
    /** Leases long enough that none runs out unless a test says so. */
    protected static final Duration LONG_LEASE = Duration.ofDays(7);
    protected static final Instant DAY_END = Instant.parse("2030-01-01T23:59:10Z");

    /**
     * The store as it is after a restart (the broker stopped and started again on the same data);
     * the default, for a store that keeps nothing, is the store itself.
     */
    protected LicenseStore restarted() {
        return store;
    }

    // ---------------------------------------------------------------- helpers

    protected Instant now() {
        return clock.instant();
    }

    protected void at(String instant) {
        clock.set(Instant.parse(instant));
    }

    /** What the broker's periodic lease expiry does; it also closes the minute in progress. */
    protected void tick() {
        join(store.expireLeases(now()));
    }

    /** KRE 10 licenses, organization A of {@code orgLicenses}, STRICT without fallback, u1..u7 in A and "free" in none. */
    protected String[] account(String name, long orgLicenses) {
        String id = "AC-" + run + "-" + name;
        ok(store.createAccount(new Account(id, "Account " + name)));
        ok(store.setSubscription(id, KRE, 10, 100, now().plus(Duration.ofDays(365)), now()));
        String a = ok(store.createOrganization(id, null, "A")).id();
        ok(store.setDedicated(id, a, KRE, orgLicenses, now()));
        ok(store.setPolicy(id, new PolicySettings(UsagePolicy.STRICT, false)));
        for (int i = 1; i <= 7; i++) {
            ok(store.upsertUser(id, "u" + i, a, List.of()));
        }
        ok(store.upsertUser(id, "free", null, List.of()));
        return new String[]{id, a};
    }

    protected Decision<Session> tryAcquire(String account, String user) {
        return join(store.acquire(account, new AcquireRequest(KRE, user, "m-" + user, "", Ids.newSessionId(account, RANDOM),
                now(), now().plus(LONG_LEASE))));
    }

    protected Session acquire(String account, String user) {
        Decision<Session> d = tryAcquire(account, user);
        assertTrue(d.isGranted(), d.toString());
        return d.value();
    }

    protected void release(String account, Session s) {
        assertEquals(true, ok(store.release(account, s.id(), s.userId(), now())));
    }

    protected List<UsageSeries> history(String account, String product, String pool, Instant from, Instant to, HistoryStep step) {
        return ok(store.usageHistory(account, new HistoryQuery(product, pool, from, to, step), now()));
    }

    protected UsageSeries series(String account, String pool, Instant from, Instant to, HistoryStep step) {
        List<UsageSeries> all = history(account, KRE, pool, from, to, step);
        assertEquals(1, all.size());
        assertEquals(pool, all.get(0).poolId());
        return all.get(0);
    }

    protected static List<Long> peaks(UsageSeries s) {
        return s.points().stream().map(UsagePoint::peakInUse).toList();
    }

    protected static List<Long> granted(UsageSeries s) {
        return s.points().stream().map(UsagePoint::granted).toList();
    }

    protected static List<Long> denied(UsageSeries s) {
        return s.points().stream().map(UsagePoint::denied).toList();
    }

    private static List<Long> repeat(long value, int times) {
        return Collections.nCopies(times, value);
    }

    private static List<Long> concat(List<Long> a, List<Long> b, List<Long> c, List<Long> d) {
        List<Long> out = new ArrayList<>(a);
        out.addAll(b);
        out.addAll(c);
        out.addAll(d);
        return out;
    }

    // ---------------------------------------------------------------- the known load

    /**
     * 23:59 on day one: A goes to 3, 2, then 4 (five grants), a sixth user is refused (STRICT), and
     * a user of no organization takes one of the account pool. 00:00 the next day: one release.
     * Nothing until 01:00, when one more comes. Every change at once on the store's answers.
     */
    protected String[] knownLoad() {
        clock.set(DAY_END);
        String[] ids = account("load", 4);
        String acct = ids[0];
        Session s1 = acquire(acct, "u1");
        Session s2 = acquire(acct, "u2");
        acquire(acct, "u3");
        release(acct, s1);
        acquire(acct, "u4");
        acquire(acct, "u5");
        assertEquals(Reason.ORGANIZATION_POOL_EXHAUSTED, ((Decision.Denied<Session>) tryAcquire(acct, "u6")).reason());
        acquire(acct, "free");
        at("2030-01-02T00:00:20Z");
        release(acct, s2);
        tick();
        at("2030-01-02T01:00:30Z");
        acquire(acct, "u7");
        at("2030-01-02T01:01:30Z");
        tick();
        return ids;
    }

    protected void assertKnownLoad(String acct, String a) {
        Instant from = Instant.parse("2030-01-01T23:59:00Z");
        Instant to = Instant.parse("2030-01-02T01:02:00Z");
        // 23:59, 00:00, 00:01-00:59 (held 3, nothing recorded), 01:00, 01:01 (in progress)
        UsageSeries minutes = series(acct, a, from, to, HistoryStep.MINUTE);
        assertEquals(concat(List.of(4L, 4L), repeat(3, 59), List.of(4L), List.of(4L)), peaks(minutes));
        assertEquals(concat(List.of(5L, 0L), repeat(0, 59), List.of(1L), List.of(0L)), granted(minutes));
        assertEquals(Map.of(Reason.ORGANIZATION_POOL_EXHAUSTED, 1L), minutes.points().get(0).deniedByReason());
        assertEquals(1L, minutes.points().get(0).denied());
        assertEquals(0L, denied(minutes).stream().skip(1).mapToLong(Long::longValue).sum());
        assertEquals(from, minutes.points().get(0).start());
        assertEquals(Instant.parse("2030-01-02T01:01:00Z"), minutes.points().get(62).start());

        UsageSeries account = series(acct, acct, from, to, HistoryStep.MINUTE);
        assertEquals(repeat(1, 63), peaks(account));
        assertEquals(1L, account.points().get(0).granted());

        UsageSeries hours = series(acct, a, Instant.parse("2030-01-01T23:00:00Z"), Instant.parse("2030-01-02T03:00:00Z"), HistoryStep.HOUR);
        assertEquals(List.of(4L, 4L, 4L), peaks(hours));
        assertEquals(List.of(5L, 0L, 1L), granted(hours));
        assertEquals(List.of(1L, 0L, 0L), denied(hours));

        UsageSeries days = series(acct, a, Instant.parse("2030-01-01T00:00:00Z"), Instant.parse("2030-01-03T00:00:00Z"), HistoryStep.DAY);
        assertEquals(List.of(4L, 4L), peaks(days));
        assertEquals(List.of(5L, 1L), granted(days));
        assertEquals(List.of(1L, 0L), denied(days));

        List<UsageSeries> every = history(acct, KRE, null, from, Instant.parse("2030-01-02T00:00:00Z"), HistoryStep.MINUTE);
        assertEquals(List.of(acct, a), every.stream().map(UsageSeries::poolId).toList());

        assertEquals(List.of(new DenialRow(a, "u6", Reason.ORGANIZATION_POOL_EXHAUSTED, 1, DAY_END)),
                ok(store.denialReport(acct, new DenialQuery(KRE, null, Instant.parse("2030-01-01T00:00:00Z"), now()), now())));
        assertEquals(List.of(), ok(store.denialReport(acct, new DenialQuery(KRE, acct, Instant.parse("2030-01-01T00:00:00Z"), now()), now())));
    }

    @Test
    void exactPeaksGrantsAndDenialsAtEveryStepAcrossMinuteHourAndDay() {
        String[] ids = knownLoad();
        assertKnownLoad(ids[0], ids[1]);
        store = restarted();
        assertKnownLoad(ids[0], ids[1]);
    }

    @Test
    void aPeakWithinAMinuteIsKeptAndMinutesAreKept48Hours() {
        clock.set(DAY_END);
        String[] ids = account("transient", 4);
        List<Session> held = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            held.add(acquire(ids[0], "u" + i));
        }
        held.forEach(s -> release(ids[0], s));
        clock.advance(Duration.ofMinutes(2));
        tick();
        Instant from = Instant.parse("2030-01-01T23:59:00Z");
        assertEquals(List.of(3L, 0L, 0L), peaks(series(ids[0], ids[1], from, now(), HistoryStep.MINUTE)));
        clock.advance(Duration.ofHours(49));
        tick();
        UsageSeries minutes = series(ids[0], ids[1], from, now(), HistoryStep.MINUTE);
        assertEquals(HistoryStep.MINUTE.capacity(), minutes.points().size());
        assertTrue(minutes.points().stream().allMatch(p -> p.peakInUse() == 0 && p.granted() == 0));
        assertEquals(List.of(3L, 0L), peaks(series(ids[0], ids[1], Instant.parse("2030-01-01T23:00:00Z"),
                Instant.parse("2030-01-02T01:00:00Z"), HistoryStep.HOUR)));
        assertEquals(3L, series(ids[0], ids[1], Instant.parse("2030-01-01T00:00:00Z"), Instant.parse("2030-01-02T00:00:00Z"),
                HistoryStep.DAY).points().get(0).granted());
    }

    @Test
    void seatsCountInUseGrantsCountAsGrantedAndRefusedGrantsAndActivationsAsDenials() {
        clock.set(DAY_END);
        String acct = "AC-" + run + "-seats";
        ok(store.createAccount(new Account(acct, "Seats")));
        ok(store.setSubscription(acct, KSE, 3, 100, now().plus(Duration.ofDays(365)), LicenseModel.NODE_LOCKED, now()));
        for (int i = 1; i <= 6; i++) {
            ok(store.upsertUser(acct, "u" + i, null, List.of()));
        }
        ok(store.grantLicense(acct, KSE, "u1", null, now()));
        ok(store.grantLicense(acct, KSE, "u2", null, now()));
        ok(store.grantLicense(acct, KSE, "u3", null, now()));
        assertEquals(Reason.INSUFFICIENT_LICENSES, denied(store.grantLicense(acct, KSE, "u4", null, now())));
        assertEquals(true, ok(store.removeLicense(acct, KSE, "u1", now())));
        ok(store.transferLicense(acct, KSE, "u2", "u5", null, now()));
        assertEquals(Reason.NOT_LICENSED, denied(store.activate(acct, new ActivationRequest(KSE, "u6", "m6", "", false,
                Ids.newSessionId(acct, RANDOM), now(), now().plus(TTL)))));
        clock.advance(Duration.ofMinutes(2));
        tick();
        List<UsageSeries> seats = history(acct, KSE, null, DAY_END, now(), HistoryStep.MINUTE);
        assertEquals(1, seats.size());
        assertEquals(List.of(3L, 2L, 2L), peaks(seats.get(0)));
        UsagePoint first = seats.get(0).points().get(0);
        assertEquals(4, first.granted());
        assertEquals(Map.of(Reason.INSUFFICIENT_LICENSES, 1L, Reason.NOT_LICENSED, 1L), first.deniedByReason());
        List<DenialRow> report = ok(store.denialReport(acct, new DenialQuery(KSE, null, DAY_END, now()), now()));
        assertEquals(List.of(new DenialRow(acct, "u4", Reason.INSUFFICIENT_LICENSES, 1, DAY_END),
                new DenialRow(acct, "u6", Reason.NOT_LICENSED, 1, DAY_END)), report);
        store = restarted();
        assertEquals(seats, history(acct, KSE, null, DAY_END, now(), HistoryStep.MINUTE));
        assertEquals(report, ok(store.denialReport(acct, new DenialQuery(KSE, null, DAY_END, now()), now())));
    }

    @Test
    void unknownAccountsAndPoolsAreRefusedAndAnUnknownProductIsAllZero() {
        String[] ids = account("unknowns", 2);
        acquire(ids[0], "u1");
        HistoryQuery q = new HistoryQuery(KRE, null, now(), now().plusSeconds(120), HistoryStep.MINUTE);
        DenialQuery d = new DenialQuery(KRE, null, now(), now().plusSeconds(120));
        assertEquals(Reason.ACCOUNT_NOT_FOUND, denied(store.usageHistory("AC-" + run + "-nobody", q, now())));
        assertEquals(Reason.ACCOUNT_NOT_FOUND, denied(store.denialReport("AC-" + run + "-nobody", d, now())));
        assertEquals(Reason.ORGANIZATION_NOT_FOUND, denied(store.usageHistory(ids[0],
                new HistoryQuery(KRE, "OG-" + run + "-none", now(), now().plusSeconds(60), HistoryStep.MINUTE), now())));
        assertEquals(Reason.ORGANIZATION_NOT_FOUND, denied(store.denialReport(ids[0],
                new DenialQuery(KRE, "OG-" + run + "-none", now(), now().plusSeconds(60)), now())));
        List<UsageSeries> other = history(ids[0], "NOPE", null, now(), now().plusSeconds(120), HistoryStep.MINUTE);
        assertEquals(List.of(ids[0], ids[1]), other.stream().map(UsageSeries::poolId).toList());
        assertTrue(other.stream().allMatch(s -> peaks(s).equals(List.of(0L))), other.toString());
        assertEquals(List.of(1L), peaks(history(ids[0], KRE, ids[1], now(), now().plusSeconds(120), HistoryStep.MINUTE).get(0)));
    }
}
