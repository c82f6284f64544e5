package io.licensebroker.broker.store.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AccountLedger;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Credential;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Journal;
import io.licensebroker.broker.core.LedgerEvent;
import io.licensebroker.broker.core.PolicySettings;
import io.licensebroker.broker.core.Role;
import io.licensebroker.broker.core.SessionQuery;
import io.licensebroker.broker.core.StoreUnavailableException;
import io.licensebroker.broker.core.UsagePolicy;
import io.licensebroker.testkit.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;

final class FileJournalTest {

    private static final long TIMEOUT_SECONDS = 30;
    private static final Instant T0 = Instant.parse("2026-01-05T09:00:00Z");
    private static final Instant NOW = T0.plusSeconds(600);
    private static final Duration TOMBSTONE_RETENTION = Duration.ofDays(1);

    @TempDir
    Path dir;

    private final List<FileJournal> opened = new ArrayList<>();

    @AfterEach
    void closeJournals() {
        opened.forEach(FileJournal::close);
    }

    // ---------------------------------------------------------------- recording and recovery

    @Test
    void eventsRecordedFromManyThreadsAreRecoveredInOrderPerAccount() throws Exception {
        FileJournal journal = openRecovered(FsyncPolicy.ALWAYS).journal();
        int threads = 8;
        int accountsPerThread = 4;
        int eventsPerAccount = 250;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                List<String> own = new ArrayList<>();
                for (int a = 0; a < accountsPerThread; a++) {
                    own.add("acct-" + t + "-" + a);
                }
                // Each thread owns its accounts, which stands in for holding their locks.
                done.add(pool.submit(() -> {
                    for (long seq = 1; seq <= eventsPerAccount; seq++) {
                        for (String account : own) {
                            journal.record(account, seq, event(account, seq));
                        }
                        if (seq % 25 == 0) {
                            await(journal.whenDurable(journal.position()));
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdown();
        }

        long total = (long) threads * accountsPerThread * eventsPerAccount;
        assertEquals(total, journal.position());
        await(journal.whenDurable(total));
        assertTrue(journal.whenDurable(total).isDone(), "an already durable position is complete at once");
        assertTrue(journal.whenDurable(1).isDone());
        assertEquals(Files.size(onlySegment()), journal.logBytes());
        journal.close();

        Recovered recovered = openRecovered(FsyncPolicy.ALWAYS);

        assertEquals(total, recovered.entries().size());
        Map<String, List<Entry>> byAccount = recovered.byAccount();
        assertEquals(threads * accountsPerThread, byAccount.size());
        byAccount.forEach((account, entries) -> assertEquals(expectedEntries(account, 1, eventsPerAccount), entries));
        assertEquals(0, recovered.journal().position(), "positions count this process's records");
    }

    @Test
    void aCrashWithoutCloseLosesNothingThatWasDurable() throws Exception {
        FileJournal crashed = openRecovered(FsyncPolicy.NEVER).journal();
        recordAndAwait(crashed, "acme", 1, 500);
        // No close(): the process "dies" here. write() put the records in the page cache.

        Recovered afterCrash = openRecovered(FsyncPolicy.NEVER);
        assertEquals(expectedEntries("acme", 1, 500), afterCrash.entries());

        recordAndAwait(afterCrash.journal(), "acme", 501, 600);
        Recovered afterSecondCrash = openRecovered(FsyncPolicy.ALWAYS);
        assertEquals(expectedEntries("acme", 1, 600), afterSecondCrash.entries());
    }

    /** What a crash can leave after the last complete record. */
    enum TornTail {
        HALF_A_RECORD {
            @Override
            byte[] bytes() {
                byte[] frame = frame("acme", 101);
                return Arrays.copyOf(frame, frame.length / 2);
            }
        },
        HEADER_ONLY {
            @Override
            byte[] bytes() {
                return Arrays.copyOf(frame("acme", 101), JournalCodec.HEADER_BYTES);
            }
        },
        SHORT_HEADER {
            @Override
            byte[] bytes() {
                return new byte[] {0, 0, 1};
            }
        },
        ZERO_FILLED_BLOCK {
            @Override
            byte[] bytes() {
                return new byte[4096];
            }
        },
        HUGE_LENGTH {
            @Override
            byte[] bytes() {
                return ByteBuffer.allocate(16).putInt(Integer.MAX_VALUE).putInt(7).array();
            }
        },
        NEGATIVE_LENGTH {
            @Override
            byte[] bytes() {
                return ByteBuffer.allocate(16).putInt(-5).putInt(7).array();
            }
        },
        RANDOM_GARBAGE {
            @Override
            byte[] bytes() {
                byte[] garbage = new byte[777];
                new Random(42).nextBytes(garbage);
                return garbage;
            }
        };

        abstract byte[] bytes();
    }

    @ParameterizedTest
    @EnumSource(TornTail.class)
    void aTornTailIsDroppedAndTruncatedAndAppendingResumesCleanly(TornTail tail) throws Exception {
        FileJournal journal = openRecovered(FsyncPolicy.ALWAYS).journal();
        recordAndAwait(journal, "acme", 1, 100);
        journal.close();
        Path segment = onlySegment();
        long goodSize = Files.size(segment);
        Files.write(segment, tail.bytes(), StandardOpenOption.APPEND);

        Recovered recovered = openRecovered(FsyncPolicy.ALWAYS);

        assertEquals(expectedEntries("acme", 1, 100), recovered.entries());
        assertEquals(goodSize, Files.size(segment), "the torn tail was truncated away");
        assertEquals(goodSize, recovered.journal().logBytes());

        recordAndAwait(recovered.journal(), "acme", 101, 110);
        recovered.journal().close();
        assertEquals(expectedEntries("acme", 1, 110), openRecovered(FsyncPolicy.ALWAYS).entries());
    }

    @Test
    void aLastRecordWithABadChecksumIsDropped() throws Exception {
        FileJournal journal = openRecovered(FsyncPolicy.ALWAYS).journal();
        recordAndAwait(journal, "acme", 1, 50);
        journal.close();
        Path segment = onlySegment();
        long size = Files.size(segment);
        flipByte(segment, size - 1);

        Recovered recovered = openRecovered(FsyncPolicy.ALWAYS);

        assertEquals(expectedEntries("acme", 1, 49), recovered.entries());
        assertEquals(size - frame("acme", 50).length, Files.size(segment));
        recordAndAwait(recovered.journal(), "acme", 50, 51);
        recovered.journal().close();
        assertEquals(expectedEntries("acme", 1, 51), openRecovered(FsyncPolicy.ALWAYS).entries());
    }

    @Test
    void corruptionInAnOlderSegmentIsAnError() throws Exception {
        FileJournal journal = openRecovered(FsyncPolicy.ALWAYS).journal();
        recordAndAwait(journal, "acme", 1, 20);
        // A compaction that dies after rotating leaves two segments and no snapshot.
        IllegalStateException boom = assertThrows(IllegalStateException.class,
                () -> journal.compact(sink -> {
                    throw new IllegalStateException("boom");
                }));
        assertEquals("boom", boom.getMessage());
        assertEquals(2, journal.generation());
        recordAndAwait(journal, "acme", 21, 40);
        journal.close();
        assertEquals(List.of(segmentName(1), segmentName(2)), fileNames());

        Recovered intact = openRecovered(FsyncPolicy.ALWAYS);
        assertEquals(expectedEntries("acme", 1, 40), intact.entries());
        intact.journal().close();

        Path older = dir.resolve(segmentName(1));
        long corruptAt = Files.size(older) / 2;
        flipByte(older, corruptAt);
        FileJournal corrupt = open(FsyncPolicy.ALWAYS);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> corrupt.recover(new Recovered(corrupt)));

        assertTrue(e.getMessage().contains(segmentName(1)), e.getMessage());
        assertTrue(e.getMessage().contains("offset"), e.getMessage());
    }

    @Test
    void aMissingSegmentIsAnError() throws Exception {
        FileJournal journal = openRecovered(FsyncPolicy.ALWAYS).journal();
        recordAndAwait(journal, "acme", 1, 5);
        assertThrows(IllegalStateException.class, () -> journal.compact(sink -> {
            throw new IllegalStateException("boom");
        }));
        recordAndAwait(journal, "acme", 6, 10);
        journal.close();
        Files.delete(dir.resolve(segmentName(1)));

        FileJournal reopened = open(FsyncPolicy.ALWAYS);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> reopened.recover(new Recovered(reopened)));
        assertTrue(e.getMessage().contains(segmentName(1)), e.getMessage());
    }

    // ---------------------------------------------------------------- compaction

    @Test
    void compactionSnapshotsRealLedgersAndRecoveryRebuildsThemExactly() throws Exception {
        FileJournal journal = openRecovered(FsyncPolicy.ALWAYS).journal();
        Ledgers ledgers = new Ledgers(journal);
        for (String account : List.of("acct-1", "acct-2", "acct-3", "acct-4")) {
            ledgers.in(account, l -> populate(l));
        }
        await(journal.whenDurable(journal.position()));
        assertEquals(Files.size(dir.resolve(segmentName(1))), journal.logBytes());

        // Changes keep coming while the compaction runs: a churning thread on acct-4, and changes
        // made between two accounts' exports, on one already exported (its seq passes the
        // checkpoint), one not yet exported (the snapshot has them), and a brand-new account.
        AtomicBoolean stopChurn = new AtomicBoolean();
        CountDownLatch churning = new CountDownLatch(1);
        CompletableFuture<Integer> churn = CompletableFuture.supplyAsync(() -> {
            int n = 0;
            while (!stopChurn.get()) {
                AcquireRequest acquire = request("acct-4", "u2", "m-churn", 1000 + n);
                String sessionId = ledgers.in("acct-4", l -> granted(l.acquire(acquire)).id());
                ledgers.in("acct-4", l -> granted(l.release(sessionId, "u2", T0.plusSeconds(200))));
                await(journal.whenDurable(journal.position()));
                churning.countDown();
                n++;
            }
            return n;
        });
        assertTrue(churning.await(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        journal.compact(sink -> ledgers.forEachAccount(snapshot -> {
            sink.accept(snapshot);
            if (snapshot.accountId().equals("acct-2")) {
                ledgers.in("acct-1", l -> granted(l.acquire(request("acct-1", "u2", "m9", 100))));
                ledgers.in("acct-3", l -> granted(l.acquire(request("acct-3", "u3", "m9", 100))));
                ledgers.in("acct-3", l -> l.terminate("acct-3-s0", T0.plusSeconds(100)));
                ledgers.in("acct-5", l -> populate(l));
            }
        }));
        stopChurn.set(true);
        assertTrue(churn.get(TIMEOUT_SECONDS, TimeUnit.SECONDS) > 0);

        assertEquals(2, journal.generation());
        assertEquals(List.of(segmentName(2), snapshotName(2)), fileNames());
        await(journal.whenDurable(journal.position()));
        assertEquals(Files.size(dir.resolve(segmentName(2))), journal.logBytes(), "logBytes counts the new segment only");

        for (String account : List.of("acct-1", "acct-2", "acct-3", "acct-4", "acct-5")) {
            ledgers.in(account, l -> granted(l.acquire(request(account, "u2", "m8", 200))));
        }
        ledgers.in("acct-6", l -> populate(l));

        // A second compaction replaces the first snapshot.
        journal.compact(ledgers);
        assertEquals(List.of(segmentName(3), snapshotName(3)), fileNames());
        assertEquals(0, journal.logBytes());
        ledgers.in("acct-1", l -> l.terminate("acct-1-s200", T0.plusSeconds(300)));
        ledgers.in("acct-6", l -> granted(l.setSubscription("KRE", 40, 20, T0.plus(Duration.ofDays(400)), T0.plusSeconds(300))));
        await(journal.whenDurable(journal.position()));
        Map<String, List<Object>> expected = ledgers.observeAll();
        assertEquals(6, expected.size());
        journal.close();

        FileJournal reopened = open(FsyncPolicy.ALWAYS);
        Ledgers rebuilt = new Ledgers(reopened);
        reopened.recover(rebuilt.visitor());

        assertEquals(expected, rebuilt.observeAll());
        rebuilt.assertInvariantsHold();

        // The rebuilt ledgers go on journaling from where the originals stopped.
        long seq = rebuilt.in("acct-2", AccountLedger::seq);
        rebuilt.in("acct-2", l -> granted(l.acquire(request("acct-2", "u2", "m8", 400))));
        assertEquals(seq + 1, rebuilt.in("acct-2", AccountLedger::seq));
        await(reopened.whenDurable(reopened.position()));
        Map<String, List<Object>> expectedAgain = rebuilt.observeAll();
        reopened.close();

        Ledgers rebuiltAgain = new Ledgers(Journal.NONE);
        open(FsyncPolicy.ALWAYS).recover(rebuiltAgain.visitor());
        assertEquals(expectedAgain, rebuiltAgain.observeAll());
        rebuiltAgain.assertInvariantsHold();
    }

    @Test
    void aSnapshotIsWrittenAsEventsThenACheckpointPerAccount() throws Exception {
        FileJournal journal = openRecovered(FsyncPolicy.NEVER).journal();
        recordAndAwait(journal, "acme", 1, 3);
        List<LedgerEvent> exported = List.of(event("acme", 7), event("acme", 8));
        journal.compact(sink -> {
            sink.accept(new DurableJournal.AccountSnapshot("acme", 3, exported));
            sink.accept(new DurableJournal.AccountSnapshot("empty", 0, List.of()));
        });
        journal.record("acme", 4, event("acme", 4));
        await(journal.whenDurable(journal.position()));
        journal.close();

        Recovered recovered = openRecovered(FsyncPolicy.NEVER);

        assertEquals(List.of(
                new Entry("acme", 0, event("acme", 7)),
                new Entry("acme", 0, event("acme", 8)),
                new Entry("acme", 3, null),
                new Entry("empty", 0, null),
                new Entry("acme", 4, event("acme", 4))), recovered.entries());
    }

    @Test
    void aCorruptSnapshotIsAnErrorAndLeftoverTempFilesAreRemoved() throws Exception {
        FileJournal journal = openRecovered(FsyncPolicy.ALWAYS).journal();
        recordAndAwait(journal, "acme", 1, 10);
        journal.compact(sink -> sink.accept(new DurableJournal.AccountSnapshot("acme", 10, List.of(event("acme", 1)))));
        journal.close();
        Path leftover = dir.resolve(snapshotName(9) + ".tmp");
        Files.write(leftover, new byte[] {1, 2, 3});

        Recovered recovered = openRecovered(FsyncPolicy.ALWAYS);
        assertEquals(List.of(new Entry("acme", 0, event("acme", 1)), new Entry("acme", 10, null)), recovered.entries());
        assertFalse(Files.exists(leftover));
        recovered.journal().close();

        Path snapshot = dir.resolve(snapshotName(2));
        flipByte(snapshot, Files.size(snapshot) - 1);
        FileJournal corrupt = open(FsyncPolicy.ALWAYS);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> corrupt.recover(new Recovered(corrupt)));
        assertTrue(e.getMessage().contains(snapshotName(2)), e.getMessage());
    }

    // ---------------------------------------------------------------- failure and lifecycle

    /** An interrupt closes the writer's (interruptible) channel: its next write fails for real, once. */
    @Test
    void aWriteFailureRefusesAcknowledgementsUntilTheJournalWritesAgain() throws Exception {
        Set<Thread> before = writerThreads();
        ManualRetries retries = new ManualRetries();
        FileJournal journal = new FileJournal(dir, FsyncPolicy.ALWAYS, JournalFiles.REAL, retries);
        opened.add(journal);
        journal.recover(new Recovered(journal));
        Set<Thread> writers = writerThreads();
        writers.removeAll(before);
        assertEquals(1, writers.size(), "one writer thread named journal-writer");
        Thread writer = writers.iterator().next();
        assertTrue(writer.isDaemon());
        recordAndAwait(journal, "acme", 1, 1);

        writer.interrupt();
        journal.record("acme", 2, event("acme", 2));
        ExecutionException failed = assertThrows(ExecutionException.class,
                () -> journal.whenDurable(journal.position()).get(TIMEOUT_SECONDS, TimeUnit.SECONDS));

        assertInstanceOf(StoreUnavailableException.class, failed.getCause());
        assertFalse(journal.writable());
        journal.record("acme", 3, event("acme", 3));
        assertTrue(journal.whenDurable(journal.position()).isCompletedExceptionally(), "refused at once while the disk fails");
        assertTrue(journal.whenDurable(1).isDone() && !journal.whenDurable(1).isCompletedExceptionally(),
                "what was durable stays durable");
        assertThrows(StoreUnavailableException.class, () -> journal.compact(sink -> { }));

        retries.runDue();
        Await.until(Duration.ofSeconds(TIMEOUT_SECONDS), journal::writable, () -> "the journal writes again");
        recordAndAwait(journal, "acme", 4, 4);
        journal.close();
        writer.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
        assertFalse(writer.isAlive());

        assertEquals(expectedEntries("acme", 1, 4), openRecovered(FsyncPolicy.ALWAYS).entries(),
                "the events recorded meanwhile were written on resuming, though never acknowledged");
    }

    @Test
    void lifecycleIsEnforced() throws Exception {
        FileJournal journal = open(FsyncPolicy.ALWAYS);
        assertThrows(IllegalStateException.class, () -> journal.record("acme", 1, event("acme", 1)), "recover first");
        assertThrows(IllegalStateException.class, () -> journal.compact(sink -> { }), "recover first");
        journal.recover(new Recovered(journal));
        assertThrows(IllegalStateException.class, () -> journal.recover(new Recovered(journal)), "recover once");

        recordAndAwait(journal, "acme", 1, 3);
        assertThrows(IllegalArgumentException.class, () -> journal.whenDurable(journal.position() + 1));
        journal.record("acme", 4, event("acme", 4));
        CompletableFuture<Void> pending = journal.whenDurable(4);
        journal.close();

        assertTrue(pending.isDone() && !pending.isCompletedExceptionally(), "close flushes what was recorded");
        journal.close();
        assertThrows(IllegalStateException.class, () -> journal.record("acme", 5, event("acme", 5)));
        assertThrows(IllegalStateException.class, () -> journal.compact(sink -> { }));
        assertTrue(journal.whenDurable(4).isDone());
        assertEquals(expectedEntries("acme", 1, 4), openRecovered(FsyncPolicy.ALWAYS).entries());
    }

    @Test
    void anEmptyDirectoryStartsAtTheFirstGeneration() throws Exception {
        Path nested = dir.resolve("a/b");
        FileJournal journal = new FileJournal(nested, FsyncPolicy.ALWAYS);
        opened.add(journal);
        Recovered recovered = new Recovered(journal);
        journal.recover(recovered);

        assertEquals(List.of(), recovered.entries());
        assertEquals(1, journal.generation());
        assertEquals(0, journal.logBytes());
        assertTrue(Files.exists(nested.resolve(segmentName(1))));
    }

    // ---------------------------------------------------------------- ledgers

    /** Accounts as the embedded store keeps them: a ledger per account, its monitor the account's lock. */
    private static final class Ledgers implements DurableJournal.SnapshotSource {
        private final Map<String, AccountLedger> byId = new ConcurrentSkipListMap<>();
        private final Journal journal;

        Ledgers(Journal journal) {
            this.journal = journal;
        }

        <T> T in(String accountId, Function<AccountLedger, T> verb) {
            AccountLedger ledger = byId.computeIfAbsent(accountId, id -> new AccountLedger(id, journal, TOMBSTONE_RETENTION));
            synchronized (ledger) {
                return verb.apply(ledger);
            }
        }

        @Override
        public void forEachAccount(Consumer<DurableJournal.AccountSnapshot> account) {
            for (AccountLedger ledger : List.copyOf(byId.values())) {
                DurableJournal.AccountSnapshot snapshot;
                synchronized (ledger) {
                    List<LedgerEvent> events = new ArrayList<>();
                    ledger.export(events::add);
                    snapshot = new DurableJournal.AccountSnapshot(ledger.accountId(), ledger.seq(), events);
                }
                account.accept(snapshot);
            }
        }

        DurableJournal.RecoveryVisitor visitor() {
            return new DurableJournal.RecoveryVisitor() {
                @Override
                public void event(String accountId, long seq, LedgerEvent event) {
                    in(accountId, l -> {
                        l.replay(seq, event);
                        return null;
                    });
                }

                @Override
                public void checkpoint(String accountId, long seq) {
                    in(accountId, l -> {
                        l.restoreSeq(seq);
                        return null;
                    });
                }
            };
        }

        Map<String, List<Object>> observeAll() {
            Map<String, List<Object>> out = new LinkedHashMap<>();
            for (String id : byId.keySet()) {
                out.put(id, in(id, FileJournalTest::observe));
            }
            return out;
        }

        void assertInvariantsHold() {
            for (String id : byId.keySet()) {
                assertEquals(List.of(), in(id, AccountLedger::invariantViolations), id);
            }
        }
    }

    /** Sets up an account with every kind of event, then ends, expires, revokes and deactivates some of it. */
    private static Void populate(AccountLedger l) {
        String a = l.accountId();
        l.create(new Account(a, "Account " + a));
        l.addCredential(new Credential("adm-" + a, new byte[] {1, 2}, new byte[] {3, 4, 5}, Role.ACCOUNT_ADMIN, a, null));
        l.addCredential(new Credential("key-" + a, new byte[] {6}, new byte[] {7, 8}, Role.AGENT, a, "u1"));
        granted(l.setSubscription("KRE", 30, 20, T0.plus(Duration.ofDays(365)), T0));
        granted(l.setSubscription("CAD", 3, 3, T0.plus(Duration.ofDays(30)), T0));
        granted(l.createOrganization(a + "-eng", null, "Engineering"));
        granted(l.createOrganization(a + "-be", a + "-eng", "Backend"));
        granted(l.createOrganization(a + "-ops", null, "Operations"));
        granted(l.setDedicated(a + "-eng", "KRE", 12, T0));
        granted(l.setDedicated(a + "-be", "KRE", 5, T0));
        granted(l.setDedicated(a + "-ops", "KRE", 4, T0));
        granted(l.setDedicated(a + "-ops", "CAD", 1, T0));
        granted(l.upsertUser("u1", a + "-be", List.of(a + "-ops")));
        granted(l.upsertUser("u2", null, List.of()));
        granted(l.upsertUser("u3", a + "-ops", List.of(a + "-eng", a + "-be")));
        l.setPolicy(new PolicySettings(UsagePolicy.MEMBER_BASED, true));
        // Live sessions are kept in lease order, so the short lease goes first.
        granted(l.acquire(new AcquireRequest("KRE", "u2", "m-short", "", a + "-short", T0, T0.plusSeconds(30))));
        List<String> users = List.of("u1", "u2", "u3");
        for (int i = 0; i < 8; i++) {
            granted(l.acquire(request(a, users.get(i % 3), "m" + (i % 5), i)));
        }
        granted(l.acquire(new AcquireRequest("CAD", "u3", "m0", "", a + "-cad", T0, T0.plus(Duration.ofHours(1)))));
        granted(l.release(a + "-s1", "u2", T0.plusSeconds(10)));
        assertTrue(l.terminate(a + "-s2", T0.plusSeconds(20)));
        assertEquals(1, l.expire(T0.plusSeconds(60), 100));
        granted(l.issueOfflineLicense("KRE", "m-offline", T0.plus(Duration.ofDays(7)), Duration.ofDays(30), T0.plusSeconds(70)));
        assertTrue(l.deactivateMachine("KRE", "m4", T0.plusSeconds(80)));
        granted(l.setDedicated(a + "-be", "KRE", 0, T0.plusSeconds(90)));
        return null;
    }

    private static AcquireRequest request(String account, String user, String machine, int n) {
        return new AcquireRequest("KRE", user, machine, "req-" + n, account + "-s" + n, T0, T0.plus(Duration.ofHours(1)));
    }

    /** What the broker can observe of a ledger, all of it read-only. */
    private static List<Object> observe(AccountLedger l) {
        String a = l.accountId();
        List<Object> out = new ArrayList<>();
        out.add(l.seq());
        out.add(l.account());
        out.add(l.policy());
        out.add(l.credentials().stream().map(c -> c.lookupId() + " " + c.role() + " " + c.accountId() + " " + c.userId()
                + " " + Arrays.toString(c.salt()) + " " + Arrays.toString(c.secretHash())).toList());
        out.add(l.organizations());
        out.add(l.users());
        out.add(new TreeSet<>(l.products()));
        for (String product : List.of("KRE", "CAD")) {
            out.add(l.usage(product, NOW));
            out.add(l.machines(product, NOW));
            out.add(l.subscription(product));
        }
        out.add(l.liveSessions());
        out.add(l.sessions(new SessionQuery(null, null, null, null, 1000, null)));
        out.add(l.sessions(new SessionQuery("KRE", a + "-eng", null, null, 2, null)));
        out.add(l.sessions(new SessionQuery(null, null, "u1", "m3", 10, a + "-s0")));
        // Ended sessions answer a renew from their tombstone, which must survive too.
        for (String ended : List.of(a + "-s1", a + "-s2", a + "-s4", a + "-short", a + "-s0")) {
            if (l.session(ended) == null) {
                out.add(l.renew(ended, null, NOW, NOW.plusSeconds(60)));
            }
        }
        return out;
    }

    private static <T> T granted(Decision<T> decision) {
        assertTrue(decision.isGranted(), () -> "expected a grant: " + decision);
        return decision.value();
    }

    // ---------------------------------------------------------------- journal helpers

    private record Entry(String accountId, long seq, LedgerEvent event) {
    }

    /** Collects what recovery delivers; a checkpoint is an entry without an event. */
    private static final class Recovered implements DurableJournal.RecoveryVisitor {
        private final FileJournal journal;
        private final List<Entry> entries = new ArrayList<>();

        Recovered(FileJournal journal) {
            this.journal = journal;
        }

        @Override
        public void event(String accountId, long seq, LedgerEvent event) {
            entries.add(new Entry(accountId, seq, event));
        }

        @Override
        public void checkpoint(String accountId, long seq) {
            entries.add(new Entry(accountId, seq, null));
        }

        FileJournal journal() {
            return journal;
        }

        List<Entry> entries() {
            return entries;
        }

        Map<String, List<Entry>> byAccount() {
            return entries.stream().collect(Collectors.groupingBy(Entry::accountId, LinkedHashMap::new, Collectors.toList()));
        }
    }

    private FileJournal open(FsyncPolicy fsync) {
        FileJournal journal = new FileJournal(dir, fsync);
        opened.add(journal);
        return journal;
    }

    private Recovered openRecovered(FsyncPolicy fsync) {
        FileJournal journal = open(fsync);
        Recovered recovered = new Recovered(journal);
        journal.recover(recovered);
        return recovered;
    }

    private static LedgerEvent event(String account, long seq) {
        return new LedgerEvent.MachineRegistered("KRE", account + "-m" + seq, T0.plusMillis(seq));
    }

    private static byte[] frame(String account, long seq) {
        return JournalCodec.frame(JournalCodec.event(account, seq, event(account, seq)));
    }

    private static List<Entry> expectedEntries(String account, long from, long to) {
        return LongStream.rangeClosed(from, to).mapToObj(seq -> new Entry(account, seq, event(account, seq))).toList();
    }

    private static void recordAndAwait(FileJournal journal, String account, long from, long to) {
        for (long seq = from; seq <= to; seq++) {
            journal.record(account, seq, event(account, seq));
        }
        await(journal.whenDurable(journal.position()));
    }

    private static void await(CompletableFuture<?> future) {
        try {
            future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError(e);
        }
    }

    private Path onlySegment() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> segments = files.filter(f -> f.getFileName().toString().endsWith(".log")).toList();
            assertEquals(1, segments.size(), segments::toString);
            return segments.get(0);
        }
    }

    private List<String> fileNames() {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String segmentName(long generation) {
        return String.format("journal-%010d.log", generation);
    }

    private static String snapshotName(long generation) {
        return String.format("snapshot-%010d.snap", generation);
    }

    private static void flipByte(Path file, long offset) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, offset);
            one.flip();
            byte flipped = (byte) (one.get(0) ^ 0x5A);
            channel.write(ByteBuffer.wrap(new byte[] {flipped}), offset);
        }
    }

    private static Set<Thread> writerThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("journal-writer"))
                .collect(Collectors.toCollection(HashSet::new));
    }
}
