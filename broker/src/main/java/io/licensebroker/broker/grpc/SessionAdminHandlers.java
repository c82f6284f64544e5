package io.licensebroker.broker.grpc;

import io.grpc.stub.StreamObserver;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.SessionQuery;
import io.licensebroker.proto.v1.DeactivateMachineRequest;
import io.licensebroker.proto.v1.DeactivateMachineResponse;
import io.licensebroker.proto.v1.IssueOfflineLicenseRequest;
import io.licensebroker.proto.v1.IssueOfflineLicenseResponse;
import io.licensebroker.proto.v1.ListMachinesRequest;
import io.licensebroker.proto.v1.ListMachinesResponse;
import io.licensebroker.proto.v1.ListSessionsRequest;
import io.licensebroker.proto.v1.ListSessionsResponse;
import io.licensebroker.proto.v1.TerminateSessionRequest;
import io.licensebroker.proto.v1.TerminateSessionResponse;
import io.licensebroker.proto.v1.VerifyOfflineLicenseRequest;
import io.licensebroker.proto.v1.VerifyOfflineLicenseResponse;

import java.time.Instant;

/**
 * The admin RPCs of what runs on machines (CONTRACT.md: "Online Licenses" of sessions, "Registered
 * Machines", "Offline Licenses"), which {@link LicenseAdminService} hands over. Same shape as every
 * admin handler: the caller's kind is checked by {@link Gate}, then the field naming the account
 * and the caller's right to it, then the other fields; the core decides the rest.
 */
final class SessionAdminHandlers {
    private final Gate gate;
    private final LicenseService service;

    SessionAdminHandlers(Gate gate) {
        this.gate = gate;
        this.service = gate.service();
    }

    void listSessions(ListSessionsRequest request, StreamObserver<ListSessionsResponse> out) {
        gate.admin(out, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            return gate.inScope(caller, accountId, "account_id", scope -> {
                SessionQuery query = new SessionQuery(
                        Validation.optionalProduct(request.getProduct()),
                        Validation.optionalPoolId(request.getPoolId()),
                        Validation.optionalUserId(request.getUserId()),
                        Validation.optionalMachineId(request.getMachineId()),
                        Validation.pageSize(request.getPageSize()),
                        Validation.pageToken(request.getPageToken()));
                if (query.poolId() != null && !scope.contains(query.poolId())) {
                    return Gate.done(Gate.outside("pool " + query.poolId(), scope, "pool_id"));
                }
                return service.sessions(accountId, query).thenApply(d -> d.map(page -> {
                    ListSessionsResponse.Builder b = ListSessionsResponse.newBuilder();
                    // A subtree's page is the account's page filtered: it may be short, even empty, before the last.
                    scope.filter(page.sessions(), Session::poolId).forEach(s -> b.addSessions(Protos.session(s)));
                    if (page.nextPageToken() != null) {
                        b.setNextPageToken(page.nextPageToken());
                    }
                    return b.build();
                }));
            });
        });
    }

    void terminateSession(TerminateSessionRequest request, StreamObserver<TerminateSessionResponse> out) {
        Audit audit = Audit.of("TerminateSession");
        gate.adminChange(out, audit, caller -> {
            String sessionId = Validation.sessionId(request.getSessionId());
            audit.target("session_id", sessionId);
            return gate.inSessionAccount(caller, sessionId, "session_id", account -> {
                if (account.isEmpty()) {
                    // Not one of our session ids: no such live session, which is "already ended".
                    return Gate.done(Decision.granted(terminated(false)));
                }
                return service.terminate(sessionId).thenApply(d -> {
                    // A session id naming an account that does not exist is just as much "no such session".
                    if (d instanceof Decision.Denied<Boolean> denied && denied.reason() == Reason.ACCOUNT_NOT_FOUND) {
                        return Decision.granted(terminated(false));
                    }
                    if (d.isGranted()) {
                        audit.target("account_id", account.get()).target("terminated", d.value());
                    }
                    return d.map(SessionAdminHandlers::terminated);
                });
            });
        });
    }

    void listMachines(ListMachinesRequest request, StreamObserver<ListMachinesResponse> out) {
        gate.admin(out, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            return gate.inAccount(caller, accountId, "account_id", () -> {
                String product = Validation.product(request.getProduct());
                return service.machines(accountId, product).thenApply(d -> d.map(machines -> {
                    ListMachinesResponse.Builder b = ListMachinesResponse.newBuilder();
                    machines.forEach(m -> b.addMachines(Protos.machine(m)));
                    return b.build();
                }));
            });
        });
    }

    void deactivateMachine(DeactivateMachineRequest request, StreamObserver<DeactivateMachineResponse> out) {
        Audit audit = Audit.of("DeactivateMachine");
        gate.adminChange(out, audit, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            audit.target("account_id", accountId);
            return gate.inAccount(caller, accountId, "account_id", () -> {
                String machineId = Validation.machineId(request.getMachineId());
                String product = Validation.product(request.getProduct());
                audit.target("product", product).target("machine_id", machineId);
                return service.deactivateMachine(accountId, product, machineId).thenApply(d -> {
                    if (d.isGranted()) {
                        audit.target("deactivated", d.value());
                    }
                    return d.map(done -> DeactivateMachineResponse.newBuilder().setDeactivated(done).build());
                });
            });
        });
    }

    void issueOfflineLicense(IssueOfflineLicenseRequest request, StreamObserver<IssueOfflineLicenseResponse> out) {
        // The signed file is never audited: it is a bearer credential for the machine.
        Audit audit = Audit.of("IssueOfflineLicense");
        gate.adminChange(out, audit, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            audit.target("account_id", accountId);
            return gate.inAccount(caller, accountId, "account_id", () -> {
                String product = Validation.product(request.getProduct());
                String machineId = Validation.machineId(request.getMachineId());
                audit.target("product", product).target("machine_id", machineId);
                // Absent: the core picks the longest allowed (60 days, capped by the subscription).
                Instant expiresAt = request.hasExpiresAt() ? Validation.timestamp(request.getExpiresAt(), "expires_at") : null;
                String userId = Validation.optionalUserId(request.getUserId());
                if (userId != null) {
                    audit.target("user_id", userId);
                }
                return service.issueOfflineLicense(accountId, product, machineId, userId, expiresAt).thenApply(d -> {
                    if (d.isGranted()) {
                        audit.target("expires_at", d.value().license().expiresAt());
                    }
                    return d.map(Protos::issued);
                });
            });
        });
    }

    /**
     * Any admin of a whole account may check a file it holds (offline licenses are account-wide, so
     * not an ORGANIZATION_ADMIN). A file that is malformed or whose signature does not
     * verify is refused INVALID_ARGUMENT INVALID_LICENSE_FILE rather than answered valid=false,
     * so that every refusal is a status with a reason, like everywhere else.
     */
    void verifyOfflineLicense(VerifyOfflineLicenseRequest request, StreamObserver<VerifyOfflineLicenseResponse> out) {
        gate.accountWideAdmin(out, caller -> {
            byte[] file = Validation.licenseFile(request.getLicenseFile());
            return service.verifyOfflineLicense(file).thenApply(verified -> {
                if (!verified.isGranted()) {
                    throw Errors.invalidLicenseFile("the license file is malformed or its signature does not verify");
                }
                return verified.map(Protos::verified);
            });
        });
    }

    private static TerminateSessionResponse terminated(boolean terminated) {
        return TerminateSessionResponse.newBuilder().setTerminated(terminated).build();
    }
}
