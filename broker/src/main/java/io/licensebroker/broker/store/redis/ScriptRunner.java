package io.licensebroker.broker.store.redis;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.licensebroker.broker.core.StoreObserver;
import io.lettuce.core.ScriptOutputType;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs account scripts with the arguments every call carries (see common.lua) and reads their
 * replies, both as JSON with named fields. It also keeps what the state-loss check needs: this
 * node's id and, per account, the highest acquire count of this node it has seen; a reply that
 * reports lost acquires goes to the {@link StoreObserver}.
 */
final class ScriptRunner {
    private static final System.Logger LOG = System.getLogger(ScriptRunner.class.getName());
    static final ObjectMapper JSON = new ObjectMapper();

    private final RedisLink link;
    private final String nodeId;
    private final String timeSource;
    private final String tombstoneMs;
    private final String learningMs;
    private final String operationMs;
    private final StoreObserver observer;
    private final AtomicLong operations = new AtomicLong();
    /**
     * The highest acquire count of this node seen per account. Kept a day after this node's last
     * acquire there (Redis forgets idle nodes after a week, so a count is never compared with a
     * pruned one).
     */
    private final Cache<String, Long> acquiresSeen = Caffeine.newBuilder().maximumSize(1_000_000)
            .expireAfterWrite(Duration.ofDays(1)).build();

    ScriptRunner(RedisLink link, RedisStoreOptions options, String nodeId) {
        this.link = link;
        this.nodeId = nodeId;
        this.observer = options.observer();
        this.timeSource = options.timeSource() == RedisStore.TimeSource.SERVER ? "S" : "C";
        this.tombstoneMs = Long.toString(options.tombstoneRetention().toMillis());
        this.learningMs = Long.toString(options.learningPeriod().toMillis());
        // A re-sent command arrives within its timeout; the first run's reply is kept a while longer.
        this.operationMs = Long.toString(Math.max(5_000, 4 * options.commandTimeout().toMillis()));
    }

    static ObjectNode request() {
        return JSON.createObjectNode();
    }

    /** Runs a script that reads, or whose step is safe to repeat; {@code now} null: none. Answers the verb's reply. */
    CompletableFuture<JsonNode> run(String accountId, Instant now, Script script, ObjectNode request) {
        return run(accountId, now, script, "", request);
    }

    /**
     * {@link #run} for a change that is not idempotent: a re-send of the command by the Redis client
     * after a reconnect answers what the first run did instead of running again.
     */
    CompletableFuture<JsonNode> runOnce(String accountId, Instant now, Script script, ObjectNode request) {
        // Unique is enough (the id only tells a re-send from a new call): node id and a counter.
        return run(accountId, now, script, nodeId + operations.incrementAndGet(), request);
    }

    private CompletableFuture<JsonNode> run(String accountId, Instant now, Script script, String operationId,
                                            ObjectNode request) {
        // With the caller's clock, a call that brings none cannot date a learning period: it skips
        // the loss check, and the next call with a clock finds the loss.
        Long seen = now == null && "C".equals(timeSource) ? null : acquiresSeen.getIfPresent(accountId);
        // Every value is a plain token (digits, the node id, 'S'/'C'): no escaping needed.
        String common = "{\"time\":\"" + timeSource + "\",\"now\":\"" + (now == null ? 0 : now.toEpochMilli())
                + "\",\"tombstone\":\"" + tombstoneMs + "\",\"node\":\"" + nodeId + "\",\"known\":\"" + (seen == null ? 0 : seen)
                + "\",\"learn\":\"" + learningMs + "\",\"op\":\"" + operationId + "\",\"op_ms\":\"" + operationMs + "\"}";
        String body = encode(request);
        return link.<String>eval(script, ScriptOutputType.VALUE, new String[]{Keys.account(accountId)}, common, body)
                .thenApply(text -> {
                    JsonNode wrapped = parse(text);
                    long lost = wrapped.path("lost").asLong();
                    long count = wrapped.path("node_count").asLong();
                    if (count < 0) {
                        acquiresSeen.invalidate(accountId);
                    } else if (count > 0 && (seen == null || count > seen)) {
                        acquiresSeen.asMap().merge(accountId, count, Math::max);
                    }
                    if (lost > 0) {
                        // The script has put the count back to what this node had seen: it is reported once.
                        LOG.log(System.Logger.Level.WARNING, "Redis lost state of account {0}: {1} acquires this node had seen are gone; {2}",
                                accountId, lost, "0".equals(learningMs) ? "no learning period (--redis-learning-period 0s)"
                                        : "free licenses are kept for the sessions granted before the loss for " + learningMs + " ms");
                        observer.stateLost(accountId, lost);
                    }
                    return wrapped.path("reply");
                });
    }

    /** Runs a global script: {@code keys} in the global hash tag, the request as its one argument. */
    CompletableFuture<JsonNode> global(Script script, String[] keys, ObjectNode request) {
        return link.<String>eval(script, ScriptOutputType.VALUE, keys, encode(request)).thenApply(ScriptRunner::parse);
    }

    private static String encode(ObjectNode request) {
        try {
            return JSON.writeValueAsString(request);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a request of plain values always encodes", e);
        }
    }

    private static JsonNode parse(String text) {
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a script answered something other than JSON: " + text, e);
        }
    }

    static String outcome(JsonNode reply) {
        return reply.path("outcome").asText();
    }
}
