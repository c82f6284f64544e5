package io.licensebroker.broker.testing;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AccountLedger;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.LedgerEvent;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.OfflineLicense;
import io.licensebroker.broker.core.Organization;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.PoolRow;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.SessionQuery;
import io.licensebroker.broker.core.Subscription;
import io.licensebroker.broker.core.UsagePolicy;
import io.licensebroker.broker.core.User;
import io.licensebroker.testkit.MutableClock;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One {@link AccountLedger} under test with readable names: organization "A" has id "OG-A",
 * "account" names the account pool, session "s1" has id "AC-1.s1". Time only moves through
 * {@link #clock}; every journaled event is kept in {@link #journal} (and its seq checked).
 */
public final class LedgerHarness {
    public static final String ACCOUNT = "AC-1";
    public static final String KRE = "KRE";
    public static final Duration MAX_OFFLINE = Duration.ofDays(60);

    public record Recorded(long seq, LedgerEvent event) {
    }

    public final MutableClock clock;
    public final AccountLedger ledger;
    public final List<Recorded> journal = new ArrayList<>();
    public Duration leaseTtl = Duration.ofSeconds(60);

    public LedgerHarness() {
        this(Duration.ofMinutes(10));
    }

    public LedgerHarness(Duration tombstoneRetention) {
        this.clock = MutableClock.at("2030-01-01T00:00:00Z");
        this.ledger = new AccountLedger(ACCOUNT, (account, seq, event) -> {
            if (!ACCOUNT.equals(account)) {
                throw new AssertionError("event journaled for account " + account);
            }
            long expected = journal.isEmpty() ? 1 : journal.get(journal.size() - 1).seq() + 1;
            if (seq != expected) {
                throw new AssertionError("journal seq " + seq + ", expected " + expected);
            }
            journal.add(new Recorded(seq, event));
        }, tombstoneRetention);
        ledger.create(new Account(ACCOUNT, "Acme"));
    }

    /** Wraps an existing ledger of {@link #ACCOUNT} (one rebuilt by replay), with its own clock at {@code now}. */
    public LedgerHarness(AccountLedger ledger, Instant now) {
        this.clock = new MutableClock(now);
        this.ledger = ledger;
    }

    /** "account" (or the account id) is the account pool; anything else is an organization label. */
    public static String id(String label) {
        if (label == null) {
            return null;
        }
        if (label.equals("account") || label.equals(ACCOUNT)) {
            return ACCOUNT;
        }
        return label.startsWith("OG-") ? label : "OG-" + label;
    }

    public static String sid(String label) {
        return ACCOUNT + "." + label;
    }

    public Instant now() {
        return clock.instant();
    }

    public Instant advance(Duration d) {
        return clock.advance(d);
    }

    public Decision<Subscription> subscribe(long licenses, long machineQuota) {
        return subscribe(licenses, machineQuota, now().plus(Duration.ofDays(365)));
    }

    public Decision<Subscription> subscribe(long licenses, long machineQuota, Instant expiresAt) {
        return ledger.setSubscription(KRE, licenses, machineQuota, expiresAt, now());
    }

    public Decision<Organization> org(String label, String parentLabel) {
        return ledger.createOrganization(id(label), parentLabel == null ? null : id(parentLabel), "org " + label);
    }

    public Decision<LicenseUsage> dedicated(String label, long licenses) {
        return ledger.setDedicated(id(label), KRE, licenses, now());
    }

    public Decision<User> user(String userId, String assignedLabel, String... projectLabels) {
        return ledger.upsertUser(userId, id(assignedLabel), Arrays.stream(projectLabels).map(LedgerHarness::id).toList());
    }

    public PolicySettings policy(UsagePolicy policy, boolean fallback) {
        return ledger.setPolicy(new PolicySettings(policy, fallback));
    }

    public Decision<Session> acquire(String sessionLabel, String userId, String machineId) {
        return acquire(sessionLabel, userId, machineId, "");
    }

    public Decision<Session> acquire(String sessionLabel, String userId, String machineId, String requestId) {
        return ledger.acquire(new AcquireRequest(KRE, userId, machineId, requestId, sid(sessionLabel), now(), now().plus(leaseTtl)));
    }

    public Decision<Session> renew(String sessionLabel, String userId) {
        return ledger.renew(sid(sessionLabel), userId, now(), now().plus(leaseTtl));
    }

    public Decision<Boolean> release(String sessionLabel, String userId) {
        return ledger.release(sid(sessionLabel), userId, now());
    }

    public boolean terminate(String sessionLabel) {
        return ledger.terminate(sid(sessionLabel), now());
    }

    public int expire() {
        return ledger.expire(now(), Integer.MAX_VALUE);
    }

    public Decision<OfflineLicense> offline(String machineId, Instant expiresAt) {
        return ledger.issueOfflineLicense(KRE, machineId, expiresAt, MAX_OFFLINE, now());
    }

    public boolean deactivate(String machineId) {
        return ledger.deactivateMachine(KRE, machineId, now());
    }

    public LicenseUsage usage() {
        return ledger.usage(KRE, now());
    }

    public PoolRow row(String label) {
        return usage().row(id(label));
    }

    public Session session(String sessionLabel) {
        return ledger.session(sid(sessionLabel));
    }

    /** Every live session, in id order. */
    public List<Session> sessions() {
        return ledger.sessions(new SessionQuery(null, null, null, null, Integer.MAX_VALUE, null)).sessions();
    }
}
