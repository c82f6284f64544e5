package io.licensebroker.broker.store.redis;

import io.licensebroker.broker.core.StoreObserver;
import io.lettuce.core.MapScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ZAddArgs;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static java.util.concurrent.CompletableFuture.completedFuture;

/**
 * Ends the sessions whose lease ran out, in every account with something due. Any node reaps any
 * account; reaping is idempotent.
 *
 * <p>The reap index ({@link Keys#REAP_INDEX}) holds, per account, a lower bound of its earliest
 * lease end; a script cannot write it (another slot), so nodes keep it with this protocol:
 * <ul>
 *   <li>an acquire whose lease ends before the account's hint "ri" lowers the hint (in the script)
 *       and then the index entry (ZADD LT); later acquires and renewals need no index write;</li>
 *   <li>a reaper removes the entry, runs the reap script (which ends what is due and sets the hint
 *       to the earliest remaining lease), then adds that lease (ZADD LT). An acquire that ran
 *       before the script is seen by it; one that ran after it compares with the new hint and
 *       indexes itself if earlier. So concurrent reapers and acquirers never lose an account;</li>
 *   <li>a node that dies between a script and its index write is covered by the periodic
 *       re-index of every account ({@link RedisStoreOptions#reindexEvery()}).</li>
 * </ul>
 */
final class LeaseReaper {
    private static final System.Logger LOG = System.getLogger(LeaseReaper.class.getName());
    /** Sessions one reap script ends at most (the script holds the account's slot meanwhile). */
    private static final int REAP_BATCH = 1_000;
    /** Accounts one reap round visits at most. */
    private static final int DUE_BATCH = 256;
    /** Rounds one {@link #expireLeases} call runs at most; the next call goes on. */
    private static final int MAX_REAP_ROUNDS = 64;
    /** Accounts per page when re-indexing every account. */
    private static final int REINDEX_PAGE = 200;

    private final RedisLink link;
    private final ScriptRunner scripts;
    private final StoreObserver observer;
    private final String timeSource;
    private final Duration reindexEvery;
    /** System.nanoTime() at which the next re-index of every account is due; the first pass does one. */
    private final AtomicLong nextReindex = new AtomicLong(System.nanoTime());
    private final AtomicBoolean reindexing = new AtomicBoolean();

    LeaseReaper(RedisLink link, ScriptRunner scripts, RedisStoreOptions options) {
        this.link = link;
        this.scripts = scripts;
        this.observer = options.observer();
        this.timeSource = options.timeSource() == RedisStore.TimeSource.SERVER ? "S" : "C";
        this.reindexEvery = options.reindexEvery();
    }

    /** See {@link io.licensebroker.broker.core.LicenseStore#expireLeases}; "ran out" by the script's clock. */
    CompletableFuture<Integer> expireLeases(Instant now) {
        return reindexIfDue().thenCompose(x -> reapRounds(now, 0, 0)).thenApply(ended -> {
            if (ended > 0) {
                observer.sessionsExpired(ended);
            }
            return ended;
        });
    }

    private CompletableFuture<Integer> reapRounds(Instant now, int total, int round) {
        return scripts.global(Script.DUE, new String[]{Keys.REAP_INDEX}, ScriptRunner.request().put("time", timeSource)
                .put("now", Long.toString(now.toEpochMilli())).put("max", Integer.toString(DUE_BATCH))).thenCompose(reply -> {
                    List<String> due = new ArrayList<>();
                    reply.path("due").forEach(account -> due.add(account.asText()));
                    if (due.isEmpty()) {
                        return completedFuture(total);
                    }
                    List<CompletableFuture<Integer>> each = new ArrayList<>(due.size());
                    for (String account : due) {
                        each.add(reapAccount(account, now));
                    }
                    return CompletableFuture.allOf(each.toArray(new CompletableFuture<?>[0])).thenCompose(v -> {
                        int sum = total;
                        boolean fullBatch = false;
                        for (CompletableFuture<Integer> f : each) {
                            int ended = f.join();
                            sum += ended;
                            fullBatch |= ended == REAP_BATCH;
                        }
                        boolean more = fullBatch || due.size() == DUE_BATCH;
                        return more && round + 1 < MAX_REAP_ROUNDS ? reapRounds(now, sum, round + 1) : completedFuture(sum);
                    });
                });
    }

    /** Remove, reap, re-add (see the class comment). Answers how many sessions it ended. */
    private CompletableFuture<Integer> reapAccount(String accountId, Instant now) {
        return link.<Long>call(c -> c.zrem(Keys.REAP_INDEX, accountId))
                .thenCompose(x -> reap(accountId, now, REAP_BATCH))
                .thenCompose(reply -> {
                    int ended = reply.path("ended").asInt();
                    long earliest = reply.path("earliest").asLong();
                    return earliest < 0 ? completedFuture(ended) : index(accountId, earliest).thenApply(y -> ended);
                })
                .exceptionallyCompose(e -> {
                    // The entry may be gone: put the account back as due now, so a later pass retries
                    // (reaping is idempotent). If even that fails, the periodic re-index restores it.
                    LOG.log(System.Logger.Level.DEBUG, "reaping account {0} failed: {1}", accountId, e.toString());
                    return link.<Long>call(c -> c.zadd(Keys.REAP_INDEX, ZAddArgs.Builder.lt(), 0, accountId))
                            .handle((v, f) -> 0);
                });
    }

    private CompletableFuture<com.fasterxml.jackson.databind.JsonNode> reap(String accountId, Instant now, int max) {
        return scripts.run(accountId, now, Script.REAP, ScriptRunner.request().put("max", Integer.toString(max)));
    }

    /** Lowers the account's reap index entry to {@code leaseEnd}; a failure is repaired by the re-index. */
    CompletableFuture<Void> index(String accountId, long leaseEnd) {
        return link.<Long>call(c -> c.zadd(Keys.REAP_INDEX, ZAddArgs.Builder.lt(), (double) leaseEnd, accountId))
                .handle((v, e) -> {
                    if (e != null) {
                        LOG.log(System.Logger.Level.DEBUG, "reap index of {0} not written: {1}", accountId, e.toString());
                    }
                    return null;
                });
    }

    /** Every {@link RedisStoreOptions#reindexEvery()}: puts every account's earliest lease into the reap index. */
    private CompletableFuture<Void> reindexIfDue() {
        long now = System.nanoTime();
        long next = nextReindex.get();
        if (now - next < 0 || !reindexing.compareAndSet(false, true)) {
            return completedFuture(null);
        }
        nextReindex.set(now + reindexEvery.toNanos());
        return reindexPage(ScanCursor.INITIAL).handle((v, e) -> {
            reindexing.set(false);
            if (e != null) {
                LOG.log(System.Logger.Level.WARNING, "re-indexing accounts for reaping failed: " + e);
            }
            return null;
        });
    }

    private CompletableFuture<Void> reindexPage(ScanCursor cursor) {
        return link.<MapScanCursor<String, String>>call(c -> c.hscan(Keys.ACCOUNTS, cursor, ScanArgs.Builder.limit(REINDEX_PAGE)))
                .thenCompose(page -> {
                    List<CompletableFuture<Void>> each = new ArrayList<>();
                    for (String accountId : page.getMap().keySet()) {
                        each.add(reap(accountId, null, 0).thenCompose(reply -> {
                            long earliest = reply.path("earliest").asLong();
                            return earliest < 0 ? completedFuture(null) : index(accountId, earliest);
                        }));
                    }
                    CompletableFuture<Void> all = CompletableFuture.allOf(each.toArray(new CompletableFuture<?>[0]));
                    return page.isFinished() ? all : all.thenCompose(v -> reindexPage(page));
                });
    }
}
