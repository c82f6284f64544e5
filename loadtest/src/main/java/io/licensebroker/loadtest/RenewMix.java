package io.licensebroker.loadtest;

import io.grpc.Status;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The renew-heavy mix, what a fleet of agents does most of the time: {@code live} sessions held at
 * once, each renewed every third of its lease on a fixed schedule, plus open-loop churn (acquire
 * then release at {@code churnRate}). Open loop on both, timed from each call's intended start, so
 * a slow target shows up as latency instead of as a driver that politely slows down. A renewal
 * that fails is an error; one answered NOT_FOUND (the lease ran out, e.g. because the renewal
 * came late) also loses its session.
 */
final class RenewMix {
    /**
     * Calls in flight while the sessions are taken and given back: enough to keep the target busy,
     * few enough that a script does not queue in Redis past the broker's 500 ms --redis-timeout
     * (512 did on a cold broker sharing two cores with the tests).
     */
    private static final int FILL_IN_FLIGHT = 64;
    private static final int MAX_IN_FLIGHT = 50_000;
    private static final long TICK_NANOS = 200_000;

    record Options(int live, Duration leaseTtl, double churnRate, int agents, Duration duration, Duration warmup) {
        Options {
            if (live < 1 || agents < 1 || churnRate < 0) {
                throw new IllegalArgumentException("live, agents must be positive and churn not negative");
            }
        }

        Duration renewEvery() {
            return leaseTtl.dividedBy(3);
        }
    }

    private final LoadTarget target;
    private final Options options;
    private final RunStats stats;
    private final AtomicReferenceArray<LoadTarget.Held> sessions;
    private final AtomicLong inFlight = new AtomicLong();
    private final LongAdder churnOps = new LongAdder();
    private final LongAdder renewsDone = new LongAdder();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "renew-mix");
        t.setDaemon(true);
        return t;
    });
    private long measureFrom;
    private long stopAt;

    private RenewMix(LoadTarget target, Options options) {
        this.target = target;
        this.options = options;
        this.stats = new RunStats(target.quota());
        this.sessions = new AtomicReferenceArray<>(options.live());
    }

    static RunResult run(String name, LoadTarget target, Options options, PrintStream progress) throws Exception {
        return new RenewMix(target, options).run(name, progress);
    }

    private RunResult run(String name, PrintStream progress) throws Exception {
        long fillStart = System.nanoTime();
        fill();
        long filled = System.nanoTime();
        if (progress != null) {
            progress.printf(Locale.ROOT, "%-14s %,d sessions taken in %.1f s%n", name, options.live(), (filled - fillStart) / 1e9);
            // Sessions are renewed in the order they were taken, so the oldest waits about the fill's
            // length for its first renewal: close to a lease and renewals start failing.
            if (filled - fillStart > options.leaseTtl().toNanos() * 4 / 5) {
                progress.printf("%-14s warning: taking the sessions took most of a lease; the first renewals may find them expired%n", name);
            }
        }
        long start = System.nanoTime();
        measureFrom = start + options.warmup().toNanos();
        stopAt = measureFrom + options.duration().toNanos();
        // Session i is renewed at start + i * slot + k * renewEvery: the renewals are spread evenly.
        double slot = options.renewEvery().toNanos() / (double) options.live();
        double churnPeriod = options.churnRate() > 0 ? 1e9 / options.churnRate() : Double.MAX_VALUE;
        AtomicLong renewsIssued = new AtomicLong();
        AtomicLong churnIssued = new AtomicLong();
        CompletableFuture<Void> scheduled = new CompletableFuture<>();
        timer.scheduleAtFixedRate(() -> {
            try {
                long now = System.nanoTime();
                long renewDue = (long) ((now - start) / slot) + 1;
                for (long k = renewsIssued.get(); k < renewDue; k = renewsIssued.incrementAndGet()) {
                    long intended = start + (long) (k * slot);
                    if (intended >= stopAt) {
                        break;
                    }
                    renew((int) (k % options.live()), intended);
                }
                long churnDue = (long) ((now - start) / churnPeriod) + 1;
                for (long k = churnIssued.get(); k < churnDue; k = churnIssued.incrementAndGet()) {
                    long intended = start + (long) (k * churnPeriod);
                    if (intended >= stopAt) {
                        break;
                    }
                    churn((int) (k % options.agents()), intended);
                }
                if (now >= stopAt) {
                    scheduled.complete(null);
                }
            } catch (RuntimeException e) {
                scheduled.completeExceptionally(e);
            }
        }, 0, TICK_NANOS, TimeUnit.NANOSECONDS);
        long lastRenews = 0;
        long lastTick = System.nanoTime();
        while (!done(scheduled)) {
            long now = System.nanoTime();
            long renews = renewsDone.sum();
            if (progress != null) {
                var interval = stats.interval();
                progress.printf(Locale.ROOT, "%-14s %5.0fs  %9.0f renews/s  renew p99 %7.3f ms  churn p99 %7.3f ms  errors %d%n", name,
                        (now - start) / 1e9, (renews - lastRenews) / ((now - lastTick) / 1e9),
                        interval.get(RunStats.Rpc.RENEW).getValueAtPercentile(99) / 1e6,
                        interval.get(RunStats.Rpc.OP).getValueAtPercentile(99) / 1e6, stats.errorCount());
            }
            lastRenews = renews;
            lastTick = now;
        }
        timer.shutdownNow();
        awaitDrained(Duration.ofSeconds(30));
        releaseAll();
        return new RunResult(name, options.agents(), options.duration().toNanos() / 1e9, churnOps.sum(), stats.totals(),
                stats.errors(), stats.deniedCount(), stats.oversubscribed(), stats.maxHeld(), target.inUse());
    }

    /** Waits up to a second for the schedule to end; rethrows what broke it. */
    private static boolean done(CompletableFuture<Void> scheduled) throws Exception {
        try {
            scheduled.get(1, TimeUnit.SECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        }
    }

    /** Takes every session, FILL_IN_FLIGHT at a time; a session that cannot be taken fails the run. */
    private void fill() throws InterruptedException {
        Semaphore room = new Semaphore(FILL_IN_FLIGHT);
        AtomicReferenceArray<Throwable> failed = new AtomicReferenceArray<>(1);
        for (int i = 0; i < options.live() && failed.get(0) == null; i++) {
            room.acquire();
            int slot = i;
            target.acquire(slot % options.agents()).whenComplete((held, failure) -> {
                if (failure == null) {
                    stats.granted();
                    sessions.set(slot, held);
                } else {
                    failed.compareAndSet(0, null, failure);
                }
                room.release();
            });
        }
        room.acquire(FILL_IN_FLIGHT);
        if (failed.get(0) != null) {
            throw new IllegalStateException("could not take " + options.live() + " sessions: " + failed.get(0), failed.get(0));
        }
    }

    private void renew(int slot, long intended) {
        LoadTarget.Held held = sessions.get(slot);
        if (held == null) {
            return; // lost earlier (counted then)
        }
        if (!admit()) {
            return;
        }
        target.renew(slot % options.agents(), held).whenComplete((v, failure) -> {
            long done = System.nanoTime();
            if (failure != null) {
                String status = status(failure);
                if (status.equals(Status.Code.NOT_FOUND.name())) {
                    // The session is gone (expired or ended): not renewed again, no longer held.
                    sessions.compareAndSet(slot, held, null);
                    stats.releasing();
                }
                // Otherwise (UNAVAILABLE, a deadline) the target may still hold it: an agent tries
                // again at its next turn, and it is given back after the run.
                stats.error(status);
            } else if (counts(intended)) {
                stats.record(RunStats.Rpc.RENEW, done - intended);
                renewsDone.increment();
            }
            finished();
        });
    }

    private void churn(int agent, long intended) {
        if (!admit()) {
            return;
        }
        target.acquire(agent).whenComplete((held, failure) -> {
            if (failure != null) {
                if (unwrap(failure) instanceof Refused) {
                    if (counts(intended)) {
                        stats.denied();
                    }
                } else {
                    stats.error(status(failure));
                }
                finished();
                return;
            }
            stats.granted();
            if (counts(intended)) {
                stats.record(RunStats.Rpc.ACQUIRE, System.nanoTime() - intended);
            }
            stats.releasing();
            long r0 = System.nanoTime();
            target.release(agent, held).whenComplete((v, f) -> {
                long done = System.nanoTime();
                if (f != null) {
                    stats.error(status(f));
                } else if (counts(intended)) {
                    stats.record(RunStats.Rpc.RELEASE, done - r0);
                    stats.record(RunStats.Rpc.OP, done - intended);
                    churnOps.increment();
                }
                finished();
            });
        });
    }

    /** Lets one more call go out, unless MAX_IN_FLIGHT are already out (then it is an error, not queued). */
    private boolean admit() {
        if (inFlight.incrementAndGet() > MAX_IN_FLIGHT) {
            finished();
            stats.error("OVERLOADED_DRIVER");
            return false;
        }
        return true;
    }

    /** A call answered; the last one wakes {@link #awaitDrained}. */
    private void finished() {
        if (inFlight.decrementAndGet() == 0) {
            synchronized (inFlight) {
                inFlight.notifyAll();
            }
        }
    }

    /** Waits, at most {@code max}, until every call sent during the run has been answered. */
    private void awaitDrained(Duration max) throws InterruptedException {
        long until = System.nanoTime() + max.toNanos();
        synchronized (inFlight) {
            for (long left = max.toNanos(); inFlight.get() > 0 && left > 0; left = until - System.nanoTime()) {
                TimeUnit.NANOSECONDS.timedWait(inFlight, left);
            }
        }
    }

    /** Gives every live session back, so the target's usage can be checked to be zero. */
    private void releaseAll() throws InterruptedException {
        Semaphore room = new Semaphore(FILL_IN_FLIGHT);
        for (int i = 0; i < options.live(); i++) {
            LoadTarget.Held held = sessions.getAndSet(i, null);
            if (held == null) {
                continue;
            }
            room.acquire();
            stats.releasing();
            target.release(i % options.agents(), held).whenComplete((v, failure) -> {
                if (failure != null) {
                    stats.error("release after run: " + status(failure));
                }
                room.release();
            });
        }
        room.acquire(FILL_IN_FLIGHT);
    }

    /** Latencies count inside the measured window; errors count always (a lost session is never fine). */
    private boolean counts(long intended) {
        return intended >= measureFrom && intended < stopAt;
    }

    private static String status(Throwable failure) {
        Throwable cause = unwrap(failure);
        Status.Code code = Status.fromThrowable(cause).getCode();
        return code == Status.Code.UNKNOWN ? cause.getClass().getSimpleName() : code.name();
    }

    private static Throwable unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
