package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.Account;
import io.licensebroker.broker.core.AcquireRequest;
import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.core.SessionQuery;
import io.licensebroker.broker.core.StoreObserver;
import io.licensebroker.broker.core.StoreUnavailableException;
import io.licensebroker.testkit.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The embedded store when its journal cannot write (a full disk, a file system turned read-only),
 * through a fault injector on the journal's files: changes are refused, reads and renewals answer,
 * and once the disk is writable again the store resumes by itself, having cut off the partial
 * record the failure left, and loses nothing it acknowledged.
 */
final class JournalWriteFaultTest {
    private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
    private static final String KRE = "KRE";

    @TempDir
    Path dir;
    private final FaultyFiles files = new FaultyFiles();
    private final ManualRetries retries = new ManualRetries();
    private final AtomicInteger changes = new AtomicInteger();

    @ParameterizedTest
    @EnumSource(value = FaultyFiles.Fault.class, names = {"DISK_FULL", "READ_ONLY"})
    void changesAreRefusedReadsAnswerAndWritingResumesByItselfWithNothingAcknowledgedLost(FaultyFiles.Fault fault) throws Exception {
        MemoryStore store = open();
        store.onWritableChange(changes::incrementAndGet);
        granted(store.createAccount(new Account("acme", "Acme")));
        granted(store.setSubscription("acme", KRE, 10, 100, NOW.plus(Duration.ofDays(365)), NOW));
        granted(store.upsertUser("acme", "alice", null, List.of()));
        Session live = granted(store.acquire("acme", request("s1")));
        assertTrue(store.writable());

        files.inject(fault);
        StoreUnavailableException failed = refusal(store.createAccount(new Account("maybe", "Written once the disk heals")));
        assertTrue(failed.getMessage().contains("cannot write"), failed.getMessage());
        assertFalse(store.writable(), "health turns before the caller hears");
        assertEquals(1, changes.get());

        // Changes are refused before they change anything, with a reason the caller can read.
        StoreUnavailableException refused = refusal(store.acquire("acme", request("s2")));
        assertEquals(FileJournal.UNWRITABLE, refused.clientMessage());
        refusal(store.createAccount(new Account("refused", "Never")));
        refusal(store.release("acme", live.id(), live.userId(), NOW));
        // Reads answer, and so do renewals (they are not journaled): agents keep their leases.
        assertEquals(List.of("acme", "maybe"), join(store.accounts()).stream().map(Account::id).toList());
        assertEquals(1, inUse(granted(store.usage("acme", KRE, NOW))));
        assertEquals(List.of(live.id()), granted(store.sessions("acme", new SessionQuery(null, null, null, null, 100, null))).sessions().stream().map(Session::id).toList());
        assertEquals(NOW.plus(Duration.ofHours(2)), granted(store.renew("acme", live.id(), live.userId(), NOW.plusSeconds(60),
                NOW.plus(Duration.ofHours(2)))).leaseExpiresAt());

        retries.runDue();
        retries.runDue();
        Await.until(Duration.ofSeconds(10), retries::hasPending, () -> "a third retry is scheduled");
        assertFalse(store.writable(), "still failing");
        assertEquals(List.of(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(400)), retries.delays().subList(0, 3),
                "the writer backs off");

        files.inject(FaultyFiles.Fault.NONE);
        retries.runDue();
        Await.until(Duration.ofSeconds(10), store::writable, () -> "the store writes again");
        assertEquals(2, changes.get());
        granted(store.createAccount(new Account("after", "After")));
        store.close();

        try (MemoryStore reopened = MemoryStore.open(dir, true, Duration.ofMinutes(10), Long.MAX_VALUE, NOW)) {
            assertEquals(List.of("acme", "after", "maybe"), join(reopened.accounts()).stream().map(Account::id).toList(),
                    "everything acknowledged, plus the change that was in flight when the disk failed; nothing refused");
            assertEquals(1, inUse(granted(reopened.usage("acme", KRE, NOW))));
        }
        assertEquals(List.of("journal-0000000001.log"), fileNames(),
                "the partial record was cut off on resume: no torn tail to repair at the restart");
    }

    @Test
    void closingWhileTheDiskStillFailsReturnsAndKeepsWhatWasAcknowledged() throws Exception {
        MemoryStore store = open();
        granted(store.createAccount(new Account("acme", "Acme")));
        files.inject(FaultyFiles.Fault.DISK_FULL);
        refusal(store.createAccount(new Account("lost", "Never acknowledged")));

        store.close();

        try (MemoryStore reopened = MemoryStore.open(dir, true, Duration.ofMinutes(10), Long.MAX_VALUE, NOW)) {
            assertEquals(List.of("acme"), join(reopened.accounts()).stream().map(Account::id).toList());
        }
    }

    @Test
    void aCompactionWhileTheDiskFailsIsRefusedAndTheJournalGoesOnAfterwards() throws Exception {
        MemoryStore store = open();
        granted(store.createAccount(new Account("acme", "Acme")));
        files.inject(FaultyFiles.Fault.READ_ONLY);
        refusal(store.createAccount(new Account("b", "B")));
        assertThrows(StoreUnavailableException.class, store::compact);
        files.inject(FaultyFiles.Fault.NONE);
        retries.runDue();
        Await.until(Duration.ofSeconds(10), store::writable, () -> "the store writes again");
        store.compact();
        granted(store.createAccount(new Account("c", "C")));
        store.close();
        try (MemoryStore reopened = MemoryStore.open(dir, true, Duration.ofMinutes(10), Long.MAX_VALUE, NOW)) {
            assertEquals(List.of("acme", "b", "c"), join(reopened.accounts()).stream().map(Account::id).toList());
        }
    }

    // ---------------------------------------------------------------- helpers

    private MemoryStore open() {
        return MemoryStore.open(new FileJournal(dir, FsyncPolicy.ALWAYS, files, retries), Duration.ofMinutes(10), Long.MAX_VALUE,
                NOW, StoreObserver.NONE);
    }

    private static long inUse(io.licensebroker.broker.core.LicenseUsage usage) {
        return usage.rows().stream().mapToLong(io.licensebroker.broker.core.PoolRow::inUse).sum();
    }

    private static AcquireRequest request(String sessionId) {
        return new AcquireRequest(KRE, "alice", "m1", "req-" + sessionId, "acme-" + sessionId, NOW, NOW.plus(Duration.ofHours(1)));
    }

    private List<String> fileNames() throws java.io.IOException {
        try (Stream<Path> listing = Files.list(dir)) {
            return listing.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static <T> T join(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static <T> T granted(CompletionStage<Decision<T>> stage) throws Exception {
        Decision<T> d = join(stage);
        assertTrue(d.isGranted(), d.toString());
        return d.value();
    }

    private static StoreUnavailableException refusal(CompletionStage<?> stage) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> stage.toCompletableFuture().get(10, TimeUnit.SECONDS));
        return assertInstanceOf(StoreUnavailableException.class, e.getCause());
    }
}
