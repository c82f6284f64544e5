package io.licensebroker.loadtest;

import io.licensebroker.broker.core.Decision;
import io.licensebroker.broker.core.LicenseService;
import io.licensebroker.broker.core.Organization;
import io.licensebroker.broker.core.Principal;
import io.licensebroker.broker.core.Role;
import io.licensebroker.broker.core.Session;
import io.licensebroker.broker.offline.Ed25519Signer;
import io.licensebroker.broker.store.memory.MemoryStore;
import io.licensebroker.testkit.MutableClock;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.lang.management.ManagementFactory;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code scale}: the broker core and embedded store at scale, in this JVM (no network, so the
 * numbers are the store's own): heap per live session, acquire latency with few vs many live
 * sessions and organizations, and reaping a wave of expiring leases while acquires go on.
 */
@Command(name = "scale", mixinStandardHelpOptions = true,
        description = "Heap per live session and acquire latency at scale (run with e.g. -Xmx4g).")
final class ScaleCommand implements Callable<Integer> {
    @Option(names = "--sessions", defaultValue = "1000000", description = "live sessions for the large case (default ${DEFAULT-VALUE})")
    int sessions;

    @Option(names = "--orgs", defaultValue = "100000", description = "organizations for the large case (default ${DEFAULT-VALUE})")
    int orgs;

    @Option(names = "--expiring", defaultValue = "100000", description = "leases expiring at once in the reaping case (default ${DEFAULT-VALUE})")
    int expiring;

    @Option(names = "--samples", defaultValue = "200000", description = "acquire+release pairs measured per case (default ${DEFAULT-VALUE})")
    int samples;

    private static final Duration TTL = Duration.ofSeconds(60);

    @Override
    public Integer call() {
        List<String> lines = new ArrayList<>();
        Histogram small = null;
        Histogram large;
        try (World w = new World(sessions + 20_000L, 0)) {
            w.fill(1_000);
            small = w.measure(samples);
            lines.add(row("acquire+release, 1k live sessions", small));
            long before = usedHeap();
            w.fill(sessions - 1_000);
            long after = usedHeap();
            lines.add(String.format(Locale.ROOT, "%-44s %,d live sessions: %,d bytes of heap per session",
                    "heap per live session", sessions, (after - before) / (sessions - 1_000)));
            large = w.measure(samples);
            lines.add(row(String.format(Locale.ROOT, "acquire+release, %,d live sessions", sessions), large));
        }
        lines.add(String.format(Locale.ROOT, "%-44s %.2f x", "p99 ratio (many / few sessions)",
                (double) large.getValueAtPercentile(99) / small.getValueAtPercentile(99)));
        for (int orgCount : new int[]{10, orgs}) {
            try (World w = new World(orgCount * 2L + 20_000, orgCount)) {
                lines.add(row(String.format(Locale.ROOT, "acquire+release, %,d organizations", orgCount), w.measure(samples)));
            }
        }
        try (World w = new World(expiring + 20_000L, 0)) {
            w.fill(expiring);
            lines.add(row("acquire+release before the expiry wave", w.measure(samples / 4)));
            w.clock.advance(TTL.plusSeconds(1));
            AtomicBoolean reaping = new AtomicBoolean(true);
            AtomicReference<Histogram> during = new AtomicReference<>();
            Thread acquirer = new Thread(() -> during.set(w.measureWhile(reaping)), "scale-acquirer");
            acquirer.start();
            long t0 = System.nanoTime();
            int reaped = join(w.service.reapExpiredLeases());
            long reapNanos = System.nanoTime() - t0;
            reaping.set(false);
            try {
                acquirer.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            lines.add(String.format(Locale.ROOT, "%-44s %,d leases in %.1f ms (%.2f us per lease)", "reaping an expiry wave",
                    reaped, reapNanos / 1e6, reapNanos / 1e3 / Math.max(1, reaped)));
            lines.add(row("acquire+release while reaping", during.get()));
        }
        lines.forEach(System.out::println);
        return 0;
    }

    private static String row(String name, Histogram h) {
        return String.format(Locale.ROOT, "%-44s p50 %7.2f us  p99 %7.2f us  p99.9 %8.2f us  max %9.2f us  (%,d)", name,
                h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(99) / 1e3, h.getValueAtPercentile(99.9) / 1e3,
                h.getMaxValue() / 1e3, h.getTotalCount());
    }

    private static long usedHeap() {
        for (int i = 0; i < 4; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(10, TimeUnit.MINUTES);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static <T> T granted(CompletionStage<Decision<T>> stage) {
        Decision<T> d = join(stage);
        if (d instanceof Decision.Denied<T> denied) {
            throw new IllegalStateException("refused: " + denied.reason() + " " + denied.detail());
        }
        return d.value();
    }

    /** One account on a volatile embedded store with a hand-moved clock. */
    private static final class World implements AutoCloseable {
        final MutableClock clock = MutableClock.at("2030-01-01T00:00:00Z");
        final MemoryStore store = MemoryStore.volatileStore(Duration.ofMinutes(10));
        final LicenseService service = new LicenseService(store, clock, TTL, Ed25519Signer.generate(), new SecureRandom(), null);
        final Principal agent = new Principal(Role.AGENT, "scale", "u");
        private int machine;
        private long request;

        World(long licenses, int orgCount) {
            granted(service.createAccount("scale", "Scale"));
            granted(service.setSubscription("scale", "KRE", licenses, 10_000, clock.instant().plus(Duration.ofDays(365))));
            String assigned = null;
            for (int i = 0; i < orgCount; i++) {
                Organization org = granted(service.createOrganization("scale", null, "org-" + i));
                granted(service.setDedicated("scale", org.id(), "KRE", 2));
                assigned = org.id();
            }
            granted(service.upsertUser("scale", "u", assigned, List.of()));
        }

        void fill(int count) {
            for (int i = 0; i < count; i++) {
                granted(service.acquire(agent, "KRE", "m-" + (machine++ % 5_000), "fill-" + (request++)));
            }
        }

        Histogram measure(int pairs) {
            Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            for (int i = 0; i < pairs; i++) {
                pair(h);
            }
            return h;
        }

        Histogram measureWhile(AtomicBoolean go) {
            Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            while (go.get()) {
                pair(h);
            }
            return h;
        }

        private void pair(Histogram h) {
            long t0 = System.nanoTime();
            Session s = granted(service.acquire(agent, "KRE", "m-bench", "bench-" + (request++)));
            granted(service.release(agent, s.id()));
            h.recordValue(Math.min(System.nanoTime() - t0, h.getHighestTrackableValue()));
        }

        @Override
        public void close() {
            store.close();
        }
    }
}
