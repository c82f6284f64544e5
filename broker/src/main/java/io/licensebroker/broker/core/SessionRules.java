package io.licensebroker.broker.core;

import io.licensebroker.broker.core.AcquirePlan.AnyOrganizationStep;
import io.licensebroker.broker.core.AcquirePlan.PoolStep;
import io.licensebroker.broker.core.LedgerEvent.MachineRegistered;
import io.licensebroker.broker.core.LedgerEvent.SessionEnded;
import io.licensebroker.broker.core.LedgerEvent.SessionStarted;

import java.time.Instant;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The rules of sessions: acquire (the hot path of the memory store), renew, release, terminate
 * and lease expiry. Each checks against the configuration and the {@link SessionTable}, then hands
 * its events to the sink (the owning {@link AccountLedger}). Not thread-safe.
 */
final class SessionRules {

    /** How many run-out leases an acquire ends on its way (the reaper ends the rest). */
    private static final int LAZY_EXPIRY_BATCH = 16;

    private final String accountId;
    private final AccountConfiguration config;
    private final SessionTable sessions;
    private final Consumer<LedgerEvent> sink;

    SessionRules(AccountConfiguration config, SessionTable sessions, Consumer<LedgerEvent> sink) {
        this.accountId = config.accountId;
        this.config = config;
        this.sessions = sessions;
        this.sink = sink;
    }

    /**
     * Takes one license for a session, from the first pool of the user's {@link AcquirePlan} with
     * an available license; or returns the live session already started with the same request id.
     */
    Decision<Session> acquire(AcquireRequest r) {
        // A lease that ran out frees its license now, not at the reaper's next pass.
        endExpiredLeases(r.now(), LAZY_EXPIRY_BATCH);
        PoolBook book = config.bookOrNull(r.product());
        if (book == null || book.subscription == null) {
            return Refusals.noSubscription(accountId, r.product());
        }
        if (book.subscription.isExpiredAt(r.now())) {
            return Refusals.subscriptionExpired(r.product(), book.subscription.expiresAt());
        }
        if (book.model().isSeat()) {
            return Refusals.sessionOnSeatProduct(r.product(), book.model());
        }
        User user = config.user(r.userId());
        if (user == null) {
            return Refusals.unknownAgentUser(accountId, r.userId());
        }
        if (!r.requestId().isEmpty()) {
            Session existing = sessions.byRequest(r.userId(), r.requestId());
            if (existing != null) {
                if (r.now().isBefore(existing.leaseExpiresAt())) {
                    return sameRequest(existing, r);
                }
                sink.accept(new SessionEnded(existing.id(), Reason.SESSION_EXPIRED, r.now()));
            }
        }
        config.pruneOffline(book, r.now());
        boolean newMachine = !book.isRegistered(r.machineId());
        if (newMachine && book.registeredMachines() >= book.subscription.machineQuota()) {
            return Refusals.machineQuotaOnAcquire(book.subscription.machineQuota());
        }
        AcquirePlan plan = AcquirePlan.resolve(accountId, config.policy, user);
        PoolBook.Pool chosen = null;
        boolean fallback = false;
        for (AcquirePlan.Step step : plan.steps()) {
            if (step instanceof PoolStep ps) {
                PoolBook.Pool p = book.pools.get(ps.poolId());
                if (p != null && p.available() > 0) {
                    chosen = p;
                    fallback = ps.fallback();
                    break;
                }
            } else if (step instanceof AnyOrganizationStep) {
                Map.Entry<Integer, PoolBook.Pool> first = book.roomyOrgs.firstEntry();
                if (first != null) {
                    chosen = first.getValue();
                    break;
                }
            }
        }
        if (chosen == null) {
            return Refusals.exhausted(plan.exhaustedReason(), r.userId());
        }
        if (newMachine) {
            sink.accept(new MachineRegistered(r.product(), r.machineId(), r.now()));
        }
        Session session = new Session(r.newSessionId(), accountId, book.product, user.userId(),
                AccountConfiguration.canonicalMachineId(book, r.machineId()), chosen.id, fallback, r.requestId(),
                r.now(), r.leaseExpiresAt());
        sink.accept(new SessionStarted(session));
        return Decision.granted(session);
    }

    /**
     * The answer to an acquire whose request id already names a live session: that session again,
     * or a refusal when the request asked for another product or machine.
     */
    static Decision<Session> sameRequest(Session existing, AcquireRequest r) {
        if (!existing.product().equals(r.product()) || !existing.machineId().equals(r.machineId())) {
            return Refusals.requestIdTaken(r.requestId());
        }
        return Decision.granted(existing);
    }

    /**
     * Extends a live session's lease. {@code userId} null skips the ownership check (admin).
     * A session whose lease already ran out ends now as expired.
     */
    Decision<Session> renew(String sessionId, String userId, Instant now, Instant newExpiry) {
        Session s = sessions.get(sessionId);
        if (s == null) {
            return sessions.gone(sessionId);
        }
        if (userId != null && !s.userId().equals(userId)) {
            return Refusals.notTheOwner(sessionId);
        }
        if (!now.isBefore(s.leaseExpiresAt())) {
            sink.accept(new SessionEnded(sessionId, Reason.SESSION_EXPIRED, now));
            return Refusals.leaseRanOut(sessionId, s.leaseExpiresAt());
        }
        PoolBook book = config.bookOrNull(s.product());
        if (book.subscription.isExpiredAt(now)) {
            return Refusals.subscriptionExpired(s.product(), book.subscription.expiresAt());
        }
        Session renewed = s.withLease(newExpiry.isAfter(s.leaseExpiresAt()) ? newExpiry : s.leaseExpiresAt());
        // Renewals are not journaled: a restart re-leases every recovered session instead (see extendLeases).
        sessions.replace(s, renewed);
        return Decision.granted(renewed);
    }

    /** Ends a session by its agent. False when it had already ended. */
    Decision<Boolean> release(String sessionId, String userId, Instant now) {
        Session s = sessions.get(sessionId);
        if (s == null) {
            return Decision.granted(false);
        }
        if (userId != null && !s.userId().equals(userId)) {
            return Refusals.notTheOwner(sessionId);
        }
        sink.accept(new SessionEnded(sessionId, null, now));
        return Decision.granted(true);
    }

    /** Ends a session by an admin; its next renew answers SESSION_TERMINATED. */
    boolean terminate(String sessionId, Instant now) {
        if (!sessions.contains(sessionId)) {
            return false;
        }
        sink.accept(new SessionEnded(sessionId, Reason.SESSION_TERMINATED, now));
        return true;
    }

    /**
     * Ends every session whose lease ran out by {@code now}, at most {@code max} of them; forgets
     * old tombstones. Costs what expires, not what lives. Returns how many sessions expired.
     */
    int expire(Instant now, int max) {
        int expired = endExpiredLeases(now, max);
        sessions.pruneTombstones(now);
        return expired;
    }

    private int endExpiredLeases(Instant now, int max) {
        int expired = 0;
        Session head;
        while (expired < max && (head = sessions.firstRunOut(now)) != null) {
            sink.accept(new SessionEnded(head.id(), Reason.SESSION_EXPIRED, now));
            expired++;
        }
        return expired;
    }
}
