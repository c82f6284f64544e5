package io.licensebroker.broker.testing;

import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.Machine;
import io.licensebroker.broker.core.OfflineLicense;
import io.licensebroker.broker.core.Organization;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.Subscription;
import io.licensebroker.broker.core.User;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What {@link ReferenceModel} drives: one account's verbs for one product, at a time the target
 * keeps (a clock the model moves). Implemented over the pure ledger and over any
 * {@link io.licensebroker.broker.core.LicenseStore} ({@link StoreTarget}), so one model checks both.
 * Sessions are named by their "account.random" name ({@link io.licensebroker.broker.core.Ids#sessionName}):
 * a target that hands out longer ids maps the name back to the id it handed out.
 */
public interface ModelTarget {
    String accountId();

    Instant now();

    void advance(Duration by);

    /** A subscription to the product, a year long. */
    Decision<Subscription> subscribe(long licenses, long machineQuota);

    Decision<Organization> createOrganization(String parentId, String name);

    Decision<LicenseUsage> setDedicated(String orgId, long licenses);

    Decision<User> upsertUser(String userId, String assignedOrgId, List<String> projectOrgIds);

    PolicySettings setPolicy(PolicySettings settings);

    Decision<Session> acquire(String sessionName, String userId, String machineId, String requestId, Instant leaseExpiresAt);

    Decision<Session> renew(String sessionName, String userId, Instant newExpiry);

    Decision<Boolean> release(String sessionName, String userId);

    boolean terminate(String sessionName);

    /** Ends every run-out lease; how many. */
    int expire();

    Decision<OfflineLicense> offline(String machineId, Instant expiresAt);

    boolean deactivate(String machineId);

    LicenseUsage usage();

    /** Every listed session, in id order, each with its name as id. */
    List<Session> sessions();

    List<Machine> machines();

    /** Checks of the target's own, after every step (the ledger's internal invariants). */
    default void afterStep(String where) {
    }
}
