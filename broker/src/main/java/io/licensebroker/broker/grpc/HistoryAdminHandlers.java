package io.licensebroker.broker.grpc;

import io.grpc.stub.StreamObserver;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.DenialQuery;
import io.licensebroker.broker.core.DenialRow;
import io.licensebroker.broker.core.HistoryAssembly;
import io.licensebroker.broker.core.HistoryQuery;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.core.Scope;
import io.licensebroker.broker.core.UsageSeries;
import io.licensebroker.proto.v1.GetDenialReportRequest;
import io.licensebroker.proto.v1.GetDenialReportResponse;
import io.licensebroker.proto.v1.GetUsageHistoryRequest;
import io.licensebroker.proto.v1.GetUsageHistoryResponse;

import java.time.Instant;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * The usage history RPCs (CONTRACT.md section 7): GetUsageHistory and GetDenialReport, which
 * {@link LicenseAdminService} hands over. Same shape as every admin handler: the caller's kind
 * ({@link Gate}), account_id and the caller's right to it, then the other fields; the core checks
 * the range ({@link HistoryQuery#check}) and assembles the answer. An ORGANIZATION_ADMIN sees the
 * pools of its subtree only (CONTRACT.md section 6): a pool_id outside it is PERMISSION_DENIED, and
 * without one the answer is filtered to its subtree.
 */
final class HistoryAdminHandlers {
    private final Gate gate;
    private final LicenseService service;

    HistoryAdminHandlers(Gate gate) {
        this.gate = gate;
        this.service = gate.service();
    }

    void getUsageHistory(GetUsageHistoryRequest request, StreamObserver<GetUsageHistoryResponse> out) {
        gate.admin(out, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            return gate.inScope(caller, accountId, "account_id", scope -> {
                HistoryQuery query = new HistoryQuery(Validation.requiredProduct(request.getProduct()),
                        Validation.optionalPoolId(request.getPoolId()),
                        Validation.requiredTimestamp(request.hasStartTime(), request.getStartTime(), "start_time"),
                        Validation.requiredTimestamp(request.hasEndTime(), request.getEndTime(), "end_time"),
                        Validation.historyStep(request.hasStep(), request.getStep()));
                return inPool(scope, query.poolId(), () -> service.usageHistory(accountId, query).thenApply(d -> d.map(series -> {
                    GetUsageHistoryResponse.Builder b = GetUsageHistoryResponse.newBuilder();
                    scope.filter(series, UsageSeries::poolId).forEach(s -> b.addSeries(Protos.usageSeries(s)));
                    return b.build();
                })));
            });
        });
    }

    void getDenialReport(GetDenialReportRequest request, StreamObserver<GetDenialReportResponse> out) {
        gate.admin(out, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            return gate.inScope(caller, accountId, "account_id", scope -> {
                DenialQuery query = new DenialQuery(Validation.requiredProduct(request.getProduct()),
                        Validation.optionalPoolId(request.getPoolId()),
                        Validation.requiredTimestamp(request.hasStartTime(), request.getStartTime(), "start_time"),
                        Validation.requiredTimestamp(request.hasEndTime(), request.getEndTime(), "end_time"));
                return inPool(scope, query.poolId(), () -> service.denialReport(accountId, query).thenApply(d -> d.map(report -> {
                    GetDenialReportResponse.Builder b = GetDenialReportResponse.newBuilder();
                    scope.filter(report.rows(), DenialRow::poolId).forEach(r -> b.addRows(Protos.denialRow(r)));
                    HistoryAssembly.Window w = report.window();
                    return b.setStartTime(Protos.timestamp(Instant.ofEpochMilli(w.firstMillis())))
                            .setEndTime(Protos.timestamp(Instant.ofEpochMilli(w.coveredEndMillis())))
                            .setResolution(Protos.duration(w.step().length())).build();
                })));
            });
        });
    }

    /** Runs {@code then} when the pool asked for (null: every pool in scope) is the caller's to see. */
    private static <R> CompletionStage<Decision<R>> inPool(Scope scope, String poolId, Supplier<CompletionStage<Decision<R>>> then) {
        if (poolId != null && !scope.contains(poolId)) {
            return Gate.done(Gate.outside("pool " + poolId, scope, "pool_id"));
        }
        return then.get();
    }
}
