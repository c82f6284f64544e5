package io.licensebroker.broker.core;

import io.licensebroker.broker.offline.Ed25519Signer;
import io.licensebroker.broker.store.memory.MemoryStore;
import io.licensebroker.testkit.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class LicenseServiceTest {
    private static final String BOOTSTRAP = "bootstrap-secret-token-for-tests";
    private static final Duration TTL = Duration.ofSeconds(60);

    private final MutableClock clock = MutableClock.at("2030-01-01T00:00:00Z");
    private final Ed25519Signer signer = Ed25519Signer.generate();
    private MemoryStore store;
    private LicenseService service;

    @BeforeEach
    void setUp() {
        store = MemoryStore.volatileStore(Duration.ofMinutes(10));
        service = new LicenseService(store, clock, TTL, signer, new SecureRandom(), BOOTSTRAP);
    }

    @AfterEach
    void tearDown() {
        store.close();
    }

    private static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static <T> T ok(CompletionStage<Decision<T>> stage) {
        Decision<T> d = join(stage);
        if (!d.isGranted()) {
            fail("expected granted, got " + d);
        }
        return d.value();
    }

    private static Reason denied(CompletionStage<? extends Decision<?>> stage) {
        Decision<?> d = join(stage);
        if (d instanceof Decision.Denied<?> denied) {
            return denied.reason();
        }
        throw new AssertionError("expected a denial, got " + d);
    }

    private Optional<Principal> auth(String token) {
        return join(service.authenticate(token));
    }

    private String account(String id, long licenses) {
        ok(service.createAccount(id, "Account " + id));
        ok(service.setSubscription(id, "KRE", licenses, 100, clock.instant().plus(Duration.ofDays(365))));
        return id;
    }

    // ---------------------------------------------------------------- credentials

    @Test
    void tokensAuthenticateToTheirPrincipal() {
        account("AC-1", 10);
        account("AC-2", 10);
        ok(service.upsertUser("AC-1", "alice", null, List.of()));
        String admin = ok(service.createAdminToken(Role.ACCOUNT_ADMIN, "AC-1"));
        String admin2 = ok(service.createAdminToken(Role.ACCOUNT_ADMIN, "AC-2"));
        String superAdmin = ok(service.createAdminToken(Role.SUPER_ADMIN, null));
        String apiKey = ok(service.createApiKey("AC-1", "alice"));

        assertEquals(Optional.of(new Principal(Role.ACCOUNT_ADMIN, "AC-1", null)), auth(admin));
        assertEquals(Optional.of(new Principal(Role.ACCOUNT_ADMIN, "AC-2", null)), auth(admin2));
        assertEquals(Optional.of(new Principal(Role.SUPER_ADMIN, null, null)), auth(superAdmin));
        assertEquals(Optional.of(new Principal(Role.AGENT, "AC-1", "alice")), auth(apiKey));
        assertEquals(Optional.of(new Principal(Role.SUPER_ADMIN, null, null)), auth(BOOTSTRAP));
        assertTrue(auth(admin).orElseThrow().canAdminister("AC-1"));
        assertFalse(auth(admin).orElseThrow().canAdminister("AC-2"));
        assertTrue(auth(BOOTSTRAP).orElseThrow().canAdminister("AC-2"));
        assertEquals(5, List.of(admin, admin2, superAdmin, apiKey, BOOTSTRAP).stream().distinct().count());
    }

    @Test
    void anOrganizationAdminTokenNeedsAnOrganizationOfItsAccountAndScopesItsHolder() {
        account("AC-1", 10);
        account("AC-2", 10);
        String top = ok(service.createOrganization("AC-1", null, "Top")).id();
        String child = ok(service.createOrganization("AC-1", top, "Child")).id();
        String other = ok(service.createOrganization("AC-2", null, "Other")).id();

        assertEquals(Reason.ORGANIZATION_NOT_FOUND, denied(service.createAdminToken(Role.ORGANIZATION_ADMIN, "AC-1", other)));
        assertEquals(Reason.ORGANIZATION_NOT_FOUND, denied(service.createAdminToken(Role.ORGANIZATION_ADMIN, "AC-1", "OG-999")));
        Principal holder = auth(ok(service.createAdminToken(Role.ORGANIZATION_ADMIN, "AC-1", top))).orElseThrow();

        assertEquals(new Principal(Role.ORGANIZATION_ADMIN, "AC-1", null, top), holder);
        assertFalse(holder.canAdminister("AC-1"), "a part of an account, never the whole");
        Scope scope = join(service.scope(holder, "AC-1")).orElseThrow();
        assertTrue(scope.contains(child));
        assertFalse(scope.contains("AC-1"));
        assertEquals(Optional.empty(), join(service.scope(holder, "AC-2")));
        assertTrue(join(service.scope(new Principal(Role.ACCOUNT_ADMIN, "AC-1", null), "AC-1")).orElseThrow().isWholeAccount());
        assertEquals(Optional.empty(), join(service.scope(new Principal(Role.ACCOUNT_ADMIN, "AC-2", null), "AC-1")));
    }

    @Test
    void anOrganizationAdminRevokesKeysOfItsUsersAndTokensOfItsSubtreeOnly() {
        account("AC-1", 10);
        String top = ok(service.createOrganization("AC-1", null, "Top")).id();
        String child = ok(service.createOrganization("AC-1", top, "Child")).id();
        String sibling = ok(service.createOrganization("AC-1", null, "Sibling")).id();
        ok(service.upsertUser("AC-1", "in", child, List.of()));
        ok(service.upsertUser("AC-1", "out", sibling, List.of(child)));
        Principal childAdmin = auth(ok(service.createAdminToken(Role.ORGANIZATION_ADMIN, "AC-1", child))).orElseThrow();
        String inKey = ok(service.createApiKey("AC-1", "in"));
        String outKey = ok(service.createApiKey("AC-1", "out"));
        String topToken = ok(service.createAdminToken(Role.ORGANIZATION_ADMIN, "AC-1", top));
        String childToken = ok(service.createAdminToken(Role.ORGANIZATION_ADMIN, "AC-1", child));
        String accountToken = ok(service.createAdminToken(Role.ACCOUNT_ADMIN, "AC-1"));

        for (String above : List.of(outKey, topToken, accountToken)) {
            boolean apiKey = above.equals(outKey);
            assertEquals(Reason.PERMISSION_DENIED, denied(service.revokeCredential(childAdmin, lookup(above), apiKey, "id")));
            assertTrue(auth(above).isPresent());
        }
        assertEquals(child, ok(service.revokeCredential(childAdmin, lookup(childToken), false, "id")).orgId());
        assertEquals("in", ok(service.revokeCredential(childAdmin, lookup(inKey), true, "id")).userId());
        assertEquals(Optional.empty(), auth(inKey));
    }

    private static String lookup(String token) {
        return LicenseService.lookupIdOf(token).orElseThrow();
    }

    @Test
    void aChangedCharacterDoesNotAuthenticate() {
        account("AC-1", 10);
        ok(service.upsertUser("AC-1", "alice", null, List.of()));
        for (String token : List.of(ok(service.createAdminToken(Role.ACCOUNT_ADMIN, "AC-1")),
                ok(service.createApiKey("AC-1", "alice")), ok(service.createAdminToken(Role.SUPER_ADMIN, null)), BOOTSTRAP)) {
            assertTrue(auth(token).isPresent());
            List<String> accepted = new ArrayList<>();
            for (int i = 0; i < token.length(); i++) {
                char c = token.charAt(i);
                for (char replacement : new char[]{'a', 'b', '2', '_', 'A'}) {
                    if (replacement == c) {
                        continue;
                    }
                    String changed = token.substring(0, i) + replacement + token.substring(i + 1);
                    if (auth(changed).isPresent()) {
                        accepted.add(changed);
                    }
                }
            }
            assertEquals(List.of(), accepted, "tokens differing from " + token + " in one character");
            assertFalse(auth(token + "a").isPresent());
            assertFalse(auth(token.substring(0, token.length() - 1)).isPresent());
        }
        assertFalse(auth("").isPresent());
        assertFalse(auth("Bearer").isPresent());
    }

    @Test
    void theStoreHoldsOnlyASaltedHashOfEachToken() {
        account("AC-1", 10);
        ok(service.upsertUser("AC-1", "alice", null, List.of()));
        List<String> tokens = List.of(ok(service.createAdminToken(Role.ACCOUNT_ADMIN, "AC-1")),
                ok(service.createApiKey("AC-1", "alice")), ok(service.createAdminToken(Role.SUPER_ADMIN, null)));
        List<byte[]> hashes = new ArrayList<>();
        for (String token : tokens) {
            // the lookup id is the public part between "lb_" and the second "_"
            String lookup = token.substring(3, token.indexOf('_', 3));
            String secret = token.substring(token.indexOf('_', 3) + 1);
            Credential c = join(store.credential(lookup)).orElseThrow();
            byte[] tokenBytes = token.getBytes(StandardCharsets.UTF_8);
            byte[] secretBytes = secret.getBytes(StandardCharsets.UTF_8);
            assertFalse(Arrays.equals(tokenBytes, c.secretHash()), "hash is not the token");
            assertFalse(Arrays.equals(secretBytes, c.secretHash()), "hash is not the secret");
            assertFalse(new String(c.secretHash(), StandardCharsets.ISO_8859_1).contains(secret));
            assertFalse(new String(c.salt(), StandardCharsets.ISO_8859_1).contains(secret));
            assertFalse(c.lookupId().contains(secret));
            assertEquals(32, c.secretHash().length, "a SHA-256 hash");
            assertTrue(c.salt().length >= 16, "a salt");
            hashes.add(c.secretHash());
        }
        // salts differ, so even equal secrets would hash differently; here every hash is distinct
        assertNotEquals(Arrays.toString(hashes.get(0)), Arrays.toString(hashes.get(1)));
        // the bootstrap token is never stored
        for (Account a : join(store.accounts())) {
            assertNotEquals(BOOTSTRAP, a.id());
        }
    }

    @Test
    void theGeneratedBootstrapTokenIsMadeOnlyOnce() {
        LicenseService first = new LicenseService(store, clock, TTL, signer, new SecureRandom(), null);
        String token = join(first.generateBootstrapTokenOnce()).orElseThrow();
        assertEquals(Optional.of(new Principal(Role.SUPER_ADMIN, null, null)), join(first.authenticate(token)));
        assertEquals(Optional.empty(), join(first.generateBootstrapTokenOnce()));
        LicenseService restarted = new LicenseService(store, clock, TTL, signer, new SecureRandom(), null);
        assertEquals(Optional.empty(), join(restarted.generateBootstrapTokenOnce()));
        assertEquals(Optional.of(new Principal(Role.SUPER_ADMIN, null, null)), join(restarted.authenticate(token)));
    }

    @Test
    void credentialsNeedAnExistingAccountAndUser() {
        assertEquals(Reason.ACCOUNT_NOT_FOUND, denied(service.createAdminToken(Role.ACCOUNT_ADMIN, "AC-404")));
        assertEquals(Reason.ACCOUNT_NOT_FOUND, denied(service.createApiKey("AC-404", "alice")));
        account("AC-1", 10);
        assertEquals(Reason.USER_NOT_FOUND, denied(service.createApiKey("AC-1", "ghost")));
        assertThrows(IllegalArgumentException.class, () -> service.createAdminToken(Role.AGENT, "AC-1"));
    }

    @Test
    void withoutABootstrapTokenOnlyStoredTokensWork() {
        LicenseService noBootstrap = new LicenseService(store, clock, TTL, signer, new SecureRandom(), null);
        assertEquals(Optional.empty(), join(noBootstrap.authenticate(BOOTSTRAP)));
        String superAdmin = ok(noBootstrap.createAdminToken(Role.SUPER_ADMIN, null));
        assertEquals(Optional.of(new Principal(Role.SUPER_ADMIN, null, null)), join(noBootstrap.authenticate(superAdmin)));
    }

    // ---------------------------------------------------------------- sessions through principals

    @Test
    void acquireRenewReleaseThroughPrincipals() {
        account("AC-1", 2);
        ok(service.upsertUser("AC-1", "alice", null, List.of()));
        ok(service.upsertUser("AC-1", "bob", null, List.of()));
        Principal alice = auth(ok(service.createApiKey("AC-1", "alice"))).orElseThrow();
        Principal bob = auth(ok(service.createApiKey("AC-1", "bob"))).orElseThrow();
        Instant t0 = clock.instant();

        Session s = ok(service.acquire(alice, "KRE", "m1", "req-1"));
        assertTrue(s.id().startsWith("AC-1."), s.id());
        assertEquals(Optional.of("AC-1"), Ids.accountOfSession(s.id()));
        assertEquals(Optional.of("AC-1"), service.accountOfSession(s.id()));
        assertEquals("AC-1", s.poolId());
        assertFalse(s.fallback());
        assertEquals(t0.plus(TTL), s.leaseExpiresAt());
        assertEquals(TTL.dividedBy(3), service.renewInterval());
        // idempotent
        assertEquals(s, ok(service.acquire(alice, "KRE", "m1", "req-1")));
        assertEquals(1, ok(service.usage("AC-1", "KRE")).row("AC-1").inUse());

        clock.advance(Duration.ofSeconds(20));
        Session renewed = ok(service.renew(alice, s.id()));
        assertEquals(clock.instant().plus(TTL), renewed.leaseExpiresAt());
        assertEquals(Reason.PERMISSION_DENIED, denied(service.renew(bob, s.id())));
        assertEquals(Reason.PERMISSION_DENIED, denied(service.release(bob, s.id())));
        assertEquals(Reason.SESSION_NOT_FOUND, denied(service.renew(alice, "not-a-session-id")));
        assertEquals(Reason.SESSION_NOT_FOUND, denied(service.renew(alice, "AC-1.aaaaaaaaaaaaaaaaaaaaaaaaaa")));

        ok(service.acquire(bob, "KRE", "m2", ""));
        assertEquals(Reason.NO_LICENSE_AVAILABLE, denied(service.acquire(bob, "KRE", "m3", "")));
        assertTrue(ok(service.release(alice, s.id())));
        assertFalse(ok(service.release(alice, s.id())));
        assertEquals(Reason.SESSION_NOT_FOUND, denied(service.renew(alice, s.id())));

        // a lease that is not renewed ends at the next reap
        Session t = ok(service.acquire(alice, "KRE", "m1", ""));
        clock.advance(TTL);
        assertEquals(2, join(service.reapExpiredLeases()));
        assertEquals(Reason.SESSION_EXPIRED, denied(service.renew(alice, t.id())));
        assertEquals(0, ok(service.usage("AC-1", "KRE")).row("AC-1").inUse());
    }

    @Test
    void aSessionOfAnotherAccountIsPermissionDenied() {
        account("AC-1", 5);
        account("AC-2", 5);
        ok(service.upsertUser("AC-1", "alice", null, List.of()));
        ok(service.upsertUser("AC-2", "alice", null, List.of()));
        Principal alice1 = auth(ok(service.createApiKey("AC-1", "alice"))).orElseThrow();
        Principal alice2 = auth(ok(service.createApiKey("AC-2", "alice"))).orElseThrow();
        Session s1 = ok(service.acquire(alice1, "KRE", "m1", ""));
        Session s2 = ok(service.acquire(alice2, "KRE", "m1", ""));
        assertEquals(Optional.of("AC-2"), Ids.accountOfSession(s2.id()));
        assertEquals(Reason.PERMISSION_DENIED, denied(service.renew(alice2, s1.id())));
        assertEquals(Reason.PERMISSION_DENIED, denied(service.release(alice2, s1.id())));
        assertEquals(Reason.PERMISSION_DENIED, denied(service.renew(alice1, s2.id())));
        assertEquals(1, ok(service.usage("AC-1", "KRE")).row("AC-1").inUse());
        // admin termination routes by the id
        assertTrue(ok(service.terminate(s1.id())));
        assertFalse(ok(service.terminate(s1.id())));
        assertFalse(ok(service.terminate("garbage")));
        assertEquals(Reason.SESSION_TERMINATED, denied(service.renew(alice1, s1.id())));
        assertEquals(1, ok(service.usage("AC-2", "KRE")).row("AC-2").inUse());
    }

    @Test
    void setDedicatedInTheAccountOfTheOrganization() {
        account("AC-1", 10);
        Organization org = ok(service.createOrganization("AC-1", null, "Eng"));
        assertTrue(org.id().startsWith("OG-"), org.id());
        assertEquals(Optional.of("AC-1"), join(service.accountOfOrganization(org.id())));
        LicenseUsage u = ok(service.setDedicated("AC-1", org.id(), "KRE", 4));
        assertEquals(4, u.row(org.id()).dedicated());
        assertEquals(6, u.row("AC-1").pool());
        assertEquals(Reason.ORGANIZATION_NOT_FOUND, denied(service.setDedicated("AC-1", "OG-999999", "KRE", 1)));
        assertEquals(Reason.INSUFFICIENT_LICENSES, denied(service.setDedicated("AC-1", org.id(), "KRE", 11)));
    }

    @Test
    void generatedAccountIds() {
        Account a = ok(service.createAccount(null, "one"));
        Account b = ok(service.createAccount("", "two"));
        assertTrue(a.id().startsWith("AC-"), a.id());
        assertNotEquals(a.id(), b.id());
        assertEquals(Reason.ALREADY_EXISTS, denied(service.createAccount(a.id(), "again")));
    }

    // ---------------------------------------------------------------- offline licenses

    @Test
    void offlineLicenseFilesAreSignedAndNamed() {
        account("AC-1", 3);
        LicenseService.IssuedOfflineLicense issued = ok(service.issueOfflineLicense("AC-1", "KRE", "m-9", null));
        assertEquals("KRE_m-9.lic", issued.fileName());
        assertEquals(clock.instant().plus(LicenseService.MAX_OFFLINE_LENGTH), issued.license().expiresAt());
        assertEquals(issued.license(), ok(service.verifyOfflineLicense(issued.file())));
        byte[] tampered = issued.file().clone();
        tampered[tampered.length / 2] ^= 1;
        assertEquals(Reason.INVALID_ARGUMENT, denied(service.verifyOfflineLicense(tampered)));
        assertEquals(2, ok(service.usage("AC-1", "KRE")).row("AC-1").dedicated());

        // never past the subscription: the default expiry is the subscription's end when that comes first
        ok(service.setSubscription("AC-1", "KRE", 3, 100, clock.instant().plus(Duration.ofDays(10))));
        LicenseService.IssuedOfflineLicense short1 = ok(service.issueOfflineLicense("AC-1", "KRE", "m-10", null));
        assertEquals(clock.instant().plus(Duration.ofDays(10)), short1.license().expiresAt());
        assertEquals(Reason.INVALID_ARGUMENT,
                denied(service.issueOfflineLicense("AC-1", "KRE", "m-11", clock.instant().plus(Duration.ofDays(11)))));
        assertEquals(Reason.ALREADY_EXISTS, denied(service.issueOfflineLicense("AC-1", "KRE", "m-9", null)));
        // a file of another broker's key does not verify here
        LicenseService other = new LicenseService(store, clock, TTL, Ed25519Signer.generate(), new SecureRandom(), null);
        assertEquals(Reason.INVALID_ARGUMENT, denied(other.verifyOfflineLicense(issued.file())));
        assertArrayEquals(issued.file(), OfflineLicenseFile.write(issued.license(), signer));
    }

    @Test
    void rejectsANonPositiveLeaseTtl() {
        assertThrows(IllegalArgumentException.class,
                () -> new LicenseService(store, clock, Duration.ZERO, signer, new SecureRandom(), null));
        assertThrows(IllegalArgumentException.class,
                () -> new LicenseService(store, clock, Duration.ofSeconds(-5), signer, new SecureRandom(), null));
    }
}
