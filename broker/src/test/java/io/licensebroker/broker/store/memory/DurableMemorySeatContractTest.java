package io.licensebroker.broker.store.memory;

import io.licensebroker.broker.core.Activation;
import io.licensebroker.broker.core.LicenseModel;
import io.licensebroker.broker.core.LicenseStore;
import io.licensebroker.broker.core.LicenseUsage;
import io.licensebroker.broker.core.LicensedUser;
import io.licensebroker.broker.core.Machine;
import io.licensebroker.broker.core.Reason;
import io.licensebroker.broker.core.Subscription;
import io.licensebroker.broker.store.SeatStoreContractTest;
import io.licensebroker.testkit.MutableClock;
import io.licensebroker.testkit.Scratch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static io.licensebroker.broker.store.LicenseStoreContractTest.denied;
import static io.licensebroker.broker.store.LicenseStoreContractTest.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The seat contract on the durable embedded store, plus what durability adds: seats, bindings,
 * floating leases and seat-bound offline licenses are all in a store reopened after a clean close,
 * after a crash (the files as they were on disk while the store ran), and after compaction.
 */
class DurableMemorySeatContractTest extends SeatStoreContractTest {
    @TempDir
    Path dir;
    @TempDir
    Path crashDir;
    private final List<LicenseStore> others = new ArrayList<>();

    @Override
    protected LicenseStore newStore(MutableClock clock) {
        return open(dir);
    }

    private MemoryStore open(Path where) {
        return MemoryStore.open(where, true, Duration.ofMinutes(10), Long.MAX_VALUE, clock.instant().plus(TTL));
    }

    @AfterEach
    void closeOthers() {
        others.forEach(LicenseStore::close);
    }

    private record SeatState(Subscription subscription, LicenseUsage usage, List<LicensedUser> licensed,
                             List<Activation> activations, List<Machine> machines) {
    }

    private SeatState capture(LicenseStore s, String account) {
        LicenseStore saved = store;
        store = s;
        try {
            return new SeatState(ok(s.subscription(account, KSE)), usage(account), licensed(account, null),
                    activations(account, null), ok(s.machines(account, KSE, now())));
        } finally {
            store = saved;
        }
    }

    /** Seats of both kinds with every state a seat can be in: free, bound, leased, offline-bound, moved by a revoke. */
    private String populate() {
        String nl = account("durable", LicenseModel.NODE_LOCKED, 5, 10, 4);
        String eng = ok(store.createOrganization(nl, null, "Engineering")).id();
        ok(store.setDedicated(nl, eng, KSE, 2, now()));
        ok(store.upsertUser(nl, "e1", eng, List.of()));
        grant(nl, "u1", null);
        grant(nl, "u2", null);
        grant(nl, "u3", null);
        grant(nl, "e1", null);
        activate(nl, "u1", "m1", false);
        ok(store.issueOfflineLicense(nl, KSE, "m2", "u2", now().plus(Duration.ofDays(20)), Duration.ofDays(60), now()));
        ok(store.transferLicense(nl, KSE, "u3", "u4", null, now()));
        ok(store.setDedicated(nl, eng, KSE, 0, now()));
        return nl;
    }

    @Test
    void seatsSurviveACleanRestart() {
        String a = populate();
        SeatState before = capture(store, a);
        store.close();
        store = open(dir);
        assertEquals(before, capture(store, a));
        assertEquals(Reason.OFFLINE_BOUND, denied(store.removeLicense(a, KSE, "u2", now())));
        assertEquals(Reason.SEAT_IN_USE, denied(store.activate(a, activation(a, "u1", "m9", false))));
        checkInvariant(a);
    }

    @Test
    void everyAcknowledgedSeatChangeSurvivesACrash() {
        String a = populate();
        String f = account("durable-floating", LicenseModel.FLOATING, 2, 10, 2);
        grant(f, "u1", null);
        Activation lease = activate(f, "u1", "m1", false);
        SeatState nodeLocked = capture(store, a);
        SeatState floating = capture(store, f);
        Scratch.copyTree(dir, crashDir);
        MemoryStore crashed = open(crashDir);
        others.add(crashed);
        assertEquals(nodeLocked, capture(crashed, a));
        // Renewals are not journaled: a recovered lease keeps at least its acknowledged end.
        SeatState recovered = capture(crashed, f);
        assertEquals(floating.licensed(), recovered.licensed());
        assertEquals(List.of(lease.activationId()), recovered.activations().stream().map(Activation::activationId).toList());
        assertEquals(Reason.SEAT_IN_USE, denied(crashed.activate(f, activation(f, "u1", "m2", false))));
    }

    @Test
    void seatsSurviveCompaction() {
        String a = populate();
        SeatState before = capture(store, a);
        ((MemoryStore) store).compact();
        store.close();
        store = open(dir);
        assertEquals(before, capture(store, a));
    }
}
