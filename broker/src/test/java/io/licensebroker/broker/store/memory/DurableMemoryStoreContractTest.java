package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.Credential;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.Machine;
import io.licensebroker.broker.core.Organization;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Role;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.Subscription;
import io.licensebroker.broker.core.UsagePolicy;
import io.licensebroker.broker.core.User;
import io.licensebroker.broker.store.LicenseStoreContractTest;
import io.licensebroker.testkit.MutableClock;
import io.licensebroker.testkit.Scratch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The store contract on the durable embedded store, plus what durability adds: a reopened store
 * (after a clean close, after a simulated crash, after compaction) has every acknowledged change.
 */
class DurableMemoryStoreContractTest extends LicenseStoreContractTest {
    @TempDir
    Path dir;
    @TempDir
    Path crashDir;
    private final List<LicenseStore> others = new ArrayList<>();

    @Override
    protected LicenseStore newStore(MutableClock clock) {
        return open(dir);
    }

    private MemoryStore open(Path where) {
        return MemoryStore.open(where, true, Duration.ofMinutes(10), Long.MAX_VALUE, clock.instant().plus(TTL));
    }

    private MemoryStore memory() {
        return (MemoryStore) store;
    }

    @AfterEach
    void closeOthers() {
        others.forEach(LicenseStore::close);
    }

    /** Closes the store and opens it again on the same directory. */
    private void reopen() {
        store.close();
        store = null;
        store = open(dir);
    }

    /**
     * A crash: the files as they are on disk right now (the store is not closed, nothing more is
     * flushed), opened by a new store. Every change acknowledged so far must be in it.
     */
    private MemoryStore crashCopy() {
        Scratch.copyTree(dir, crashDir);
        MemoryStore crashed = open(crashDir);
        others.add(crashed);
        return crashed;
    }

    // ---------------------------------------------------------------- what a store holds

    private record AccountState(Account account, Subscription subscription, LicenseUsage usage, List<Organization> organizations,
                                List<User> users, PolicySettings policy, List<Machine> machines, List<Session> sessions) {
    }

    /** Everything observable of the accounts; sessions without their lease (renewals are not journaled). */
    private Map<String, AccountState> capture(LicenseStore s, List<String> accounts) {
        LicenseStore saved = store;
        store = s;
        try {
            Map<String, AccountState> out = new LinkedHashMap<>();
            for (String a : accounts) {
                List<User> users = new ArrayList<>(ok(s.users(a)));
                users.sort(Comparator.comparing(User::userId));
                out.put(a, new AccountState(join(s.account(a)).orElseThrow(), ok(s.subscription(a, KRE)),
                        ok(s.usage(a, KRE, now())), ok(s.organizations(a)), users, ok(s.policy(a)),
                        ok(s.machines(a, KRE, now())),
                        allSessions(a).stream().map(x -> x.withLease(Instant.EPOCH)).toList()));
            }
            return out;
        } finally {
            store = saved;
        }
    }

    private void assertSameState(Map<String, AccountState> expected, LicenseStore actual, List<String> accounts,
                                 List<Credential> credentials, Map<String, Session> liveSessions) {
        Map<String, AccountState> got = capture(actual, accounts);
        for (String a : accounts) {
            AccountState e = expected.get(a);
            AccountState g = got.get(a);
            assertEquals(e.account(), g.account(), a);
            assertEquals(e.subscription(), g.subscription(), a + " subscription");
            assertEquals(e.usage(), g.usage(), a + " usage");
            assertEquals(e.organizations(), g.organizations(), a + " organizations");
            assertEquals(e.users(), g.users(), a + " users");
            assertEquals(e.policy(), g.policy(), a + " policy");
            assertEquals(e.machines(), g.machines(), a + " machines");
            assertEquals(e.sessions(), g.sessions(), a + " sessions");
        }
        for (Credential c : credentials) {
            assertSameCredential(c, join(actual.credential(c.lookupId())).orElseThrow(() -> new AssertionError("lost " + c.lookupId())));
        }
        assertTrue(join(actual.hasSuperAdmin()));
        assertEquals(List.of(), ((MemoryStore) actual).invariantViolations(), "invariants after recovery");
        // every recovered session is live and renewable, as it was
        for (String a : accounts) {
            for (Session s : expected.get(a).sessions()) {
                Session renewed = ok(actual.renew(a, s.id(), s.userId(), now(), now().plus(TTL)));
                assertEquals(s, renewed.withLease(Instant.EPOCH));
            }
        }
        // and the sessions the test kept track of are among them
        for (Session s : liveSessions.values()) {
            assertTrue(expected.get(s.accountId()).sessions().stream().anyMatch(x -> x.id().equals(s.id())), "lost " + s.id());
        }
    }

    /** State a bit of everything goes into: two accounts, a tree, revokes, ended sessions of every kind, keys. */
    private final class World {
        final String a = account("a", 40);
        final String b = account("b", 10);
        final List<Credential> credentials = new ArrayList<>();
        final Map<String, Session> live = new LinkedHashMap<>();
        Session terminated;
        Session expired;

        World() {
            for (Credential c : List.of(
                    new Credential("su" + run, new byte[]{1, 2}, new byte[]{3, 4}, Role.SUPER_ADMIN, null, null),
                    new Credential("ad" + run, new byte[]{5}, new byte[]{6}, Role.ACCOUNT_ADMIN, a, null),
                    new Credential("ag" + run, new byte[]{7}, new byte[]{8}, Role.AGENT, b, "bob"))) {
                ok(store.addCredential(c));
                credentials.add(c);
            }
            String eng = org(a, null, "Eng");
            String web = org(a, eng, "Web");
            String api = org(a, eng, "Api");
            String ops = org(a, null, "Ops");
            org(b, null, "B-Only");
            dedicated(a, eng, 20);
            dedicated(a, web, 8);
            dedicated(a, api, 4);
            dedicated(a, ops, 5);
            user(a, "alice", web, ops);
            user(a, "carol", api);
            user(a, "dave", null, eng);
            user(b, "bob", null);
            ok(store.setPolicy(a, new PolicySettings(UsagePolicy.MEMBER_BASED, true)));
            keep(acquire(a, "alice", "m1"));
            keep(acquire(a, "alice", "m1"));
            keep(acquire(a, "carol", "m2"));
            keep(acquire(a, "dave", "m3"));
            keep(acquire(b, "bob", "bm1"));
            Session released = acquire(a, "alice", "m4");
            ok(store.release(a, released.id(), "alice", now()));
            terminated = acquire(a, "carol", "m2");
            ok(store.terminate(a, terminated.id(), now()));
            ok(store.issueOfflineLicense(a, KRE, "off-1", now().plus(Duration.ofDays(20)), MAX_OFFLINE, now()));
            // a revoke moves web's sessions to eng
            dedicated(a, web, 0);
            ok(store.deactivateMachine(a, KRE, "m4", now()));
            expired = acquire(b, "bob", "bm2");
            clock.advance(Duration.ofSeconds(30));
            // renew everything but `expired`, then let it run out
            for (Session s : List.copyOf(live.values())) {
                keep(ok(store.renew(s.accountId(), s.id(), s.userId(), now(), now().plus(TTL))));
            }
            clock.advance(Duration.ofSeconds(30));
            assertEquals(1, join(store.expireLeases(now())));
            assertInvariants(a);
            assertInvariants(b);
        }

        void keep(Session s) {
            live.put(s.id(), s);
        }

        List<String> accounts() {
            return List.of(a, b);
        }

        /** More changes of every kind, after a compaction. */
        void moreChanges() {
            String ops = ok(store.organizations(a)).stream().filter(o -> o.name().equals("Ops")).findFirst().orElseThrow().id();
            String sre = org(a, ops, "Sre");
            dedicated(a, sre, 2);
            user(a, "erin", sre);
            keep(acquire(a, "erin", "m5"));
            keep(acquire(a, "erin", "m5"));
            Session third = acquire(a, "erin", "m5"); // Sre is full: falls back to the account pool
            assertTrue(third.fallback());
            keep(third);
            ok(store.setPolicy(a, new PolicySettings(UsagePolicy.STRICT, true)));
            dedicated(a, ops, 0);
            Session gone = live.values().stream().filter(s -> s.userId().equals("dave")).findFirst().orElseThrow();
            ok(store.release(a, gone.id(), "dave", now()));
            live.remove(gone.id());
            ok(store.setSubscription(b, KRE, 12, 50, now().plus(Duration.ofDays(100)), now()));
            ok(store.issueOfflineLicense(b, KRE, "off-b", now().plus(Duration.ofDays(3)), MAX_OFFLINE, now()));
            Credential late = new Credential("late" + run, new byte[]{9}, new byte[]{10}, Role.ACCOUNT_ADMIN, b, null);
            ok(store.addCredential(late));
            credentials.add(late);
            assertInvariants(a);
            assertInvariants(b);
        }
    }

    // ---------------------------------------------------------------- durability

    @Test
    void closeAndReopenGivesEverythingBack() {
        World w = new World();
        Map<String, AccountState> before = capture(store, w.accounts());
        reopen();
        assertSameState(before, store, w.accounts(), w.credentials, w.live);
        assertEquals(Reason.SESSION_TERMINATED, denied(renew(w.a, w.terminated)));
        assertEquals(Reason.SESSION_EXPIRED, denied(renew(w.b, w.expired)));
        assertInvariants(w.a);
        // and it goes on: new organizations get fresh ids
        List<String> existing = new ArrayList<>();
        for (String a : w.accounts()) {
            ok(store.organizations(a)).forEach(o -> existing.add(o.id()));
        }
        String fresh = org(w.a, null, "After restart");
        assertFalse(existing.contains(fresh), fresh + " reused an id");
        assertEquals(java.util.Optional.of(w.a), join(store.accountOfOrganization(fresh)));
    }

    @Test
    void aRevocationSurvivesRestartCompactionAndCrash() {
        String a = account("rv", 1);
        Credential kept = new Credential("keep" + run, new byte[]{1}, new byte[]{2}, Role.AGENT, a, "alice");
        Credential gone = new Credential("gone" + run, new byte[]{3}, new byte[]{4}, Role.AGENT, a, "alice");
        Credential root = new Credential("root" + run, new byte[]{5}, new byte[]{6}, Role.SUPER_ADMIN, null, null);
        for (Credential c : List.of(kept, gone, root)) {
            ok(store.addCredential(c));
        }
        ok(store.revokeCredential(gone.lookupId()));
        ok(store.revokeCredential(root.lookupId()));
        MemoryStore crashed = crashCopy();
        assertEquals(Optional.empty(), join(crashed.credential(gone.lookupId())), "after a crash");
        reopen();
        assertEquals(Optional.empty(), join(store.credential(gone.lookupId())), "after a restart");
        assertSameCredential(kept, join(store.credential(kept.lookupId())).orElseThrow());
        memory().compact();
        reopen();
        assertEquals(Optional.empty(), join(store.credential(gone.lookupId())), "after compaction and a restart");
        assertEquals(Optional.empty(), join(store.credential(root.lookupId())));
        assertSameCredential(kept, join(store.credential(kept.lookupId())).orElseThrow());
        assertTrue(join(store.hasSuperAdmin()), "a revoked SUPER_ADMIN still counts as 'one was stored' after compaction");
        assertEquals(Reason.CREDENTIAL_NOT_FOUND, denied(store.revokeCredential(gone.lookupId())));
    }

    @Test
    void aCrashWithoutCloseKeepsEveryAcknowledgedChange() {
        World w = new World();
        Map<String, AccountState> before = capture(store, w.accounts());
        MemoryStore crashed = crashCopy();
        assertSameState(before, crashed, w.accounts(), w.credentials, w.live);
        assertEquals(Reason.SESSION_TERMINATED, denied(crashed.renew(w.a, w.terminated.id(), "carol", now(), now().plus(TTL))));
    }

    @Test
    void compactionThenMoreChangesThenReopen() {
        World w = new World();
        memory().compact();
        w.moreChanges();
        Map<String, AccountState> before = capture(store, w.accounts());
        MemoryStore crashed = crashCopy();
        assertSameState(before, crashed, w.accounts(), w.credentials, w.live);
        reopen();
        assertSameState(before, store, w.accounts(), w.credentials, w.live);
        // compact again on the recovered store, change, reopen once more
        memory().compact();
        Session extra = acquire(w.b, "bob", "bm1");
        w.keep(extra);
        Map<String, AccountState> again = capture(store, w.accounts());
        reopen();
        assertSameState(again, store, w.accounts(), w.credentials, w.live);
    }

    @Test
    void recoveredLeasesLastAtLeastUntilTheRecoveryLease() {
        String a = account("a", 5);
        user(a, "u", null);
        Session s = acquire(a, "u", "m");
        clock.advance(Duration.ofSeconds(50));
        reopen(); // the recovered lease runs to now + TTL, past the original lease
        Session listed = allSessions(a).get(0);
        assertEquals(s.id(), listed.id());
        assertEquals(now().plus(TTL), listed.leaseExpiresAt());
        clock.advance(Duration.ofSeconds(59));
        assertEquals(0, join(store.expireLeases(now())));
        clock.advance(Duration.ofSeconds(1));
        assertEquals(1, join(store.expireLeases(now())));
        assertEquals(Reason.SESSION_EXPIRED, denied(renew(a, s)));
    }

    /** "Any other org" takes orgs in creation order, before and after a compaction and restart. */
    @Test
    void anyOtherOrgOrderSurvivesCompactionAndRestart() {
        String a = account("a", 3);
        String first = org(a, null, "First");
        String second = org(a, null, "Second");
        String childOfFirst = org(a, first, "Child of first"); // created third, listed second
        dedicated(a, first, 1);
        dedicated(a, childOfFirst, 1);
        dedicated(a, second, 1);
        user(a, "u", null);
        acquire(a, "u", "m"); // the account pool's last license
        LicenseUsage before = usage(a);
        assertEquals("3/1/1/0", figures(a, a));
        memory().compact();
        reopen();
        assertEquals(before, usage(a));
        assertEquals(second, acquire(a, "u", "m").poolId());
        assertEquals(childOfFirst, acquire(a, "u", "m").poolId());
    }

    /** An offline license re-issued to a machine after its first one expired: the restart must not lose a license. */
    @Test
    void reissuedOfflineLicenseSurvivesRestart() {
        String a = account("a", 2);
        user(a, "u", null);
        ok(store.issueOfflineLicense(a, KRE, "off", now().plus(Duration.ofDays(1)), MAX_OFFLINE, now()));
        clock.advance(Duration.ofDays(2));
        ok(store.issueOfflineLicense(a, KRE, "off", now().plus(Duration.ofDays(1)), MAX_OFFLINE, now()));
        acquire(a, "u", "m");
        LicenseUsage before = usage(a);
        assertEquals("1/1/1/0", figures(a, a));
        reopen();
        assertEquals(before, usage(a));
        assertInvariants(a);
        assertEquals(List.of(), memory().invariantViolations());
    }
}
