package io.licensebroker.broker.store.redis;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.licensebroker.broker.offline.Ed25519Signer;
import io.licensebroker.testkit.Await;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateAdminTokenRequest;
import io.licensebroker.proto.v1.CreateAdminTokenResponse;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.CreateApiKeyResponse;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseRequest;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.RenewSessionRequest;
import io.licensebroker.proto.v1.RevokeAdminTokenRequest;
import io.licensebroker.proto.v1.RevokeApiKeyRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import io.licensebroker.proto.v1.VerifyOfflineLicenseRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Credentials and the offline signing key across real broker nodes on one Redis: a revocation
 * through one node is obeyed by the very next request on another (which had the credential
 * cached), a wipe of Redis (FLUSHALL) ends every cached credential on every node, and after a wipe
 * every node signs and verifies with the one key Redis holds.
 */
class CredentialRevocationOnRedisTest {
    @RegisterExtension
    static final SharedRedis REDIS = new SharedRedis("redis-revocation");
    private static final Timestamp NEXT_YEAR = Timestamp.newBuilder()
            .setSeconds(Instant.now().plus(Duration.ofDays(365)).getEpochSecond()).build();
    private RedisNodes nodes;

    @AfterEach
    void stopNodes() {
        if (nodes != null) {
            nodes.close();
        }
    }

    @Test
    void anApiKeyRevokedThroughOneNodeIsRefusedByTheNextRequestOnTheOther() {
        nodes = RedisNodes.start(REDIS.uri(), 2, Duration.ofSeconds(60));
        account(0, "AC-rev");
        CreateApiKeyResponse key = nodes.admin(0).createApiKey(CreateApiKeyRequest.newBuilder().setAccountId("AC-rev")
                .setUserId("alice").build());
        assertEquals(key.getApiKey().substring(3, 19), key.getKeyId(), "the id is the key's public part");
        // Node 1 authenticates the key (and caches it).
        acquire(1, key.getApiKey(), "m-1");
        acquire(1, key.getApiKey(), "m-2");

        assertEquals("alice", nodes.admin(0).revokeApiKey(RevokeApiKeyRequest.newBuilder().setKeyId(key.getKeyId()).build())
                .getUserId());
        for (int node = 1; node >= 0; node--) {
            int n = node;
            assertUnauthenticated(() -> acquire(n, key.getApiKey(), "m-3"), "node " + node + " after the revocation");
        }
        StatusRuntimeException twice = assertThrows(StatusRuntimeException.class, () -> nodes.admin(1)
                .revokeApiKey(RevokeApiKeyRequest.newBuilder().setKeyId(key.getKeyId()).build()));
        assertEquals(Status.Code.NOT_FOUND, twice.getStatus().getCode());
        assertEquals("CREDENTIAL_NOT_FOUND", RedisNodes.reason(twice));
    }

    @Test
    void anAdminTokenThatRevokesItselfOnOneNodeIsRefusedAtOnceByTheOther() {
        nodes = RedisNodes.start(REDIS.uri(), 2, Duration.ofSeconds(60));
        account(0, "AC-self");
        CreateAdminTokenResponse token = nodes.admin(0).createAdminToken(CreateAdminTokenRequest.newBuilder()
                .setAccountId("AC-self").setRole(AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN).build());
        usage(0, token.getToken(), "AC-self");
        usage(1, token.getToken(), "AC-self");

        accountAdmin(1, token.getToken()).revokeAdminToken(RevokeAdminTokenRequest.newBuilder().setTokenId(token.getTokenId()).build());
        assertUnauthenticated(() -> usage(0, token.getToken(), "AC-self"), "node 0");
        assertUnauthenticated(() -> usage(1, token.getToken(), "AC-self"), "node 1");
    }

    @Test
    void afterRedisLostItsDataAnOldTokenIsRefusedOnEveryNodeAndMintsNothing() {
        nodes = RedisNodes.start(REDIS.uri(), 2, Duration.ofSeconds(60));
        account(0, "AC-wipe");
        String token = nodes.admin(0).createAdminToken(CreateAdminTokenRequest.newBuilder().setAccountId("AC-wipe")
                .setRole(AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN).build()).getToken();
        usage(0, token, "AC-wipe");
        usage(1, token, "AC-wipe");

        REDIS.server().flushAll();
        // The account exists again (the bootstrap token is not stored, it survives): only the token is gone.
        account(1, "AC-wipe");
        for (int node = 0; node < 2; node++) {
            int n = node;
            assertUnauthenticated(() -> usage(n, token, "AC-wipe"), "node " + node + " after the wipe");
            assertUnauthenticated(() -> accountAdmin(n, token).createApiKey(CreateApiKeyRequest.newBuilder()
                    .setAccountId("AC-wipe").setUserId("alice").build()), "node " + node + " minting a key");
        }
    }

    @Test
    void aKeyCachedByANodeButLostByRedisInARestartFromAnOlderSnapshotIsRefused() {
        nodes = RedisNodes.start(REDIS.uri(), 2, Duration.ofSeconds(60));
        account(0, "AC-lost");
        // A key in use before the snapshot: the snapshot then holds a credentials epoch too.
        String earlier = nodes.admin(0).createApiKey(CreateApiKeyRequest.newBuilder().setAccountId("AC-lost")
                .setUserId("alice").build()).getApiKey();
        String held = nodes.agent(1, earlier).acquireSession(AcquireSessionRequest.newBuilder().setMachineId("m-0").build())
                .getSessionId();
        REDIS.server().with(c -> c.sync().save());
        String key = nodes.admin(0).createApiKey(CreateApiKeyRequest.newBuilder().setAccountId("AC-lost")
                .setUserId("alice").build()).getApiKey();
        acquire(1, key, "m-1"); // node 1 caches the key

        // Redis comes back from the snapshot taken before the key existed (the epoch goes back with it).
        REDIS.server().kill();
        REDIS.server().restart();
        // Each node reconnects on its own schedule; both must be back before their answers mean anything.
        for (int node = 0; node < 2; node++) {
            int n = node;
            Await.until(Duration.ofSeconds(20), () -> {
                try {
                    acquire(n, key, "m-probe-" + n);
                    return true;
                } catch (StatusRuntimeException e) {
                    return e.getStatus().getCode() != Status.Code.UNAVAILABLE;
                }
            }, () -> "node " + n + " reaches Redis again");
        }
        assertUnauthenticated(() -> acquire(1, key, "m-3"), "node 1, the key Redis lost");
        assertUnauthenticated(() -> acquire(0, key, "m-4"), "node 0, the key Redis lost");
        // The key Redis kept still works on the node that had it cached (new acquires wait for the
        // learning period that the loss started, so it renews its session instead).
        nodes.agent(1, earlier).renewSession(RenewSessionRequest.newBuilder().setSessionId(held).build());
    }

    @Test
    void afterAWipeEveryNodeSignsAndVerifiesWithTheOneKeyRedisHolds() {
        nodes = RedisNodes.start(REDIS.uri(), 2, Duration.ofSeconds(60));
        account(0, "AC-key");
        ByteString before = issue(0, "AC-key", "m-before");
        verifies(1, before);

        REDIS.server().flushAll();
        // A running node notices within a probe and publishes the key it holds again.
        Await.until(Duration.ofSeconds(10), () -> get(Keys.shared("offline-signing-key")) != null,
                () -> "the signing key is back in Redis");
        nodes.add(); // a node started after the wipe adopts it instead of making its own
        account(2, "AC-key");
        List<ByteString> files = new ArrayList<>(List.of(before));
        for (int node = 0; node < 3; node++) {
            files.add(issue(node, "AC-key", "m-after-" + node));
        }
        for (ByteString file : files) {
            for (int node = 0; node < 3; node++) {
                verifies(node, file);
            }
        }
    }

    @Test
    void aNodeAdoptsAKeyThatReplacedItsOwnInRedis() {
        nodes = RedisNodes.start(REDIS.uri(), 2, Duration.ofSeconds(60));
        account(0, "AC-adopt");
        String key = Keys.shared("offline-signing-key");
        String original = get(key);
        // As if a node started while Redis was empty had published its own key before anyone else.
        String other = Ed25519Signer.generate().encodeKeyPair();
        REDIS.server().with(c -> c.sync().set(key, other));
        ByteString fromZero = issue(0, "AC-adopt", "m-0");
        ByteString fromOne = issue(1, "AC-adopt", "m-1");
        nodes.add(); // starts with the key Redis holds now
        ByteString fromTwo = issue(2, "AC-adopt", "m-2");
        for (int node = 0; node < 3; node++) {
            for (ByteString file : List.of(fromZero, fromOne, fromTwo)) {
                verifies(node, file);
            }
        }
        assertEquals(other, get(key), "nobody overwrote the key Redis holds");
        assertNotEquals(original, other);
    }

    // ---------------------------------------------------------------- helpers

    private void account(int via, String account) {
        var admin = nodes.admin(via);
        admin.createAccount(CreateAccountRequest.newBuilder().setAccountId(account).setName(account).build());
        admin.setSubscription(SetSubscriptionRequest.newBuilder().setAccountId(account).setLicenses(10)
                .setMachineQuota(100).setExpiresAt(NEXT_YEAR).build());
        admin.upsertUser(UpsertUserRequest.newBuilder().setAccountId(account).setUserId("alice").build());
    }

    private void acquire(int node, String apiKey, String machine) {
        nodes.agent(node, apiKey).acquireSession(AcquireSessionRequest.newBuilder().setMachineId(machine).build());
    }

    private LicenseAdminGrpc.LicenseAdminBlockingStub accountAdmin(int node, String token) {
        return RedisNodes.withToken(LicenseAdminGrpc.newBlockingStub(nodes.channel(node)), token);
    }

    private void usage(int node, String token, String account) {
        accountAdmin(node, token).getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId(account).build());
    }

    private ByteString issue(int node, String account, String machine) {
        return nodes.admin(node).issueOfflineLicense(IssueOfflineLicenseRequest.newBuilder().setAccountId(account)
                .setMachineId(machine).build()).getLicenseFile();
    }

    private void verifies(int node, ByteString file) {
        // A file that does not verify is refused INVALID_LICENSE_FILE (the call throws).
        assertTrue(nodes.admin(node).verifyOfflineLicense(VerifyOfflineLicenseRequest.newBuilder()
                .setLicenseFile(file).build()).getValid(), "node " + node + " verifies the file");
    }

    private static String get(String key) {
        String[] value = new String[1];
        REDIS.server().with(c -> value[0] = c.sync().get(key));
        return value[0];
    }

    private static void assertUnauthenticated(Executable call, String what) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call, what);
        assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode(), what + ": " + e.getStatus());
    }
}
