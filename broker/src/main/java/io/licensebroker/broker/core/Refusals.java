package io.licensebroker.broker.core;

import java.time.Instant;

/**
 * The words of every refusal the rules make. Each store answers a refusal through these, so an
 * agent or admin reads the same reason, detail and field whichever store serves it; a store that
 * finds a refused condition inside an atomic step (a counter guard, a time guard) names it and the
 * core turns it into one of these.
 */
public final class Refusals {
    private Refusals() {
    }

    public static <T> Decision<T> accountNotFound(String accountId) {
        return Decision.denied(Reason.ACCOUNT_NOT_FOUND, "no account " + accountId, "account_id");
    }

    public static <T> Decision<T> accountExists(String accountId) {
        return Decision.denied(Reason.ALREADY_EXISTS, "account " + accountId + " already exists", "account_id");
    }

    public static <T> Decision<T> credentialNotFound(String lookupId) {
        return Decision.denied(Reason.CREDENTIAL_NOT_FOUND, "no credential " + lookupId, null);
    }

    public static <T> Decision<T> noSubscription(String accountId, String product) {
        return Decision.denied(Reason.NO_SUBSCRIPTION, "account " + accountId + " has no " + product + " subscription");
    }

    public static <T> Decision<T> subscriptionExpired(String product, Instant expiredAt) {
        return Decision.denied(Reason.SUBSCRIPTION_EXPIRED, "the " + product + " subscription expired at " + expiredAt);
    }

    /** An acquire by a user the account does not know (the user is not a field of an acquire). */
    public static <T> Decision<T> unknownAgentUser(String accountId, String userId) {
        return Decision.denied(Reason.USER_NOT_FOUND, "no user " + userId + " in account " + accountId);
    }

    /** A lookup of a user by id. */
    public static <T> Decision<T> userNotFound(String accountId, String userId) {
        return Decision.denied(Reason.USER_NOT_FOUND, "no user " + userId + " in account " + accountId, "user_id");
    }

    public static <T> Decision<T> requestIdTaken(String requestId) {
        return Decision.denied(Reason.ALREADY_EXISTS, "request_id " + requestId
                + " already names a session for another product or machine", "request_id");
    }

    public static <T> Decision<T> machineQuotaOnAcquire(long quota) {
        return Decision.denied(Reason.MACHINE_QUOTA_EXCEEDED, "machine quota of " + quota + " is reached; deactivate a machine first");
    }

    public static <T> Decision<T> machineQuotaOnOffline(long quota) {
        return Decision.denied(Reason.MACHINE_QUOTA_EXCEEDED, "machine quota of " + quota + " is reached");
    }

    /** No candidate pool of the user's plan had a free license. */
    public static <T> Decision<T> exhausted(Reason reason, String userId) {
        return Decision.denied(reason, reason == Reason.ORGANIZATION_POOL_EXHAUSTED
                ? "the organization pools of user " + userId + " are exhausted and fallback to the account pool is off"
                : "no license available for user " + userId);
    }

    public static <T> Decision<T> sessionNotFound(String sessionId) {
        return Decision.denied(Reason.SESSION_NOT_FOUND, "no live session " + sessionId, "session_id");
    }

    /** A session that ended for {@code cause} (expired or terminated) at {@code at}, still remembered. */
    public static <T> Decision<T> sessionEnded(String sessionId, Reason cause, Instant at) {
        return Decision.denied(cause, "session " + sessionId + (cause == Reason.SESSION_EXPIRED
                ? " expired at " : " was terminated at ") + at, "session_id");
    }

    public static <T> Decision<T> notTheOwner(String sessionId) {
        return Decision.denied(Reason.PERMISSION_DENIED, "session " + sessionId + " belongs to another user", "session_id");
    }

    public static <T> Decision<T> leaseRanOut(String sessionId, Instant leaseEnd) {
        return Decision.denied(Reason.SESSION_EXPIRED, "the lease of session " + sessionId + " ran out at " + leaseEnd, "session_id");
    }

    /** An admin acting outside the account or subtree its token administers (see {@link Scope}). */
    public static <T> Decision<T> outsideScope(String why, String field) {
        return Decision.denied(Reason.PERMISSION_DENIED, why, field);
    }

    public static <T> Decision<T> organizationNotFound(String accountId, String orgId, String field) {
        return Decision.denied(Reason.ORGANIZATION_NOT_FOUND, "no organization " + orgId + " in account " + accountId, field);
    }

    // ---------------------------------------------------------------- seats

    public static <T> Decision<T> sessionOnSeatProduct(String product, LicenseModel model) {
        return Decision.denied(Reason.LICENSE_MODEL_MISMATCH, product + " is licensed per seat (" + model
                + "): activate the user's seat instead of acquiring a session");
    }

    public static <T> Decision<T> seatOnSessionProduct(String product) {
        return Decision.denied(Reason.LICENSE_MODEL_MISMATCH, product + " is licensed per session: it has no seats", "product");
    }

    public static <T> Decision<T> modelChangeInUse(String product, LicenseModel from, LicenseModel to, long inUse) {
        return Decision.denied(Reason.LICENSE_MODEL_MISMATCH, "cannot change " + product + " from " + from + " to " + to
                + " while " + inUse + " licenses are in use (sessions or seats)", "license_model");
    }

    public static <T> Decision<T> offlineOnFloating(String product) {
        return Decision.denied(Reason.LICENSE_MODEL_MISMATCH, product + " is floating: offline licenses need a node-locked or session product", "product");
    }

    public static <T> Decision<T> notLicensed(String userId, String product, String field) {
        return Decision.denied(Reason.NOT_LICENSED, "user " + userId + " holds no " + product + " seat", field);
    }

    public static <T> Decision<T> seatInUse(String userId, String product, String machineId, boolean floating) {
        return Decision.denied(Reason.SEAT_IN_USE, "the " + product + " seat of user " + userId + " is in use on machine "
                + machineId + (floating ? "; take it over to end that activation" : "; an admin must deactivate that machine first"),
                "machine_id");
    }

    public static <T> Decision<T> offlineBound(String userId, String product, String machineId, Instant until, String field) {
        return Decision.denied(Reason.OFFLINE_BOUND, "the " + product + " seat of user " + userId + " is bound to machine "
                + machineId + " by an offline license until " + until, field);
    }

    public static <T> Decision<T> noSeatAvailable(String poolId, long available) {
        return Decision.denied(Reason.INSUFFICIENT_LICENSES, "pool " + poolId + " has " + Math.max(0, available)
                + " available licenses: a seat needs one", "pool_id");
    }

    public static <T> Decision<T> alreadyLicensed(String userId, String product, String field) {
        return Decision.denied(Reason.ALREADY_EXISTS, "user " + userId + " already holds a " + product + " seat", field);
    }
}
