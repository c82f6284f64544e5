package io.licensebroker.broker.store.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.licensebroker.broker.core.AccountLedger;
import io.licensebroker.broker.core.AcquireCandidates;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Ids;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Refusals;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.SessionPage;
import io.licensebroker.broker.core.SessionQuery;
import io.licensebroker.broker.core.StoreObserver;
import io.licensebroker.broker.core.StoreUnavailableException;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import static java.util.concurrent.CompletableFuture.completedFuture;

/**
 * Sessions on Redis: acquire, renew, release, terminate and listing, each one small script over the
 * session and counter keys. An acquire sends what the core decided for the user at the account's
 * configuration version ({@link AcquireCandidates}, cached per version); the script only counts.
 * Every answer a script names (ran out, not the owner, exhausted, ...) is put into words by the
 * core's {@link Refusals}.
 *
 * <p>Re-admission: during a learning period (see common.lua) a session Redis does not know is taken
 * back when its id carries a valid ticket for this user ({@link SessionTickets}): it is acquired
 * again under the same id, through the same candidates and counts as any acquire, so the pools can
 * never be oversubscribed; if no license is free for it, it is lost after all.
 */
final class RedisSessions {
    private static final System.Logger LOG = System.getLogger(RedisSessions.class.getName());
    /** Candidates recomputed for one acquire at most, when the configuration keeps changing meanwhile. */
    private static final int MAX_ATTEMPTS = 16;

    /** Candidates and the configuration version they were computed from. */
    private record Cached(String version, AcquireCandidates candidates) {
    }

    private final ScriptRunner scripts;
    private final AccountConfigs configs;
    private final LeaseReaper reaper;
    private final StoreObserver observer;
    private final SecureRandom random = new SecureRandom();
    private final Cache<String, Cached> candidates = Caffeine.newBuilder().maximumSize(100_000)
            .expireAfterAccess(Duration.ofMinutes(10)).build();
    /** Each account's key for session tickets: made once, never changed. */
    private final Cache<String, SessionTickets.AccountKey> sessionKeys = Caffeine.newBuilder().maximumSize(100_000).build();

    RedisSessions(ScriptRunner scripts, AccountConfigs configs, LeaseReaper reaper, StoreObserver observer) {
        this.scripts = scripts;
        this.configs = configs;
        this.reaper = reaper;
        this.observer = observer;
    }

    CompletableFuture<Decision<Session>> acquire(String accountId, AcquireRequest request) {
        return acquire(accountId, request, false, 1).thenCompose(d -> presented(accountId, d));
    }

    /** {@code readmit}: take back a session Redis forgot, during a learning period (see {@link #renew}). */
    private CompletableFuture<Decision<Session>> acquire(String accountId, AcquireRequest r, boolean readmit, int attempt) {
        String cacheKey = accountId + '\n' + r.userId() + '\n' + r.product();
        AccountConfigs.Config config = configs.cached(accountId);
        Cached plan = candidates.getIfPresent(cacheKey);
        if (config != null && (plan == null || !plan.version().equals(config.version()))) {
            plan = new Cached(config.version(), config.replica().acquireCandidates(r.product(), r.userId()));
            candidates.put(cacheKey, plan);
        }
        ObjectNode req = request(r, plan, readmit);
        Cached used = plan;
        return scripts.run(accountId, r.now(), Script.ACQUIRE, req).thenCompose(reply -> {
            String outcome = ScriptRunner.outcome(reply);
            if ("stale".equals(outcome)) {
                configs.learn(accountId, reply);
                if (attempt >= MAX_ATTEMPTS) {
                    throw new StoreUnavailableException("the configuration of account " + accountId
                            + " changed during each of " + attempt + " attempts", null);
                }
                return acquire(accountId, r, readmit, attempt + 1);
            }
            if ("no_account".equals(outcome)) {
                return completedFuture(Refusals.<Session>accountNotFound(accountId));
            }
            AcquireCandidates c = used.candidates();
            return switch (outcome) {
                case "ok" -> {
                    Session session = session(accountId, reply.path("session"));
                    yield "1".equals(reply.path("reindex").asText())
                            ? reaper.index(accountId, session.leaseExpiresAt().toEpochMilli()).thenApply(x -> Decision.granted(session))
                            : completedFuture(Decision.granted(session));
                }
                case "existing" -> completedFuture(AccountLedger.sameRequest(session(accountId, reply.path("session")), r));
                case "expired" -> completedFuture(Refusals.subscriptionExpired(r.product(), c.subscription().expiresAt()));
                case "refused" -> completedFuture(c.refusal().cast());
                case "recovering" -> completedFuture(recovering(reply));
                case "machine_quota" -> completedFuture(Refusals.machineQuotaOnAcquire(c.subscription().machineQuota()));
                case "exhausted" -> completedFuture(Refusals.exhausted(c.exhaustedReason(), r.userId()));
                default -> completedFuture(gone(accountId, r.newSessionId(), reply));
            };
        });
    }

    /** The acquire script's request; without candidates (none cached yet) the script answers stale. */
    private static ObjectNode request(AcquireRequest r, Cached plan, boolean readmit) {
        ObjectNode req = ScriptRunner.request().put("version", plan == null ? "" : plan.version()).put("sid", r.newSessionId())
                .put("product", r.product()).put("user", r.userId()).put("machine", r.machineId()).put("request", r.requestId())
                .put("lease", Long.toString(r.leaseExpiresAt().toEpochMilli()))
                .put("lease_ms", Long.toString(r.leaseExpiresAt().toEpochMilli() - r.now().toEpochMilli()))
                .put("readmit", readmit);
        ArrayNode pools = req.putArray("candidates");
        ArrayNode offlineEnds = req.putArray("offline_ends");
        if (plan == null) {
            return req.put("quota", "0");
        }
        AcquireCandidates c = plan.candidates();
        if (c.subscription() != null) {
            req.put("expires", Long.toString(c.subscription().expiresAt().toEpochMilli()))
                    .put("quota", Long.toString(c.subscription().machineQuota()));
        } else {
            req.put("quota", "0");
        }
        if (c.refusal() != null) {
            req.put("refused", true);
        }
        for (AcquireCandidates.Candidate candidate : c.pools()) {
            pools.addObject().put("pool", candidate.poolId()).put("size", Long.toString(candidate.size()))
                    .put("fallback", candidate.fallback() ? "1" : "0").put("offline", candidate.lessLiveOffline() ? "1" : "0");
        }
        c.offlineEnds().forEach(end -> offlineEnds.add(Long.toString(end.toEpochMilli())));
        return req;
    }

    /** Renews by the session's name; during a learning period a forgotten session may be re-admitted. */
    CompletableFuture<Decision<Session>> renew(String accountId, String sessionId, String userId, Instant now, Instant newExpiry) {
        String name = Ids.sessionName(sessionId);
        ObjectNode req = ScriptRunner.request().put("sid", name).put("user", userId == null ? "" : userId)
                .put("lease", Long.toString(newExpiry.toEpochMilli()))
                .put("lease_ms", Long.toString(newExpiry.toEpochMilli() - now.toEpochMilli()));
        return scripts.run(accountId, now, Script.RENEW, req).thenCompose(reply -> switch (ScriptRunner.outcome(reply)) {
            case "ok" -> presented(accountId, Decision.granted(session(accountId, reply.path("session"))));
            case "readmit" -> readmit(accountId, sessionId, userId, now, newExpiry);
            case "not_owner" -> completedFuture(Refusals.notTheOwner(name));
            case "ran_out" -> completedFuture(Refusals.leaseRanOut(name, Instant.ofEpochMilli(reply.path("lease").asLong())));
            case "expired" -> completedFuture(Refusals.subscriptionExpired(reply.path("product").asText(),
                    Instant.ofEpochMilli(reply.path("at").asLong())));
            default -> completedFuture(gone(accountId, name, reply));
        });
    }

    private CompletableFuture<Decision<Session>> readmit(String accountId, String sessionId, String userId, Instant now,
                                                         Instant newExpiry) {
        String name = Ids.sessionName(sessionId);
        Decision<Session> unknown = Refusals.sessionNotFound(name);
        Optional<SessionTickets.Ticket> ticket = SessionTickets.parse(sessionId);
        if (ticket.isEmpty() || userId == null) {
            return completedFuture(unknown);
        }
        SessionTickets.Ticket t = ticket.get();
        return sessionKey(accountId).thenCompose(key -> {
            if (key == null || !SessionTickets.verify(key, t, userId)) {
                return completedFuture(unknown);
            }
            AcquireRequest again = new AcquireRequest(t.product(), userId, t.machineId(), "", name, now, newExpiry);
            return acquire(accountId, again, true, 1).thenApply(d -> {
                if (d.isGranted()) {
                    observer.sessionReadmitted();
                    LOG.log(System.Logger.Level.INFO, "re-admitted session {0} that Redis had lost", name);
                    return Decision.granted(SessionTickets.present(key, d.value()));
                }
                Decision.Denied<Session> refused = (Decision.Denied<Session>) d;
                return Decision.<Session>denied(Reason.SESSION_NOT_FOUND, "Redis lost session " + name
                        + " and it could not be taken back: " + refused.detail(), "session_id");
            });
        });
    }

    /** Ends a session: by its agent ({@code cause} null, owner {@code userId} unless null) or an admin's terminate. */
    CompletableFuture<Decision<Boolean>> end(String accountId, String sessionId, String userId, Reason cause, Instant now) {
        String name = Ids.sessionName(sessionId);
        ObjectNode req = ScriptRunner.request().put("sid", name).put("user", userId == null ? "" : userId)
                .put("cause", cause == null ? "" : cause.name());
        return scripts.runOnce(accountId, now, Script.RELEASE, req).thenApply(reply -> switch (ScriptRunner.outcome(reply)) {
            case "ok" -> Decision.granted("1".equals(reply.path("ended").asText()));
            case "not_owner" -> Refusals.notTheOwner(name);
            default -> Refusals.accountNotFound(accountId);
        });
    }

    CompletableFuture<Decision<SessionPage>> sessions(String accountId, SessionQuery q) {
        ObjectNode req = ScriptRunner.request().put("product", orEmpty(q.product())).put("pool", orEmpty(q.poolId()))
                .put("user", orEmpty(q.userId())).put("machine", orEmpty(q.machineId())).put("size", Integer.toString(q.pageSize()))
                .put("after", orEmpty(q.pageToken()));
        return scripts.run(accountId, null, Script.SESSIONS, req).thenCompose(reply -> {
            if (!"ok".equals(ScriptRunner.outcome(reply))) {
                return completedFuture(Refusals.<SessionPage>accountNotFound(accountId));
            }
            List<Session> page = new ArrayList<>();
            reply.path("sessions").forEach(s -> page.add(session(accountId, s)));
            String next = reply.path("next").asText();
            SessionPage found = new SessionPage(page, next.isEmpty() ? null : next);
            if (page.isEmpty()) {
                return completedFuture(Decision.granted(found));
            }
            return sessionKey(accountId).thenApply(key -> Decision.granted(new SessionPage(
                    page.stream().map(session -> SessionTickets.present(key, session)).toList(), found.nextPageToken())));
        });
    }

    /**
     * The session by its name: the id handed out (with its ticket) or the name alone, which is what
     * renew, release and terminate go by, so a check before one of them sees the session it acts on.
     */
    CompletableFuture<Decision<Optional<Session>>> session(String accountId, String sessionId) {
        ObjectNode req = ScriptRunner.request().put("sid", Ids.sessionName(sessionId));
        return scripts.run(accountId, null, Script.SESSION, req).thenCompose(reply -> {
            if (!"ok".equals(ScriptRunner.outcome(reply))) {
                return completedFuture(Refusals.<Optional<Session>>accountNotFound(accountId));
            }
            if (!reply.hasNonNull("session")) {
                return completedFuture(Decision.granted(Optional.<Session>empty()));
            }
            return presented(accountId, Decision.granted(session(accountId, reply.path("session")))).thenApply(d -> d.map(Optional::of));
        });
    }

    /** The account's key for session tickets, or null when the account does not exist. */
    private CompletableFuture<SessionTickets.AccountKey> sessionKey(String accountId) {
        SessionTickets.AccountKey cached = sessionKeys.getIfPresent(accountId);
        if (cached != null) {
            return completedFuture(cached);
        }
        byte[] candidate = new byte[32];
        random.nextBytes(candidate);
        ObjectNode req = ScriptRunner.request().put("candidate", HexFormat.of().formatHex(candidate));
        return scripts.run(accountId, null, Script.SESSION_KEY, req).thenApply(reply -> {
            if (!"ok".equals(ScriptRunner.outcome(reply))) {
                return null;
            }
            SessionTickets.AccountKey key = new SessionTickets.AccountKey(HexFormat.of().parseHex(reply.path("key").asText()));
            sessionKeys.put(accountId, key);
            return key;
        });
    }

    /** A granted session as agents see it: with its ticketed id. */
    private CompletableFuture<Decision<Session>> presented(String accountId, Decision<Session> decision) {
        if (!decision.isGranted()) {
            return completedFuture(decision);
        }
        return sessionKey(accountId).thenApply(key -> key == null
                ? decision
                : Decision.granted(SessionTickets.present(key, decision.value())));
    }

    /** A step a learning period refuses (outcome recovering {until}; see common.lua). */
    static <T> Decision<T> recovering(JsonNode reply) {
        return Decision.denied(Reason.STORE_RECOVERING, "Redis lost recent changes; until "
                + Instant.ofEpochMilli(reply.path("until").asLong()) + " free licenses are kept for the sessions granted before the loss");
    }

    /** The refusal for a session that is not live: ended (with its tombstone), or unknown. */
    static <T> Decision<T> gone(String accountId, String name, JsonNode reply) {
        return switch (ScriptRunner.outcome(reply)) {
            case "ended" -> Refusals.sessionEnded(name, Reason.valueOf(reply.path("cause").asText()),
                    Instant.ofEpochMilli(reply.path("at").asLong()));
            case "no_account" -> Refusals.accountNotFound(accountId);
            default -> Refusals.sessionNotFound(name);
        };
    }

    static Session session(String accountId, JsonNode s) {
        return new Session(s.path("id").asText(), accountId, s.path("product").asText(), s.path("user").asText(),
                s.path("machine").asText(), s.path("pool").asText(), "1".equals(s.path("fallback").asText()),
                s.path("request").asText(), Instant.ofEpochMilli(s.path("started").asLong()),
                Instant.ofEpochMilli(s.path("lease").asLong()));
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }
}
