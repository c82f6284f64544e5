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

    public static <T> Decision<T> organizationNotFound(String accountId, String orgId, String field) {
        return Decision.denied(Reason.ORGANIZATION_NOT_FOUND, "no organization " + orgId + " in account " + accountId, field);
    }
}
