package io.licensebroker.broker.e2e;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.licensebroker.proto.v1.AcquireSessionRequest;
import io.licensebroker.proto.v1.AcquireSessionResponse;
import io.licensebroker.proto.v1.CreateAccountRequest;
import io.licensebroker.proto.v1.CreateApiKeyRequest;
import io.licensebroker.proto.v1.DenialRow;
import io.licensebroker.proto.v1.GetDenialReportRequest;
import io.licensebroker.proto.v1.GetLicenseUsageRequest;
import io.licensebroker.proto.v1.GetUsageHistoryRequest;
import io.licensebroker.proto.v1.LicenseAdminGrpc;
import io.licensebroker.proto.v1.LicenseAdminGrpc.LicenseAdminBlockingStub;
import io.licensebroker.proto.v1.LicenseBrokerGrpc;
import io.licensebroker.proto.v1.ReleaseSessionRequest;
import io.licensebroker.proto.v1.SetSubscriptionRequest;
import io.licensebroker.proto.v1.UpsertUserRequest;
import io.licensebroker.proto.v1.UsagePoint;
import io.licensebroker.proto.v1.UsageSeries;
import io.licensebroker.testkit.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.licensebroker.broker.e2e.GrpcClients.reason;
import static io.licensebroker.broker.e2e.GrpcClients.withToken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The usage history of the shipped jar on the embedded store survives SIGKILL: every minute closed
 * before the kill reads back the same (peaks, grants, denials, and the denial report), and a crash
 * loses at most the minute in progress. The broker runs on the real clock, so the test waits (at
 * most a minute) for the load's minute to close.
 */
class UsageHistoryJarIT {
    private static final String ADMIN = "e2e-history-super-admin-token-0123456789";
    private static final String ACCOUNT = "hist";

    @TempDir
    Path data;

    @Test
    void closedMinutesSurviveSigkill() throws Exception {
        Instant from = Instant.now().minus(1, ChronoUnit.MINUTES);
        Instant to = Instant.now().plus(10, ChronoUnit.MINUTES);
        List<UsagePoint> before;
        Instant lastClosedMinute;
        BrokerProcess broker = BrokerProcess.start(data, "--admin-token", ADMIN, "--lease-ttl", "30m");
        try {
            ManagedChannel channel = GrpcClients.channel(broker.port());
            try {
                LicenseAdminBlockingStub admin = withToken(LicenseAdminGrpc.newBlockingStub(channel), ADMIN);
                Map<String, String> keys = account(admin);
                acquire(channel, keys.get("ann"), "m-ann");
                String ben = acquire(channel, keys.get("ben"), "m-ben").getSessionId();
                assertEquals("NO_LICENSE_AVAILABLE", reason(assertThrows(StatusRuntimeException.class,
                        () -> acquire(channel, keys.get("cid"), "m-cid"))));
                withToken(LicenseBrokerGrpc.newBlockingStub(channel), keys.get("ben"))
                        .releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(ben).build());
                before = points(admin, from, to);
                assertEquals(2, before.stream().mapToLong(UsagePoint::getPeakInUse).max().orElseThrow());
                assertEquals(2, before.stream().mapToLong(UsagePoint::getGranted).sum());
                assertEquals(1, before.stream().mapToLong(UsagePoint::getDenied).sum());
                lastClosedMinute = Instant.now().truncatedTo(ChronoUnit.MINUTES);
                Await.until(java.time.Duration.ofSeconds(75), () -> Instant.now().truncatedTo(ChronoUnit.MINUTES).isAfter(lastClosedMinute),
                        () -> "the next minute");
                // Acknowledged once the closed minute is on disk (it is journaled before this change); it starts the next one.
                acquire(channel, keys.get("dan"), "m-dan");
            } finally {
                channel.shutdownNow();
            }
        } finally {
            broker.kill();
        }
        try (BrokerProcess again = BrokerProcess.start(data, "--admin-token", ADMIN, "--lease-ttl", "30m")) {
            ManagedChannel channel = GrpcClients.channel(again.port());
            try {
                LicenseAdminBlockingStub admin = withToken(LicenseAdminGrpc.newBlockingStub(channel), ADMIN);
                List<UsagePoint> after = points(admin, from, to);
                for (UsagePoint p : before) {
                    assertTrue(after.contains(p), "closed minute " + p + " after SIGKILL: " + after);
                }
                List<DenialRow> denied = admin.getDenialReport(GetDenialReportRequest.newBuilder().setAccountId(ACCOUNT).setProduct("KRE")
                        .setStartTime(ts(from)).setEndTime(ts(to)).build()).getRowsList();
                assertEquals(List.of("cid"), denied.stream().map(DenialRow::getUserId).toList());
                // The sessions themselves are durable: ann's and dan's.
                assertEquals(2, admin.getLicenseUsage(GetLicenseUsageRequest.newBuilder().setAccountId(ACCOUNT).build()).getRows(0).getInUse());
            } finally {
                channel.shutdownNow();
            }
        }
    }

    /** Two licenses, users ann, ben, cid and dan with API keys. */
    private static Map<String, String> account(LicenseAdminBlockingStub admin) {
        admin.createAccount(CreateAccountRequest.newBuilder().setAccountId(ACCOUNT).setName("History").build());
        admin.setSubscription(SetSubscriptionRequest.newBuilder().setAccountId(ACCOUNT).setLicenses(2).setMachineQuota(10)
                .setExpiresAt(ts(Instant.now().plus(365, ChronoUnit.DAYS))).build());
        Map<String, String> keys = new HashMap<>();
        for (String user : List.of("ann", "ben", "cid", "dan")) {
            admin.upsertUser(UpsertUserRequest.newBuilder().setAccountId(ACCOUNT).setUserId(user).build());
            keys.put(user, admin.createApiKey(CreateApiKeyRequest.newBuilder().setAccountId(ACCOUNT).setUserId(user).build()).getApiKey());
        }
        return keys;
    }

    private static AcquireSessionResponse acquire(ManagedChannel channel, String key, String machine) {
        return withToken(LicenseBrokerGrpc.newBlockingStub(channel), key)
                .acquireSession(AcquireSessionRequest.newBuilder().setMachineId(machine).build());
    }

    /** The account pool's minutes from {@code from} on. */
    private static List<UsagePoint> points(LicenseAdminBlockingStub admin, Instant from, Instant to) {
        UsageSeries s = admin.getUsageHistory(GetUsageHistoryRequest.newBuilder().setAccountId(ACCOUNT).setProduct("KRE")
                .setPoolId(ACCOUNT).setStartTime(ts(from)).setEndTime(ts(to)).setStep(Duration.newBuilder().setSeconds(60)).build())
                .getSeries(0);
        return s.getPointsList();
    }

    private static Timestamp ts(Instant i) {
        return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
    }
}
