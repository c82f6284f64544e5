package io.licensebroker.broker.core;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where accounts live. Every verb is one atomic step on one account; the rules themselves live in
 * the core ({@link AccountLedger} semantics, {@link AcquirePlan}) and every store obeys them
 * identically (one contract test suite runs against each). Every verb answers
 * {@link Reason#ACCOUNT_NOT_FOUND} for an unknown account. A stage completes only once the
 * change is durable; it fails exceptionally for infrastructure faults (the change did not happen
 * or is not acknowledged).
 */
public interface LicenseStore extends AutoCloseable {

    CompletionStage<Decision<Account>> createAccount(Account account);

    CompletionStage<Optional<Account>> account(String accountId);

    CompletionStage<List<Account>> accounts();

    /** Stores a credential: SUPER_ADMIN ones globally, the others with their account. */
    CompletionStage<Decision<Credential>> addCredential(Credential credential);

    CompletionStage<Optional<Credential>> credential(String lookupId);

    /**
     * Removes a credential: from the very next {@link #credential} call on any node it is unknown.
     * Granted with the removed credential; {@link Reason#CREDENTIAL_NOT_FOUND} when none has that id.
     */
    CompletionStage<Decision<Credential>> revokeCredential(String lookupId);

    /**
     * Whether any SUPER_ADMIN credential was ever stored, revoked ones included (the bootstrap token
     * is generated only once: revoking it must not make the next start print a new one).
     */
    CompletionStage<Boolean> hasSuperAdmin();

    CompletionStage<Decision<Subscription>> setSubscription(String accountId, String product, long licenses,
                                                            long machineQuota, Instant expiresAt, Instant now);

    /** Granted with null when the account exists but has no subscription for the product. */
    CompletionStage<Decision<Subscription>> subscription(String accountId, String product);

    /** The store chooses the new organization's id ("OG-..."), unique across all accounts. */
    CompletionStage<Decision<Organization>> createOrganization(String accountId, String parentId, String name);

    CompletionStage<Decision<List<Organization>>> organizations(String accountId);

    /** Which account an organization id belongs to. */
    CompletionStage<Optional<String>> accountOfOrganization(String orgId);

    CompletionStage<Decision<LicenseUsage>> setDedicated(String accountId, String orgId, String product, long licenses, Instant now);

    CompletionStage<Decision<User>> upsertUser(String accountId, String userId, String assignedOrgId, List<String> projectOrgIds);

    CompletionStage<Decision<User>> user(String accountId, String userId);

    CompletionStage<Decision<List<User>>> users(String accountId);

    CompletionStage<Decision<PolicySettings>> setPolicy(String accountId, PolicySettings settings);

    CompletionStage<Decision<PolicySettings>> policy(String accountId);

    CompletionStage<Decision<LicenseUsage>> usage(String accountId, String product, Instant now);

    /**
     * The products the account holds any state for (a subscription, dedicated licenses, machines),
     * so that monitoring can walk every license table without knowing the products in advance.
     * Empty for an unknown account. The default knows none; {@link LicenseService#products} always
     * adds the contract's default product, so a store that keeps only that one needs no override.
     */
    default CompletionStage<Set<String>> products(String accountId) {
        return CompletableFuture.completedFuture(Set.of());
    }

    CompletionStage<Decision<Session>> acquire(String accountId, AcquireRequest request);

    /** {@code userId} null skips the ownership check. */
    CompletionStage<Decision<Session>> renew(String accountId, String sessionId, String userId, Instant now, Instant newExpiry);

    /** {@code userId} null skips the ownership check. Granted false when already ended. */
    CompletionStage<Decision<Boolean>> release(String accountId, String sessionId, String userId, Instant now);

    CompletionStage<Decision<Boolean>> terminate(String accountId, String sessionId, Instant now);

    CompletionStage<Decision<SessionPage>> sessions(String accountId, SessionQuery query);

    CompletionStage<Decision<List<Machine>>> machines(String accountId, String product, Instant now);

    CompletionStage<Decision<Boolean>> deactivateMachine(String accountId, String product, String machineId, Instant now);

    CompletionStage<Decision<OfflineLicense>> issueOfflineLicense(String accountId, String product, String machineId,
                                                                  Instant expiresAt, Duration maxLength, Instant now);

    /** Ends every session whose lease ran out by {@code now}; answers how many. Idempotent. */
    CompletionStage<Integer> expireLeases(Instant now);

    @Override
    void close();
}
