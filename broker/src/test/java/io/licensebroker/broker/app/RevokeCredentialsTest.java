package io.licensebroker.broker.app;

import com.google.protobuf.Timestamp;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.licensebroker.broker.testing.ErrorReasons;
import io.licensebroker.broker.testing.InProcessBroker;
import io.licensebroker.proto.v1.AdminRole;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateAdminTokenRequest;
import io.licensebroker.proto.v1.CreateAdminTokenResponse;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.CreateApiKeyResponse;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.ReleaseSessionRequest;
import io.licensebroker.proto.v1.RevokeAdminTokenRequest;
import io.licensebroker.proto.v1.RevokeAdminTokenResponse;
import io.licensebroker.proto.v1.RevokeApiKeyRequest;
import io.licensebroker.proto.v1.RevokeApiKeyResponse;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * RevokeApiKey and RevokeAdminToken over real gRPC on the embedded durable store: who may revoke
 * what, the refusals, the very next request refused, and every revocation still in force after a
 * restart on the same data directory.
 */
class RevokeCredentialsTest {
    private static final String ROOT = "revoke-test-super-admin-token-0123456789";
    private static final Timestamp NEXT_YEAR = Timestamp.newBuilder()
            .setSeconds(Instant.now().plus(Duration.ofDays(365)).getEpochSecond()).build();

    @TempDir
    Path dataDir;
    private LocalNode node;
    private ManagedChannel channel;

    @AfterEach
    void stop() {
        stopNode();
    }

    @Test
    void whoMayRevokeWhatAndTheRevocationsSurviveARestart() {
        startNode();
        for (String account : new String[]{"acme", "globex"}) {
            admin(ROOT).createAccount(CreateAccountRequest.newBuilder().setAccountId(account).setName(account).build());
            admin(ROOT).setSubscription(SetSubscriptionRequest.newBuilder().setAccountId(account).setLicenses(5)
                    .setMachineQuota(10).setExpiresAt(NEXT_YEAR).build());
            admin(ROOT).upsertUser(UpsertUserRequest.newBuilder().setAccountId(account).setUserId("alice").build());
        }
        CreateApiKeyResponse acmeKey = apiKey("acme");
        CreateApiKeyResponse acmeKeyKept = apiKey("acme");
        CreateApiKeyResponse globexKey = apiKey("globex");
        CreateAdminTokenResponse acmeAdmin = token("acme");
        CreateAdminTokenResponse acmeOther = token("acme");
        CreateAdminTokenResponse globexAdmin = token("globex");
        CreateAdminTokenResponse superAdmin = admin(ROOT).createAdminToken(CreateAdminTokenRequest.newBuilder()
                .setRole(AdminRole.ADMIN_ROLE_SUPER_ADMIN).build());
        String acmeAdminToken = acmeAdmin.getToken();

        // bad input, unknown ids, and ids of the other kind
        refused(Status.Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", () -> revokeKey(acmeAdminToken, ""));
        refused(Status.Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", () -> revokeKey(acmeAdminToken, acmeKey.getApiKey()));
        refused(Status.Code.NOT_FOUND, "CREDENTIAL_NOT_FOUND", () -> revokeKey(ROOT, "aaaaaaaaaaaaaaaa"));
        refused(Status.Code.NOT_FOUND, "CREDENTIAL_NOT_FOUND", () -> revokeKey(ROOT, acmeOther.getTokenId()));
        refused(Status.Code.NOT_FOUND, "CREDENTIAL_NOT_FOUND", () -> revokeToken(ROOT, acmeKey.getKeyId()));
        // authorization: an account admin only in its own account, never a SUPER_ADMIN token; agents never
        refused(Status.Code.PERMISSION_DENIED, "PERMISSION_DENIED", () -> revokeKey(acmeAdminToken, globexKey.getKeyId()));
        refused(Status.Code.PERMISSION_DENIED, "PERMISSION_DENIED", () -> revokeToken(acmeAdminToken, globexAdmin.getTokenId()));
        refused(Status.Code.PERMISSION_DENIED, "PERMISSION_DENIED", () -> revokeToken(acmeAdminToken, superAdmin.getTokenId()));
        refused(Status.Code.PERMISSION_DENIED, "PERMISSION_DENIED", () -> revokeKey(acmeKey.getApiKey(), acmeKeyKept.getKeyId()));
        // nothing of the refused calls changed anything
        acquireAndRelease(globexKey.getApiKey());
        usage(globexAdmin.getToken(), "globex");
        usage(superAdmin.getToken(), "acme");

        RevokeApiKeyResponse revokedKey = revokeKey(acmeAdminToken, acmeKey.getKeyId());
        assertEquals(RevokeApiKeyResponse.newBuilder().setKeyId(acmeKey.getKeyId()).setAccountId("acme").setUserId("alice").build(),
                revokedKey);
        refused(Status.Code.UNAUTHENTICATED, "UNAUTHENTICATED", () -> acquireAndRelease(acmeKey.getApiKey()));
        acquireAndRelease(acmeKeyKept.getApiKey());
        assertEquals("acme", revokeToken(acmeAdminToken, acmeOther.getTokenId()).getAccountId());
        refused(Status.Code.UNAUTHENTICATED, "UNAUTHENTICATED", () -> usage(acmeOther.getToken(), "acme"));
        // a token may revoke itself (a leaked token can be ended by whoever holds it)
        assertEquals(AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN, revokeToken(acmeAdminToken, acmeAdmin.getTokenId()).getRole());
        refused(Status.Code.UNAUTHENTICATED, "UNAUTHENTICATED", () -> usage(acmeAdminToken, "acme"));
        // a SUPER_ADMIN revokes anything
        revokeKey(superAdmin.getToken(), globexKey.getKeyId());
        RevokeAdminTokenResponse revokedSuper = revokeToken(ROOT, superAdmin.getTokenId());
        assertEquals(RevokeAdminTokenResponse.newBuilder().setTokenId(superAdmin.getTokenId())
                .setRole(AdminRole.ADMIN_ROLE_SUPER_ADMIN).build(), revokedSuper);

        stopNode();
        startNode();
        for (String gone : new String[]{acmeKey.getApiKey(), globexKey.getApiKey()}) {
            refused(Status.Code.UNAUTHENTICATED, "UNAUTHENTICATED", () -> acquireAndRelease(gone));
        }
        for (String gone : new String[]{acmeAdminToken, acmeOther.getToken(), superAdmin.getToken()}) {
            refused(Status.Code.UNAUTHENTICATED, "UNAUTHENTICATED", () -> usage(gone, "acme"));
        }
        acquireAndRelease(acmeKeyKept.getApiKey());
        usage(globexAdmin.getToken(), "globex");
        refused(Status.Code.NOT_FOUND, "CREDENTIAL_NOT_FOUND", () -> revokeKey(ROOT, acmeKey.getKeyId()));
    }

    // ---------------------------------------------------------------- helpers

    private void startNode() {
        node = LocalNode.start(Map.of(Setting.DATA_DIR, dataDir.toString(), Setting.ADMIN_TOKEN, ROOT, Setting.SHUTDOWN_GRACE, "1s"));
        channel = node.channel();
    }

    private void stopNode() {
        if (node != null) {
            node.close();
            node = null;
            channel = null;
        }
    }

    private LicenseAdminGrpc.LicenseAdminBlockingStub admin(String token) {
        return InProcessBroker.withToken(LicenseAdminGrpc.newBlockingStub(channel), token).withDeadlineAfter(30, java.util.concurrent.TimeUnit.SECONDS);
    }

    private CreateApiKeyResponse apiKey(String account) {
        return admin(ROOT).createApiKey(CreateApiKeyRequest.newBuilder().setAccountId(account).setUserId("alice").build());
    }

    private CreateAdminTokenResponse token(String account) {
        return admin(ROOT).createAdminToken(CreateAdminTokenRequest.newBuilder().setAccountId(account)
                .setRole(AdminRole.ADMIN_ROLE_ACCOUNT_ADMIN).build());
    }

    private RevokeApiKeyResponse revokeKey(String caller, String keyId) {
        return admin(caller).revokeApiKey(RevokeApiKeyRequest.newBuilder().setKeyId(keyId).build());
    }

    private RevokeAdminTokenResponse revokeToken(String caller, String tokenId) {
        return admin(caller).revokeAdminToken(RevokeAdminTokenRequest.newBuilder().setTokenId(tokenId).build());
    }

    private void usage(String token, String account) {
        admin(token).getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId(account).build());
    }

    private void acquireAndRelease(String apiKey) {
        LicenseBrokerGrpc.LicenseBrokerBlockingStub agent = InProcessBroker.withToken(LicenseBrokerGrpc.newBlockingStub(channel), apiKey);
        String session = agent.acquireSession(io.licensebroker.proto.v1.AcquireSessionRequest.newBuilder().setMachineId("m-1").build())
                .getSessionId();
        agent.releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(session).build());
    }

    private static void refused(Status.Code code, String reason, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        assertEquals(reason, ErrorReasons.of(e), e.getStatus().toString());
    }
}
