package io.licensebroker.broker.core;

import io.licensebroker.broker.core.LedgerEvent.HistoryRestored;
import io.licensebroker.broker.core.LedgerEvent.UsageRecorded;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The usage history and denial log of one account (CONTRACT.md section 7), recorded as the
 * account's pools change. Every change of a pool's in_use is seen here ({@link #changed}, from the
 * pool arithmetic of {@link AccountConfiguration}), so peaks are exact; denials come from the
 * verbs that refuse ({@link #counted}). The minute in progress is counted in place; when a later
 * minute begins ({@link #advance}, at the start of every verb that can change a pool, and on the
 * store's periodic lease expiry) it closes as one {@link UsageRecorded} event for the whole account
 * (journaled; nothing when nothing happened), which rolls it into every step's buckets.
 *
 * <p>A ledger that replays events, or mirrors a shared store's configuration, does not record:
 * replayed history comes from the journaled events themselves. Not thread-safe: its ledger's
 * owner serializes calls, as for the ledger.
 */
public final class UsageHistory {
    private final AccountConfiguration config;
    private final Consumer<LedgerEvent> sink;
    private final DenialLog denials = new DenialLog();
    /** The pools counted in the open minute. */
    private final List<PoolHistory> touched = new ArrayList<>();
    private boolean recording = true;
    /** Where a ledger that does not record tells its pool changes (a shared store records them itself), or null. */
    private Consumer<LevelChange> mirror;
    /** The start of the minute in progress (time never goes back in here: a late caller counts in it). */
    private long openMinute = PoolHistory.NONE;

    UsageHistory(AccountConfiguration config, Consumer<LedgerEvent> sink) {
        this.config = config;
        this.sink = sink;
    }

    /** Whether changes are counted (false while replaying, and in a shared store's mirror). */
    void recording(boolean on) {
        recording = on;
    }

    boolean recording() {
        return recording;
    }

    /** One change of a pool's in_use, as the pool arithmetic made it. */
    public record LevelChange(String product, String poolId, long before, long after, boolean grant) {
    }

    /**
     * Tells every pool change of a ledger that does not record to {@code to} ({@code null}: to
     * none): a shared store whose configuration holds some counts (seats) records those changes
     * itself, in the step that makes them.
     */
    public void mirror(Consumer<LevelChange> to) {
        mirror = to;
    }

    /** Closes the minute in progress when {@code now} is past it (one journaled event, if anything happened in it). */
    void advance(Instant now) {
        long minute = HistoryStep.MINUTE.startOf(now.toEpochMilli());
        if (minute > openMinute) {
            flush();
            openMinute = minute;
        }
    }

    /**
     * Journals what the minute in progress counted so far (a clean shutdown does, so that only a
     * crash loses it); what comes later in the same minute adds to the same bucket.
     */
    public void flush() {
        if (touched.isEmpty() || !recording) {
            return;
        }
        List<HistoryBucket> buckets = new ArrayList<>(touched.size());
        for (PoolHistory h : touched) {
            buckets.add(h.open());
            h.clearOpen();
        }
        touched.clear();
        sink.accept(new UsageRecorded(openMinute, buckets, denials.takeOpen()));
    }

    /** Opens a minute when none is (after a restart), closing nothing: for verbs that must not journal. */
    void open(Instant now) {
        if (openMinute == PoolHistory.NONE) {
            openMinute = HistoryStep.MINUTE.startOf(now.toEpochMilli());
        }
    }

    /** A pool's in_use went from {@code before} to its current value; {@code grant}: by a license or seat granted. */
    void changed(PoolBook book, PoolBook.Pool pool, long before, boolean grant) {
        if (!recording && mirror != null) {
            mirror.accept(new LevelChange(book.product, pool.id, before, pool.inUse, grant));
        }
        if (!recording || openMinute == PoolHistory.NONE) {
            return;
        }
        PoolHistory h = of(book, pool);
        if (h.touch(openMinute, before, pool.inUse)) {
            touched.add(h);
        }
        if (grant) {
            h.granted();
        }
    }

    /** Counts a refusal of a verb (when its reason counts: {@link #charge}); answers it unchanged. */
    <T> Decision<T> counted(Decision<T> d, String product, String userId, String requestedPoolId, Instant now) {
        ChargedDenial c = charge(d, product, userId, requestedPoolId);
        if (c != null && recording && openMinute != PoolHistory.NONE) {
            PoolBook book = config.book(product);
            PoolBook.Pool pool = config.pool(book, c.poolId());
            PoolHistory h = of(book, pool);
            if (h.touch(openMinute, pool.inUse, pool.inUse)) {
                touched.add(h);
            }
            h.denied(HistoryRules.index(c.reason()));
            denials.denied(openMinute, book.product, pool.id, userId, c.reason(), Math.max(now.toEpochMilli(), openMinute));
        }
        return d;
    }

    /**
     * A counted refusal: the pool it is charged to and that pool's in_use as this ledger counts it
     * ({@code level}; a shared store counts sessions itself).
     */
    public record ChargedDenial(String product, String poolId, String userId, Reason reason, long level) {
    }

    /**
     * What the history counts of decision {@code d} on {@code userId}'s license, seat or
     * activation: nothing (null) when it was granted, its reason does not count
     * ({@link HistoryRules}), the product has no subscription or the pool does not exist; else the
     * refusal charged to its pool ({@link #chargedPool}).
     */
    public ChargedDenial charge(Decision<?> d, String product, String userId, String requestedPoolId) {
        if (!(d instanceof Decision.Denied<?> no) || !HistoryRules.counts(no.reason())) {
            return null;
        }
        String poolId = chargedPool(product, userId, requestedPoolId);
        PoolBook book = config.bookOrNull(product);
        if (book == null || book.subscription == null || !(poolId.equals(config.accountId) || config.orgs.contains(poolId))) {
            return null;
        }
        return new ChargedDenial(book.product, poolId, userId, no.reason(), config.pool(book, poolId).inUse);
    }

    /**
     * The pool a refused license, seat or activation of {@code userId} is charged to: the pool it
     * would have drawn from (the requested pool, the user's seat, else the first of the user's
     * {@link AcquirePlan}: the assigned organization, or the account pool).
     */
    public String chargedPool(String product, String userId, String requestedPoolId) {
        if (requestedPoolId != null) {
            return requestedPoolId;
        }
        PoolBook book = config.bookOrNull(product);
        Seat seat = book == null ? null : book.seats.get(userId);
        if (seat != null) {
            return seat.poolId();
        }
        User user = config.user(userId);
        return user == null ? config.accountId : AcquirePlan.homePool(config.accountId, user);
    }

    // ---------------------------------------------------------------- reading

    /**
     * The usage history of {@code q} (checked already), every pool (the account's, then the
     * organizations in creation order) or the query's; ORGANIZATION_NOT_FOUND for a pool the
     * account lacks, every pool at 0 for a product it has no state for.
     */
    public Decision<List<UsageSeries>> usageHistory(HistoryQuery q, Instant now) {
        Decision<List<String>> pools = pools(q);
        if (pools instanceof Decision.Denied<List<String>> no) {
            return no.cast();
        }
        long first = HistoryAssembly.window(q.step(), q.from(), q.to(), now).firstMillis();
        Map<String, List<HistoryBucket>> buckets = new HashMap<>();
        PoolBook book = config.bookOrNull(q.product());
        for (String id : pools.value()) {
            PoolBook.Pool pool = book == null ? null : book.pools.get(id);
            if (pool != null && pool.history != null) {
                buckets.put(id, pool.history.buckets(q.step(), first));
            }
        }
        return Decision.granted(assemble(q, buckets, now));
    }

    /**
     * The pools {@code q} (checked already) answers: every pool (the account's, then the
     * organizations in creation order) or the query's; ORGANIZATION_NOT_FOUND for a pool the
     * account lacks.
     */
    public Decision<List<String>> pools(HistoryQuery q) {
        Decision<List<String>> unknown = unknownPool(q.poolId());
        if (unknown != null) {
            return unknown;
        }
        List<String> poolIds = new ArrayList<>(config.orgs.size() + 1);
        poolIds.add(config.accountId);
        poolIds.addAll(config.orgs.ids());
        return Decision.granted(q.poolId() == null ? poolIds : List.of(q.poolId()));
    }

    /**
     * The answer to {@code q} (whose pools exist) from the buckets a store recorded per pool (as
     * {@link HistoryAssembly#assemble} takes them), with the pools' in_use as this ledger counts it.
     */
    public List<UsageSeries> assemble(HistoryQuery q, Map<String, ? extends List<HistoryBucket>> recorded, Instant now) {
        List<String> poolIds = pools(q).value();
        Map<String, Long> levels = new HashMap<>();
        PoolBook book = config.bookOrNull(q.product());
        for (String id : poolIds) {
            PoolBook.Pool pool = book == null ? null : book.pools.get(id);
            if (pool != null) {
                levels.put(id, pool.inUse);
            }
        }
        return HistoryAssembly.assemble(q, poolIds, recorded, levels, now);
    }

    /** Who was denied (see {@link DenialReport}); ORGANIZATION_NOT_FOUND for a pool the account lacks. */
    public Decision<List<DenialRow>> denialReport(DenialQuery q, Instant now) {
        Decision<HistoryAssembly.Window> w = denialWindow(q, now);
        if (w instanceof Decision.Denied<HistoryAssembly.Window> no) {
            return no.cast();
        }
        return Decision.granted(DenialReport.assemble(q, denials.counts(w.value().step(), w.value().firstMillis()), now));
    }

    /** The buckets the denial report of {@code q} covers; ORGANIZATION_NOT_FOUND for a pool the account lacks. */
    public Decision<HistoryAssembly.Window> denialWindow(DenialQuery q, Instant now) {
        Decision<HistoryAssembly.Window> unknown = unknownPool(q.poolId());
        return unknown != null ? unknown : Decision.granted(DenialReport.window(q, now));
    }

    private <T> Decision<T> unknownPool(String poolId) {
        return poolId == null || poolId.equals(config.accountId) || config.orgs.contains(poolId) ? null
                : Refusals.organizationNotFound(config.accountId, poolId, "pool_id");
    }

    // ---------------------------------------------------------------- events

    /** Applies a {@link UsageRecorded} or {@link HistoryRestored} event. */
    void apply(LedgerEvent event) {
        if (event instanceof UsageRecorded e) {
            apply(e);
        } else if (event instanceof HistoryRestored e) {
            apply(e);
        }
    }

    private void apply(UsageRecorded e) {
        for (HistoryBucket b : e.buckets()) {
            of(b.product(), b.poolId()).record(b);
        }
        e.denials().forEach(denials::record);
    }

    private void apply(HistoryRestored e) {
        for (HistoryBucket b : e.buckets()) {
            of(b.product(), b.poolId()).restore(e.step(), b);
        }
        for (DenialCount c : e.denials()) {
            denials.restore(e.step(), c);
        }
    }

    /**
     * The closed history as events that rebuild it: per pool and step its buckets, per step and
     * bucket its denial counts. The minute in progress is not in it: it is journaled when it closes.
     */
    void export(Consumer<LedgerEvent> out) {
        config.books().values().forEach(book -> book.pools.values().forEach(pool -> {
            if (pool.history != null) {
                for (HistoryStep step : HistoryStep.values()) {
                    List<HistoryBucket> closed = pool.history.closed(step);
                    if (!closed.isEmpty()) {
                        out.accept(new HistoryRestored(step, closed, List.of()));
                    }
                }
            }
        }));
        for (HistoryStep step : List.of(HistoryStep.HOUR, HistoryStep.DAY)) {
            for (List<DenialCount> bucket : denials.closed(step)) {
                out.accept(new HistoryRestored(step, List.of(), bucket));
            }
        }
    }

    private PoolHistory of(String product, String poolId) {
        PoolBook book = config.book(product);
        return of(book, config.pool(book, poolId));
    }

    private static PoolHistory of(PoolBook book, PoolBook.Pool pool) {
        if (pool.history == null) {
            pool.history = new PoolHistory(book.product, pool.id);
        }
        return pool.history;
    }
}
