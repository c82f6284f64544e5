package io.licensebroker.broker.store;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Credential;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.Machine;
import io.licensebroker.broker.core.OfflineLicense;
import io.licensebroker.broker.core.Organization;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.PoolRow;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Role;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.SessionPage;
import io.licensebroker.broker.core.SessionQuery;
import io.licensebroker.broker.core.Subscription;
import io.licensebroker.broker.core.UsagePolicy;
import io.licensebroker.broker.core.User;
import io.licensebroker.testkit.MutableClock;
import io.licensebroker.broker.testing.UsageInvariants;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What every {@link LicenseStore} must do, through the interface only: each store (embedded
 * volatile, embedded durable, Redis...) subclasses this suite with its factory. Account ids are
 * unique per test so stores that outlive a test (a shared server) can run it too.
 */
public abstract class LicenseStoreContractTest {
    protected static final String KRE = "KRE";
    protected static final Duration TTL = Duration.ofSeconds(60);
    protected static final Duration MAX_OFFLINE = Duration.ofDays(60);
    private static final SecureRandom RANDOM = new SecureRandom();

    protected MutableClock clock;
    protected LicenseStore store;
    /** Distinguishes this test's accounts from any other test's on a shared store. */
    protected final String run = Ids.random(RANDOM, 8).toUpperCase();

    /** A new, empty store reading time from {@code clock} where it needs time of its own. */
    protected abstract LicenseStore newStore(MutableClock clock);

    @BeforeEach
    void openStore() {
        clock = MutableClock.at("2030-01-01T00:00:00Z");
        store = newStore(clock);
    }

    @AfterEach
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    // ---------------------------------------------------------------- helpers

    public static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("the store did not answer: " + e, e);
        }
    }

    public static <T> T ok(CompletionStage<Decision<T>> stage) {
        Decision<T> d = join(stage);
        if (!d.isGranted()) {
            fail("expected granted, got " + d);
        }
        return d.value();
    }

    public static Reason denied(CompletionStage<? extends Decision<?>> stage) {
        Decision<?> d = join(stage);
        if (d instanceof Decision.Denied<?> denied) {
            return denied.reason();
        }
        throw new AssertionError("expected a denial, got " + d);
    }

    protected String acct(String name) {
        return "AC-" + run + "-" + name;
    }

    protected Instant now() {
        return clock.instant();
    }

    /** A new account with a KRE subscription of {@code licenses} (machine quota 100, a year long). */
    protected String account(String name, long licenses) {
        String id = acct(name);
        assertEquals(new Account(id, "Account " + name), ok(store.createAccount(new Account(id, "Account " + name))));
        ok(store.setSubscription(id, KRE, licenses, 100, now().plus(Duration.ofDays(365)), now()));
        return id;
    }

    protected String org(String account, String parent, String name) {
        return ok(store.createOrganization(account, parent, name)).id();
    }

    protected LicenseUsage dedicated(String account, String org, long licenses) {
        return ok(store.setDedicated(account, org, KRE, licenses, now()));
    }

    protected User user(String account, String userId, String assigned, String... projects) {
        return ok(store.upsertUser(account, userId, assigned, List.of(projects)));
    }

    protected AcquireRequest request(String account, String userId, String machine, String requestId) {
        return new AcquireRequest(KRE, userId, machine, requestId, Ids.newSessionId(account, RANDOM), now(), now().plus(TTL));
    }

    protected CompletionStage<Decision<Session>> tryAcquire(String account, String userId, String machine) {
        return store.acquire(account, request(account, userId, machine, ""));
    }

    protected Session acquire(String account, String userId, String machine) {
        return ok(tryAcquire(account, userId, machine));
    }

    protected CompletionStage<Decision<Session>> renew(String account, Session s) {
        return store.renew(account, s.id(), s.userId(), now(), now().plus(TTL));
    }

    protected LicenseUsage usage(String account) {
        return ok(store.usage(account, KRE, now()));
    }

    protected PoolRow row(String account, String pool) {
        PoolRow r = usage(account).row(pool);
        assertNotNull(r, "no row " + pool);
        return r;
    }

    /** "dedicated/pool/in_use/available" of one row. */
    protected String figures(String account, String pool) {
        PoolRow r = row(account, pool);
        return r.dedicated() + "/" + r.pool() + "/" + r.inUse() + "/" + r.available();
    }

    protected List<Session> allSessions(String account) {
        List<Session> out = new ArrayList<>();
        String token = null;
        do {
            SessionPage page = ok(store.sessions(account, new SessionQuery(null, null, null, null, 100, token)));
            out.addAll(page.sessions());
            token = page.nextPageToken();
        } while (token != null);
        return out;
    }

    /** The contract's invariant on the account's usage table, and the in_use figures match the live sessions. */
    protected void assertInvariants(String account) {
        LicenseUsage u = usage(account);
        assertEquals(List.of(), UsageInvariants.violations(u), "invariants of " + account);
        long live = allSessions(account).stream().filter(s -> s.product().equals(KRE)).count();
        assertEquals(live, UsageInvariants.totalInUse(u), "sum of in_use vs live sessions of " + account);
    }

    // ---------------------------------------------------------------- accounts

    @Test
    void accountsAreCreatedOnce() {
        String a = acct("a");
        String b = acct("b");
        assertEquals(new Account(a, "Alpha"), ok(store.createAccount(new Account(a, "Alpha"))));
        assertEquals(Reason.ALREADY_EXISTS, denied(store.createAccount(new Account(a, "Again"))));
        ok(store.createAccount(new Account(b, "Beta")));
        assertEquals(Optional.of(new Account(a, "Alpha")), join(store.account(a)));
        assertEquals(Optional.empty(), join(store.account(acct("nope"))));
        assertTrue(join(store.accounts()).containsAll(List.of(new Account(a, "Alpha"), new Account(b, "Beta"))));
        assertFalse(join(store.accounts()).stream().anyMatch(x -> x.id().equals(acct("nope"))));
    }

    @Test
    void everyVerbAnswersAccountNotFoundForAnUnknownAccount() {
        String known = account("known", 5);
        String org = org(known, null, "Eng");
        user(known, "alice", null);
        Session live = acquire(known, "alice", "m1");
        String x = acct("unknown");
        Map<String, Supplier<CompletionStage<? extends Decision<?>>>> verbs = new LinkedHashMap<>();
        verbs.put("addCredential admin", () -> store.addCredential(new Credential("lk" + run + "1", new byte[16], new byte[32], Role.ACCOUNT_ADMIN, x, null)));
        verbs.put("addCredential agent", () -> store.addCredential(new Credential("lk" + run + "2", new byte[16], new byte[32], Role.AGENT, x, "alice")));
        verbs.put("setSubscription", () -> store.setSubscription(x, KRE, 5, 5, now().plus(Duration.ofDays(1)), now()));
        verbs.put("subscription", () -> store.subscription(x, KRE));
        verbs.put("createOrganization", () -> store.createOrganization(x, null, "Eng"));
        verbs.put("organizations", () -> store.organizations(x));
        verbs.put("setDedicated", () -> store.setDedicated(x, org, KRE, 1, now()));
        verbs.put("upsertUser", () -> store.upsertUser(x, "alice", null, List.of()));
        verbs.put("user", () -> store.user(x, "alice"));
        verbs.put("users", () -> store.users(x));
        verbs.put("setPolicy", () -> store.setPolicy(x, PolicySettings.DEFAULT));
        verbs.put("policy", () -> store.policy(x));
        verbs.put("usage", () -> store.usage(x, KRE, now()));
        verbs.put("acquire", () -> store.acquire(x, request(x, "alice", "m1", "")));
        verbs.put("renew", () -> store.renew(x, live.id(), "alice", now(), now().plus(TTL)));
        verbs.put("release", () -> store.release(x, live.id(), "alice", now()));
        verbs.put("terminate", () -> store.terminate(x, live.id(), now()));
        verbs.put("sessions", () -> store.sessions(x, new SessionQuery(null, null, null, null, 10, null)));
        verbs.put("machines", () -> store.machines(x, KRE, now()));
        verbs.put("deactivateMachine", () -> store.deactivateMachine(x, KRE, "m1", now()));
        verbs.put("issueOfflineLicense", () -> store.issueOfflineLicense(x, KRE, "m1", now().plus(Duration.ofDays(1)), MAX_OFFLINE, now()));
        List<String> wrong = new ArrayList<>();
        verbs.forEach((name, call) -> {
            Decision<?> d = join(call.get());
            if (!(d instanceof Decision.Denied<?> denied) || denied.reason() != Reason.ACCOUNT_NOT_FOUND) {
                wrong.add(name + " -> " + d);
            }
        });
        assertEquals(List.of(), wrong);
        // nothing was created on the way, and the known account is untouched
        assertEquals(Optional.empty(), join(store.account(x)));
        assertEquals(Reason.ACCOUNT_NOT_FOUND, denied(store.policy(x)));
        assertEquals(1, row(known, known).inUse());
        assertEquals(live.leaseExpiresAt(), ok(renew(known, live)).leaseExpiresAt());
        assertInvariants(known);
    }

    // ---------------------------------------------------------------- credentials

    @Test
    void credentialsAreFoundByTheirLookupId() {
        String a = account("a", 1);
        Credential superAdmin = new Credential("su" + run, new byte[]{1, 2, 3}, new byte[]{4, 5, 6}, Role.SUPER_ADMIN, null, null);
        Credential admin = new Credential("ad" + run, new byte[]{7}, new byte[]{8, 9}, Role.ACCOUNT_ADMIN, a, null);
        Credential agent = new Credential("ag" + run, new byte[]{10}, new byte[]{11}, Role.AGENT, a, "alice");
        for (Credential c : List.of(superAdmin, admin, agent)) {
            ok(store.addCredential(c));
        }
        for (Credential c : List.of(superAdmin, admin, agent)) {
            Credential found = join(store.credential(c.lookupId())).orElseThrow(() -> new AssertionError("no " + c.lookupId()));
            assertSameCredential(c, found);
        }
        assertEquals(Optional.empty(), join(store.credential("missing" + run)));
    }

    @Test
    void hasSuperAdminOnceASuperAdminCredentialIsStored() {
        assertFalse(join(store.hasSuperAdmin()), "a new store has no super admin");
        String a = account("a", 1);
        ok(store.addCredential(new Credential("ad" + run, new byte[]{1}, new byte[]{2}, Role.ACCOUNT_ADMIN, a, null)));
        ok(store.addCredential(new Credential("ag" + run, new byte[]{1}, new byte[]{2}, Role.AGENT, a, "alice")));
        assertFalse(join(store.hasSuperAdmin()), "account admins and agents are not super admins");
        ok(store.addCredential(new Credential("su" + run, new byte[]{1}, new byte[]{2}, Role.SUPER_ADMIN, null, null)));
        assertTrue(join(store.hasSuperAdmin()));
    }

    @Test
    void aRevokedCredentialIsUnknownAtOnceAndCannotBeRevokedTwice() {
        String a = account("a", 1);
        Credential superAdmin = new Credential("rs" + run, new byte[]{1}, new byte[]{2}, Role.SUPER_ADMIN, null, null);
        Credential admin = new Credential("ra" + run, new byte[]{3}, new byte[]{4}, Role.ACCOUNT_ADMIN, a, null);
        Credential agent = new Credential("rg" + run, new byte[]{5}, new byte[]{6}, Role.AGENT, a, "alice");
        for (Credential c : List.of(superAdmin, admin, agent)) {
            ok(store.addCredential(c));
            // read once, so that a store that caches has it cached
            assertTrue(join(store.credential(c.lookupId())).isPresent());
        }
        for (Credential c : List.of(agent, admin, superAdmin)) {
            assertSameCredential(c, ok(store.revokeCredential(c.lookupId())));
            assertEquals(Optional.empty(), join(store.credential(c.lookupId())), c.role() + " revoked");
            assertEquals(Reason.CREDENTIAL_NOT_FOUND, denied(store.revokeCredential(c.lookupId())), "revoked twice");
        }
        assertEquals(Reason.CREDENTIAL_NOT_FOUND, denied(store.revokeCredential("never" + run)));
        // the only SUPER_ADMIN credential is gone, but one was stored: no new bootstrap token is generated
        assertTrue(join(store.hasSuperAdmin()), "revoking does not undo 'a super admin was stored'");
    }

    protected static void assertSameCredential(Credential expected, Credential actual) {
        assertEquals(expected.lookupId(), actual.lookupId());
        assertArrayEquals(expected.salt(), actual.salt());
        assertArrayEquals(expected.secretHash(), actual.secretHash());
        assertEquals(expected.role(), actual.role());
        assertEquals(expected.accountId(), actual.accountId());
        assertEquals(expected.userId(), actual.userId());
    }

    // ---------------------------------------------------------------- subscriptions

    @Test
    void subscriptionsArePerProduct() {
        String a = acct("a");
        ok(store.createAccount(new Account(a, "A")));
        assertNull(ok(store.subscription(a, KRE)));
        LicenseUsage empty = usage(a);
        assertNull(empty.subscription());
        assertEquals(0, empty.licenses());
        assertEquals(List.of(new PoolRow(a, "A", null, 0, 0, 0)), empty.rows());
        Instant expires = now().plus(Duration.ofDays(30));
        Subscription s = ok(store.setSubscription(a, KRE, 10, 3, expires, now()));
        assertEquals(new Subscription(a, KRE, 10, 3, expires), s);
        assertEquals(s, ok(store.subscription(a, KRE)));
        assertNull(ok(store.subscription(a, "KSE")));
        LicenseUsage u = usage(a);
        assertEquals(10, u.licenses());
        assertEquals(3, u.machineQuota());
        assertEquals(expires, u.expiresAt());
        assertEquals("10/10/0/10", figures(a, a));
        // lowering below allocated + in use + offline is refused
        String o = org(a, null, "Eng");
        dedicated(a, o, 4);
        user(a, "u", null);
        acquire(a, "u", "m1");
        acquire(a, "u", "m1");
        ok(store.issueOfflineLicense(a, KRE, "m-off", now().plus(Duration.ofDays(1)), MAX_OFFLINE, now()));
        assertEquals(Reason.BELOW_IN_USE, denied(store.setSubscription(a, KRE, 6, 3, expires, now())));
        assertEquals(s, ok(store.subscription(a, KRE)));
        ok(store.setSubscription(a, KRE, 7, 3, expires, now()));
        assertEquals("6/2/2/0", figures(a, a));
        assertInvariants(a);
    }

    /** Monitoring walks every license table through this list, so every product with state must be on it. */
    @Test
    void productsListsEveryProductTheAccountHoldsStateFor() {
        String a = acct("a");
        ok(store.createAccount(new Account(a, "A")));
        assertEquals(Set.of(), join(store.products(a)));
        ok(store.setSubscription(a, KRE, 10, 3, now().plus(Duration.ofDays(30)), now()));
        ok(store.setSubscription(a, "KSE", 2, 3, now().plus(Duration.ofDays(30)), now()));
        assertEquals(Set.of(KRE, "KSE"), join(store.products(a)));
        assertEquals(Set.of(), join(store.products(acct("nope"))));
    }

    /** Every store says the same words, instants as ISO-8601 (an operator reads them, not a program). */
    @Test
    void refusalsNameInstantsAsTheEmbeddedStoreDoes() {
        String a = acct("a");
        ok(store.createAccount(new Account(a, "A")));
        user(a, "u", null);
        Instant subscriptionEnd = now().plus(Duration.ofDays(1)).plusMillis(250);
        ok(store.setSubscription(a, KRE, 5, 5, subscriptionEnd, now()));
        Session s = acquire(a, "u", "m");
        Instant leaseEnd = s.leaseExpiresAt();
        clock.advance(TTL.plusSeconds(1));
        // (A Redis session id carries a ticket after the account's own id; the texts name the session by the latter.)
        String ranOut = detail(renew(a, s));
        assertTrue(ranOut.startsWith("the lease of session ") && ranOut.endsWith(" ran out at " + leaseEnd), ranOut);
        String tombstone = detail(renew(a, s));
        assertTrue(tombstone.startsWith("session ") && tombstone.endsWith(" expired at " + now()), tombstone);
        Instant tooLate = subscriptionEnd.plusSeconds(60);
        assertEquals("expires_at " + tooLate + " is past the subscription's expiry " + subscriptionEnd,
                detail(store.issueOfflineLicense(a, KRE, "m2", tooLate, MAX_OFFLINE, now())));
        clock.advance(Duration.ofDays(1));
        assertEquals("the KRE subscription expired at " + subscriptionEnd, detail(tryAcquire(a, "u", "m")));
    }

    private static String detail(CompletionStage<? extends Decision<?>> stage) {
        Decision<?> d = join(stage);
        if (d instanceof Decision.Denied<?> denied) {
            return denied.detail();
        }
        throw new AssertionError("expected a denial, got " + d);
    }

    @Test
    void acquireNeedsALiveSubscription() {
        String a = acct("a");
        ok(store.createAccount(new Account(a, "A")));
        user(a, "u", null);
        assertEquals(Reason.NO_SUBSCRIPTION, denied(tryAcquire(a, "u", "m")));
        ok(store.setSubscription(a, KRE, 5, 5, now().plus(Duration.ofSeconds(30)), now()));
        Session s = acquire(a, "u", "m");
        clock.advance(Duration.ofSeconds(30));
        assertEquals(Reason.SUBSCRIPTION_EXPIRED, denied(tryAcquire(a, "u", "m")));
        assertEquals(Reason.SUBSCRIPTION_EXPIRED, denied(renew(a, s)));
        assertEquals(Reason.SUBSCRIPTION_EXPIRED,
                denied(store.issueOfflineLicense(a, KRE, "m2", now().plus(Duration.ofDays(1)), MAX_OFFLINE, now())));
        ok(store.setSubscription(a, KRE, 5, 5, now().plus(Duration.ofDays(1)), now()));
        ok(renew(a, s));
        acquire(a, "u", "m");
        assertEquals(Reason.USER_NOT_FOUND, denied(tryAcquire(a, "ghost", "m")));
        assertInvariants(a);
    }

    // ---------------------------------------------------------------- organizations

    @Test
    void organizationIdsAreUniqueAcrossAccounts() {
        String a = account("a", 10);
        String b = account("b", 10);
        String a1 = org(a, null, "A-Eng");
        String a11 = org(a, a1, "A-Eng-Web");
        String b1 = org(b, null, "B-Eng");
        String a2 = org(a, null, "A-Ops");
        String b11 = org(b, b1, "B-Eng-Web");
        List<String> ids = List.of(a1, a11, b1, a2, b11);
        assertEquals(5, new HashSet<>(ids).size(), ids.toString());
        for (String id : ids) {
            assertTrue(id.startsWith("OG-"), id);
        }
        for (String id : List.of(a1, a11, a2)) {
            assertEquals(Optional.of(a), join(store.accountOfOrganization(id)));
        }
        for (String id : List.of(b1, b11)) {
            assertEquals(Optional.of(b), join(store.accountOfOrganization(id)));
        }
        assertEquals(Optional.empty(), join(store.accountOfOrganization("OG-missing-" + run)));
        assertEquals(List.of(new Organization(a1, a, null, "A-Eng"), new Organization(a11, a, a1, "A-Eng-Web"),
                new Organization(a2, a, null, "A-Ops")), ok(store.organizations(a)));
        assertEquals(List.of(new Organization(b1, b, null, "B-Eng"), new Organization(b11, b, b1, "B-Eng-Web")),
                ok(store.organizations(b)));
        assertEquals(Reason.ORGANIZATION_NOT_FOUND, denied(store.createOrganization(a, "OG-missing-" + run, "x")));
        assertEquals(Reason.ORGANIZATION_NOT_FOUND, denied(store.createOrganization(a, b1, "x")));
        assertEquals(3, ok(store.organizations(a)).size());
    }

    @Test
    void dedicatedLicenseChangesAndTheirRefusals() {
        String a = account("a", 20);
        String b = account("b", 20);
        String eng = org(a, null, "Eng");
        String web = org(a, eng, "Web");
        String other = org(b, null, "Other");
        LicenseUsage u = dedicated(a, eng, 10);
        assertEquals(10, u.row(eng).dedicated());
        assertEquals(usage(a), u);
        dedicated(a, web, 6);
        assertEquals("10/4/0/4", figures(a, eng));
        assertEquals(Reason.BELOW_IN_USE, denied(store.setDedicated(a, eng, KRE, 5, now())));
        assertEquals(Reason.INSUFFICIENT_LICENSES, denied(store.setDedicated(a, web, KRE, 11, now())));
        assertEquals(Reason.INSUFFICIENT_LICENSES, denied(store.setDedicated(a, eng, KRE, 21, now())));
        assertEquals(Reason.ORGANIZATION_NOT_FOUND, denied(store.setDedicated(a, "OG-missing-" + run, KRE, 1, now())));
        assertEquals(Reason.ORGANIZATION_NOT_FOUND, denied(store.setDedicated(a, other, KRE, 1, now())));
        assertEquals("0/0/0/0", figures(b, other));
        dedicated(a, web, 10);
        assertEquals("10/0/0/0", figures(a, eng));
        user(a, "w", web);
        ok(store.setPolicy(a, new PolicySettings(UsagePolicy.STRICT, false)));
        Session s1 = acquire(a, "w", "m");
        Session s2 = acquire(a, "w", "m");
        assertEquals(web, s1.poolId());
        assertEquals(Reason.BELOW_IN_USE, denied(store.setDedicated(a, web, KRE, 1, now())));
        dedicated(a, web, 2);
        assertEquals("2/2/2/0", figures(a, web));
        assertEquals("10/8/0/8", figures(a, eng));
        // revoke the top: both levels empty, the sessions move to the account pool with their ids
        dedicated(a, eng, 0);
        assertEquals("0/0/0/0", figures(a, eng));
        assertEquals("0/0/0/0", figures(a, web));
        assertEquals("20/20/2/18", figures(a, a));
        for (Session s : List.of(s1, s2)) {
            Session renewed = ok(renew(a, s));
            assertEquals(s.id(), renewed.id());
            assertEquals(a, renewed.poolId());
        }
        assertEquals(Reason.ORGANIZATION_POOL_EXHAUSTED, denied(tryAcquire(a, "w", "m")));
        assertInvariants(a);
        assertInvariants(b);
    }

    // ---------------------------------------------------------------- users and policies

    @Test
    void usersReferToExistingOrganizationsOfTheirAccount() {
        String a = account("a", 10);
        String b = account("b", 10);
        String eng = org(a, null, "Eng");
        String ops = org(a, null, "Ops");
        String other = org(b, null, "Other");
        assertEquals(new User(a, "alice", eng, List.of(ops)), user(a, "alice", eng, ops, ops));
        assertEquals(new User(a, "bob", null, List.of()), user(a, "bob", null));
        assertEquals(Reason.ORGANIZATION_NOT_FOUND, denied(store.upsertUser(a, "carol", "OG-missing-" + run, List.of())));
        assertEquals(Reason.ORGANIZATION_NOT_FOUND, denied(store.upsertUser(a, "carol", eng, List.of("OG-missing-" + run))));
        assertEquals(Reason.ORGANIZATION_NOT_FOUND, denied(store.upsertUser(a, "carol", other, List.of())));
        assertEquals(Reason.ORGANIZATION_NOT_FOUND, denied(store.upsertUser(a, "carol", null, List.of(other))));
        assertEquals(Reason.USER_NOT_FOUND, denied(store.user(a, "carol")));
        assertEquals(new User(a, "alice", eng, List.of(ops)), ok(store.user(a, "alice")));
        // upsert replaces
        user(a, "alice", ops, eng);
        assertEquals(new User(a, "alice", ops, List.of(eng)), ok(store.user(a, "alice")));
        List<User> users = ok(store.users(a));
        assertEquals(2, users.size());
        assertTrue(users.containsAll(List.of(new User(a, "alice", ops, List.of(eng)), new User(a, "bob", null, List.of()))));
        assertEquals(List.of(), ok(store.users(b)));
        assertEquals(Reason.USER_NOT_FOUND, denied(store.user(b, "alice")));
    }

    @Test
    void policiesDefaultToUnrestrictedWithFallback() {
        String a = account("a", 10);
        assertEquals(PolicySettings.DEFAULT, ok(store.policy(a)));
        PolicySettings strict = new PolicySettings(UsagePolicy.STRICT, false);
        assertEquals(strict, ok(store.setPolicy(a, strict)));
        assertEquals(strict, ok(store.policy(a)));
        PolicySettings member = new PolicySettings(UsagePolicy.MEMBER_BASED, true);
        ok(store.setPolicy(a, member));
        assertEquals(member, ok(store.policy(a)));
        ok(store.setPolicy(a, PolicySettings.DEFAULT));
        assertEquals(PolicySettings.DEFAULT, ok(store.policy(a)));
    }

    @Test
    void acquireFollowsThePolicy() {
        String a = account("a", 4);
        String home = org(a, null, "Home");
        String project = org(a, null, "Project");
        String elsewhere = org(a, null, "Elsewhere");
        dedicated(a, home, 1);
        dedicated(a, project, 1);
        dedicated(a, elsewhere, 1);
        user(a, "u", home, project);
        ok(store.setPolicy(a, new PolicySettings(UsagePolicy.STRICT, false)));
        Session s1 = acquire(a, "u", "m");
        assertEquals(home, s1.poolId());
        assertFalse(s1.fallback());
        assertEquals(Reason.ORGANIZATION_POOL_EXHAUSTED, denied(tryAcquire(a, "u", "m")));
        ok(store.setPolicy(a, new PolicySettings(UsagePolicy.MEMBER_BASED, false)));
        assertEquals(project, acquire(a, "u", "m").poolId());
        assertEquals(Reason.ORGANIZATION_POOL_EXHAUSTED, denied(tryAcquire(a, "u", "m")));
        ok(store.setPolicy(a, new PolicySettings(UsagePolicy.UNRESTRICTED, false)));
        assertEquals(elsewhere, acquire(a, "u", "m").poolId());
        assertEquals(Reason.ORGANIZATION_POOL_EXHAUSTED, denied(tryAcquire(a, "u", "m")));
        ok(store.setPolicy(a, PolicySettings.DEFAULT));
        Session fb = acquire(a, "u", "m");
        assertEquals(a, fb.poolId());
        assertTrue(fb.fallback());
        assertEquals(Reason.NO_LICENSE_AVAILABLE, denied(tryAcquire(a, "u", "m")));
        assertEquals("4/1/1/0", figures(a, a));
        assertInvariants(a);
    }

    // ---------------------------------------------------------------- sessions

    @Test
    void acquireRenewReleaseTerminate() {
        String a = account("a", 3);
        user(a, "alice", null);
        user(a, "bob", null);
        Instant t0 = now();
        Session s = acquire(a, "alice", "m1");
        assertEquals(a, s.accountId());
        assertEquals(KRE, s.product());
        assertEquals("alice", s.userId());
        assertEquals("m1", s.machineId());
        assertEquals(a, s.poolId());
        assertEquals(t0, s.startedAt());
        assertEquals(t0.plus(TTL), s.leaseExpiresAt());
        clock.advance(Duration.ofSeconds(20));
        Session renewed = ok(renew(a, s));
        assertEquals(now().plus(TTL), renewed.leaseExpiresAt());
        assertEquals(s.withLease(now().plus(TTL)), renewed);
        assertEquals(Reason.PERMISSION_DENIED, denied(store.renew(a, s.id(), "bob", now(), now().plus(TTL))));
        assertEquals(Reason.PERMISSION_DENIED, denied(store.release(a, s.id(), "bob", now())));
        ok(store.renew(a, s.id(), null, now(), now().plus(TTL)));
        assertTrue(ok(store.release(a, s.id(), "alice", now())));
        assertFalse(ok(store.release(a, s.id(), "alice", now())));
        assertEquals(Reason.SESSION_NOT_FOUND, denied(renew(a, s)));
        assertEquals("3/3/0/3", figures(a, a));

        Session t = acquire(a, "bob", "m2");
        assertTrue(ok(store.terminate(a, t.id(), now())));
        assertFalse(ok(store.terminate(a, t.id(), now())));
        assertEquals(Reason.SESSION_TERMINATED, denied(renew(a, t)));
        assertFalse(ok(store.release(a, t.id(), "bob", now())));
        assertFalse(ok(store.terminate(a, a + ".nosuchsessionnosuchsession", now())));
        assertEquals(Reason.SESSION_NOT_FOUND, denied(store.renew(a, a + ".nosuchsessionnosuchsession", "bob", now(), now().plus(TTL))));
        assertEquals("3/3/0/3", figures(a, a));
        assertInvariants(a);
    }

    @Test
    void leasesExpire() {
        String a = account("a", 10);
        String b = account("b", 10);
        user(a, "u", null);
        user(b, "u", null);
        Session a1 = acquire(a, "u", "m");
        acquire(a, "u", "m");
        acquire(b, "u", "m");
        clock.advance(Duration.ofSeconds(30));
        Session a3 = acquire(a, "u", "m");
        clock.advance(Duration.ofSeconds(29));
        assertEquals(0, join(store.expireLeases(now())));
        clock.advance(Duration.ofSeconds(1));
        ok(renew(a, a3));
        assertEquals(3, join(store.expireLeases(now())));
        assertEquals(0, join(store.expireLeases(now())));
        assertEquals(Reason.SESSION_EXPIRED, denied(renew(a, a1)));
        assertEquals("10/10/1/9", figures(a, a));
        assertEquals("10/10/0/10", figures(b, b));
        clock.advance(TTL);
        assertEquals(1, join(store.expireLeases(now())));
        assertEquals(Reason.SESSION_EXPIRED, denied(renew(a, a3)));
        // a lease that ran out ends at its renew even before a reaper pass
        Session late = acquire(a, "u", "m");
        clock.advance(TTL);
        assertEquals(Reason.SESSION_EXPIRED, denied(renew(a, late)));
        assertEquals("10/10/0/10", figures(a, a));
        assertEquals(0, join(store.expireLeases(now())));
        assertInvariants(a);
        assertInvariants(b);
    }

    @Test
    void requestIdMakesAcquireIdempotent() {
        String a = account("a", 5);
        user(a, "alice", null);
        user(a, "bob", null);
        Session s = ok(store.acquire(a, request(a, "alice", "m1", "r1")));
        assertEquals(s, ok(store.acquire(a, request(a, "alice", "m1", "r1"))));
        assertEquals(Reason.ALREADY_EXISTS, denied(store.acquire(a, request(a, "alice", "m2", "r1"))));
        Session bobs = ok(store.acquire(a, request(a, "bob", "m1", "r1")));
        assertFalse(bobs.id().equals(s.id()));
        assertEquals(2, row(a, a).inUse());
        assertTrue(ok(store.release(a, s.id(), "alice", now())));
        Session again = ok(store.acquire(a, request(a, "alice", "m1", "r1")));
        assertFalse(again.id().equals(s.id()));
        assertEquals(2, row(a, a).inUse());
        assertInvariants(a);
    }

    @Test
    void sessionsArePagedInIdOrderAndFiltered() {
        String a = account("a", 10);
        String b = account("b", 10);
        String eng = org(a, null, "Eng");
        dedicated(a, eng, 2);
        user(a, "alice", eng);
        user(a, "bob", null);
        user(b, "alice", null);
        List<Session> started = new ArrayList<>(List.of(
                acquire(a, "alice", "m1"), acquire(a, "alice", "m2"), acquire(a, "alice", "m1"),
                acquire(a, "bob", "m1"), acquire(a, "bob", "m3")));
        acquire(b, "alice", "m1");
        List<Session> paged = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        String token = null;
        int pages = 0;
        do {
            SessionPage page = ok(store.sessions(a, new SessionQuery(null, null, null, null, 2, token)));
            sizes.add(page.sessions().size());
            paged.addAll(page.sessions());
            token = page.nextPageToken();
            assertTrue(++pages <= 3, "too many pages");
        } while (token != null);
        assertEquals(List.of(2, 2, 1), sizes);
        List<String> ids = paged.stream().map(Session::id).toList();
        assertEquals(ids.stream().sorted().toList(), ids, "id order");
        assertEquals(started.stream().map(Session::id).sorted().toList(), ids);
        assertEquals(new HashSet<>(started), new HashSet<>(paged));

        assertEquals(Set.of(started.get(0), started.get(1)), query(a, null, eng, null, null));
        assertEquals(Set.of(started.get(2), started.get(3), started.get(4)), query(a, null, a, null, null));
        assertEquals(Set.of(started.get(3), started.get(4)), query(a, null, null, "bob", null));
        assertEquals(Set.of(started.get(0), started.get(2), started.get(3)), query(a, null, null, null, "m1"));
        assertEquals(Set.of(started.get(3)), query(a, null, null, "bob", "m1"));
        assertEquals(new HashSet<>(started), query(a, KRE, null, null, null));
        assertEquals(Set.of(), query(a, "KSE", null, null, null));
        assertEquals(Set.of(), query(a, null, null, "carol", null));
        assertEquals(1, query(b, null, null, null, null).size());
        // a full last page has no next token or leads to an empty page
        SessionPage all = ok(store.sessions(a, new SessionQuery(null, null, null, null, 5, null)));
        assertEquals(5, all.sessions().size());
        if (all.nextPageToken() != null) {
            assertEquals(List.of(), ok(store.sessions(a, new SessionQuery(null, null, null, null, 5, all.nextPageToken()))).sessions());
        }
    }

    private Set<Session> query(String account, String product, String pool, String user, String machine) {
        Set<Session> out = new HashSet<>();
        String token = null;
        do {
            SessionPage page = ok(store.sessions(account, new SessionQuery(product, pool, user, machine, 2, token)));
            out.addAll(page.sessions());
            token = page.nextPageToken();
        } while (token != null);
        return out;
    }

    // ---------------------------------------------------------------- machines and offline licenses

    @Test
    void machinesCountAgainstTheQuotaUntilDeactivated() {
        String a = acct("a");
        ok(store.createAccount(new Account(a, "A")));
        ok(store.setSubscription(a, KRE, 10, 2, now().plus(Duration.ofDays(30)), now()));
        user(a, "u", null);
        Instant t0 = now();
        Session s1 = acquire(a, "u", "m1");
        Session s2 = acquire(a, "u", "m1");
        acquire(a, "u", "m2");
        assertEquals(Reason.MACHINE_QUOTA_EXCEEDED, denied(tryAcquire(a, "u", "m3")));
        List<Machine> machines = ok(store.machines(a, KRE, now()));
        assertEquals(Set.of(new Machine("m1", KRE, t0, 2, null), new Machine("m2", KRE, t0, 1, null)), new HashSet<>(machines));
        assertEquals(2, usage(a).registeredMachines());
        assertTrue(ok(store.deactivateMachine(a, KRE, "m1", now())));
        assertEquals(Reason.SESSION_TERMINATED, denied(renew(a, s1)));
        assertEquals(Reason.SESSION_TERMINATED, denied(renew(a, s2)));
        assertEquals("10/10/1/9", figures(a, a));
        assertEquals(1, usage(a).registeredMachines());
        assertFalse(ok(store.deactivateMachine(a, KRE, "m1", now())));
        assertFalse(ok(store.deactivateMachine(a, KRE, "never", now())));
        acquire(a, "u", "m3");
        assertEquals(List.of(), ok(store.machines(a, "KSE", now())));
        assertInvariants(a);
    }

    @Test
    void offlineLicensesCountAgainstTheAccountWhileLive() {
        String a = acct("a");
        ok(store.createAccount(new Account(a, "A")));
        ok(store.setSubscription(a, KRE, 3, 10, now().plus(Duration.ofDays(90)), now()));
        Instant t0 = now();
        Instant until = t0.plus(Duration.ofDays(30));
        OfflineLicense l = ok(store.issueOfflineLicense(a, KRE, "m-off", until, MAX_OFFLINE, now()));
        assertEquals(new OfflineLicense(a, KRE, "m-off", t0, until), l);
        LicenseUsage u = usage(a);
        assertEquals(1, u.offlineLicenses());
        assertEquals(1, u.registeredMachines());
        assertEquals("2/2/0/2", figures(a, a));
        assertEquals(List.of(new Machine("m-off", KRE, t0, 0, until)), ok(store.machines(a, KRE, now())));
        assertEquals(Reason.ALREADY_EXISTS, denied(store.issueOfflineLicense(a, KRE, "m-off", until, MAX_OFFLINE, now())));
        assertEquals(Reason.INVALID_ARGUMENT,
                denied(store.issueOfflineLicense(a, KRE, "m2", t0.plus(MAX_OFFLINE).plusSeconds(1), MAX_OFFLINE, now())));
        assertEquals(Reason.INVALID_ARGUMENT, denied(store.issueOfflineLicense(a, KRE, "m2", t0, MAX_OFFLINE, now())));
        ok(store.setSubscription(a, KRE, 3, 10, now().plus(Duration.ofDays(40)), now()));
        assertEquals(Reason.INVALID_ARGUMENT,
                denied(store.issueOfflineLicense(a, KRE, "m2", t0.plus(Duration.ofDays(41)), MAX_OFFLINE, now())));
        ok(store.issueOfflineLicense(a, KRE, "m2", t0.plus(Duration.ofDays(40)), MAX_OFFLINE, now()));
        ok(store.issueOfflineLicense(a, KRE, "m3", t0.plus(Duration.ofDays(1)), MAX_OFFLINE, now()));
        assertEquals("0/0/0/0", figures(a, a));
        assertEquals(Reason.INSUFFICIENT_LICENSES,
                denied(store.issueOfflineLicense(a, KRE, "m4", t0.plus(Duration.ofDays(1)), MAX_OFFLINE, now())));
        user(a, "u", null);
        assertEquals(Reason.NO_LICENSE_AVAILABLE, denied(tryAcquire(a, "u", "m5")));
        // an offline license is not revoked by deactivating its machine
        assertFalse(ok(store.deactivateMachine(a, KRE, "m-off", now())));
        assertEquals(3, usage(a).offlineLicenses());
        clock.advance(Duration.ofDays(1));
        assertEquals(2, usage(a).offlineLicenses());
        assertEquals("1/1/0/1", figures(a, a));
        acquire(a, "u", "m5");
        clock.advance(Duration.ofDays(29));
        assertEquals("2/2/1/1", figures(a, a));
        assertInvariants(a);
    }

    // ---------------------------------------------------------------- usage

    @Test
    void usageRowsFollowTheTree() {
        String a = account("a", 200);
        String o1 = org(a, null, "One");
        String o11 = org(a, o1, "One-Sub");
        String o2 = org(a, null, "Two");
        String o12 = org(a, o1, "One-Sub2");
        dedicated(a, o1, 10);
        dedicated(a, o11, 5);
        dedicated(a, o2, 20);
        user(a, "u", o11);
        acquire(a, "u", "m");
        LicenseUsage u = usage(a);
        assertEquals(List.of(
                new PoolRow(a, "Account a", null, 200, 170, 0),
                new PoolRow(o1, "One", a, 10, 5, 0),
                new PoolRow(o11, "One-Sub", o1, 5, 5, 1),
                new PoolRow(o12, "One-Sub2", o1, 0, 0, 0),
                new PoolRow(o2, "Two", a, 20, 20, 0)), u.rows());
        assertEquals(a, u.accountId());
        assertEquals(KRE, u.product());
        assertEquals(1, u.registeredMachines());
        assertEquals(0, u.offlineLicenses());
        assertInvariants(a);
    }

    @Test
    void revokeMovesTheWholeSubtreesSessionsToTheParent() {
        String a = account("a", 50);
        String top = org(a, null, "Top");
        String mid = org(a, top, "Mid");
        String low = org(a, mid, "Low");
        dedicated(a, top, 30);
        dedicated(a, mid, 20);
        dedicated(a, low, 10);
        user(a, "t", top);
        user(a, "m", mid);
        user(a, "l", low);
        ok(store.setPolicy(a, new PolicySettings(UsagePolicy.STRICT, false)));
        List<Session> inMid = List.of(acquire(a, "m", "x"), acquire(a, "m", "x"), acquire(a, "l", "x"), acquire(a, "l", "x"),
                acquire(a, "l", "x"));
        Session inTop = acquire(a, "t", "x");
        dedicated(a, mid, 0);
        assertEquals("30/30/6/24", figures(a, top));
        assertEquals("0/0/0/0", figures(a, mid));
        assertEquals("0/0/0/0", figures(a, low));
        for (Session s : inMid) {
            assertEquals(top, ok(renew(a, s)).poolId());
        }
        assertEquals(top, ok(renew(a, inTop)).poolId());
        assertEquals(6, query(a, null, top, null, null).size());
        assertEquals(Reason.ORGANIZATION_POOL_EXHAUSTED, denied(tryAcquire(a, "l", "x")));
        assertInvariants(a);
    }

    @Test
    void accountsAreIsolated() {
        String a = account("a", 1);
        String b = account("b", 1);
        user(a, "u", null);
        user(b, "u", null);
        Session sa = acquire(a, "u", "m");
        Session sb = acquire(b, "u", "m");
        assertEquals(Reason.NO_LICENSE_AVAILABLE, denied(tryAcquire(a, "u", "m")));
        assertEquals(Reason.SESSION_NOT_FOUND, denied(store.renew(b, sa.id(), "u", now(), now().plus(TTL))));
        assertFalse(ok(store.release(b, sa.id(), "u", now())));
        assertFalse(ok(store.terminate(b, sa.id(), now())));
        assertEquals(List.of(sa), allSessions(a));
        assertEquals(List.of(sb), allSessions(b));
        assertEquals(1, row(a, a).inUse());
        assertInvariants(a);
        assertInvariants(b);
    }
}
