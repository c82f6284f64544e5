package io.licensebroker.broker.grpc;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.core.Principal;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Role;
import io.licensebroker.broker.core.Scope;
import io.licensebroker.broker.core.Seat;
import io.licensebroker.broker.core.User;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * How every unary handler of both services runs, without ever blocking a gRPC thread:
 * resolve the caller's token (asynchronously), check the caller's role, run the handler body
 * (which validates, checks tenancy and calls the core, returning a stage), then complete the
 * observer from whichever thread completes that stage.
 *
 * <p>Order of refusals: for a token that names no credential, RESOURCE_EXHAUSTED
 * TOO_MANY_FAILED_AUTHENTICATIONS when its key failed too often ({@link AuthFailureLimiter}), else
 * UNAUTHENTICATED; then PERMISSION_DENIED for the wrong kind of
 * credential, then whatever the body decides (validation of the field that names the account,
 * the tenancy check, then validation of the remaining fields), so that a caller learns nothing
 * about another tenant's data beyond "not yours".
 */
final class Gate {
    private static final Logger LOG = LoggerFactory.getLogger(Gate.class);

    private static final String AGENT_ONLY = "this RPC needs an agent API key, not an admin token";
    private static final String ADMIN_ONLY = "this RPC needs an admin token, not an API key";
    private static final String ACCOUNT_WIDE_ONLY = "this RPC needs an ACCOUNT_ADMIN or SUPER_ADMIN token";
    private static final String SUPER_ADMIN_ONLY = "this RPC needs a SUPER_ADMIN token";

    private final LicenseService service;
    private final AuthFailureLimiter failures;

    Gate(LicenseService service) {
        this(service, new AuthFailureLimiter());
    }

    Gate(LicenseService service, AuthFailureLimiter failures) {
        this.service = Objects.requireNonNull(service, "service");
        this.failures = Objects.requireNonNull(failures, "failures");
    }

    LicenseService service() {
        return service;
    }

    /** An agent RPC: API keys only. */
    <R> void agent(StreamObserver<R> out, Function<Principal, CompletionStage<Decision<R>>> body) {
        run(out, p -> p.role() == Role.AGENT, AGENT_ONLY, null, body);
    }

    /** An admin RPC that reads: admin tokens of any role; the body checks the account. */
    <R> void admin(StreamObserver<R> out, Function<Principal, CompletionStage<Decision<R>>> body) {
        run(out, Principal::isAdmin, ADMIN_ONLY, null, body);
    }

    /** An admin RPC about a whole account that names none (offline license files): SUPER_ADMIN and ACCOUNT_ADMIN tokens. */
    <R> void accountWideAdmin(StreamObserver<R> out, Function<Principal, CompletionStage<Decision<R>>> body) {
        run(out, p -> p.isAdmin() && !p.isOrganizationAdmin(), ACCOUNT_WIDE_ONLY, null, body);
    }

    /** An admin RPC that changes something: as {@link #admin}, and {@code audit} is written when it completes. */
    <R> void adminChange(StreamObserver<R> out, Audit audit, Function<Principal, CompletionStage<Decision<R>>> body) {
        run(out, Principal::isAdmin, ADMIN_ONLY, audit, body);
    }

    /** An RPC across accounts: SUPER_ADMIN only. */
    <R> void superAdmin(StreamObserver<R> out, Function<Principal, CompletionStage<Decision<R>>> body) {
        run(out, p -> p.role() == Role.SUPER_ADMIN, SUPER_ADMIN_ONLY, null, body);
    }

    /** An RPC across accounts that changes something: as {@link #superAdmin}, audited. */
    <R> void superAdminChange(StreamObserver<R> out, Audit audit, Function<Principal, CompletionStage<Decision<R>>> body) {
        run(out, p -> p.role() == Role.SUPER_ADMIN, SUPER_ADMIN_ONLY, audit, body);
    }

    /** Runs {@code then} when the caller may administer {@code accountId}; PERMISSION_DENIED otherwise. */
    <R> CompletionStage<Decision<R>> inAccount(Principal caller, String accountId, String field,
                                               Supplier<CompletionStage<Decision<R>>> then) {
        if (!caller.canAdminister(accountId)) {
            // Deliberately the same answer whether or not the account exists: no tenant enumeration.
            return done(Errors.permissionDenied("this token cannot administer that account", field));
        }
        return then.get();
    }

    /**
     * Runs {@code then} with the part of {@code accountId} the caller administers: the whole account
     * for a SUPER_ADMIN or its ACCOUNT_ADMIN, its subtree for an ORGANIZATION_ADMIN of that account
     * (one read of the organizations, none for the others). PERMISSION_DENIED when it has no part.
     * The body then checks each pool, organization or user it touches against the scope.
     */
    <R> CompletionStage<Decision<R>> inScope(Principal caller, String accountId, String field,
                                             Function<Scope, CompletionStage<Decision<R>>> then) {
        return service.scope(caller, accountId).thenCompose(scope -> scope.isEmpty()
                ? done(Errors.permissionDenied("this token cannot administer that account", field))
                : then.apply(scope.get()));
    }

    /**
     * As {@link #inScope}, and {@code poolId} (an organization id, or the account id for the account
     * pool) must be in the caller's scope; null means "any pool" (the whole account), which only a
     * whole-account scope holds. For seat and listing RPCs that name a pool.
     */
    <R> CompletionStage<Decision<R>> inSubtree(Principal caller, String accountId, String poolId, String field,
                                               Function<Scope, CompletionStage<Decision<R>>> then) {
        return inScope(caller, accountId, field, scope -> scope.contains(poolId)
                ? then.apply(scope)
                : done(outside(poolId == null ? "the whole account" : "pool " + poolId, scope, field)));
    }

    /**
     * Runs {@code then} when the user's assigned organization is in the caller's scope. A
     * whole-account scope reads nothing (the core answers USER_NOT_FOUND itself); a subtree reads the
     * user: USER_NOT_FOUND for an unknown one, PERMISSION_DENIED for one assigned elsewhere or nowhere.
     * {@code then} receives the user when it was read, else null.
     */
    <R> CompletionStage<Decision<R>> userInScope(Principal caller, String accountId, String userId, String field,
                                                 BiFunction<Scope, User, CompletionStage<Decision<R>>> then) {
        return inScope(caller, accountId, "account_id", scope -> userIn(scope, userId, field, then));
    }

    /** As {@link #userInScope}, in a scope already read for this call. */
    <R> CompletionStage<Decision<R>> userIn(Scope scope, String userId, String field,
                                            BiFunction<Scope, User, CompletionStage<Decision<R>>> then) {
        if (scope.isWholeAccount()) {
            return then.apply(scope, null);
        }
        return service.user(scope.accountId(), userId).thenCompose(user -> {
            if (!user.isGranted()) {
                return done(((Decision.Denied<User>) user).<R>cast());
            }
            if (!scope.contains(user.value().assignedOrgId())) {
                return done(outside("user " + userId, scope, field));
            }
            return then.apply(scope, user.value());
        });
    }

    /**
     * For a seat grant, in a scope already read for this call: runs {@code then} with the pool the
     * seat will draw from when that pool is in scope. A named {@code poolId} must be in it. Without
     * one, a whole-account scope passes null (the core defaults it); a subtree reads the user, whose
     * assigned organization must be in scope, and passes that organization explicitly, so that a
     * reassignment meanwhile cannot make the core draw from a pool outside.
     */
    <R> CompletionStage<Decision<R>> grantPoolIn(Scope scope, String userId, String poolId,
                                                 BiFunction<Scope, String, CompletionStage<Decision<R>>> then) {
        if (poolId != null) {
            return scope.contains(poolId) ? then.apply(scope, poolId) : done(outside("pool " + poolId, scope, "pool_id"));
        }
        return userIn(scope, userId, "user_id", (s, user) -> then.apply(s, user == null ? null : user.assignedOrgId()));
    }

    /**
     * Runs {@code then} when the user's seat of the product draws from the scope (already read for
     * this call). A whole-account scope reads nothing ({@code then} gets a null seat); a subtree
     * reads the seat: PERMISSION_DENIED when it draws from outside, and a null seat when the user
     * holds none, which the handler answers itself (as "none") rather than let the core act on a
     * seat granted elsewhere meanwhile.
     */
    <R> CompletionStage<Decision<R>> seatIn(Scope scope, String product, String userId, String field,
                                            BiFunction<Scope, Seat, CompletionStage<Decision<R>>> then) {
        if (scope.isWholeAccount()) {
            return then.apply(scope, null);
        }
        return service.seat(scope.accountId(), product, userId).thenCompose(seat -> {
            if (!seat.isGranted()) {
                return done(((Decision.Denied<Optional<Seat>>) seat).<R>cast());
            }
            if (seat.value().isPresent() && !scope.contains(seat.value().get().poolId())) {
                return done(outside("the " + product + " seat of user " + userId, scope, field));
            }
            return then.apply(scope, seat.value().orElse(null));
        });
    }

    /**
     * Runs {@code then} with the caller's scope in the organization's account when it may set its dedicated
     * licenses: NOT_FOUND ORGANIZATION_NOT_FOUND for an unknown organization, PERMISSION_DENIED for
     * another account's, and for an ORGANIZATION_ADMIN for any organization not strictly below its
     * own (its own count draws from a pool above it). The account is found through the store, so
     * this is a stage too.
     */
    <R> CompletionStage<Decision<R>> inOrganization(Principal caller, String orgId, String field,
                                                    Function<Scope, CompletionStage<Decision<R>>> then) {
        return service.accountOfOrganization(orgId).thenCompose(account -> {
            if (account.isEmpty()) {
                return done(Decision.denied(Reason.ORGANIZATION_NOT_FOUND, "no organization " + orgId, field));
            }
            return service.scope(caller, account.get()).thenCompose(scope -> {
                if (scope.isEmpty()) {
                    return done(Errors.permissionDenied("that organization belongs to an account this token cannot administer", field));
                }
                if (!scope.get().containsBelowRoot(orgId)) {
                    return done(outside("organization " + orgId + " (only those strictly below " + scope.get().root() + ")", scope.get(), field));
                }
                return then.apply(scope.get());
            });
        });
    }

    /**
     * Runs {@code then} with the session's account (read from the session id, no store access)
     * when the caller may administer it. A session id that names no account cannot belong to any
     * account, so {@code then} receives empty and decides what "no such session" means. An
     * ORGANIZATION_ADMIN may act on a live session drawing from its subtree only (the session is read);
     * one that is not live is left to {@code then}, as for everyone.
     */
    <R> CompletionStage<Decision<R>> inSessionAccount(Principal caller, String sessionId, String field,
                                                      Function<Optional<String>, CompletionStage<Decision<R>>> then) {
        Optional<String> account = service.accountOfSession(sessionId);
        if (!caller.isOrganizationAdmin()) {
            if (account.isPresent() && !caller.canAdminister(account.get())) {
                return done(Errors.permissionDenied("that session belongs to an account this token cannot administer", field));
            }
            return then.apply(account);
        }
        if (account.isEmpty()) {
            return then.apply(account);
        }
        return inScope(caller, account.get(), field, scope -> service.session(account.get(), sessionId).thenCompose(found -> {
            // Checked, then acted on: a revoke above the subtree in between may move the session out
            // (to the parent pool); the admin saw it in its subtree an instant before.
            if (found.isGranted() && found.value().isPresent() && !scope.contains(found.value().get().poolId())) {
                return done(outside("that session", scope, field));
            }
            // Not live (ids are never reused): there is nothing to act on, which then() answers as usual.
            return then.apply(account);
        }));
    }

    /** The refusal for an id outside the caller's scope. */
    static <R> Decision<R> outside(String what, Scope scope, String field) {
        return Errors.permissionDenied(what + " is outside what this token administers (" + scope + ")", field);
    }

    static <R> CompletionStage<Decision<R>> done(Decision<R> decision) {
        return CompletableFuture.completedFuture(decision);
    }

    // ---------------------------------------------------------------- internals

    /** {@code audit} null: the call changes nothing and is not audited. */
    private <R> void run(StreamObserver<R> out, Predicate<Principal> allowed, String notAllowed, Audit audit,
                         Function<Principal, CompletionStage<Decision<R>>> body) {
        CompletionStage<Decision<R>> result;
        try {
            String token = AuthInterceptor.TOKEN.get();
            if (token == null) {
                // Only when the services are mounted without the interceptor: fail closed.
                throw Errors.unauthenticated("missing authorization header; expected \"Bearer <token>\"");
            }
            result = service.authenticate(token).thenCompose(principal -> {
                if (principal.isEmpty()) {
                    // Only failures are counted or refused, after the credential was checked: a
                    // guesser at a key (or from a shared address) never locks out its rightful holder.
                    String failureKey = AuthFailureLimiter.keyOf(token, AuthInterceptor.PEER.get());
                    if (failures.blocked(failureKey)) {
                        throw Errors.tooManyFailedAuthentications();
                    }
                    failures.failed(failureKey);
                    throw Errors.unauthenticated("unknown token");
                }
                if (audit != null) {
                    audit.caller(principal.get());
                }
                if (!allowed.test(principal.get())) {
                    return done(Errors.permissionDenied(notAllowed, null));
                }
                return body.apply(principal.get());
            });
        } catch (RuntimeException e) {
            // A body or store that throws instead of failing its stage is answered the same way.
            result = CompletableFuture.failedFuture(e);
        }
        result.whenComplete((decision, failure) -> complete(out, decision, failure, audit));
    }

    private static <R> void complete(StreamObserver<R> out, Decision<R> decision, Throwable failure, Audit audit) {
        StatusRuntimeException refusal = null;
        if (failure != null) {
            refusal = Errors.fromThrowable(failure);
        } else if (decision instanceof Decision.Denied<R> denied) {
            refusal = Errors.denied(denied);
        } else if (!(decision instanceof Decision.Granted<R>)) {
            refusal = Errors.fromThrowable(new IllegalStateException("a handler answered no decision"));
        }
        if (audit != null) {
            // Before the answer: whoever saw the change succeed can find its audit line.
            try {
                audit.write(refusal);
            } catch (RuntimeException e) {
                LOG.error("could not write an audit line", e);
            }
        }
        try {
            if (refusal != null) {
                out.onError(refusal);
            } else {
                out.onNext(decision.value());
                out.onCompleted();
            }
        } catch (RuntimeException e) {
            // Typically the client cancelled or the server shut down meanwhile: nobody is listening.
            LOG.debug("could not complete a call", e);
        }
    }
}
