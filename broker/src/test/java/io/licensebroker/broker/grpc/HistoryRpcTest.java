package io.licensebroker.broker.grpc;

import io.grpc.StatusRuntimeException;
import io.licensebroker.proto.v1.AcquireSessionResponse;
import io.licensebroker.proto.v1.DenialRow;
import io.licensebroker.proto.v1.GetDenialReportRequest;
import io.licensebroker.proto.v1.GetDenialReportResponse;
import io.licensebroker.proto.v1.GetUsageHistoryRequest;
import io.licensebroker.proto.v1.GetUsageHistoryResponse;
import io.licensebroker.proto.v1.LicenseModel;
import io.licensebroker.proto.v1.ReleaseSessionRequest;
import io.licensebroker.proto.v1.UsagePoint;
import io.licensebroker.proto.v1.UsageSeries;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.grpc.Status.Code.NOT_FOUND;
import static io.licensebroker.broker.grpc.Table.denied;
import static io.licensebroker.broker.grpc.Table.invalid;
import static io.licensebroker.broker.grpc.Table.ok;
import static io.licensebroker.broker.grpc.Table.refused;
import static io.licensebroker.broker.grpc.Table.unauthenticated;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * GetUsageHistory and GetDenialReport (CONTRACT.md section 7) through real stubs, with the test
 * clock: history after acquires, releases and denials at every step, the denial report, every
 * refusal, and an organization admin's view. Every row runs on {@link World#standard()}.
 */
final class HistoryRpcTest {
    private static final Duration MINUTE = Duration.ofMinutes(1);

    static GetUsageHistoryRequest.Builder history(String account, Instant from, Instant to, Duration step) {
        return GetUsageHistoryRequest.newBuilder().setAccountId(account).setProduct("KRE")
                .setStartTime(Protos.timestamp(from)).setEndTime(Protos.timestamp(to)).setStep(Protos.duration(step));
    }

    static GetDenialReportRequest.Builder report(String account, Instant from, Instant to) {
        return GetDenialReportRequest.newBuilder().setAccountId(account).setProduct("KRE")
                .setStartTime(Protos.timestamp(from)).setEndTime(Protos.timestamp(to));
    }

    /**
     * acme down to one license: alice takes it at 00:00, bob is refused, alice releases at 00:01;
     * the clock then stands at 00:03:01.
     */
    static void load(World w) {
        w.subscribe("acme", 1, 10, w.inFuture(Duration.ofDays(365)));
        AcquireSessionResponse alice = w.acquire(w.aliceKey, "m1");
        assertThrows(StatusRuntimeException.class, () -> w.acquire(w.bobKey, "m2"));
        w.clock.advance(Duration.ofSeconds(61));
        w.agent(w.aliceKey).releaseSession(ReleaseSessionRequest.newBuilder().setSessionId(alice.getSessionId()).build());
        w.clock.advance(Duration.ofMinutes(2));
    }

    private static List<Long> peaks(UsageSeries s) {
        return s.getPointsList().stream().map(UsagePoint::getPeakInUse).toList();
    }

    private static UsagePoint point(Instant start, long peak, long granted, Map<String, Long> denied) {
        return UsagePoint.newBuilder().setStartTime(Protos.timestamp(start)).setPeakInUse(peak).setGranted(granted)
                .setDenied(denied.values().stream().mapToLong(Long::longValue).sum()).putAllDeniedByReason(denied).build();
    }

    @TestFactory
    Stream<DynamicTest> getUsageHistory() {
        Instant start = World.START;
        return Table.of(
                ok("acquires, a release and a denial at minute, hour and day steps, every pool", w -> {
                    load(w);
                    GetUsageHistoryResponse minutes = w.admin(w.acmeAdmin).getUsageHistory(history("acme", start, w.clock.instant(), MINUTE).build());
                    assertEquals(List.of("acme", w.acmeOrg), minutes.getSeriesList().stream().map(UsageSeries::getPoolId).toList());
                    assertEquals(List.of(
                            point(start, 1, 1, Map.of("NO_LICENSE_AVAILABLE", 1L)),
                            point(start.plus(MINUTE), 1, 0, Map.of()),
                            point(start.plus(MINUTE.multipliedBy(2)), 0, 0, Map.of()),
                            point(start.plus(MINUTE.multipliedBy(3)), 0, 0, Map.of())), minutes.getSeries(0).getPointsList());
                    assertEquals(List.of(0L, 0L, 0L, 0L), peaks(minutes.getSeries(1)));
                    for (Duration step : List.of(Duration.ofHours(1), Duration.ofDays(1))) {
                        UsageSeries s = w.admin(w.acmeAdmin).getUsageHistory(history("acme", start, start.plus(step), step)
                                .setPoolId("acme").build()).getSeries(0);
                        assertEquals(List.of(point(start, 1, 1, Map.of("NO_LICENSE_AVAILABLE", 1L))), s.getPointsList(), step.toString());
                    }
                }),
                ok("seats: a grant counts as granted and in use", w -> {
                    w.seats("acme", "KSE", 1, 10, LicenseModel.LICENSE_MODEL_FLOATING);
                    w.grant("acme", "KSE", "alice");
                    assertThrows(StatusRuntimeException.class, () -> w.grant("acme", "KSE", "bob"));
                    UsageSeries s = w.root().getUsageHistory(history("acme", start, start.plus(MINUTE), MINUTE).setProduct("KSE")
                            .setPoolId("acme").build()).getSeries(0);
                    assertEquals(List.of(point(start, 1, 1, Map.of("INSUFFICIENT_LICENSES", 1L))), s.getPointsList());
                }),
                ok("an organization admin sees its subtree's pools only", w -> {
                    load(w);
                    GetUsageHistoryResponse mine = w.admin(w.orgAdmin(w.acmeOrg)).getUsageHistory(history("acme", start, w.clock.instant(), MINUTE).build());
                    assertEquals(List.of(w.acmeOrg), mine.getSeriesList().stream().map(UsageSeries::getPoolId).toList());
                }),
                denied("an organization admin asks for the account pool",
                        w -> () -> w.admin(w.orgAdmin(w.acmeOrg)).getUsageHistory(history("acme", start, start.plus(MINUTE), MINUTE)
                                .setPoolId("acme").build())),
                denied("another account's admin", w -> () -> w.admin(w.globexAdmin).getUsageHistory(history("acme", start, start.plus(MINUTE), MINUTE).build())),
                unauthenticated("no token", w -> () -> w.anonymousAdmin().getUsageHistory(history("acme", start, start.plus(MINUTE), MINUTE).build())),
                refused("an unknown account", NOT_FOUND, "ACCOUNT_NOT_FOUND",
                        w -> () -> w.root().getUsageHistory(history("nosuch", start, start.plus(MINUTE), MINUTE).build())),
                refused("an unknown pool", NOT_FOUND, "ORGANIZATION_NOT_FOUND", "pool_id",
                        w -> () -> w.root().getUsageHistory(history("acme", start, start.plus(MINUTE), MINUTE).setPoolId("OG-999").build())),
                invalid("account_id missing", "account_id", w -> () -> w.root().getUsageHistory(history("", start, start.plus(MINUTE), MINUTE).build())),
                invalid("product missing", "product", w -> () -> w.root().getUsageHistory(history("acme", start, start.plus(MINUTE), MINUTE)
                        .setProduct("").build())),
                invalid("a five-minute step", "step", w -> () -> w.root().getUsageHistory(history("acme", start, start.plus(MINUTE),
                        Duration.ofMinutes(5)).build())),
                invalid("no step", "step", w -> () -> w.root().getUsageHistory(history("acme", start, start.plus(MINUTE), MINUTE).clearStep().build())),
                invalid("no start_time", "start_time", w -> () -> w.root().getUsageHistory(history("acme", start, start.plus(MINUTE), MINUTE)
                        .clearStartTime().build())),
                invalid("end_time not after start_time", "end_time", w -> () -> w.root().getUsageHistory(history("acme", start, start, MINUTE).build())),
                invalid("more than 10,000 steps", "step", w -> () -> w.root().getUsageHistory(history("acme", start,
                        start.plus(MINUTE.multipliedBy(10_001)), MINUTE).build())));
    }

    @TestFactory
    Stream<DynamicTest> getDenialReport() {
        Instant start = World.START;
        return Table.of(
                ok("who was denied, the range covered and its resolution", w -> {
                    load(w);
                    GetDenialReportResponse r = w.admin(w.acmeAdmin).getDenialReport(report("acme", start.plusSeconds(30), w.clock.instant()).build());
                    assertEquals(List.of(DenialRow.newBuilder().setPoolId("acme").setUserId("bob").setReason("NO_LICENSE_AVAILABLE")
                            .setCount(1).setLastDeniedAt(Protos.timestamp(start)).build()), r.getRowsList());
                    assertEquals(Protos.timestamp(start), r.getStartTime());
                    assertEquals(Protos.timestamp(start.plus(Duration.ofHours(1))), r.getEndTime());
                    assertEquals(Protos.duration(Duration.ofHours(1)), r.getResolution());
                }),
                ok("an organization admin sees its subtree's rows only", w -> {
                    load(w);
                    assertEquals(List.of(), w.admin(w.orgAdmin(w.acmeOrg)).getDenialReport(report("acme", start, w.clock.instant()).build())
                            .getRowsList());
                }),
                denied("an organization admin asks for the account pool",
                        w -> () -> w.admin(w.orgAdmin(w.acmeOrg)).getDenialReport(report("acme", start, start.plus(MINUTE)).setPoolId("acme").build())),
                refused("an unknown pool", NOT_FOUND, "ORGANIZATION_NOT_FOUND", "pool_id",
                        w -> () -> w.root().getDenialReport(report("acme", start, start.plus(MINUTE)).setPoolId("OG-999").build())),
                invalid("product missing", "product", w -> () -> w.root().getDenialReport(report("acme", start, start.plus(MINUTE)).setProduct("").build())),
                invalid("no end_time", "end_time", w -> () -> w.root().getDenialReport(report("acme", start, start.plus(MINUTE)).clearEndTime().build())),
                invalid("end_time before start_time", "end_time", w -> () -> w.root().getDenialReport(report("acme", start, start.minusSeconds(1)).build())));
    }
}
