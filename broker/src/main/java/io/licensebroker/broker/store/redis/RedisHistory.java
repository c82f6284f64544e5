package io.licensebroker.broker.store.redis;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.licensebroker.broker.core.AccountLedger;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.DenialCount;
import io.licensebroker.broker.core.DenialQuery;
import io.licensebroker.broker.core.DenialReport;
import io.licensebroker.broker.core.DenialRow;
import io.licensebroker.broker.core.HistoryAssembly;
import io.licensebroker.broker.core.HistoryBucket;
import io.licensebroker.broker.core.HistoryQuery;
import io.licensebroker.broker.core.HistoryRules;
import io.licensebroker.broker.core.HistoryStep;
import io.licensebroker.broker.core.Journal;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Refusals;
import io.licensebroker.broker.core.UsageHistory;
import io.licensebroker.broker.core.UsageSeries;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static java.util.concurrent.CompletableFuture.completedFuture;

/**
 * The usage history and denial report on Redis (CONTRACT.md section 7). The scripts that change a
 * pool's in_use count it in the pool's buckets in the same atomic step (history_lib.lua), so every
 * node sees the same exact peaks of the combined load; the configuration's own counts (seats) are
 * recorded by apply.lua from what the core's pool arithmetic reports ({@link #levels}); refusals
 * the core charges to a pool are recorded after the answer ({@link #counted}). Reading asks Redis
 * for the buckets and lets the core assemble the answer, as on the embedded store. Every key
 * expires by itself when its newest content leaves its step's retention.
 */
final class RedisHistory {
    private static final System.Logger LOG = System.getLogger(RedisHistory.class.getName());
    /**
     * The steps as history_lib.lua takes them (HIST): code, length, one group hash's span,
     * retention; who-was-denied's steps and bound. A Lua table constructor, not JSON: every call
     * of a session script runs it, and decoding JSON there cost more than the history's own commands.
     */
    static final String STEPS_LUA = stepsLua();

    private final ScriptRunner scripts;
    private final AccountConfigs configs;

    RedisHistory(ScriptRunner scripts, AccountConfigs configs) {
        this.scripts = scripts;
        this.configs = configs;
    }

    private static String code(HistoryStep step) {
        return switch (step) {
            case MINUTE -> "m";
            case HOUR -> "h";
            case DAY -> "d";
        };
    }

    /** How many buckets of a step one group hash holds: small hashes stay compact in Redis (listpacks). */
    private static Duration group(HistoryStep step) {
        return switch (step) {
            case MINUTE -> Duration.ofHours(1);
            case HOUR -> Duration.ofDays(1);
            case DAY -> Duration.ofDays(32);
        };
    }

    private static String stepsLua() {
        StringBuilder lua = new StringBuilder("local HIST = {steps = {");
        StringBuilder read = new StringBuilder();
        for (HistoryStep step : HistoryStep.values()) {
            String c = code(step);
            // The hash fields of the step's bucket in progress, named once here rather than built on every call.
            lua.append(String.format("{code = '%s', ms = %d, group = %d, keep = %d, s = '%ss', l = '%sl', p = '%sp', e = '%se', "
                    + "g = '%sg', d = '%sd:'}, ", c, step.millis(), group(step).toMillis(), step.retention().toMillis(), c, c, c, c, c, c));
            read.append(String.format("'%ss', '%sp', '%sg', ", c, c, c));
        }
        lua.append("}, read = {").append(read).append("}, who_steps = {");
        DenialReport.STEPS.forEach(step -> lua.append(code(step)).append(" = true, "));
        // OTHER_USERS is a plain token ('*'): no quoting needed in a Lua string.
        return lua.append("}, who_max = ").append(DenialReport.MAX_KEYS_PER_BUCKET).append(", who_other = '")
                .append(DenialReport.OTHER_USERS).append("'}\n").toString();
    }

    // ---------------------------------------------------------------- recording

    /**
     * Records {@code d} when the core counts it ({@link UsageHistory#charge}), then answers it; a
     * refusal stands even when Redis could not record it.
     */
    <T> CompletableFuture<Decision<T>> counted(String accountId, Decision<T> d, String product, String userId,
                                               String requestedPoolId, Instant now) {
        if (!(d instanceof Decision.Denied<T> no) || !HistoryRules.counts(no.reason())) {
            return completedFuture(d);
        }
        AccountConfigs.Config cached = configs.cached(accountId);
        CompletableFuture<AccountLedger> ledger = cached != null ? completedFuture(cached.replica())
                : configs.observe(accountId, null, List.of(), false).thenApply(o -> o == null ? null : o.config().replica());
        return ledger.thenCompose(l -> {
            UsageHistory.ChargedDenial c = l == null ? null : l.history().charge(d, product, userId, requestedPoolId);
            if (c == null) {
                return completedFuture(d);
            }
            ObjectNode req = ScriptRunner.request();
            req.putArray("denials").addObject().put("product", c.product()).put("pool", c.poolId()).put("user", c.userId())
                    .put("reason", c.reason().name())
                    // A pool of sessions is counted by Redis; a pool of seats by the configuration.
                    .put("level", l.model(product).isSeat() ? Long.toString(c.level()) : "");
            return scripts.runOnce(accountId, now, Script.HISTORY_DENIED, req).thenApply(x -> d);
        }).handle((x, e) -> {
            if (e != null) {
                LOG.log(System.Logger.Level.WARNING, "a refusal in account {0} was answered but not counted in its usage history: {1}",
                        accountId, e.toString());
            }
            return d;
        });
    }

    /**
     * Adds to an apply.lua request the changes of in_use the configuration makes ({@code changes},
     * from the ledger that decided): those of seat products. A pool of sessions is counted by the
     * scripts that change its sessions.
     */
    static void levels(ObjectNode request, AccountLedger ledger, List<UsageHistory.LevelChange> changes) {
        ArrayNode levels = null;
        for (UsageHistory.LevelChange c : changes) {
            if (c.before() != c.after() && ledger.subscription(c.product()) != null && ledger.model(c.product()).isSeat()) {
                if (levels == null) {
                    levels = request.putArray("levels");
                }
                levels.addObject().put("product", c.product()).put("pool", c.poolId()).put("before", Long.toString(c.before()))
                        .put("after", Long.toString(c.after())).put("grant", c.grant() ? "1" : "0");
            }
        }
    }

    // ---------------------------------------------------------------- reading

    CompletableFuture<Decision<List<UsageSeries>>> usageHistory(String accountId, HistoryQuery q, Instant now) {
        return configs.observe(accountId, q.product(), List.of(), false).thenCompose(observed -> {
            if (observed == null) {
                return completedFuture(Refusals.<List<UsageSeries>>accountNotFound(accountId));
            }
            // Counted: a pool in which nothing was recorded holds its in_use now.
            AccountLedger ledger = AccountConfigs.counted(accountId, observed, q.product(), Journal.NONE);
            Decision<List<String>> pools = ledger.history().pools(q);
            if (pools instanceof Decision.Denied<List<String>> no) {
                return completedFuture(no.<List<UsageSeries>>cast());
            }
            HistoryAssembly.Window w = HistoryAssembly.window(q.step(), q.from(), q.to(), now);
            ObjectNode req = ScriptRunner.request().put("product", q.product()).put("step", code(q.step()))
                    .put("first", Long.toString(w.firstMillis())).put("end", Long.toString(w.endMillis()));
            pools.value().forEach(req.putArray("pools")::add);
            return scripts.run(accountId, now, Script.HISTORY, req).thenApply(reply -> "ok".equals(ScriptRunner.outcome(reply))
                    ? Decision.granted(ledger.history().assemble(q, buckets(q.product(), reply.path("pools")), now))
                    : Refusals.<List<UsageSeries>>accountNotFound(accountId));
        });
    }

    CompletableFuture<Decision<List<DenialRow>>> denialReport(String accountId, DenialQuery q, Instant now) {
        return configs.observe(accountId, null, List.of(), false).thenCompose(observed -> {
            if (observed == null) {
                return completedFuture(Refusals.<List<DenialRow>>accountNotFound(accountId));
            }
            Decision<HistoryAssembly.Window> window = observed.config().replica().history().denialWindow(q, now);
            if (window instanceof Decision.Denied<HistoryAssembly.Window> no) {
                return completedFuture(no.<List<DenialRow>>cast());
            }
            HistoryAssembly.Window w = window.value();
            ObjectNode req = ScriptRunner.request().put("step", code(w.step())).put("first", Long.toString(w.firstMillis()))
                    .put("end", Long.toString(w.endMillis()));
            return scripts.run(accountId, now, Script.DENIALS, req).thenApply(reply -> "ok".equals(ScriptRunner.outcome(reply))
                    ? Decision.granted(DenialReport.assemble(q, denialCounts(reply.path("buckets")), now))
                    : Refusals.<List<DenialRow>>accountNotFound(accountId));
        });
    }

    /** history.lua's answer as buckets per pool: the closed ones by start, the one in progress last. */
    private static Map<String, List<HistoryBucket>> buckets(String product, JsonNode pools) {
        Map<String, List<HistoryBucket>> out = new HashMap<>();
        pools.fields().forEachRemaining(entry -> {
            String pool = entry.getKey();
            List<HistoryBucket> buckets = new ArrayList<>();
            for (JsonNode closed : entry.getValue().path("closed")) {
                String text = closed.asText();
                int bar = text.indexOf('|');
                JsonNode b = parse(text.substring(bar + 1));
                buckets.add(new HistoryBucket(product, pool, Long.parseLong(text.substring(0, bar)), b.path("l").asLong(),
                        b.path("p").asLong(), b.path("e").asLong(), b.path("g").asLong(), denied(b.path("d"), "")));
            }
            buckets.sort(Comparator.comparingLong(HistoryBucket::startMillis));
            JsonNode open = entry.getValue().path("open");
            if (open.has("s")) {
                buckets.add(new HistoryBucket(product, pool, open.path("s").asLong(), open.path("l").asLong(),
                        open.path("p").asLong(), open.path("e").asLong(), open.path("g").asLong(), denied(open, "d:")));
            }
            out.put(pool, buckets);
        });
        return out;
    }

    /** The denial counts of fields named {@code prefix + reason}. */
    private static Map<Reason, Long> denied(JsonNode fields, String prefix) {
        Map<Reason, Long> out = new EnumMap<>(Reason.class);
        fields.fields().forEachRemaining(f -> {
            if (f.getKey().startsWith(prefix) && f.getValue().asLong() != 0) {
                out.put(Reason.valueOf(f.getKey().substring(prefix.length())), f.getValue().asLong());
            }
        });
        return out;
    }

    /** denials.lua's answer: per bucket, fields "n\n<product>\n<pool>\n<user>\n<reason>" (count) and "t\n..." (latest). */
    private static List<DenialCount> denialCounts(JsonNode buckets) {
        List<DenialCount> out = new ArrayList<>();
        for (JsonNode bucket : buckets) {
            long start = bucket.path("start").asLong();
            Map<String, long[]> byKey = new HashMap<>();
            JsonNode fields = bucket.path("fields");
            for (int i = 0; i + 1 < fields.size(); i += 2) {
                String name = fields.get(i).asText();
                long[] c = byKey.computeIfAbsent(name.substring(2), k -> new long[]{0, start});
                c[name.charAt(0) == 'n' ? 0 : 1] = fields.get(i + 1).asLong();
            }
            byKey.forEach((k, c) -> {
                String[] parts = k.split("\n", -1);
                out.add(new DenialCount(parts[0], parts[1], parts[2], Reason.valueOf(parts[3]), start, c[0], c[1]));
            });
        }
        return out;
    }

    private static JsonNode parse(String json) {
        try {
            return ScriptRunner.JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a history bucket that is not JSON: " + json, e);
        }
    }
}
