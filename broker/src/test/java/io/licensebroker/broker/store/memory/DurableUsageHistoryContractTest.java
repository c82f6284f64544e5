package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.HistoryStep;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.core.UsageSeries;
import io.licensebroker.broker.store.UsageHistoryContractTest;
import io.licensebroker.testkit.MutableClock;
import io.licensebroker.testkit.Scratch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The usage history contract on the durable embedded store, read again after a clean restart; plus
 * what durability adds: closed minutes survive a crash (the files as they were while the store
 * ran), the minute in progress may be lost but nothing older, and compaction keeps everything.
 */
class DurableUsageHistoryContractTest extends UsageHistoryContractTest {
    @TempDir
    Path dir;
    @TempDir
    Path crashDir;

    @Override
    protected LicenseStore newStore(MutableClock clock) {
        return open(dir);
    }

    private MemoryStore open(Path where) {
        return MemoryStore.open(where, true, Duration.ofMinutes(10), Long.MAX_VALUE, clock.instant().plus(TTL));
    }

    @Override
    protected LicenseStore restarted() {
        store.close();
        return open(dir);
    }

    private List<UsageSeries> everything(LicenseStore s, String acct, HistoryStep step) {
        return s.usageHistory(acct, new io.licensebroker.broker.core.HistoryQuery(KRE, null,
                Instant.parse("2030-01-01T00:00:00Z"), now(), step), now()).toCompletableFuture().join().value();
    }

    @Test
    void closedMinutesSurviveACrashAndTheMinuteInProgressAtMostIsLost() {
        String[] ids = knownLoad();
        // 01:01 is in progress: one more grant in it, not yet journaled as history
        acquire(ids[0], "free");
        Scratch.copyTree(dir, crashDir);
        try (MemoryStore crashed = open(crashDir)) {
            LicenseStore running = store;
            store = crashed;
            assertKnownLoad(ids[0], ids[1]);
            store = running;
            for (HistoryStep step : HistoryStep.values()) {
                List<UsageSeries> before = everything(running, ids[0], step);
                List<UsageSeries> after = everything(crashed, ids[0], step);
                // the organization's history is whole; the account pool's 01:01 grant was in the minute in progress
                assertEquals(before.get(1), after.get(1), step.toString());
            }
            int last = everything(running, ids[0], HistoryStep.MINUTE).get(0).points().size() - 1;
            assertEquals(1, everything(running, ids[0], HistoryStep.MINUTE).get(0).points().get(last).granted());
            // the lost minute holds what the pool held before it; the session itself is durable
            assertEquals(0, everything(crashed, ids[0], HistoryStep.MINUTE).get(0).points().get(last).granted());
            assertEquals(1, everything(crashed, ids[0], HistoryStep.MINUTE).get(0).points().get(last).peakInUse());
            assertEquals(2, crashed.usage(ids[0], KRE, now()).toCompletableFuture().join().value().row(ids[0]).inUse());
        }
    }

    @Test
    void compactionKeepsTheHistory() {
        String[] ids = knownLoad();
        List<UsageSeries> minutes = everything(store, ids[0], HistoryStep.MINUTE);
        List<UsageSeries> hours = everything(store, ids[0], HistoryStep.HOUR);
        ((MemoryStore) store).compact();
        store = restarted();
        assertEquals(minutes, everything(store, ids[0], HistoryStep.MINUTE));
        assertEquals(hours, everything(store, ids[0], HistoryStep.HOUR));
        assertKnownLoad(ids[0], ids[1]);
        ((MemoryStore) store).compact();
        store = restarted();
        assertKnownLoad(ids[0], ids[1]);
    }
}
