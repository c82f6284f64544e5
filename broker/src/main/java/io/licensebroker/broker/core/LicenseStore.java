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
                                                            long machineQuota, Instant expiresAt, LicenseModel model, Instant now);

    /** A session (KRE) subscription: the model callers from before seats mean. */
    default CompletionStage<Decision<Subscription>> setSubscription(String accountId, String product, long licenses,
                                                                    long machineQuota, Instant expiresAt, Instant now) {
        return setSubscription(accountId, product, licenses, machineQuota, expiresAt, LicenseModel.SESSION, now);
    }

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

    /**
     * The live session of that id, or empty. The default pages through {@link #sessions} (an admin's
     * rare lookup); a store that files sessions by id answers directly.
     */
    default CompletionStage<Decision<Optional<Session>>> session(String accountId, String sessionId) {
        return sessionAfter(accountId, sessionId, null);
    }

    private CompletionStage<Decision<Optional<Session>>> sessionAfter(String accountId, String sessionId, String pageToken) {
        return sessions(accountId, new SessionQuery(null, null, null, null, 1000, pageToken)).thenCompose(page -> {
            if (!page.isGranted()) {
                return CompletableFuture.completedFuture(((Decision.Denied<SessionPage>) page).<Optional<Session>>cast());
            }
            Optional<Session> found = page.value().sessions().stream().filter(s -> s.id().equals(sessionId)).findFirst();
            if (found.isPresent() || page.value().nextPageToken() == null) {
                return CompletableFuture.completedFuture(Decision.granted(found));
            }
            return sessionAfter(accountId, sessionId, page.value().nextPageToken());
        });
    }

    CompletionStage<Decision<List<Machine>>> machines(String accountId, String product, Instant now);

    CompletionStage<Decision<Boolean>> deactivateMachine(String accountId, String product, String machineId, Instant now);

    /** {@code userId}: the licensed user whose seat a node-locked product binds (null on a session product). */
    CompletionStage<Decision<OfflineLicense>> issueOfflineLicense(String accountId, String product, String machineId, String userId,
                                                                  Instant expiresAt, Duration maxLength, Instant now);

    /** An offline license of a session product (no seat to bind). */
    default CompletionStage<Decision<OfflineLicense>> issueOfflineLicense(String accountId, String product, String machineId,
                                                                          Instant expiresAt, Duration maxLength, Instant now) {
        return issueOfflineLicense(accountId, product, machineId, null, expiresAt, maxLength, now);
    }

    // ---------------------------------------------------------------- seats (CONTRACT.md section 5)

    /** {@code poolId} null: the user's assigned organization, or the account for a user with none. */
    CompletionStage<Decision<LicensedUser>> grantLicense(String accountId, String product, String userId, String poolId, Instant now);

    /** Granted false when the user held no seat. */
    CompletionStage<Decision<Boolean>> removeLicense(String accountId, String product, String userId, Instant now);

    /** {@code poolId} null: the seat's own pool. One atomic step. */
    CompletionStage<Decision<LicensedUser>> transferLicense(String accountId, String product, String fromUserId, String toUserId,
                                                            String poolId, Instant now);

    /** Licensed users in user id order (the query's {@code poolId} filters; its {@code userId} is ignored). */
    CompletionStage<Decision<Page<LicensedUser>>> licensedUsers(String accountId, SeatQuery query, Instant now);

    /**
     * The user's seat of the product, or empty. The default pages through {@link #licensedUsers} (an
     * admin's rare lookup); a store that files seats by user answers directly.
     */
    default CompletionStage<Decision<Optional<Seat>>> seat(String accountId, String product, String userId, Instant now) {
        return seatAfter(accountId, product, userId, now, null);
    }

    private CompletionStage<Decision<Optional<Seat>>> seatAfter(String accountId, String product, String userId, Instant now,
                                                                String pageToken) {
        return licensedUsers(accountId, new SeatQuery(product, null, null, 1000, pageToken), now).thenCompose(page -> {
            if (!page.isGranted()) {
                return CompletableFuture.completedFuture(((Decision.Denied<Page<LicensedUser>>) page).<Optional<Seat>>cast());
            }
            Optional<Seat> found = page.value().items().stream().map(LicensedUser::seat)
                    .filter(s -> s.userId().equals(userId)).findFirst();
            if (found.isPresent() || page.value().nextPageToken() == null) {
                return CompletableFuture.completedFuture(Decision.granted(found));
            }
            return seatAfter(accountId, product, userId, now, page.value().nextPageToken());
        });
    }

    CompletionStage<Decision<Activation>> activate(String accountId, ActivationRequest request);

    /** Node-locked bindings and live floating activations in activation id order (the query's {@code poolId} is ignored). */
    CompletionStage<Decision<Page<Activation>>> activations(String accountId, SeatQuery query, Instant now);

    // ---------------------------------------------------------------- usage history (CONTRACT.md section 7)

    /**
     * The usage history of a checked query ({@link HistoryQuery#check}): one series per pool of the
     * account (or the query's pool), assembled by {@link HistoryAssembly} from what the store
     * recorded; a product the account has no state for answers every pool at level 0.
     * ORGANIZATION_NOT_FOUND (field pool_id) for a pool the account lacks.
     */
    CompletionStage<Decision<List<UsageSeries>>> usageHistory(String accountId, HistoryQuery query, Instant now);

    /** Who was denied a license, seat or activation ({@link DenialReport}); the same refusals as {@link #usageHistory}. */
    CompletionStage<Decision<List<DenialRow>>> denialReport(String accountId, DenialQuery query, Instant now);

    /** Ends every session whose lease ran out by {@code now}; answers how many. Idempotent. */
    CompletionStage<Integer> expireLeases(Instant now);

    @Override
    void close();
}
