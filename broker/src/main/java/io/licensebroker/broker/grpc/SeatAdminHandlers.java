package io.licensebroker.broker.grpc;

import io.grpc.stub.StreamObserver;
import io.licensebroker.broker.core.Activation;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.core.Refusals;
import io.licensebroker.broker.core.SeatQuery;
import io.licensebroker.proto.v1.GrantLicenseRequest;
import io.licensebroker.proto.v1.LicensedUser;
import io.licensebroker.proto.v1.ListActivationsRequest;
import io.licensebroker.proto.v1.ListActivationsResponse;
import io.licensebroker.proto.v1.ListLicensedUsersRequest;
import io.licensebroker.proto.v1.ListLicensedUsersResponse;
import io.licensebroker.proto.v1.RemoveLicenseRequest;
import io.licensebroker.proto.v1.RemoveLicenseResponse;
import io.licensebroker.proto.v1.TransferLicenseRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin RPCs of seat licenses (CONTRACT.md section 5: "Licensed Users" and "Online Licenses"),
 * which {@link LicenseAdminService} hands over. Same shape as every admin handler: the caller's
 * kind is checked by {@link Gate}, then account_id and the caller's right to it, then the other
 * fields; the core decides the rest (model mismatch, pools, offline bindings). An
 * ORGANIZATION_ADMIN acts on the seats of its subtree's pools only (CONTRACT.md section 6): a grant
 * draws from a pool of its subtree (by default the user's assigned organization, which must then
 * be in it), removals and transfers take a seat drawing from its subtree, and listings show its
 * subtree's seats and activations only.
 */
final class SeatAdminHandlers {
    private static final Logger LOG = LoggerFactory.getLogger(SeatAdminHandlers.class);

    private final Gate gate;
    private final LicenseService service;
    private final SeatObserver seats;

    SeatAdminHandlers(Gate gate, SeatObserver seats) {
        this.gate = gate;
        this.service = gate.service();
        this.seats = seats;
    }

    void grantLicense(GrantLicenseRequest request, StreamObserver<LicensedUser> out) {
        Audit audit = Audit.of("GrantLicense");
        gate.adminChange(out, audit, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            audit.target("account_id", accountId);
            return gate.inScope(caller, accountId, "account_id", scope -> {
                String product = Validation.product(request.getProduct());
                String userId = Validation.userId(request.getUserId());
                String requested = Validation.optionalPoolId(request.getPoolId());
                audit.target("product", product).target("user_id", userId).target("requested_pool_id", requested);
                return gate.grantPoolIn(scope, userId, requested, (unused, poolId) -> service
                        .grantLicense(accountId, product, userId, poolId).thenApply(d -> {
                    if (d.isGranted()) {
                        // A grant that found the seat already held changed nothing: "created=false" says so.
                        audit.target("pool_id", d.value().seat().poolId()).target("created", d.value().created());
                        if (d.value().created()) {
                            reportGranted(product);
                        }
                    }
                    return d.map(Protos::licensedUser);
                }));
            });
        });
    }

    void removeLicense(RemoveLicenseRequest request, StreamObserver<RemoveLicenseResponse> out) {
        Audit audit = Audit.of("RemoveLicense");
        gate.adminChange(out, audit, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            audit.target("account_id", accountId);
            return gate.inScope(caller, accountId, "account_id", scope -> {
                String product = Validation.product(request.getProduct());
                String userId = Validation.userId(request.getUserId());
                audit.target("product", product).target("user_id", userId);
                return gate.seatIn(scope, product, userId, "user_id", (unused, seat) -> {
                    if (!scope.isWholeAccount() && seat == null) {
                        // No seat in the subtree to remove; one granted elsewhere meanwhile is not this admin's.
                        audit.target("removed", false);
                        return Gate.done(Decision.granted(RemoveLicenseResponse.newBuilder().setRemoved(false).build()));
                    }
                    return service.removeLicense(accountId, product, userId).thenApply(d -> {
                        if (d.isGranted()) {
                            audit.target("removed", d.value());
                        }
                        return d.map(removed -> RemoveLicenseResponse.newBuilder().setRemoved(removed).build());
                    });
                });
            });
        });
    }

    void transferLicense(TransferLicenseRequest request, StreamObserver<LicensedUser> out) {
        Audit audit = Audit.of("TransferLicense");
        gate.adminChange(out, audit, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            audit.target("account_id", accountId);
            return gate.inScope(caller, accountId, "account_id", scope -> {
                String product = Validation.product(request.getProduct());
                String from = Validation.userId(request.getFromUserId(), "from_user_id");
                String to = Validation.userId(request.getToUserId(), "to_user_id");
                if (from.equals(to)) {
                    throw Errors.invalid("to_user_id", "must differ from from_user_id: a seat is transferred to another user");
                }
                String requested = Validation.optionalPoolId(request.getPoolId());
                audit.target("product", product).target("from_user_id", from).target("to_user_id", to)
                        .target("requested_pool_id", requested);
                return gate.seatIn(scope, product, from, "from_user_id", (unused, seat) -> {
                    String poolId = requested;
                    if (!scope.isWholeAccount()) {
                        if (seat == null) {
                            return Gate.done(Refusals.notLicensed(from, product, "from_user_id"));
                        }
                        if (requested != null && !scope.contains(requested)) {
                            return Gate.done(Gate.outside("pool " + requested, scope, "pool_id"));
                        }
                        // Named, so the seat cannot land outside the subtree whatever happens meanwhile.
                        poolId = requested != null ? requested : seat.poolId();
                    }
                    return service.transferLicense(accountId, product, from, to, poolId).thenApply(d -> {
                        if (d.isGranted()) {
                            audit.target("pool_id", d.value().seat().poolId());
                        }
                        return d.map(Protos::licensedUser);
                    });
                });
            });
        });
    }

    void listLicensedUsers(ListLicensedUsersRequest request, StreamObserver<ListLicensedUsersResponse> out) {
        gate.admin(out, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            return gate.inScope(caller, accountId, "account_id", scope -> {
                SeatQuery query = new SeatQuery(Validation.product(request.getProduct()),
                        Validation.optionalPoolId(request.getPoolId()), null,
                        Validation.pageSize(request.getPageSize()), Validation.pageToken(request.getPageToken()));
                if (query.poolId() != null && !scope.contains(query.poolId())) {
                    return Gate.done(Gate.outside("pool " + query.poolId(), scope, "pool_id"));
                }
                return service.licensedUsers(accountId, query).thenApply(d -> d.map(page -> {
                    ListLicensedUsersResponse.Builder b = ListLicensedUsersResponse.newBuilder();
                    // A subtree's page is the account's page filtered: it may be short, even empty, before the last.
                    scope.filter(page.items(), u -> u.seat().poolId()).forEach(u -> b.addLicensedUsers(Protos.licensedUser(u)));
                    if (page.nextPageToken() != null) {
                        b.setNextPageToken(page.nextPageToken());
                    }
                    return b.build();
                }));
            });
        });
    }

    void listActivations(ListActivationsRequest request, StreamObserver<ListActivationsResponse> out) {
        gate.admin(out, caller -> {
            String accountId = Validation.accountId(request.getAccountId());
            return gate.inScope(caller, accountId, "account_id", scope -> {
                SeatQuery query = new SeatQuery(Validation.product(request.getProduct()), null,
                        Validation.optionalUserId(request.getUserId()), Validation.pageSize(request.getPageSize()),
                        Validation.pageToken(request.getPageToken(), Validation.MAX_SESSION_ID));
                return service.activations(accountId, query).thenApply(d -> d.map(page -> {
                    ListActivationsResponse.Builder b = ListActivationsResponse.newBuilder();
                    scope.filter(page.items(), Activation::poolId).forEach(a -> b.addActivations(Protos.activation(a, service.renewInterval())));
                    if (page.nextPageToken() != null) {
                        b.setNextPageToken(page.nextPageToken());
                    }
                    return b.build();
                }));
            });
        });
    }

    /** Monitoring must never fail a call that the broker decided. */
    private void reportGranted(String product) {
        try {
            seats.seatGranted(product);
        } catch (RuntimeException e) {
            LOG.warn("the seat observer failed", e);
        }
    }
}
