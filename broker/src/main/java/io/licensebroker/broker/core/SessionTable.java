package io.licensebroker.broker.core;

import io.licensebroker.broker.core.LedgerEvent.SessionEnded;
import io.licensebroker.broker.core.LedgerEvent.SessionStarted;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The live sessions of one account as leases, with what keeps them cheap to look up: the lease
 * order (expiry costs what expires), the idempotency index by request id, and the tombstones of
 * recently ended sessions. Holds no rules and no pool counts; its {@link AccountLedger} applies
 * session events here and to the pools. Not thread-safe.
 */
final class SessionTable {

    private static final Comparator<Session> BY_LEASE_END =
            Comparator.comparingLong(Session::leaseExpiresAtMillis).thenComparing(Session::id);

    private final Duration tombstoneRetention;
    private final Map<String, Session> sessions = new HashMap<>();
    /** The live sessions by lease end, so expiry costs what expires, whatever order leases were given in. */
    private final TreeSet<Session> leases = new TreeSet<>(BY_LEASE_END);
    /** userId -> (requestId -> live session id), for idempotent acquires; no key strings are built. */
    private final Map<String, Map<String, String>> byRequest = new HashMap<>();
    /** Recently ended sessions, so a late renew learns why (expired, terminated); oldest first. */
    private final LinkedHashMap<String, Tombstone> tombstones = new LinkedHashMap<>();

    private record Tombstone(Reason cause, Instant at) {
    }

    SessionTable(Duration tombstoneRetention) {
        this.tombstoneRetention = tombstoneRetention;
    }

    Session get(String sessionId) {
        return sessions.get(sessionId);
    }

    boolean contains(String sessionId) {
        return sessions.containsKey(sessionId);
    }

    int size() {
        return sessions.size();
    }

    /** The earliest lease end among live sessions, or null when there are none. */
    Instant nextExpiry() {
        return leases.isEmpty() ? null : leases.first().leaseExpiresAt();
    }

    /** The session whose lease ends first when that lease ran out by {@code now}, else null. */
    Session firstRunOut(Instant now) {
        if (leases.isEmpty()) {
            return null;
        }
        Session head = leases.first();
        return now.isBefore(head.leaseExpiresAt()) ? null : head;
    }

    /** The live session the user started with this request id, or null. */
    Session byRequest(String userId, String requestId) {
        String existingId = byRequest.getOrDefault(userId, Map.of()).get(requestId);
        return existingId == null ? null : sessions.get(existingId);
    }

    void start(Session s) {
        sessions.put(s.id(), s);
        leases.add(s);
        if (!s.requestId().isEmpty()) {
            byRequest.computeIfAbsent(s.userId(), u -> new HashMap<>()).put(s.requestId(), s.id());
        }
    }

    /** Removes the session (if live) and remembers why it ended; returns the removed session or null. */
    Session end(SessionEnded e) {
        Session s = sessions.remove(e.sessionId());
        if (s != null) {
            leases.remove(s);
            if (!s.requestId().isEmpty()) {
                Map<String, String> ofUser = byRequest.get(s.userId());
                if (ofUser != null && ofUser.remove(s.requestId(), s.id()) && ofUser.isEmpty()) {
                    byRequest.remove(s.userId());
                }
            }
        }
        if (e.cause() != null) {
            tombstones.put(e.sessionId(), new Tombstone(e.cause(), e.at()));
        }
        return s;
    }

    /** Swaps a live session for its updated self (same id), keeping the lease order right. */
    void replace(Session old, Session updated) {
        leases.remove(old);
        sessions.put(updated.id(), updated);
        leases.add(updated);
    }

    /** Forgets tombstones older than the retention at {@code now}. */
    void pruneTombstones(Instant now) {
        Instant horizon = now.minus(tombstoneRetention);
        for (Iterator<Tombstone> it = tombstones.values().iterator(); it.hasNext(); ) {
            if (it.next().at().isAfter(horizon)) {
                break;
            }
            it.remove();
        }
    }

    /** Gives every session a lease to at least {@code until}. */
    void extendLeases(Instant until) {
        List<Session> all = new ArrayList<>(sessions.values());
        for (Session s : all) {
            if (s.leaseExpiresAt().isBefore(until)) {
                replace(s, s.withLease(until));
            }
        }
    }

    /** Moves the product's sessions drawn from any of {@code fromPools} to {@code toPool}. */
    void moveToPool(String product, Set<String> fromPools, String toPool) {
        List<Session> moving = new ArrayList<>();
        for (Session s : sessions.values()) {
            if (s.product().equals(product) && fromPools.contains(s.poolId())) {
                moving.add(s);
            }
        }
        for (Session s : moving) {
            replace(s, s.withPool(toPool));
        }
    }

    /** The ids of the product's live sessions on the machine. */
    List<String> idsOnMachine(String product, String machineId) {
        List<String> out = new ArrayList<>();
        for (Session s : sessions.values()) {
            if (s.product().equals(product) && s.machineId().equals(machineId)) {
                out.add(s.id());
            }
        }
        return out;
    }

    /** The product's live sessions per machine id. */
    Map<String, Long> countByMachine(String product) {
        Map<String, Long> live = new HashMap<>();
        for (Session s : sessions.values()) {
            if (s.product().equals(product)) {
                live.merge(s.machineId(), 1L, Long::sum);
            }
        }
        return live;
    }

    /** Live sessions per {@code product + "/" + poolId}. */
    Map<String, Long> countByPool() {
        Map<String, Long> counted = new HashMap<>();
        for (Session s : sessions.values()) {
            counted.merge(s.product() + "/" + s.poolId(), 1L, Long::sum);
        }
        return counted;
    }

    SessionPage page(SessionQuery q) {
        TreeMap<String, Session> matching = new TreeMap<>();
        for (Session s : sessions.values()) {
            if ((q.product() == null || q.product().equals(s.product()))
                    && (q.poolId() == null || q.poolId().equals(s.poolId()))
                    && (q.userId() == null || q.userId().equals(s.userId()))
                    && (q.machineId() == null || q.machineId().equals(s.machineId()))
                    && (q.pageToken() == null || s.id().compareTo(q.pageToken()) > 0)) {
                matching.put(s.id(), s);
            }
        }
        List<Session> page = new ArrayList<>(Math.min(q.pageSize(), matching.size()));
        for (Session s : matching.values()) {
            if (page.size() == q.pageSize()) {
                break;
            }
            page.add(s);
        }
        String next = matching.size() > page.size() ? page.get(page.size() - 1).id() : null;
        return new SessionPage(page, next);
    }

    /** The refusal for a session that is not live: why it ended while remembered, else not found. */
    <T> Decision<T> gone(String sessionId) {
        Tombstone t = tombstones.get(sessionId);
        return t != null ? Refusals.sessionEnded(sessionId, t.cause(), t.at()) : Refusals.sessionNotFound(sessionId);
    }

    /** The live sessions, then the remembered ends, as events that rebuild this table. */
    void export(Consumer<LedgerEvent> out) {
        sessions.values().forEach(s -> out.accept(new SessionStarted(s)));
        tombstones.forEach((id, t) -> out.accept(new SessionEnded(id, t.cause(), t.at())));
    }
}
